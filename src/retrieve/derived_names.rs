//! Adjectival names mined from the KB: "American" for the United States, "Hungarian" for
//! Hungary.
//!
//! Text names a country or city by its adjective far more often than by its name ("an American
//! actor", "the Hungarian government"), and gold standards built on Wikipedia's links send such
//! mentions to the place. KB aliases rarely hold these forms. The KB says them anyway: in the
//! descriptions of the entities linked to the place ("American actor" beside a citizenship of
//! the United States). A description word becomes a name of a neighbour of the described
//! entity when both hold:
//!
//! - **form**: the word is a one-word name of the neighbour with its last few letters replaced
//!   by an adjectival ending ("Hungar-y" → "Hungar-ian", "Engl-and" → "Engl-ish");
//! - **evidence**: at least six descriptions with the word belong to entities linked to the
//!   neighbour, and at least half as many as for the word's best-supported neighbour ("Italian"
//!   beside Italy 91 times, beside the Kingdom of Italy 40).
//!
//! In: a [`Kb`]. Out: (word, entity, share) triples that [`super::AliasTable`] adds as its
//! weakest aliases: below any name a KB source gives, and below an entity labelled with the
//! word itself ("Ukrainian", the language, stays above Ukraine).
//! The form test knows English endings only, as the encoder and the stop words do; forms that
//! change the stem ("French", "Dutch", "Danish") are missed.

use std::collections::{HashMap, HashSet};

use crate::kb::{EntityIdx, Kb};

/// Endings an adjective puts on a (shortened) name: "America-n", "Ital-ian", "Brit-ish".
const ENDINGS: [&str; 8] = ["n", "an", "ian", "ean", "ish", "ese", "ic", "i"];
/// Shortest stem the word and the name must share.
const MIN_STEM: usize = 4;
/// Most letters of the name the stem may drop ("Engl-and" drops three).
const MAX_DROPPED: usize = 3;
/// Longest name, in words, an adjective may come from: one. In longer names a word may name
/// something else ("Rome Italy", "Mexico City"), or be the adjective itself ("Italian
/// Republic", which would hide that "Italian" is new for Italy).
const MAX_NAME_WORDS: usize = 1;

/// When a mined pair is kept.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MiningThresholds {
    /// Descriptions with the word among the neighbour's linked entities, at least.
    pub min_count: u32,
}

impl Default for MiningThresholds {
    fn default() -> Self {
        // With 3, "British" named Britpop (5 descriptions) and "Ocean" Oceania (4).
        MiningThresholds { min_count: 6 }
    }
}

/// One mined name.
#[derive(Debug, Clone, PartialEq)]
pub struct DerivedName {
    /// The word as descriptions write it ("Hungarian").
    pub word: String,
    pub entity: EntityIdx,
    /// This entity's share of the word's kept evidence, in (0, 1].
    pub share: f32,
    /// Descriptions with the word among the entity's linked entities.
    pub count: u32,
}

/// Mines adjectival names from the KB's descriptions and relations.
pub fn mine(kb: &Kb, thresholds: MiningThresholds) -> Vec<DerivedName> {
    let adjacency = kb.adjacency();
    let names = NameWords::of(kb);
    let mut pair_count: HashMap<(&str, EntityIdx), u32> = HashMap::new();
    for (i, entity) in kb.entities.iter().enumerate() {
        let Some(description) = entity.description.as_deref() else {
            continue;
        };
        let neighbours = adjacency.of(i as EntityIdx);
        let words: HashSet<&str> = capitalized_words(description).collect();
        for word in words {
            for &n in neighbours {
                if names.derives(word, n) {
                    *pair_count.entry((word, n)).or_default() += 1;
                }
            }
        }
    }

    let mut kept: HashMap<&str, Vec<(EntityIdx, u32)>> = HashMap::new();
    for ((word, n), count) in pair_count {
        if count >= thresholds.min_count {
            kept.entry(word).or_default().push((n, count));
        }
    }
    let mut mined = Vec::new();
    for (word, mut pairs) in kept {
        // Keep the entities with at least half the best one's evidence: "Italian" names Italy,
        // not every town in it.
        let best = pairs.iter().map(|p| p.1).max().unwrap_or(0);
        pairs.retain(|p| 2 * p.1 >= best);
        let total: u32 = pairs.iter().map(|p| p.1).sum();
        for (entity, count) in pairs {
            mined.push(DerivedName {
                word: word.to_string(),
                entity,
                share: count as f32 / total as f32,
                count,
            });
        }
    }
    mined.sort_by(|a, b| a.word.cmp(&b.word).then(a.entity.cmp(&b.entity)));
    tracing::debug!(names = mined.len(), "mined adjectival names");
    mined
}

/// Words of a description that look like adjectival names: a capital, then at least three
/// lower-case letters.
fn capitalized_words(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !c.is_alphabetic()).filter(|w| {
        let mut chars = w.chars();
        chars.next().is_some_and(char::is_uppercase)
            && chars.clone().all(char::is_lowercase)
            && chars.count() >= MIN_STEM - 1
    })
}

/// Each entity's capitalized names of at most [`MAX_NAME_WORDS`] words without a qualifier
/// ("Rome, Italy"), from its label and aliases, to test the form.
struct NameWords {
    words: Vec<Vec<String>>,
}

impl NameWords {
    fn of(kb: &Kb) -> Self {
        let mut words: Vec<Vec<String>> = vec![Vec::new(); kb.entities.len()];
        let mut add = |entity: EntityIdx, name: &str| {
            if name.split_whitespace().count() > MAX_NAME_WORDS || name.contains([',', '(']) {
                return;
            }
            let slot = &mut words[entity as usize];
            for word in capitalized_words(name) {
                if !slot.iter().any(|w| w == word) {
                    slot.push(word.to_string());
                }
            }
        };
        for (i, entity) in kb.entities.iter().enumerate() {
            if let Some(label) = &entity.label {
                add(i as EntityIdx, label);
            }
        }
        for alias in &kb.aliases {
            add(alias.entity, &alias.text);
        }
        NameWords { words }
    }

    /// True when `word` is one of the entity's name words with an adjectival ending, and not
    /// the name word itself.
    fn derives(&self, word: &str, entity: EntityIdx) -> bool {
        let names = &self.words[entity as usize];
        if names.iter().any(|n| n == word) {
            return false;
        }
        ENDINGS.iter().any(|ending| {
            let Some(stem) = word.strip_suffix(ending) else {
                return false;
            };
            let stem_len = stem.chars().count();
            stem_len >= MIN_STEM
                && names.iter().any(|name| {
                    name.starts_with(stem) && name.chars().count() <= stem_len + MAX_DROPPED
                })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kb::{KbBuilder, Manifest};

    /// Hungary and `hungarians` Hungarian people linked to it.
    fn kb_with_hungarians(hungarians: usize) -> Kb {
        let mut b = KbBuilder::new();
        b.label("Q28", "Hungary");
        b.label("Q1", "Hungaroring");
        for i in 0..hungarians {
            let q = format!("Q{}", 100 + i);
            b.label(&q, &format!("Person {i}"));
            b.description(&q, "Hungarian painter");
            b.triple(&q, "P27", "Q28");
            // Hungaroring is linked as often, but "Hungarian" is not its form
            b.triple(&q, "P1", "Q1");
        }
        b.finish(Manifest::default())
    }

    #[test]
    fn an_adjective_in_descriptions_near_a_place_names_the_place() {
        let kb = kb_with_hungarians(6);
        let mined = mine(&kb, MiningThresholds::default());
        assert_eq!(mined.len(), 1, "{mined:?}");
        assert_eq!(mined[0].word, "Hungarian");
        assert_eq!(kb.entity(mined[0].entity).id, "Q28");
        assert_eq!((mined[0].count, mined[0].share), (6, 1.0));
    }

    #[test]
    fn too_little_evidence_names_nothing() {
        let kb = kb_with_hungarians(5);
        assert!(mine(&kb, MiningThresholds::default()).is_empty());
    }

    #[test]
    fn the_form_test_takes_endings_not_any_shared_start() {
        let names = NameWords {
            words: vec![
                vec!["England".into()],
                vec!["America".into()],
                vec!["July".into()],
            ],
        };
        assert!(names.derives("English", 0));
        assert!(names.derives("American", 1));
        assert!(!names.derives("Englander", 0), "no such ending");
        assert!(
            !names.derives("America", 1),
            "the name itself is no new name"
        );
        assert!(
            !names.derives("Julian", 2),
            "a three-letter stem is too short"
        );
    }
}
