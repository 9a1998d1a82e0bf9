//! How a known entity is written in a verbalized sentence: by its label, by a hard name
//! ("Jordan" for Michael Jordan, a name retrieval ranks it low for) or by a short form
//! ("Sinatra", a surname many people share; "soldiers", a plural only fuzzy search finds).
//!
//! Labels alone would agree with the prior, and teach the model only to follow it; exact
//! aliases alone would teach it that a fuzzy candidate is rarely right.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::kb::EntityIdx;
use crate::retrieve::normalize;

use super::generate::Generator;

/// Name suffixes that an alias list split at commas ("Viggo Mortensen, Jr.") leaves as aliases
/// of their own; nobody is called by them alone.
const SUFFIXES: &[&str] = &["jr", "sr", "ii", "iii", "iv", "inc", "ltd", "co", "plc"];
/// The Wikidata type of people.
const HUMAN: &str = "Q5";
/// A hard name must leave its entity within the candidates a model reads.
const HARD_NAME_MAX_RANK: usize = 16;

impl Generator<'_> {
    /// The name to write a known entity with: `None` for its label, or, in a `hard_names`
    /// share of the draws (seeded by `salt`), another of its names for which retrieval ranks it
    /// below the top: an alias, or (with `partial`, where another mention of the sentence can
    /// point to it) the first or last word of its label.
    ///
    /// In a `short_names` share of the other draws it is the [`Generator::short_name`].
    pub(super) fn written_name(
        &self,
        entity: EntityIdx,
        salt: u64,
        partial: bool,
    ) -> Option<String> {
        let mut rng = StdRng::seed_from_u64(self.seed ^ (u64::from(entity) << 24) ^ salt);
        let draw = rng.random::<f32>();
        if draw >= self.hard_names {
            // the short-name share is of the mentions not given a hard name
            let short = self.hard_names + self.short_names * (1.0 - self.hard_names);
            return (draw < short).then(|| self.short_name(entity)).flatten();
        }
        let label = self.kb.entity(entity).label.as_deref()?;
        let label_key = normalize(label);
        let mut names: Vec<&str> = self
            .kb
            .aliases_of(entity)
            .iter()
            .map(|a| a.text.as_str())
            .collect();
        let words: Vec<&str> = label.split(' ').collect();
        // People are called by one of their names ("Steve", "Jobs"); an award or a city is not
        // called by one word of its label.
        if partial && self.is_person(entity) && words.len() >= 2 {
            names.extend(
                [words[0], words[words.len() - 1]]
                    .into_iter()
                    .filter(|w| name_word(w)),
            );
        }
        let mut hard: Vec<&str> = names
            .into_iter()
            .filter(|name| {
                let key = normalize(name);
                if key == label_key || !self.callable(&key) {
                    return false;
                }
                let candidates = self.candidates(&key);
                match candidates.iter().position(|c| c.entity == entity) {
                    // An entity the KB links to ranked above is what the name means: a city's
                    // alias list that names its country ("Toronto, Canada" split in two) does
                    // not make "Canada" a name of Toronto.
                    Some(rank) => {
                        rank > 0
                            && rank < HARD_NAME_MAX_RANK
                            && !candidates[..rank]
                                .iter()
                                .any(|c| self.labeller.adjacent(c.entity, entity))
                    }
                    // only a word of the label reaches here unseen; context must find it
                    None => partial && label.split(' ').any(|w| w == *name),
                }
            })
            .collect();
        hard.sort_unstable();
        hard.dedup();
        if hard.is_empty() {
            return None;
        }
        Some(hard[rng.random_range(0..hard.len())].to_string())
    }

    /// The short form text writes an entity with once it is known: a person's surname
    /// ("Sinatra", an alias of every Sinatra of the KB), a concept's plural ("soldiers", which
    /// only fuzzy search finds). Without them training holds almost no gold that is not the
    /// label or an alias the KB gives (under 3% of the unmasked labels), where real text has
    /// many (in the benchmarks, 18% of the golds retrieval finds). `None` when the entity has no such form, or the form's candidates do
    /// not hold it within the ranks a model reads.
    fn short_name(&self, entity: EntityIdx) -> Option<String> {
        let label = self.kb.entity(entity).label.as_deref()?;
        let words: Vec<&str> = label.split(' ').collect();
        let person = self.is_person(entity);
        let short = if person && words.len() >= 2 {
            let surname = words[words.len() - 1];
            name_word(surname).then(|| surname.to_string())?
        } else if !person && label.chars().all(|c| !c.is_uppercase()) && label.is_ascii() {
            plural(label)?
        } else {
            return None;
        };
        let key = normalize(&short);
        if !self.callable(&key) {
            return None;
        }
        let candidates = self.candidates(&key);
        candidates
            .iter()
            .take(HARD_NAME_MAX_RANK)
            .any(|c| c.entity == entity)
            .then_some(short)
    }

    /// True for an entity of the Wikidata type of people.
    fn is_person(&self, entity: EntityIdx) -> bool {
        let human = self.kb.entity_idx(HUMAN);
        human.is_some_and(|h| self.kb.types_of(entity).any(|t| t == h))
    }

    /// True for a normalized name a text could call an entity by alone: not empty, not a bare
    /// suffix ("jr"), not an ordinary word.
    fn callable(&self, key: &str) -> bool {
        !key.is_empty() && !SUFFIXES.contains(&key) && !self.retriever.common.is_common(key)
    }
}

/// A word of a person's label that text calls them by: capitalized, three letters or more, not
/// an initial ("J.").
fn name_word(word: &str) -> bool {
    word.chars().count() >= 3
        && !word.ends_with('.')
        && word.chars().next().is_some_and(char::is_uppercase)
}

/// The English plural of a lower-case noun phrase, inflecting its last word; `None` where the
/// last word does not end in a letter.
fn plural(phrase: &str) -> Option<String> {
    let last = phrase.rsplit(' ').next()?;
    let ends = |s: &str| last.ends_with(s);
    if !last.chars().last()?.is_ascii_alphabetic() {
        return None;
    }
    let before_y = last.chars().rev().nth(1);
    Some(
        if ends("s") || ends("x") || ends("z") || ends("ch") || ends("sh") {
            format!("{phrase}es")
        } else if ends("y") && before_y.is_some_and(|c| !"aeiou".contains(c)) {
            format!("{}ies", &phrase[..phrase.len() - 1])
        } else {
            format!("{phrase}s")
        },
    )
}

#[cfg(test)]
mod tests {
    use super::super::example::Rule;
    use super::super::label::DEFAULT_DOMINANCE;
    use super::*;
    use crate::kb::{Kb, KbBuilder, Manifest};
    use crate::retrieve::{Retriever, RetrieverOptions};

    /// Retrieval without the fuzzy index: these tests are about names and context.
    fn exact_retriever(kb: &Kb) -> Retriever {
        let options = RetrieverOptions {
            fuzzy: false,
            ..RetrieverOptions::default()
        };
        Retriever::build(kb, &options).unwrap()
    }

    #[test]
    fn a_founder_is_written_by_one_of_his_names_and_found_through_the_company() {
        let mut b = KbBuilder::new();
        for (id, label) in [
            ("Q1", "Steve Jobs"),
            ("Q2", "Steve Martin"),
            ("Q3", "Apple Inc."),
            ("Q4", "Steve"),
            ("Q5", "human"),
        ] {
            b.label(id, label);
        }
        for person in ["Q1", "Q2"] {
            b.entity_type(person, "Q5");
        }
        b.relation_label("P112", "founded by");
        b.triple("Q3", "P112", "Q1");
        let kb = b.finish(Manifest::default());
        let retriever = exact_retriever(&kb);
        let jobs = kb.entity_idx("Q1").unwrap();
        let triple = kb.triples[0];

        let plain = Generator::new(&kb, &retriever, DEFAULT_DOMINANCE);
        let (sentence, _) = plain.triple(&triple);
        let tail = &sentence.unwrap().mentions[1];
        assert_eq!(
            (tail.surface.as_str(), tail.rule),
            ("Steve Jobs", Rule::Known)
        );

        let mut hard = Generator::new(&kb, &retriever, DEFAULT_DOMINANCE);
        hard.hard_names = 1.0;
        let (sentence, tally) = hard.triple(&triple);
        let sentence = sentence.unwrap();
        let tail = &sentence.mentions[1];
        assert!(
            ["Steve", "Jobs"].contains(&tail.surface.as_str()),
            "{}",
            sentence.text
        );
        assert_eq!((tail.gold, tail.rule), (jobs, Rule::Renamed));
        assert!(tail.candidates.iter().any(|c| c.entity == jobs));
        assert_eq!(tally.labelled.get("triple-renamed"), Some(&1));
        // Apple is written by its label: it has no other name
        assert_eq!(sentence.mentions[0].rule, Rule::Known);
    }

    #[test]
    fn a_short_name_is_a_surname_or_a_plural_that_fuzzy_search_still_finds() {
        let mut b = KbBuilder::new();
        for (id, label) in [
            ("Q1", "Frank Sinatra"),
            ("Q2", "soldier"),
            ("Q3", "Paris"),
            ("Q5", "human"),
        ] {
            b.label(id, label);
        }
        b.entity_type("Q1", "Q5");
        let kb = b.finish(Manifest::default());
        let retriever = Retriever::build(&kb, &RetrieverOptions::default()).unwrap();
        let g = Generator::new(&kb, &retriever, DEFAULT_DOMINANCE);
        let short = |id| g.short_name(kb.entity_idx(id).unwrap());
        assert_eq!(short("Q1").as_deref(), Some("Sinatra"));
        assert_eq!(short("Q2").as_deref(), Some("soldiers"));
        assert_eq!(short("Q3"), None, "a one-word place name has no short form");

        let mut shortening = Generator::new(&kb, &retriever, DEFAULT_DOMINANCE);
        shortening.short_names = 1.0;
        let sinatra = kb.entity_idx("Q1").unwrap();
        assert_eq!(
            shortening.written_name(sinatra, 7, false).as_deref(),
            Some("Sinatra")
        );
        assert_eq!(g.written_name(sinatra, 7, false), None, "off by default");
    }

    #[test]
    fn plurals_follow_english_spelling() {
        assert_eq!(plural("soldier").as_deref(), Some("soldiers"));
        assert_eq!(plural("academy").as_deref(), Some("academies"));
        assert_eq!(plural("day").as_deref(), Some("days"));
        assert_eq!(plural("church").as_deref(), Some("churches"));
        assert_eq!(
            plural("association football player").as_deref(),
            Some("association football players")
        );
        assert_eq!(plural("4"), None);
    }

    #[test]
    fn a_piece_of_a_split_alias_that_names_a_linked_place_is_not_a_hard_name() {
        let mut b = KbBuilder::new();
        for (id, label) in [("Q1", "Toronto"), ("Q2", "Canada"), ("Q3", "Ontario")] {
            b.label(id, label);
        }
        // "Toronto, Canada" split at its comma
        b.alias("Q1", "Canada", None);
        b.relation_label("P17", "country");
        b.triple("Q1", "P17", "Q2");
        let kb = b.finish(Manifest::default());
        let retriever = exact_retriever(&kb);
        let mut g = Generator::new(&kb, &retriever, DEFAULT_DOMINANCE);
        g.hard_names = 1.0;
        let toronto = kb.entity_idx("Q1").unwrap();
        for salt in 0..20 {
            assert_eq!(g.written_name(toronto, salt, true), None);
        }
    }
}
