//! The KG side of an entity as one Euclidean vector: its TransE and hyperbolic embeddings and the
//! mean embedding of its types, each block scaled to unit length.
//!
//! Blocks are normalized because the two embedding spaces have unrelated scales (a TransE norm
//! and a tangent vector of the Poincaré ball); the fusion layers then learn how much each block
//! says. An entity missing from an embedding table gets zeros in that block and `has` false.

use std::path::Path;

use crate::embed::Embeddings;
use crate::kb::{EntityIdx, Kb};

use super::error::{ModelError, Result};
use super::store::kb_manifest_file_sha256;

/// Refuses an embeddings table (read from `dir`) trained on another KB than `kb`, the model's
/// KB identified by `model_kb` (its [`super::store::kb_manifest_sha256`]): its rows would give
/// the KB's entities other vectors, or none, and every score would change without a word.
pub fn check_same_kb(table: &Embeddings, dir: &Path, kb: &Kb, model_kb: &str) -> Result<()> {
    let m = &table.manifest;
    let kb_file = kb_manifest_file_sha256(kb);
    let model = format!(
        "the model's KB {} (manifest.json sha256 {}, {} entities)",
        short(model_kb),
        short(&kb_file),
        kb.entities.len()
    );
    let from_kb = m
        .inputs
        .iter()
        .find(|i| Path::new(&i.path).file_name() == Some("manifest.json".as_ref()));
    if let Some(input) = from_kb {
        if input.sha256 == kb_file && m.entities == kb.entities.len() {
            return Ok(());
        }
        return Err(ModelError::bad(
            dir,
            format!(
                "these embeddings were trained on another KB, {} (manifest.json sha256 {}, {} \
                 entities), than {model}: train them on the model's KB (`tailor embed --kb`)",
                input.path,
                short(&input.sha256),
                m.entities
            ),
        ));
    }
    // Trained from triple files: the KB they were cut from is not recorded, so only that every
    // entity they embed is one of this KB's can be checked.
    let mut foreign = table
        .entity_ids()
        .iter()
        .filter(|id| kb.entity_idx(id).is_none());
    let Some(first) = foreign.next() else {
        return Ok(());
    };
    let files: Vec<&str> = m.inputs.iter().map(|i| i.path.as_str()).collect();
    Err(ModelError::bad(
        dir,
        format!(
            "these embeddings were trained on triple files ({}) naming {} of their {} entities \
             that {model} does not have (such as {first}): they are another KB's",
            files.join(", "),
            foreign.count() + 1,
            m.entities
        ),
    ))
}

fn short(sha: &str) -> &str {
    &sha[..sha.len().min(12)]
}

/// Per-entity KG vectors for every entity of a KB, in entity order.
#[derive(Debug, Clone)]
pub struct KgVectors {
    dim: usize,
    rows: Vec<f32>,
    present: Vec<bool>,
}

impl KgVectors {
    /// Builds the vectors from whichever embeddings are given; with none, every vector is empty
    /// (dimension 0) and the model reads no KG embedding.
    pub fn build(kb: &Kb, tables: &[&Embeddings]) -> Self {
        let dim: usize = tables.iter().map(|t| 2 * t.dim()).sum();
        let n = kb.entities.len();
        let mut rows = vec![0f32; n * dim];
        let mut present = vec![false; n];
        for (e, entity) in kb.entities.iter().enumerate() {
            let row = &mut rows[e * dim..(e + 1) * dim];
            let mut at = 0;
            for table in tables {
                let d = table.dim();
                if let Some(v) = table.entity_tangent(&entity.id) {
                    put_unit(&mut row[at..at + d], v);
                    present[e] = true;
                }
                let mut mean = vec![0f32; d];
                let mut types = 0;
                for t in kb.types_of(e as EntityIdx) {
                    let id = &kb.entity(t).id;
                    if let Some(v) = table.type_tangent(id).or_else(|| table.entity_tangent(id)) {
                        mean.iter_mut().zip(v).for_each(|(m, x)| *m += x);
                        types += 1;
                    }
                }
                if types > 0 {
                    put_unit(&mut row[at + d..at + 2 * d], &mean);
                }
                at += 2 * d;
            }
        }
        KgVectors { dim, rows, present }
    }

    /// Length of every vector.
    pub fn dim(&self) -> usize {
        self.dim
    }

    pub fn row(&self, entity: EntityIdx) -> &[f32] {
        let e = entity as usize;
        &self.rows[e * self.dim..(e + 1) * self.dim]
    }

    /// True when some embedding table knows the entity.
    pub fn has(&self, entity: EntityIdx) -> bool {
        self.present.get(entity as usize).copied().unwrap_or(false)
    }
}

fn put_unit(out: &mut [f32], v: &[f32]) {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        out.iter_mut().zip(v).for_each(|(o, x)| *o = x / norm);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_are_unit_length() {
        let mut out = [0f32; 2];
        put_unit(&mut out, &[3.0, 4.0]);
        assert_eq!(out, [0.6, 0.8]);
        let mut zero = [1f32; 2];
        put_unit(&mut zero, &[0.0, 0.0]);
        assert_eq!(zero, [1.0, 1.0], "a zero vector leaves the block as it was");
    }
}
