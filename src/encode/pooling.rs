//! Pooling token states into one vector: the mean over the tokens that count, then L2
//! normalization, the way sentence-transformers builds its sentence embeddings (special tokens
//! included, padding excluded). Mention vectors use the same mean over a mention's tokens.

use candle_core::{DType, Tensor, D};

use super::error::Result;

/// Mean over the unmasked positions of `(rows, len, dim)` states, then L2-normalized rows.
pub fn mean_pool_batch(states: &Tensor, attention_mask: &Tensor) -> Result<Tensor> {
    let mask = attention_mask.to_dtype(DType::F32)?.unsqueeze(D::Minus1)?;
    let summed = states.broadcast_mul(&mask)?.sum(1)?;
    let counts = mask.sum(1)?.clamp(1e-9f32, f32::MAX)?;
    let mean = summed.broadcast_div(&counts)?;
    l2_normalize_rows(&mean)
}

/// Rows scaled to unit length; a zero row stays zero.
pub fn l2_normalize_rows(rows: &Tensor) -> Result<Tensor> {
    let norms = rows
        .sqr()?
        .sum_keepdim(D::Minus1)?
        .sqrt()?
        .clamp(1e-12f32, f32::MAX)?;
    Ok(rows.broadcast_div(&norms)?)
}

/// Mean of the selected rows of a row-major `(n, dim)` slice, L2-normalized; `None` when no
/// row is selected.
pub fn mean_pool_rows(
    states: &[f32],
    dim: usize,
    selected: impl Iterator<Item = usize>,
) -> Option<Vec<f32>> {
    let mut sum = vec![0f32; dim];
    let mut count = 0usize;
    for row in selected {
        for (s, x) in sum.iter_mut().zip(&states[row * dim..(row + 1) * dim]) {
            *s += x;
        }
        count += 1;
    }
    if count == 0 {
        return None;
    }
    l2_normalize(&mut sum);
    Some(sum)
}

/// Scales `v` to unit length in place (left as is when it is all zeros).
pub fn l2_normalize(v: &mut [f32]) {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 1e-12 {
        v.iter_mut().for_each(|x| *x /= norm);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    #[test]
    fn padding_is_left_out_of_the_mean() {
        let states = Tensor::new(&[[[1f32, 0.], [3., 0.], [100., 100.]]], &Device::Cpu).unwrap();
        let mask = Tensor::new(&[[1u8, 1, 0]], &Device::Cpu).unwrap();
        let pooled: Vec<Vec<f32>> = mean_pool_batch(&states, &mask).unwrap().to_vec2().unwrap();
        assert_eq!(pooled, vec![vec![1.0, 0.0]]);
    }

    #[test]
    fn selected_rows_are_averaged_and_normalized() {
        let states = [3f32, 0., 0., 4., 9., 9.];
        let v = mean_pool_rows(&states, 2, [0, 1].into_iter()).unwrap();
        assert!(
            (v[0] - 0.6).abs() < 1e-6 && (v[1] - 0.8).abs() < 1e-6,
            "{v:?}"
        );
        assert!(mean_pool_rows(&states, 2, std::iter::empty()).is_none());
    }
}
