//! `tailor eval --report DIR`: slices, plots and embedding diagnostics of an eval run.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::Args;

use tailor::embed::Embeddings;
use tailor::eval::geometry::{geometry, Geometry};
use tailor::eval::report::{build, read_metrics, write};
use tailor::eval::slice_inputs::{kb_degrees, read_coarse_types, read_counts, DEFAULT_TYPES_FILE};
use tailor::eval::slices::{SliceConfig, SliceInputs};
use tailor::eval::{BenchmarkResult, GoldSet};
use tailor::kb::Kb;
use tailor::retrieve::RetrievalSettings;

use super::values::{rising_cuts, Cuts};

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Write report.html, report.md and metrics.json (slices, plots, worst errors) here.
    #[arg(long)]
    pub report: Option<PathBuf>,
    /// An earlier run's metrics.json: the report shows the change slice by slice.
    #[arg(long, requires = "report")]
    pub compare: Option<PathBuf>,
    /// Training occurrences per entity (JSON `{id: count}`) for the popularity slices; default:
    /// the loaded model's entity_counts.json. Without either, KB degree measures popularity.
    #[arg(long)]
    counts: Option<PathBuf>,
    /// Coarse types (`ID<TAB>name` per line) for the type slices.
    #[arg(long, default_value = DEFAULT_TYPES_FILE)]
    types: PathBuf,
    /// Inclusive upper bounds of the popularity bins (training occurrences).
    #[arg(long, default_value = "0,10,1000", value_parser = rising_cuts)]
    popularity_cuts: Cuts,
    /// Inclusive upper bounds of the KB degree bins (triples at the entity).
    #[arg(long, default_value = "2,10,100", value_parser = rising_cuts)]
    degree_cuts: Cuts,
    /// Bootstrap resamples per slice and system for the 95% intervals.
    #[arg(long, default_value_t = 1000, value_parser = super::values::at_least_one::<usize>)]
    resamples: usize,
    /// Seed of the bootstrap and of the embedding pair samples.
    #[arg(long, default_value_t = 17)]
    seed: u64,
}

/// Every embedding table under `model/kg/`, diagnosed.
fn model_geometry(
    model: &Path,
    kb: &Kb,
    inputs: &SliceInputs,
    cfg: &SliceConfig,
) -> Result<Vec<Geometry>> {
    let kg = model.join("kg");
    let Ok(entries) = std::fs::read_dir(&kg) else {
        return Ok(Vec::new());
    };
    let mut dirs: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("manifest.json").exists())
        .collect();
    dirs.sort();
    dirs.iter()
        .map(|dir| {
            let emb = Embeddings::load(dir)
                .with_context(|| format!("loading embeddings {}", dir.display()))?;
            let name = dir.file_name().unwrap_or_default().to_string_lossy();
            let counts = inputs.counts.as_ref();
            Ok(geometry(
                &name,
                &emb,
                kb,
                counts,
                &cfg.popularity_cuts,
                cfg.seed,
            ))
        })
        .collect()
}

pub fn write_report(
    args: &ReportArgs,
    results: &[BenchmarkResult],
    golds: &[GoldSet],
    kb: &Kb,
    retrieval: RetrievalSettings,
    model: Option<&Path>,
) -> Result<()> {
    let Some(dir) = &args.report else {
        return Ok(());
    };
    let cfg = SliceConfig {
        popularity_cuts: args.popularity_cuts.0.clone(),
        degree_cuts: args.degree_cuts.0.clone(),
        resamples: args.resamples,
        seed: args.seed,
    };
    let counts_path = args.counts.clone().or_else(|| {
        model
            .map(|m| m.join("entity_counts.json"))
            .filter(|p| p.exists())
    });
    let mut inputs = SliceInputs {
        counts: counts_path.as_deref().map(read_counts).transpose()?,
        degree: kb_degrees(kb),
        coarse_types: read_coarse_types(&args.types)?,
        tags: Default::default(),
    };
    let geometry = match model {
        Some(m) => model_geometry(m, kb, &inputs, &cfg)?,
        None => Vec::new(),
    };
    let metrics = build(results, golds, kb, &mut inputs, &cfg, geometry, retrieval)?;
    let old = args.compare.as_deref().map(read_metrics).transpose()?;
    write(dir, &metrics, old.as_ref())?;
    eprintln!("report written to {}", dir.join("report.html").display());
    Ok(())
}
