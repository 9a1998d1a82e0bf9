//! Batching by length: texts of similar token counts go together so little compute is spent
//! on padding, and each batch is padded only to its own longest text.
//!
//! In: tokenized texts. Out: batches of input tensors plus the original index of each row, so
//! results can be put back in input order.

use candle_core::{Device, Tensor};

use super::error::Result;
use super::tokenize::Tokens;

/// The model inputs of one batch, rows padded to the batch's longest text.
pub struct Batch {
    /// Input positions of the rows, in row order.
    pub rows: Vec<usize>,
    /// `(rows, len)` u32 token ids.
    pub input_ids: Tensor,
    /// `(rows, len)` zeros: single-segment inputs.
    pub token_type_ids: Tensor,
    /// `(rows, len)` u8 ones over real tokens, zeros over padding.
    pub attention_mask: Tensor,
    /// Real tokens in the batch (padding excluded).
    pub tokens: usize,
    /// The padded length every row has.
    pub width: usize,
}

/// Groups `tokens` into batches of at most `batch_size` rows, longest texts first.
pub fn batches(
    tokens: &[Tokens],
    batch_size: usize,
    pad_id: u32,
    device: &Device,
) -> Result<Vec<Batch>> {
    let mut order: Vec<usize> = (0..tokens.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(tokens[i].len()));
    let mut groups: Vec<&[usize]> = Vec::new();
    let mut start = 0;
    for end in 1..=order.len() {
        let full = end - start == batch_size.max(1);
        let ragged =
            end < order.len() && too_short(tokens[order[end]].len(), tokens[order[start]].len());
        if end == order.len() || full || ragged {
            groups.push(&order[start..end]);
            start = end;
        }
    }
    groups
        .into_iter()
        .map(|rows| build(tokens, rows, pad_id, device))
        .collect()
}

/// Whether a text of `len` tokens would waste too much of a batch padded to `width`: a batch
/// costs its rows times its width, so rows much shorter than the first are better off in a
/// batch of their own (a document's sentences vary from a few tokens to the cap).
fn too_short(len: usize, width: usize) -> bool {
    4 * len < 3 * width && width > MIN_SPLIT_WIDTH
}

/// Below this width padding costs too little to be worth another pass.
const MIN_SPLIT_WIDTH: usize = 16;

fn build(tokens: &[Tokens], rows: &[usize], pad_id: u32, device: &Device) -> Result<Batch> {
    let width = rows.iter().map(|&i| tokens[i].len()).max().unwrap_or(0);
    let mut ids = Vec::with_capacity(rows.len() * width);
    let mut mask = Vec::with_capacity(rows.len() * width);
    for &i in rows {
        let t = &tokens[i];
        ids.extend_from_slice(&t.ids);
        ids.extend(std::iter::repeat_n(pad_id, width - t.len()));
        mask.extend(std::iter::repeat_n(1u8, t.len()));
        mask.extend(std::iter::repeat_n(0u8, width - t.len()));
    }
    let shape = (rows.len(), width);
    Ok(Batch {
        rows: rows.to_vec(),
        input_ids: Tensor::from_vec(ids, shape, device)?,
        token_type_ids: Tensor::zeros(shape, candle_core::DType::U32, device)?,
        attention_mask: Tensor::from_vec(mask, shape, device)?,
        tokens: rows.iter().map(|&i| tokens[i].len()).sum(),
        width,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(n: usize) -> Tokens {
        Tokens {
            ids: vec![7; n],
            offsets: vec![(0, 0); n],
            special: vec![false; n],
        }
    }

    #[test]
    fn batches_are_sorted_by_length_and_padded_to_their_longest() {
        let tokens = vec![toks(2), toks(9), toks(3), toks(8), toks(1)];
        let batches = batches(&tokens, 2, 0, &Device::Cpu).unwrap();
        let rows: Vec<_> = batches.iter().map(|b| b.rows.clone()).collect();
        assert_eq!(rows, vec![vec![1, 3], vec![2, 0], vec![4]]);
        assert_eq!(batches[1].input_ids.dims(), &[2, 3]);
        let mask: Vec<Vec<u8>> = batches[1].attention_mask.to_vec2().unwrap();
        assert_eq!(mask, vec![vec![1, 1, 1], vec![1, 1, 0]]);
        assert_eq!((batches[1].tokens, batches[1].width), (5, 3));
        let ids: Vec<Vec<u32>> = batches[1].input_ids.to_vec2().unwrap();
        assert_eq!(ids[1], vec![7, 7, 0]);
    }

    #[test]
    fn rows_much_shorter_than_their_batch_start_a_new_one() {
        let tokens = vec![toks(100), toks(90), toks(40), toks(30), toks(76), toks(10)];
        let batches = batches(&tokens, 16, 0, &Device::Cpu).unwrap();
        let rows: Vec<_> = batches.iter().map(|b| b.rows.clone()).collect();
        // 100, 90, 76 share a pass (76 is at least 3/4 of 100); 40 starts one, 30 joins it
        // (exactly 3/4); 10 is under 3/4 of 40 and starts its own.
        assert_eq!(rows, vec![vec![0, 1, 4], vec![2, 3], vec![5]]);
        let padded: usize = batches.iter().map(|b| b.rows.len() * b.width).sum();
        assert_eq!(padded, 3 * 100 + 2 * 40 + 10);
    }
}
