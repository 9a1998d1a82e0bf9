//! The in-memory KB: entities with their labels, aliases, descriptions and degree, the type
//! assignments and hierarchy, relations and triples. Entities, types and relation objects share
//! one id space, as in Wikidata: a type is an entity that others are instances of.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use super::adjacency::RelationAdjacency;
use super::error::{KbError, Result};
use super::graph::KbGraph;
use super::manifest::Manifest;

/// Dense index of an entity: its row in the entities table.
pub type EntityIdx = u32;
/// Dense index of a relation: its row in the relations table.
pub type RelationIdx = u32;

#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Entity {
    /// The source's identifier, a Wikidata QID for the default KB.
    pub id: String,
    /// English label, if any source gave one.
    pub label: Option<String>,
    pub description: Option<String>,
    /// Wikipedia article URL or title.
    pub wikipedia: Option<String>,
    /// Number of triples the entity takes part in, as head or tail: the first popularity signal.
    pub degree: u32,
}

/// An alternative name of an entity, with the source's score where it gave one.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Alias {
    pub entity: EntityIdx,
    pub text: String,
    pub score: Option<f32>,
}

#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Relation {
    pub id: String,
    pub label: Option<String>,
    pub description: Option<String>,
    pub aliases: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub struct Triple {
    pub head: EntityIdx,
    pub relation: RelationIdx,
    pub tail: EntityIdx,
}

/// A whole KB, as built by ingestion or loaded from a store.
#[derive(Debug, Default)]
pub struct Kb {
    pub entities: Vec<Entity>,
    /// Sorted by entity, then in source order.
    pub aliases: Vec<Alias>,
    /// `(entity, type)` pairs: the entity is an instance of the type (Wikidata P31).
    pub entity_types: Vec<(EntityIdx, EntityIdx)>,
    /// `(type, parent)` pairs: the type is a subclass of the parent (Wikidata P279).
    pub type_parents: Vec<(EntityIdx, EntityIdx)>,
    pub relations: Vec<Relation>,
    pub triples: Vec<Triple>,
    pub manifest: Manifest,
    entity_index: HashMap<String, EntityIdx>,
    relation_index: HashMap<String, RelationIdx>,
    graph: OnceLock<KbGraph>,
    adjacency: OnceLock<Arc<RelationAdjacency>>,
}

impl Kb {
    /// Assembles a KB from its tables and builds the id indexes.
    pub fn from_parts(
        entities: Vec<Entity>,
        aliases: Vec<Alias>,
        entity_types: Vec<(EntityIdx, EntityIdx)>,
        type_parents: Vec<(EntityIdx, EntityIdx)>,
        relations: Vec<Relation>,
        triples: Vec<Triple>,
        manifest: Manifest,
    ) -> Self {
        let entity_index = entities
            .iter()
            .enumerate()
            .map(|(i, e)| (e.id.clone(), i as EntityIdx))
            .collect();
        let relation_index = relations
            .iter()
            .enumerate()
            .map(|(i, r)| (r.id.clone(), i as RelationIdx))
            .collect();
        Kb {
            entities,
            aliases,
            entity_types,
            type_parents,
            relations,
            triples,
            manifest,
            entity_index,
            relation_index,
            graph: OnceLock::new(),
            adjacency: OnceLock::new(),
        }
    }

    pub fn entity_idx(&self, id: &str) -> Option<EntityIdx> {
        self.entity_index.get(id).copied()
    }

    pub fn relation_idx(&self, id: &str) -> Option<RelationIdx> {
        self.relation_index.get(id).copied()
    }

    pub fn entity(&self, idx: EntityIdx) -> &Entity {
        &self.entities[idx as usize]
    }

    pub fn relation(&self, idx: RelationIdx) -> &Relation {
        &self.relations[idx as usize]
    }

    /// A display name: the label, else the id.
    pub fn display_name(&self, idx: EntityIdx) -> &str {
        let e = self.entity(idx);
        e.label.as_deref().unwrap_or(&e.id)
    }

    /// Finds an entity by id, else by exact label, else by exact alias (case-insensitive for
    /// names), preferring the entity of highest degree among several with that name.
    pub fn resolve(&self, id_or_name: &str) -> Result<EntityIdx> {
        if let Some(idx) = self.entity_idx(id_or_name) {
            return Ok(idx);
        }
        let wanted = id_or_name.to_lowercase();
        let by_label = self
            .entities
            .iter()
            .enumerate()
            .filter(|(_, e)| e.label.as_deref().map(str::to_lowercase).as_deref() == Some(&wanted))
            .map(|(i, _)| i as EntityIdx);
        let best = by_label.max_by_key(|&i| self.entity(i).degree).or_else(|| {
            self.aliases
                .iter()
                .filter(|a| a.text.to_lowercase() == wanted)
                .map(|a| a.entity)
                .max_by_key(|&i| self.entity(i).degree)
        });
        best.ok_or_else(|| KbError::UnknownEntity(id_or_name.to_string()))
    }

    /// Aliases of one entity, relying on the table being sorted by entity.
    pub fn aliases_of(&self, idx: EntityIdx) -> &[Alias] {
        let start = self.aliases.partition_point(|a| a.entity < idx);
        let end = self.aliases.partition_point(|a| a.entity <= idx);
        &self.aliases[start..end]
    }

    /// Types the entity is an instance of, relying on the table being sorted by entity.
    pub fn types_of(&self, idx: EntityIdx) -> impl Iterator<Item = EntityIdx> + '_ {
        let start = self.entity_types.partition_point(|p| p.0 < idx);
        let end = self.entity_types.partition_point(|p| p.0 <= idx);
        self.entity_types[start..end].iter().map(|p| p.1)
    }

    /// The typed graph over entities, built on first use.
    pub fn graph(&self) -> &KbGraph {
        self.graph.get_or_init(|| KbGraph::build(self))
    }

    /// Relation neighbours as sorted lists, built on first use; shared (`Arc`) so a retriever
    /// can keep them without borrowing the KB.
    pub fn adjacency(&self) -> &Arc<RelationAdjacency> {
        self.adjacency
            .get_or_init(|| Arc::new(RelationAdjacency::build(self)))
    }

    pub fn counts(&self) -> KbCounts {
        KbCounts {
            entities: self.entities.len() as u64,
            entities_with_label: self.entities.iter().filter(|e| e.label.is_some()).count() as u64,
            entities_with_description: self
                .entities
                .iter()
                .filter(|e| e.description.is_some())
                .count() as u64,
            entities_with_aliases: {
                let mut n = 0u64;
                let mut last = None;
                for a in &self.aliases {
                    if last != Some(a.entity) {
                        n += 1;
                        last = Some(a.entity);
                    }
                }
                n
            },
            aliases: self.aliases.len() as u64,
            entity_types: self.entity_types.len() as u64,
            types: {
                let mut t: Vec<_> = self.entity_types.iter().map(|p| p.1).collect();
                t.sort_unstable();
                t.dedup();
                t.len() as u64
            },
            type_parents: self.type_parents.len() as u64,
            relations: self.relations.len() as u64,
            triples: self.triples.len() as u64,
        }
    }
}

/// Table sizes, as reported by `tailor kb stats` and stored in the manifest.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct KbCounts {
    pub entities: u64,
    pub entities_with_label: u64,
    pub entities_with_description: u64,
    pub entities_with_aliases: u64,
    pub aliases: u64,
    /// `(entity, type)` assignments.
    pub entity_types: u64,
    /// Distinct types that at least one entity is an instance of.
    pub types: u64,
    pub type_parents: u64,
    pub relations: u64,
    pub triples: u64,
}
