//! `tailor ingest`: sources from a pipeline config and/or flags into a KB store.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, ensure, Context, Result};
use clap::Args;

use tailor::kb::sources::{PathSource, SourceSpec, TriplesSource, WikidataSource};
use tailor::kb::{self, IngestOptions};
use tailor::pipeline::PipelineConfig;

#[derive(Debug, Args)]
pub struct IngestArgs {
    /// A pipeline config whose `[ingest]` section lists the sources and the output.
    #[arg(long, short)]
    config: Option<PathBuf>,
    /// Wikidata JSON dump (plain, .gz or .bz2); repeatable.
    #[arg(long)]
    wikidata: Vec<PathBuf>,
    /// Entity-profile JSONL; repeatable.
    #[arg(long)]
    profiles: Vec<PathBuf>,
    /// Triple TSV (head, relation, tail); repeatable.
    #[arg(long)]
    triples: Vec<PathBuf>,
    /// Output store directory (overrides the config's `out`).
    #[arg(long, short)]
    out: Option<PathBuf>,
    /// Malformed records to skip before failing; each is logged and written to the rejects
    /// file. Default 0: the first malformed record stops the job.
    #[arg(long)]
    max_errors: Option<u64>,
    /// Where skipped records go (default: OUT.rejects.jsonl when --max-errors is above 0).
    #[arg(long)]
    rejects: Option<PathBuf>,
}

pub fn run(args: IngestArgs) -> Result<()> {
    let started = Instant::now();
    let mut sources = Vec::new();
    let mut out = None;
    let mut max_errors = 0;
    if let Some(path) = &args.config {
        let config = PipelineConfig::load(path)?;
        let Some(ingest) = config.ingest else {
            bail!("{}: no [ingest] section", path.display());
        };
        sources = ingest.sources;
        out = Some(ingest.out);
        max_errors = ingest.max_errors;
    }
    sources.extend(args.wikidata.into_iter().map(|path| {
        SourceSpec::Wikidata(WikidataSource {
            path,
            language: "en".into(),
        })
    }));
    sources.extend(
        args.profiles
            .into_iter()
            .map(|path| SourceSpec::Profiles(PathSource { path })),
    );
    sources.extend(args.triples.into_iter().map(|path| {
        SourceSpec::Triples(TriplesSource {
            path,
            columns: Default::default(),
            delimiter: "\t".into(),
            header: false,
            id_map: None,
            known_relations_only: false,
        })
    }));
    if sources.is_empty() {
        bail!("no sources: give --config or at least one of --wikidata, --profiles, --triples");
    }
    let out = args
        .out
        .or(out)
        .context("no output: give --out (or `out` in the config)")?;
    let out = super::paths::normalized(&out);
    super::paths::refuse_replacing("--out", &out, &kb::store::KB_DIR)?;
    let inputs: Vec<&Path> = sources.iter().map(|s| s.path()).collect();
    super::paths::refuse_inputs_inside("--out", &out, &inputs)?;
    let max_errors = args.max_errors.unwrap_or(max_errors);
    let rejects = args.rejects.or_else(|| {
        (max_errors > 0).then(|| {
            let mut name = out.file_name().unwrap_or_default().to_os_string();
            name.push(".rejects.jsonl");
            out.with_file_name(name)
        })
    });
    if let Some(rejects) = &rejects {
        // the rejects list written over a source would destroy it before it is read, and one
        // inside the store would go when the store is replaced
        super::paths::refuse_overwriting("--rejects", rejects, &inputs)?;
        super::paths::refuse_file_in_outputs("--rejects", rejects)?;
        if super::paths::within(rejects, &out) {
            bail!(
                "--rejects {} is inside --out {}, which the new store replaces whole",
                rejects.display(),
                out.display()
            );
        }
        ensure!(
            !rejects.is_dir(),
            "--rejects {} is a directory: name the JSONL file to write",
            rejects.display()
        );
    }
    let options = IngestOptions {
        max_errors,
        rejects: rejects.clone(),
        progress: true,
    };
    let kb = kb::ingest(&sources, &options)?;
    kb::save(&kb, &out)?;
    let c = &kb.manifest.counts;
    eprintln!(
        "wrote {}: {} entities ({} labelled), {} aliases, {} triples, {} relations in {:.1}s",
        out.display(),
        c.entities,
        c.entities_with_label,
        c.aliases,
        c.triples,
        c.relations,
        started.elapsed().as_secs_f64()
    );
    if kb.manifest.rejected > 0 {
        eprintln!(
            "skipped {} malformed records, listed in {}",
            kb.manifest.rejected,
            rejects.map(|p| p.display().to_string()).unwrap_or_default()
        );
    }
    Ok(())
}
