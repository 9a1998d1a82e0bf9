//! Learning which words are ordinary language rather than names, so that aliases such as
//! "The", "It" or "City" do not become mentions wherever the word appears.
//!
//! A word is ordinary when running text writes it in lower case most of the time away from the
//! start of a sentence. The statistics come from text the KB carries (entity descriptions) plus
//! any prose given; a short seed list covers function words a small corpus might miss.

use std::collections::HashMap;

use super::tokens::tokenize;

/// Function words that are never names on their own, whatever the corpus says.
const SEED: &[&str] = &[
    "a", "an", "the", "and", "or", "of", "in", "on", "at", "to", "for", "by", "with", "from", "it",
    "its", "he", "she", "they", "we", "i", "you", "his", "her", "their", "this", "that", "these",
    "those", "is", "was", "be", "as", "but", "not", "no", "so", "if", "all",
];

/// Minimum lower-case occurrences before the corpus may call a word ordinary.
const MIN_LOWER: u32 = 3;
/// Share of non-initial occurrences written in lower case above which a word is ordinary.
const MIN_LOWER_SHARE: f32 = 0.7;

#[derive(Debug, Default, Clone)]
pub struct CommonWords {
    /// Normalized word → (lower-case occurrences, capitalized non-initial occurrences).
    counts: HashMap<String, (u32, u32)>,
}

impl CommonWords {
    /// Counts word casing over `texts`, skipping sentence-initial words.
    pub fn learn<'a>(texts: impl IntoIterator<Item = &'a str>) -> Self {
        let mut counts: HashMap<String, (u32, u32)> = HashMap::new();
        for text in texts {
            for tok in tokenize(text) {
                if tok.sentence_start {
                    continue;
                }
                let first = tok.text.chars().next().unwrap_or(' ');
                let entry = counts.entry(tok.norm).or_default();
                if first.is_lowercase() {
                    entry.0 += 1;
                } else if first.is_uppercase() {
                    entry.1 += 1;
                }
            }
        }
        CommonWords { counts }
    }

    /// True when the normalized word is ordinary language.
    pub fn is_common(&self, norm: &str) -> bool {
        if SEED.contains(&norm) {
            return true;
        }
        match self.counts.get(norm) {
            Some(&(lower, cap)) if lower >= MIN_LOWER => {
                lower as f32 / (lower + cap) as f32 >= MIN_LOWER_SHARE
            }
            _ => false,
        }
    }

    pub fn len(&self) -> usize {
        self.counts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.counts.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lower_case_words_are_common_and_names_are_not() {
        let texts = [
            "a city in France on the river",
            "the largest city of the region",
            "capital city of Italy, seat of Rome",
            "city near Paris and Rome",
            "former city in Paris",
        ];
        let words = CommonWords::learn(texts);
        assert!(words.is_common("city"));
        assert!(!words.is_common("paris"));
        assert!(!words.is_common("rome"));
        assert!(words.is_common("the"));
        assert!(!words.is_common("unseen"));
    }
}
