//! Each entity's relation neighbours (either direction), sorted and deduplicated, in one flat
//! array. Walking a slice or binary-searching one costs far less than walking petgraph's edge
//! lists, and both the context search of retrieval and the model's coherence features ask
//! "are these two linked?" many thousand times per document.

use super::model::{EntityIdx, Kb};

#[derive(Debug, Default)]
pub struct RelationAdjacency {
    offsets: Vec<u32>,
    neighbours: Vec<EntityIdx>,
}

impl RelationAdjacency {
    pub fn build(kb: &Kb) -> Self {
        let n = kb.entities.len();
        let mut pairs: Vec<(EntityIdx, EntityIdx)> = kb
            .triples
            .iter()
            .filter(|t| t.head != t.tail)
            .flat_map(|t| [(t.head, t.tail), (t.tail, t.head)])
            .collect();
        pairs.sort_unstable();
        pairs.dedup();
        let mut offsets = vec![0u32; n + 1];
        for &(a, _) in &pairs {
            offsets[a as usize + 1] += 1;
        }
        for i in 0..n {
            offsets[i + 1] += offsets[i];
        }
        RelationAdjacency {
            offsets,
            neighbours: pairs.into_iter().map(|p| p.1).collect(),
        }
    }

    /// The entity's neighbours, sorted.
    pub fn of(&self, entity: EntityIdx) -> &[EntityIdx] {
        let e = entity as usize;
        match (self.offsets.get(e), self.offsets.get(e + 1)) {
            (Some(&a), Some(&b)) => &self.neighbours[a as usize..b as usize],
            _ => &[],
        }
    }

    /// True when a triple joins the two entities, in either direction.
    pub fn linked(&self, a: EntityIdx, b: EntityIdx) -> bool {
        let (na, nb) = (self.of(a), self.of(b));
        // search the shorter list
        let (list, other) = if na.len() <= nb.len() {
            (na, b)
        } else {
            (nb, a)
        };
        list.binary_search(&other).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use crate::kb::{KbBuilder, Manifest};

    #[test]
    fn neighbours_are_sorted_deduplicated_and_symmetric() {
        let mut b = KbBuilder::new();
        for id in ["Q1", "Q2", "Q3", "Q4"] {
            b.label(id, id);
        }
        b.relation_label("P1", "knows");
        b.relation_label("P2", "likes");
        b.triple("Q3", "P1", "Q1");
        b.triple("Q1", "P2", "Q3");
        b.triple("Q1", "P1", "Q2");
        b.triple("Q4", "P1", "Q4");
        let kb = b.finish(Manifest::default());
        let adjacency = kb.adjacency();
        let idx = |id| kb.entity_idx(id).unwrap();
        let mut want = vec![idx("Q2"), idx("Q3")];
        want.sort_unstable();
        assert_eq!(adjacency.of(idx("Q1")), want.as_slice());
        assert!(adjacency.linked(idx("Q3"), idx("Q1")) && adjacency.linked(idx("Q1"), idx("Q3")));
        assert!(!adjacency.linked(idx("Q2"), idx("Q3")));
        assert!(
            adjacency.of(idx("Q4")).is_empty(),
            "a self-loop links nothing"
        );
    }
}
