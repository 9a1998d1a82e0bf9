//! The trained model behind the [`Scorer`] seam, as `tailor link` and `tailor eval` run it.
//!
//! Per document: each mention's sentence is encoded once for all the mentions in it (a long
//! sentence is cut to a window around its mentions), candidate texts are encoded once per run
//! and kept, KG coherence is computed among neighbouring mentions, and the network's softmax over
//! the candidates and NIL gives the scores.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use candle_core::{DType, Device};
use candle_nn::{VarBuilder, VarMap};
use indicatif::ProgressBar;
use unicode_segmentation::UnicodeSegmentation;

use crate::disambiguate::{MentionCandidates, MentionScores, PriorScorer, Scorer};
use crate::embed::Embeddings;
use crate::encode::Encoder;
use crate::kb::Kb;

use super::batch::{BatchInputs, MentionFeatures};
use super::entity_text::EntityTextVectors;
use super::error::{ModelError, Result};
use super::featurize::{candidate_features, contexts, mention_features, SpanGroup};
use super::kg_vectors::{check_same_kb, KgVectors};
use super::net::FusionNet;
use super::store::{ModelConfig, WEIGHTS_FILE};
use super::train::probabilities;

/// Sentences longer than this (in characters) are cut to a window around each mention.
const MAX_CONTEXT_CHARS: usize = 600;
const HALF_WINDOW: usize = 250;

/// What every model of one run shares: the encoder and the candidate text vectors.
#[derive(Clone)]
pub struct SharedInputs {
    pub encoder: Arc<Encoder>,
    pub entity_text: Arc<EntityTextVectors>,
}

/// A trained fusion model ready to score.
pub struct ModelScorer<'a> {
    kb: &'a Kb,
    shared: SharedInputs,
    net: FusionNet,
    kg: KgVectors,
    config: ModelConfig,
    name: String,
    nil_threshold: f32,
    read: ContextCounters,
}

/// How much of the documents the model had the encoder read: the windows around mentions,
/// against the whole text.
#[derive(Debug, Default)]
struct ContextCounters {
    document_chars: AtomicU64,
    window_chars: AtomicU64,
    windows: AtomicU64,
}

/// A snapshot of what the encoder was given to read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct ContextTotals {
    /// Characters of the documents that had mentions to score.
    pub document_chars: u64,
    /// Characters of those documents inside the sentence windows encoded for them (text in
    /// two overlapping windows counts once), at most `document_chars`.
    pub window_chars: u64,
    pub windows: u64,
}

/// NIL probability above which a mention is left unlinked, unless told otherwise.
pub const DEFAULT_NIL_THRESHOLD: f32 = 0.8;

impl<'a> ModelScorer<'a> {
    /// Loads a model directory; `name` is the system name reports show.
    pub fn load(dir: &Path, kb: &'a Kb, shared: SharedInputs, name: &str) -> Result<Self> {
        let config = ModelConfig::read(dir)?;
        config.check_kb(kb, dir)?;
        if let Some(trained) = &config.encoder_fingerprint {
            let reading = shared.encoder.fingerprint();
            if trained != reading {
                return Err(ModelError::bad(
                    dir,
                    format!(
                        "trained with the text encoder {trained}, but this run reads {reading} \
                         (see --encoder)"
                    ),
                ));
            }
        }
        if config.options.relations_in_text != shared.entity_text.relations() {
            return Err(ModelError::bad(
                dir,
                format!(
                    "trained on candidate texts naming {} relations, but this run renders {}",
                    config.options.relations_in_text,
                    shared.entity_text.relations()
                ),
            ));
        }
        let mut tables = Vec::with_capacity(config.embeddings.len());
        for p in &config.embeddings {
            let at = dir.join(p);
            let table = Embeddings::load(&at)?;
            check_same_kb(&table, &at, kb, &config.kb_manifest_sha256)?;
            tables.push(table);
        }
        let kg = KgVectors::build(kb, &tables.iter().collect::<Vec<_>>());
        if kg.dim() != config.shape.kg_dim {
            return Err(ModelError::bad(
                dir,
                format!(
                    "KG vectors have {} dims, the model {}",
                    kg.dim(),
                    config.shape.kg_dim
                ),
            ));
        }
        let mut vars = VarMap::new();
        let vb = VarBuilder::from_varmap(&vars, DType::F32, &Device::Cpu);
        let net = FusionNet::new(config.shape, vb)?;
        let weights = dir.join(WEIGHTS_FILE);
        vars.load(&weights)
            .map_err(|e| ModelError::bad(&weights, e))?;
        Ok(ModelScorer {
            kb,
            shared,
            net,
            kg,
            config,
            name: name.to_string(),
            nil_threshold: DEFAULT_NIL_THRESHOLD,
            read: ContextCounters::default(),
        })
    }

    /// Leaves a mention unlinked only when the model gives NIL more than this probability
    /// (1 never leaves one unlinked).
    pub fn with_nil_threshold(mut self, threshold: f32) -> Self {
        self.nil_threshold = threshold;
        self
    }

    pub fn config(&self) -> &ModelConfig {
        &self.config
    }

    /// The encoder this scorer reads with (shared with the other systems of the run).
    pub fn encoder(&self) -> &Encoder {
        &self.shared.encoder
    }

    /// What the encoder was given to read so far, over every document this scorer scored.
    pub fn context_totals(&self) -> ContextTotals {
        ContextTotals {
            document_chars: self.read.document_chars.load(Ordering::Relaxed),
            window_chars: self.read.window_chars.load(Ordering::Relaxed),
            windows: self.read.windows.load(Ordering::Relaxed),
        }
    }

    fn inputs(&self) -> BatchInputs<'_> {
        BatchInputs {
            kb: self.kb,
            text: &self.shared.entity_text,
            text_dim: self.shared.encoder.dim(),
            kg: &self.kg,
            signals: self.config.signals,
        }
    }

    /// The features of a document's mentions: candidates, contexts, coherence.
    pub fn featurize(
        &self,
        text: &str,
        mentions: &[MentionCandidates],
    ) -> Result<Vec<MentionFeatures>> {
        let mut one = self.featurize_many(&[(text, mentions)])?;
        Ok(one.pop().expect("one document in, one out"))
    }

    /// [`ModelScorer::featurize`] for several documents at once: their sentence windows share
    /// encoder passes, batched by length across documents, so short documents do not each pay
    /// for a nearly empty batch.
    pub fn featurize_many(
        &self,
        docs: &[(&str, &[MentionCandidates])],
    ) -> Result<Vec<Vec<MentionFeatures>>> {
        // The model reads as many candidates as it was trained on, best prior first; the rest
        // score zero (encoding their texts is most of the cost of linking).
        let keep = self.config.options.max_candidates.max(1);
        let candidates: Vec<Vec<_>> = docs
            .iter()
            .map(|(_, mentions)| {
                mentions
                    .iter()
                    .map(|m| {
                        let mut c = candidate_features(&m.candidates);
                        c.truncate(keep);
                        c
                    })
                    .collect()
            })
            .collect();
        let contexts = if self.config.signals.text {
            let wanted: Vec<u32> = candidates
                .iter()
                .flatten()
                .flatten()
                .map(|c| c.entity)
                .collect();
            self.shared
                .entity_text
                .ensure(self.kb, &self.shared.encoder, &wanted)?;
            self.read_contexts(docs)?
        } else {
            docs.iter()
                .map(|(_, mentions)| vec![Vec::new(); mentions.len()])
                .collect()
        };
        Ok(contexts
            .into_iter()
            .zip(candidates)
            .map(|(contexts, candidates)| mention_features(self.kb, contexts, candidates))
            .collect())
    }

    /// Every mention's context vector, per document, from one encoder call over the windows of
    /// all the documents. A window text that occurs more than once (the same sentence read for
    /// gold and for detected mentions, a repeated document) is encoded once, for the union of
    /// its spans.
    fn read_contexts(&self, docs: &[(&str, &[MentionCandidates])]) -> Result<Vec<Vec<Vec<f32>>>> {
        let windows: Vec<DocumentWindows> = docs
            .iter()
            .map(|(text, mentions)| DocumentWindows::of(text, mentions))
            .collect();
        let mut unique: HashMap<&str, usize> = HashMap::new();
        let mut groups: Vec<SpanGroup<'_>> = Vec::new();
        // per document, per window: its unique text and where each of its spans sits there
        let mut places: Vec<Vec<(usize, Vec<usize>)>> = Vec::with_capacity(docs.len());
        for w in &windows {
            let mut doc_places = Vec::with_capacity(w.texts.len());
            for (text, spans) in w.texts.iter().zip(&w.spans) {
                let u = *unique.entry(text.as_str()).or_insert_with(|| {
                    groups.push(SpanGroup {
                        text,
                        spans: Vec::new(),
                    });
                    groups.len() - 1
                });
                let group = &mut groups[u].spans;
                let at = spans
                    .iter()
                    .map(|span| {
                        group.iter().position(|s| s == span).unwrap_or_else(|| {
                            group.push(*span);
                            group.len() - 1
                        })
                    })
                    .collect();
                doc_places.push((u, at));
            }
            places.push(doc_places);
        }
        let vectors = contexts(&self.shared.encoder, &groups, &ProgressBar::hidden())?;
        let read = &self.read;
        let mut out = Vec::with_capacity(docs.len());
        for ((w, doc_places), (text, mentions)) in windows.iter().zip(&places).zip(docs) {
            read.windows
                .fetch_add(w.windows.len() as u64, Ordering::Relaxed);
            read.window_chars
                .fetch_add(w.covered_chars(), Ordering::Relaxed);
            read.document_chars
                .fetch_add(text.chars().count() as u64, Ordering::Relaxed);
            let mut per_mention = vec![Vec::new(); mentions.len()];
            for (members, (u, at)) in w.windows.values().zip(doc_places) {
                for (&i, &k) in members.iter().zip(at) {
                    per_mention[i] = vectors[*u][k].clone();
                }
            }
            out.push(per_mention);
        }
        Ok(out)
    }

    fn try_score_many(
        &self,
        docs: &[(&str, &[MentionCandidates])],
    ) -> Result<Vec<Vec<MentionScores>>> {
        let features = self.featurize_many(docs)?;
        let mut all = Vec::new();
        for (features, (_, mentions)) in features.iter().zip(docs) {
            let mut out = Vec::with_capacity(mentions.len());
            for chunk in features.chunks(256) {
                let refs: Vec<&MentionFeatures> = chunk.iter().collect();
                for p in probabilities(&self.net, &self.inputs(), &refs)? {
                    let (nil, scores) = p.split_last().expect("NIL is always scored");
                    let best = scores
                        .iter()
                        .enumerate()
                        .max_by(|a, b| a.1.total_cmp(b.1))
                        .filter(|_| *nil <= self.nil_threshold)
                        .map(|(i, _)| i);
                    out.push(MentionScores {
                        scores: scores.to_vec(),
                        chosen: best,
                    });
                }
            }
            for (scores, m) in out.iter_mut().zip(mentions.iter()) {
                scores.scores.resize(m.candidates.len(), 0.0);
            }
            all.push(out);
        }
        Ok(all)
    }
}

impl Scorer for ModelScorer<'_> {
    fn name(&self) -> &str {
        &self.name
    }

    fn score_document(&self, text: &str, mentions: &[MentionCandidates]) -> Vec<MentionScores> {
        let mut one = self.score_documents(&[(text, mentions)]);
        one.pop().expect("one document in, one out")
    }

    fn score_documents(&self, docs: &[(&str, &[MentionCandidates])]) -> Vec<Vec<MentionScores>> {
        match self.try_score_many(docs) {
            Ok(scores) => scores,
            Err(e) => {
                // The trait has no error channel: the documents are still linked, by the prior.
                tracing::error!("model failed on a batch of documents, prior used instead: {e}");
                let prior = PriorScorer::default();
                docs.iter()
                    .map(|(text, mentions)| prior.score_document(text, mentions))
                    .collect()
            }
        }
    }
}

/// The sentence windows of one document the encoder reads, each with the mentions read from it.
struct DocumentWindows {
    /// Window (start, end) in characters → the mentions read from it.
    windows: BTreeMap<(usize, usize), Vec<usize>>,
    texts: Vec<String>,
    /// Each window's mention spans, relative to the window.
    spans: Vec<Vec<(usize, usize)>>,
}

impl DocumentWindows {
    fn of(text: &str, mentions: &[MentionCandidates]) -> Self {
        let sentences = sentence_spans(text);
        let chars: Vec<char> = text.chars().collect();
        let mut windows: BTreeMap<(usize, usize), Vec<usize>> = BTreeMap::new();
        for (i, m) in mentions.iter().enumerate() {
            let at = sentences.partition_point(|s| s.1 <= m.start);
            let (s, e) = sentences.get(at).copied().unwrap_or((0, chars.len()));
            let (s, e) = (s.min(m.start), e.max(m.end));
            let window = if e - s <= MAX_CONTEXT_CHARS {
                (s, e)
            } else {
                (
                    m.start.saturating_sub(HALF_WINDOW).max(s),
                    (m.end + HALF_WINDOW).min(e),
                )
            };
            windows.entry(window).or_default().push(i);
        }
        let texts = windows
            .keys()
            .map(|&(s, e)| chars[s..e].iter().collect())
            .collect();
        let spans = windows
            .iter()
            .map(|(&(s, _), members)| {
                members
                    .iter()
                    .map(|&i| (mentions[i].start - s, mentions[i].end - s))
                    .collect()
            })
            .collect();
        DocumentWindows {
            windows,
            texts,
            spans,
        }
    }

    /// Characters of the document inside at least one window. Windows overlap (two mentions
    /// close together in a long sentence, a mention across a sentence end), so their lengths
    /// summed would count text twice and could pass the document's own length.
    fn covered_chars(&self) -> u64 {
        let mut covered = 0;
        let mut reached = 0;
        // the windows come sorted by start
        for &(s, e) in self.windows.keys() {
            let from = s.max(reached);
            if e > from {
                covered += (e - from) as u64;
            }
            reached = reached.max(e);
        }
        covered
    }
}

/// Sentence spans of a text in characters, covering it without gaps.
pub fn sentence_spans(text: &str) -> Vec<(usize, usize)> {
    let mut spans = Vec::new();
    let mut chars_at = 0;
    for sentence in text.split_sentence_bounds() {
        let n = sentence.chars().count();
        spans.push((chars_at, chars_at + n));
        chars_at += n;
    }
    spans
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sentences_cover_the_text() {
        let text = "Paris is big. Zürich is not! Done";
        let spans = sentence_spans(text);
        assert_eq!(spans.len(), 3);
        assert_eq!(spans[0].0, 0);
        assert_eq!(spans.last().unwrap().1, text.chars().count());
        assert!(spans.windows(2).all(|w| w[0].1 == w[1].0));
    }

    fn mention(start: usize, end: usize) -> MentionCandidates {
        MentionCandidates {
            start,
            end,
            surface: String::new(),
            candidates: Vec::new(),
        }
    }

    #[test]
    fn overlapping_windows_cover_the_text_once() {
        // one sentence far longer than a window, with two mentions close together
        let text = format!("{}Paris and Rome{}.", "a ".repeat(400), " b".repeat(400));
        let len = text.chars().count();
        let windows = DocumentWindows::of(&text, &[mention(800, 805), mention(810, 814)]);
        assert_eq!(windows.windows.len(), 2);
        let summed: usize = windows.windows.keys().map(|&(s, e)| e - s).sum();
        assert!(
            summed > 2 * HALF_WINDOW + 9,
            "the windows overlap: {summed}"
        );
        assert_eq!(windows.covered_chars(), (814 + HALF_WINDOW - 550) as u64);
        assert!(windows.covered_chars() <= len as u64);

        let short = "Paris is big. Rome is old.";
        let windows = DocumentWindows::of(short, &[mention(0, 5), mention(14, 18), mention(3, 16)]);
        assert_eq!(windows.covered_chars(), short.chars().count() as u64);
    }
}
