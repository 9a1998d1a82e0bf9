//! The KB as a typed petgraph: neighbours, degree and k-hop queries over relation, instance-of
//! and subclass-of edges. Training-data generation walks this graph; "are these linked?" is asked
//! of [`super::RelationAdjacency`], which answers by binary search.

use std::collections::{HashSet, VecDeque};

use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::EdgeRef;
use petgraph::Direction;

use super::model::{EntityIdx, Kb, RelationIdx};

/// The kind of an edge, which keeps typing and hierarchy apart from ordinary relations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EdgeKind {
    Relation(RelationIdx),
    InstanceOf,
    SubclassOf,
}

/// A neighbour reached over one edge, in either direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Neighbour {
    pub entity: EntityIdx,
    pub kind: EdgeKind,
    /// True when the edge points from the queried entity to the neighbour.
    pub outgoing: bool,
}

/// Node `i` of the graph is entity `i` of the KB.
#[derive(Debug)]
pub struct KbGraph {
    graph: DiGraph<(), EdgeKind, u32>,
}

impl KbGraph {
    pub fn build(kb: &Kb) -> Self {
        let edges = kb.triples.len() + kb.entity_types.len() + kb.type_parents.len();
        let mut graph = DiGraph::with_capacity(kb.entities.len(), edges);
        for _ in 0..kb.entities.len() {
            graph.add_node(());
        }
        let n = NodeIndex::new;
        for t in &kb.triples {
            let kind = EdgeKind::Relation(t.relation);
            graph.add_edge(n(t.head as usize), n(t.tail as usize), kind);
        }
        for &(e, t) in &kb.entity_types {
            graph.add_edge(n(e as usize), n(t as usize), EdgeKind::InstanceOf);
        }
        for &(t, p) in &kb.type_parents {
            graph.add_edge(n(t as usize), n(p as usize), EdgeKind::SubclassOf);
        }
        KbGraph { graph }
    }

    /// All edges at an entity, outgoing then incoming.
    pub fn neighbours(&self, entity: EntityIdx) -> Vec<Neighbour> {
        let node = NodeIndex::new(entity as usize);
        let out = self
            .graph
            .edges_directed(node, Direction::Outgoing)
            .map(|e| Neighbour {
                entity: e.target().index() as EntityIdx,
                kind: *e.weight(),
                outgoing: true,
            });
        let inc = self
            .graph
            .edges_directed(node, Direction::Incoming)
            .map(|e| Neighbour {
                entity: e.source().index() as EntityIdx,
                kind: *e.weight(),
                outgoing: false,
            });
        out.chain(inc).collect()
    }

    /// Number of edges of any kind at the entity.
    pub fn degree(&self, entity: EntityIdx) -> usize {
        let node = NodeIndex::new(entity as usize);
        self.graph.edges_directed(node, Direction::Outgoing).count()
            + self.graph.edges_directed(node, Direction::Incoming).count()
    }

    /// Entities within `k` hops (either direction, relation edges only), with their distance,
    /// the start excluded, in breadth-first order.
    pub fn k_hop(&self, start: EntityIdx, k: usize) -> Vec<(EntityIdx, usize)> {
        let mut seen = HashSet::from([start]);
        let mut queue = VecDeque::from([(start, 0usize)]);
        let mut found = Vec::new();
        while let Some((entity, dist)) = queue.pop_front() {
            if dist == k {
                continue;
            }
            for nb in self.neighbours(entity) {
                if matches!(nb.kind, EdgeKind::Relation(_)) && seen.insert(nb.entity) {
                    found.push((nb.entity, dist + 1));
                    queue.push_back((nb.entity, dist + 1));
                }
            }
        }
        found
    }
}

#[cfg(test)]
mod tests {
    use crate::kb::{KbBuilder, Manifest};

    #[test]
    fn k_hop_follows_relations_both_ways() {
        let mut b = KbBuilder::new();
        b.triple("A", "r", "B");
        b.triple("C", "r", "B");
        b.triple("C", "r", "D");
        b.entity_type("A", "T");
        let kb = b.finish(Manifest::default());
        let idx = |id: &str| kb.entity_idx(id).unwrap();
        let g = kb.graph();
        let hops = g.k_hop(idx("A"), 2);
        assert_eq!(hops, vec![(idx("B"), 1), (idx("C"), 2)]);
        let adjacency = kb.adjacency();
        assert!(adjacency.linked(idx("B"), idx("A")));
        assert!(
            !adjacency.linked(idx("A"), idx("T")),
            "typing is not a relation"
        );
        assert_eq!(g.degree(idx("A")), 2);
    }
}
