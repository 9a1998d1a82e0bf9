//! The labelling rules: which detected mention gets which gold, and which are left out.
//!
//! Only exact alias candidates can become a label (a fuzzy candidate was found for another
//! string). A mention is labelled when
//! - its alias has a single exact candidate ([`Rule::Unambiguous`]);
//! - the entity the text is about is among its exact candidates ([`Rule::Subject`]);
//! - exactly one exact candidate is adjacent in the KB graph (a relation, instance-of or
//!   subclass-of edge, either direction) to the text's subject or to an entity already labelled
//!   in the sentence ([`Rule::Kg`]); labels found this way become anchors for the others, so the
//!   rules run until nothing changes;
//! - failing all that, one exact candidate holds at least `dominance` of the exact prior mass
//!   ([`Rule::Unambiguous`]), after which the graph rules get another chance.
//!
//! Everything else is rejected as ambiguous: a wrong weak label teaches the model more harm
//! than a missing one.

use crate::kb::{EntityIdx, Kb};
use crate::retrieve::{Candidate, CandidateSource};

use super::example::Rule;

/// Default share of the exact prior mass a candidate needs to count as dominant.
pub const DEFAULT_DOMINANCE: f32 = 0.9;

/// A label decision for one mention.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Labelled(EntityIdx, Rule),
    /// Several exact candidates and no rule singled one out.
    Ambiguous,
    /// Several exact candidates were adjacent to the anchors.
    KgTied,
}

/// Applies the rules over one KB.
pub struct Labeller {
    /// Sorted, deduplicated neighbours of each entity over edges of any kind and direction:
    /// adjacency is a binary search, with no graph walk per candidate.
    neighbours: Vec<Vec<EntityIdx>>,
    /// See [`DEFAULT_DOMINANCE`].
    pub dominance: f32,
}

/// The entity a text is about, whose graph neighbourhood anchors the graph rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Subject {
    pub entity: EntityIdx,
}

impl Labeller {
    pub fn new(kb: &Kb) -> Self {
        let mut neighbours = vec![Vec::new(); kb.entities.len()];
        let pairs = kb.triples.iter().map(|t| (t.head, t.tail));
        let typed = kb.entity_types.iter().chain(&kb.type_parents).copied();
        for (a, b) in pairs.chain(typed) {
            neighbours[a as usize].push(b);
            neighbours[b as usize].push(a);
        }
        for list in &mut neighbours {
            list.sort_unstable();
            list.dedup();
        }
        Labeller {
            neighbours,
            dominance: DEFAULT_DOMINANCE,
        }
    }

    pub fn subject(&self, entity: EntityIdx) -> Subject {
        Subject { entity }
    }

    /// True when any edge joins `a` and `b`, searching the shorter neighbour list.
    pub fn adjacent(&self, a: EntityIdx, b: EntityIdx) -> bool {
        let (na, nb) = (&self.neighbours[a as usize], &self.neighbours[b as usize]);
        if na.len() <= nb.len() {
            na.binary_search(&b).is_ok()
        } else {
            nb.binary_search(&a).is_ok()
        }
    }

    /// Decides every mention of one sentence. `candidates[i]` are mention `i`'s candidates;
    /// `known` are entities known to be in the sentence already (they anchor the graph rule).
    pub fn label(
        &self,
        candidates: &[&[Candidate]],
        subject: Option<&Subject>,
        known: &[EntityIdx],
    ) -> Vec<Decision> {
        let exact: Vec<Vec<EntityIdx>> = candidates
            .iter()
            .map(|cs| {
                cs.iter()
                    .filter(|c| c.source == CandidateSource::Exact)
                    .map(|c| c.entity)
                    .collect()
            })
            .collect();
        let mut out = vec![Decision::Ambiguous; candidates.len()];
        let mut anchors = known.to_vec();
        self.strict_rules(&exact, subject, &mut anchors, &mut out);
        let mut dominant = false;
        for (i, cs) in candidates.iter().enumerate() {
            if matches!(out[i], Decision::Labelled(..)) {
                continue;
            }
            if let Some(e) = self.dominant(cs) {
                out[i] = Decision::Labelled(e, Rule::Unambiguous);
                anchors.push(e);
                dominant = true;
            }
        }
        if dominant {
            self.strict_rules(&exact, subject, &mut anchors, &mut out);
        }
        out
    }

    /// The single-candidate, subject and graph rules, repeated until no new label appears.
    fn strict_rules(
        &self,
        exact: &[Vec<EntityIdx>],
        subject: Option<&Subject>,
        anchors: &mut Vec<EntityIdx>,
        out: &mut [Decision],
    ) {
        loop {
            let mut changed = false;
            for (i, cands) in exact.iter().enumerate() {
                if matches!(out[i], Decision::Labelled(..)) || cands.is_empty() {
                    continue;
                }
                let decision = self.strict_one(cands, subject, anchors);
                if let Decision::Labelled(e, _) = decision {
                    anchors.push(e);
                    changed = true;
                }
                out[i] = decision;
            }
            if !changed {
                return;
            }
        }
    }

    fn strict_one(
        &self,
        exact: &[EntityIdx],
        subject: Option<&Subject>,
        anchors: &[EntityIdx],
    ) -> Decision {
        if let [only] = exact {
            return Decision::Labelled(*only, Rule::Unambiguous);
        }
        if let Some(s) = subject.filter(|s| exact.contains(&s.entity)) {
            return Decision::Labelled(s.entity, Rule::Subject);
        }
        let linked: Vec<EntityIdx> = exact
            .iter()
            .copied()
            .filter(|&c| {
                subject.is_some_and(|s| self.adjacent(s.entity, c))
                    || anchors.iter().any(|&a| a != c && self.adjacent(a, c))
            })
            .collect();
        match linked.as_slice() {
            [one] => Decision::Labelled(*one, Rule::Kg),
            [] => Decision::Ambiguous,
            _ => Decision::KgTied,
        }
    }

    /// The exact candidate holding at least `dominance` of the exact prior mass, if any.
    fn dominant(&self, candidates: &[Candidate]) -> Option<EntityIdx> {
        let exact = candidates
            .iter()
            .filter(|c| c.source == CandidateSource::Exact);
        let total: f32 = exact.clone().map(|c| c.prior).sum();
        let best = exact.max_by(|a, b| a.prior.total_cmp(&b.prior))?;
        (total > 0.0 && best.prior / total >= self.dominance).then_some(best.entity)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kb::{KbBuilder, Manifest};

    fn cand(entity: EntityIdx, prior: f32) -> Candidate {
        Candidate {
            entity,
            prior,
            alias_prior: prior,
            source: CandidateSource::Exact,
            similarity: 1.0,
        }
    }

    fn kb() -> Kb {
        let mut b = KbBuilder::new();
        b.triple("Q90", "P17", "Q142"); // Paris — country → France
        b.triple("Q3", "P17", "Q30"); // Paris, Texas → United States
        b.triple("Q4", "P1", "Q5"); // unrelated pair
        b.entity_type("Q90", "Q515"); // Paris is a city
        b.finish(Manifest::default())
    }

    #[test]
    fn single_and_dominant_candidates_are_unambiguous() {
        let kb = kb();
        let i = |id: &str| kb.entity_idx(id).unwrap();
        let l = Labeller::new(&kb);
        let single = [cand(i("Q142"), 0.9)];
        let dominant = [cand(i("Q4"), 0.95), cand(i("Q5"), 0.04)];
        let out = l.label(&[&single, &dominant], None, &[]);
        assert_eq!(out[0], Decision::Labelled(i("Q142"), Rule::Unambiguous));
        assert_eq!(out[1], Decision::Labelled(i("Q4"), Rule::Unambiguous));
    }

    #[test]
    fn graph_neighbours_resolve_ambiguous_mentions() {
        let kb = kb();
        let i = |id: &str| kb.entity_idx(id).unwrap();
        let l = Labeller::new(&kb);
        // "Paris" is ambiguous by prior; "France" settles it through Paris —country→ France.
        let paris = [cand(i("Q3"), 0.5), cand(i("Q90"), 0.5)];
        let france = [cand(i("Q142"), 1.0)];
        let out = l.label(&[&paris, &france], None, &[]);
        assert_eq!(out[0], Decision::Labelled(i("Q90"), Rule::Kg));
        // In a text about cities, the city wins through its instance-of edge.
        let city = l.subject(i("Q515"));
        let out = l.label(&[&paris], Some(&city), &[]);
        assert_eq!(out[0], Decision::Labelled(i("Q90"), Rule::Kg));
        // The subject itself among the candidates.
        let cities = [cand(i("Q515"), 0.4), cand(i("Q4"), 0.6)];
        let out = l.label(&[&cities], Some(&city), &[]);
        assert_eq!(out[0], Decision::Labelled(i("Q515"), Rule::Subject));
    }

    #[test]
    fn ambiguous_mentions_are_rejected() {
        let kb = kb();
        let i = |id: &str| kb.entity_idx(id).unwrap();
        let l = Labeller::new(&kb);
        let paris = [cand(i("Q3"), 0.6), cand(i("Q90"), 0.4)];
        assert_eq!(l.label(&[&paris], None, &[]), [Decision::Ambiguous]);
        // Both Parises linked to a known entity: a tie, not a label.
        let out = l.label(&[&paris], None, &[i("Q142"), i("Q30")]);
        assert_eq!(out, [Decision::KgTied]);
        let fuzzy_only = [Candidate {
            source: CandidateSource::Fuzzy,
            ..cand(i("Q90"), 1.0)
        }];
        assert_eq!(l.label(&[&fuzzy_only], None, &[]), [Decision::Ambiguous]);
    }
}
