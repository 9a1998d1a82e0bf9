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

    /// Milne–Witten relatedness of two entities, in [0, 1]: how much their neighbourhoods
    /// (each with the entity itself) overlap, against what two neighbourhoods of their sizes
    /// would share by chance in a graph of this many entities. Shared neighbours say more than
    /// a direct link alone: Jimmy Page and Eric Clapton share a band, awards and genres. A hub
    /// shares a little with everything but, its neighbourhood being large, scores low with
    /// each.
    pub fn relatedness(&self, a: EntityIdx, b: EntityIdx) -> f32 {
        if a == b {
            return 1.0;
        }
        let (na, nb) = (self.of(a), self.of(b));
        if na.is_empty() || nb.is_empty() {
            return 0.0;
        }
        let mut shared = sorted_overlap(na, nb);
        // a direct link puts each in the other's neighbourhood
        if self.linked(a, b) {
            shared += 2;
        }
        if shared == 0 {
            return 0.0;
        }
        let (small, big) = if na.len() <= nb.len() {
            (na.len() + 1, nb.len() + 1)
        } else {
            (nb.len() + 1, na.len() + 1)
        };
        let total = (self.offsets.len() - 1).max(big + 1) as f32;
        let distance = ((big as f32).ln() - (shared as f32).ln())
            / (total.ln() - (small as f32).ln()).max(f32::EPSILON);
        (1.0 - distance).clamp(0.0, 1.0)
    }
}

/// How many entries two sorted, deduplicated lists share.
fn sorted_overlap(a: &[EntityIdx], b: &[EntityIdx]) -> usize {
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    // a hub's thousand neighbours against a film's twenty: search, do not walk
    if long.len() > 16 * short.len() {
        return short
            .iter()
            .filter(|x| long.binary_search(x).is_ok())
            .count();
    }
    let (mut i, mut j, mut n) = (0, 0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                n += 1;
                i += 1;
                j += 1;
            }
        }
    }
    n
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

    #[test]
    fn overlap_counts_alike_by_walking_and_by_searching() {
        let long: Vec<super::EntityIdx> = (0..1000).map(|i| i * 3).collect();
        let short = [3, 4, 300, 2997, 5000];
        assert_eq!(super::sorted_overlap(&short, &long), 3);
        assert_eq!(super::sorted_overlap(&long, &short), 3);
        assert_eq!(super::sorted_overlap(&long[..40], &[0, 1, 3, 6, 7]), 3);
    }

    #[test]
    fn shared_neighbours_relate_and_a_hub_relates_little() {
        let mut b = KbBuilder::new();
        b.relation_label("P1", "member of");
        b.relation_label("P2", "country");
        // two guitarists of one band with one award each way, a namesake with neither, a hub
        // that a thousand entities point to, one of them the band
        for (who, what) in [
            ("page", "band"),
            ("clapton", "band"),
            ("page", "award"),
            ("clapton", "award"),
            ("band", "hub"),
            ("larry", "firm"),
        ] {
            b.triple(who, "P1", what);
        }
        for i in 0..1000 {
            b.triple(&format!("x{i}"), "P2", "hub");
        }
        let kb = b.finish(Manifest::default());
        let adjacency = kb.adjacency();
        let r = |a, b| adjacency.relatedness(kb.entity_idx(a).unwrap(), kb.entity_idx(b).unwrap());
        assert_eq!(r("page", "clapton"), r("clapton", "page"), "symmetric");
        assert!(r("page", "clapton") > 0.5, "{}", r("page", "clapton"));
        assert_eq!(r("larry", "clapton"), 0.0, "nothing shared");
        assert!(
            r("band", "clapton") > r("hub", "clapton"),
            "the band's link says more than the hub's shared band: {} vs {}",
            r("band", "clapton"),
            r("hub", "clapton")
        );
        assert_eq!(r("page", "page"), 1.0);
    }
}
