//! The hyperbolic model's loss and gradient for one example, written out by hand.
//!
//! In: the example's slot rows (anchor, positive, negatives), its relation row and the loss.
//! Out: the loss, the gradient of every slot row, and `d loss / d curvature`.
//! Why: the model's distance is a chain of small vector maps (scale, exponential map, Möbius
//! addition, geodesic distance); a tensor graph per batch spends far more on bookkeeping than on
//! that arithmetic, so each map here has its forward pass and its vector-Jacobian product over
//! plain slices, and the chain runs backwards once per example.

use super::loss::Loss;
use super::model::{ModelView, BALL_EPS};

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// The exponential map at the origin is `f(|v|) · v`; its factor and the factor's derivatives
/// by `|v|` and by the curvature, as the forward pass and its product need them.
#[derive(Debug, Clone, Copy, Default)]
struct Exp0 {
    n: f32,
    f: f32,
    df_dn: f32,
    df_dc: f32,
}

impl Exp0 {
    fn new(v: &[f32], c: f32) -> Self {
        let n = dot(v, v).sqrt().max(1e-15);
        let sc = c.sqrt();
        let z = sc * n;
        let (f, df_dz) = if z < 1e-4 {
            (1.0 - z * z / 3.0, -2.0 * z / 3.0)
        } else {
            let th = z.tanh();
            if th > 1.0 - BALL_EPS {
                let r = 1.0 - BALL_EPS;
                (r / z, -r / (z * z))
            } else {
                (th / z, (1.0 - th * th) / z - th / (z * z))
            }
        };
        Exp0 {
            n,
            f,
            df_dn: df_dz * sc,
            df_dc: df_dz * n / (2.0 * sc),
        }
    }

    fn apply(&self, v: &[f32], out: &mut [f32]) {
        for (o, x) in out.iter_mut().zip(v) {
            *o = self.f * x;
        }
    }

    /// Adds `d/dv` of `<g, exp0(v)>` to `gv`; returns its derivative by the curvature.
    fn vjp(&self, v: &[f32], g: &[f32], gv: &mut [f32]) -> f32 {
        let vg = dot(v, g);
        let k = self.df_dn * vg / self.n;
        for ((o, gi), vi) in gv.iter_mut().zip(g).zip(v) {
            *o += self.f * gi + k * vi;
        }
        self.df_dc * vg
    }
}

/// Möbius addition `x ⊕ y = (A x + B y) / D`, with the scalars its product reuses.
#[derive(Debug, Clone, Copy, Default)]
struct Madd {
    xy: f32,
    xx: f32,
    yy: f32,
    a: f32,
    b: f32,
    den: f32,
}

impl Madd {
    fn new(x: &[f32], y: &[f32], c: f32, out: &mut [f32]) -> Self {
        let (xy, xx, yy) = (dot(x, y), dot(x, x), dot(y, y));
        let a = 1.0 + 2.0 * c * xy + c * yy;
        let b = 1.0 - c * xx;
        let den = (1.0 + 2.0 * c * xy + c * c * xx * yy).max(1e-15);
        for ((o, xi), yi) in out.iter_mut().zip(x).zip(y) {
            *o = (a * xi + b * yi) / den;
        }
        Madd {
            xy,
            xx,
            yy,
            a,
            b,
            den,
        }
    }

    /// Adds the derivatives of `<g, x ⊕ y>` by `x` and `y` (with `out = x ⊕ y`); returns the
    /// derivative by the curvature.
    #[allow(clippy::too_many_arguments)]
    fn vjp(
        &self,
        x: &[f32],
        y: &[f32],
        out: &[f32],
        g: &[f32],
        c: f32,
        gx: &mut [f32],
        gy: &mut [f32],
    ) -> f32 {
        let g_a = dot(g, x) / self.den;
        let g_b = dot(g, y) / self.den;
        let g_den = -dot(g, out) / self.den;
        let g_xy = 2.0 * c * (g_a + g_den);
        let g_xx = -c * g_b + c * c * self.yy * g_den;
        let g_yy = c * g_a + c * c * self.xx * g_den;
        let (fa, fb) = (self.a / self.den, self.b / self.den);
        for i in 0..x.len() {
            gx[i] += fa * g[i] + g_xy * y[i] + 2.0 * g_xx * x[i];
            gy[i] += fb * g[i] + g_xy * x[i] + 2.0 * g_yy * y[i];
        }
        g_a * (2.0 * self.xy + self.yy) - g_b * self.xx
            + g_den * (2.0 * self.xy + 2.0 * c * self.xx * self.yy)
    }
}

/// Per-thread buffers for [`example`].
pub struct Scratch {
    u: Vec<f32>,
    x: Vec<f32>,
    t: Vec<f32>,
    q: Vec<f32>,
    nq: Vec<f32>,
    /// Candidates' ball points and their differences from the query, `(k + 1) × dim` each.
    y: Vec<f32>,
    m: Vec<f32>,
    exp: Vec<Exp0>,
    madd: Vec<Madd>,
    dist: Vec<f32>,
    d2: Vec<f32>,
    coeff: Vec<f32>,
    g_nq: Vec<f32>,
    g_m: Vec<f32>,
    g_y: Vec<f32>,
    g_x: Vec<f32>,
    g_u: Vec<f32>,
}

impl Scratch {
    pub fn new(k: usize, d: usize) -> Self {
        let v = |n: usize| vec![0.0; n];
        Scratch {
            u: v(d),
            x: v(d),
            t: v(d),
            q: v(d),
            nq: v(d),
            y: v((k + 1) * d),
            m: v((k + 1) * d),
            exp: vec![Exp0::default(); k + 1],
            madd: vec![Madd::default(); k + 1],
            dist: v(k + 1),
            d2: v(k + 1),
            coeff: v(k + 1),
            g_nq: v(d),
            g_m: v(d),
            g_y: v(d),
            g_x: v(d),
            g_u: v(d),
        }
    }
}

/// Loss of one example and its gradients: `ent_grad` gets one row per slot of `rows` (anchor,
/// then candidates), `bias_grad` one value per slot, `rel_grad` the relation row's (scale,
/// then translation). Returns the loss and `d loss / d c`.
#[allow(clippy::too_many_arguments)]
pub fn example(
    view: &ModelView,
    loss: &Loss,
    rows: &[u32],
    relation: u32,
    ent_grad: &mut [f32],
    bias_grad: &mut [f32],
    rel_grad: &mut [f32],
    s: &mut Scratch,
) -> (f32, f32) {
    let (d, c) = (view.dim, view.curvature);
    let sc = c.sqrt();
    let a = view.entity_row(rows[0]);
    let rel = view.relation_row(relation);
    let (scale, trans) = rel.split_at(d);

    // forward: the query point q = exp0(a ⊙ scale) ⊕ exp0(trans)
    for i in 0..d {
        s.u[i] = a[i] * scale[i];
    }
    let ex = Exp0::new(&s.u, c);
    ex.apply(&s.u, &mut s.x);
    let et = Exp0::new(trans, c);
    et.apply(trans, &mut s.t);
    let mq = Madd::new(&s.x, &s.t, c, &mut s.q);
    for i in 0..d {
        s.nq[i] = -s.q[i];
    }

    // forward: squared geodesic distance to every candidate, d(q, y) = 2/√c artanh(√c |-q ⊕ y|),
    // less the anchor's and the candidate's biases
    let cands = &rows[1..];
    let anchor_bias = view.bias(rows[0]);
    for (j, &id) in cands.iter().enumerate() {
        let e = view.entity_row(id);
        let y = &mut s.y[j * d..][..d];
        s.exp[j] = Exp0::new(e, c);
        s.exp[j].apply(e, y);
        let m = &mut s.m[j * d..][..d];
        s.madd[j] = Madd::new(&s.nq, y, c, m);
        let z = (sc * dot(m, m).sqrt()).min(1.0 - BALL_EPS);
        s.dist[j] = 2.0 / sc * z.atanh();
        s.d2[j] = s.dist[j] * s.dist[j] - anchor_bias - view.bias(id);
    }
    let value = loss.eval(&s.d2[..cands.len()], &mut s.coeff);
    // a bias enters its distances with slope -1
    bias_grad[0] = -s.coeff[..cands.len()].iter().sum::<f32>();
    for (g, w) in bias_grad[1..].iter_mut().zip(&s.coeff) {
        *g = -w;
    }

    // backward through the candidates
    let (anchor_g, cand_g) = ent_grad.split_at_mut(d);
    s.g_nq.fill(0.0);
    let mut g_c = 0.0f32;
    for (j, &e) in cands.iter().enumerate() {
        let g_e = &mut cand_g[j * d..][..d];
        g_e.fill(0.0);
        let w = s.coeff[j];
        if w == 0.0 {
            continue;
        }
        let m = &s.m[j * d..][..d];
        let y = &s.y[j * d..][..d];
        let dist = s.dist[j];
        let nm = dot(m, m).sqrt();
        let z = sc * nm;
        if z < 1.0 - BALL_EPS && nm > 1e-15 {
            let k = w * 4.0 * dist / ((1.0 - z * z) * nm);
            for (g, mi) in s.g_m.iter_mut().zip(m) {
                *g = k * mi;
            }
            g_c += w * 2.0 * dist * (nm / (c * (1.0 - z * z)) - dist / (2.0 * c));
        } else {
            s.g_m.fill(0.0);
            g_c -= w * dist * dist / c;
        }
        s.g_y.fill(0.0);
        g_c += s.madd[j].vjp(&s.nq, y, m, &s.g_m, c, &mut s.g_nq, &mut s.g_y);
        g_c += s.exp[j].vjp(view.entity_row(e), &s.g_y, g_e);
    }

    // backward through the query: g_q = -g_nq
    for v in s.g_nq.iter_mut() {
        *v = -*v;
    }
    s.g_x.fill(0.0);
    rel_grad.fill(0.0);
    let (g_scale, g_trans) = rel_grad.split_at_mut(d);
    // the translation's ball point gathers its gradient in `g_y`, free again here
    s.g_y.fill(0.0);
    g_c += mq.vjp(&s.x, &s.t, &s.q, &s.g_nq, c, &mut s.g_x, &mut s.g_y);
    g_c += et.vjp(trans, &s.g_y, g_trans);
    s.g_u.fill(0.0);
    g_c += ex.vjp(&s.u, &s.g_x, &mut s.g_u);
    for i in 0..d {
        anchor_g[i] = s.g_u[i] * scale[i];
        g_scale[i] = s.g_u[i] * a[i];
    }
    (value, g_c)
}

/// `d c / d raw` of the softplus parametrization, from `c` itself.
pub fn curvature_slope(c: f32) -> f32 {
    let x = (c - super::model::MIN_CURVATURE).max(0.0);
    -(-x).exp_m1()
}
