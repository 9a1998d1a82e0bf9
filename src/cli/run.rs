//! `tailor run CONFIG`: the staged pipeline, each stage re-run only when its inputs changed.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;

use tailor::stages::{run as run_stages, Outcome, StagesConfig};

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Stage config (`[[stage]]` tables), e.g. pipelines/default.toml.
    config: PathBuf,
    /// Run this stage and every one after it even when up to date.
    #[arg(long)]
    from: Option<String>,
}

pub fn run(args: RunArgs) -> Result<()> {
    let config = StagesConfig::load(&args.config)?;
    let name = args
        .config
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "pipeline".into());
    let exe = std::env::current_exe().context("locating the tailor executable")?;
    let outcomes = run_stages(&config, &name, &exe, args.from.as_deref())?;
    for (stage, outcome) in outcomes {
        let what = match outcome {
            Outcome::Ran => "ran",
            Outcome::UpToDate => "up to date",
        };
        eprintln!("{stage}: {what}");
    }
    Ok(())
}
