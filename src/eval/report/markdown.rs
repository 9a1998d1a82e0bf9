//! `report.md`: the summary of a report as Markdown tables — systems per benchmark, slices
//! with their intervals, the worst errors, embedding diagnostics and the change from an earlier
//! run.

use std::fmt::Write;

use super::{ReportMetrics, SliceChange};

/// Rows of the worst-error table the summary keeps.
const ERRORS: usize = 10;

fn pct(x: f64) -> String {
    format!("{:.1}", 100.0 * x)
}

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// Errors per system by reason, one row per reason.
fn reasons(out: &mut String, b: &super::BenchmarkMetrics) {
    let mut all: Vec<&String> = b.error_reasons.iter().flat_map(|(_, r)| r.keys()).collect();
    all.sort();
    all.dedup();
    if all.is_empty() {
        return;
    }
    let systems: Vec<&str> = b.error_reasons.iter().map(|(s, _)| s.as_str()).collect();
    let _ = writeln!(out, "\n| errors by reason | {} |", systems.join(" | "));
    let _ = writeln!(out, "|---|{}", "---|".repeat(systems.len()));
    for reason in all {
        let counts: Vec<String> = b
            .error_reasons
            .iter()
            .map(|(_, r)| r.get(reason).copied().unwrap_or(0).to_string())
            .collect();
        let _ = writeln!(out, "| {reason} | {} |", counts.join(" | "));
    }
}

pub fn render(m: &ReportMetrics, changes: &[SliceChange]) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# tailor evaluation report\n");
    let _ = writeln!(
        out,
        "Systems: {}. Slices are over in-KB gold mentions: accuracy (NIL counted wrong) in %, with \
         a 95% bootstrap interval, then precision over the mentions linked and F1. Popularity \
         measure: `{}`.\n",
        m.systems.join(", "),
        m.popularity_measure
    );
    if !m.pooled.is_empty() {
        let _ = writeln!(
            out,
            "## All {} benchmarks pooled\n\n| slice | size | {} |",
            m.benchmarks.len(),
            m.systems.join(" | ")
        );
        let _ = writeln!(out, "|---|---|{}", "---|".repeat(m.systems.len()));
        for s in &m.pooled {
            let cells: Vec<String> = s.systems.iter().map(|x| x.summary()).collect();
            let _ = writeln!(
                out,
                "| {} | {} | {} |",
                cell(&s.name),
                s.size,
                cells.join(" | ")
            );
        }
        let _ = writeln!(out);
    }
    for b in &m.benchmarks {
        let _ = writeln!(out, "## {}\n", b.name);
        let recall: Vec<String> = b
            .recall_at
            .iter()
            .map(|(k, r)| format!("recall@{k} {}", pct(*r)))
            .collect();
        let _ = writeln!(
            out,
            "{} documents, {} scored gold mentions; KB coverage {}% of entity mentions, {}% of \
             entities ({}% of the in-KB mentions name an entity with no label or alias); \
             candidates: {}.\n",
            b.documents,
            b.mentions,
            pct(b.coverage_mentions),
            pct(b.coverage_entities),
            pct(b.coverage_unnamed),
            recall.join(", ")
        );
        let _ = writeln!(
            out,
            "| system | in-KB P | in-KB R | in-KB F1 | NIL | end-to-end F1 |"
        );
        let _ = writeln!(out, "|---|---|---|---|---|---|");
        for s in &b.systems {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} |",
                s.name,
                pct(s.in_kb_precision),
                pct(s.in_kb_recall),
                pct(s.in_kb_f1),
                s.nil_accuracy.map_or("–".into(), pct),
                pct(s.end_to_end_f1)
            );
        }
        let _ = writeln!(
            out,
            "\n| family | slice | size | {} |",
            m.systems.join(" | ")
        );
        let _ = writeln!(out, "|---|---|---|{}", "---|".repeat(m.systems.len()));
        for s in &b.slices {
            let accs: Vec<String> = s.systems.iter().map(|x| x.summary()).collect();
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} |",
                s.family,
                cell(&s.name),
                s.size,
                accs.join(" | ")
            );
        }
        reasons(&mut out, b);
        if !b.errors.is_empty() {
            let _ = writeln!(
                out,
                "\nWorst errors of `{}`:\n\n| mention | gold | predicted | why |\n|---|---|---|---|",
                b.errors[0].system
            );
            for e in b.errors.iter().take(ERRORS) {
                let predicted = match (&e.predicted, &e.predicted_label) {
                    (Some(id), Some(l)) => format!("{id} {l}"),
                    _ => "NIL".into(),
                };
                let _ = writeln!(
                    out,
                    "| …{}**{}**{}… | {} {} | {} | {} |",
                    cell(&e.left),
                    cell(&e.surface),
                    cell(&e.right),
                    e.gold,
                    cell(&e.gold_label),
                    cell(&predicted),
                    e.reason.describe()
                );
            }
        }
        let _ = writeln!(out);
    }
    if !m.geometry.is_empty() {
        let _ = writeln!(out, "## Entity embeddings\n");
        let _ = writeln!(
            out,
            "| embedding | model | dim | alignment | uniformity | MRR |"
        );
        let _ = writeln!(out, "|---|---|---|---|---|---|");
        for g in &m.geometry {
            let mut mrr: Vec<String> = g.mrr.iter().map(|(k, v)| format!("{k} {v:.3}")).collect();
            if mrr.is_empty() {
                mrr.push("not measured".into());
            }
            let _ = writeln!(
                out,
                "| {} | {} | {} | {:.3} | {:.3} | {} |",
                g.name,
                g.model,
                g.dim,
                g.alignment,
                g.uniformity,
                mrr.join(", ")
            );
        }
        let _ = writeln!(out);
    }
    if !changes.is_empty() {
        let _ = writeln!(out, "## Change from the earlier run\n");
        let _ = writeln!(
            out,
            "| benchmark | family | slice | system | old | new | Δ | beyond old CI |"
        );
        let _ = writeln!(out, "|---|---|---|---|---|---|---|---|");
        for c in changes {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} | {:+.1} | {} |",
                c.benchmark,
                c.family,
                cell(&c.slice),
                c.system,
                pct(c.old_accuracy),
                pct(c.new_accuracy),
                100.0 * c.delta(),
                if c.beyond_old_interval { "yes" } else { "" }
            );
        }
    }
    out
}
