//! The training loop: epochs of shuffled batches, sparse Adagrad, a checkpoint after every
//! epoch, optional early stopping on validation MRR.
//!
//! Determinism: the shuffle of an epoch and the random stream of every chunk of a batch are
//! derived from `(seed, epoch, chunk)`, and updates do not depend on the thread count, so a run
//! resumed from a checkpoint ends with the same tables as one that never stopped.

use std::path::{Path, PathBuf};
use std::time::Instant;

use candle_core::Device;
use indicatif::{ProgressBar, ProgressStyle};
use rand::seq::SliceRandom;
use rand::Rng;
use serde::{Deserialize, Serialize};

use super::checkpoint;
use super::data::{Row, TripleData};
use super::error::{EmbedError, Result};
use super::eval::{evaluate, filter_from, Metrics};
use super::loss::Loss;
use super::model::{curvature, relation_rows, relation_width, ModelKind, ModelView, Norm};
use super::optim::{apply, apply_scalar, Table};
use super::sample::{chunk_rng, Corruption, Sampler};
use super::step::{batch, BatchSpec, GradPath, Grads, CHUNK};

/// Everything that decides what training computes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    pub model: ModelKind,
    pub dim: usize,
    /// TransE's distance (ignored by the hyperbolic model).
    pub norm: Norm,
    /// TransE learns an inverse row per relation for head prediction (the hyperbolic model
    /// always has them). Absent in configs written before the option, which had none.
    #[serde(default)]
    pub reciprocal: bool,
    pub loss: Loss,
    pub negatives: usize,
    pub corruption: Corruption,
    /// Redraw negatives that are known training triples.
    pub filtered_negatives: bool,
    pub epochs: u64,
    pub batch_size: usize,
    pub lr: f32,
    pub seed: u64,
    /// Evaluate on (a sample of) the validation split every this many epochs; 0 never.
    pub eval_every: u64,
    /// Validation triples used for that evaluation (the first ones of the split).
    pub valid_sample: usize,
    /// Stop after this many evaluations without a better validation MRR; 0 never.
    pub patience: u64,
}

/// The trained parameters and their optimizer state.
#[derive(Debug, Clone, PartialEq)]
pub struct Params {
    pub model: ModelKind,
    pub norm: Norm,
    /// TransE with inverse relation rows (see [`TrainConfig::reciprocal`]).
    pub reciprocal: bool,
    pub dim: usize,
    pub relations: usize,
    pub entity: Table,
    pub relation: Table,
    /// One bias per entity, width 1 (hyperbolic only; no rows for TransE).
    pub bias: Table,
    /// Unconstrained curvature parameter and its Adagrad sum (hyperbolic only).
    pub curvature_raw: f32,
    pub curvature_g2: f32,
}

impl Params {
    pub fn init(cfg: &TrainConfig, entities: usize, relations: usize) -> Self {
        let d = cfg.dim;
        let mut rng = chunk_rng(cfg.seed, u64::MAX, 0);
        let rw = relation_width(cfg.model, d);
        let rows = relation_rows(cfg.model, cfg.reciprocal, relations);
        let (entity, relation) = match cfg.model {
            ModelKind::Transe => {
                // distances start near the margin: far larger rows would spend the first
                // epochs (and Adagrad's step budget) only shrinking the tables
                let b = (cfg.loss.margin + 2.0) / d as f32;
                let mut u = |n: usize| (0..n).map(|_| rng.random_range(-b..b)).collect();
                (u(entities * d), u(rows * rw))
            }
            ModelKind::Hyperbolic => {
                let e = (0..entities * d)
                    .map(|_| rng.random_range(-0.1..0.1))
                    .collect();
                let mut r = vec![0.0; rows * rw];
                for row in r.chunks_mut(rw) {
                    for (i, x) in row.iter_mut().enumerate() {
                        *x = if i < d {
                            1.0 + rng.random_range(-0.1..0.1)
                        } else {
                            rng.random_range(-0.01..0.01)
                        };
                    }
                }
                (e, r)
            }
        };
        // biases start at 0, so the first steps are those of the plain distance model
        let biases = match cfg.model {
            ModelKind::Transe => 0,
            ModelKind::Hyperbolic => entities,
        };
        Params {
            model: cfg.model,
            norm: cfg.norm,
            reciprocal: cfg.reciprocal,
            dim: d,
            relations,
            entity: Table::new(entity, d),
            relation: Table::new(relation, rw),
            bias: Table::new(vec![0.0; biases], 1),
            curvature_raw: super::model::curvature_raw(1.0),
            curvature_g2: 0.0,
        }
    }

    pub fn view(&self) -> ModelView<'_> {
        ModelView {
            kind: self.model,
            norm: self.norm,
            dim: self.dim,
            entity: &self.entity.data,
            relation: &self.relation.data,
            relations: self.relations,
            reciprocal: self.reciprocal,
            curvature: curvature(self.curvature_raw),
            bias: &self.bias.data,
        }
    }
}

/// One epoch's record, kept in the checkpoint and the manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochRecord {
    pub epoch: u64,
    pub loss: f64,
    pub seconds: f64,
    pub triples_per_s: f64,
    pub valid: Option<Metrics>,
}

/// Where training stands: what a checkpoint holds besides the tables.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TrainState {
    pub epochs_done: u64,
    pub history: Vec<EpochRecord>,
    pub best_valid_mrr: Option<f64>,
    pub evals_without_gain: u64,
    pub stopped_early: bool,
}

pub struct Trainer<'a> {
    pub cfg: TrainConfig,
    pub data: &'a TripleData,
    pub device: Device,
    /// Checkpoint file written after every epoch; `None` writes none.
    pub checkpoint: Option<PathBuf>,
    pub progress: bool,
}

impl Trainer<'_> {
    /// Refuses, before any work, a run that would start over where the checkpoint beside
    /// `out` holds a run that did not finish: training from scratch overwrites it. A checkpoint
    /// whose run wrote `out` (same settings, same epochs done) is what every finished run
    /// leaves for a later `--resume` with more epochs; starting over then is the user's choice.
    pub fn refuse_starting_over(out: &Path, resume: bool) -> Result<()> {
        let checkpoint = checkpoint_path(out);
        if resume || !checkpoint.exists() {
            return Ok(());
        }
        let (saved, state) = checkpoint::read_progress(&checkpoint)?;
        let finished = super::store::EmbedManifest::read(out)
            .is_ok_and(|m| m.config == saved && m.epochs == state.epochs_done);
        if finished {
            Ok(())
        } else {
            Err(EmbedError::Interrupted { path: checkpoint })
        }
    }

    /// Trains from scratch, or from the checkpoint when `resume` is set and it exists.
    pub fn run(&self, resume: bool) -> Result<(Params, TrainState)> {
        let cfg = &self.cfg;
        check(cfg, self.data)?;
        let (ne, nr) = (self.data.entities.len(), self.data.relations.len());
        let (mut params, mut state) = match (&self.checkpoint, resume) {
            (Some(p), true) if p.exists() => {
                let (params, state) = checkpoint::read(p, cfg, ne, nr)?;
                tracing::info!(
                    epochs_done = state.epochs_done,
                    "resuming from {}",
                    p.display()
                );
                (params, state)
            }
            _ => (Params::init(cfg, ne, nr), TrainState::default()),
        };

        let sampler = Sampler::new(
            &self.data.train,
            ne,
            nr,
            cfg.corruption,
            cfg.filtered_negatives,
        );
        let valid: Vec<Row> = self
            .data
            .valid
            .iter()
            .take(cfg.valid_sample)
            .copied()
            .collect();
        let filter = filter_from(&[&self.data.train, &self.data.valid]);
        let mut order: Vec<Row> = self.data.train.clone();
        let mut grads = Grads::default();

        tracing::info!(
            model = ?cfg.model, dim = cfg.dim, entities = ne, relations = nr,
            triples = self.data.train.len(), "training embeddings"
        );
        while state.epochs_done < cfg.epochs && !state.stopped_early {
            let epoch = state.epochs_done + 1;
            let record = self.epoch(epoch, &mut params, &sampler, &mut order, &mut grads)?;
            state.epochs_done = epoch;
            state.history.push(record);

            if cfg.eval_every > 0 && !valid.is_empty() && epoch % cfg.eval_every == 0 {
                let m = evaluate(&params.view(), &valid, &filter);
                tracing::info!(epoch, valid_mrr = m.mrr, hits10 = m.hits10, "validation");
                state.history.last_mut().expect("just pushed").valid = Some(m);
                if state.best_valid_mrr.is_none_or(|b| m.mrr > b) {
                    state.best_valid_mrr = Some(m.mrr);
                    state.evals_without_gain = 0;
                } else {
                    state.evals_without_gain += 1;
                    state.stopped_early =
                        cfg.patience > 0 && state.evals_without_gain >= cfg.patience;
                }
            }
            if let Some(p) = &self.checkpoint {
                checkpoint::write(p, cfg, &params, &state)?;
            }
        }
        Ok((params, state))
    }

    fn epoch(
        &self,
        epoch: u64,
        params: &mut Params,
        sampler: &Sampler,
        order: &mut [Row],
        grads: &mut Grads,
    ) -> Result<EpochRecord> {
        let cfg = &self.cfg;
        let start = Instant::now();
        order.sort_unstable();
        order.shuffle(&mut chunk_rng(cfg.seed, epoch, u64::MAX));

        let bar = self.bar(order.len() as u64, epoch);
        let chunks_per_batch = cfg.batch_size.div_ceil(CHUNK) as u64;
        let batch_size = chunks_per_batch as usize * CHUNK;
        let path = if self.device.is_cpu() {
            GradPath::Explicit
        } else {
            GradPath::Autograd(&self.device)
        };
        let mut loss = 0.0;
        for (b, triples) in order.chunks(batch_size).enumerate() {
            let spec = BatchSpec {
                triples,
                seed: cfg.seed,
                epoch,
                first_chunk: b as u64 * chunks_per_batch,
                negatives: cfg.negatives,
            };
            batch(&params.view(), &cfg.loss, sampler, &spec, path, grads)?;
            apply(&mut params.entity, &grads.ent_rows, &grads.ent, cfg.lr);
            apply(&mut params.relation, &grads.rel_rows, &grads.rel, cfg.lr);
            if params.model == ModelKind::Hyperbolic {
                apply(&mut params.bias, &grads.ent_rows, &grads.bias, cfg.lr);
                let (raw, g2) = (&mut params.curvature_raw, &mut params.curvature_g2);
                apply_scalar(raw, g2, grads.curvature, cfg.lr * 0.1);
            }
            loss += grads.loss;
            bar.inc(triples.len() as u64);
            let secs = start.elapsed().as_secs_f64().max(1e-9);
            bar.set_message(format!(
                "loss {:.4} {:.0} triples/s",
                loss / bar.position() as f64,
                bar.position() as f64 / secs
            ));
        }
        bar.finish_and_clear();

        let seconds = start.elapsed().as_secs_f64();
        let record = EpochRecord {
            epoch,
            loss: loss / order.len() as f64,
            seconds,
            triples_per_s: order.len() as f64 / seconds,
            valid: None,
        };
        tracing::info!(
            epoch,
            loss = record.loss,
            seconds = format!("{seconds:.2}"),
            triples_per_s = format!("{:.0}", record.triples_per_s),
            "epoch done"
        );
        Ok(record)
    }

    fn bar(&self, len: u64, epoch: u64) -> ProgressBar {
        if !self.progress {
            return ProgressBar::hidden();
        }
        let bar = ProgressBar::new(len);
        bar.set_style(
            ProgressStyle::with_template("epoch {prefix} {bar:30} {pos}/{len} {msg} eta {eta}")
                .expect("static template"),
        );
        bar.set_prefix(format!("{epoch}/{}", self.cfg.epochs));
        bar
    }
}

fn check(cfg: &TrainConfig, data: &TripleData) -> Result<()> {
    if cfg.dim == 0 {
        return Err(EmbedError::config("dim", "must be at least 1"));
    }
    if cfg.negatives == 0 {
        return Err(EmbedError::config("negatives", "must be at least 1"));
    }
    if cfg.batch_size == 0 {
        return Err(EmbedError::config("batch-size", "must be at least 1"));
    }
    if data.train.is_empty() {
        return Err(EmbedError::config("train", "no training triples"));
    }
    Ok(())
}

/// The checkpoint path used for an output directory: beside it, so the output can be replaced
/// whole while the checkpoint survives for `--resume`.
pub fn checkpoint_path(out: &Path) -> PathBuf {
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    out.with_file_name(format!("{name}.checkpoint.safetensors"))
}
