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
    mention: String,
    /// Candidates to print.
    #[arg(long, short = 'n', default_value_t = 10)]
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
    let rows: Vec<Row> = retriever
        .candidates(&args.mention)
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
        println!("no candidates for {:?}", args.mention);
    }
    for r in rows {
        let source = match r.source {
            tailor::retrieve::CandidateSource::Exact => "exact",
            tailor::retrieve::CandidateSource::Fuzzy => "fuzzy",
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
