//! One training batch: sample negatives, compute the gradient of the batch loss, and hand it to
//! the optimizer as slots.
//!
//! Both models' gradients are written out by hand over plain slices, fused with sampling, in
//! parallel over fixed chunks of the batch: their distances are so cheap that a tensor graph
//! per batch would cost more than the arithmetic. The hyperbolic model can also run through
//! candle's autograd on the batch's gathered rows ([`GradPath::Autograd`]), which runs on any
//! candle device and serves as an independent check of the hand-written gradient.
//!
//! Slot layout, per example: entity rows `[anchor, positive, negative_1, .., negative_k]` and
//! one relation row.

use candle_core::{DType, Device, Tensor, Var, D};
use rayon::prelude::*;

use super::data::Row;
use super::error::Result;
use super::hyper_grad;
use super::loss::Loss;
use super::model::{relation_width, ModelKind, ModelView, Norm, BALL_EPS, MIN_CURVATURE};
use super::sample::{chunk_rng, Sampler};

/// Examples per parallel work unit; fixed so the random streams do not depend on threads.
pub const CHUNK: usize = 64;

/// A batch's gradient, as slots for [`super::optim::apply`].
#[derive(Debug, Default)]
pub struct Grads {
    pub ent_rows: Vec<u32>,
    pub ent: Vec<f32>,
    /// Gradient of each entity slot's bias (hyperbolic only; zeros for TransE).
    pub bias: Vec<f32>,
    pub rel_rows: Vec<u32>,
    pub rel: Vec<f32>,
    /// d loss / d raw curvature parameter (hyperbolic only).
    pub curvature: f32,
    pub loss: f64,
}

impl Grads {
    fn resize(&mut self, examples: usize, k: usize, dim: usize, rel_width: usize) {
        self.ent_rows.resize(examples * (k + 2), 0);
        self.ent.resize(examples * (k + 2) * dim, 0.0);
        self.bias.resize(examples * (k + 2), 0.0);
        self.rel_rows.resize(examples, 0);
        self.rel.resize(examples * rel_width, 0.0);
    }
}

/// What a batch is drawn from: where it sits in the epoch's random streams.
pub struct BatchSpec<'a> {
    pub triples: &'a [Row],
    pub seed: u64,
    pub epoch: u64,
    /// Index of the batch's first chunk within the epoch.
    pub first_chunk: u64,
    pub negatives: usize,
}

/// How a batch's gradient is computed.
#[derive(Debug, Clone, Copy)]
pub enum GradPath<'a> {
    /// Written out by hand over slices, fused with sampling (CPU).
    Explicit,
    /// The hyperbolic model by candle autograd on this device; TransE stays explicit.
    Autograd(&'a Device),
}

/// Samples the batch and fills the slot rows and their gradients.
pub fn batch(
    view: &ModelView,
    loss: &Loss,
    sampler: &Sampler,
    spec: &BatchSpec,
    path: GradPath,
    out: &mut Grads,
) -> Result<()> {
    let (k, d) = (spec.negatives, view.dim);
    let rw = relation_width(view.kind, d);
    out.resize(spec.triples.len(), k, d, rw);
    let per = k + 2;
    let autograd = match path {
        GradPath::Autograd(dev) if view.kind == ModelKind::Hyperbolic => Some(dev),
        _ => None,
    };
    let run_chunk = |c: usize,
                     triples: &[Row],
                     ent_rows: &mut [u32],
                     ent: &mut [f32],
                     bias: &mut [f32],
                     rel_rows: &mut [u32],
                     rel: &mut [f32]| {
        let mut rng = chunk_rng(spec.seed, spec.epoch, spec.first_chunk + c as u64);
        let mut scratch = Scratch::new(k, d);
        let mut hyper = hyper_grad::Scratch::new(k, d);
        let (mut total, mut g_c) = (0.0f64, 0.0f64);
        for (i, &t) in triples.iter().enumerate() {
            let rows = &mut ent_rows[i * per..][..per];
            let ex = sampler.sample(t, &mut rng, &mut rows[2..]);
            rows[0] = ex.anchor;
            rows[1] = ex.pos;
            rel_rows[i] = view.query_relation(ex.relation, ex.head_side);
            let ent_g = &mut ent[i * per * d..][..per * d];
            let bias_g = &mut bias[i * per..][..per];
            let rel_g = &mut rel[i * rw..][..rw];
            match view.kind {
                ModelKind::Transe => {
                    bias_g.fill(0.0);
                    // an inverse row translates the tail onto the head, as a relation does the
                    // head onto the tail
                    let sign = if ex.head_side && !view.reciprocal {
                        -1.0
                    } else {
                        1.0
                    };
                    total += transe_example(
                        view,
                        loss,
                        rows,
                        rel_rows[i],
                        sign,
                        ent_g,
                        rel_g,
                        &mut scratch,
                    ) as f64;
                }
                ModelKind::Hyperbolic if autograd.is_none() => {
                    let (l, gc) = hyper_grad::example(
                        view,
                        loss,
                        rows,
                        rel_rows[i],
                        ent_g,
                        bias_g,
                        rel_g,
                        &mut hyper,
                    );
                    total += l as f64;
                    g_c += gc as f64;
                }
                ModelKind::Hyperbolic => {}
            }
        }
        (total, g_c)
    };
    // a rayon task per chunk only pays off when there are several
    let n_chunks = spec.triples.len().div_ceil(CHUNK);
    let sums: Vec<(f64, f64)> = if n_chunks <= 1 || rayon::current_num_threads() == 1 {
        spec.triples
            .chunks(CHUNK)
            .zip(out.ent_rows.chunks_mut(CHUNK * per))
            .zip(out.ent.chunks_mut(CHUNK * per * d))
            .zip(out.bias.chunks_mut(CHUNK * per))
            .zip(out.rel_rows.chunks_mut(CHUNK))
            .zip(out.rel.chunks_mut(CHUNK * rw))
            .enumerate()
            .map(|(c, (((((t, er), e), eb), rr), r))| run_chunk(c, t, er, e, eb, rr, r))
            .collect()
    } else {
        spec.triples
            .par_chunks(CHUNK)
            .zip(out.ent_rows.par_chunks_mut(CHUNK * per))
            .zip(out.ent.par_chunks_mut(CHUNK * per * d))
            .zip(out.bias.par_chunks_mut(CHUNK * per))
            .zip(out.rel_rows.par_chunks_mut(CHUNK))
            .zip(out.rel.par_chunks_mut(CHUNK * rw))
            .enumerate()
            .map(|(c, (((((t, er), e), eb), rr), r))| run_chunk(c, t, er, e, eb, rr, r))
            .collect()
    };
    out.loss = sums.iter().map(|s| s.0).sum();
    let slope = hyper_grad::curvature_slope(view.curvature) as f64;
    out.curvature = (sums.iter().map(|s| s.1).sum::<f64>() * slope) as f32;
    if let Some(device) = autograd {
        hyperbolic_batch(view, loss, k, device, out)?;
    }
    Ok(())
}

struct Scratch {
    diff: Vec<f32>,
    dist: Vec<f32>,
    coeff: Vec<f32>,
}

impl Scratch {
    fn new(k: usize, d: usize) -> Self {
        Scratch {
            diff: vec![0.0; (k + 1) * d],
            dist: vec![0.0; k + 1],
            coeff: vec![0.0; k + 1],
        }
    }
}

/// Loss and gradient of one TransE example. With `sign = 1` the difference is
/// `anchor + r - candidate`: the candidates are tails, or heads under an inverse row `r`. With
/// `sign = -1` they are heads and the difference `candidate + r - anchor` is negated, which
/// leaves its norm unchanged.
#[allow(clippy::too_many_arguments)]
fn transe_example(
    view: &ModelView,
    loss: &Loss,
    rows: &[u32],
    relation: u32,
    sign: f32,
    ent_grad: &mut [f32],
    rel_grad: &mut [f32],
    s: &mut Scratch,
) -> f32 {
    let d = view.dim;
    let a = view.entity_row(rows[0]);
    let r = view.relation_row(relation);
    for (j, &cand) in rows[1..].iter().enumerate() {
        let c = view.entity_row(cand);
        let diff = &mut s.diff[j * d..][..d];
        for i in 0..d {
            diff[i] = a[i] + sign * r[i] - c[i];
        }
        s.dist[j] = super::model::transe_dist(diff.iter().copied(), view.norm);
    }
    let value = loss.eval(&s.dist, &mut s.coeff);

    let (anchor_g, rest) = ent_grad.split_at_mut(d);
    anchor_g.fill(0.0);
    rel_grad.fill(0.0);
    for j in 0..rows.len() - 1 {
        let diff = &s.diff[j * d..][..d];
        let cand_g = &mut rest[j * d..][..d];
        let w = s.coeff[j];
        match view.norm {
            Norm::L1 => {
                for i in 0..d {
                    cand_g[i] = -w * diff[i].signum();
                }
            }
            Norm::L2 => {
                let f = w / s.dist[j].max(1e-12);
                for i in 0..d {
                    cand_g[i] = -f * diff[i];
                }
            }
        }
        for i in 0..d {
            anchor_g[i] -= cand_g[i];
            rel_grad[i] -= sign * cand_g[i];
        }
    }
    value
}

/// The hyperbolic model's batch gradient by candle autograd on the gathered rows.
fn hyperbolic_batch(
    view: &ModelView,
    loss: &Loss,
    k: usize,
    device: &Device,
    out: &mut Grads,
) -> Result<()> {
    let (d, b) = (view.dim, out.rel_rows.len());
    let gather = |table: &[f32], rows: &[u32], w: usize| -> Vec<f32> {
        let mut v = vec![0.0f32; rows.len() * w];
        v.par_chunks_mut(w)
            .zip(rows.par_iter())
            .for_each(|(dst, &r)| dst.copy_from_slice(&table[r as usize * w..][..w]));
        v
    };
    let ent = Var::from_tensor(&Tensor::from_vec(
        gather(view.entity, &out.ent_rows, d),
        (b, k + 2, d),
        device,
    )?)?;
    let bias: Vec<f32> = out.ent_rows.iter().map(|&e| view.bias(e)).collect();
    let bias = Var::from_tensor(&Tensor::from_vec(bias, (b, k + 2), device)?)?;
    let rel = Var::from_tensor(&Tensor::from_vec(
        gather(view.relation, &out.rel_rows, 2 * d),
        (b, 2 * d),
        device,
    )?)?;
    let raw = Var::from_tensor(&Tensor::new(
        &[super::model::curvature_raw(view.curvature)],
        device,
    )?)?;

    let d2 = hyperbolic_forward(
        ent.as_tensor(),
        bias.as_tensor(),
        rel.as_tensor(),
        raw.as_tensor(),
        d,
    )?;
    let dist: Vec<Vec<f32>> = d2.to_vec2()?;
    let mut coeff = vec![0.0f32; b * (k + 1)];
    let mut total = 0.0f64;
    for (row, c) in dist.iter().zip(coeff.chunks_mut(k + 1)) {
        total += loss.eval(row, c) as f64;
    }
    let coeff = Tensor::from_vec(coeff, (b, k + 1), device)?;
    let grads = (d2 * coeff)?.sum_all()?.backward()?;

    let take = |v: &Var| -> Result<Vec<f32>> {
        Ok(match grads.get(v.as_tensor()) {
            Some(g) => g.flatten_all()?.to_dtype(DType::F32)?.to_vec1()?,
            None => vec![0.0; v.as_tensor().elem_count()],
        })
    };
    out.ent = take(&ent)?;
    out.bias = take(&bias)?;
    out.rel = take(&rel)?;
    out.curvature = take(&raw)?[0];
    out.loss = total;
    Ok(())
}

/// Squared distances `[batch, 1 + k]` between each example's query point and its candidates,
/// less the anchor's and the candidate's biases. `ent` is `[batch, 2 + k, dim]` (anchor, then
/// candidates), `bias` `[batch, 2 + k]` in the same slots, `rel` is `[batch, 2 * dim]`.
pub fn hyperbolic_forward(
    ent: &Tensor,
    bias: &Tensor,
    rel: &Tensor,
    raw: &Tensor,
    d: usize,
) -> Result<Tensor> {
    let c = (softplus(raw)? + MIN_CURVATURE as f64)?;
    let anchor = ent.narrow(1, 0, 1)?.squeeze(1)?;
    let cands = ent.narrow(1, 1, ent.dim(1)? - 1)?;
    let scale = rel.narrow(1, 0, d)?;
    let trans = rel.narrow(1, d, d)?;
    let x = expmap0(&(anchor * scale)?, &c)?;
    let t = expmap0(&trans, &c)?;
    let q = mobius_add(&x, &t, &c)?.unsqueeze(1)?;
    let y = expmap0(&cands, &c)?;
    let m = mobius_add(&q.neg()?, &y, &c)?;
    let sc = c.sqrt()?;
    let n = norm(&m)?.squeeze(D::Minus1)?.broadcast_mul(&sc)?;
    let n = n.clamp(0.0, 1.0 - BALL_EPS as f64)?;
    // artanh(z) = (ln(1 + z) - ln(1 - z)) / 2, and d = 2 artanh(√c |m|) / √c
    let at = ((n.affine(1.0, 1.0)?.log()? - n.affine(-1.0, 1.0)?.log()?)? * 0.5)?;
    let dist = (at * 2.0)?.broadcast_div(&sc)?;
    let anchor_bias = bias.narrow(1, 0, 1)?;
    let cand_bias = bias.narrow(1, 1, bias.dim(1)? - 1)?;
    Ok(dist.sqr()?.broadcast_sub(&anchor_bias)?.sub(&cand_bias)?)
}

fn softplus(x: &Tensor) -> Result<Tensor> {
    Ok((x.relu()? + (x.abs()?.neg()?.exp()? + 1.0)?.log()?)?)
}

fn norm(v: &Tensor) -> Result<Tensor> {
    Ok((v.sqr()?.sum_keepdim(D::Minus1)? + 1e-15)?.sqrt()?)
}

fn dot(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    Ok(a.broadcast_mul(b)?.sum_keepdim(D::Minus1)?)
}

fn expmap0(v: &Tensor, c: &Tensor) -> Result<Tensor> {
    let sc = c.sqrt()?;
    let n = norm(v)?.broadcast_mul(&sc)?;
    let r = n.tanh()?.clamp(0.0, 1.0 - BALL_EPS as f64)?;
    // exp0(v) = tanh(√c |v|) v / (√c |v|), and n is already √c |v|
    Ok(v.broadcast_mul(&(r / n)?)?)
}

fn mobius_add(x: &Tensor, y: &Tensor, c: &Tensor) -> Result<Tensor> {
    let (xy, xx, yy) = (dot(x, y)?, dot(x, x)?, dot(y, y)?);
    let c2xy = xy.broadcast_mul(c)?.affine(2.0, 0.0)?;
    let a = (c2xy.broadcast_add(&yy.broadcast_mul(c)?)? + 1.0)?;
    let b = xx.broadcast_mul(c)?.affine(-1.0, 1.0)?;
    let cc = c.sqr()?;
    let den = (c2xy.broadcast_add(&xx.broadcast_mul(&yy)?.broadcast_mul(&cc)?)? + 1.0)?;
    let num = x.broadcast_mul(&a)?.broadcast_add(&y.broadcast_mul(&b)?)?;
    Ok(num.broadcast_div(&den.clamp(1e-15, f64::MAX)?)?)
}
