//! The candidate's text side: its label, description and types rendered as one short text,
//! encoded once and kept.
//!
//! Encoding is the expensive step of linking, so vectors are computed only for the candidates a
//! corpus actually meets, cached in memory for the run, and saved beside the model so the next
//! run starts warm.

use std::collections::HashMap;
use std::path::Path;
use std::sync::RwLock;

use candle_core::{Device, Tensor};

use crate::encode::Encoder;
use crate::kb::{EntityIdx, Kb};

use super::error::{ModelError, Result};

/// Types named in an entity's text, at most.
const TYPES_IN_TEXT: usize = 3;

/// The text an entity is encoded from: "Paris. capital city of France. city, capital".
pub fn entity_text(kb: &Kb, entity: EntityIdx) -> String {
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
    text
}

/// Encoded entity texts, filled on demand.
#[derive(Debug, Default)]
pub struct EntityTextVectors {
    vectors: RwLock<HashMap<EntityIdx, Vec<f32>>>,
}

impl EntityTextVectors {
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
        let texts: Vec<String> = missing.iter().map(|&e| entity_text(kb, e)).collect();
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

    /// Reads vectors saved by [`EntityTextVectors::save`]; a missing file is an empty cache.
    pub fn load(path: &Path) -> Result<Self> {
        if !path.exists() {
            return Ok(Self::default());
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
        let tmp = path.with_extension("safetensors.partial");
        let _partial = crate::interrupt::Partial::track(&tmp);
        candle_core::safetensors::save(&tensors, &tmp).map_err(|e| ModelError::bad(&tmp, e))?;
        std::fs::rename(&tmp, path).map_err(|e| ModelError::io(path, e))
    }
}
