//! The transformer layers of [`super::bert::Bert`] on the CPU, over plain `f32` buffers: the
//! embedded `(texts · tokens, hidden)` states and the additive key bias in, the final-layer
//! states out.
//!
//! Why not candle ops: one sentence of 32 tokens is about 0.7 GFLOP, a few milliseconds, and
//! there each candle op's dispatch, its freshly allocated (and page-zeroed) output and its
//! thread barrier cost as much as the arithmetic. Here a pass allocates its four working
//! buffers once and every layer reuses them; the products accumulate onto their bias and
//! residual ([`dense`]), layer norm runs in place on the product's output, and attention and
//! GELU stay on the calling thread when the batch is too small to share.

use candle_core::Tensor;

use super::kernels::{attention, dense, gelu_in_place, layer_norm_in_place, AttentionShape};

/// One layer's weights as row-major `f32` vectors.
pub struct CpuLayer {
    /// Query, key and value rows stacked, `(3 · hidden, hidden)`, query rows pre-scaled.
    pub qkv: Affine,
    pub attention_out: Affine,
    pub attention_norm: NormWeights,
    pub up: Affine,
    pub down: Affine,
    pub output_norm: NormWeights,
}

/// A linear layer: its weight transposed, `(in, out)` (the layout [`dense`] reads), and its
/// `(out)` bias.
pub struct Affine {
    pub weight_t: Vec<f32>,
    pub bias: Vec<f32>,
    pub out: usize,
    pub inp: usize,
}

impl Affine {
    /// Copies a weight `(out, in)`, transposed, and a bias `(out)` off their tensors.
    pub fn from_tensors(weight: &Tensor, bias: &Tensor) -> candle_core::Result<Self> {
        let (out, inp) = weight.dims2()?;
        Ok(Affine {
            weight_t: weight.t()?.contiguous()?.flatten_all()?.to_vec1()?,
            bias: bias.to_vec1()?,
            out,
            inp,
        })
    }

    /// `out ← x · wᵀ + b + residual` (no residual: `x · wᵀ + b`), `x` `(rows, in)`.
    fn apply(&self, x: &[f32], residual: Option<&[f32]>, out: &mut [f32]) {
        let rows = x.len() / self.inp;
        let out = &mut out[..rows * self.out];
        match residual {
            Some(r) => {
                for (o, r) in out.chunks_exact_mut(self.out).zip(r.chunks_exact(self.out)) {
                    for ((o, r), b) in o.iter_mut().zip(r).zip(&self.bias) {
                        *o = r + b;
                    }
                }
            }
            None => {
                for o in out.chunks_exact_mut(self.out) {
                    o.copy_from_slice(&self.bias);
                }
            }
        }
        dense(x, &self.weight_t, out, rows, self.inp, self.out);
    }
}

/// Layer norm scale, shift and epsilon.
pub struct NormWeights {
    pub weight: Vec<f32>,
    pub bias: Vec<f32>,
    pub eps: f32,
}

impl NormWeights {
    pub fn from_tensors(weight: &Tensor, bias: &Tensor, eps: f32) -> candle_core::Result<Self> {
        Ok(NormWeights {
            weight: weight.to_vec1()?,
            bias: bias.to_vec1()?,
            eps,
        })
    }

    fn apply(&self, xs: &mut [f32]) {
        layer_norm_in_place(xs, self.weight.len(), &self.weight, &self.bias, self.eps);
    }
}

/// Runs `layers` over `xs`, `(texts · len, hidden)` states, in place; `bias` is the
/// `(texts · len)` additive key bias, `heads` the attention heads.
pub fn run_layers(layers: &[CpuLayer], xs: &mut [f32], bias: &[f32], texts: usize, heads: usize) {
    let Some(first) = layers.first() else {
        return;
    };
    let hidden = first.attention_out.out;
    let rows = xs.len() / hidden;
    let shape = AttentionShape {
        batch: texts,
        len: rows / texts,
        heads,
        head_dim: hidden / heads,
    };
    let widest = layers.iter().map(|l| l.up.out).max().unwrap_or(0);
    let mut qkv = vec![0f32; rows * 3 * hidden];
    let mut context = vec![0f32; rows * hidden];
    let mut attended = vec![0f32; rows * hidden];
    let mut up = vec![0f32; rows * widest];

    for layer in layers {
        layer.qkv.apply(xs, None, &mut qkv);
        attention(&qkv, bias, &mut context, shape);
        layer.attention_out.apply(&context, Some(xs), &mut attended);
        layer.attention_norm.apply(&mut attended);

        let up = &mut up[..rows * layer.up.out];
        layer.up.apply(&attended, None, up);
        gelu_in_place(up);
        layer.down.apply(up, Some(&attended), xs);
        layer.output_norm.apply(xs);
    }
}
