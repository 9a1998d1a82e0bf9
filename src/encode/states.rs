//! The token states of one encoded text and the pooling of mentions from them.
//!
//! The linker encodes a sentence once and reads every mention in it from these states: a
//! mention's vector is the mean of the tokens that overlap its character span, the sentence
//! vector the mean of all tokens (as in [`super::Encoder::encode`]).

use super::error::{EncodeError, Result};
use super::pooling::mean_pool_rows;

/// The vectors of one text and of the mentions in it, all unit length.
#[derive(Debug, Clone, PartialEq)]
pub struct MentionVectors {
    pub sentence: Vec<f32>,
    /// One per requested span, in request order; `None` for a span past the truncation point.
    pub mentions: Vec<Option<Vec<f32>>>,
}

/// Final-layer states of one text's tokens (special tokens included, no padding).
#[derive(Debug, Clone)]
pub struct TokenStates {
    /// Row-major `(tokens, dim)`.
    pub states: Vec<f32>,
    pub dim: usize,
    /// Character (code point) span of each token; `(0, 0)` for special tokens.
    pub offsets: Vec<(usize, usize)>,
    pub special: Vec<bool>,
    /// Length of the text in characters, to tell a bad span from a truncated one.
    pub text_chars: usize,
}

impl TokenStates {
    pub fn new(
        states: Vec<f32>,
        dim: usize,
        offsets: Vec<(usize, usize)>,
        special: Vec<bool>,
        text_chars: usize,
    ) -> Self {
        debug_assert_eq!(states.len(), offsets.len() * dim);
        TokenStates {
            states,
            dim,
            offsets,
            special,
            text_chars,
        }
    }

    pub fn len(&self) -> usize {
        self.offsets.len()
    }

    pub fn is_empty(&self) -> bool {
        self.offsets.is_empty()
    }

    /// The unit-length mean of all token states: the sentence-transformers sentence vector.
    pub fn sentence_vector(&self) -> Vec<f32> {
        mean_pool_rows(&self.states, self.dim, 0..self.len()).unwrap_or_else(|| vec![0.; self.dim])
    }

    /// The unit-length mean of the tokens overlapping characters `start..end`. `None` when the
    /// span lies past the truncation point (or covers only whitespace), so no token saw it;
    /// an error when the span is not inside the text at all.
    pub fn span_vector(&self, start: usize, end: usize) -> Result<Option<Vec<f32>>> {
        if start >= end || end > self.text_chars {
            return Err(EncodeError::BadSpan {
                start,
                end,
                len: self.text_chars,
            });
        }
        let inside = (0..self.len())
            .filter(|&i| !self.special[i] && self.offsets[i].0 < end && self.offsets[i].1 > start);
        Ok(mean_pool_rows(&self.states, self.dim, inside))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// "[CLS] New York is [SEP]" with 2-dimensional states.
    fn sample() -> TokenStates {
        TokenStates::new(
            vec![9., 9., 1., 0., 0., 1., 5., 5., 9., 9.],
            2,
            vec![(0, 0), (0, 3), (4, 8), (9, 11), (0, 0)],
            vec![true, false, false, false, true],
            11,
        )
    }

    #[test]
    fn a_mention_pools_the_tokens_it_overlaps() {
        let v = sample().span_vector(0, 8).unwrap().unwrap();
        let h = std::f32::consts::FRAC_1_SQRT_2;
        assert!((v[0] - h).abs() < 1e-6 && (v[1] - h).abs() < 1e-6, "{v:?}");
    }

    #[test]
    fn spans_outside_the_text_are_errors() {
        assert!(sample().span_vector(5, 12).is_err());
        assert!(sample().span_vector(3, 3).is_err());
    }

    #[test]
    fn a_span_no_token_covers_has_no_vector() {
        let states = TokenStates::new(vec![1., 0.], 2, vec![(0, 2)], vec![false], 20);
        assert_eq!(states.span_vector(10, 15).unwrap(), None);
    }
}
