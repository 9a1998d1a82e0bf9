//! `tailor eval`: measure systems on gold benchmarks and print a table (or JSON).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::Args;
use serde::Serialize;

use tailor::disambiguate::{PriorScorer, Scorer};
use tailor::eval::{evaluate, read_gold, render_table, BenchmarkResult, RecordsFile};

use super::eval_report::{write_report, ReportArgs};
use super::model::{LoadedModels, ModelArgs};
use super::retrieval::{load, RetrievalArgs};
use super::values::share;

#[derive(Debug, Args)]
pub struct EvalArgs {
    #[command(flatten)]
    retrieval: RetrievalArgs,
    #[command(flatten)]
    model: ModelArgs,
    /// Evaluate only the model, not the ablations trained beside it.
    #[arg(long)]
    no_ablations: bool,
    /// Gold files: ELEVANT `.benchmark.jsonl` or GERBIL NIF `.ttl`.
    #[arg(long, required = true, num_args = 1..)]
    gold: Vec<PathBuf>,
    /// Print JSON for programs instead of the table.
    #[arg(long)]
    json: bool,
    /// The prior system leaves a mention unlinked when its best prior is below this.
    #[arg(long, default_value_t = 0.0, value_parser = share)]
    nil_threshold: f32,
    /// Also write a JSONL record per scored gold mention (candidates, gold rank, each system's
    /// prediction) to this FILE.jsonl; a file already there is replaced only when an earlier
    /// eval wrote it.
    #[arg(long)]
    records: Option<PathBuf>,
    #[command(flatten)]
    report: ReportArgs,
}

#[derive(Serialize)]
struct Report<'a> {
    kb: &'a std::path::Path,
    #[serde(flatten)]
    retrieval: tailor::retrieve::RetrievalSettings,
    benchmarks: &'a [BenchmarkResult],
}

pub fn run(args: EvalArgs) -> Result<()> {
    // the same benchmark twice would be pooled twice in the report
    for (i, p) in args.gold.iter().enumerate() {
        if args.gold[..i].iter().any(|q| super::paths::same_file(p, q)) {
            anyhow::bail!("--gold {} is given twice", p.display());
        }
    }
    let model_reads = args.model.reads();
    let mut reads: Vec<&Path> = args.gold.iter().map(PathBuf::as_path).collect();
    reads.push(args.retrieval.kb.as_path());
    reads.extend(model_reads.iter().map(PathBuf::as_path));
    if let Some(records) = &args.records {
        super::paths::refuse_overwriting("--records", records, &reads)?;
        super::paths::refuse_file_in_outputs("--records", records)?;
        anyhow::ensure!(
            !records.is_dir(),
            "--records {} is a directory: name the JSONL file to write",
            records.display()
        );
        anyhow::ensure!(
            records.extension().is_some_and(|e| e == "jsonl"),
            "--records {}: the records are JSONL: name a FILE.jsonl",
            records.display()
        );
        if records.exists() {
            let earlier = tailor::eval::earlier_records(records)
                .with_context(|| format!("--records {}: cannot read it", records.display()))?;
            anyhow::ensure!(
                earlier,
                "--records {} exists and is not (only) the records of an earlier eval: name \
                 a new file, or remove this one",
                records.display()
            );
        }
    }
    if let Some(report) = &args.report.report {
        super::paths::refuse_overwriting("--report", report, &reads)?;
        tailor::eval::report::check_report_dir(report)?;
        super::paths::refuse_current_dir("--report", report)?;
        super::paths::refuse_inside_outputs("--report", report)?;
        if let Some(compare) = &args.report.compare {
            // the report's metrics.json would replace the metrics it is compared with
            anyhow::ensure!(
                !super::paths::same_file(compare, &report.join("metrics.json")),
                "--compare {} is the metrics.json --report {} writes: copy it elsewhere first",
                compare.display(),
                report.display()
            );
        }
    }
    let golds = args
        .gold
        .iter()
        // every gold error names its file already
        .map(|p| read_gold(p).context("reading gold"))
        .collect::<Result<Vec<_>>>()?;
    // Opened before the evaluation, so an unwritable destination fails before minutes of work.
    let records = args
        .records
        .as_deref()
        .map(RecordsFile::create)
        .transpose()?;
    let (kb, retriever) = load(&args.retrieval)?;

    let prior = PriorScorer {
        nil_threshold: args.nil_threshold,
    };
    let models =
        LoadedModels::unless_prior_only(&args.model, &kb, &args.retrieval.kb, !args.no_ablations)?;
    let mut systems: Vec<&dyn Scorer> = vec![&prior];
    if let Some(m) = &models {
        systems.extend(m.scorers.iter().map(|s| s as &dyn Scorer));
    }

    let results: Vec<BenchmarkResult> = golds
        .iter()
        .map(|g| evaluate(&kb, &retriever, &systems, g))
        .collect();
    if let Some(m) = &models {
        m.save_cache();
    }
    if let Some(records) = records {
        records.write(&results)?;
    }
    if args.report.report.is_some() {
        let model_dir = models.as_ref().map(|_| args.model.model.as_path());
        write_report(
            &args.report,
            &results,
            &golds,
            &kb,
            retriever.settings(),
            model_dir,
        )?;
    }
    if args.json {
        return super::print_json(&Report {
            kb: &args.retrieval.kb,
            retrieval: retriever.settings(),
            benchmarks: &results,
        });
    }
    print!("{}", render_table(&results));
    Ok(())
}
