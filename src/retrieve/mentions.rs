//! Mention detection: longest-first matching of aliases over word n-grams.
//!
//! The overlap rule is leftmost-longest: scanning left to right, at each word the longest alias
//! (up to [`MAX_ALIAS_TOKENS`] words) that starts there becomes a mention and the scan resumes
//! after it. So "Salt Lake City" wins over the "Lake City" inside it, and a match that starts
//! earlier wins over an overlapping one that starts later. Matches never cross a sentence end.

use super::alias_table::{AliasTable, MAX_ALIAS_TOKENS};
use super::common_words::CommonWords;
use super::tokens::{tokenize, Token};

/// A span of text that matches an alias.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DetectedMention {
    /// Code-point offsets, `[start, end)`.
    pub start: usize,
    pub end: usize,
    /// The normalized alias it matched.
    pub key: String,
}

/// Finds alias mentions in raw text.
pub struct MentionDetector<'a> {
    table: &'a AliasTable,
    common: &'a CommonWords,
}

impl<'a> MentionDetector<'a> {
    pub fn new(table: &'a AliasTable, common: &'a CommonWords) -> Self {
        MentionDetector { table, common }
    }

    pub fn detect(&self, text: &str) -> Vec<DetectedMention> {
        let tokens = tokenize(text);
        let mut found = Vec::new();
        let mut i = 0;
        while i < tokens.len() {
            match self.longest_at(&tokens, i) {
                Some((n, key)) => {
                    found.push(DetectedMention {
                        start: tokens[i].start,
                        end: tokens[i + n - 1].end,
                        key,
                    });
                    i += n;
                }
                None => i += 1,
            }
        }
        found
    }

    /// The longest acceptable alias starting at token `i`: its length in tokens and its key.
    fn longest_at(&self, tokens: &[Token<'_>], i: usize) -> Option<(usize, String)> {
        let longest = self.table.longest_starting_with(&tokens[i].norm);
        if longest == 0 {
            return None;
        }
        let mut limit = 1;
        while limit < longest.min(MAX_ALIAS_TOKENS)
            && i + limit < tokens.len()
            && !tokens[i + limit].sentence_start
        {
            limit += 1;
        }
        // The key of n words is a prefix of the key of n + 1: build the longest once and try
        // its prefixes, longest first, instead of joining a new string per length.
        let mut key = String::new();
        let mut ends = [0usize; MAX_ALIAS_TOKENS];
        for (n, t) in tokens[i..i + limit].iter().enumerate() {
            if n > 0 {
                key.push(' ');
            }
            key.push_str(&t.norm);
            ends[n] = key.len();
        }
        (1..=limit).rev().find_map(|n| {
            let span = &tokens[i..i + n];
            let prefix = &key[..ends[n - 1]];
            (self.table.contains(prefix) && !self.is_ordinary(span, prefix))
                .then(|| (n, prefix.to_string()))
        })
    }

    /// True for spans that are ordinary words rather than names: all words common and none
    /// capitalized mid-sentence, a single character, no letter at all, or a name that the KB
    /// only ever writes capitalized found with no capital ("may", "will", "north").
    ///
    /// A capital on a later word counts too: in "saw the Who play" the band's name starts with
    /// a lower-case "the", and judged by that word alone the span was ordinary, which left "Who"
    /// to match the World Health Organization. Only a word in title case counts there: "the WHO"
    /// writes the acronym, not the band.
    fn is_ordinary(&self, span: &[Token<'_>], key: &str) -> bool {
        let uncapitalized = span.iter().all(|t| !t.text.chars().any(char::is_uppercase));
        if uncapitalized && !self.table.written_in_lower_case(key) {
            return true;
        }
        let first = &span[0];
        if span.len() == 1 && first.text.chars().count() == 1 {
            return true;
        }
        if !span.iter().any(|t| t.text.chars().any(char::is_alphabetic)) {
            return true;
        }
        let all_common = span.iter().all(|t| self.common.is_common(&t.norm));
        let capitalized_mid_sentence = (!first.sentence_start && starts_upper(first.text))
            || span[1..].iter().any(|t| title_case(t.text));
        all_common && !capitalized_mid_sentence
    }
}

fn starts_upper(word: &str) -> bool {
    word.chars().next().is_some_and(char::is_uppercase)
}

/// A capital followed by at least one lower-case letter ("Who", not "WHO").
fn title_case(word: &str) -> bool {
    starts_upper(word) && word.chars().skip(1).any(char::is_lowercase)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kb::{KbBuilder, Manifest};
    use crate::retrieve::alias_table::DEFAULT_TOP_K;

    fn detect(text: &str) -> Vec<String> {
        let mut b = KbBuilder::new();
        for (id, label) in [
            ("Q1", "Salt Lake City"),
            ("Q2", "Lake City"),
            ("Q3", "The"),
            ("Q4", "City"),
            ("Q5", "Paris"),
            ("Q6", "May"),
            ("Q7", "New York"),
            ("Q8", "York Times"),
        ] {
            b.label(id, label);
        }
        let kb = b.finish(Manifest::default());
        let table = AliasTable::build(&kb, DEFAULT_TOP_K);
        let common = CommonWords::learn(["a big city in the north", "the city and a city"]);
        let chars: Vec<char> = text.chars().collect();
        MentionDetector::new(&table, &common)
            .detect(text)
            .into_iter()
            .map(|m| chars[m.start..m.end].iter().collect())
            .collect()
    }

    #[test]
    fn longest_leftmost_wins() {
        assert_eq!(
            detect("He moved to Salt Lake City in May."),
            ["Salt Lake City", "May"]
        );
        assert_eq!(detect("The New York Times"), ["New York"]);
    }

    #[test]
    fn ordinary_words_are_not_mentions() {
        assert_eq!(detect("The city of Paris. The end."), ["Paris"]);
        assert_eq!(detect("Paris is a city"), ["Paris"]);
    }

    #[test]
    fn names_found_in_lower_case_are_ordinary_words() {
        assert_eq!(detect("In may he left Paris."), ["Paris"]);
        assert_eq!(detect("He left in May."), ["May"]);
        assert_eq!(detect("the new york times"), Vec::<String>::new());
    }

    #[test]
    fn a_capital_after_a_lower_case_article_makes_a_name() {
        let mut b = KbBuilder::new();
        b.label("Q1", "The Who");
        b.label("Q2", "WHO");
        b.label("Q3", "The Guess Who");
        let kb = b.finish(Manifest::default());
        let table = AliasTable::build(&kb, DEFAULT_TOP_K);
        let common = CommonWords::learn(["they ask who saw who and who", "the guess"]);
        let found: Vec<String> = MentionDetector::new(&table, &common)
            .detect("We saw the Who play. The who of it all. And the WHO?")
            .into_iter()
            .map(|m| m.key)
            .collect();
        assert_eq!(found, ["the who", "who"], "the band, then the acronym");
    }

    #[test]
    fn matches_do_not_cross_sentences() {
        assert_eq!(detect("He saw Salt. Lake City was far."), ["Lake City"]);
    }
}
