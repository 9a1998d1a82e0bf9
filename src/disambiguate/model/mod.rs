//! The disambiguation model: a contextual text encoder fused with the KB's structure.
//!
//! In: a mention in its sentence with retrieval's candidates. Out: a score per candidate and for
//! NIL. The encoder (frozen) reads the sentence once for all its mentions; each candidate brings
//! its text vector (label, description, types), its KG vector (TransE and hyperbolic entity and
//! type embeddings) and its retrieval evidence (prior, alias similarity) and KG coherence with
//! the other mentions; a small fusion network ([`FusionNet`]) trained with a contrastive loss
//! over the candidate sets of weakly labelled mentions ([`fit`]) combines them. [`ModelScorer`]
//! puts it behind the same [`Scorer`](crate::disambiguate::Scorer) seam as the prior, and
//! [`Signals`] switches evidence off for the ablations.

mod batch;
mod coherence;
mod entity_text;
mod error;
mod featurize;
mod fit;
mod kg_vectors;
mod net;
mod preflight;
mod scorer;
mod signals;
mod store;
mod train;

pub use batch::{BatchInputs, CandidateFeatures, MentionFeatures};
pub use coherence::fill_coherence;
pub use entity_text::{entity_text, EntityTextVectors};
pub use error::{ModelError, Result};
pub use fit::{fit, staging_dir, FitPlan, FitReport, LabelledSentence, LabelledSpan};
pub use kg_vectors::KgVectors;
pub use net::{FusionNet, NetShape};
pub use preflight::{check_checkpoint, refuse_resuming_nothing};
pub use scorer::{sentence_spans, ContextTotals, ModelScorer, SharedInputs, DEFAULT_NIL_THRESHOLD};
pub use signals::Signals;
pub use store::{ablations, read_counts, ModelConfig, COUNTS_FILE, ENTITY_TEXT_FILE, MODEL_DIR};
pub use train::{EpochRecord, HoldoutAccuracy, TrainOptions, TrainingMention};
