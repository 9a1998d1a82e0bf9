//! Candidates from the rest of the document: a short name ("Steve", "Tiger", "Kennedy") is
//! shared by hundreds of entities, and the alias table's top K for it, ranked by popularity,
//! often misses the one meant. The other mentions of the document say which: "Steve" next to
//! "Apple" is the Steve whose name contains the word and whom the KB links to Apple.
//!
//! For each mention, the anchors are the best few candidates of the other mentions within
//! [`WINDOW`] mentions on each side (and any entity known to be in the text, such as the subject
//! of an article). An entity whose names contain every word of the mention and that is an anchor
//! itself ("Jobs" after "Steve Jobs") or that a relation joins to one becomes a candidate of
//! source [`CandidateSource::Context`]; a fuzzy candidate already there with the same support
//! ("Jobs" finds Steve Jobs fuzzily, and "Steve Jobs" was named nearby; "Steve" finds him at
//! rank 8 of the Steves, next to "Apple") is raised the same way and becomes of source
//! [`CandidateSource::Raised`]. Support through a relation counts for a fuzzy candidate as for a
//! new one: counting only the entity itself named nearby left the Steve linked to Apple at his
//! fuzzy rank while Steves the alias table never proposed were added above him.
//! They share [`CONTEXT_SHARE`] of the prior by their support: the anchors' prior mass, averaged
//! over the other mentions. Their `alias_prior` stays what the alias table said.

use std::collections::HashMap;

use crate::kb::{EntityIdx, RelationAdjacency};

use super::alias_table::AliasTable;
use super::candidates::{Candidate, CandidateSource};

/// Mentions on each side whose candidates anchor a mention.
pub const WINDOW: usize = 8;
/// Candidates of each other mention that count as anchors, best prior first.
const ANCHORS_PER_MENTION: usize = 3;
/// Anchors and namesakes with more edges than this are hubs ("United States"): linked to nearly
/// every namesake, a hub says nothing about which one is meant, and its edges cost most to walk.
const MAX_ANCHOR_DEGREE: usize = 2_000;
/// Names sharing a word with more entities than this are too common to search this way.
const MAX_POSTINGS: usize = 2_000;
/// Context candidates added per mention at most, by support.
const MAX_ADDED: usize = 4;
/// Share of the prior the context candidates of a mention take together.
pub const CONTEXT_SHARE: f32 = 0.2;
/// Alias similarity given to a context candidate: a partial name, as
/// [`super::alias_similarity`] scores one.
const PARTIAL_SIMILARITY: f32 = 0.9;

/// Word → the entities with a name (label, alias, title) containing it.
#[derive(Debug, Default)]
pub struct NameWords {
    postings: HashMap<String, Vec<EntityIdx>>,
}

impl NameWords {
    /// Indexes every word of every alias in the table.
    pub fn build(table: &AliasTable) -> Self {
        let mut postings: HashMap<String, Vec<EntityIdx>> = HashMap::new();
        for (key, candidates) in table.iter() {
            for word in key.split(' ').filter(|w| !w.is_empty()) {
                let list = postings.entry(word.to_string()).or_default();
                list.extend(candidates.iter().map(|c| c.entity));
            }
        }
        for list in postings.values_mut() {
            list.sort_unstable();
            list.dedup();
        }
        NameWords { postings }
    }

    /// Entities whose names hold every word of the normalized `key`, or `None` when a word is
    /// unknown or all its words are too common to search.
    pub fn containing_all(&self, key: &str) -> Option<Vec<EntityIdx>> {
        let mut lists: Vec<&Vec<EntityIdx>> = key
            .split(' ')
            .filter(|w| !w.is_empty())
            .map(|w| self.postings.get(w))
            .collect::<Option<_>>()?;
        lists.sort_by_key(|l| l.len());
        let (first, rest) = lists.split_first()?;
        if first.len() > MAX_POSTINGS {
            return None;
        }
        Some(
            first
                .iter()
                .copied()
                .filter(|e| rest.iter().all(|l| l.binary_search(e).is_ok()))
                .collect(),
        )
    }
}

/// Adds context candidates to every mention of one document. `keys[i]` is mention `i`'s
/// normalized surface and `lists[i]` its candidates, best prior first, as retrieval ranked
/// them; `known` are entities known to be in the text, which anchor every mention at full
/// mass. Lists stay sorted by prior and at most `top_k` long.
pub fn add_context_candidates(
    adjacency: &RelationAdjacency,
    words: &NameWords,
    keys: &[&str],
    lists: &mut [Vec<Candidate>],
    known: &[EntityIdx],
    top_k: usize,
) {
    // anchor entity → the mass of its known mentions (entities known to be in the text count
    // for every mention), and (mention it came from, its share of that mention's top prior
    // mass) in mention order, so a mention's window is found by binary search: a hub of a long
    // document ("Paris" 60,000 times) would otherwise be walked once per mention
    let mut anchors: HashMap<EntityIdx, (f32, Vec<(usize, f32)>)> = HashMap::new();
    for &e in known {
        anchors.entry(e).or_default().0 += 1.0;
    }
    for (j, list) in lists.iter().enumerate() {
        let top = &list[..list.len().min(ANCHORS_PER_MENTION)];
        let mass: f32 = top.iter().map(|c| c.prior).sum();
        if mass <= 0.0 {
            continue;
        }
        for c in top
            .iter()
            .filter(|c| adjacency.of(c.entity).len() <= MAX_ANCHOR_DEGREE)
        {
            anchors
                .entry(c.entity)
                .or_default()
                .1
                .push((j, c.prior / mass));
        }
    }
    if anchors.is_empty() {
        return;
    }

    // Each named entity's own relations are walked, not the anchors': a namesake has far fewer
    // than the places and organisations that anchor it.
    let additions: Vec<Vec<(EntityIdx, f32)>> = (0..lists.len())
        .map(|i| {
            let lo = i.saturating_sub(WINDOW);
            let hi = (i + WINDOW + 1).min(lists.len());
            let others = (lo..hi).filter(|&j| j != i && !lists[j].is_empty()).count() + known.len();
            if others == 0 {
                return Vec::new();
            }
            let Some(named) = words.containing_all(keys[i]) else {
                return Vec::new();
            };
            let mut own: Vec<(EntityIdx, bool)> = lists[i]
                .iter()
                .map(|c| (c.entity, c.source == CandidateSource::Exact))
                .collect();
            own.sort_unstable();
            let mut found: Vec<(EntityIdx, f32)> = named
                .into_iter()
                .filter_map(|e| {
                    let neighbours = adjacency.of(e);
                    if neighbours.len() > MAX_ANCHOR_DEGREE {
                        return None;
                    }
                    let mass_of = |n: &EntityIdx| -> f32 {
                        anchors.get(n).map_or(0.0, |(known, from)| {
                            let start = from.partition_point(|&(j, _)| j < lo);
                            let end = from.partition_point(|&(j, _)| j < hi);
                            let near: f32 = from[start..end]
                                .iter()
                                .filter(|&&(j, _)| j != i)
                                .map(|&(_, mass)| mass)
                                .sum();
                            known + near
                        })
                    };
                    // the entity itself counts: "Jobs" after "Steve Jobs" is the same man
                    let itself = mass_of(&e);
                    let support = match own.binary_search_by_key(&e, |o| o.0) {
                        // an exact candidate needs nothing
                        Ok(at) if own[at].1 => 0.0,
                        _ => itself + neighbours.iter().map(mass_of).sum::<f32>(),
                    };
                    (support > 0.0).then(|| (e, support / others as f32))
                })
                .collect();
            found.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
            found.truncate(MAX_ADDED);
            found
        })
        .collect();

    for (list, found) in lists.iter_mut().zip(additions) {
        if found.is_empty() {
            continue;
        }
        let total: f32 = found.iter().map(|f| f.1).sum();
        let share = if list.is_empty() { 1.0 } else { CONTEXT_SHARE };
        list.iter_mut().for_each(|c| c.prior *= 1.0 - share);
        for (entity, support) in found {
            let prior = share * support / total;
            match list.iter_mut().find(|c| c.entity == entity) {
                // only a fuzzy candidate gains support above (an exact one needs none)
                Some(c) => {
                    c.prior += prior;
                    c.source = CandidateSource::Raised;
                }
                None => list.push(Candidate {
                    entity,
                    prior,
                    alias_prior: 0.0,
                    source: CandidateSource::Context,
                    similarity: PARTIAL_SIMILARITY,
                }),
            }
        }
        list.sort_by(|a, b| b.prior.total_cmp(&a.prior).then(a.entity.cmp(&b.entity)));
        list.truncate(top_k);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::kb::{Kb, KbBuilder, Manifest};

    /// A KB of labelled entities linked by triples, with what the context search reads.
    struct Fixture {
        kb: Kb,
        table: AliasTable,
        words: NameWords,
        adjacency: RelationAdjacency,
    }

    impl Fixture {
        fn new(labels: &[(&str, &str)], triples: &[(&str, &str, &str)]) -> Self {
            let mut b = KbBuilder::new();
            for (id, label) in labels {
                b.label(id, label);
            }
            for (head, relation, tail) in triples {
                b.relation_label(relation, relation);
                b.triple(head, relation, tail);
            }
            let kb = b.finish(Manifest::default());
            let table = AliasTable::build(&kb, 30);
            let words = NameWords::build(&table);
            let adjacency = RelationAdjacency::build(&kb);
            Fixture {
                kb,
                table,
                words,
                adjacency,
            }
        }

        fn idx(&self, id: &str) -> EntityIdx {
            self.kb.entity_idx(id).unwrap()
        }

        /// The alias table's candidates for `key`, as retrieval gives them.
        fn exact(&self, key: &str) -> Vec<Candidate> {
            self.table
                .get_normalized(key)
                .unwrap()
                .iter()
                .map(|c| candidate(c.entity, c.prior, CandidateSource::Exact))
                .collect()
        }

        fn add(&self, keys: &[&str], lists: &mut [Vec<Candidate>], known: &[EntityIdx]) {
            add_context_candidates(&self.adjacency, &self.words, keys, lists, known, 30);
        }
    }

    fn candidate(entity: EntityIdx, prior: f32, source: CandidateSource) -> Candidate {
        Candidate {
            entity,
            prior,
            alias_prior: prior,
            source,
            similarity: 1.0,
        }
    }

    #[test]
    fn a_first_name_next_to_a_linked_entity_gains_that_namesake() {
        let f = Fixture::new(
            &[
                ("Q1", "Steve Jobs"),
                ("Q2", "Steve Martin"),
                ("Q3", "Apple Inc."),
                ("Q4", "Steve"),
            ],
            &[("Q3", "P112", "Q1")],
        );
        let keys = ["steve", "apple inc"];
        let mut lists: Vec<Vec<Candidate>> = keys.iter().map(|k| f.exact(k)).collect();
        f.add(&keys, &mut lists, &[]);
        let added: Vec<&Candidate> = lists[0]
            .iter()
            .filter(|c| c.source == CandidateSource::Context)
            .collect();
        assert_eq!(
            added.len(),
            1,
            "only the Steve linked to Apple: {:?}",
            lists[0]
        );
        assert_eq!(added[0].entity, f.idx("Q1"));
        assert!((added[0].prior - CONTEXT_SHARE).abs() < 1e-6);
        assert_eq!(
            added[0].alias_prior, 0.0,
            "the alias table never proposed him"
        );
        assert!(!lists[0].iter().any(|c| c.entity == f.idx("Q2")));
        let total: f32 = lists[0].iter().map(|c| c.prior).sum();
        assert!(
            (total - 1.0).abs() < 1e-5,
            "priors still sum to one: {total}"
        );
        assert!(
            lists[1].iter().all(|c| c.source == CandidateSource::Exact),
            "the full name needs nothing: {:?}",
            lists[1]
        );
    }

    #[test]
    fn a_surname_after_the_full_name_is_the_same_person() {
        let f = Fixture::new(&[("Q1", "Steve Jobs"), ("Q2", "Jobs")], &[]);
        let keys = ["steve jobs", "jobs"];
        let mut lists: Vec<Vec<Candidate>> = keys.iter().map(|k| f.exact(k)).collect();
        f.add(&keys, &mut lists, &[]);
        let jobs = f.idx("Q1");
        assert!(
            lists[1]
                .iter()
                .any(|c| c.entity == jobs && c.source == CandidateSource::Context),
            "{:?}",
            lists[1]
        );
    }

    #[test]
    fn a_fuzzy_candidate_named_in_full_nearby_is_raised_not_added_again() {
        let f = Fixture::new(&[("Q1", "Steve Jobs"), ("Q2", "Jobs")], &[]);
        let (jobs, film) = (f.idx("Q1"), f.idx("Q2"));
        let mut lists = vec![
            vec![candidate(jobs, 1.0, CandidateSource::Exact)],
            vec![
                candidate(film, 0.9, CandidateSource::Exact),
                candidate(jobs, 0.1, CandidateSource::Fuzzy),
            ],
        ];
        f.add(&["steve jobs", "jobs"], &mut lists, &[]);
        let raised = &lists[1];
        assert_eq!(raised.len(), 2, "{raised:?}");
        let man = raised.iter().find(|c| c.entity == jobs).unwrap();
        assert_eq!(man.source, CandidateSource::Raised);
        let want = 0.1 * (1.0 - CONTEXT_SHARE) + CONTEXT_SHARE;
        assert!((man.prior - want).abs() < 1e-6, "{man:?}");
        assert_eq!(man.alias_prior, 0.1, "the alias prior is untouched");
        assert_eq!(lists[0][0].prior, 1.0, "an exact candidate needs nothing");
    }

    #[test]
    fn a_fuzzy_namesake_linked_to_another_mention_is_raised() {
        let f = Fixture::new(
            &[
                ("Q1", "Steve Jobs"),
                ("Q2", "Steve Martin"),
                ("Q3", "Apple Inc."),
            ],
            &[("Q3", "P112", "Q1")],
        );
        let (jobs, martin, apple) = (f.idx("Q1"), f.idx("Q2"), f.idx("Q3"));
        let mut lists = vec![
            vec![
                candidate(martin, 0.6, CandidateSource::Fuzzy),
                candidate(jobs, 0.4, CandidateSource::Fuzzy),
            ],
            vec![candidate(apple, 1.0, CandidateSource::Exact)],
        ];
        f.add(&["steve", "apple inc"], &mut lists, &[]);
        let steve = &lists[0];
        assert_eq!(steve.len(), 2, "{steve:?}");
        assert_eq!(
            steve[0].entity, jobs,
            "the Steve Apple names ranks first: {steve:?}"
        );
        assert_eq!(steve[0].source, CandidateSource::Raised);
        let want = 0.4 * (1.0 - CONTEXT_SHARE) + CONTEXT_SHARE;
        assert!((steve[0].prior - want).abs() < 1e-5, "{steve:?}");
        assert_eq!(
            steve[1].source,
            CandidateSource::Fuzzy,
            "no link, no support"
        );
    }

    #[test]
    fn a_known_subject_anchors_a_lone_mention() {
        let f = Fixture::new(
            &[("Q1", "Tiger Woods"), ("Q2", "Elin Nordegren")],
            &[("Q2", "P26", "Q1")],
        );
        let mut lists = vec![Vec::new()];
        f.add(&["tiger"], &mut lists, &[f.idx("Q2")]);
        assert_eq!(lists[0].len(), 1);
        assert_eq!(lists[0][0].entity, f.idx("Q1"));
        assert_eq!(
            lists[0][0].prior, 1.0,
            "with nothing else found it takes all the mass"
        );
    }
}
