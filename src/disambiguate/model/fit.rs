//! `tailor train` as a library call: weakly labelled sentences in, a model directory out.
//!
//! Steps: retrieval's candidates for every labelled mention (the same retrieval `link` runs, so
//! training sees realistic candidate sets); one encoder pass per sentence for the contexts and
//! one per candidate entity for its text; then the fusion network is trained for the full model
//! and, when asked, for each ablation, with a checkpoint after every epoch in `OUT.partial` so a
//! killed run resumes where it stopped.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use candle_core::{DType, Device};
use candle_nn::{VarBuilder, VarMap};
use indicatif::{ProgressBar, ProgressStyle};

use crate::disambiguate::weak::WeakOptions;
use crate::embed::Embeddings;
use crate::encode::Encoder;
use crate::kb::{EntityIdx, Kb};
use crate::retrieve::{normalize, Candidate, Retriever};

use super::batch::BatchInputs;
use super::entity_text::EntityTextVectors;
use super::error::{ModelError, Result};
use super::featurize::{candidate_features, contexts, mention_features, SpanGroup};
use super::kg_vectors::{check_same_kb, KgVectors};
use super::net::{FusionNet, NetShape};
use super::preflight::{
    check_checkpoint, check_split_sizes, refuse_change, refuse_resuming_nothing,
};
use super::signals::Signals;
use super::store::{
    kb_manifest_sha256, write_counts, ModelConfig, CONFIG_FILE, LAST_WEIGHTS_FILE, MODEL_DIR,
    MODEL_FORMAT_VERSION, WEIGHTS_FILE,
};
use super::train::{train, TrainOptions, TrainingMention};

/// A mention whose entity the weak labeller decided.
#[derive(Debug, Clone, PartialEq)]
pub struct LabelledSpan {
    /// Code points into the sentence text.
    pub start: usize,
    pub end: usize,
    /// The original words, also when the text shows them masked.
    pub surface: String,
    pub gold: EntityIdx,
    /// The label was decided by the prior itself (a dominant or only candidate): such mentions
    /// train the model but cannot measure it against the prior.
    pub from_prior: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LabelledSentence {
    pub text: String,
    pub mentions: Vec<LabelledSpan>,
}

/// What to train and where to put it.
pub struct FitPlan<'a> {
    pub kb: &'a Kb,
    pub retriever: &'a Retriever,
    pub encoder: &'a Encoder,
    /// Candidate text vectors already encoded (a cache from earlier runs); filled as needed.
    pub entity_text: &'a EntityTextVectors,
    /// Embedding directories to read and copy into the model.
    pub embeddings: Vec<PathBuf>,
    pub train: Vec<LabelledSentence>,
    pub holdout: Vec<LabelledSentence>,
    pub options: TrainOptions,
    /// How `train` and `holdout` were made, recorded in the model's config.
    pub weak_labels: Option<WeakOptions>,
    /// Width of the interaction layers.
    pub hidden: usize,
    /// Also train text-only and KG-only models under `OUT/ablations/`.
    pub ablations: bool,
    pub out: PathBuf,
    /// Continue from the checkpoints in `OUT.partial`.
    pub resume: bool,
    pub progress: bool,
}

/// What a finished fit reports.
#[derive(Debug, Clone, serde::Serialize)]
pub struct FitReport {
    pub training_mentions: usize,
    pub holdout_mentions: usize,
    pub dropped_gold_not_candidate: usize,
    pub entity_texts_encoded: usize,
    pub models: Vec<(String, ModelConfig)>,
}

fn bar(progress: bool, len: usize, what: &str) -> ProgressBar {
    if !progress {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len as u64);
    let template = format!("{what} {{bar:30}} {{pos}}/{{len}} {{per_sec}} eta {{eta}} {{msg}}");
    bar.set_style(ProgressStyle::with_template(&template).expect("static template"));
    bar
}

/// Featurizes labelled sentences: candidates, contexts, coherence.
fn featurize(
    plan: &FitPlan<'_>,
    sentences: &[LabelledSentence],
    text: &EntityTextVectors,
    what: &str,
) -> Result<(Vec<TrainingMention>, usize)> {
    let mut dropped = 0;
    let mut kept: Vec<(&LabelledSentence, Vec<&LabelledSpan>, Vec<_>)> = Vec::new();
    for s in sentences {
        let mut spans = Vec::new();
        let mut cands = Vec::new();
        // the candidates linking would give: each mention's own, then those the sentence's
        // other mentions point to
        let keys: Vec<String> = s.mentions.iter().map(|m| normalize(&m.surface)).collect();
        let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
        let mut lists: Vec<Vec<Candidate>> = keys
            .iter()
            .zip(&s.mentions)
            .map(|(k, m)| plan.retriever.candidates_as_written(k, &m.surface))
            .collect();
        plan.retriever
            .add_context_candidates(&keys, &mut lists, &[]);
        for (m, list) in s.mentions.iter().zip(lists) {
            let mut c = candidate_features(&list);
            // Candidates past those a training step reads would only cost encoder time.
            if let Some(gold_at) = c.iter().position(|c| c.entity == m.gold) {
                let keep = plan.options.max_candidates.max(gold_at + 1);
                c.truncate(keep);
            }
            if c.iter().any(|c| c.entity == m.gold) {
                spans.push(m);
                cands.push(c);
            } else {
                dropped += 1;
            }
        }
        if !spans.is_empty() {
            kept.push((s, spans, cands));
        }
    }
    let wanted: Vec<EntityIdx> = kept
        .iter()
        .flat_map(|k| k.2.iter().flatten().map(|c| c.entity))
        .collect();
    let progress = bar(plan.progress, wanted.len(), "entity texts");
    text.ensure(plan.kb, plan.encoder, &wanted)?;
    progress.finish_and_clear();

    let groups: Vec<SpanGroup<'_>> = kept
        .iter()
        .map(|(s, spans, _)| SpanGroup {
            text: &s.text,
            spans: spans.iter().map(|m| (m.start, m.end)).collect(),
        })
        .collect();
    let progress = bar(plan.progress, groups.len(), what);
    let vectors = contexts(plan.encoder, &groups, &progress)?;
    progress.finish_and_clear();

    let mut out = Vec::new();
    for ((_, spans, cands), ctx) in kept.into_iter().zip(vectors) {
        let features = mention_features(plan.kb, ctx, cands);
        for (m, f) in spans.into_iter().zip(features) {
            out.push(TrainingMention {
                features: f,
                gold: m.gold,
                from_prior: m.from_prior,
            });
        }
    }
    Ok((out, dropped))
}

/// Trains the model (and its ablations) and writes the model directory.
pub fn fit(plan: &FitPlan<'_>) -> Result<FitReport> {
    let started = std::time::Instant::now();
    let staging = staging_dir(&plan.out);
    // Starting over would delete what is there: an interrupted run's checkpoints, or a
    // directory of the user's that happens to have the name.
    if !plan.resume && staging.exists() {
        return Err(ModelError::interrupted(&staging));
    }
    if plan.resume && !staging.exists() {
        refuse_resuming_nothing(&plan.out, &staging)?;
        tracing::warn!(
            staging = %staging.display(),
            "--resume: no interrupted run to resume, training from the start"
        );
    }
    let kb_sha = kb_manifest_sha256(plan.kb);
    let mut tables = Vec::with_capacity(plan.embeddings.len());
    for dir in &plan.embeddings {
        let table = Embeddings::load(dir)?;
        check_same_kb(&table, dir, plan.kb, &kb_sha)?;
        tables.push(table);
    }
    let kg = KgVectors::build(plan.kb, &tables.iter().collect::<Vec<_>>());
    if plan.resume && staging.exists() {
        check_checkpoint(&staging)?;
        refuse_changed_resume(plan, &staging, &kg)?;
    }
    let text = plan.entity_text;
    let (train_set, dropped) = featurize(plan, &plan.train, text, "training sentences")?;
    let (holdout, dropped_holdout) = featurize(plan, &plan.holdout, text, "holdout sentences")?;
    tracing::info!(
        training = train_set.len(),
        holdout = holdout.len(),
        dropped = dropped + dropped_holdout,
        entity_texts = text.len(),
        seconds = format!("{:.1}", started.elapsed().as_secs_f64()),
        "features ready"
    );

    check_split_sizes(
        plan.weak_labels.as_ref(),
        train_set.len(),
        holdout.len(),
        dropped + dropped_holdout,
    )?;

    std::fs::create_dir_all(&staging).map_err(|e| ModelError::io(&staging, e))?;
    let kg_names = copy_embeddings(&plan.embeddings, &staging.join("kg"))?;

    let mut models = Vec::new();
    for (signals, dir) in variants(plan, &staging) {
        let embeddings = kg_names
            .iter()
            .map(|n| relative_kg(&dir, &staging, n))
            .collect();
        let config = fit_variant(
            plan, signals, &dir, embeddings, &kg, text, &train_set, &holdout,
        )?;
        models.push((signals.name().to_string(), config));
    }
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    for m in &train_set {
        *counts.entry(plan.kb.entity(m.gold).id.clone()).or_default() += 1;
    }
    write_counts(&staging, &counts)?;
    crate::persist::replace_dir(&staging, &plan.out, &MODEL_DIR).map_err(|e| {
        let kept = format!("{e} (the trained model is kept in {})", staging.display());
        ModelError::io(&plan.out, std::io::Error::other(kept))
    })?;
    Ok(FitReport {
        training_mentions: train_set.len(),
        holdout_mentions: holdout.len(),
        dropped_gold_not_candidate: dropped + dropped_holdout,
        entity_texts_encoded: text.len(),
        models,
    })
}

/// The model and its ablations, each with the directory it is trained in.
fn variants(plan: &FitPlan<'_>, staging: &Path) -> Vec<(Signals, PathBuf)> {
    let mut variants = vec![(Signals::FULL, staging.to_path_buf())];
    if plan.ablations {
        for s in [Signals::TEXT_ONLY, Signals::KG_ONLY] {
            variants.push((s, staging.join("ablations").join(s.name())));
        }
    }
    variants
}

/// Refuses to resume an interrupted run with other settings before any work or write (the
/// entity texts encoded, the caches and embeddings copies written, are the new settings' and
/// would overwrite the interrupted run's). The mention counts follow from the settings and are
/// only known after featurizing; [`fit_variant`] checks them again.
fn refuse_changed_resume(plan: &FitPlan<'_>, staging: &Path, kg: &KgVectors) -> Result<()> {
    let names = kg_names(&plan.embeddings)?;
    for (signals, dir) in variants(plan, staging) {
        if !(dir.join(CONFIG_FILE).exists() && dir.join(LAST_WEIGHTS_FILE).exists()) {
            continue;
        }
        let previous = ModelConfig::read(&dir)?;
        let embeddings = names
            .iter()
            .map(|n| relative_kg(&dir, staging, n))
            .collect();
        let mut now = variant_config(plan, signals, embeddings, kg);
        now.training_mentions = previous.training_mentions;
        now.holdout_mentions = previous.holdout_mentions;
        refuse_change(&dir, &previous, &now)?;
    }
    Ok(())
}

/// A variant's configuration before training: its settings, no history yet, and no mentions
/// (the caller sets the counts).
fn variant_config(
    plan: &FitPlan<'_>,
    signals: Signals,
    embeddings: Vec<PathBuf>,
    kg: &KgVectors,
) -> ModelConfig {
    ModelConfig {
        format_version: MODEL_FORMAT_VERSION,
        signals,
        shape: NetShape {
            text_dim: plan.encoder.dim(),
            kg_dim: kg.dim(),
            hidden: plan.hidden,
        },
        options: plan.options.clone(),
        kb_manifest_sha256: kb_manifest_sha256(plan.kb),
        embeddings,
        encoder_fingerprint: Some(plan.encoder.fingerprint().to_string()),
        training_mentions: 0,
        holdout_mentions: 0,
        history: Vec::new(),
        best_epoch: None,
        weak_labels: plan.weak_labels.clone(),
        retrieval: Some(plan.retriever.settings()),
    }
}

#[allow(clippy::too_many_arguments)]
fn fit_variant(
    plan: &FitPlan<'_>,
    signals: Signals,
    dir: &Path,
    embeddings: Vec<PathBuf>,
    kg: &KgVectors,
    text: &EntityTextVectors,
    train_set: &[TrainingMention],
    holdout: &[TrainingMention],
) -> Result<ModelConfig> {
    std::fs::create_dir_all(dir).map_err(|e| ModelError::io(dir, e))?;
    let mut config = variant_config(plan, signals, embeddings, kg);
    config.training_mentions = train_set.len();
    config.holdout_mentions = holdout.len();
    let shape = config.shape;
    let device = Device::Cpu;
    let mut vars = VarMap::new();
    let net = FusionNet::new(shape, VarBuilder::from_varmap(&vars, DType::F32, &device))?;
    seed_weights(&vars, plan.options.seed)?;
    let weights = dir.join(WEIGHTS_FILE);
    let last = dir.join(LAST_WEIGHTS_FILE);
    if plan.resume && dir.join(CONFIG_FILE).exists() && last.exists() {
        let previous = ModelConfig::read(dir)?;
        refuse_change(dir, &previous, &config)?;
        vars.load(&last).map_err(|e| ModelError::bad(&last, e))?;
        config.history = previous.history;
        config.best_epoch = previous.best_epoch;
        tracing::info!(
            model = signals.name(),
            epochs_done = config.history.len(),
            "resuming"
        );
    }
    let inputs = BatchInputs {
        kb: plan.kb,
        text,
        text_dim: shape.text_dim,
        kg,
        signals,
    };
    let first_epoch = config.history.len();
    let remaining = plan.options.epochs.saturating_sub(first_epoch);
    let per_epoch: usize = train_set
        .iter()
        .map(|m| super::train::repeats(m, &plan.options))
        .sum();
    let progress = bar(plan.progress, remaining * per_epoch, signals.name());
    let mut history = config.history.clone();
    let mut best_epoch = config.best_epoch;
    train(
        &net,
        &vars,
        &inputs,
        train_set,
        holdout,
        &plan.options,
        first_epoch,
        &progress,
        |record| {
            history.push(record.clone());
            vars.save(&last).map_err(|e| ModelError::bad(&last, e))?;
            crate::persist::readable_by_all(&last).map_err(|e| ModelError::io(&last, e))?;
            // The weights kept are those of the epoch best on held-out mentions.
            let best_so_far = best_epoch
                .and_then(|b| history.get(b - 1))
                .map_or(0, |r| r.holdout.model_correct);
            if best_epoch.is_none() || record.holdout.model_correct > best_so_far {
                best_epoch = Some(record.epoch);
                vars.save(&weights)
                    .map_err(|e| ModelError::bad(&weights, e))?;
                crate::persist::readable_by_all(&weights)
                    .map_err(|e| ModelError::io(&weights, e))?;
            }
            ModelConfig {
                history: history.clone(),
                best_epoch,
                ..config.clone()
            }
            .write(dir)
        },
    )?;
    progress.finish_and_clear();
    config.history = history;
    config.best_epoch = best_epoch;
    config.write(dir)?;
    Ok(config)
}

/// Re-initializes every weight from a seeded generator, so a seed fixes the whole run (candle's
/// CPU initializers draw from an unseeded thread generator): weights uniform in ±1/√fan-in, as
/// common linear-layer initializers do, biases zero.
fn seed_weights(vars: &VarMap, seed: u64) -> Result<()> {
    use rand::{Rng, SeedableRng};
    let data = vars.data().lock().expect("not poisoned");
    let mut names: Vec<&String> = data.keys().collect();
    names.sort();
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    for name in names {
        let var = &data[name];
        let dims = var.dims().to_vec();
        let values: Vec<f32> = if dims.len() == 2 {
            let bound = 1.0 / (dims[1] as f32).sqrt();
            (0..dims[0] * dims[1])
                .map(|_| rng.random_range(-bound..bound))
                .collect()
        } else {
            vec![0.0; var.elem_count()]
        };
        var.set(&candle_core::Tensor::from_vec(values, dims, &Device::Cpu)?)?;
    }
    Ok(())
}

/// Where a fit writes until it is complete.
pub fn staging_dir(out: &Path) -> PathBuf {
    let mut name = out.file_name().unwrap_or_default().to_os_string();
    name.push(".partial");
    out.with_file_name(name)
}

/// Copies each embedding directory into `kg_dir/<its name>`, returning the names.
/// The names the embeddings directories are copied under, `kg/<name>` in the model.
fn kg_names(dirs: &[PathBuf]) -> Result<Vec<String>> {
    dirs.iter()
        .map(|dir| {
            dir.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .ok_or_else(|| ModelError::bad(dir, "an embeddings directory needs a name"))
        })
        .collect()
}

fn copy_embeddings(dirs: &[PathBuf], kg_dir: &Path) -> Result<Vec<String>> {
    let names = kg_names(dirs)?;
    for (dir, name) in dirs.iter().zip(&names) {
        let target = kg_dir.join(name);
        std::fs::create_dir_all(&target).map_err(|e| ModelError::io(&target, e))?;
        for entry in std::fs::read_dir(dir).map_err(|e| ModelError::io(dir, e))? {
            let path = entry.map_err(|e| ModelError::io(dir, e))?.path();
            if path.is_file() {
                let to = target.join(path.file_name().expect("a file has a name"));
                std::fs::copy(&path, &to).map_err(|e| ModelError::io(&path, e))?;
            }
        }
    }
    Ok(names)
}

/// The path of `root/kg/<name>` as seen from `dir` (the root itself or an ablation below it).
fn relative_kg(dir: &Path, root: &Path, name: &str) -> PathBuf {
    let depth = dir
        .strip_prefix(root)
        .map(|p| p.components().count())
        .unwrap_or(0);
    let mut path = PathBuf::new();
    for _ in 0..depth {
        path.push("..");
    }
    path.join("kg").join(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ablations_reach_the_shared_embeddings() {
        let root = Path::new("/m.partial");
        assert_eq!(relative_kg(root, root, "transe"), Path::new("kg/transe"));
        let ablation = root.join("ablations/text-only");
        assert_eq!(
            relative_kg(&ablation, root, "transe"),
            Path::new("../../kg/transe")
        );
        assert_eq!(
            staging_dir(Path::new("models/default")),
            Path::new("models/default.partial")
        );
    }
}
