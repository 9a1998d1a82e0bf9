//! Rendering KB facts as sentences whose mention spans are known by construction.
//!
//! A description becomes "Paris is a city in France." with the entity as subject; a triple
//! becomes "The country of Paris is France." or "Germany shares border with France.", the form
//! chosen from the relation's wording. Freebase-style relation ids without a label
//! (`/people/person/place_of_birth`) are read from their last path segment. The sentences are
//! plain on purpose: the model should learn from the context words a relation brings, not from
//! a template's style.

/// A rendered sentence with the code-point spans of the mentions it was built around.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verbalized {
    pub text: String,
    /// `[start, end)` code points of the subject (description) or head (triple).
    pub first: (usize, usize),
    /// `[start, end)` code points of the tail, for triples.
    pub second: Option<(usize, usize)>,
}

/// Words that start a relation phrase already reading as a verb: "X contains Y".
const VERBS: &[&str] = &[
    "contains", "shares", "has", "follows", "replaces", "adjoins", "includes", "owns", "uses",
];
const PREPOSITIONS: &[&str] = &[
    "of", "in", "at", "by", "with", "for", "to", "from", "on", "as", "into",
];
/// First words after which a description reads better with "the" than with "a".
const DEFINITE: &[&str] = &[
    "capital", "first", "second", "third", "last", "main", "official", "current", "only",
];

/// Incremental builder that tracks code-point offsets as text is appended.
struct Writer {
    text: String,
    chars: usize,
}

impl Writer {
    fn new() -> Self {
        Writer {
            text: String::new(),
            chars: 0,
        }
    }

    fn push(&mut self, s: &str) -> (usize, usize) {
        let start = self.chars;
        self.text.push_str(s);
        self.chars += s.chars().count();
        (start, self.chars)
    }
}

/// "Paris is the capital and largest city of France." for an entity named `name` with
/// `description`; `None` for descriptions that describe a page rather than a thing
/// ("Wikimedia disambiguation page") or are empty.
pub fn description_sentence(name: &str, description: &str) -> Option<Verbalized> {
    let description = description.trim().trim_end_matches('.');
    if description.is_empty() || name.trim().is_empty() || description.starts_with("Wikimedia") {
        return None;
    }
    let mut w = Writer::new();
    let first = w.push(name);
    w.push(" is ");
    let first_word = description.split(' ').next().unwrap_or("").to_lowercase();
    let has_determiner = matches!(first_word.as_str(), "a" | "an" | "the" | "one");
    if !has_determiner {
        w.push(article(&first_word));
        w.push(" ");
    }
    w.push(description);
    w.push(".");
    Some(Verbalized {
        text: w.text,
        first,
        second: None,
    })
}

/// The article a description starting with `word` takes.
fn article(word: &str) -> &'static str {
    if DEFINITE.contains(&word) || (word.ends_with("est") && word.len() > 4) {
        return "the";
    }
    match word.chars().next() {
        Some('a' | 'e' | 'i' | 'o') => "an",
        Some('u') if !word.starts_with("uni") && !word.starts_with("use") => "an",
        Some('8') => "an",
        _ => "a",
    }
}

/// A relation's words: its label, else the last segment of a Freebase-style path id with
/// underscores as spaces ("/people/person/place_of_birth" → "place of birth").
pub fn relation_phrase(id: &str, label: Option<&str>) -> String {
    if let Some(label) = label.filter(|l| !l.trim().is_empty()) {
        return label.trim().to_string();
    }
    let last = id.rsplit(['/', '.']).find(|s| !s.is_empty()).unwrap_or(id);
    let last = last.strip_suffix("_s").unwrap_or(last);
    last.replace('_', " ")
}

/// The sentence for `head —relation→ tail`, with both names' spans.
pub fn triple_sentence(head: &str, relation: &str, tail: &str) -> Verbalized {
    let words: Vec<&str> = relation.split_whitespace().collect();
    let first_word = words.first().copied().unwrap_or("").to_lowercase();
    let last_word = words.last().copied().unwrap_or("").to_lowercase();
    let mut w = Writer::new();
    let (first, second);
    if VERBS.contains(&first_word.as_str()) {
        first = w.push(head);
        w.push(&format!(" {relation} "));
        second = w.push(tail);
    } else if PREPOSITIONS.contains(&last_word.as_str()) || first_word.ends_with("ed") {
        first = w.push(head);
        w.push(&format!(" is {relation} "));
        second = w.push(tail);
    } else {
        w.push(&format!("The {relation} of "));
        first = w.push(head);
        w.push(" is ");
        second = w.push(tail);
    }
    w.push(".");
    Verbalized {
        text: w.text,
        first,
        second: Some(second),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(text: &str, s: (usize, usize)) -> String {
        text.chars().skip(s.0).take(s.1 - s.0).collect()
    }

    #[test]
    fn descriptions_take_the_entity_as_subject() {
        let v = description_sentence("Paris", "capital and largest city of France").unwrap();
        assert_eq!(v.text, "Paris is the capital and largest city of France.");
        assert_eq!(span(&v.text, v.first), "Paris");
        let v = description_sentence("Zürich", "American actor").unwrap();
        assert_eq!(v.text, "Zürich is an American actor.");
        let v = description_sentence("Z", "a river.").unwrap();
        assert_eq!(v.text, "Z is a river.");
        assert!(description_sentence("X", "Wikimedia disambiguation page").is_none());
        assert!(description_sentence("X", "  ").is_none());
    }

    #[test]
    fn triples_read_by_relation_form() {
        let v = triple_sentence("Paris", "country", "France");
        assert_eq!(v.text, "The country of Paris is France.");
        assert_eq!(span(&v.text, v.first), "Paris");
        assert_eq!(span(&v.text, v.second.unwrap()), "France");
        let v = triple_sentence("Germany", "shares border with", "Österreich");
        assert_eq!(v.text, "Germany shares border with Österreich.");
        assert_eq!(span(&v.text, v.second.unwrap()), "Österreich");
        let v = triple_sentence("Ada", "educated at", "ETH");
        assert_eq!(v.text, "Ada is educated at ETH.");
        let v = triple_sentence("Ada", "influenced by", "Bo");
        assert_eq!(v.text, "Ada is influenced by Bo.");
    }

    #[test]
    fn freebase_paths_become_phrases() {
        let p = "/people/person/places_lived./people/place_lived/location";
        assert_eq!(relation_phrase(p, None), "location");
        assert_eq!(
            relation_phrase("/people/person/place_of_birth", None),
            "place of birth"
        );
        assert_eq!(
            relation_phrase("/film/film/release_date_s", None),
            "release date"
        );
        assert_eq!(relation_phrase("P17", Some("country")), "country");
    }
}
