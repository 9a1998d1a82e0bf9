//! The fusion network: scores every candidate of a mention, and NIL, from text and KG evidence.
//!
//! For mention context `x` (sentence ⊕ mention vector), candidate text vector `t`, candidate KG
//! vector `k` and scalar evidence `s` (prior, similarity, coherence, cosines):
//!
//! ```text
//! h = [ A x ⊙ B t ,  C x ⊙ E k ,  E k ,  s ]        (per candidate)
//! score = w₂ · gelu(W₁ h)
//! nil   = v · n + b                              (n: how strong retrieval's best evidence is)
//! ```
//!
//! The products let the context choose among candidates by what their texts and graph
//! neighbourhoods say; `E k` alone lets the graph vector act as a learned popularity and type
//! prior, which is what keeps rare entities reachable when the text is thin.

use candle_core::{Module, Tensor, D};
use candle_nn::{linear, Linear, VarBuilder};
use serde::{Deserialize, Serialize};

use super::batch::{Batch, NIL_FEATURES, SCALARS};
use super::error::Result;

/// Sizes of the network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetShape {
    /// Encoder vector length (384 for all-MiniLM-L6-v2).
    pub text_dim: usize,
    /// KG vector length (0 when no embeddings are read).
    pub kg_dim: usize,
    /// Width of the interaction layers (default 96).
    pub hidden: usize,
}

pub struct FusionNet {
    context_text: Linear,
    entity_text: Linear,
    context_kg: Linear,
    entity_kg: Option<Linear>,
    mix: Linear,
    out: Linear,
    nil: Linear,
    shape: NetShape,
}

impl FusionNet {
    pub fn new(shape: NetShape, vb: VarBuilder<'_>) -> Result<Self> {
        let (d, k, h) = (shape.text_dim, shape.kg_dim, shape.hidden);
        let kg_width = if k > 0 { 2 * h } else { 0 };
        Ok(FusionNet {
            context_text: linear(2 * d, h, vb.pp("context_text"))?,
            entity_text: linear(d, h, vb.pp("entity_text"))?,
            context_kg: linear(2 * d, h, vb.pp("context_kg"))?,
            entity_kg: (k > 0)
                .then(|| linear(k, h, vb.pp("entity_kg")))
                .transpose()?,
            mix: linear(h + kg_width + SCALARS, h, vb.pp("mix"))?,
            out: linear(h, 1, vb.pp("out"))?,
            nil: linear(NIL_FEATURES, 1, vb.pp("nil"))?,
            shape,
        })
    }

    pub fn shape(&self) -> NetShape {
        self.shape
    }

    /// Logits `[B, C + 1]`: the candidates in batch order, then NIL; padding gets a large
    /// negative logit so it never wins and takes no probability.
    pub fn forward(&self, batch: &Batch) -> Result<Tensor> {
        let query = self.context_text.forward(&batch.context)?.unsqueeze(1)?;
        let text = self.entity_text.forward(&batch.entity_text)?;
        let mut parts = vec![text.broadcast_mul(&query)?];
        if let Some(entity_kg) = &self.entity_kg {
            let kg = entity_kg.forward(&batch.kg)?;
            let kg_query = self.context_kg.forward(&batch.context)?.unsqueeze(1)?;
            parts.push(kg.broadcast_mul(&kg_query)?);
            parts.push(kg);
        }
        parts.push(batch.scalars.clone());
        let h = Tensor::cat(&parts, D::Minus1)?;
        let scores = self
            .out
            .forward(&self.mix.forward(&h)?.gelu()?)?
            .squeeze(D::Minus1)?;
        let padding = ((batch.mask.ones_like()? - &batch.mask)? * 1e4)?;
        let scores = (scores - padding)?;
        let nil = self.nil.forward(&batch.nil)?;
        Ok(Tensor::cat(&[scores, nil], 1)?)
    }
}
