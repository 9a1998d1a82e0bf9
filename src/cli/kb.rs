//! `tailor kb stats` and `tailor kb show`: a KB store, readable for people or as JSON.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Result;
use clap::Subcommand;
use serde::Serialize;

use tailor::kb::{self, EdgeKind, EntityIdx, Kb};

use super::print_json;

#[derive(Debug, Subcommand)]
pub enum KbCommand {
    /// Counts of every table, the sources and what was skipped.
    Stats {
        /// KB store directory.
        #[arg(default_value_os_t = super::default_kb_dir())]
        dir: PathBuf,
        /// Print JSON for programs.
        #[arg(long)]
        json: bool,
    },
    /// One entity with its aliases, types and relations.
    Show {
        /// KB store directory.
        dir: PathBuf,
        /// An entity id (Q90) or a name (Paris); a name picks the best-connected match.
        entity: String,
        /// Relations to list in each direction.
        #[arg(long, default_value_t = 25)]
        limit: usize,
        #[arg(long)]
        json: bool,
    },
}

pub fn run(cmd: KbCommand) -> Result<()> {
    match cmd {
        KbCommand::Stats { dir, json } => stats(&dir, json),
        KbCommand::Show {
            dir,
            entity,
            limit,
            json,
        } => show(&dir, &entity, limit, json),
    }
}

fn load(dir: &std::path::Path) -> Result<Kb> {
    let t0 = Instant::now();
    let kb = kb::load(dir)?;
    tracing::info!(
        seconds = t0.elapsed().as_secs_f64(),
        "loaded KB {}",
        dir.display()
    );
    Ok(kb)
}

fn stats(dir: &std::path::Path, json: bool) -> Result<()> {
    let kb = load(dir)?;
    if json {
        return print_json(&kb.manifest);
    }
    let c = &kb.manifest.counts;
    println!("KB {}", dir.display());
    println!("  entities              {:>10}", c.entities);
    println!("    with an English label {:>8}", c.entities_with_label);
    println!(
        "    with a description  {:>10}",
        c.entities_with_description
    );
    println!("    with aliases        {:>10}", c.entities_with_aliases);
    println!("  aliases               {:>10}", c.aliases);
    println!("  types in use          {:>10}", c.types);
    println!("  instance-of pairs     {:>10}", c.entity_types);
    println!("  subclass-of pairs     {:>10}", c.type_parents);
    println!("  relations             {:>10}", c.relations);
    println!("  triples               {:>10}", c.triples);
    println!("sources");
    for s in &kb.manifest.sources {
        println!(
            "  {:<9} {:>12} bytes  {}  {}",
            s.kind,
            s.bytes,
            &s.sha256[..12],
            s.path
        );
    }
    if !kb.manifest.skipped.is_empty() {
        println!("skipped on purpose");
        for (reason, n) in &kb.manifest.skipped {
            println!("  {n:>10}  {reason}");
        }
    }
    println!("malformed records skipped: {}", kb.manifest.rejected);
    Ok(())
}

#[derive(Serialize)]
struct Named {
    id: String,
    label: Option<String>,
}

#[derive(Serialize)]
struct Edge {
    relation: String,
    relation_label: Option<String>,
    entity: Named,
}

#[derive(Serialize)]
struct EntityView {
    id: String,
    label: Option<String>,
    description: Option<String>,
    wikipedia: Option<String>,
    degree: u32,
    aliases: Vec<String>,
    types: Vec<Named>,
    /// For a type: its parent types.
    parents: Vec<Named>,
    outgoing: Vec<Edge>,
    incoming: Vec<Edge>,
    outgoing_total: usize,
    incoming_total: usize,
}

fn named(kb: &Kb, idx: EntityIdx) -> Named {
    let e = kb.entity(idx);
    Named {
        id: e.id.clone(),
        label: e.label.clone(),
    }
}

fn view(kb: &Kb, idx: EntityIdx, limit: usize) -> EntityView {
    let e = kb.entity(idx);
    let mut outgoing = Vec::new();
    let mut incoming = Vec::new();
    for nb in kb.graph().neighbours(idx) {
        let EdgeKind::Relation(r) = nb.kind else {
            continue;
        };
        let rel = kb.relation(r);
        let edge = Edge {
            relation: rel.id.clone(),
            relation_label: rel.label.clone(),
            entity: named(kb, nb.entity),
        };
        if nb.outgoing {
            outgoing.push(edge);
        } else {
            incoming.push(edge);
        }
    }
    let (outgoing_total, incoming_total) = (outgoing.len(), incoming.len());
    outgoing.truncate(limit);
    incoming.truncate(limit);
    EntityView {
        id: e.id.clone(),
        label: e.label.clone(),
        description: e.description.clone(),
        wikipedia: e.wikipedia.clone(),
        degree: e.degree,
        aliases: kb.aliases_of(idx).iter().map(|a| a.text.clone()).collect(),
        types: kb.types_of(idx).map(|t| named(kb, t)).collect(),
        parents: kb
            .type_parents
            .iter()
            .filter(|p| p.0 == idx)
            .map(|p| named(kb, p.1))
            .collect(),
        outgoing,
        incoming,
        outgoing_total,
        incoming_total,
    }
}

fn show(dir: &std::path::Path, entity: &str, limit: usize, json: bool) -> Result<()> {
    let kb = load(dir)?;
    let idx = kb.resolve(entity)?;
    let v = view(&kb, idx, limit);
    if json {
        return print_json(&v);
    }
    let name = |n: &Named| match &n.label {
        Some(l) => format!("{l} ({})", n.id),
        None => n.id.clone(),
    };
    println!(
        "{}",
        name(&Named {
            id: v.id.clone(),
            label: v.label.clone()
        })
    );
    if let Some(d) = &v.description {
        println!("  {d}");
    }
    if let Some(w) = &v.wikipedia {
        println!("  wikipedia: {w}");
    }
    println!("  degree: {}", v.degree);
    if !v.aliases.is_empty() {
        println!("  aliases: {}", v.aliases.join(" | "));
    }
    if !v.types.is_empty() {
        let t: Vec<_> = v.types.iter().map(name).collect();
        println!("  instance of: {}", t.join(", "));
    }
    if !v.parents.is_empty() {
        let t: Vec<_> = v.parents.iter().map(name).collect();
        println!("  subclass of: {}", t.join(", "));
    }
    let rel = |e: &Edge| {
        e.relation_label
            .clone()
            .unwrap_or_else(|| e.relation.clone())
    };
    println!("  relations ({} outgoing):", v.outgoing_total);
    for e in &v.outgoing {
        println!("    {} → {}", rel(e), name(&e.entity));
    }
    println!("  relations ({} incoming):", v.incoming_total);
    for e in &v.incoming {
        println!("    {} ← {}", rel(e), name(&e.entity));
    }
    Ok(())
}
