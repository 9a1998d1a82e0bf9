//! The worst errors of a system, each with the text around the mention and why it failed.
//!
//! In: a benchmark's records, its gold set (for the text) and the KB (for labels and types).
//! Out: [`ErrorRow`]s, most confident mistakes first: a wrong entity chosen by a wide score
//! margin over the gold is worse than a near miss.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use crate::eval::{BenchmarkResult, GoldEntity, GoldSet};
use crate::kb::{EntityIdx, Kb};

/// Characters of text kept on each side of the mention.
const CONTEXT: usize = 60;

/// Why a gold mention was missed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// The gold entity is in the KB but retrieval did not propose it.
    NoCandidate,
    /// The KB lacks the gold entity, and the system linked something anyway.
    GoldNotInKb,
    /// The gold was a candidate but the system chose NIL.
    NilPredicted,
    /// The gold is NIL and the system linked an entity.
    NilGoldLinked,
    /// The chosen entity shares no KB type with the gold.
    WrongType,
    /// The chosen entity shares a type with the gold (or either has none).
    WrongEntitySameType,
}

impl Reason {
    pub fn describe(self) -> &'static str {
        match self {
            Reason::NoCandidate => "no candidate",
            Reason::GoldNotInKb => "gold not in KB",
            Reason::NilPredicted => "NIL predicted",
            Reason::NilGoldLinked => "NIL gold linked",
            Reason::WrongType => "wrong type",
            Reason::WrongEntitySameType => "wrong entity of same type",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorRow {
    pub system: String,
    pub document: String,
    pub surface: String,
    pub left: String,
    pub right: String,
    pub gold: String,
    pub gold_label: String,
    pub predicted: Option<String>,
    pub predicted_label: Option<String>,
    pub reason: Reason,
    /// The chosen entity's score minus the gold's (the chosen score when the gold is not a
    /// candidate): how sure the system was of its mistake.
    pub margin: f32,
}

fn label(kb: &Kb, idx: Option<EntityIdx>) -> Option<String> {
    idx.map(|i| kb.display_name(i).to_string())
}

fn reason(
    kb: &Kb,
    gold: Option<EntityIdx>,
    rank: Option<usize>,
    pred: Option<EntityIdx>,
) -> Reason {
    match (gold, pred) {
        (None, _) => Reason::GoldNotInKb,
        (Some(_), _) if rank.is_none() => Reason::NoCandidate,
        (Some(_), None) => Reason::NilPredicted,
        (Some(g), Some(p)) => {
            let gold_types: HashSet<EntityIdx> = kb.types_of(g).collect();
            let pred_types: HashSet<EntityIdx> = kb.types_of(p).collect();
            if !gold_types.is_empty()
                && !pred_types.is_empty()
                && gold_types.is_disjoint(&pred_types)
            {
                Reason::WrongType
            } else {
                Reason::WrongEntitySameType
            }
        }
    }
}

/// The errors of system `s`, worst first, at most `limit`.
pub fn worst_errors(
    result: &BenchmarkResult,
    gold: &GoldSet,
    kb: &Kb,
    s: usize,
    limit: usize,
) -> Vec<ErrorRow> {
    let system = &result.systems[s];
    let mut rows: Vec<ErrorRow> = result
        .mentions
        .iter()
        .zip(&system.predictions)
        .filter_map(|(m, p)| {
            let reason = match &m.gold {
                GoldEntity::Nil if p.entity_idx.is_some() => Reason::NilGoldLinked,
                GoldEntity::Entity(_) if m.gold_in_kb && p.entity_idx != m.gold_idx => {
                    reason(kb, m.gold_idx, m.gold_rank, p.entity_idx)
                }
                GoldEntity::Entity(_) if !m.gold_in_kb && p.entity_idx.is_some() => {
                    Reason::GoldNotInKb
                }
                _ => return None,
            };
            let chosen = p
                .entity_idx
                .and_then(|e| m.candidate_idx.iter().position(|&c| c == e))
                .map(|i| p.scores[i]);
            let gold_score = m.gold_rank.map(|r| p.scores[r]);
            let margin = chosen.unwrap_or(0.0) - gold_score.unwrap_or(0.0);

            let chars: Vec<char> = gold.documents[m.document].text.chars().collect();
            let take = |a: usize, b: usize| chars[a..b].iter().collect::<String>();
            let (start, end) = (m.start.min(chars.len()), m.end.min(chars.len()));
            Some(ErrorRow {
                system: system.name.clone(),
                document: m.doc_id.clone(),
                surface: m.surface.clone(),
                left: take(start.saturating_sub(CONTEXT), start),
                right: take(end, (end + CONTEXT).min(chars.len())),
                gold: m.gold.qid().unwrap_or("NIL").to_string(),
                gold_label: label(kb, m.gold_idx).unwrap_or_else(|| "—".into()),
                predicted: p.entity.clone(),
                predicted_label: label(kb, p.entity_idx),
                reason,
                margin,
            })
        })
        .collect();
    rows.sort_by(|a, b| b.margin.total_cmp(&a.margin));
    rows.truncate(limit);
    rows
}
