//! `tailor embed`: train KG embeddings on a KB store or triple split files; `tailor embed eval`:
//! filtered link-prediction metrics of a trained embeddings directory.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use candle_core::Device;
use clap::{Args, Subcommand, ValueEnum};
use tailor::embed::{
    self, checkpoint_path, Corruption, EmbedManifest, Embeddings, Loss, LossKind, Metrics,
    ModelKind, Norm, TrainConfig, Trainer, TripleData,
};

use super::values::{at_least_one, non_negative, positive};

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct EmbedArgs {
    #[command(subcommand)]
    command: Option<EmbedCommand>,
    #[command(flatten)]
    train: TrainArgs,
}

#[derive(Debug, Subcommand)]
enum EmbedCommand {
    /// Filtered MRR and Hits@1/3/10 of trained embeddings on a test split.
    Eval(EvalArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum DeviceArg {
    Cpu,
    Cuda,
}

#[derive(Debug, Args)]
struct TrainArgs {
    /// KB store to train on (its triples, types and type hierarchy). Ignored with --train.
    #[arg(long, default_value = "kb/default")]
    kb: PathBuf,
    /// Train on a triple file (`head<TAB>relation<TAB>tail`) instead of a KB.
    #[arg(long)]
    train: Option<PathBuf>,
    /// Validation split (with --train): early stopping and per-epoch MRR.
    #[arg(long, requires = "train")]
    valid: Option<PathBuf>,
    /// Test split (with --train): filtered metrics written to the manifest after training.
    #[arg(long, requires = "train")]
    test: Option<PathBuf>,
    #[arg(long, value_enum, default_value = "transe")]
    model: ModelKind,
    #[arg(long, default_value_t = 32, value_parser = at_least_one::<usize>)]
    dim: usize,
    /// TransE's distance.
    #[arg(long, value_enum, default_value = "l1")]
    norm: Norm,
    /// TransE: learn an inverse row per relation and predict heads with it (`t + r⁻¹ ≈ h`)
    /// instead of `t - r` (the hyperbolic model always does). Pair it with `--corruption
    /// uniform`: Bernoulli corruption almost never trains the inverse rows of many-to-one
    /// relations, whose heads are then ranked by barely trained rows.
    #[arg(long)]
    reciprocal: bool,
    #[arg(long, value_enum, default_value = "self-adversarial")]
    loss: LossKind,
    /// Margin of either loss (a distance for TransE, a squared distance for hyperbolic).
    #[arg(long, value_parser = non_negative::<f32>)]
    margin: Option<f32>,
    /// Softmax temperature of self-adversarial weights.
    #[arg(long, default_value_t = 1.0, value_parser = non_negative::<f32>)]
    temperature: f32,
    /// Negatives per positive triple.
    #[arg(long, default_value_t = 32, value_parser = at_least_one::<usize>)]
    negatives: usize,
    #[arg(long, value_enum, default_value = "bernoulli")]
    corruption: Corruption,
    /// Redraw negatives that are known training triples.
    #[arg(long)]
    filtered_negatives: bool,
    #[arg(long, default_value_t = 20, value_parser = at_least_one::<u64>)]
    epochs: u64,
    #[arg(long, default_value_t = 1024, value_parser = at_least_one::<usize>)]
    batch_size: usize,
    /// Adagrad learning rate.
    #[arg(long, value_parser = positive::<f32>)]
    lr: Option<f32>,
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Validate every this many epochs (0: never).
    #[arg(long, default_value_t = 1)]
    eval_every: u64,
    /// Validation triples used per evaluation.
    #[arg(long, default_value_t = 2000, value_parser = at_least_one::<usize>)]
    valid_sample: usize,
    /// Stop after this many validations without a better MRR (0: never).
    #[arg(long, default_value_t = 0)]
    patience: u64,
    /// Continue from the checkpoint beside --out, if there is one.
    #[arg(long)]
    resume: bool,
    #[arg(long, value_enum, default_value = "cpu")]
    device: DeviceArg,
    /// Output directory (replaced whole when training ends).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Print the manifest as JSON on stdout.
    #[arg(long)]
    json: bool,
    /// Hold out this many random training triples as a test split (when there is none, as with
    /// a KB), so the trained tables get a filtered MRR on triples they never saw.
    #[arg(long, default_value_t = 0)]
    holdout: usize,
    /// Store the tables as f16 (half the size; loading reads them back as f32).
    #[arg(long)]
    half: bool,
}

#[derive(Debug, Args)]
struct EvalArgs {
    /// Embeddings directory written by `tailor embed`.
    #[arg(long)]
    embeddings: PathBuf,
    #[arg(long)]
    test: PathBuf,
    /// Extra splits whose triples are filtered out of the rankings.
    #[arg(long)]
    valid: Option<PathBuf>,
    #[arg(long)]
    train: Option<PathBuf>,
    #[arg(long)]
    json: bool,
}

pub fn run(args: EmbedArgs) -> Result<()> {
    match args.command {
        Some(EmbedCommand::Eval(e)) => eval(e),
        None => train(args.train),
    }
}

fn device(arg: DeviceArg) -> Result<Device> {
    match arg {
        DeviceArg::Cpu => Ok(Device::Cpu),
        DeviceArg::Cuda if cfg!(feature = "cuda") => Ok(Device::new_cuda(0)?),
        DeviceArg::Cuda => bail!("--device cuda: this tailor was built without the `cuda` feature"),
    }
}

fn train(a: TrainArgs) -> Result<()> {
    let Some(out) = a.out.as_deref().map(super::paths::normalized) else {
        bail!("--out is required")
    };
    super::paths::refuse_replacing("--out", &out, &tailor::embed::EMBEDDINGS_DIR)?;
    let reads: Vec<&std::path::Path> = [Some(&a.kb), a.train.as_ref(), a.valid.as_ref()]
        .into_iter()
        .chain([a.test.as_ref()])
        .flatten()
        .map(|p| p.as_path())
        .collect();
    super::paths::refuse_inputs_inside("--out", &out, &reads)?;
    Trainer::refuse_starting_over(&out, a.resume)?;
    let start = Instant::now();
    let mut data = match &a.train {
        Some(t) => TripleData::from_files(t, a.valid.as_deref(), a.test.as_deref())?,
        None => {
            TripleData::from_kb(&a.kb).with_context(|| format!("loading KB {}", a.kb.display()))?
        }
    };
    if a.holdout > 0 {
        if !data.test.is_empty() {
            bail!("--holdout: there is already a test split");
        }
        hold_out(&mut data, a.holdout, a.seed);
    }
    tracing::info!(
        entities = data.entities.len(),
        relations = data.relations.len(),
        train = data.train.len(),
        valid = data.valid.len(),
        test = data.test.len(),
        seconds = format!("{:.2}", start.elapsed().as_secs_f64()),
        "triples loaded"
    );
    let hyper = a.model == ModelKind::Hyperbolic;
    let margin = a.margin.unwrap_or(match (hyper, a.loss) {
        (_, LossKind::Margin) => 1.0,
        (false, _) => 9.0,
        (true, _) => 4.0,
    });
    let cfg = TrainConfig {
        model: a.model,
        dim: a.dim,
        norm: a.norm,
        reciprocal: a.reciprocal && a.model == ModelKind::Transe,
        loss: Loss {
            kind: a.loss,
            margin,
            temperature: a.temperature,
        },
        negatives: a.negatives,
        corruption: a.corruption,
        filtered_negatives: a.filtered_negatives,
        epochs: a.epochs,
        batch_size: a.batch_size,
        lr: a.lr.unwrap_or(if hyper { 0.05 } else { 0.1 }),
        seed: a.seed,
        eval_every: a.eval_every,
        valid_sample: a.valid_sample,
        patience: a.patience,
    };
    let trainer = Trainer {
        cfg: cfg.clone(),
        data: &data,
        device: device(a.device)?,
        checkpoint: Some(checkpoint_path(&out)),
        progress: std::io::IsTerminal::is_terminal(&std::io::stderr()),
    };
    let (params, state) = trainer.run(a.resume)?;
    let mut manifest = EmbedManifest::new(&cfg, &data, &params, &state);
    manifest.half = a.half;
    if let Some(m) = state.history.iter().rev().find_map(|r| r.valid) {
        manifest.metrics.insert("valid".into(), m);
    }
    if !data.test.is_empty() {
        let t = Instant::now();
        let filter = embed::filter_from(&[&data.train, &data.valid, &data.test]);
        let m = embed::evaluate(&params.view(), &data.test, &filter);
        tracing::info!(
            mrr = m.mrr,
            hits10 = m.hits10,
            seconds = format!("{:.2}", t.elapsed().as_secs_f64()),
            "test"
        );
        manifest.metrics.insert("test".into(), m);
    }
    embed::save(&out, &params, &data, &manifest)?;
    tracing::info!(out = %out.display(), seconds = format!("{:.1}", start.elapsed().as_secs_f64()), "embeddings written");
    if a.json {
        crate::cli::print_json(&manifest)?;
    } else {
        for (split, m) in &manifest.metrics {
            print_metrics(split, m);
        }
    }
    Ok(())
}

/// Moves `n` training triples, drawn by `seed`, to the test split.
fn hold_out(data: &mut TripleData, n: usize, seed: u64) {
    use rand::seq::SliceRandom;
    use rand::SeedableRng;
    let mut rng = rand::rngs::SmallRng::seed_from_u64(seed ^ 0x686f_6c64);
    data.train.shuffle(&mut rng);
    let n = n.min(data.train.len() / 2);
    data.test = data.train.split_off(data.train.len() - n);
}

fn eval(a: EvalArgs) -> Result<()> {
    let emb = Embeddings::load(&a.embeddings)?;
    let entities: HashMap<&str, u32> = emb
        .entity_ids()
        .iter()
        .enumerate()
        .map(|(i, s)| (s.as_str(), i as u32))
        .collect();
    let relations: HashMap<&str, u32> = emb
        .relation_ids()
        .iter()
        .take(emb.manifest.relations)
        .enumerate()
        .map(|(i, s)| (s.as_str(), i as u32))
        .collect();
    let read = |p: &PathBuf| embed::read_known(p, &entities, &relations);
    let test = read(&a.test)?;
    let mut splits = vec![test.clone()];
    for p in [&a.valid, &a.train].into_iter().flatten() {
        splits.push(read(p)?);
    }
    let refs: Vec<&[embed::Row]> = splits.iter().map(Vec::as_slice).collect();
    let filter = embed::filter_from(&refs);
    let t = Instant::now();
    let m = embed::evaluate(&emb.view(), &test, &filter);
    tracing::info!(
        seconds = format!("{:.2}", t.elapsed().as_secs_f64()),
        "evaluated"
    );
    if a.json {
        crate::cli::print_json(&m)
    } else {
        print_metrics("test", &m);
        Ok(())
    }
}

fn print_metrics(split: &str, m: &Metrics) {
    println!(
        "{split}: MRR {:.4}  Hits@1 {:.4}  Hits@3 {:.4}  Hits@10 {:.4}  MR {:.1}  ({} rankings)",
        m.mrr, m.hits1, m.hits3, m.hits10, m.mean_rank, m.rankings
    );
}
