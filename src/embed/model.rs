//! The two models and their parameters: TransE (a relation translates the head onto the tail)
//! and a hyperbolic model in the Poincaré ball (MuRP-style: a relation scales the head in the
//! tangent space at the origin, then Möbius-translates it; one learned curvature).
//!
//! Both are distance models: lower distance means a more plausible triple. The hyperbolic model
//! also learns a scalar bias per entity, as MuRP does: a triple's distance is
//! `d²(query, target) - b_anchor - b_target`, so an entity that is the answer to many queries
//! (a country, a common occupation) can sit nearer every query than geometry alone allows. Parameters are kept
//! in the tangent space (plain Euclidean rows), so the optimizer never has to step on the
//! manifold and the tangent vectors are directly usable as Euclidean features downstream.

use serde::{Deserialize, Serialize};

/// Which model a table set belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum ModelKind {
    Transe,
    Hyperbolic,
}

/// The Euclidean distance TransE measures `head + relation - tail` with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Norm {
    L1,
    L2,
}

/// Points of the ball this close to its boundary are pulled back, so `artanh` stays finite.
pub const BALL_EPS: f32 = 1e-5;
/// The smallest curvature the softplus parametrization may reach.
pub const MIN_CURVATURE: f32 = 1e-3;

/// A read-only view of a model's tables: what scoring and evaluation need.
#[derive(Debug, Clone, Copy)]
pub struct ModelView<'a> {
    pub kind: ModelKind,
    pub norm: Norm,
    pub dim: usize,
    /// Entity rows, `dim` wide (tangent vectors for the hyperbolic model).
    pub entity: &'a [f32],
    /// TransE: one `dim`-wide translation per relation, followed by the inverses' when
    /// `reciprocal`. Hyperbolic: `2 * dim` wide rows (scale, then translation), the relations
    /// followed by their inverses.
    pub relation: &'a [f32],
    pub relations: usize,
    /// TransE predicts heads through inverse relation rows (`t + r⁻¹ ≈ h`) instead of `t - r`.
    /// The hyperbolic model always does.
    pub reciprocal: bool,
    /// Curvature `c > 0` of the ball (hyperbolic only).
    pub curvature: f32,
    /// One bias per entity (hyperbolic only); empty means every bias is 0, as in stores written
    /// before the model had biases.
    pub bias: &'a [f32],
}

impl ModelView<'_> {
    pub fn entities(&self) -> usize {
        self.entity.len() / self.dim
    }

    pub fn entity_row(&self, e: u32) -> &[f32] {
        &self.entity[e as usize * self.dim..][..self.dim]
    }

    /// The bias of entity `e`; 0 when the view has none.
    pub fn bias(&self, e: u32) -> f32 {
        self.bias.get(e as usize).copied().unwrap_or(0.0)
    }

    /// Width of one relation row.
    pub fn relation_width(&self) -> usize {
        relation_width(self.kind, self.dim)
    }

    pub fn relation_row(&self, r: u32) -> &[f32] {
        let w = self.relation_width();
        &self.relation[r as usize * w..][..w]
    }

    /// The relation row a query of relation `r` uses: its inverse's when predicting a head in
    /// a model with inverse rows.
    pub fn query_relation(&self, r: u32, predicts_head: bool) -> u32 {
        if predicts_head && has_inverses(self.kind, self.reciprocal) {
            r + self.relations as u32
        } else {
            r
        }
    }
}

/// Whether a model keeps an inverse row per relation for head prediction.
pub fn has_inverses(kind: ModelKind, reciprocal: bool) -> bool {
    kind == ModelKind::Hyperbolic || reciprocal
}

/// Width of a relation row of `kind` at dimension `dim`.
pub fn relation_width(kind: ModelKind, dim: usize) -> usize {
    match kind {
        ModelKind::Transe => dim,
        ModelKind::Hyperbolic => 2 * dim,
    }
}

/// Number of relation rows: a model with inverse rows predicts heads through them.
pub fn relation_rows(kind: ModelKind, reciprocal: bool, relations: usize) -> usize {
    if has_inverses(kind, reciprocal) {
        2 * relations
    } else {
        relations
    }
}

/// Curvature from its unconstrained parameter.
pub fn curvature(raw: f32) -> f32 {
    softplus(raw) + MIN_CURVATURE
}

/// The raw parameter that gives curvature `c`.
pub fn curvature_raw(c: f32) -> f32 {
    let x = (c - MIN_CURVATURE).max(1e-6);
    (x.exp_m1()).ln()
}

fn softplus(x: f32) -> f32 {
    x.max(0.0) + (-x.abs()).exp().ln_1p()
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Exponential map at the origin of the ball of curvature `c`, written into `out`.
pub fn expmap0(v: &[f32], c: f32, out: &mut [f32]) {
    let sc = c.sqrt();
    let n = dot(v, v).sqrt().max(1e-15);
    let r = (sc * n).tanh().min(1.0 - BALL_EPS);
    let f = r / (sc * n);
    for (o, x) in out.iter_mut().zip(v) {
        *o = f * x;
    }
}

/// Logarithmic map at the origin: the tangent vector of a ball point.
pub fn logmap0(x: &[f32], c: f32, out: &mut [f32]) {
    let sc = c.sqrt();
    let n = dot(x, x).sqrt().max(1e-15);
    let y = (sc * n).min(1.0 - BALL_EPS);
    let f = y.atanh() / (sc * n);
    for (o, v) in out.iter_mut().zip(x) {
        *o = f * v;
    }
}

/// Möbius addition `x ⊕ y` in the ball of curvature `c`.
pub fn mobius_add(x: &[f32], y: &[f32], c: f32, out: &mut [f32]) {
    let (xy, xx, yy) = (dot(x, y), dot(x, x), dot(y, y));
    let a = 1.0 + 2.0 * c * xy + c * yy;
    let b = 1.0 - c * xx;
    let den = (1.0 + 2.0 * c * xy + c * c * xx * yy).max(1e-15);
    for ((o, xi), yi) in out.iter_mut().zip(x).zip(y) {
        *o = (a * xi + b * yi) / den;
    }
}

/// The hyperbolic query point of `(anchor, relation row)`: the anchor's tangent vector scaled
/// per coordinate, mapped into the ball and Möbius-translated.
pub fn hyperbolic_query(anchor: &[f32], rel: &[f32], c: f32, out: &mut [f32]) {
    let d = anchor.len();
    let scaled: Vec<f32> = anchor.iter().zip(&rel[..d]).map(|(a, s)| a * s).collect();
    let mut x = vec![0.0; d];
    let mut t = vec![0.0; d];
    expmap0(&scaled, c, &mut x);
    expmap0(&rel[d..], c, &mut t);
    mobius_add(&x, &t, c, out);
}

/// Squared geodesic distance between ball points from `<q, y>`, `|q|²` and `|y|²` alone, so
/// ranking against all entities costs one dot product per candidate.
pub fn hyperbolic_dist2(qy: f32, qq: f32, yy: f32, c: f32) -> f32 {
    // (-q) ⊕ y = (A (-q) + B y) / D
    let a = 1.0 - 2.0 * c * qy + c * yy;
    let b = 1.0 - c * qq;
    let den = (1.0 - 2.0 * c * qy + c * c * qq * yy).max(1e-15);
    let num2 = (a * a * qq - 2.0 * a * b * qy + b * b * yy).max(0.0);
    let sc = c.sqrt();
    let n = (sc * num2.sqrt() / den).min(1.0 - BALL_EPS);
    let d = 2.0 / sc * n.atanh();
    d * d
}

/// Distance of a TransE difference vector.
pub fn transe_dist(diff: impl Iterator<Item = f32>, norm: Norm) -> f32 {
    match norm {
        Norm::L1 => diff.map(f32::abs).sum(),
        Norm::L2 => diff.map(|x| x * x).sum::<f32>().sqrt(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_inverts_exp_and_distance_matches_mobius() {
        let c = 0.7;
        let v = [0.3f32, -0.5, 0.2];
        let (mut x, mut back) = ([0.0; 3], [0.0; 3]);
        expmap0(&v, c, &mut x);
        logmap0(&x, c, &mut back);
        for (a, b) in v.iter().zip(&back) {
            assert!((a - b).abs() < 1e-5);
        }

        let mut y = [0.0; 3];
        expmap0(&[-0.1, 0.4, 0.6], c, &mut y);
        let neg: Vec<f32> = x.iter().map(|a| -a).collect();
        let mut m = [0.0; 3];
        mobius_add(&neg, &y, c, &mut m);
        let direct = 2.0 / c.sqrt() * (c.sqrt() * dot(&m, &m).sqrt()).atanh();
        let fast = hyperbolic_dist2(dot(&x, &y), dot(&x, &x), dot(&y, &y), c);
        assert!((direct * direct - fast).abs() < 1e-4, "{direct} {fast}");
    }

    #[test]
    fn curvature_parametrization_round_trips() {
        assert!((curvature(curvature_raw(1.0)) - 1.0).abs() < 1e-5);
    }
}
