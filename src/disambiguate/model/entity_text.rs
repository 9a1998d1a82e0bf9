//! The candidate's text side: its label, description, types and, where a model asks for them,
//! a few of its relations rendered as one short text, encoded once and kept.
//!
//! Relations put the KB's neighbourhood where the encoder can match it against the context:
//! "Victoria" in a sentence that also names David is closer to the Victoria whose text says
//! "spouse: David Beckham" than to the queen. They are off by default: on the benchmarks they
//! raised the text-only ablation but lowered the full model, which reads the KB already, and
//! texts twice as long cost twice the encoding.
//!
//! Encoding is the expensive step of linking, so vectors are computed only for the candidates a
//! corpus actually meets, cached in memory for the run, and saved beside the model so the next
//! run starts warm.

use std::collections::HashMap;
use std::path::Path;
use std::sync::RwLock;

use candle_core::{Device, Tensor};

use crate::encode::Encoder;
use crate::kb::{EdgeKind, EntityIdx, Kb};

use super::error::{ModelError, Result};

/// Types named in an entity's text, at most.
const TYPES_IN_TEXT: usize = 3;
/// The text an entity is encoded from, naming at most `relations` relations:
/// "Paris. capital city of France. city, capital. country: France; twinned city: Rome".
pub fn entity_text(kb: &Kb, entity: EntityIdx, relations: usize) -> String {
    let e = kb.entity(entity);
    let mut text = kb.display_name(entity).to_string();
    if let Some(d) = &e.description {
        text.push_str(". ");
        text.push_str(d);
    }
    let types: Vec<&str> = kb
        .types_of(entity)
        .filter(|&t| kb.entity(t).label.is_some())
        .take(TYPES_IN_TEXT)
        .map(|t| kb.display_name(t))
        .collect();
    if !types.is_empty() {
        text.push_str(". ");
        text.push_str(&types.join(", "));
    }
    let relations = relation_phrases(kb, entity, relations);
    if !relations.is_empty() {
        text.push_str(". ");
        text.push_str(&relations.join("; "));
    }
    text
}

/// "spouse: David Beckham" for a triple from the entity, "father of: Brooklyn Beckham" for one
/// into it: the first neighbour of each relation, the entity's own statements first, neighbours
/// without a label skipped.
fn relation_phrases(kb: &Kb, entity: EntityIdx, at_most: usize) -> Vec<String> {
    if at_most == 0 {
        return Vec::new();
    }
    let mut neighbours = kb.graph().neighbours(entity);
    // outgoing first, each direction in the KB's triple order
    neighbours.sort_by_key(|n| !n.outgoing);
    let mut seen = Vec::new();
    let mut phrases = Vec::new();
    for n in neighbours {
        let EdgeKind::Relation(r) = n.kind else {
            continue;
        };
        let (Some(relation), Some(name)) = (
            kb.relations[r as usize].label.as_deref(),
            kb.entity(n.entity).label.as_deref(),
        ) else {
            continue;
        };
        if n.entity == entity || seen.contains(&(r, n.outgoing)) {
            continue;
        }
        seen.push((r, n.outgoing));
        let of = if n.outgoing { "" } else { " of" };
        phrases.push(format!("{relation}{of}: {name}"));
        if phrases.len() == at_most {
            break;
        }
    }
    phrases
}

/// Encoded entity texts, filled on demand, all rendered naming the same number of relations.
#[derive(Debug, Default)]
pub struct EntityTextVectors {
    vectors: RwLock<HashMap<EntityIdx, Vec<f32>>>,
    relations: usize,
}

impl EntityTextVectors {
    /// An empty set whose texts name at most `relations` relations.
    pub fn new(relations: usize) -> Self {
        EntityTextVectors {
            vectors: RwLock::default(),
            relations,
        }
    }

    /// Relations each text names at most.
    pub fn relations(&self) -> usize {
        self.relations
    }

    /// Encodes the entities of `wanted` that have no vector yet.
    pub fn ensure(&self, kb: &Kb, encoder: &Encoder, wanted: &[EntityIdx]) -> Result<usize> {
        let missing: Vec<EntityIdx> = {
            let have = self.vectors.read().expect("not poisoned");
            let mut m: Vec<EntityIdx> = wanted
                .iter()
                .copied()
                .filter(|e| !have.contains_key(e))
                .collect();
            m.sort_unstable();
            m.dedup();
            m
        };
        if missing.is_empty() {
            return Ok(0);
        }
        let texts: Vec<String> = missing
            .iter()
            .map(|&e| entity_text(kb, e, self.relations))
            .collect();
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        let encoded = encoder.encode(&refs)?;
        let mut have = self.vectors.write().expect("not poisoned");
        for (e, v) in missing.iter().zip(encoded) {
            have.insert(*e, v);
        }
        Ok(missing.len())
    }

    /// The vector of an entity already ensured.
    pub fn get(&self, entity: EntityIdx) -> Option<Vec<f32>> {
        self.vectors
            .read()
            .expect("not poisoned")
            .get(&entity)
            .cloned()
    }

    /// Copies the vectors of `entities` (in order) into one row-major buffer; an entity without
    /// a vector gets zeros.
    pub fn gather(&self, entities: &[EntityIdx], dim: usize, out: &mut Vec<f32>) {
        let have = self.vectors.read().expect("not poisoned");
        for e in entities {
            match have.get(e) {
                Some(v) => out.extend_from_slice(v),
                None => out.extend(std::iter::repeat_n(0.0, dim)),
            }
        }
    }

    pub fn len(&self) -> usize {
        self.vectors.read().expect("not poisoned").len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Reads vectors saved by [`EntityTextVectors::save`] for texts naming `relations`
    /// relations; a missing file is an empty cache.
    pub fn load(path: &Path, relations: usize) -> Result<Self> {
        if !path.exists() {
            return Ok(Self::new(relations));
        }
        let tensors = candle_core::safetensors::load(path, &Device::Cpu)
            .map_err(|e| ModelError::bad(path, e))?;
        let (Some(ids), Some(vectors)) = (tensors.get("entities"), tensors.get("vectors")) else {
            return Err(ModelError::bad(
                path,
                "expected tensors `entities` and `vectors`",
            ));
        };
        let ids: Vec<u32> = ids.to_vec1().map_err(|e| ModelError::bad(path, e))?;
        let rows: Vec<Vec<f32>> = vectors.to_vec2().map_err(|e| ModelError::bad(path, e))?;
        if ids.len() != rows.len() {
            return Err(ModelError::bad(path, "entity and vector counts differ"));
        }
        Ok(EntityTextVectors {
            vectors: RwLock::new(ids.into_iter().zip(rows).collect()),
            relations,
        })
    }

    /// Saves every vector, written aside and renamed into place.
    pub fn save(&self, path: &Path, dim: usize) -> Result<()> {
        let have = self.vectors.read().expect("not poisoned");
        let mut ids: Vec<u32> = have.keys().copied().collect();
        ids.sort_unstable();
        let mut flat = Vec::with_capacity(ids.len() * dim);
        for id in &ids {
            flat.extend_from_slice(&have[id]);
        }
        let n = ids.len();
        let tensors = HashMap::from([
            (
                "entities".to_string(),
                Tensor::from_vec(ids, n, &Device::Cpu)?,
            ),
            (
                "vectors".to_string(),
                Tensor::from_vec(flat, (n, dim), &Device::Cpu)?,
            ),
        ]);
        let (aside, _partial) = crate::persist::aside(path, ".entity-text.partial-")
            .map_err(|e| ModelError::io(path, e))?;
        let aside = aside.into_temp_path();
        candle_core::safetensors::save(&tensors, &aside).map_err(|e| ModelError::bad(path, e))?;
        crate::persist::persist_written(aside, path).map_err(|e| ModelError::io(path, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kb::{KbBuilder, Manifest};

    #[test]
    fn the_text_names_a_few_relations_each_way() {
        let mut b = KbBuilder::new();
        b.label("Q1", "Victoria Beckham");
        b.description("Q1", "English singer");
        b.label("Q2", "David Beckham");
        b.label("Q3", "Brooklyn Beckham");
        b.label("Q4", "Spice Girls");
        b.label("Q5", "Harper Beckham");
        b.relation_label("P26", "spouse");
        b.relation_label("P25", "mother");
        b.relation_label("P463", "member of");
        b.triple("Q1", "P26", "Q2");
        b.triple("Q1", "P463", "Q4");
        b.triple("Q3", "P25", "Q1");
        b.triple("Q5", "P25", "Q1");
        b.triple("Q1", "P463", "Q99");
        let kb = b.finish(Manifest::default());
        let victoria = kb.entity_idx("Q1").unwrap();
        assert_eq!(
            entity_text(&kb, victoria, 0),
            "Victoria Beckham. English singer",
            "no relations unless asked"
        );
        let text = entity_text(&kb, victoria, 6);
        assert!(
            text.starts_with("Victoria Beckham. English singer. "),
            "{text}"
        );
        let relations = text.rsplit(". ").next().unwrap();
        let mut got: Vec<&str> = relations.split("; ").collect();
        got.sort_unstable();
        assert_eq!(
            got.len(),
            3,
            "one neighbour per relation and direction, unlabelled ones skipped: {text}"
        );
        assert!(got.contains(&"spouse: David Beckham"), "{text}");
        assert!(got.contains(&"member of: Spice Girls"), "{text}");
        assert!(
            got.iter().any(|p| p.starts_with("mother of: ")),
            "a triple into the entity reads backwards: {text}"
        );
    }
}
