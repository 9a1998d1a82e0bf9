//! Word tokens with their Unicode code-point offsets, the unit mention detection works on.

use unicode_segmentation::UnicodeSegmentation;

use super::normalize::normalize;

/// A word of the input: its code-point span, its original text and its normalized form.
#[derive(Debug, Clone, PartialEq)]
pub struct Token<'a> {
    pub start: usize,
    pub end: usize,
    pub text: &'a str,
    pub norm: String,
    /// True for the first word of the text or of a sentence.
    pub sentence_start: bool,
}

/// Splits text into words (Unicode word boundaries), skipping spaces and punctuation.
pub fn tokenize(text: &str) -> Vec<Token<'_>> {
    let mut tokens = Vec::new();
    let mut chars_before = 0usize;
    let mut last_byte = 0usize;
    let mut sentence_start = true;
    for (byte, word) in text.split_word_bound_indices() {
        chars_before += text[last_byte..byte].chars().count();
        last_byte = byte;
        let len = word.chars().count();
        if word.chars().any(char::is_alphanumeric) {
            let norm = normalize(word);
            if !norm.is_empty() {
                tokens.push(Token {
                    start: chars_before,
                    end: chars_before + len,
                    text: word,
                    norm,
                    sentence_start,
                });
                sentence_start = false;
            }
        } else if word.contains(['.', '!', '?', '\n']) {
            sentence_start = true;
        }
    }
    tokens
}

/// Byte offset of each code point, plus the text length at the end, for slicing by chars.
pub fn char_to_byte(text: &str) -> Vec<usize> {
    let mut map: Vec<usize> = text.char_indices().map(|(b, _)| b).collect();
    map.push(text.len());
    map
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_are_code_points() {
        let toks = tokenize("Zürich ist schön. Then U.S. troops");
        let spans: Vec<_> = toks
            .iter()
            .map(|t| (t.start, t.end, t.norm.as_str()))
            .collect();
        assert_eq!(spans[0], (0, 6, "zurich"));
        assert_eq!(spans[2], (11, 16, "schon"));
        assert!(toks[3].sentence_start && !toks[4].sentence_start);
        assert_eq!(toks[4].norm, "us");
    }
}
