//! Mentions in text → [`MentionFeatures`]: candidates from retrieval, the context from one
//! encoder pass per sentence, and KG coherence among the sentence's or document's mentions.

use indicatif::ProgressBar;

use crate::encode::Encoder;
use crate::kb::Kb;
use crate::retrieve::{Candidate, CandidateSource};

use super::batch::{CandidateFeatures, MentionFeatures};
use super::coherence::fill_coherence;
use super::error::Result;

/// Sentences per encoder call while featurizing many.
const SENTENCES_PER_CALL: usize = 256;

/// Retrieval's candidates as model inputs (coherence still zero).
pub fn candidate_features(candidates: &[Candidate]) -> Vec<CandidateFeatures> {
    candidates
        .iter()
        .map(|c| CandidateFeatures {
            entity: c.entity,
            prior: c.prior,
            similarity: c.similarity,
            // a mined name matches the mention exactly too
            exact: matches!(c.source, CandidateSource::Exact | CandidateSource::Derived),
            ..Default::default()
        })
        .collect()
}

/// One text with the mention spans (code points) to read from it.
pub struct SpanGroup<'a> {
    pub text: &'a str,
    pub spans: Vec<(usize, usize)>,
}

/// Context vectors (sentence ⊕ mention) for every span of every group, from one encoder pass
/// per group. A mention cut off by truncation reads the sentence vector twice.
pub fn contexts(
    encoder: &Encoder,
    groups: &[SpanGroup<'_>],
    progress: &ProgressBar,
) -> Result<Vec<Vec<Vec<f32>>>> {
    let mut out = Vec::with_capacity(groups.len());
    for chunk in groups.chunks(SENTENCES_PER_CALL) {
        let texts: Vec<&str> = chunk.iter().map(|g| g.text).collect();
        let spans: Vec<Vec<(usize, usize)>> = chunk.iter().map(|g| g.spans.clone()).collect();
        for vectors in encoder.mention_vectors_batch(&texts, &spans)? {
            let per_span = vectors
                .mentions
                .iter()
                .map(|m| {
                    let mut context = vectors.sentence.clone();
                    context.extend_from_slice(m.as_deref().unwrap_or(&vectors.sentence));
                    context
                })
                .collect();
            out.push(per_span);
        }
        progress.inc(chunk.len() as u64);
    }
    Ok(out)
}

/// Assembles the features of one document's (or sentence's) mentions, in order: `contexts[i]`
/// is empty when the text signal is not read.
pub fn mention_features(
    kb: &Kb,
    contexts: Vec<Vec<f32>>,
    candidates: Vec<Vec<CandidateFeatures>>,
) -> Vec<MentionFeatures> {
    let mut candidates = candidates;
    fill_coherence(kb.adjacency(), &mut candidates);
    contexts
        .into_iter()
        .zip(candidates)
        .map(|(context, candidates)| MentionFeatures {
            context,
            candidates,
        })
        .collect()
}
