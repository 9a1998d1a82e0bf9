//! Surnames as names of people: "Reagan" for Ronald Reagan, "Nixon" for Richard Nixon.
//!
//! News and encyclopedic prose call a person by the surname alone after the first mention, and
//! often from the start. KB aliases rarely list that form, so the exact candidates of "Reagan"
//! were only what carries it as a whole label (a 2011 film) and the president came from fuzzy
//! search with a prior of 0.03, below every exact match. A person's surname, taken from the
//! label, is added to the alias table as a weak alias weighted by the person's KB degree: a
//! well-connected person outranks an obscure work named after them, and a country named by the
//! word ("Jordan") keeps its lead over a player's surname.
//!
//! In: a [`Kb`]. Out: (surname, person) pairs that [`super::AliasTable`] adds. Only entities of
//! the Wikidata type of people (Q5) with a label of two words or more give one.

use crate::kb::{EntityIdx, Kb};

/// The Wikidata type of people.
const HUMAN: &str = "Q5";
/// Name suffixes a label may end with; the surname is the word before them.
const SUFFIXES: &[&str] = &["Jr.", "Jr", "Sr.", "Sr"];
/// Regnal numbers: a pope or a king ("John Paul II") is not called by the word before them.
const REGNAL: &[&str] = &[
    "I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII", "XIII", "XIV", "XV",
    "XVI",
];

/// One surname of a person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Surname {
    /// The word as the label writes it ("Reagan").
    pub word: String,
    pub entity: EntityIdx,
}

/// The surname of every person of the KB whose label has one.
pub fn surnames(kb: &Kb) -> Vec<Surname> {
    let Some(human) = kb.entity_idx(HUMAN) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (i, e) in kb.entities.iter().enumerate() {
        let entity = i as EntityIdx;
        let Some(label) = e.label.as_deref() else {
            continue;
        };
        if !kb.types_of(entity).any(|t| t == human) {
            continue;
        }
        if let Some(word) = surname_of(label) {
            out.push(Surname {
                word: word.to_string(),
                entity,
            });
        }
    }
    out
}

/// The last name word of a person's label: the word before a suffix ("Jr."), capitalized, of
/// three letters or more, not an initial or a bracketed note; `None` for a one-word label.
fn surname_of(label: &str) -> Option<&str> {
    let words: Vec<&str> = label
        .split(' ')
        .map(|w| w.trim_end_matches(','))
        .filter(|w| !w.is_empty())
        .collect();
    if words.last().is_some_and(|w| REGNAL.contains(w)) {
        return None;
    }
    let end = words
        .iter()
        .rposition(|w| !SUFFIXES.contains(w))
        .filter(|&at| at > 0)?;
    let word = words[end];
    let letters = word.chars().filter(|c| c.is_alphabetic()).count();
    let mut chars = word.chars();
    let capital = chars.next().is_some_and(char::is_uppercase);
    let name_like = word
        .chars()
        .all(|c| c.is_alphabetic() || c == '-' || c == '\'');
    let not_capitals = word.chars().skip(1).any(char::is_lowercase);
    (capital && name_like && not_capitals && letters >= 3).then_some(word)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kb::{KbBuilder, Manifest};
    use crate::retrieve::{AliasTable, DEFAULT_TOP_K};

    #[test]
    fn a_known_person_outranks_a_work_named_after_them_but_not_a_country() {
        let mut b = KbBuilder::new();
        b.label("Q5", "human");
        for (id, label) in [
            ("Q9960", "Ronald Reagan"),
            ("Q7300737", "Reagan"),
            ("Q41421", "Michael Jordan"),
            ("Q810", "Jordan"),
            ("Q2", "Tiny Reagan"),
        ] {
            b.label(id, label);
        }
        for person in ["Q9960", "Q41421", "Q2"] {
            b.entity_type(person, "Q5");
        }
        // degrees: the president 20, the film 1, the player 10, the country 80
        for (id, n) in [("Q9960", 20), ("Q7300737", 1), ("Q41421", 10), ("Q810", 80)] {
            for i in 0..n {
                b.triple(id, "P1", &format!("Q{}", 100_000 + i));
            }
        }
        let kb = b.finish(Manifest::default());
        let names = surnames(&kb);
        assert_eq!(names.len(), 3, "{names:?}");
        let table = AliasTable::build_with(&kb, DEFAULT_TOP_K, &[], &names);
        let first = |key| kb.entity(table.get(key).unwrap()[0].entity).id.clone();
        assert_eq!(first("Reagan"), "Q9960");
        assert_eq!(
            table.get("Reagan").unwrap().len(),
            3,
            "the film and the other Reagan too"
        );
        assert_eq!(first("Jordan"), "Q810");
    }

    #[test]
    fn the_last_name_word_is_the_surname() {
        assert_eq!(surname_of("Ronald Reagan"), Some("Reagan"));
        assert_eq!(surname_of("Martin Luther King Jr."), Some("King"));
        assert_eq!(surname_of("Sammy Davis, Jr."), Some("Davis"));
        assert_eq!(surname_of("Catherine Zeta-Jones"), Some("Zeta-Jones"));
        assert_eq!(surname_of("Madonna"), None);
        assert_eq!(surname_of("George H. W."), None, "an initial");
        assert_eq!(surname_of("Lil Wayne Li"), None, "too short");
        assert_eq!(surname_of("John Paul II"), None, "a pope");
        assert_eq!(surname_of("Prince (musician)"), None);
        assert_eq!(surname_of("DJ SHADOW"), None, "capitals");
    }
}
