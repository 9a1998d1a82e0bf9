//! `tailor link`: annotate a corpus with KB entities, as one file, a stream on stdout, or a
//! resumable, shardable directory of parts; `--merge` joins parts into one file.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::{Args, ValueEnum};

use rayon::prelude::*;
use tailor::disambiguate::{PriorScorer, Scorer};
use tailor::link::parts::{InputRecord, PartsWriter, RunIdentity, DEFAULT_PART_DOCS};
use tailor::link::{
    expand_inputs, link_stream, merge, AnnotationWriter, BatchOptions, LinkReport, Linker, Shard,
    StdoutJsonl, DEFAULT_MAX_DOC_BYTES,
};

use super::model::{LoadedModels, ModelArgs};
use super::retrieval::{load, RetrievalArgs};
use super::values::{at_least_one, share};

#[derive(Debug, Clone, Copy, ValueEnum)]
enum PartFormat {
    Parquet,
    Jsonl,
}

#[derive(Debug, Args)]
pub struct LinkArgs {
    #[command(flatten)]
    retrieval: RetrievalArgs,
    #[command(flatten)]
    model: ModelArgs,
    /// Inputs, in order: .txt (one document per file, its id the file name), .jsonl ({"id",
    /// "text", "mentions"?} a line, the id a string or an integer within 64 bits; with
    /// "mentions" [{"start", "end"}] the spans are linked as given), .parquet (id, text; without an id column the row number is the id);
    /// .gz/.zst/.bz2 text and JSONL are decompressed. Ids must be unique over all inputs: a
    /// repeated id (two files both named a.txt in different directories, say) is refused as a
    /// bad record naming both places. Globs ("corpus/*.jsonl.gz") are expanded in sorted order
    /// (an existing file named like a pattern, "a[1].txt", is read as it is); `-` reads JSONL
    /// from stdin. Inputs with no documents are named in a warning. With --merge: part files or
    /// output directories.
    #[arg(required = true)]
    inputs: Vec<String>,
    /// Output: FILE.jsonl (a record per document) or FILE.parquet (a row per mention), written
    /// aside and renamed at the end; `-` for JSONL on stdout; or a directory of numbered parts
    /// with a progress manifest, which --resume continues: an existing directory, a path ending
    /// in `/` (run.v2/), or a new path without an extension (out). Any other path with an
    /// extension (results.txt, results.json, results.jsonl.gz, v1.2) is refused: output is not
    /// compressed, and such a name reads as a file. With --merge: FILE.parquet for Parquet
    /// parts, any other FILE for JSONL parts.
    #[arg(long, short)]
    out: PathBuf,
    /// Format of the parts in an output directory.
    #[arg(long, value_enum, default_value = "parquet")]
    format: PartFormat,
    /// Documents per part in an output directory. Parts are committed after each batch of 256
    /// documents, so a killed run loses at most one part or one batch, whichever is larger.
    #[arg(long, default_value_t = DEFAULT_PART_DOCS, value_parser = at_least_one::<u64>)]
    part_docs: u64,
    /// Continue the run that wrote the output directory: skip the documents of its committed
    /// parts and write the rest. Inputs and settings must be the same.
    #[arg(long)]
    resume: bool,
    /// Link only worker I's share of N (0-based), by a stable hash of the document id, so N
    /// workers given the same inputs and output directory split the corpus exactly.
    #[arg(long, value_parser = Shard::parse)]
    shard: Option<Shard>,
    /// Merge the inputs (part files, or output directories) into --out of the same format.
    #[arg(long)]
    merge: bool,
    /// Unreadable documents or inputs to record (with their error) and skip before failing.
    /// Default 0: the first one stops the run.
    #[arg(long, default_value_t = 0)]
    max_errors: u64,
    /// Documents with more bytes of text than this fail (and count against --max-errors).
    #[arg(long, default_value_t = DEFAULT_MAX_DOC_BYTES, value_parser = at_least_one::<usize>)]
    max_doc_bytes: usize,
    /// With --prior-only: leave a mention unlinked when its best prior is below this.
    #[arg(long, default_value_t = 0.0, value_parser = share)]
    nil_threshold: f32,
    /// Candidates written per mention (0: only the chosen entity).
    #[arg(long, default_value_t = tailor::link::DEFAULT_OUTPUT_CANDIDATES)]
    output_candidates: usize,
    /// Worker threads for linking (default: one per core).
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..))]
    threads: Option<u16>,
}

enum Output {
    Stdout,
    File,
    Parts,
}

/// Where the annotations go: `-`, a `.jsonl`/`.parquet` file, or else a directory of parts. A
/// path that looks like a file of another format is refused rather than made a directory; a
/// trailing `/` says it is a directory whatever its name.
fn output_kind(out: &Path) -> Result<Output> {
    let name = out.to_string_lossy();
    let lower = name.to_lowercase();
    // what is there already is checked now, not when the linking is done and the output is
    // renamed into place
    if name == "-" {
        Ok(Output::Stdout)
    } else if name.ends_with(".jsonl") || name.ends_with(".parquet") {
        if out.is_dir() {
            bail!(
                "{name} is an existing directory, and a .jsonl or .parquet output is one file: \
                 name a file, or write {name}/ to put a run's parts in that directory"
            )
        }
        Ok(Output::File)
    } else if out.is_dir() || out.extension().is_none() || name.ends_with('/') {
        if out.exists() && !out.is_dir() {
            bail!(
                "{name} is an existing file, and an output without an extension is a \
                 directory of parts: name a new directory, or FILE.jsonl or FILE.parquet"
            )
        }
        Ok(Output::Parts)
    } else if lower.ends_with(".jsonl") || lower.ends_with(".parquet") {
        bail!("{name}: write the extension in lower case (.jsonl or .parquet)")
    } else {
        bail!(
            "{name}: unknown output format: expected FILE.jsonl, FILE.parquet, - (stdout) or a \
             directory for parts (an existing one, a path ending in /, or a new path without an \
             extension); output is not compressed"
        )
    }
}

pub fn run(args: LinkArgs) -> Result<()> {
    if args.merge {
        let inputs: Vec<PathBuf> = args.inputs.iter().map(PathBuf::from).collect();
        // written into a directory being merged, the output would become one of its files
        // (and be merged again, doubled, next time)
        let reads: Vec<&Path> = inputs.iter().map(PathBuf::as_path).collect();
        super::paths::refuse_overwriting("--out", &args.out, &reads)?;
        super::paths::refuse_file_in_outputs("--out", &args.out)?;
        let report = merge::merge(&inputs, &args.out)?;
        eprintln!(
            "merged {} parts, {} records, into {}",
            report.parts,
            report.records,
            args.out.display()
        );
        return Ok(());
    }
    if let Some(threads) = args.threads {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads.into())
            .build_global()
            .context("starting the linking threads")?;
    }
    let inputs = expand_inputs(&args.inputs)?;
    if args.out != Path::new("-") {
        let model_reads = args.model.reads();
        let mut reads: Vec<&Path> = inputs.iter().map(PathBuf::as_path).collect();
        reads.push(args.retrieval.kb.as_path());
        reads.extend(model_reads.iter().map(PathBuf::as_path));
        super::paths::refuse_overwriting("--out", &args.out, &reads)?;
    }
    let kind = output_kind(&args.out)?;
    match kind {
        Output::Parts => super::paths::refuse_current_dir("--out", &args.out)?,
        Output::Stdout => {}
        Output::File => super::paths::refuse_file_in_outputs("--out", &args.out)?,
    }
    if args.resume && !matches!(kind, Output::Parts) {
        bail!("--resume needs an output directory (not a .jsonl/.parquet file or -)");
    }
    // each worker of a sharded run writing the same file would replace the others' output
    if args.shard.is_some_and(|s| !s.is_all()) && !matches!(kind, Output::Parts) {
        bail!(
            "--shard needs an output directory that the workers share (not a .jsonl/.parquet \
             file or -): each worker writes its own parts there"
        );
    }
    let (kb, mut retriever) = load(&args.retrieval)?;
    // The prior scores context candidates zero: finding them would be wasted work.
    retriever.context &= !args.model.prior_only;
    let prior = PriorScorer {
        nil_threshold: args.nil_threshold,
    };
    let models = LoadedModels::unless_prior_only(&args.model, &kb, &args.retrieval.kb, false)?;
    let scorer: &dyn Scorer = match &models {
        Some(m) => &m.scorers[0],
        None => &prior,
    };
    let linker = Linker {
        kb: &kb,
        retriever: &retriever,
        scorer,
        output_candidates: args.output_candidates,
    };
    let mut options = BatchOptions {
        max_errors: args.max_errors,
        max_doc_bytes: args.max_doc_bytes,
        shard: args.shard.unwrap_or(Shard::ALL),
        progress: true,
        ..BatchOptions::default()
    };
    let t0 = Instant::now();
    let report = match kind {
        Output::Stdout => {
            let mut sink = StdoutJsonl::new();
            let report = link_stream(&linker, inputs, &mut sink, &options)?;
            sink.finish()?;
            report
        }
        Output::File => {
            let mut sink = AnnotationWriter::create(&args.out)?;
            let report = link_stream(&linker, inputs, &mut sink, &options)?;
            sink.finish()?;
            report
        }
        Output::Parts => {
            let run = identity(&args, &inputs, options.shard, &kb)?;
            let mut sink = PartsWriter::open(&args.out, run, args.resume)?;
            if sink.progress().complete {
                eprintln!("{}: the run is already complete", args.out.display());
                return Ok(());
            }
            options.skip = sink.progress().documents();
            options.errors_before = sink.progress().failed();
            if options.skip > 0 {
                tracing::info!(
                    documents = options.skip,
                    parts = sink.progress().parts.len(),
                    "resuming after the committed parts"
                );
            }
            let report = link_stream(&linker, inputs, &mut sink, &options)?;
            sink.finish()?;
            report
        }
    };
    if let Some(m) = &models {
        m.save_cache();
    }
    let secs = t0.elapsed().as_secs_f64();
    print_summary(&report, secs, &args.out);
    if let Some(m) = &models {
        print_encoder_summary(&m.scorers[0], secs);
    }
    Ok(())
}

/// Where the model's time went: how much text the encoder read against the documents, and the
/// share of the run its forward passes took.
fn print_encoder_summary(scorer: &tailor::disambiguate::model::ModelScorer, secs: f64) {
    let read = scorer.context_totals();
    let work = scorer.encoder().work();
    let pct = |a: f64, b: f64| 100.0 * a / b.max(1e-9);
    // documents are scored on every linking thread at once, so the forward passes' time adds
    // up over threads
    let threads = rayon::current_num_threads();
    eprintln!(
        "encoder: read {} sentence windows, {:.1}% of the characters of the documents with \
         mentions; {} texts (windows and candidate descriptions), {} tokens ({:.1}% padding) \
         in {:.2} thread-seconds = {:.1}% of the run's {:.2} ({} threads), {:.1} GFLOP/s",
        read.windows,
        pct(read.window_chars as f64, read.document_chars as f64),
        work.texts,
        work.tokens,
        pct(
            (work.padded_positions - work.tokens) as f64,
            work.padded_positions as f64
        ),
        work.seconds,
        pct(work.seconds, secs * threads as f64),
        secs * threads as f64,
        threads,
        work.gflops()
    );
}

/// What makes two runs the same run, for --resume.
fn identity(
    args: &LinkArgs,
    inputs: &[PathBuf],
    shard: Shard,
    kb: &tailor::kb::Kb,
) -> Result<RunIdentity> {
    // An input is known by its path, size and content hash: one pass over each file, so an
    // edit that keeps the size is caught too.
    if inputs.iter().any(|input| input.as_os_str() == "-") {
        bail!("an output directory needs file inputs: stdin cannot be resumed");
    }
    let started = std::time::Instant::now();
    let recorded = inputs
        .par_iter()
        .map(|input| {
            let (bytes, sha256) = tailor::kb::sha256_file(input)?;
            Ok(InputRecord {
                path: input.display().to_string(),
                bytes,
                sha256,
            })
        })
        .collect::<Result<Vec<_>, tailor::kb::KbError>>()?;
    tracing::info!(
        files = recorded.len(),
        bytes = recorded.iter().map(|r| r.bytes).sum::<u64>(),
        seconds = format!("{:.2}", started.elapsed().as_secs_f64()),
        "inputs hashed"
    );
    Ok(RunIdentity {
        inputs: recorded,
        shard,
        part_docs: args.part_docs.max(1),
        format: match args.format {
            PartFormat::Parquet => "parquet".into(),
            PartFormat::Jsonl => "jsonl".into(),
        },
        settings: format!(
            "kb={} kb_sha256={} scorer={} nil_threshold={} model_nil={} top_k={} fuzzy={} \
             context={} derived_names={} surnames={} candidates={} max_doc_bytes={}",
            args.retrieval.kb.display(),
            kb.manifest.sha256(),
            scorer_identity(&args.model),
            args.nil_threshold,
            args.model.model_nil,
            args.retrieval.top_k,
            !args.retrieval.no_fuzzy,
            !args.retrieval.no_context && !args.model.prior_only,
            !args.retrieval.no_derived_names,
            !args.retrieval.no_surnames,
            args.output_candidates,
            args.max_doc_bytes
        ),
    })
}

fn print_summary(report: &LinkReport, secs: f64, out: &Path) {
    // three significant digits, so a slow run's rates do not round to 0
    let per_sec = |n: u64| {
        let r = n as f64 / secs.max(1e-9);
        let decimals = if r >= 100.0 {
            0
        } else if r >= 10.0 {
            1
        } else {
            2
        };
        format!("{r:.decimals$}")
    };
    eprintln!(
        "linked {} documents ({} failed): {} mentions, {} linked, {} tokens, {} bytes in {:.2}s \
         ({} docs/s, {} tokens/s, {} mentions/s, {:.3} MB/s); wrote {}",
        report.documents,
        report.failed,
        report.mentions,
        report.linked,
        report.tokens,
        report.bytes,
        secs,
        per_sec(report.documents),
        per_sec(report.tokens),
        per_sec(report.mentions),
        report.bytes as f64 / secs.max(1e-9) / 1e6,
        out.display()
    );
}

/// The scorer a run uses, as --resume compares it.
fn scorer_identity(model: &ModelArgs) -> String {
    if model.prior_only {
        "prior".into()
    } else {
        format!("model:{}", model.model.display())
    }
}
