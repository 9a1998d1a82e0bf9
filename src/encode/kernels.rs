//! CPU kernels for the BERT forward pass that candle has no fused form of: attention over a
//! packed query/key/value matrix, linear layers that accumulate onto their bias (and
//! residual), and an in-place exact GELU.
//!
//! In: contiguous f32 tensors on the CPU. Out: new or updated tensors of the same layout.
//! Why: at 128 tokens an encoder pass spent a fifth of its time in scalar `erf` and `exp`, and
//! the per-layer attention scores of a batch (`batch × heads × len × len`, 12 MB at 16 × 128)
//! fall out of cache between the candle ops that produce and consume them. Here each
//! (text, head) pair computes its scores, softmax and weighted sum in one cache-sized buffer,
//! and `exp` / `erf` are branch-free polynomials the compiler vectorizes (with AVX2 and FMA
//! where the CPU has them, picked at run time).

use candle_core::{CpuStorage, CustomOp2, CustomOp3, Layout, Shape};
use rayon::prelude::*;

/// The additive attention bias of a padding position: far below any score, finite so a row of
/// nothing but padding gives a uniform softmax instead of NaN.
pub const MASKED_BIAS: f32 = -1.0e30;

/// Attention of every head of every text, from the `(batch · len, 3 · hidden)` output of the
/// fused query/key/value projection (queries already scaled by `1/√head_dim`) and a
/// `(batch, len)` additive key bias (0 or [`MASKED_BIAS`]). Gives `(batch · len, hidden)`, the
/// heads' outputs side by side, ready for the output projection.
pub struct PackedAttention {
    pub batch: usize,
    pub len: usize,
    pub heads: usize,
    pub head_dim: usize,
}

impl CustomOp2 for PackedAttention {
    fn name(&self) -> &'static str {
        "packed-attention"
    }

    fn cpu_fwd(
        &self,
        qkv: &CpuStorage,
        qkv_l: &Layout,
        bias: &CpuStorage,
        bias_l: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let hidden = self.heads * self.head_dim;
        let qkv = contiguous_f32(qkv, qkv_l, self.batch * self.len * 3 * hidden, "qkv")?;
        let bias = contiguous_f32(bias, bias_l, self.batch * self.len, "bias")?;
        let mut out = vec![0f32; self.batch * self.len * hidden];
        let dst = SharedOut(out.as_mut_ptr());
        let len = self.len;
        (0..self.batch * self.heads).into_par_iter().for_each_init(
            || vec![0f32; len * len],
            |scores, task| {
                let (text, head) = (task / self.heads, task % self.heads);
                // Safety: each task writes only its own (text, head) block of `out`.
                unsafe { self.one_head(qkv, &bias[text * len..][..len], scores, &dst, text, head) }
            },
        );
        Ok((
            CpuStorage::F32(out),
            Shape::from((self.batch * len, hidden)),
        ))
    }
}

impl PackedAttention {
    /// Scores, masked softmax and weighted sum of values for one head of one text.
    ///
    /// # Safety
    /// `dst` must point at a `(batch · len, hidden)` buffer that no other caller writes the
    /// `(text, head)` block of.
    unsafe fn one_head(
        &self,
        qkv: &[f32],
        bias: &[f32],
        scores: &mut [f32],
        dst: &SharedOut,
        text: usize,
        head: usize,
    ) {
        let (len, dim) = (self.len, self.head_dim);
        let hidden = self.heads * dim;
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
}

/// A raw output pointer the attention tasks share; they write disjoint blocks.
struct SharedOut(*mut f32);
// Safety: see `PackedAttention::one_head`; no two tasks touch the same element.
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

/// `x · wᵀ + init` for `x` `(rows, k)` and `w` `(n, k)` (a linear layer's weight), where
/// `init` is a `(n)` bias added to every row or a full `(rows, n)` matrix (bias plus residual).
/// The product accumulates onto `init` in place, so the output is never zeroed first and the
/// bias and residual cost no pass of their own.
pub struct Dense;

impl CustomOp3 for Dense {
    fn name(&self) -> &'static str {
        "dense"
    }

    fn cpu_fwd(
        &self,
        x: &CpuStorage,
        x_l: &Layout,
        w: &CpuStorage,
        w_l: &Layout,
        init: &CpuStorage,
        init_l: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let (rows, k) = x_l.shape().dims2()?;
        let (n, w_k) = w_l.shape().dims2()?;
        if k != w_k {
            candle_core::bail!("dense: input width {k}, weight width {w_k}");
        }
        let x = contiguous_f32(x, x_l, rows * k, "dense input")?;
        let w = contiguous_f32(w, w_l, n * k, "dense weight")?;
        let count = init_l.shape().elem_count();
        let init = contiguous_f32(init, init_l, count, "dense init")?;
        let mut out = if count == n {
            init.repeat(rows)
        } else if count == rows * n {
            init.to_vec()
        } else {
            candle_core::bail!("dense: init of {count} values for a ({rows}, {n}) output");
        };
        // Safety: the pointers and strides describe the slices above, which outlive the call;
        // the weight is read transposed by swapping its strides.
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
                w.as_ptr(),
                k as isize,
                1,
                1.0,
                1.0,
                false,
                false,
                false,
                gemm::Parallelism::Rayon(rayon::current_num_threads()),
            );
        }
        Ok((CpuStorage::F32(out), Shape::from((rows, n))))
    }
}

/// The exact (erf) GELU over a contiguous tensor, in place.
pub struct Gelu;

impl candle_core::InplaceOp1 for Gelu {
    fn name(&self) -> &'static str {
        "gelu"
    }

    fn cpu_fwd(&self, dst: &mut CpuStorage, dst_l: &Layout) -> candle_core::Result<()> {
        let (start, end) = dst_l
            .contiguous_offsets()
            .ok_or_else(|| candle_core::Error::msg("gelu: not contiguous"))?;
        let CpuStorage::F32(dst) = dst else {
            candle_core::bail!("gelu: f32 only")
        };
        // Blocks of a few thousand values: one row is too little work to hand to a thread.
        dst[start..end].par_chunks_mut(8192).for_each(gelu_block);
        Ok(())
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

fn contiguous_f32<'a>(
    storage: &'a CpuStorage,
    layout: &Layout,
    want: usize,
    what: &str,
) -> candle_core::Result<&'a [f32]> {
    let CpuStorage::F32(data) = storage else {
        candle_core::bail!("{what}: f32 only")
    };
    match layout.contiguous_offsets() {
        Some((start, end)) if end - start == want => Ok(&data[start..end]),
        Some((start, end)) => candle_core::bail!("{what}: {} values, expected {want}", end - start),
        None => candle_core::bail!("{what}: not contiguous"),
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
        let x = Tensor::randn(0f32, 2., (3, 5000), &Device::Cpu).unwrap();
        let want = x.gelu_erf().unwrap();
        x.inplace_op1(&Gelu).unwrap();
        assert!(max_diff(&x, &want) < 1e-6);
    }

    #[test]
    fn dense_adds_a_bias_row_or_a_full_matrix() {
        let dev = Device::Cpu;
        let x = Tensor::randn(0f32, 1., (37, 24), &dev).unwrap();
        let w = Tensor::randn(0f32, 1., (40, 24), &dev).unwrap();
        let bias = Tensor::randn(0f32, 1., 40, &dev).unwrap();
        let residual = Tensor::randn(0f32, 1., (37, 40), &dev).unwrap();
        let product = x.matmul(&w.t().unwrap()).unwrap();

        let got = x.apply_op3_no_bwd(&w, &bias, &Dense).unwrap();
        assert!(max_diff(&got, &product.broadcast_add(&bias).unwrap()) < 1e-4);
        let got = x.apply_op3_no_bwd(&w, &residual, &Dense).unwrap();
        assert!(max_diff(&got, &(&product + &residual).unwrap()) < 1e-4);
        assert!(x.apply_op3_no_bwd(&w, &x, &Dense).is_err());
    }

    #[test]
    fn packed_attention_matches_separate_candle_ops() {
        let (batch, len, heads, dim) = (3, 7, 4, 8);
        let hidden = heads * dim;
        let dev = Device::Cpu;
        let qkv = Tensor::randn(0f32, 1., (batch * len, 3 * hidden), &dev).unwrap();
        // The second text has three padding positions, the third one.
        let mut bias = vec![0f32; batch * len];
        for j in [len + 4, len + 5, len + 6, 2 * len + 6] {
            bias[j] = MASKED_BIAS;
        }
        let bias = Tensor::from_vec(bias, (batch, len), &dev).unwrap();
        let op = PackedAttention {
            batch,
            len,
            heads,
            head_dim: dim,
        };
        let got = qkv.apply_op2_no_bwd(&bias, &op).unwrap();

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
        let want = probs
            .matmul(&v)
            .unwrap()
            .transpose(1, 2)
            .unwrap()
            .reshape((batch * len, hidden))
            .unwrap();
        assert!(max_diff(&got, &want) < 1e-5);
    }
}
