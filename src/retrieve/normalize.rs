//! Alias normalization: the key under which mentions and aliases meet.
//!
//! NFKC (so "ﬁ" and full-width letters match), case folding, diacritic folding ("Zürich" meets
//! "Zurich"), punctuation folding ("U.S." meets "US", "Jean-Paul" meets "Jean Paul") and
//! whitespace collapsing. Normalization loses the original form on purpose; the alias table
//! keeps the original text beside each key for display, which is what keeps it reversible.

use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

/// The normalized key of an alias or mention text; empty when nothing but punctuation remains.
pub fn normalize(text: &str) -> String {
    if text.is_ascii() {
        return normalize_ascii(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut pending_space = false;
    // NFKD splits accents off their letters; NFKC of the rest re-composes what remains.
    for c in text.nfkd().filter(|c| !is_combining_mark(*c)) {
        if c.is_alphanumeric() {
            if pending_space && !out.is_empty() {
                out.push(' ');
            }
            pending_space = false;
            out.extend(c.to_lowercase());
        } else if is_joiner(c) {
            // Dropped without a space: "U.S." → "us", "O'Brien" → "obrien".
        } else {
            pending_space = true;
        }
    }
    out.nfkc().collect()
}

/// The same rules for ASCII text, where both Unicode normalizations are the identity: most
/// words of an English corpus take this path, and it skips two decomposition passes.
fn normalize_ascii(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut pending_space = false;
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            if pending_space && !out.is_empty() {
                out.push(' ');
            }
            pending_space = false;
            out.push(c.to_ascii_lowercase());
        } else if !is_joiner(c) {
            pending_space = true;
        }
    }
    out
}

/// Punctuation that joins the parts of one word rather than separating words.
fn is_joiner(c: char) -> bool {
    matches!(c, '.' | '\'' | '’' | '‘' | '`' | '´' | '\u{00AD}')
}

#[cfg(test)]
mod tests {
    use super::normalize;

    #[test]
    fn the_ascii_path_agrees_with_the_general_one() {
        let general = |t: &str| {
            use unicode_normalization::char::is_combining_mark;
            use unicode_normalization::UnicodeNormalization;
            let mut out = String::new();
            let mut pending = false;
            for c in t.nfkd().filter(|c| !is_combining_mark(*c)) {
                if c.is_alphanumeric() {
                    if pending && !out.is_empty() {
                        out.push(' ');
                    }
                    pending = false;
                    out.extend(c.to_lowercase());
                } else if !super::is_joiner(c) {
                    pending = true;
                }
            }
            out.nfkc().collect::<String>()
        };
        for t in [
            "U.S. Army",
            "  O'Brien--Smith ",
            "Jean-Paul",
            "A1 b2\tC3",
            "",
            "...",
            "x.y.z",
        ] {
            assert_eq!(normalize(t), general(t), "{t:?}");
        }
    }

    #[test]
    fn folds_case_diacritics_and_punctuation() {
        assert_eq!(normalize("Zürich"), "zurich");
        assert_eq!(normalize("  Salt   Lake City "), "salt lake city");
        assert_eq!(normalize("U.S."), "us");
        assert_eq!(normalize("O'Brien"), "obrien");
        assert_eq!(normalize("Jean-Paul Sartre"), "jean paul sartre");
        assert_eq!(normalize("ＡＢＣ"), "abc");
        assert_eq!(normalize("ﬁnance"), "finance");
        assert_eq!(normalize("São Paulo"), "sao paulo");
        assert_eq!(normalize("..."), "");
    }
}
