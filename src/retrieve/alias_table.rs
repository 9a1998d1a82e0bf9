//! The alias table: normalized alias → candidate entities with a prior p(entity | alias).
//!
//! Labels, aliases and Wikipedia titles all feed it. Where a source scored an alias that score
//! is the weight; otherwise the weight is the entity's KB degree plus one, scaled by how strong
//! the alias kind is (a label says more than an alternative name). Weights are normalized per
//! alias into the prior, and only the top K candidates per alias are kept. Counts from training
//! data can later replace the degree through [`AliasTable::reweight`].

use std::collections::{HashMap, HashSet};

use crate::kb::{EntityIdx, Kb};

use super::derived_names::DerivedName;
use super::normalize::normalize;
use super::surnames::Surname;

/// Candidates kept per alias unless told otherwise.
pub const DEFAULT_TOP_K: usize = 30;
/// Longest alias, in words, that mention detection tries.
pub const MAX_ALIAS_TOKENS: usize = 6;

const LABEL_WEIGHT: f32 = 1.0;
const TITLE_WEIGHT: f32 = 0.8;
const ALIAS_WEIGHT: f32 = 0.5;
/// An adjectival name mined from descriptions counts as an alternative name, in proportion to
/// its share of the word's evidence.
const DERIVED_WEIGHT: f32 = ALIAS_WEIGHT;
/// A surname taken from a person's label is weaker evidence than an alias a source gives: text
/// calls many people by the same surname, and a KB lists the forms it knows are used.
const SURNAME_WEIGHT: f32 = 0.3;

/// One candidate entity of an alias.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AliasCandidate {
    pub entity: EntityIdx,
    /// p(entity | alias), summing to at most 1 over the kept candidates of the alias.
    pub prior: f32,
    /// The alias is a name mined from the KB's descriptions, not one a KB source gives.
    pub derived: bool,
}

#[derive(Debug, Default)]
pub struct AliasTable {
    entries: HashMap<String, Vec<AliasCandidate>>,
    top_k: usize,
    /// KB degree + 1 per entity, the popularity the fuzzy ranking leans on.
    popularity: Vec<f32>,
    /// First word of every alias → the most words an alias starting with it has, so mention
    /// detection tries only the n-grams that can match.
    first_words: HashMap<String, usize>,
    /// Keys that some source writes in lower case ("city", "technology"); the others are only
    /// ever written as names ("May", "Will", "The International").
    lowercase_keys: HashSet<String>,
    /// (key, entity) pairs whose every written form is in capitals, an acronym ("MI" for
    /// myocardial infarction, "WHO"): see [`AliasTable::capitals_only`].
    capitals_only: HashSet<(String, EntityIdx)>,
}

/// True for a name written in capitals: two letters or more, none of them lower case.
fn in_capitals(text: &str) -> bool {
    let letters: Vec<char> = text.chars().filter(|c| c.is_alphabetic()).collect();
    letters.len() >= 2 && letters.iter().all(|c| c.is_uppercase())
}

/// The Wikipedia article title in a URL or title string, without its disambiguator:
/// `https://en.wikipedia.org/wiki/Paris_(band)` → ("Paris (band)", "Paris").
fn wikipedia_titles(value: &str) -> (String, Option<String>) {
    let raw = value.rsplit('/').next().unwrap_or(value);
    let decoded = percent_encoding::percent_decode_str(raw)
        .decode_utf8_lossy()
        .replace('_', " ");
    let bare = decoded
        .rfind(" (")
        .filter(|_| decoded.ends_with(')'))
        .map(|at| decoded[..at].to_string());
    (decoded, bare)
}

impl AliasTable {
    /// Builds the table from every label, alias and Wikipedia title of the KB.
    pub fn build(kb: &Kb, top_k: usize) -> Self {
        Self::build_with(kb, top_k, &[], &[])
    }

    /// [`AliasTable::build`], with names mined from the KB (see [`super::derived_names`])
    /// and people's surnames (see [`super::surnames`]) added as aliases.
    pub fn build_with(
        kb: &Kb,
        top_k: usize,
        derived: &[DerivedName],
        surnames: &[Surname],
    ) -> Self {
        let mut weights: HashMap<String, HashMap<EntityIdx, f32>> = HashMap::new();
        let mut lowercase_keys: HashSet<String> = HashSet::new();
        let mut capital_forms: HashSet<(String, EntityIdx)> = HashSet::new();
        let mut add = |text: &str, entity: EntityIdx, weight: f32| {
            let key = normalize(text);
            if key.is_empty() || key.split(' ').count() > MAX_ALIAS_TOKENS {
                return;
            }
            if !text.chars().any(char::is_uppercase) {
                lowercase_keys.insert(key.clone());
            }
            if in_capitals(text) {
                capital_forms.insert((key.clone(), entity));
            }
            let slot = weights.entry(key).or_default().entry(entity).or_insert(0.0);
            // The strongest evidence for an (alias, entity) pair counts, not the sum.
            *slot = slot.max(weight);
        };
        // the strongest label weight per key, which a mined name stays below
        let mut label_weights: HashMap<String, f32> = HashMap::new();
        for (i, e) in kb.entities.iter().enumerate() {
            let pop = e.degree as f32 + 1.0;
            if let Some(label) = &e.label {
                add(label, i as EntityIdx, LABEL_WEIGHT * pop);
                if !derived.is_empty() {
                    let slot = label_weights.entry(normalize(label)).or_insert(0.0);
                    *slot = slot.max(LABEL_WEIGHT * pop);
                }
            }
            if let Some(wiki) = &e.wikipedia {
                let (title, bare) = wikipedia_titles(wiki);
                add(&title, i as EntityIdx, TITLE_WEIGHT * pop);
                if let Some(bare) = bare {
                    add(&bare, i as EntityIdx, TITLE_WEIGHT * pop);
                }
            }
        }
        for a in &kb.aliases {
            let pop = kb.entity(a.entity).degree as f32 + 1.0;
            add(&a.text, a.entity, a.score.unwrap_or(ALIAS_WEIGHT * pop));
        }
        for name in surnames {
            let pop = kb.entity(name.entity).degree as f32 + 1.0;
            add(&name.word, name.entity, SURNAME_WEIGHT * pop);
        }
        // A mined name is the weakest evidence: it never replaces a name a KB source gives the
        // entity, and where the word is another entity's label ("Ukrainian", the language) it
        // stays below that entity.
        let mut mined: HashMap<String, Vec<EntityIdx>> = HashMap::new();
        for d in derived {
            let key = normalize(&d.word);
            let existing = weights.entry(key.clone()).or_default();
            if existing.contains_key(&d.entity) {
                continue;
            }
            let label_weight = label_weights.get(&key).copied().unwrap_or(f32::INFINITY);
            let pop = kb.entity(d.entity).degree as f32 + 1.0;
            let weight = (DERIVED_WEIGHT * d.share * pop).min(0.5 * label_weight);
            existing.insert(d.entity, weight);
            mined.entry(key).or_default().push(d.entity);
        }
        let entries: HashMap<String, Vec<AliasCandidate>> = weights
            .into_iter()
            .map(|(key, per_entity)| {
                let mut priors = to_priors(per_entity.into_iter().collect(), top_k);
                if let Some(entities) = mined.get(&key) {
                    for c in &mut priors {
                        c.derived = entities.contains(&c.entity);
                    }
                }
                (key, priors)
            })
            .collect();
        let popularity = kb.entities.iter().map(|e| e.degree as f32 + 1.0).collect();
        let capitals_only = capital_forms
            .into_iter()
            .filter(|(key, entity)| !written_otherwise(kb, *entity, key))
            .collect();
        let mut table = AliasTable {
            entries,
            top_k,
            popularity,
            first_words: HashMap::new(),
            lowercase_keys,
            capitals_only,
        };
        table.index_first_words();
        table
    }

    fn index_first_words(&mut self) {
        for key in self.entries.keys() {
            let mut words = key.split(' ');
            let first = words.next().unwrap_or_default();
            let n = 1 + words.count();
            let slot = self.first_words.entry(first.to_string()).or_insert(0);
            *slot = (*slot).max(n);
        }
    }

    /// True when some source writes the alias all in lower case, so a lower-case match in text
    /// may still be the entity; a name matched in lower case is more likely an ordinary word.
    pub fn written_in_lower_case(&self, key: &str) -> bool {
        self.lowercase_keys.contains(key)
    }

    /// True when every name of `entity` under `key` is written in capitals, an acronym. Text
    /// that writes the key in lower case ("2,595 mi", "what of us") means something else, not
    /// the acronym (myocardial infarction, the United States).
    pub fn capitals_only(&self, key: &str, entity: EntityIdx) -> bool {
        // the set is small, and a lookup allocates only when it may hit
        !self.capitals_only.is_empty() && self.capitals_only.contains(&(key.to_string(), entity))
    }

    /// The most words of an alias that starts with the normalized word `first`; 0 when none
    /// does.
    pub fn longest_starting_with(&self, first: &str) -> usize {
        self.first_words.get(first).copied().unwrap_or(0)
    }

    /// Candidates of an already normalized alias, best first.
    pub fn get_normalized(&self, key: &str) -> Option<&[AliasCandidate]> {
        self.entries.get(key).map(Vec::as_slice)
    }

    /// Candidates of a raw alias text, best first.
    pub fn get(&self, text: &str) -> Option<&[AliasCandidate]> {
        self.get_normalized(&normalize(text))
    }

    /// KB degree + 1 of an entity.
    pub fn popularity(&self, entity: EntityIdx) -> f32 {
        self.popularity.get(entity as usize).copied().unwrap_or(1.0)
    }

    pub fn contains(&self, key: &str) -> bool {
        self.entries.contains_key(key)
    }

    /// Number of distinct normalized aliases.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// All (normalized alias, candidates) pairs, for building the fuzzy index.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &[AliasCandidate])> {
        self.entries.iter().map(|(k, v)| (k.as_str(), v.as_slice()))
    }

    /// Replaces the weights of the aliases in `counts` (for example mention counts from
    /// training data), keeping the KB-derived prior for all other aliases.
    pub fn reweight(&mut self, counts: &HashMap<String, HashMap<EntityIdx, f32>>) {
        for (key, per_entity) in counts {
            let pairs = per_entity.iter().map(|(&e, &w)| (e, w)).collect();
            self.entries
                .insert(key.clone(), to_priors(pairs, self.top_k));
        }
        self.index_first_words();
    }
}

/// Normalizes weights into priors and keeps the `top_k` best; ties broken by entity index so
/// the order is deterministic.
/// True when `entity` has a name under `key` (label, Wikipedia title, alias) not written in
/// capitals.
fn written_otherwise(kb: &Kb, entity: EntityIdx, key: &str) -> bool {
    let e = kb.entity(entity);
    let titles = e.wikipedia.as_deref().map(wikipedia_titles);
    let titles = titles
        .iter()
        .flat_map(|(title, bare)| std::iter::once(title.as_str()).chain(bare.as_deref()));
    e.label
        .as_deref()
        .into_iter()
        .chain(titles)
        .chain(kb.aliases_of(entity).iter().map(|a| a.text.as_str()))
        .any(|text| !in_capitals(text) && normalize(text) == key)
}

fn to_priors(mut pairs: Vec<(EntityIdx, f32)>, top_k: usize) -> Vec<AliasCandidate> {
    pairs.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    // summed in sorted order: the pairs come from a hash map, and a float sum in its
    // per-process order differs in the last bit from run to run
    let total: f32 = pairs.iter().map(|p| p.1).sum();
    pairs.truncate(top_k);
    pairs
        .into_iter()
        .map(|(entity, w)| AliasCandidate {
            entity,
            prior: if total > 0.0 { w / total } else { 0.0 },
            derived: false,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kb::{KbBuilder, Manifest};

    #[test]
    fn an_acronym_is_known_to_be_written_in_capitals_only() {
        let mut b = KbBuilder::new();
        b.label("Q12152", "myocardial infarction");
        b.alias("Q12152", "MI", None);
        b.label("Q1166", "Michigan");
        b.alias("Q1166", "MI", None);
        b.alias("Q1166", "Mi.", None);
        b.label("Q1", "Mi");
        b.label("Q2", "北京");
        let kb = b.finish(Manifest::default());
        let table = AliasTable::build(&kb, DEFAULT_TOP_K);
        let idx = |id| kb.entity_idx(id).unwrap();
        assert!(table.capitals_only("mi", idx("Q12152")));
        assert!(
            !table.capitals_only("mi", idx("Q1166")),
            "also written \"Mi.\""
        );
        assert!(!table.capitals_only("mi", idx("Q1")));
        assert!(
            !table.capitals_only("北京", idx("Q2")),
            "a script without case"
        );
    }

    #[test]
    fn priors_follow_degree_and_alias_kind() {
        let mut b = KbBuilder::new();
        b.label("Q90", "Paris");
        b.label("Q47899", "Paris Hilton");
        b.alias("Q47899", "Paris", None);
        b.wikipedia("Q1", "https://en.wikipedia.org/wiki/Paris_(band)");
        for i in 0..9 {
            b.triple("Q90", "P1", &format!("Q{}", 1000 + i));
        }
        let kb = b.finish(Manifest::default());
        let table = AliasTable::build(&kb, DEFAULT_TOP_K);
        let paris = table.get("PARIS").unwrap();
        assert_eq!(paris.len(), 3);
        assert_eq!(kb.entity(paris[0].entity).id, "Q90");
        // Q90: 1.0 × 10; Q1 (bare title): 0.8 × 1; Q47899 (alias): 0.5 × 1.
        assert!((paris[0].prior - 10.0 / 11.3).abs() < 1e-5);
        assert!(table.get("Paris (band)").is_some());
        let sum: f32 = paris.iter().map(|c| c.prior).sum();
        assert!((sum - 1.0).abs() < 1e-5);
    }

    #[test]
    fn priors_do_not_depend_on_the_order_weights_come_in() {
        let weights = [3.1f32, 0.7, 1e-3, 12.9, 0.33, 5.5];
        let pairs: Vec<(EntityIdx, f32)> = weights
            .iter()
            .enumerate()
            .map(|(i, &w)| (i as u32, w))
            .collect();
        let want = to_priors(pairs.clone(), 30);
        let mut reversed = pairs;
        reversed.reverse();
        for turn in 0..reversed.len() {
            reversed.rotate_left(1);
            assert_eq!(to_priors(reversed.clone(), 30), want, "rotation {turn}");
        }
    }

    #[test]
    fn a_mined_name_stays_below_the_entity_labelled_with_it() {
        let mut b = KbBuilder::new();
        b.label("Q8798", "Ukrainian");
        b.label("Q212", "Ukraine");
        b.label("Q30", "United States of America");
        for i in 0..50 {
            b.triple("Q212", "P1", &format!("Q{}", 1000 + i));
            b.triple("Q30", "P1", &format!("Q{}", 1000 + i));
        }
        let kb = b.finish(Manifest::default());
        let idx = |id| kb.entity_idx(id).unwrap();
        let mined = |word: &str, id| DerivedName {
            word: word.into(),
            entity: idx(id),
            share: 1.0,
            count: 10,
        };
        let table = AliasTable::build_with(
            &kb,
            DEFAULT_TOP_K,
            &[mined("Ukrainian", "Q212"), mined("American", "Q30")],
            &[],
        );
        let ukrainian = table.get("Ukrainian").unwrap();
        assert_eq!(ukrainian[0].entity, idx("Q8798"));
        assert!(!ukrainian[0].derived);
        assert_eq!(
            (ukrainian[1].entity, ukrainian[1].derived),
            (idx("Q212"), true)
        );
        // Ukraine's weight is capped at half the language's: 0.5 × 1 of 1.5
        assert!((ukrainian[1].prior - 1.0 / 3.0).abs() < 1e-5);
        // no entity is labelled "American": the mined name stands alone
        let american = table.get("American").unwrap();
        assert_eq!((american.len(), american[0].derived), (1, true));
        // a name a KB source gives is never marked as mined
        assert!(!table.get("Ukraine").unwrap()[0].derived);
    }

    #[test]
    fn decodes_wikipedia_urls() {
        let (t, bare) = wikipedia_titles("https://en.wikipedia.org/wiki/Caf%C3%A9_(film)");
        assert_eq!(t, "Café (film)");
        assert_eq!(bare.as_deref(), Some("Café"));
    }
}
