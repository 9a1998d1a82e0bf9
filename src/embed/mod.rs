//! KG embeddings: TransE and a hyperbolic (Poincaré ball) model trained on the KB's triples,
//! with the KB's types embedded in the same space.
//!
//! In: a KB store ([`TripleData::from_kb`]: triples, plus `entity → type` as the relation
//! [`INSTANCE_OF`] and the type hierarchy as [`SUBCLASS_OF`]) or plain triple split files.
//! Out: an embeddings directory (entity, relation and type tables as safetensors with their id
//! lists, and a manifest), read back with [`Embeddings::load`]. Why: structure reaches rare
//! entities that text alone cannot, so the disambiguation model reads these vectors.
//!
//! ```no_run
//! use tailor::embed::{Embeddings, ModelKind};
//! let emb = Embeddings::load("out/default-hyperbolic".as_ref())?;
//! assert_eq!(emb.kind(), ModelKind::Hyperbolic);
//! let ball_point = emb.entity("Q31").unwrap(); // in the Poincaré ball
//! let features = emb.entity_tangent("Q31").unwrap(); // Euclidean: feed this to linear layers
//! assert_eq!(features.len(), emb.dim());
//! let human = emb.type_tangent("Q5");
//! # Ok::<(), tailor::embed::EmbedError>(())
//! ```
//!
//! Training ([`Trainer`]) holds the tables and their Adagrad state and nothing else of entity
//! size: a batch gathers its rows, computes the gradient (by hand on the CPU, by candle autograd
//! for the hyperbolic model on another device) and scatters sparse updates. [`evaluate`] gives filtered MRR and
//! Hits@k over both directions with realistic tie ranks.
//!
//! # Scaling to 100 million entities
//! At dim 32 an entity table of 10^8 rows is 12.8 GB, and Adagrad doubles it. The design scales
//! the way PyTorch-BigGraph does: split entities into P partitions by id hash, and triples into
//! P × P buckets by (head partition, tail partition). Train one bucket at a time with only its
//! two entity partitions (and their optimizer state) in memory, drawing negatives from those
//! partitions; relation tables stay resident. Everything here already works on a set of rows
//! addressed by slot, so a partition is a [`Table`] with an offset, and the checkpoint format
//! becomes one safetensors file per partition. Evaluation ranks in entity chunks, as it does
//! now per row, so it streams partitions too.

mod checkpoint;
mod data;
mod error;
mod eval;
mod hyper_grad;
mod loss;
mod model;
mod optim;
mod sample;
mod step;
mod store;
mod tensors;
mod train;

pub use data::{read_known, InputRecord, Row, TripleData, INSTANCE_OF, SUBCLASS_OF};
pub use error::{EmbedError, Result};
pub use eval::{evaluate, filter_from, realistic_rank, Filter, Metrics};
pub use loss::{Loss, LossKind};
pub use model::{logmap0, ModelKind, ModelView, Norm};
pub use optim::Table;
pub use sample::Corruption;
pub use store::{save, update_manifest, EmbedManifest, Embeddings, EMBEDDINGS_DIR};
pub use train::{checkpoint_path, EpochRecord, Params, TrainConfig, TrainState, Trainer};

#[cfg(test)]
mod tests;
