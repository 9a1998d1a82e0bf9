//! Disambiguation: choosing one candidate (or none) for each mention.
//!
//! [`Scorer`] is the seam between retrieval and linking: `link` and `eval` hand a scorer the
//! document and its mentions with their candidates and never care which scorer runs. The
//! baseline here scores by the candidate prior alone.

pub mod model;
pub mod weak;

use crate::retrieve::{normalize, Candidate, Retriever};

/// A mention with its candidates, as retrieval found them.
#[derive(Debug, Clone)]
pub struct MentionCandidates {
    /// Code-point offsets into the document text, `[start, end)`.
    pub start: usize,
    pub end: usize,
    pub surface: String,
    pub candidates: Vec<Candidate>,
}

impl MentionCandidates {
    /// The mentions retrieval detects in `text`, each with its candidates, in text order.
    pub fn detect(retriever: &Retriever, text: &str) -> Vec<MentionCandidates> {
        let chars: Vec<char> = text.chars().collect();
        let detected = retriever.detect(text);
        let mut mentions: Vec<MentionCandidates> = detected
            .iter()
            .map(|m| {
                let surface: String = chars[m.start..m.end].iter().collect();
                MentionCandidates {
                    start: m.start,
                    end: m.end,
                    candidates: retriever.candidates_as_written(&m.key, &surface),
                    surface,
                }
            })
            .collect();
        let keys: Vec<&str> = detected.iter().map(|m| m.key.as_str()).collect();
        MentionCandidates::add_context_for_keys(retriever, &keys, &mut mentions);
        mentions
    }

    /// Mentions at given spans (`start`, `end` in code points, and the surface), each with its
    /// candidates, as [`MentionCandidates::detect`] gives them for detected ones.
    pub fn at_spans(
        retriever: &Retriever,
        spans: impl IntoIterator<Item = (usize, usize, String)>,
    ) -> Vec<MentionCandidates> {
        let (keys, mut mentions): (Vec<String>, Vec<MentionCandidates>) = spans
            .into_iter()
            .map(|(start, end, surface)| {
                let key = normalize(&surface);
                let candidates = retriever.candidates_as_written(&key, &surface);
                let mention = MentionCandidates {
                    start,
                    end,
                    surface,
                    candidates,
                };
                (key, mention)
            })
            .unzip();
        let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
        MentionCandidates::add_context_for_keys(retriever, &keys, &mut mentions);
        mentions
    }

    /// Adds the candidates the document's other mentions point to (partial names such as
    /// "Steve" beside "Apple"), as [`Retriever::add_context_candidates`] finds them.
    fn add_context_for_keys(
        retriever: &Retriever,
        keys: &[&str],
        mentions: &mut [MentionCandidates],
    ) {
        if !retriever.context {
            return;
        }
        let mut lists: Vec<Vec<Candidate>> = mentions
            .iter_mut()
            .map(|m| std::mem::take(&mut m.candidates))
            .collect();
        retriever.add_context_candidates(keys, &mut lists, &[]);
        for (m, list) in mentions.iter_mut().zip(lists) {
            m.candidates = list;
        }
    }
}

/// One scorer's verdict on a mention: a score per candidate (same order) and the choice.
#[derive(Debug, Clone, PartialEq)]
pub struct MentionScores {
    pub scores: Vec<f32>,
    /// Index into the candidates of the chosen entity; `None` leaves the mention unlinked (NIL).
    pub chosen: Option<usize>,
}

/// Scores the candidates of every mention of one document.
pub trait Scorer: Send + Sync {
    /// A short name for reports ("prior", "model", …).
    fn name(&self) -> &str;

    /// Scores all mentions of a document at once, so a scorer may use the document's context
    /// and the other mentions' candidates.
    fn score_document(&self, text: &str, mentions: &[MentionCandidates]) -> Vec<MentionScores>;

    /// Scores several documents, each as [`Scorer::score_document`] would; a scorer whose
    /// model runs in batches overrides it so the documents share passes.
    fn score_documents(&self, docs: &[(&str, &[MentionCandidates])]) -> Vec<Vec<MentionScores>> {
        docs.iter()
            .map(|(text, mentions)| self.score_document(text, mentions))
            .collect()
    }
}

/// The baseline: the candidate with the highest alias prior wins, unless its prior is below the
/// NIL threshold. Candidates only the document's context proposed score zero: the baseline is
/// p(entity | alias) alone, and reading the document is the model's job.
#[derive(Debug, Clone)]
pub struct PriorScorer {
    /// Best priors below this leave the mention unlinked (default 0: link whenever a candidate
    /// exists).
    pub nil_threshold: f32,
}

impl Default for PriorScorer {
    fn default() -> Self {
        PriorScorer { nil_threshold: 0.0 }
    }
}

impl Scorer for PriorScorer {
    fn name(&self) -> &str {
        "prior"
    }

    fn score_document(&self, _text: &str, mentions: &[MentionCandidates]) -> Vec<MentionScores> {
        mentions
            .iter()
            .map(|m| {
                let scores: Vec<f32> = m.candidates.iter().map(|c| c.alias_prior).collect();
                let best = scores
                    .iter()
                    .enumerate()
                    .max_by(|a, b| a.1.total_cmp(b.1).then(b.0.cmp(&a.0)))
                    .filter(|(_, &s)| s > 0.0 && s >= self.nil_threshold)
                    .map(|(i, _)| i);
                MentionScores {
                    scores,
                    chosen: best,
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::retrieve::CandidateSource;

    fn cand(entity: u32, prior: f32) -> Candidate {
        Candidate {
            entity,
            prior,
            alias_prior: prior,
            source: CandidateSource::Exact,
            similarity: 1.0,
        }
    }

    #[test]
    fn prior_picks_the_best_or_nil() {
        let m = |c: Vec<Candidate>| MentionCandidates {
            start: 0,
            end: 1,
            surface: "x".into(),
            candidates: c,
        };
        let scorer = PriorScorer { nil_threshold: 0.3 };
        let out = scorer.score_document(
            "x",
            &[
                m(vec![cand(1, 0.2), cand(2, 0.7)]),
                m(vec![cand(3, 0.25)]),
                m(vec![]),
            ],
        );
        assert_eq!(out[0].chosen, Some(1));
        assert_eq!(out[1].chosen, None);
        assert_eq!(out[2].chosen, None);

        let mut from_context = cand(4, 0.9);
        (from_context.source, from_context.alias_prior) = (CandidateSource::Context, 0.0);
        let out = scorer.score_document("x", &[m(vec![from_context, cand(5, 0.4)])]);
        assert_eq!(
            out[0].chosen,
            Some(1),
            "a context candidate is not an alias prior"
        );
    }
}
