//! Real prose: Wikipedia extracts about KB entities, one file per entity named by its id
//! (`Q515.txt`), split into sentences.
//!
//! The extracts join paragraphs without a space ("societies.Early hominins"), which neither the
//! sentence splitter nor the word tokenizer would see as a boundary, so such joins are repaired
//! first. Very short and very long sentences are dropped: the first carry no context, the second
//! are usually lists or tables flattened into text.

use std::path::{Path, PathBuf};

use unicode_segmentation::UnicodeSegmentation;

use super::error::WeakError;

/// Sentences shorter than this many words are dropped.
const MIN_WORDS: usize = 4;
/// Sentences longer than this many words are dropped.
const MAX_WORDS: usize = 80;

/// One extract file.
#[derive(Debug, Clone)]
pub struct Extract {
    /// The entity the extract is about: the file's stem.
    pub entity_id: String,
    pub path: PathBuf,
    pub text: String,
}

/// Reads the `*.txt` extracts of `dir`, in file-name order, at most `limit` of them.
pub fn read_extracts(dir: &Path, limit: Option<usize>) -> Result<Vec<Extract>, WeakError> {
    let entries = std::fs::read_dir(dir).map_err(|e| WeakError::io(dir, e))?;
    let mut paths = Vec::new();
    for entry in entries {
        let path = entry.map_err(|e| WeakError::io(dir, e))?.path();
        if path.extension().is_some_and(|x| x == "txt") {
            paths.push(path);
        }
    }
    paths.sort();
    paths.truncate(limit.unwrap_or(usize::MAX));
    paths
        .into_iter()
        .map(|path| {
            let entity_id = path
                .file_stem()
                .and_then(|s| s.to_str())
                .filter(|s| !s.is_empty())
                .ok_or_else(|| WeakError::BadExtract {
                    path: path.clone(),
                    message: "file name is not an entity id".into(),
                })?
                .to_string();
            let bytes = std::fs::read(&path).map_err(|e| WeakError::io(&path, e))?;
            let text = String::from_utf8(bytes).map_err(|e| WeakError::BadExtract {
                path: path.clone(),
                message: format!("not UTF-8 at byte {}", e.utf8_error().valid_up_to()),
            })?;
            Ok(Extract {
                entity_id,
                path,
                text,
            })
        })
        .collect()
}

/// The text's sentences, trimmed, with paragraph joins repaired and unusable lengths dropped.
pub fn sentences(text: &str) -> Vec<String> {
    repair_joins(text)
        .split_sentence_bounds()
        .map(str::trim)
        .filter(|s| (MIN_WORDS..=MAX_WORDS).contains(&s.split_whitespace().count()))
        .map(str::to_string)
        .collect()
}

/// Inserts a space where a sentence end runs into the next sentence: a lower-case letter, a
/// full stop (or ! ?) and an upper-case letter, as in "societies.Early". "U.S.A" is left alone
/// because its stop follows an upper-case letter.
fn repair_joins(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len() + 16);
    for (i, &c) in chars.iter().enumerate() {
        out.push(c);
        let joined = matches!(c, '.' | '!' | '?')
            && i > 0
            && chars[i - 1].is_lowercase()
            && chars.get(i + 1).is_some_and(|n| n.is_uppercase());
        if joined {
            out.push(' ');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_sentences_and_repairs_joined_paragraphs() {
        let text = "Humans are the only extant members of Hominina. They walk upright on two \
                    legs.Early hominins used tools in the U.S.A and elsewhere. Too short.\n";
        let s = sentences(text);
        assert_eq!(
            s,
            [
                "Humans are the only extant members of Hominina.",
                "They walk upright on two legs.",
                "Early hominins used tools in the U.S.A and elsewhere.",
            ]
        );
    }
}
