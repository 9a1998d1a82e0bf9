//! Merging facts from any number of sources into one KB, by entity id.
//!
//! Sources are applied in order: the first non-empty label, description and Wikipedia title an
//! entity receives wins, while aliases, types, hierarchy edges and triples accumulate and are
//! de-duplicated. Readers only call the methods here, so every format merges the same way.

use std::collections::HashMap;

use super::manifest::Manifest;
use super::model::{Alias, Entity, EntityIdx, Kb, Relation, RelationIdx, Triple};

#[derive(Debug, Default)]
struct EntityDraft {
    entity: Entity,
    aliases: Vec<(String, Option<f32>)>,
}

/// Accumulates facts; `finish` de-duplicates them and computes degrees.
#[derive(Debug, Default)]
pub struct KbBuilder {
    entities: Vec<EntityDraft>,
    entity_index: HashMap<String, EntityIdx>,
    relations: Vec<Relation>,
    relation_index: HashMap<String, RelationIdx>,
    entity_types: Vec<(EntityIdx, EntityIdx)>,
    type_parents: Vec<(EntityIdx, EntityIdx)>,
    triples: Vec<Triple>,
}

fn non_empty(text: &str) -> Option<String> {
    let t = text.trim();
    (!t.is_empty()).then(|| t.to_string())
}

impl KbBuilder {
    pub fn new() -> Self {
        Self::default()
    }

    /// The entity's index, creating an empty entity on first sight.
    pub fn entity(&mut self, id: &str) -> EntityIdx {
        if let Some(&idx) = self.entity_index.get(id) {
            return idx;
        }
        let idx = self.entities.len() as EntityIdx;
        self.entities.push(EntityDraft {
            entity: Entity {
                id: id.to_string(),
                ..Entity::default()
            },
            aliases: Vec::new(),
        });
        self.entity_index.insert(id.to_string(), idx);
        idx
    }

    pub fn has_entity(&self, id: &str) -> bool {
        self.entity_index.contains_key(id)
    }

    pub fn has_relation(&self, id: &str) -> bool {
        self.relation_index.contains_key(id)
    }

    pub fn entity_count(&self) -> usize {
        self.entities.len()
    }

    /// The relation's index, creating it on first sight.
    pub fn relation(&mut self, id: &str) -> RelationIdx {
        if let Some(&idx) = self.relation_index.get(id) {
            return idx;
        }
        let idx = self.relations.len() as RelationIdx;
        self.relations.push(Relation {
            id: id.to_string(),
            ..Relation::default()
        });
        self.relation_index.insert(id.to_string(), idx);
        idx
    }

    pub fn label(&mut self, id: &str, label: &str) {
        let idx = self.entity(id) as usize;
        let slot = &mut self.entities[idx].entity.label;
        if slot.is_none() {
            *slot = non_empty(label);
        }
    }

    pub fn description(&mut self, id: &str, description: &str) {
        let idx = self.entity(id) as usize;
        let slot = &mut self.entities[idx].entity.description;
        if slot.is_none() {
            *slot = non_empty(description);
        }
    }

    pub fn wikipedia(&mut self, id: &str, title: &str) {
        let idx = self.entity(id) as usize;
        let slot = &mut self.entities[idx].entity.wikipedia;
        if slot.is_none() {
            *slot = non_empty(title);
        }
    }

    pub fn alias(&mut self, id: &str, alias: &str, score: Option<f32>) {
        let idx = self.entity(id) as usize;
        if let Some(text) = non_empty(alias) {
            self.entities[idx].aliases.push((text, score));
        }
    }

    pub fn entity_type(&mut self, id: &str, type_id: &str) {
        let e = self.entity(id);
        let t = self.entity(type_id);
        self.entity_types.push((e, t));
    }

    pub fn type_parent(&mut self, type_id: &str, parent_id: &str) {
        let t = self.entity(type_id);
        let p = self.entity(parent_id);
        self.type_parents.push((t, p));
    }

    pub fn triple(&mut self, head: &str, relation: &str, tail: &str) {
        let h = self.entity(head);
        let r = self.relation(relation);
        let t = self.entity(tail);
        self.triples.push(Triple {
            head: h,
            relation: r,
            tail: t,
        });
    }

    pub fn relation_label(&mut self, id: &str, label: &str) {
        let idx = self.relation(id) as usize;
        let slot = &mut self.relations[idx].label;
        if slot.is_none() {
            *slot = non_empty(label);
        }
    }

    pub fn relation_description(&mut self, id: &str, description: &str) {
        let idx = self.relation(id) as usize;
        let slot = &mut self.relations[idx].description;
        if slot.is_none() {
            *slot = non_empty(description);
        }
    }

    pub fn relation_alias(&mut self, id: &str, alias: &str) {
        let idx = self.relation(id) as usize;
        if let Some(text) = non_empty(alias) {
            let aliases = &mut self.relations[idx].aliases;
            if !aliases.contains(&text) {
                aliases.push(text);
            }
        }
    }

    /// De-duplicates the accumulated facts, computes degrees and returns the KB.
    pub fn finish(mut self, manifest: Manifest) -> Kb {
        self.triples.sort_unstable();
        self.triples.dedup();
        for t in &self.triples {
            self.entities[t.head as usize].entity.degree += 1;
            if t.tail != t.head {
                self.entities[t.tail as usize].entity.degree += 1;
            }
        }
        self.entity_types.sort_unstable();
        self.entity_types.dedup();
        self.type_parents.sort_unstable();
        self.type_parents.dedup();

        let mut aliases = Vec::new();
        let mut entities = Vec::with_capacity(self.entities.len());
        for (idx, draft) in self.entities.into_iter().enumerate() {
            let mut seen: HashMap<String, usize> = HashMap::new();
            let first = aliases.len();
            for (text, score) in draft.aliases {
                match seen.get(&text) {
                    // Keep the highest score a source gave to the same alias.
                    Some(&at) => {
                        let kept: &mut Alias = &mut aliases[at];
                        if score > kept.score {
                            kept.score = score;
                        }
                    }
                    None => {
                        seen.insert(text.clone(), aliases.len());
                        aliases.push(Alias {
                            entity: idx as EntityIdx,
                            text,
                            score,
                        });
                    }
                }
            }
            debug_assert!(aliases[first..]
                .iter()
                .all(|a| a.entity == idx as EntityIdx));
            entities.push(draft.entity);
        }
        Kb::from_parts(
            entities,
            aliases,
            self.entity_types,
            self.type_parents,
            self.relations,
            self.triples,
            manifest,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_label_wins_and_facts_accumulate() {
        let mut b = KbBuilder::new();
        b.label("Q90", "Paris");
        b.label("Q90", "Paname");
        b.alias("Q90", "City of Light", None);
        b.alias("Q90", "City of Light", Some(0.5));
        b.alias("Q90", "  ", None);
        b.triple("Q90", "P17", "Q142");
        b.triple("Q90", "P17", "Q142");
        b.entity_type("Q90", "Q515");
        let kb = b.finish(Manifest::default());
        let paris = kb.entity_idx("Q90").unwrap();
        assert_eq!(kb.entity(paris).label.as_deref(), Some("Paris"));
        assert_eq!(kb.aliases_of(paris).len(), 1);
        assert_eq!(kb.aliases_of(paris)[0].score, Some(0.5));
        assert_eq!(kb.triples.len(), 1);
        assert_eq!(kb.entity(paris).degree, 1);
        let city = kb.entity_idx("Q515").unwrap();
        assert_eq!(kb.types_of(paris).collect::<Vec<_>>(), vec![city]);
    }
}
