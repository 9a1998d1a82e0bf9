//! From mentions with their candidates to the tensors of one forward pass.
//!
//! A mention carries its context vector (the sentence vector and the mention's pooled token
//! vector, from one encoder pass over the sentence) and its candidates with the retrieval
//! evidence. A batch pads every mention to the widest candidate list and masks the padding.
//! Signals that are off are fed as zeros, which is how the ablations share one network.

use candle_core::{Device, Tensor};

use crate::kb::{EntityIdx, Kb};

use super::entity_text::EntityTextVectors;
use super::error::Result;
use super::kg_vectors::KgVectors;
use super::signals::Signals;

/// Per-candidate scalar features (see [`scalars`]).
pub const SCALARS: usize = 12;
/// Per-mention features of the NIL score.
pub const NIL_FEATURES: usize = 4;

/// Retrieval evidence for one candidate of a mention.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct CandidateFeatures {
    pub entity: EntityIdx,
    pub prior: f32,
    /// Similarity of the matched alias to the mention (1 for an exact alias).
    pub similarity: f32,
    pub exact: bool,
    /// Support from the KB: how strongly the candidate is linked to the likely entities of the
    /// document's other mentions, in [0, 1].
    pub coherence: f32,
    /// Share of the other mentions with any candidate the KB links to this one, in [0, 1].
    pub reach: f32,
    /// `reach` minus the best reach of the mention's other candidates, in [-1, 1].
    pub reach_lead: f32,
    /// Mean over the other mentions of the best KB relatedness to one of their candidates,
    /// in [0, 1].
    pub related: f32,
    /// `related` minus the best of the mention's other candidates, in [-1, 1].
    pub related_lead: f32,
}

/// One mention, ready to score.
#[derive(Debug, Clone, PartialEq)]
pub struct MentionFeatures {
    /// Sentence vector followed by the mention vector, both unit length (`2 × encoder dim`).
    pub context: Vec<f32>,
    pub candidates: Vec<CandidateFeatures>,
}

/// The tensors of one forward pass over `B` mentions padded to `C` candidates.
pub struct Batch {
    /// `[B, 2D]`
    pub context: Tensor,
    /// `[B, C, D]`
    pub entity_text: Tensor,
    /// `[B, C, K]`
    pub kg: Tensor,
    /// `[B, C, SCALARS]`
    pub scalars: Tensor,
    /// `[B, C]`, 1 for a real candidate and 0 for padding.
    pub mask: Tensor,
    /// `[B, NIL_FEATURES]`
    pub nil: Tensor,
    pub width: usize,
}

impl Batch {
    /// Zeroes the KG evidence (embedding rows, coherence, "has an embedding") of the mentions
    /// flagged in `hidden`, as if the model read no KG for them.
    pub fn hide_kg(&mut self, hidden: &[bool]) -> Result<()> {
        let device = self.kg.device().clone();
        let b = hidden.len();
        let keep: Vec<f32> = hidden.iter().map(|&h| if h { 0.0 } else { 1.0 }).collect();
        let keep = Tensor::from_vec(keep, (b, 1, 1), &device)?;
        self.kg = self.kg.broadcast_mul(&keep)?;
        let columns: Vec<f32> = (0..SCALARS)
            .map(|i| if KG_SCALARS.contains(&i) { 0.0 } else { 1.0 })
            .collect();
        let kg_columns = Tensor::from_vec(columns, (1, 1, SCALARS), &device)?;
        // per mention: all ones when kept, the non-KG columns when hidden
        let factor = kg_columns.broadcast_add(&keep)?.clamp(0f32, 1f32)?;
        self.scalars = self.scalars.broadcast_mul(&factor)?;
        Ok(())
    }
}

/// Positions in [`BatchInputs::scalars`] of the KG scalars: coherence, "has a KG embedding",
/// reach and its lead, relatedness and its lead.
const KG_SCALARS: [usize; 6] = [4, 5, 8, 9, 10, 11];

/// What a batch reads besides the mentions.
pub struct BatchInputs<'a> {
    pub kb: &'a Kb,
    pub text: &'a EntityTextVectors,
    pub text_dim: usize,
    pub kg: &'a KgVectors,
    pub signals: Signals,
}

impl BatchInputs<'_> {
    pub fn assemble(&self, mentions: &[&MentionFeatures], device: &Device) -> Result<Batch> {
        let b = mentions.len();
        let width = mentions
            .iter()
            .map(|m| m.candidates.len())
            .max()
            .unwrap_or(0)
            .max(1);
        let (d, k) = (self.text_dim, self.kg.dim());
        let mut context = Vec::with_capacity(b * 2 * d);
        let mut entity_text = Vec::with_capacity(b * width * d);
        let mut kg = Vec::with_capacity(b * width * k);
        let mut scalar_rows = Vec::with_capacity(b * width * SCALARS);
        let mut mask: Vec<f32> = Vec::with_capacity(b * width);
        let mut nil = Vec::with_capacity(b * NIL_FEATURES);
        let mut text_row = Vec::with_capacity(d);
        for m in mentions {
            if self.signals.text && m.context.len() == 2 * d {
                context.extend_from_slice(&m.context);
            } else {
                context.extend(std::iter::repeat_n(0.0, 2 * d));
            }
            for slot in 0..width {
                let Some(c) = m.candidates.get(slot) else {
                    entity_text.extend(std::iter::repeat_n(0.0, d));
                    kg.extend(std::iter::repeat_n(0.0, k));
                    scalar_rows.extend([0.0; SCALARS]);
                    mask.push(0.0);
                    continue;
                };
                text_row.clear();
                if self.signals.text {
                    self.text.gather(&[c.entity], d, &mut text_row);
                } else {
                    text_row.extend(std::iter::repeat_n(0.0, d));
                }
                if self.signals.kg {
                    kg.extend_from_slice(self.kg.row(c.entity));
                } else {
                    kg.extend(std::iter::repeat_n(0.0, k));
                }
                scalar_rows.extend(self.scalars(m, c, &text_row));
                entity_text.extend_from_slice(&text_row);
                mask.push(1.0);
            }
            nil.extend(nil_features(&m.candidates));
        }
        Ok(Batch {
            context: Tensor::from_vec(context, (b, 2 * d), device)?,
            entity_text: Tensor::from_vec(entity_text, (b, width, d), device)?,
            kg: Tensor::from_vec(kg, (b, width, k), device)?,
            scalars: Tensor::from_vec(scalar_rows, (b, width, SCALARS), device)?,
            mask: Tensor::from_vec(mask, (b, width), device)?,
            nil: Tensor::from_vec(nil, (b, NIL_FEATURES), device)?,
            width,
        })
    }

    /// Log prior, alias similarity, exact match, popularity (always read); KG coherence and
    /// "has a KG embedding" (KG signal); the cosine of the candidate's text with the sentence and
    /// with the mention (text signal); KG reach, relatedness and their leads (KG signal).
    fn scalars(&self, m: &MentionFeatures, c: &CandidateFeatures, text: &[f32]) -> [f32; SCALARS] {
        let d = self.text_dim;
        let (kg_on, text_on) = (
            self.signals.kg,
            self.signals.text && m.context.len() == 2 * d,
        );
        let dot = |a: &[f32]| a.iter().zip(text).map(|(x, y)| x * y).sum::<f32>();
        let degree = self.kb.entity(c.entity).degree as f32;
        [
            log_prior(c.prior),
            c.similarity,
            f32::from(u8::from(c.exact)),
            (1.0 + degree).ln() / 8.0,
            // KG_SCALARS: these two
            if kg_on { c.coherence } else { 0.0 },
            if kg_on && self.kg.has(c.entity) {
                1.0
            } else {
                0.0
            },
            if text_on { dot(&m.context[..d]) } else { 0.0 },
            if text_on { dot(&m.context[d..]) } else { 0.0 },
            if kg_on { c.reach } else { 0.0 },
            if kg_on { c.reach_lead } else { 0.0 },
            if kg_on { c.related } else { 0.0 },
            if kg_on { c.related_lead } else { 0.0 },
        ]
    }
}

/// The prior on a log scale mapped to about [-1, 0].
fn log_prior(p: f32) -> f32 {
    p.max(1e-6).ln() / 14.0
}

/// How much retrieval found: a mention with weak, fuzzy candidates is more likely NIL.
fn nil_features(candidates: &[CandidateFeatures]) -> [f32; NIL_FEATURES] {
    let best_prior = candidates.iter().map(|c| c.prior).fold(0.0, f32::max);
    let best_sim = candidates.iter().map(|c| c.similarity).fold(0.0, f32::max);
    let any_exact = candidates.iter().any(|c| c.exact);
    [
        log_prior(best_prior),
        best_sim,
        f32::from(u8::from(any_exact)),
        candidates.len() as f32 / 30.0,
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hidden_mentions_lose_only_their_kg_evidence() {
        let dev = Device::Cpu;
        let ones = |dims: &[usize]| Tensor::ones(dims, candle_core::DType::F32, &dev).unwrap();
        let mut batch = Batch {
            context: ones(&[2, 4]),
            entity_text: ones(&[2, 3, 2]),
            kg: ones(&[2, 3, 5]),
            scalars: ones(&[2, 3, SCALARS]),
            mask: ones(&[2, 3]),
            nil: ones(&[2, NIL_FEATURES]),
            width: 3,
        };
        batch.hide_kg(&[false, true]).unwrap();
        let kg: Vec<Vec<Vec<f32>>> = batch.kg.to_vec3().unwrap();
        assert!(kg[0].iter().flatten().all(|&v| v == 1.0));
        assert!(kg[1].iter().flatten().all(|&v| v == 0.0));
        let scalars: Vec<Vec<Vec<f32>>> = batch.scalars.to_vec3().unwrap();
        assert!(scalars[0].iter().flatten().all(|&v| v == 1.0));
        for row in &scalars[1] {
            for (i, &v) in row.iter().enumerate() {
                let want = if KG_SCALARS.contains(&i) { 0.0 } else { 1.0 };
                assert_eq!(v, want, "column {i}");
            }
        }
    }

    #[test]
    fn nil_features_read_the_best_candidate() {
        let c = |prior, similarity, exact| CandidateFeatures {
            entity: 0,
            prior,
            similarity,
            exact,
            ..Default::default()
        };
        let f = nil_features(&[c(0.2, 0.7, false), c(0.5, 1.0, true)]);
        assert!((f[0] - 0.5f32.ln() / 14.0).abs() < 1e-6);
        assert_eq!(&f[1..], &[1.0, 1.0, 2.0 / 30.0]);
        assert_eq!(nil_features(&[])[2], 0.0);
    }
}
