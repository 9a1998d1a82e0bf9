//! Fuzzy alias retrieval with tantivy: candidates for partial ("Merkel"), misspelt
//! ("Angela Merkl") and reordered ("Merkel Angela") mentions.
//!
//! Each normalized alias is one document, indexed twice: as words (for partial and reordered
//! matches, each word also searched within an edit distance that grows with its length) and as
//! one whole term (for a misspelt alias). The index is a cache: it is built from the alias table
//! on first use and kept beside the KB store, keyed by the store's manifest, so a changed KB
//! never meets a stale index. A cache whose files fail their checksums is rebuilt in place with
//! a warning, since it holds nothing the alias table does not.

use std::path::{Path, PathBuf};

use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, BoostQuery, FuzzyTermQuery, Occur, Query, TermQuery};
use tantivy::schema::{Field, IndexRecordOption, Schema, Value, STORED, STRING, TEXT};
use tantivy::{doc, Index, IndexReader, TantivyDocument, Term};

use super::alias_table::AliasTable;

/// Hits read from the index per query before re-ranking.
const HITS: usize = 64;

#[derive(Debug, thiserror::Error)]
pub enum FuzzyError {
    #[error("fuzzy index {path}: {source}")]
    Index {
        path: PathBuf,
        #[source]
        source: tantivy::TantivyError,
    },
    #[error("fuzzy index file {path} fails its checksum")]
    Damaged { path: PathBuf },
    #[error("fuzzy index {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// A normalized alias found by a fuzzy query, with tantivy's relevance score.
#[derive(Debug, Clone, PartialEq)]
pub struct FuzzyHit {
    pub key: String,
    pub score: f32,
}

pub struct FuzzyIndex {
    reader: IndexReader,
    key: Field,
    words: Field,
}

fn schema() -> (Schema, Field, Field) {
    let mut builder = Schema::builder();
    let key = builder.add_text_field("key", STRING | STORED);
    let words = builder.add_text_field("words", TEXT);
    (builder.build(), key, words)
}

impl FuzzyIndex {
    /// Opens the cached index in `cache_dir`, or builds it there (written aside, then renamed).
    /// Without a writable cache directory the index is built in memory.
    pub fn open_or_build(table: &AliasTable, cache_dir: Option<&Path>) -> Result<Self, FuzzyError> {
        let Some(dir) = cache_dir else {
            return Self::build(table, None);
        };
        let stale = dir.join("meta.json").exists();
        if stale {
            match Self::open_cached(dir) {
                Ok(index) => return Ok(index),
                // A cache is only a copy of the alias table: a damaged one is rebuilt, not fatal.
                Err(e) => tracing::warn!(
                    "fuzzy index cache {} is damaged, rebuilding it: {e}",
                    dir.display()
                ),
            }
        }
        let parent = dir.parent().unwrap_or(Path::new("."));
        let staging = match tempfile::Builder::new()
            .prefix(".fuzzy-partial-")
            .tempdir_in(parent)
        {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!("cannot cache the fuzzy index in {}: {e}", parent.display());
                return Self::build(table, None);
            }
        };
        let partial = crate::interrupt::Partial::track(staging.path());
        Self::build(table, Some(staging.path()))?;
        if let Err(e) = crate::persist::dir_readable_by_all(staging.path()) {
            tracing::warn!("the fuzzy index cache stays private to this user: {e}");
        }
        let ready = staging.keep();
        if stale {
            // Moved out of the way first: a directory cannot be renamed onto a full one.
            let old = parent.join(format!(".fuzzy-damaged-{}", std::process::id()));
            if std::fs::rename(dir, &old).is_ok() {
                let _ = std::fs::remove_dir_all(&old);
            }
        }
        if let Err(e) = std::fs::rename(&ready, dir) {
            // Another process may have won the race; its index is as good as ours.
            let _ = std::fs::remove_dir_all(&ready);
            if !dir.join("meta.json").exists() {
                return Err(FuzzyError::Io {
                    path: dir.to_path_buf(),
                    source: e,
                });
            }
        }
        drop(partial);
        let index = Index::open_in_dir(dir).map_err(|source| FuzzyError::Index {
            path: dir.to_path_buf(),
            source,
        })?;
        Self::from_index(index, dir)
    }

    /// The cached index in `dir`, refused when any of its files fails its checksum (a torn or
    /// overwritten file would otherwise fail later, inside a query).
    fn open_cached(dir: &Path) -> Result<Self, FuzzyError> {
        let err = |source| FuzzyError::Index {
            path: dir.to_path_buf(),
            source,
        };
        let index = Index::open_in_dir(dir).map_err(err)?;
        let damaged = index.validate_checksum().map_err(err)?;
        if let Some(file) = damaged.iter().next() {
            return Err(FuzzyError::Damaged {
                path: dir.join(file),
            });
        }
        Self::from_index(index, dir)
    }

    /// Indexes every alias of the table, on disk in `dir` or in memory.
    pub fn build(table: &AliasTable, dir: Option<&Path>) -> Result<Self, FuzzyError> {
        let started = std::time::Instant::now();
        let path = dir
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("<memory>"));
        let err = |source| FuzzyError::Index {
            path: path.clone(),
            source,
        };
        let (schema, key, words) = schema();
        let index = match dir {
            Some(d) => Index::create_in_dir(d, schema).map_err(err)?,
            None => Index::create_in_ram(schema),
        };
        // One indexing thread, so documents get ids in the sorted order below. With several,
        // aliases land in segments by thread timing, and hits that tie on score (every
        // "Steve …" for "Steve") come back in a different order, and are cut at a different
        // place, from one build to the next.
        let mut writer: tantivy::IndexWriter =
            index.writer_with_num_threads(1, 64 << 20).map_err(err)?;
        let mut keys: Vec<&str> = table.iter().map(|(k, _)| k).collect();
        keys.sort_unstable();
        for k in keys {
            writer
                .add_document(doc!(key => k, words => k))
                .map_err(err)?;
        }
        writer.commit().map_err(err)?;
        tracing::info!(
            aliases = table.len(),
            seconds = started.elapsed().as_secs_f64(),
            "built fuzzy alias index"
        );
        Self::from_index(index, &path)
    }

    fn from_index(index: Index, path: &Path) -> Result<Self, FuzzyError> {
        let (_, key, words) = schema();
        // The index is never written after it is opened, and it may be built in a staging
        // directory that is then renamed: a reload-on-commit watcher would only fail there.
        let reader = index
            .reader_builder()
            .reload_policy(tantivy::ReloadPolicy::Manual)
            .try_into()
            .map_err(|source| FuzzyError::Index {
                path: path.to_path_buf(),
                source,
            })?;
        Ok(FuzzyIndex { reader, key, words })
    }

    /// Aliases close to the normalized mention, best first.
    pub fn search(&self, mention_key: &str, limit: usize) -> Vec<FuzzyHit> {
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for word in mention_key.split(' ').filter(|w| w.chars().count() >= 2) {
            let term = Term::from_field_text(self.words, word);
            let exact = TermQuery::new(term.clone(), IndexRecordOption::WithFreqs);
            clauses.push((
                Occur::Should,
                Box::new(BoostQuery::new(Box::new(exact), 2.0)),
            ));
            let distance = edit_distance_for(word);
            if distance > 0 {
                clauses.push((
                    Occur::Should,
                    Box::new(FuzzyTermQuery::new(term, distance, true)),
                ));
            }
        }
        if mention_key.chars().count() >= 5 {
            let whole = Term::from_field_text(self.key, mention_key);
            clauses.push((Occur::Should, Box::new(FuzzyTermQuery::new(whole, 1, true))));
        }
        if clauses.is_empty() {
            return Vec::new();
        }
        let query = BooleanQuery::new(clauses);
        let searcher = self.reader.searcher();
        let Ok(top) = searcher.search(&query, &TopDocs::with_limit(limit.max(1)).order_by_score())
        else {
            return Vec::new();
        };
        top.into_iter()
            .filter_map(|(score, addr)| {
                let doc: TantivyDocument = searcher.doc(addr).ok()?;
                let key = doc.get_first(self.key)?.as_str()?.to_string();
                Some(FuzzyHit { key, score })
            })
            .collect()
    }

    /// The default number of hits to re-rank.
    pub fn default_hits() -> usize {
        HITS
    }
}

/// Edits allowed for one word: none for short words, where one edit changes the word.
fn edit_distance_for(word: &str) -> u8 {
    match word.chars().count() {
        0..=3 => 0,
        4..=7 => 1,
        _ => 2,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kb::{KbBuilder, Manifest};
    use crate::retrieve::alias_table::DEFAULT_TOP_K;

    #[test]
    fn finds_partial_misspelt_and_reordered_aliases() {
        let mut b = KbBuilder::new();
        b.label("Q567", "Angela Merkel");
        b.label("Q1", "Steve Jobs");
        b.label("Q2", "Steve Martin");
        b.label("Q3", "Paris");
        let kb = b.finish(Manifest::default());
        let table = AliasTable::build(&kb, DEFAULT_TOP_K);
        let dir = tempfile::tempdir().unwrap();
        let cache = dir.path().join("fuzzy");
        let index = FuzzyIndex::open_or_build(&table, Some(&cache)).unwrap();
        let keys =
            |q: &str| -> Vec<String> { index.search(q, 10).into_iter().map(|h| h.key).collect() };
        assert_eq!(keys("merkel")[0], "angela merkel");
        assert_eq!(keys("angela merkl")[0], "angela merkel");
        assert_eq!(keys("merkel angela")[0], "angela merkel");
        let steves = keys("steve");
        assert!(steves.contains(&"steve jobs".to_string()));
        assert!(steves.contains(&"steve martin".to_string()));
        assert!(keys("zzzz").is_empty());
        // Reopening reads the cached index.
        let again = FuzzyIndex::open_or_build(&table, Some(&cache)).unwrap();
        assert_eq!(again.search("merkel", 1)[0].key, "angela merkel");
        drop((index, again));
        // A damaged file in the cache is found and the cache rebuilt in place.
        let victim = std::fs::read_dir(&cache)
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.extension().is_some_and(|x| x == "term"))
            .unwrap();
        std::fs::write(&victim, b"xx").unwrap();
        assert!(FuzzyIndex::open_cached(&cache).is_err());
        let rebuilt = FuzzyIndex::open_or_build(&table, Some(&cache)).unwrap();
        assert_eq!(rebuilt.search("merkel", 1)[0].key, "angela merkel");
        assert!(FuzzyIndex::open_cached(&cache).is_ok());
    }
}
