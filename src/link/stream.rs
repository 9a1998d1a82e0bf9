//! The corpus as one ordered stream of documents: inputs and globs expanded in a stable order,
//! every input read in turn, a failed input or record kept in the stream as an error item (so it
//! is accounted for where it stood), and a [`Shard`] picking a deterministic 1/N of the stream.

use std::collections::hash_map::{Entry, HashMap};
use std::path::{Path, PathBuf};

use super::error::LinkError;
use super::input::{read_input, InputItem};

/// Expands the inputs given on the command line: a pattern with `*`, `?` or `[` is a glob
/// (matches sorted by path, none is an error), `-` is standard input, anything else must exist.
pub fn expand_inputs(patterns: &[String]) -> Result<Vec<PathBuf>, LinkError> {
    let mut inputs = Vec::new();
    for pattern in patterns {
        if pattern == "-" {
            inputs.push(PathBuf::from("-"));
        } else if pattern.contains(['*', '?', '[']) && !Path::new(pattern).is_file() {
            // a file named `a[1].txt` is that file, not a pattern that matches `a1.txt`
            let bad = |message: String| LinkError::BadInput {
                path: PathBuf::from(pattern),
                message,
            };
            let mut matched: Vec<PathBuf> = glob::glob(pattern)
                .map_err(|e| bad(format!("bad glob pattern: {e}")))?
                .collect::<Result<_, _>>()
                .map_err(|e| bad(format!("glob: {e}")))?;
            matched.retain(|p| p.is_file());
            if matched.is_empty() {
                return Err(bad("the pattern matches no file".into()));
            }
            matched.sort();
            inputs.extend(matched);
        } else {
            let path = PathBuf::from(pattern);
            if !path.is_file() {
                let message = if path.is_dir() {
                    "is a directory: give its files (e.g. 'DIR/*.jsonl') or a glob"
                } else {
                    "no such input file"
                };
                return Err(LinkError::BadInput {
                    path,
                    message: message.into(),
                });
            }
            inputs.push(path);
        }
    }
    Ok(inputs)
}

/// Worker `index` of `count`: keeps the documents whose id hashes to `index` modulo `count`.
/// The hash is FNV-1a over the id's bytes, stable across runs, machines and versions, so N
/// workers given the same inputs split the corpus exactly, each document to one of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Shard {
    pub index: u32,
    pub count: u32,
}

impl Shard {
    /// The whole corpus.
    pub const ALL: Shard = Shard { index: 0, count: 1 };

    /// Parses `I/N` with `0 <= I < N`.
    pub fn parse(text: &str) -> Result<Shard, String> {
        let (i, n) = text
            .split_once('/')
            .ok_or_else(|| format!("shard {text:?}: expected I/N, e.g. 3/16"))?;
        let index: u32 = i
            .trim()
            .parse()
            .map_err(|_| format!("shard {text:?}: bad I"))?;
        let count: u32 = n
            .trim()
            .parse()
            .map_err(|_| format!("shard {text:?}: bad N"))?;
        if count == 0 || index >= count {
            return Err(format!("shard {text:?}: need 0 <= I < N"));
        }
        Ok(Shard { index, count })
    }

    pub fn is_all(&self) -> bool {
        self.count == 1
    }

    pub fn keeps(&self, key: &str) -> bool {
        self.count == 1 || fnv1a(key.as_bytes()) % u64::from(self.count) == u64::from(self.index)
    }
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The key a document is sharded by: its id, or for a failed record where it stood.
pub fn item_key(item: &InputItem) -> String {
    match item {
        Ok(doc) => doc.id.clone(),
        Err(e) => failed_id(e),
    }
}

/// The id a failed record is written under: `path:record`, or the path for a failed input.
pub fn failed_id(e: &LinkError) -> String {
    match e {
        LinkError::BadRecord { id: Some(id), .. } => id.clone(),
        LinkError::BadRecord { path, record, .. } => format!("{}:{record}", path.display()),
        LinkError::BadInput { path, .. }
        | LinkError::Io { path, .. }
        | LinkError::Parquet { path, .. }
        | LinkError::Arrow { path, .. } => path.display().to_string(),
        LinkError::TooLarge { id, .. } => id.clone(),
        LinkError::TooManyErrors { .. } => "<run>".into(),
    }
}

/// Every document of every input, in order. An input that cannot be opened becomes one error
/// item; an input whose reader fails mid-way (a corrupt Parquet page) ends after that error, so
/// the documents read before it are kept and the next input goes on.
///
/// Ids must be unique over the whole corpus, or output records could not be told apart: a
/// document whose id was already seen becomes a record error naming both places. (The seen ids
/// are kept in memory, some tens of bytes each.) Inputs that held no document, and text files
/// with no text, are named in one warning when the stream ends.
pub fn corpus(inputs: Vec<PathBuf>) -> impl Iterator<Item = InputItem> {
    let mut inputs = inputs.into_iter();
    let mut current: Option<(PathBuf, Box<dyn Iterator<Item = InputItem>>, u64)> = None;
    let mut seen: HashMap<String, (PathBuf, String)> = HashMap::new();
    let mut empty: Vec<PathBuf> = Vec::new();
    let mut blank: Vec<PathBuf> = Vec::new();
    std::iter::from_fn(move || loop {
        let Some((path, items, count)) = current.as_mut() else {
            let Some(path) = inputs.next() else {
                // a consumer may ask again after the end: the warning is said once
                warn_empty(&empty, &blank);
                empty.clear();
                blank.clear();
                return None;
            };
            let items = read_one(&path);
            current = Some((path, items, 0));
            continue;
        };
        let Some(item) = items.next() else {
            if *count == 0 {
                empty.push(path.clone());
            }
            current = None;
            continue;
        };
        *count += 1;
        let Ok(doc) = item else {
            return Some(item);
        };
        if doc.mentions.is_none() && doc.text.trim().is_empty() && is_text_file(path) {
            blank.push(path.clone());
        }
        return Some(match seen.entry(doc.id.clone()) {
            Entry::Vacant(slot) => {
                slot.insert((path.clone(), doc.record.clone()));
                Ok(doc)
            }
            Entry::Occupied(first) => {
                let (first_path, first_record) = first.get();
                let at = if first_path == path {
                    first_record.clone()
                } else {
                    format!("{} {first_record}", first_path.display())
                };
                let message = format!(
                    "id {:?} is used again (first at {at}): ids must be unique so that output \
                     records can be told apart",
                    doc.id
                );
                Err(LinkError::bad(path.clone(), doc.record, message))
            }
        });
    })
}

fn is_text_file(path: &Path) -> bool {
    let name = path.to_string_lossy().to_lowercase();
    [".txt", ".text"].iter().any(|ext| {
        ["", ".gz", ".zst", ".bz2"]
            .iter()
            .any(|c| name.ends_with(&format!("{ext}{c}")))
    })
}

/// One warning for the inputs that gave nothing to link, which are usually a mistake (a wrong
/// glob, a truncated export) that an otherwise successful run would hide.
fn warn_empty(empty: &[PathBuf], blank: &[PathBuf]) {
    let names = |paths: &[PathBuf]| {
        let mut listed: Vec<String> = paths
            .iter()
            .take(10)
            .map(|p| p.display().to_string())
            .collect();
        if paths.len() > 10 {
            listed.push(format!("and {} more", paths.len() - 10));
        }
        listed.join(", ")
    };
    if !empty.is_empty() {
        tracing::warn!(
            "{} input(s) held no documents: {}",
            empty.len(),
            names(empty)
        );
    }
    if !blank.is_empty() {
        tracing::warn!(
            "{} text file(s) held no text: {}",
            blank.len(),
            names(blank)
        );
    }
}

fn read_one(path: &Path) -> Box<dyn Iterator<Item = InputItem>> {
    match read_input(path) {
        Ok(mut items) => {
            let mut done = false;
            Box::new(std::iter::from_fn(move || {
                if done {
                    return None;
                }
                let item = items.next()?;
                done = matches!(item, Err(ref e) if !e.is_record_level());
                Some(item)
            }))
        }
        Err(e) => Box::new(std::iter::once(Err(e))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_named_like_a_pattern_is_that_file() {
        let dir = tempfile::tempdir().unwrap();
        let odd = dir.path().join("a[1].txt");
        std::fs::write(&odd, "Paris").unwrap();
        std::fs::write(dir.path().join("b1.txt"), "Rome").unwrap();
        let given = odd.to_string_lossy().into_owned();
        assert_eq!(expand_inputs(&[given]).unwrap(), vec![odd]);
        let pattern = dir.path().join("b[1].txt").to_string_lossy().into_owned();
        assert_eq!(
            expand_inputs(&[pattern]).unwrap(),
            vec![dir.path().join("b1.txt")],
            "a pattern naming no file is still a pattern"
        );
    }

    #[test]
    fn shards_split_exactly() {
        assert_eq!(
            Shard::parse("3/16").unwrap(),
            Shard {
                index: 3,
                count: 16
            }
        );
        assert!(Shard::parse("16/16").is_err());
        assert!(Shard::parse("x").is_err());
        let ids: Vec<String> = (0..1000).map(|i| format!("doc-{i}")).collect();
        let shards: Vec<Shard> = (0..4).map(|index| Shard { index, count: 4 }).collect();
        for id in &ids {
            assert_eq!(shards.iter().filter(|s| s.keeps(id)).count(), 1);
        }
        let first = ids.iter().filter(|id| shards[0].keeps(id)).count();
        assert!((200..300).contains(&first), "{first}");
        // The published FNV-1a test values: a fixed id lands on the same worker everywhere.
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
    }
}
