//! Losses over one positive's distance and its negatives' distances, with their derivatives.
//!
//! Both models hand the loss a row of distances `[positive, negative_1, .., negative_k]` and get
//! back the loss and `dL/d distance` per entry; each model then chains that through its own
//! distance. One loss implementation thus serves the explicit TransE gradient and the candle
//! graph of the hyperbolic model.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum LossKind {
    /// `sum_j max(0, margin + d_pos - d_neg_j)`, averaged over the negatives.
    Margin,
    /// RotatE's self-adversarial negative sampling: `-log σ(margin - d_pos)` minus the
    /// softmax(-temperature · d_neg)-weighted `log σ(d_neg - margin)`; hard negatives weigh more.
    SelfAdversarial,
    /// Cross-entropy of the positive under a softmax over the positive and its negatives, with
    /// scores `-temperature · d`: `-log softmax(-temperature · d)_0`. Every negative pushes in
    /// proportion to how likely it looks, with no margin to tune (a shift of all scores does
    /// not change the softmax).
    Softmax,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Loss {
    pub kind: LossKind,
    pub margin: f32,
    /// Softmax temperature of the self-adversarial weights; the score scale of the softmax loss.
    pub temperature: f32,
}

fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

/// `-log σ(x)`, stable for large |x|.
fn neg_log_sigmoid(x: f32) -> f32 {
    (-x).max(0.0) + (-x.abs()).exp().ln_1p()
}

impl Loss {
    /// Loss of one positive; `coeff[j] = dL / d dist[j]`.
    pub fn eval(&self, dist: &[f32], coeff: &mut [f32]) -> f32 {
        let (pos, negs) = (dist[0], &dist[1..]);
        let k = negs.len().max(1) as f32;
        match self.kind {
            LossKind::Margin => {
                let mut loss = 0.0;
                coeff[0] = 0.0;
                for (j, &dn) in negs.iter().enumerate() {
                    let v = self.margin + pos - dn;
                    let active = if v > 0.0 { 1.0 / k } else { 0.0 };
                    loss += v.max(0.0) / k;
                    coeff[0] += active;
                    coeff[j + 1] = -active;
                }
                loss
            }
            LossKind::SelfAdversarial => {
                let mut loss = neg_log_sigmoid(self.margin - pos);
                coeff[0] = sigmoid(pos - self.margin);
                let top = negs.iter().fold(f32::INFINITY, |m, &d| m.min(d));
                let mut z = 0.0;
                for (j, &dn) in negs.iter().enumerate() {
                    let w = (-self.temperature * (dn - top)).exp();
                    coeff[j + 1] = w;
                    z += w;
                }
                for (j, &dn) in negs.iter().enumerate() {
                    let p = coeff[j + 1] / z;
                    loss += p * neg_log_sigmoid(dn - self.margin);
                    // the weights are treated as constants, as in RotatE
                    coeff[j + 1] = -p * sigmoid(self.margin - dn);
                }
                loss
            }
            LossKind::Softmax => {
                let t = self.temperature;
                let coeff = &mut coeff[..dist.len()];
                // log-sum-exp of the scores -t·d, shifted by the best score for stability
                let best = dist.iter().fold(f32::INFINITY, |m, &d| m.min(d));
                let mut z = 0.0;
                for (c, &d) in coeff.iter_mut().zip(dist) {
                    *c = (-t * (d - best)).exp();
                    z += *c;
                }
                // dL/dd_j = t (δ_j0 - p_j)
                for c in coeff.iter_mut() {
                    *c *= -t / z;
                }
                coeff[0] += t;
                t * (pos - best) + z.ln()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derivatives_match_finite_differences() {
        for (kind, temperature) in [
            (LossKind::Margin, 0.0),
            // constant weights, so the loss is differentiable as written
            (LossKind::SelfAdversarial, 0.0),
            (LossKind::Softmax, 1.0),
            (LossKind::Softmax, 0.7),
        ] {
            let loss = Loss {
                kind,
                margin: 2.0,
                temperature,
            };
            let d = [1.5f32, 1.0, 4.0, 2.5];
            let mut c = [0.0; 4];
            loss.eval(&d, &mut c);
            for j in 0..4 {
                let (mut up, mut dn) = (d, d);
                up[j] += 1e-3;
                dn[j] -= 1e-3;
                let mut tmp = [0.0; 4];
                let fd = (loss.eval(&up, &mut tmp) - loss.eval(&dn, &mut tmp)) / 2e-3;
                assert!((fd - c[j]).abs() < 1e-2, "{kind:?} {j}: {fd} vs {}", c[j]);
            }
        }
    }
}
