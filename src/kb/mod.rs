//! The knowledge base: ingestion of real KB formats into one merged graph store.
//!
//! In: Wikidata JSON dumps, entity-profile JSONL, triple and fact tables, JSON maps.
//! Out: a [`Kb`] held in memory with a petgraph view ([`KbGraph`]), persisted as a directory of
//! Parquet tables plus a manifest ([`store`]). Every later stage reads the KB through the public
//! types here.

mod adjacency;
mod budget;
mod builder;
mod error;
mod graph;
mod ingest;
mod input;
mod manifest;
mod model;
mod profiles;
pub mod sources;
pub mod store;
mod tables;
mod wikidata;

pub use adjacency::RelationAdjacency;
pub use builder::KbBuilder;
pub use error::{KbError, RecordAt, Result};
pub use graph::{EdgeKind, KbGraph, Neighbour};
pub use ingest::{ingest, sha256_file, IngestOptions};
pub use input::{file_progress, open_source, Lines};
pub use manifest::{Manifest, SourceRecord, FORMAT_VERSION};
pub use model::{Alias, Entity, EntityIdx, Kb, KbCounts, Relation, RelationIdx, Triple};
pub use sources::SourceSpec;
pub use store::{load, save};
pub use wikidata::{parse_entity, ParsedEntity};
