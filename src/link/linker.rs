//! Linking one document: mentions (detected, or given), candidates, then the scorer's choice,
//! rendered with KB ids and labels for the output.

use serde::Serialize;

use crate::disambiguate::{MentionCandidates, MentionScores, Scorer};
use crate::kb::Kb;
use crate::retrieve::{CandidateSource, Retriever};

use super::input::InputDocument;

/// Candidates written per mention in the output (all are scored).
pub const DEFAULT_OUTPUT_CANDIDATES: usize = 5;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LinkedCandidate {
    pub entity: String,
    pub label: Option<String>,
    pub score: f32,
    pub prior: f32,
    pub source: CandidateSource,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LinkedMention {
    /// Unicode code-point offsets into the document text, `[start, end)`.
    pub start: usize,
    pub end: usize,
    pub surface: String,
    /// The chosen entity id, or `null` when the mention is left unlinked (NIL).
    pub entity: Option<String>,
    pub label: Option<String>,
    pub score: Option<f32>,
    /// The best-scored candidates, best first.
    pub candidates: Vec<LinkedCandidate>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LinkedDocument {
    pub id: String,
    pub mentions: Vec<LinkedMention>,
    /// Why the document could not be linked; its mentions are then empty.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl LinkedDocument {
    pub fn failed(id: String, error: String) -> Self {
        LinkedDocument {
            id,
            mentions: Vec::new(),
            error: Some(error),
        }
    }
}

pub struct Linker<'a> {
    pub kb: &'a Kb,
    pub retriever: &'a Retriever,
    pub scorer: &'a dyn Scorer,
    /// Candidates written per mention.
    pub output_candidates: usize,
}

impl Linker<'_> {
    /// Mentions with their candidates, from the given spans or by detection.
    pub fn mentions(&self, doc: &InputDocument) -> Vec<MentionCandidates> {
        let Some(spans) = &doc.mentions else {
            return MentionCandidates::detect(self.retriever, &doc.text);
        };
        let chars: Vec<char> = doc.text.chars().collect();
        let spans = spans
            .iter()
            .map(|s| (s.start, s.end, chars[s.start..s.end].iter().collect()));
        MentionCandidates::at_spans(self.retriever, spans)
    }

    pub fn link(&self, doc: &InputDocument) -> LinkedDocument {
        let mut one = self.link_many(&[doc]);
        one.pop().expect("one document in, one out")
    }

    /// Links several documents with one scorer call, so a batched model shares its passes
    /// among them; the result is in input order.
    pub fn link_many(&self, docs: &[&InputDocument]) -> Vec<LinkedDocument> {
        let mentions: Vec<Vec<MentionCandidates>> = docs.iter().map(|d| self.mentions(d)).collect();
        let inputs: Vec<(&str, &[MentionCandidates])> = docs
            .iter()
            .zip(&mentions)
            .map(|(d, m)| (d.text.as_str(), m.as_slice()))
            .collect();
        let verdicts = self.scorer.score_documents(&inputs);
        docs.iter()
            .zip(mentions)
            .zip(verdicts)
            .map(|((doc, mentions), verdicts)| self.assemble(doc, mentions, verdicts))
            .collect()
    }

    fn assemble(
        &self,
        doc: &InputDocument,
        mentions: Vec<MentionCandidates>,
        verdicts: Vec<MentionScores>,
    ) -> LinkedDocument {
        let linked = mentions
            .into_iter()
            .zip(verdicts)
            .map(|(m, v)| {
                let mut ranked: Vec<LinkedCandidate> = m
                    .candidates
                    .iter()
                    .zip(&v.scores)
                    .map(|(c, &score)| {
                        let e = self.kb.entity(c.entity);
                        LinkedCandidate {
                            entity: e.id.clone(),
                            label: e.label.clone(),
                            score,
                            prior: c.prior,
                            source: c.source,
                        }
                    })
                    .collect();
                let chosen = v.chosen.map(|i| ranked[i].clone());
                ranked.sort_by(|a, b| b.score.total_cmp(&a.score));
                ranked.truncate(self.output_candidates);
                LinkedMention {
                    start: m.start,
                    end: m.end,
                    surface: m.surface,
                    entity: chosen.as_ref().map(|c| c.entity.clone()),
                    label: chosen.as_ref().and_then(|c| c.label.clone()),
                    score: chosen.map(|c| c.score),
                    candidates: ranked,
                }
            })
            .collect();
        LinkedDocument {
            id: doc.id.clone(),
            mentions: linked,
            error: None,
        }
    }
}
