//! Tokenization: text in, word-piece ids and per-token character offsets out.
//!
//! The `tokenizer.json` of sentence-transformers exports pads and truncates every input to a
//! fixed length, which would make a one-word text cost as much as a long one. Here padding is
//! switched off (the batcher pads each batch to its own longest text) and truncation is set to
//! the encoder's maximum length. Offsets are in Unicode code points, the unit mention spans use.

use std::path::Path;

use tokenizers::{Tokenizer, TruncationDirection, TruncationParams, TruncationStrategy};

use super::error::{EncodeError, Result};

/// One tokenized text, truncated to the maximum length, special tokens included.
#[derive(Debug, Clone)]
pub struct Tokens {
    pub ids: Vec<u32>,
    /// Character (code point) span of each token in the text; `(0, 0)` for special tokens.
    pub offsets: Vec<(usize, usize)>,
    /// True for `[CLS]`, `[SEP]` and other tokens added by the tokenizer.
    pub special: Vec<bool>,
}

impl Tokens {
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }
}

/// A tokenizer set up for batched encoding at a given maximum length.
pub struct TextTokenizer {
    inner: Tokenizer,
    pad_id: u32,
}

impl TextTokenizer {
    /// Loads `tokenizer.json` and sets truncation to `max_len` tokens, no padding.
    pub fn load(path: &Path, max_len: usize) -> Result<Self> {
        let mut inner = Tokenizer::from_file(path).map_err(|e| EncodeError::bad(path, e))?;
        let pad_id = inner.get_padding().map(|p| p.pad_id).unwrap_or(0);
        inner.with_padding(None);
        inner
            .with_truncation(Some(TruncationParams {
                max_length: max_len,
                strategy: TruncationStrategy::LongestFirst,
                stride: 0,
                direction: TruncationDirection::Right,
            }))
            .map_err(|e| EncodeError::bad(path, e))?;
        Ok(TextTokenizer { inner, pad_id })
    }

    /// The id that fills padded positions (masked out, so its value only matters for parity).
    pub fn pad_id(&self) -> u32 {
        self.pad_id
    }

    pub fn tokenize(&self, texts: &[&str]) -> Result<Vec<Tokens>> {
        let encodings = self
            .inner
            .encode_batch_char_offsets(texts.to_vec(), true)
            .map_err(|e| EncodeError::Tokenize(e.to_string()))?;
        Ok(encodings
            .into_iter()
            .map(|e| Tokens {
                ids: e.get_ids().to_vec(),
                offsets: e.get_offsets().to_vec(),
                special: e
                    .get_special_tokens_mask()
                    .iter()
                    .map(|&m| m == 1)
                    .collect(),
            })
            .collect())
    }
}
