//! Retrieval: from text to mentions, and from each mention to ranked candidate entities.
//!
//! In: a [`Kb`]. Out: a [`Retriever`] holding the alias table with its priors, the learned
//! ordinary-word statistics that keep "The" or "May" from becoming mentions, and the fuzzy
//! tantivy index; it detects mentions in raw text and proposes candidates for each.

mod alias_table;
mod cache;
mod candidates;
mod common_words;
mod derived_names;
mod document;
mod fuzzy;
mod mentions;
mod normalize;
mod surnames;
mod tokens;

use std::path::{Path, PathBuf};

pub use alias_table::{AliasCandidate, AliasTable, DEFAULT_TOP_K, MAX_ALIAS_TOKENS};
pub use cache::{CandidateCache, DEFAULT_CACHE_KEYS};
pub use candidates::{alias_similarity, Candidate, CandidateSource};
pub use common_words::CommonWords;
pub use derived_names::{mine as mine_derived_names, DerivedName, MiningThresholds};
pub use document::{NameWords, CONTEXT_SHARE};
pub use fuzzy::{FuzzyError, FuzzyHit, FuzzyIndex};
pub use mentions::{DetectedMention, MentionDetector};
pub use normalize::normalize;
pub use surnames::{surnames as person_surnames, Surname};
pub use tokens::{char_to_byte, tokenize, Token};

use crate::kb::{EntityIdx, Kb};

/// Retrieval settings.
#[derive(Debug, Clone)]
pub struct RetrieverOptions {
    /// Candidates kept per alias and per mention (default 30).
    pub top_k: usize,
    /// Use the fuzzy index (default true). Off, only exact aliases are candidates.
    pub fuzzy: bool,
    /// Where to cache the fuzzy index; `None` builds it in memory.
    pub fuzzy_cache: Option<PathBuf>,
    /// Add the candidates a document's other mentions point to (default true; see
    /// [`Retriever::add_context_candidates`]).
    pub context: bool,
    /// Add adjectival names mined from the KB ("American" for the United States; default
    /// true; see [`DerivedName`]).
    pub derived_names: bool,
    /// Add people's surnames as aliases ("Reagan" for Ronald Reagan; default true; see
    /// [`Surname`]).
    pub surnames: bool,
}

impl Default for RetrieverOptions {
    fn default() -> Self {
        RetrieverOptions {
            top_k: DEFAULT_TOP_K,
            fuzzy: true,
            fuzzy_cache: None,
            context: true,
            derived_names: true,
            surnames: true,
        }
    }
}

impl RetrieverOptions {
    /// Caches the fuzzy index inside the KB store, keyed by its manifest.
    pub fn cache_in_store(mut self, kb: &Kb, kb_dir: &Path) -> Self {
        let manifest = serde_json::to_vec(&kb.manifest).unwrap_or_default();
        let digest = <sha2::Sha256 as sha2::Digest>::digest(&manifest);
        let hash = hex::encode(&digest[..6]);
        // v2: built by one thread, so every build ranks alike; a v1 cache may rank ties apart.
        // [`Retriever::build`] appends the digest of the mined names it indexes.
        self.fuzzy_cache = Some(kb_dir.join(format!(".fuzzy-v2-{hash}")));
        self
    }
}

/// A short digest of the mined names, `None` when there are none.
fn derived_digest(derived: &[DerivedName], surnames: &[surnames::Surname]) -> Option<String> {
    use sha2::Digest;
    if derived.is_empty() && surnames.is_empty() {
        return None;
    }
    let mut hasher = sha2::Sha256::new();
    for d in derived {
        hasher.update(d.word.as_bytes());
        hasher.update(d.entity.to_le_bytes());
        hasher.update(d.share.to_le_bytes());
    }
    for s in surnames {
        hasher.update(s.word.as_bytes());
        hasher.update(s.entity.to_le_bytes());
    }
    Some(hex::encode(&hasher.finalize()[..4]))
}

/// The retrieval settings a run used, recorded beside its results (an eval report, a model's
/// config) so that a figure can be traced to the candidates it was measured on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RetrievalSettings {
    pub top_k: usize,
    /// Whether fuzzy candidates from the tantivy index were added.
    pub fuzzy: bool,
    /// Whether candidates from the document's other mentions were added.
    pub context: bool,
    /// Whether adjectival names mined from the KB were aliases. Absent from records written
    /// before they were mined, which read as false.
    #[serde(default)]
    pub derived_names: bool,
    /// Whether people's surnames were aliases. Absent from records written before they were,
    /// which read as false.
    #[serde(default)]
    pub surnames: bool,
}

/// Everything retrieval needs, built once from the KB.
pub struct Retriever {
    pub table: AliasTable,
    pub common: CommonWords,
    pub fuzzy: Option<FuzzyIndex>,
    pub top_k: usize,
    /// Which entities' names hold which words, for candidates from the document's context.
    pub name_words: NameWords,
    /// Relation neighbours per entity, for the same search.
    pub adjacency: std::sync::Arc<crate::kb::RelationAdjacency>,
    /// Whether [`Retriever::add_context_candidates`] adds anything.
    pub context: bool,
    /// Whether mined adjectival names are aliases.
    pub derived_names: bool,
    /// Whether people's surnames are aliases.
    pub surnames: bool,
    /// Recent candidate lists by normalized mention, shared by all linking threads.
    pub cache: CandidateCache,
}

impl Retriever {
    pub fn build(kb: &Kb, options: &RetrieverOptions) -> Result<Self, FuzzyError> {
        let started = std::time::Instant::now();
        let derived = if options.derived_names {
            derived_names::mine(kb, MiningThresholds::default())
        } else {
            Vec::new()
        };
        let surnames = if options.surnames {
            surnames::surnames(kb)
        } else {
            Vec::new()
        };
        let table = AliasTable::build_with(kb, options.top_k, &derived, &surnames);
        // the aliases indexed depend on the names mined, and so on the mining rule
        let fuzzy_cache =
            options
                .fuzzy_cache
                .as_ref()
                .map(|path| match derived_digest(&derived, &surnames) {
                    Some(digest) => {
                        let mut name = path.file_name().unwrap_or_default().to_os_string();
                        name.push(format!("-d{digest}"));
                        path.with_file_name(name)
                    }
                    None => path.clone(),
                });
        let name_words = NameWords::build(&table);
        let adjacency = std::sync::Arc::clone(kb.adjacency());
        let common =
            CommonWords::learn(kb.entities.iter().filter_map(|e| e.description.as_deref()));
        let fuzzy = if options.fuzzy {
            Some(FuzzyIndex::open_or_build(&table, fuzzy_cache.as_deref())?)
        } else {
            None
        };
        tracing::info!(
            aliases = table.len(),
            derived_names = derived.len(),
            surnames = surnames.len(),
            words = common.len(),
            seconds = started.elapsed().as_secs_f64(),
            "retriever ready"
        );
        Ok(Retriever {
            table,
            common,
            fuzzy,
            top_k: options.top_k,
            name_words,
            adjacency,
            context: options.context,
            derived_names: options.derived_names,
            surnames: options.surnames,
            cache: CandidateCache::new(DEFAULT_CACHE_KEYS),
        })
    }

    /// The settings this retriever runs with.
    pub fn settings(&self) -> RetrievalSettings {
        RetrievalSettings {
            top_k: self.top_k,
            fuzzy: self.fuzzy.is_some(),
            context: self.context,
            derived_names: self.derived_names,
            surnames: self.surnames,
        }
    }

    /// Mentions of KB aliases in raw text, by the leftmost-longest rule.
    pub fn detect(&self, text: &str) -> Vec<DetectedMention> {
        MentionDetector::new(&self.table, &self.common).detect(text)
    }

    /// Ranked candidates for a mention's surface text.
    pub fn candidates(&self, surface: &str) -> Vec<Candidate> {
        self.candidates_as_written(&normalize(surface), surface)
    }

    /// [`Retriever::candidates_for_key`] for a mention written `surface` (`key` normalized):
    /// written all in lower case, it is not an acronym, so an exact candidate only ever named
    /// in capitals under this key is dropped ("mi" is not "MI", myocardial infarction). The
    /// priors left are renormalized to the mass they had.
    pub fn candidates_as_written(&self, key: &str, surface: &str) -> Vec<Candidate> {
        let mut candidates = self.candidates_for_key(key);
        if surface.chars().any(char::is_uppercase) {
            return candidates;
        }
        let total: f32 = candidates.iter().map(|c| c.prior).sum();
        candidates.retain(|c| {
            c.source != CandidateSource::Exact || !self.table.capitals_only(key, c.entity)
        });
        let left: f32 = candidates.iter().map(|c| c.prior).sum();
        if left > 0.0 && left < total {
            let scale = total / left;
            for c in &mut candidates {
                c.prior *= scale;
                c.alias_prior *= scale;
            }
        }
        candidates
    }

    /// Ranked candidates for an already normalized mention.
    pub fn candidates_for_key(&self, key: &str) -> Vec<Candidate> {
        self.cache
            .get_or_compute(key, || self.candidates_uncached(key))
    }

    /// Adds to each mention of one document the namesakes its neighbours in the text point to
    /// (see [`document`]): `keys[i]` is mention `i`'s normalized surface, `lists[i]` its
    /// candidates, and `known` entities known to be in the text.
    pub fn add_context_candidates(
        &self,
        keys: &[&str],
        lists: &mut [Vec<Candidate>],
        known: &[EntityIdx],
    ) {
        if !self.context {
            return;
        }
        document::add_context_candidates(
            &self.adjacency,
            &self.name_words,
            keys,
            lists,
            known,
            self.top_k,
        );
    }

    /// [`Retriever::candidates_for_key`] without the memo, as latency measurements need it.
    pub fn candidates_uncached(&self, key: &str) -> Vec<Candidate> {
        candidates::candidates(&self.table, self.fuzzy.as_ref(), key, self.top_k)
    }
}
