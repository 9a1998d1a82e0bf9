//! The store's manifest: what a KB directory holds and where it came from, so later stages can
//! check compatibility and the pipeline can tell whether a rebuild is needed.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::model::KbCounts;

/// Bumped whenever the table layout changes; loading refuses other versions.
pub const FORMAT_VERSION: u32 = 1;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub format_version: u32,
    /// The tailor version that wrote the store.
    pub tailor_version: String,
    pub counts: KbCounts,
    pub sources: Vec<SourceRecord>,
    /// Records skipped on purpose, by reason (for example a Wikidata "novalue" claim).
    pub skipped: BTreeMap<String, u64>,
    /// Malformed records skipped under `--max-errors`.
    pub rejected: u64,
}

impl Manifest {
    /// The hash that identifies a KB store's content: what a model records of the KB it was
    /// trained on, and a link run of the KB it linked with.
    pub fn sha256(&self) -> String {
        use sha2::Digest;
        let bytes = serde_json::to_vec(self).expect("manifest serializes");
        hex::encode(sha2::Sha256::digest(&bytes))
    }
}

/// One input file and its checksum.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceRecord {
    pub kind: String,
    pub path: String,
    pub bytes: u64,
    pub sha256: String,
}
