//! CPU kernels for the BERT forward pass that candle has no fused form of: attention over a
//! packed query/key/value matrix, linear layers that accumulate onto their bias (and
//! residual), and in-place exact GELU and layer norm.
//!
//! In: row-major `f32` slices. Out: written into caller-owned slices, so a forward pass can
//! reuse its buffers from layer to layer.
//! Why: at 128 tokens an encoder pass spent a fifth of its time in scalar `erf` and `exp`, and
//! the per-layer attention scores of a batch (`batch × heads × len × len`, 12 MB at 16 × 128)
//! fall out of cache between the candle ops that produce and consume them. Here each
//! (text, head) pair computes its scores, softmax and weighted sum in one cache-sized buffer,
//! and `exp` / `erf` are branch-free polynomials the compiler vectorizes (with AVX2 and FMA
//! where the CPU has them, picked at run time).

use rayon::prelude::*;

/// The additive attention bias of a padding position: far below any score, finite so a row of
/// nothing but padding gives a uniform softmax instead of NaN.
pub const MASKED_BIAS: f32 = -1.0e30;

/// The shape of a batch in the attention kernel.
#[derive(Clone, Copy, Debug)]
pub struct AttentionShape {
    pub batch: usize,
    pub len: usize,
    pub heads: usize,
    pub head_dim: usize,
}

/// Below this many multiply-adds (over all texts and heads) attention runs on the calling
/// thread: one short sentence's twelve heads are a few microseconds of work each, less than
/// waking the thread pool costs.
const PARALLEL_ATTENTION_WORK: usize = 1 << 21;

/// Attention of every head of every text, from the `(batch · len, 3 · hidden)` output of the
/// fused query/key/value projection (queries already scaled by `1/√head_dim`) and a
/// `(batch · len)` additive key bias (0 or [`MASKED_BIAS`]), into `out`, `(batch · len,
/// hidden)`: the heads' outputs side by side, ready for the output projection.
pub fn attention(qkv: &[f32], bias: &[f32], out: &mut [f32], shape: AttentionShape) {
    let AttentionShape {
        batch,
        len,
        heads,
        head_dim,
    } = shape;
    let hidden = heads * head_dim;
    assert_eq!(qkv.len(), batch * len * 3 * hidden, "attention: qkv size");
    assert_eq!(bias.len(), batch * len, "attention: bias size");
    assert_eq!(out.len(), batch * len * hidden, "attention: output size");
    let dst = SharedOut(out.as_mut_ptr());
    let task = |scores: &mut Vec<f32>, task: usize| {
        let (text, head) = (task / heads, task % heads);
        // Safety: each task writes only its own (text, head) block of `out`, whose size was
        // checked above.
        unsafe {
            one_head(
                shape,
                qkv,
                &bias[text * len..][..len],
                scores,
                &dst,
                text,
                head,
            )
        }
    };
    let tasks = batch * heads;
    if tasks * 2 * len * len * head_dim < PARALLEL_ATTENTION_WORK {
        let mut scores = vec![0f32; len * len];
        (0..tasks).for_each(|t| task(&mut scores, t));
    } else {
        (0..tasks)
            .into_par_iter()
            .for_each_init(|| vec![0f32; len * len], task);
    }
}

/// Scores, masked softmax and weighted sum of values for one head of one text.
///
/// # Safety
/// `dst` must point at a `(batch · len, hidden)` buffer that no other caller writes the
/// `(text, head)` block of.
unsafe fn one_head(
    shape: AttentionShape,
    qkv: &[f32],
    bias: &[f32],
    scores: &mut [f32],
    dst: &SharedOut,
    text: usize,
    head: usize,
) {
    let (len, dim) = (shape.len, shape.head_dim);
    let hidden = shape.heads * dim;
    let row = 3 * hidden as isize;
    let base = qkv.as_ptr().add(text * len * 3 * hidden + head * dim);
    let (q, k, v) = (base, base.add(hidden), base.add(2 * hidden));

    // scores[i][j] = q_i · k_j: the keys read as a (dim × len) matrix by swapping strides.
    gemm::gemm(
        len,
        len,
        dim,
        scores.as_mut_ptr(),
        1,
        len as isize,
        false,
        q,
        1,
        row,
        k,
        row,
        1,
        0.0,
        1.0,
        false,
        false,
        false,
        gemm::Parallelism::None,
    );
    for r in scores.chunks_exact_mut(len) {
        softmax_row(r, bias);
    }

    let out = dst.0.add(text * len * hidden + head * dim);
    gemm::gemm(
        len,
        dim,
        len,
        out,
        1,
        hidden as isize,
        false,
        scores.as_ptr(),
        1,
        len as isize,
        v,
        1,
        row,
        0.0,
        1.0,
        false,
        false,
        false,
        gemm::Parallelism::None,
    );
}

/// A raw output pointer the attention tasks share; they write disjoint blocks.
struct SharedOut(*mut f32);
// Safety: see `one_head`; no two tasks touch the same element.
unsafe impl Send for SharedOut {}
unsafe impl Sync for SharedOut {}

/// `row ← softmax(row + bias)` in place.
fn softmax_row(row: &mut [f32], bias: &[f32]) {
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
        // Safety: the CPU has the features the function is compiled for.
        return unsafe { softmax_row_avx2(row, bias) };
    }
    softmax_row_any(row, bias)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn softmax_row_avx2(row: &mut [f32], bias: &[f32]) {
    softmax_row_any(row, bias)
}

#[inline(always)]
fn softmax_row_any(row: &mut [f32], bias: &[f32]) {
    for (x, b) in row.iter_mut().zip(bias) {
        *x += b;
    }
    let max = lanes(row, f32::MIN, |a, b| if a > b { a } else { b });
    for x in row.iter_mut() {
        *x = exp(*x - max);
    }
    let inv = 1.0 / lanes(row, 0.0, |a, b| a + b);
    for x in row.iter_mut() {
        *x *= inv;
    }
}

/// Folds `xs` with `f` over 16 independent lanes, then the lanes together: a float reduction
/// the compiler may vectorize, which a single running value (one long dependency chain that
/// must keep its order) is not.
#[inline(always)]
fn lanes(xs: &[f32], init: f32, f: impl Fn(f32, f32) -> f32) -> f32 {
    const LANES: usize = 16;
    let mut acc = [init; LANES];
    let chunks = xs.chunks_exact(LANES);
    let tail = chunks.remainder();
    for chunk in chunks {
        for (a, &x) in acc.iter_mut().zip(chunk) {
            *a = f(*a, x);
        }
    }
    let folded = acc.iter().fold(init, |a, &x| f(a, x));
    tail.iter().fold(folded, |a, &x| f(a, x))
}

/// `out += x · wt` for `x` `(rows, k)` and `wt` `(k, n)`, a linear layer's weight transposed
/// once at load, `out` `(rows, n)`. The caller fills `out` with the bias (and residual)
/// first, so the output is never zeroed and the bias and residual cost no pass of their own.
/// The transposed layout is what gemm's kernel reads directly: given the `(n, k)` weight
/// itself it gathers it column by column into a packed copy on every call, which was 40% of a
/// 32-token sentence's time.
pub fn dense(x: &[f32], wt: &[f32], out: &mut [f32], rows: usize, k: usize, n: usize) {
    assert_eq!(x.len(), rows * k, "dense: input size");
    assert_eq!(wt.len(), k * n, "dense: weight size");
    assert_eq!(out.len(), rows * n, "dense: output size");
    // Safety: the pointers and strides describe the slices above, whose sizes were checked.
    unsafe {
        gemm::gemm(
            rows,
            n,
            k,
            out.as_mut_ptr(),
            1,
            n as isize,
            true,
            x.as_ptr(),
            1,
            k as isize,
            wt.as_ptr(),
            1,
            n as isize,
            1.0,
            1.0,
            false,
            false,
            false,
            gemm::Parallelism::Rayon(rayon::current_num_threads()),
        );
    }
}

/// Values per GELU task; below two of them GELU runs on the calling thread.
const GELU_BLOCK: usize = 8192;

/// The exact (erf) GELU of every value, in place.
pub fn gelu_in_place(xs: &mut [f32]) {
    if xs.len() < 2 * GELU_BLOCK {
        gelu_block(xs);
    } else {
        xs.par_chunks_mut(GELU_BLOCK).for_each(gelu_block);
    }
}

fn gelu_block(xs: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
        // Safety: the CPU has the features the function is compiled for.
        return unsafe { gelu_block_avx2(xs) };
    }
    gelu_block_any(xs)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn gelu_block_avx2(xs: &mut [f32]) {
    gelu_block_any(xs)
}

#[inline(always)]
fn gelu_block_any(xs: &mut [f32]) {
    for x in xs {
        *x = gelu(*x);
    }
}

/// Layer normalization of every `width`-wide row of `xs` in place: `(x − mean) / √(var + eps)`
/// scaled by `weight` and shifted by `bias`. The mean and the variance (of the centred values,
/// which loses less than `E[x²] − mean²`) are lane-split reductions the compiler vectorizes.
pub fn layer_norm_in_place(xs: &mut [f32], width: usize, weight: &[f32], bias: &[f32], eps: f32) {
    assert_eq!(xs.len() % width, 0, "layer norm: rows of {width}");
    assert!(
        weight.len() == width && bias.len() == width,
        "layer norm: weight size"
    );
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
        // Safety: the CPU has the features the function is compiled for.
        return unsafe { layer_norm_avx2(xs, width, weight, bias, eps) };
    }
    layer_norm_any(xs, width, weight, bias, eps)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn layer_norm_avx2(xs: &mut [f32], width: usize, weight: &[f32], bias: &[f32], eps: f32) {
    layer_norm_any(xs, width, weight, bias, eps)
}

#[inline(always)]
fn layer_norm_any(xs: &mut [f32], width: usize, weight: &[f32], bias: &[f32], eps: f32) {
    let n = width as f32;
    for row in xs.chunks_exact_mut(width) {
        let mean = lanes(row, 0.0, |a, b| a + b) / n;
        for x in row.iter_mut() {
            *x -= mean;
        }
        let var = lanes_map(row, |x| x * x) / n;
        let inv = 1.0 / (var + eps).sqrt();
        for ((x, w), b) in row.iter_mut().zip(weight).zip(bias) {
            *x = *x * inv * w + b;
        }
    }
}

/// The sum of `f(x)` over `xs`, in 16 independent lanes (see [`lanes`]).
#[inline(always)]
fn lanes_map(xs: &[f32], f: impl Fn(f32) -> f32) -> f32 {
    const LANES: usize = 16;
    let mut acc = [0f32; LANES];
    let chunks = xs.chunks_exact(LANES);
    let tail = chunks.remainder();
    for chunk in chunks {
        for (a, &x) in acc.iter_mut().zip(chunk) {
            *a += f(x);
        }
    }
    acc.iter().sum::<f32>() + tail.iter().map(|&x| f(x)).sum::<f32>()
}

/// The exact GELU, `x · Φ(x) = x/2 · (1 + erf(x/√2))`.
#[inline(always)]
pub fn gelu(x: f32) -> f32 {
    0.5 * x * (1.0 + erf(x * std::f32::consts::FRAC_1_SQRT_2))
}

/// `erf` within 2e-7 of the true value: the rational-times-Gaussian form of Abramowitz and
/// Stegun (7.1.26), branch-free so a loop of it vectorizes.
#[inline(always)]
pub fn erf(x: f32) -> f32 {
    let a = x.abs();
    let t = 1.0 / (1.0 + 0.327_591_1 * a);
    let poly = t
        * (0.254_829_6
            + t * (-0.284_496_74 + t * (1.421_413_7 + t * (-1.453_152 + t * 1.061_405_4))));
    (1.0 - poly * exp(-a * a)).copysign(x)
}

/// `e^x` within a few ulp, 0 below -87 (where f32 leaves normal numbers): `2^n · e^r` with
/// `n = round(x / ln 2)` and a degree-7 Taylor polynomial for `e^r`, `|r| ≤ ln 2 / 2`.
#[inline(always)]
pub fn exp(x: f32) -> f32 {
    // Adding 1.5 · 2^23 rounds to an integer held in the low mantissa bits.
    const ROUND: f32 = 12_582_912.0;
    const LN2_HI: f32 = 0.693_145_75;
    const LN2_LO: f32 = 1.428_606_8e-6;
    let c = x.clamp(-87.0, 88.0);
    let shifted = c * std::f32::consts::LOG2_E + ROUND;
    let n = shifted - ROUND;
    let r = c - n * LN2_HI - n * LN2_LO;
    let p = 1.0
        + r * (1.0
            + r * (0.5
                + r * (1.0 / 6.0
                    + r * (1.0 / 24.0
                        + r * (1.0 / 120.0 + r * (1.0 / 720.0 + r * (1.0 / 5040.0)))))));
    let n = (shifted.to_bits() as i32).wrapping_sub(ROUND.to_bits() as i32);
    let scale = f32::from_bits(((n + 127) << 23) as u32);
    if x < -87.0 {
        0.0
    } else {
        p * scale
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{Device, Tensor, D};

    fn max_diff(a: &Tensor, b: &Tensor) -> f32 {
        let diff = (a - b).unwrap().abs().unwrap().max_all().unwrap();
        diff.to_scalar().unwrap()
    }

    #[test]
    fn exp_matches_the_standard_library() {
        let mut worst = 0f32;
        for i in -8700..=8800 {
            let x = i as f32 * 0.01;
            let (got, want) = (exp(x), x.exp());
            worst = worst.max((got - want).abs() / want.max(f32::MIN_POSITIVE));
        }
        assert!(worst < 1e-6, "relative error {worst}");
        assert_eq!(exp(-100.0), 0.0);
        assert_eq!(exp(MASKED_BIAS), 0.0);
    }

    #[test]
    fn gelu_matches_candles_exact_gelu() {
        let xs: Vec<f32> = (-2000..=2000).map(|i| i as f32 * 0.005).collect();
        let want: Vec<f32> = Tensor::new(xs.as_slice(), &Device::Cpu)
            .unwrap()
            .gelu_erf()
            .unwrap()
            .to_vec1()
            .unwrap();
        for (x, w) in xs.iter().zip(want) {
            assert!(
                (gelu(*x) - w).abs() < 1e-6,
                "gelu({x}) = {} vs {w}",
                gelu(*x)
            );
        }
    }

    #[test]
    fn in_place_gelu_matches_candles() {
        // Above and below the size that is split among threads.
        for size in [(3, 500), (3, 9000)] {
            let x = Tensor::randn(0f32, 2., size, &Device::Cpu).unwrap();
            let want = x.gelu_erf().unwrap();
            let mut got: Vec<f32> = x.flatten_all().unwrap().to_vec1().unwrap();
            gelu_in_place(&mut got);
            let got = Tensor::from_vec(got, size, &Device::Cpu).unwrap();
            assert!(max_diff(&got, &want) < 1e-6);
        }
    }

    #[test]
    fn dense_accumulates_onto_a_bias_or_a_residual() {
        let dev = Device::Cpu;
        let x = Tensor::randn(0f32, 1., (37, 24), &dev).unwrap();
        let w = Tensor::randn(0f32, 1., (40, 24), &dev).unwrap();
        let bias = Tensor::randn(0f32, 1., 40, &dev).unwrap();
        let residual = Tensor::randn(0f32, 1., (37, 40), &dev).unwrap();
        let product = x.matmul(&w.t().unwrap()).unwrap();

        let flat = |t: &Tensor| -> Vec<f32> { t.flatten_all().unwrap().to_vec1().unwrap() };
        let run = |init: &Tensor| {
            let mut out = flat(&init.broadcast_as((37, 40)).unwrap().contiguous().unwrap());
            let wt = flat(&w.t().unwrap().contiguous().unwrap());
            dense(&flat(&x), &wt, &mut out, 37, 24, 40);
            Tensor::from_vec(out, (37, 40), &dev).unwrap()
        };
        let want = product.broadcast_add(&bias).unwrap();
        assert!(max_diff(&run(&bias), &want) < 1e-4);
        let want = (&product + &residual).unwrap();
        assert!(max_diff(&run(&residual), &want) < 1e-4);
    }

    /// Attention through separate candle ops, for comparison.
    fn attention_by_ops(qkv: &Tensor, bias: &Tensor, shape: AttentionShape) -> Tensor {
        let AttentionShape {
            batch,
            len,
            heads,
            head_dim: dim,
        } = shape;
        let split = qkv
            .reshape((batch, len, 3, heads, dim))
            .unwrap()
            .permute((2, 0, 3, 1, 4))
            .unwrap();
        let part = |i| split.get(i).unwrap().contiguous().unwrap();
        let (q, k, v) = (part(0), part(1), part(2));
        let scores = q
            .matmul(&k.t().unwrap())
            .unwrap()
            .broadcast_add(&bias.reshape((batch, 1, 1, len)).unwrap())
            .unwrap();
        let probs = candle_nn::ops::softmax(&scores, D::Minus1).unwrap();
        probs
            .matmul(&v)
            .unwrap()
            .transpose(1, 2)
            .unwrap()
            .reshape((batch * len, heads * dim))
            .unwrap()
    }

    #[test]
    fn attention_matches_separate_candle_ops() {
        let dev = Device::Cpu;
        // A batch small enough for the calling thread alone and one shared among threads.
        for (batch, len, heads, dim) in [(3, 7, 4, 8), (4, 64, 4, 32)] {
            let shape = AttentionShape {
                batch,
                len,
                heads,
                head_dim: dim,
            };
            let hidden = heads * dim;
            let qkv = Tensor::randn(0f32, 1., (batch * len, 3 * hidden), &dev).unwrap();
            // The second text has three padding positions, the third one.
            let mut bias = vec![0f32; batch * len];
            for j in [2 * len - 3, 2 * len - 2, 2 * len - 1, 3 * len - 1] {
                bias[j] = MASKED_BIAS;
            }
            let mut got = vec![0f32; batch * len * hidden];
            let flat: Vec<f32> = qkv.flatten_all().unwrap().to_vec1().unwrap();
            attention(&flat, &bias, &mut got, shape);
            let got = Tensor::from_vec(got, (batch * len, hidden), &dev).unwrap();

            let bias = Tensor::from_vec(bias, (batch, len), &dev).unwrap();
            let want = attention_by_ops(&qkv, &bias, shape);
            assert!(max_diff(&got, &want) < 1e-5, "batch {batch}, len {len}");
        }
    }

    #[test]
    fn layer_norm_matches_candles() {
        let dev = Device::Cpu;
        let width = 37;
        let x = (Tensor::randn(0f32, 3., (11, width), &dev).unwrap() + 5.0).unwrap();
        let w = Tensor::randn(0f32, 1., width, &dev).unwrap();
        let b = Tensor::randn(0f32, 1., width, &dev).unwrap();
        let want = candle_nn::ops::layer_norm(&x, &w, &b, 1e-12).unwrap();
        let mut got: Vec<f32> = x.flatten_all().unwrap().to_vec1().unwrap();
        let (w, b): (Vec<f32>, Vec<f32>) = (w.to_vec1().unwrap(), b.to_vec1().unwrap());
        layer_norm_in_place(&mut got, width, &w, &b, 1e-12);
        let got = Tensor::from_vec(got, (11, width), &dev).unwrap();
        assert!(max_diff(&got, &want) < 1e-5, "{}", max_diff(&got, &want));
    }
}
