//! Running systems over a gold set: candidates are retrieved once per mention and shared by
//! every system, so systems differ only in their scoring.
//!
//! In: a KB, a [`Retriever`], the systems (any [`Scorer`]s) and a [`GoldSet`]. Out: a
//! [`BenchmarkResult`] holding a record per scored gold mention (its candidates, the gold's
//! rank, whether it is in the KB) and per system a prediction per gold mention, a record per
//! linked mention of end-to-end linking, and the metrics computed from them. The records are
//! what later slicing (popularity, type, tags) and reports build on.

use std::collections::HashSet;
use std::time::Instant;

use rayon::prelude::*;
use serde::Serialize;

use crate::disambiguate::{MentionCandidates, MentionScores, Scorer};
use crate::kb::{EntityIdx, Kb};
use crate::retrieve::{CandidateSource, Retriever};

use super::gold::{GoldEntity, GoldMention, GoldSet, LabelCounts};
use super::metrics::{
    disambiguation, match_spans, recall_at, GoldSpan, GoldTarget, Outcome, Prf, Share,
};

/// The k of recall@k; a k beyond the retriever's candidate count measures all candidates.
pub const RECALL_KS: [usize; 3] = [1, 5, 30];

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RecordCandidate {
    pub entity: String,
    pub prior: f32,
    pub source: CandidateSource,
}

/// A scored gold mention with its retrieved candidates.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MentionRecord {
    /// Index of the document in the gold set, and its id.
    pub document: usize,
    pub doc_id: String,
    /// The label's id within its document, where the format has one.
    pub label: Option<u64>,
    pub start: usize,
    pub end: usize,
    pub surface: String,
    pub gold: GoldEntity,
    /// The gold entity's index in the KB; `None` for NIL and for entities the KB lacks.
    #[serde(skip)]
    pub gold_idx: Option<EntityIdx>,
    pub gold_in_kb: bool,
    pub types: Vec<String>,
    /// Candidates best first, as retrieval ranked them.
    pub candidates: Vec<RecordCandidate>,
    #[serde(skip)]
    pub candidate_idx: Vec<EntityIdx>,
    /// 0-based rank of the gold among the candidates, `None` when it is not one.
    pub gold_rank: Option<usize>,
}

/// One system's verdict on a gold mention (same order as the mention records).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Prediction {
    /// A score per candidate, in candidate order.
    pub scores: Vec<f32>,
    /// The chosen entity's id; `None` is NIL.
    pub entity: Option<String>,
    #[serde(skip)]
    pub entity_idx: Option<EntityIdx>,
}

/// A mention the system detected and linked on its own, with its verdict.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LinkedRecord {
    pub document: usize,
    pub start: usize,
    pub end: usize,
    pub surface: String,
    pub entity: String,
    pub score: f32,
    pub outcome: Outcome,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Disambiguation {
    /// Gold mentions whose entity is in the KB: the system must pick it.
    pub in_kb: Prf,
    /// Gold NIL mentions predicted NIL.
    pub nil: Share,
    /// Gold mentions whose entity the KB lacks, predicted NIL (the best the KB allows).
    pub out_of_kb_nil: Share,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SystemResult {
    pub name: String,
    pub disambiguation: Disambiguation,
    /// The system's own mentions, exact span match, over linked mentions.
    pub end_to_end: Prf,
    #[serde(skip)]
    pub predictions: Vec<Prediction>,
    #[serde(skip)]
    pub linked: Vec<LinkedRecord>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Coverage {
    /// Scored gold entity mentions whose entity is in the KB.
    pub mentions: Share,
    /// Distinct gold entities in the KB.
    pub entities: Share,
    /// In-KB gold mentions whose entity has no label and no alias: present in the triples, but
    /// no linker can find it by name.
    pub unnamed: Share,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct RecallAt {
    pub k: usize,
    #[serde(flatten)]
    pub share: Share,
}

/// What the document's other mentions did to the candidates of the scored gold mentions: how
/// many they proposed or raised, and how often the gold was one of those.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct ContextCandidates {
    /// Candidates of source `context`.
    pub added: u64,
    /// Fuzzy candidates raised (source `raised`).
    pub raised: u64,
    /// Gold mentions whose gold is an added candidate.
    pub gold_added: u64,
    /// Gold mentions whose gold is a raised candidate.
    pub gold_raised: u64,
}

impl ContextCandidates {
    pub fn count(mentions: &[MentionRecord]) -> Self {
        let mut counts = ContextCandidates::default();
        for m in mentions {
            for c in &m.candidates {
                match c.source {
                    CandidateSource::Context => counts.added += 1,
                    CandidateSource::Raised => counts.raised += 1,
                    CandidateSource::Exact | CandidateSource::Fuzzy | CandidateSource::Derived => {}
                }
            }
            match m.gold_rank.map(|r| m.candidates[r].source) {
                Some(CandidateSource::Context) => counts.gold_added += 1,
                Some(CandidateSource::Raised) => counts.gold_raised += 1,
                _ => {}
            }
        }
        counts
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BenchmarkResult {
    pub name: String,
    pub path: std::path::PathBuf,
    pub documents: usize,
    pub labels: LabelCounts,
    pub coverage: Coverage,
    /// Over in-KB gold mentions.
    pub recall_at: Vec<RecallAt>,
    pub systems: Vec<SystemResult>,
    pub context_candidates: ContextCandidates,
    #[serde(skip)]
    pub mentions: Vec<MentionRecord>,
}

/// One system's records over a whole gold set: predictions on the gold mentions, linked
/// detected mentions, and the end-to-end counts `(tp, fp, fn)`.
type SystemRecords = (Vec<Prediction>, Vec<LinkedRecord>, (u64, u64, u64));

/// Everything computed for one document before the metrics.
struct DocumentRun {
    mentions: Vec<MentionRecord>,
    /// Per system, the verdicts on the gold mentions.
    gold_verdicts: Vec<Vec<MentionScores>>,
    /// Per system, the linked detected mentions and their counts.
    linked: Vec<(Vec<LinkedRecord>, (u64, u64, u64))>,
}

/// Evaluates every system on one gold set.
pub fn evaluate(
    kb: &Kb,
    retriever: &Retriever,
    systems: &[&dyn Scorer],
    gold: &GoldSet,
) -> BenchmarkResult {
    let started = Instant::now();
    let runs: Vec<DocumentRun> = (0..gold.documents.len())
        .into_par_iter()
        .map(|d| run_document(kb, retriever, systems, gold, d))
        .collect();

    let mut mentions = Vec::new();
    let mut per_system: Vec<SystemRecords> = systems.iter().map(|_| Default::default()).collect();
    for run in runs {
        for (s, verdicts) in run.gold_verdicts.into_iter().enumerate() {
            for (m, v) in run.mentions.iter().zip(verdicts) {
                let entity_idx = v.chosen.map(|i| m.candidate_idx[i]);
                per_system[s].0.push(Prediction {
                    scores: v.scores,
                    entity: entity_idx.map(|e| kb.entity(e).id.clone()),
                    entity_idx,
                });
            }
        }
        for (s, (records, (tp, fp, fn_))) in run.linked.into_iter().enumerate() {
            per_system[s].1.extend(records);
            let c = &mut per_system[s].2;
            *c = (c.0 + tp, c.1 + fp, c.2 + fn_);
        }
        mentions.extend(run.mentions);
    }

    let systems: Vec<SystemResult> = systems
        .iter()
        .zip(per_system)
        .map(
            |(system, (predictions, linked, (tp, fp, fn_)))| SystemResult {
                name: system.name().to_string(),
                disambiguation: disambiguation_metrics(&mentions, &predictions),
                end_to_end: Prf::from_counts(tp, fp, fn_),
                predictions,
                linked,
            },
        )
        .collect();

    let in_kb_ranks: Vec<Option<usize>> = mentions
        .iter()
        .filter(|m| m.gold_in_kb)
        .map(|m| m.gold_rank)
        .collect();
    let result = BenchmarkResult {
        name: gold.name.clone(),
        path: gold.path.clone(),
        documents: gold.documents.len(),
        labels: gold.label_counts(),
        coverage: coverage(kb, &mentions),
        recall_at: recall_at(&in_kb_ranks, &RECALL_KS)
            .into_iter()
            .map(|(k, share)| RecallAt { k, share })
            .collect(),
        systems,
        context_candidates: ContextCandidates::count(&mentions),
        mentions,
    };
    let context = result.context_candidates;
    tracing::info!(
        benchmark = %result.name,
        documents = result.documents,
        mentions = result.mentions.len(),
        context_added = context.added,
        context_raised = context.raised,
        gold_added = context.gold_added,
        gold_raised = context.gold_raised,
        seconds = started.elapsed().as_secs_f64(),
        "evaluated"
    );
    result
}

fn run_document(
    kb: &Kb,
    retriever: &Retriever,
    systems: &[&dyn Scorer],
    gold: &GoldSet,
    d: usize,
) -> DocumentRun {
    let doc = &gold.documents[d];

    let scored: Vec<&GoldMention> = doc.mentions.iter().filter(|m| m.is_scored()).collect();
    let given = MentionCandidates::at_spans(
        retriever,
        scored.iter().map(|m| (m.start, m.end, m.surface.clone())),
    );
    let mentions: Vec<MentionRecord> = scored
        .iter()
        .zip(&given)
        .map(|(m, g)| {
            let candidates = &g.candidates;
            let gold_idx = m.entity.qid().and_then(|q| kb.entity_idx(q));
            MentionRecord {
                document: d,
                doc_id: doc.id.clone(),
                label: m.label,
                start: m.start,
                end: m.end,
                surface: m.surface.clone(),
                gold: m.entity.clone(),
                gold_idx,
                gold_in_kb: gold_idx.is_some(),
                types: m.types.clone(),
                gold_rank: gold_idx.and_then(|g| candidates.iter().position(|c| c.entity == g)),
                candidates: candidates
                    .iter()
                    .map(|c| RecordCandidate {
                        entity: kb.entity(c.entity).id.clone(),
                        prior: c.prior,
                        source: c.source,
                    })
                    .collect(),
                candidate_idx: candidates.iter().map(|c| c.entity).collect(),
            }
        })
        .collect();
    let detected = MentionCandidates::detect(retriever, &doc.text);
    let gold_spans: Vec<GoldSpan> = doc
        .mentions
        .iter()
        .map(|m| GoldSpan {
            start: m.start,
            end: m.end,
            target: match (&m.entity, m.is_scored()) {
                (GoldEntity::Entity(q), true) => GoldTarget::Entity(q.clone()),
                (GoldEntity::Nil, true) => GoldTarget::Nil,
                _ => GoldTarget::Ignored,
            },
        })
        .collect();

    let mut gold_verdicts = Vec::with_capacity(systems.len());
    let mut linked = Vec::with_capacity(systems.len());
    for system in systems {
        // one call for both mention sets: a model reads their shared sentences once
        let mut both = system.score_documents(&[(&doc.text, &given), (&doc.text, &detected)]);
        let verdicts = both.pop().expect("two mention sets in, two out");
        gold_verdicts.push(both.pop().expect("two mention sets in, two out"));
        let chosen: Vec<(&MentionCandidates, usize, f32)> = detected
            .iter()
            .zip(&verdicts)
            .filter_map(|(m, v)| v.chosen.map(|i| (m, i, v.scores[i])))
            .collect();
        let predicted: Vec<(usize, usize, &str)> = chosen
            .iter()
            .map(|(m, i, _)| {
                (
                    m.start,
                    m.end,
                    kb.entity(m.candidates[*i].entity).id.as_str(),
                )
            })
            .collect();
        let (outcomes, counts) = match_spans(&gold_spans, &predicted, doc.evaluation_span);
        let records = chosen
            .iter()
            .zip(&predicted)
            .zip(outcomes)
            .map(|(((m, _, score), p), outcome)| LinkedRecord {
                document: d,
                start: m.start,
                end: m.end,
                surface: m.surface.clone(),
                entity: p.2.to_string(),
                score: *score,
                outcome,
            })
            .collect();
        linked.push((records, counts));
    }
    DocumentRun {
        mentions,
        gold_verdicts,
        linked,
    }
}

fn disambiguation_metrics(
    mentions: &[MentionRecord],
    predictions: &[Prediction],
) -> Disambiguation {
    let pairs = mentions
        .iter()
        .zip(predictions)
        .filter_map(|(m, p)| m.gold_idx.map(|g| (g, p.entity_idx)));
    let nil_share = |keep: &dyn Fn(&MentionRecord) -> bool| {
        let chosen: Vec<bool> = mentions
            .iter()
            .zip(predictions)
            .filter(|(m, _)| keep(m))
            .map(|(_, p)| p.entity_idx.is_none())
            .collect();
        Share::new(
            chosen.iter().filter(|&&nil| nil).count() as u64,
            chosen.len() as u64,
        )
    };
    Disambiguation {
        in_kb: disambiguation(pairs),
        nil: nil_share(&|m| m.gold == GoldEntity::Nil),
        out_of_kb_nil: nil_share(&|m| matches!(m.gold, GoldEntity::Entity(_)) && !m.gold_in_kb),
    }
}

fn coverage(kb: &Kb, mentions: &[MentionRecord]) -> Coverage {
    let entity_mentions: Vec<&MentionRecord> = mentions
        .iter()
        .filter(|m| matches!(m.gold, GoldEntity::Entity(_)))
        .collect();
    let in_kb = entity_mentions.iter().filter(|m| m.gold_in_kb).count() as u64;
    let all: HashSet<&str> = entity_mentions
        .iter()
        .filter_map(|m| m.gold.qid())
        .collect();
    let known: HashSet<&str> = entity_mentions
        .iter()
        .filter(|m| m.gold_in_kb)
        .filter_map(|m| m.gold.qid())
        .collect();
    let unnamed = entity_mentions
        .iter()
        .filter_map(|m| m.gold_idx)
        .filter(|&e| kb.entity(e).label.is_none() && kb.aliases_of(e).is_empty())
        .count() as u64;
    Coverage {
        mentions: Share::new(in_kb, entity_mentions.len() as u64),
        entities: Share::new(known.len() as u64, all.len() as u64),
        unnamed: Share::new(unnamed, in_kb),
    }
}
