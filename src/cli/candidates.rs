//! `tailor candidates`: the ranked candidates of one mention, with prior, types and description.

use anyhow::Result;
use clap::Args;
use serde::Serialize;

use super::retrieval::{load, RetrievalArgs};

#[derive(Debug, Args)]
pub struct CandidatesArgs {
    #[command(flatten)]
    retrieval: RetrievalArgs,
    /// The mention text, e.g. "Jordan".
    #[arg(required_unless_present = "latency")]
    mention: Option<String>,
    /// Instead: time candidate lookup (uncached) for every mention of FILE, one per line, and
    /// print p50/p99 latency, exact aliases only and with fuzzy candidates.
    #[arg(long, value_name = "FILE")]
    latency: Option<std::path::PathBuf>,
    /// Candidates to print.
    #[arg(long, short = 'n', default_value_t = 10,
          value_parser = super::values::at_least_one::<usize>)]
    limit: usize,
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct Row {
    rank: usize,
    entity: String,
    label: Option<String>,
    prior: f32,
    source: tailor::retrieve::CandidateSource,
    similarity: f32,
    degree: u32,
    types: Vec<String>,
    description: Option<String>,
}

pub fn run(args: CandidatesArgs) -> Result<()> {
    let (kb, retriever) = load(&args.retrieval)?;
    if let Some(file) = &args.latency {
        return latency(&retriever, file);
    }
    let mention = args.mention.clone().unwrap_or_default();
    let rows: Vec<Row> = retriever
        .candidates(&mention)
        .into_iter()
        .take(args.limit)
        .enumerate()
        .map(|(i, c)| {
            let e = kb.entity(c.entity);
            Row {
                rank: i + 1,
                entity: e.id.clone(),
                label: e.label.clone(),
                prior: c.prior,
                source: c.source,
                similarity: c.similarity,
                degree: e.degree,
                types: kb
                    .types_of(c.entity)
                    .map(|t| kb.display_name(t).to_string())
                    .collect(),
                description: e.description.clone(),
            }
        })
        .collect();
    if args.json {
        return super::print_json(&rows);
    }
    if rows.is_empty() {
        println!("no candidates for {mention:?}");
    }
    for r in rows {
        let source = match r.source {
            tailor::retrieve::CandidateSource::Exact => "exact",
            tailor::retrieve::CandidateSource::Fuzzy => "fuzzy",
            tailor::retrieve::CandidateSource::Context => "context",
            tailor::retrieve::CandidateSource::Raised => "raised",
            tailor::retrieve::CandidateSource::Derived => "derived",
        };
        println!(
            "{:>2}. {:<10} {:<32} prior {:.4}  {source}  degree {}",
            r.rank,
            r.entity,
            r.label.unwrap_or_default(),
            r.prior,
            r.degree
        );
        if !r.types.is_empty() {
            println!("      types: {}", r.types.join(", "));
        }
        if let Some(d) = r.description {
            println!("      {d}");
        }
    }
    Ok(())
}

/// Per-mention lookup latency, exact and fuzzy, over the mentions of a file.
fn latency(retriever: &tailor::retrieve::Retriever, file: &std::path::Path) -> Result<()> {
    use anyhow::Context;
    use std::time::Instant;
    let text = std::fs::read_to_string(file).with_context(|| file.display().to_string())?;
    let keys: Vec<String> = text
        .lines()
        .map(tailor::retrieve::normalize)
        .filter(|k| !k.is_empty())
        .collect();
    anyhow::ensure!(!keys.is_empty(), "{}: no mentions", file.display());
    let percentiles = |mut us: Vec<f64>| {
        us.sort_by(f64::total_cmp);
        let at = |q: f64| us[((us.len() - 1) as f64 * q).round() as usize];
        (at(0.5), at(0.99))
    };
    let exact: Vec<f64> = keys
        .iter()
        .map(|k| {
            let t = Instant::now();
            std::hint::black_box(retriever.table.get_normalized(k));
            t.elapsed().as_secs_f64() * 1e6
        })
        .collect();
    let fuzzy: Vec<f64> = keys
        .iter()
        .map(|k| {
            let t = Instant::now();
            std::hint::black_box(retriever.candidates_uncached(k));
            t.elapsed().as_secs_f64() * 1e6
        })
        .collect();
    let (e50, e99) = percentiles(exact);
    let (f50, f99) = percentiles(fuzzy);
    println!("mentions {}", keys.len());
    println!("exact alias lookup     p50 {e50:8.1} us   p99 {e99:8.1} us");
    println!("exact + fuzzy, ranked  p50 {f50:8.1} us   p99 {f99:8.1} us");
    Ok(())
}
