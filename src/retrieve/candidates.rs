//! Candidate generation for one mention: the exact alias candidates with their prior, then
//! fuzzy candidates from the tantivy index, merged into one ranked list.
//!
//! Exact candidates keep most of the prior mass; fuzzy ones share the rest, each weighted by
//! how close its alias is to the mention (string similarity, or the share of the mention's words
//! the alias contains), by the entity's prior under that alias and by its KB degree. When
//! nothing matches exactly,
//! the fuzzy candidates share all the mass.

use std::collections::HashMap;

use crate::kb::EntityIdx;

use super::alias_table::AliasTable;
use super::fuzzy::FuzzyIndex;

/// Share of the prior left to fuzzy candidates when there are exact ones.
const FUZZY_SHARE: f32 = 0.1;
/// Fuzzy matches below this similarity are dropped as noise.
const MIN_SIMILARITY: f32 = 0.5;

/// How a candidate was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CandidateSource {
    Exact,
    Fuzzy,
    /// A partial name the document's other mentions point to (see [`super::document`]).
    Context,
    /// A fuzzy candidate the document's other mentions raised, being named there in full (see
    /// [`super::document`]): apart from `Fuzzy` so that evaluation can count how often the
    /// context was right. Its `alias_prior` is still the fuzzy match's.
    Raised,
    /// An exact match of an adjectival name mined from the KB's descriptions ("American" for
    /// the United States; see [`super::derived_names`]), not of a name a KB source gives.
    Derived,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Candidate {
    pub entity: EntityIdx,
    /// p(entity | mention) after merging exact and fuzzy candidates, and the document's context
    /// (see [`super::document`]).
    pub prior: f32,
    /// The same before the document's context was added: p(entity | alias) alone, what the prior
    /// baseline reads (0 for a candidate only the context proposed).
    pub alias_prior: f32,
    pub source: CandidateSource,
    /// Similarity of the matched alias to the mention, 1 for exact matches.
    pub similarity: f32,
}

/// How similar an alias is to a mention, both normalized: the better of edit similarity and the
/// share of the mention's words found (within one edit) among the alias's words.
pub fn alias_similarity(mention: &str, alias: &str) -> f32 {
    let edit = strsim::normalized_damerau_levenshtein(mention, alias) as f32;
    let alias_words: Vec<&str> = alias.split(' ').collect();
    let words: Vec<&str> = mention.split(' ').collect();
    let contained = words
        .iter()
        .filter(|w| {
            alias_words
                .iter()
                .any(|a| a == *w || (w.len() > 3 && strsim::damerau_levenshtein(a, w) <= 1))
        })
        .count() as f32
        / words.len() as f32;
    // A partial name ("Merkel" for "Angela Merkel") is good evidence, but less than the whole.
    edit.max(0.9 * contained)
}

/// Ranked candidates for a normalized mention, at most `top_k`.
pub fn candidates(
    table: &AliasTable,
    fuzzy: Option<&FuzzyIndex>,
    key: &str,
    top_k: usize,
) -> Vec<Candidate> {
    let exact = table.get_normalized(key).unwrap_or(&[]);
    let mut out: Vec<Candidate> = exact
        .iter()
        .map(|c| Candidate {
            entity: c.entity,
            prior: c.prior,
            alias_prior: 0.0,
            source: if c.derived {
                CandidateSource::Derived
            } else {
                CandidateSource::Exact
            },
            similarity: 1.0,
        })
        .collect();

    if let Some(index) = fuzzy {
        let mut weights: HashMap<EntityIdx, (f32, f32)> = HashMap::new();
        for hit in index.search(key, FuzzyIndex::default_hits()) {
            if hit.key == key {
                continue;
            }
            let sim = alias_similarity(key, &hit.key);
            if sim < MIN_SIMILARITY {
                continue;
            }
            for c in table.get_normalized(&hit.key).unwrap_or(&[]) {
                // Close aliases first, then the entities the KB knows best.
                let w = sim.powi(4) * c.prior.max(1e-4) * table.popularity(c.entity).sqrt();
                let slot = weights.entry(c.entity).or_insert((0.0, 0.0));
                if w > slot.0 {
                    *slot = (w, sim);
                }
            }
        }
        for c in &out {
            weights.remove(&c.entity);
        }
        // Summed in entity order: a hash map's order differs between processes, and the float
        // sum with it, which would make two runs of the same corpus differ in the last bit.
        let mut weights: Vec<(EntityIdx, (f32, f32))> = weights.into_iter().collect();
        weights.sort_unstable_by_key(|w| w.0);
        let total: f32 = weights.iter().map(|w| w.1 .0).sum();
        let share = if out.is_empty() { 1.0 } else { FUZZY_SHARE };
        if !out.is_empty() {
            out.iter_mut().for_each(|c| c.prior *= 1.0 - FUZZY_SHARE);
        }
        out.extend(weights.into_iter().map(|(entity, (w, sim))| Candidate {
            entity,
            prior: share * w / total,
            alias_prior: 0.0,
            source: CandidateSource::Fuzzy,
            similarity: sim,
        }));
    }
    out.sort_by(|a, b| b.prior.total_cmp(&a.prior).then(a.entity.cmp(&b.entity)));
    out.truncate(top_k);
    out.iter_mut().for_each(|c| c.alias_prior = c.prior);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partial_names_are_similar() {
        assert!(alias_similarity("merkel", "angela merkel") >= 0.9);
        assert!(alias_similarity("angela merkl", "angela merkel") > 0.9);
        assert!(alias_similarity("paris", "angela merkel") < MIN_SIMILARITY);
    }
}
