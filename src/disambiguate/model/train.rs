//! Training the fusion layers over cached, frozen-encoder features.
//!
//! The loss is a contrastive softmax over each mention's candidate set: its retrieval
//! candidates are the hard negatives, the gold entities of other mentions in the batch add
//! in-batch negatives, and NIL is one more option. In a share of examples the gold is taken out
//! of the candidates and NIL becomes the answer, which is how the NIL score is learned.

use candle_core::{DType, Device, Tensor};
use candle_nn::{AdamW, Optimizer, ParamsAdamW, VarMap};
use indicatif::ProgressBar;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

use crate::kb::EntityIdx;

use super::batch::{BatchInputs, CandidateFeatures, MentionFeatures};
use super::error::{ModelError, Result};
use super::net::FusionNet;

/// A weakly labelled mention, featurized.
#[derive(Debug, Clone)]
pub struct TrainingMention {
    pub features: MentionFeatures,
    pub gold: EntityIdx,
    /// The weak label came from the prior (see `LabelledSpan::from_prior`).
    pub from_prior: bool,
}

/// Training settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TrainOptions {
    /// Passes over the training mentions (default 6).
    pub epochs: usize,
    /// Mentions per step (default 128).
    pub batch_size: usize,
    /// AdamW learning rate (default 2e-3).
    pub lr: f64,
    /// Retrieval candidates kept per training mention, best prior first, the gold always among
    /// them (default 16).
    pub max_candidates: usize,
    /// Gold entities of other mentions in the batch added as negatives (default 4).
    pub in_batch_negatives: usize,
    /// Share of mentions trained with the gold removed and NIL as the answer (default 0.1).
    pub nil_rate: f32,
    /// Share of mentions trained with their priors flattened to uniform, so the model learns
    /// to choose from the context and the KB where weak labels mostly agree with the prior
    /// (default 0.3).
    pub prior_dropout: f32,
    /// Times a mention whose gold is not the prior's choice is seen per epoch (default 1). With
    /// hard names in the weak labels such mentions are common enough; repeating them more
    /// teaches the model to overrule the prior more often than real text warrants.
    pub hard_repeats: usize,
    /// Share of training mentions shown without their KG evidence (embeddings, coherence), in
    /// a model that reads it (default 0.5). Weak labels were made with the KB's help, so KG
    /// evidence fits them better than it fits real text; hiding it in part of the examples
    /// keeps the model from leaning on it where the text has the answer.
    #[serde(default)]
    pub kg_dropout: f32,
    /// Relations named in each candidate's text ("spouse: David Beckham"), at most (default
    /// 0). Link and eval render candidate texts the way the model was trained.
    #[serde(default)]
    pub relations_in_text: usize,
    /// Seeds shuffling, NIL sampling and the initial weights (default 17).
    pub seed: u64,
}

impl Default for TrainOptions {
    fn default() -> Self {
        TrainOptions {
            epochs: 6,
            batch_size: 128,
            lr: 2e-3,
            max_candidates: 16,
            in_batch_negatives: 4,
            nil_rate: 0.1,
            prior_dropout: 0.3,
            hard_repeats: 1,
            relations_in_text: 0,
            kg_dropout: 0.5,
            seed: 17,
        }
    }
}

/// Accuracy on held-out mentions whose label did not come from the prior (comparing the prior
/// with labels it decided would be circular): the model's argmax against the prior's.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct HoldoutAccuracy {
    pub mentions: usize,
    /// Held-out mentions left out of the comparison because the prior decided their label.
    #[serde(default)]
    pub prior_decided: usize,
    pub model_correct: usize,
    pub prior_correct: usize,
}

impl HoldoutAccuracy {
    pub fn model(&self) -> f64 {
        self.model_correct as f64 / self.mentions.max(1) as f64
    }

    pub fn prior(&self) -> f64 {
        self.prior_correct as f64 / self.mentions.max(1) as f64
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EpochRecord {
    pub epoch: usize,
    pub loss: f64,
    pub holdout: HoldoutAccuracy,
    pub seconds: f64,
}

/// Stands for NIL until a batch knows where its NIL column is.
const NIL_TARGET: u32 = u32::MAX;

/// One training mention laid out for a step: its candidates and the index of the answer
/// ([`NIL_TARGET`] for NIL).
fn training_view(
    m: &TrainingMention,
    batch_golds: &[EntityIdx],
    options: &TrainOptions,
    rng: &mut StdRng,
) -> Option<(MentionFeatures, u32)> {
    let gold_at = m
        .features
        .candidates
        .iter()
        .position(|c| c.entity == m.gold)?;
    let keep = options.max_candidates.max(1);
    let mut candidates: Vec<CandidateFeatures> =
        m.features.candidates.iter().take(keep).copied().collect();
    if gold_at >= keep {
        candidates[keep - 1] = m.features.candidates[gold_at];
    }
    let nil = rng.random::<f32>() < options.nil_rate;
    if nil {
        candidates.retain(|c| c.entity != m.gold);
    }
    if rng.random::<f32>() < options.prior_dropout {
        let uniform = 1.0 / candidates.len().max(1) as f32;
        candidates.iter_mut().for_each(|c| c.prior = uniform);
    }
    let mut added = 0;
    for &g in batch_golds {
        if added == options.in_batch_negatives {
            break;
        }
        if g != m.gold && !candidates.iter().any(|c| c.entity == g) {
            candidates.push(CandidateFeatures {
                entity: g,
                prior: 0.0,
                similarity: 0.0,
                exact: false,
                ..Default::default()
            });
            added += 1;
        }
    }
    // NIL's column comes after the padding, so its index is only known per batch.
    let target = if nil {
        NIL_TARGET as usize
    } else {
        candidates.iter().position(|c| c.entity == m.gold)?
    };
    let features = MentionFeatures {
        context: m.features.context.clone(),
        candidates,
    };
    Some((features, target as u32))
}

/// How often a mention is seen per epoch.
pub(super) fn repeats(m: &TrainingMention, options: &TrainOptions) -> usize {
    let cands = &m.features.candidates;
    let top = cands.iter().max_by(|a, b| a.prior.total_cmp(&b.prior));
    if top.is_some_and(|c| c.entity != m.gold) {
        options.hard_repeats.max(1)
    } else {
        1
    }
}

/// Trains `net` (whose variables live in `vars`) for `options.epochs` epochs starting at
/// `first_epoch`, calling `after_epoch` with each epoch's record (for checkpoints).
#[allow(clippy::too_many_arguments)]
pub fn train(
    net: &FusionNet,
    vars: &VarMap,
    inputs: &BatchInputs<'_>,
    train: &[TrainingMention],
    holdout: &[TrainingMention],
    options: &TrainOptions,
    first_epoch: usize,
    progress: &ProgressBar,
    mut after_epoch: impl FnMut(&EpochRecord) -> Result<()>,
) -> Result<Vec<EpochRecord>> {
    if train.is_empty() {
        return Err(ModelError::Training("no training mentions".into()));
    }
    let device = Device::Cpu;
    let params = ParamsAdamW {
        lr: options.lr,
        weight_decay: 1e-4,
        ..Default::default()
    };
    let mut optimizer = AdamW::new(vars.all_vars(), params)?;
    let mut records = Vec::new();
    for epoch in first_epoch..options.epochs {
        let started = std::time::Instant::now();
        let mut rng = StdRng::seed_from_u64(options.seed.wrapping_add(epoch as u64));
        let mut order: Vec<usize> = (0..train.len())
            .flat_map(|i| std::iter::repeat_n(i, repeats(&train[i], options)))
            .collect();
        order.shuffle(&mut rng);
        let (mut loss_sum, mut steps) = (0.0f64, 0usize);
        for chunk in order.chunks(options.batch_size) {
            let golds: Vec<EntityIdx> = chunk.iter().map(|&i| train[i].gold).collect();
            let views: Vec<(MentionFeatures, u32)> = chunk
                .iter()
                .filter_map(|&i| training_view(&train[i], &golds, options, &mut rng))
                .collect();
            if views.is_empty() {
                continue;
            }
            let mentions: Vec<&MentionFeatures> = views.iter().map(|v| &v.0).collect();
            let mut batch = inputs.assemble(&mentions, &device)?;
            if inputs.signals.kg && options.kg_dropout > 0.0 {
                let hidden: Vec<bool> = (0..views.len())
                    .map(|_| rng.random::<f32>() < options.kg_dropout)
                    .collect();
                batch.hide_kg(&hidden)?;
            }
            let nil_column = batch.width as u32;
            let targets: Vec<u32> = views
                .iter()
                .map(|v| if v.1 == NIL_TARGET { nil_column } else { v.1 })
                .collect();
            let logits = net.forward(&batch)?;
            let targets = Tensor::from_vec(targets, views.len(), &device)?;
            let loss = candle_nn::loss::cross_entropy(&logits, &targets)?;
            optimizer.backward_step(&loss)?;
            let value = loss.to_dtype(DType::F64)?.to_scalar::<f64>()?;
            if !value.is_finite() {
                return Err(ModelError::Training(format!(
                    "loss is {value} at epoch {epoch}"
                )));
            }
            loss_sum += value;
            steps += 1;
            progress.inc(chunk.len() as u64);
            progress.set_message(format!(
                "epoch {} loss {:.4}",
                epoch + 1,
                loss_sum / steps as f64
            ));
        }
        let record = EpochRecord {
            epoch: epoch + 1,
            loss: loss_sum / steps.max(1) as f64,
            holdout: holdout_accuracy(net, inputs, holdout)?,
            seconds: started.elapsed().as_secs_f64(),
        };
        tracing::info!(
            epoch = record.epoch,
            loss = format!("{:.4}", record.loss),
            holdout_model = format!("{:.3}", record.holdout.model()),
            holdout_prior = format!("{:.3}", record.holdout.prior()),
            seconds = format!("{:.1}", record.seconds),
            "epoch done"
        );
        after_epoch(&record)?;
        records.push(record);
    }
    Ok(records)
}

/// The model's and the prior's accuracy on held-out mentions over their full candidate sets.
pub fn holdout_accuracy(
    net: &FusionNet,
    inputs: &BatchInputs<'_>,
    holdout: &[TrainingMention],
) -> Result<HoldoutAccuracy> {
    let mut acc = HoldoutAccuracy::default();
    for chunk in holdout.chunks(256) {
        let mentions: Vec<&MentionFeatures> = chunk.iter().map(|m| &m.features).collect();
        // The gold is always among a held-out mention's candidates, so the model is measured
        // as the prior is: by its best candidate, NIL aside.
        let choices = probabilities(net, inputs, &mentions)?.into_iter().map(|p| {
            p[..p.len() - 1]
                .iter()
                .enumerate()
                .max_by(|a, b| a.1.total_cmp(b.1))
                .map(|(i, _)| i)
        });
        for (m, choice) in chunk.iter().zip(choices) {
            if m.from_prior {
                acc.prior_decided += 1;
                continue;
            }
            acc.mentions += 1;
            let cands = &m.features.candidates;
            if choice
                .and_then(|i| cands.get(i))
                .is_some_and(|c| c.entity == m.gold)
            {
                acc.model_correct += 1;
            }
            let best_prior = cands.iter().max_by(|a, b| a.prior.total_cmp(&b.prior));
            if best_prior.is_some_and(|c| c.entity == m.gold) {
                acc.prior_correct += 1;
            }
        }
    }
    Ok(acc)
}

/// Per mention, the softmax over its candidates (in order, padding dropped) and NIL (last).
pub fn probabilities(
    net: &FusionNet,
    inputs: &BatchInputs<'_>,
    mentions: &[&MentionFeatures],
) -> Result<Vec<Vec<f32>>> {
    if mentions.is_empty() {
        return Ok(Vec::new());
    }
    let batch = inputs.assemble(mentions, &Device::Cpu)?;
    let probs = candle_nn::ops::softmax_last_dim(&net.forward(&batch)?)?;
    let rows: Vec<Vec<f32>> = probs.to_vec2()?;
    Ok(rows
        .into_iter()
        .zip(mentions)
        .map(|(row, m)| {
            let mut p: Vec<f32> = row[..m.candidates.len()].to_vec();
            p.push(row[batch.width]);
            p
        })
        .collect())
}
