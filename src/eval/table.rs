//! The human table of `tailor eval`: one row per benchmark and system, every figure with the
//! counts behind it.

use std::fmt::Write;

use super::evaluate::BenchmarkResult;
use super::metrics::{Prf, Share};

fn pct(s: &Share) -> String {
    format!("{:.1}", 100.0 * s.share)
}

fn prf(p: &Prf) -> String {
    format!(
        "{:.1}/{:.1}/{:.1} ({}/{}/{})",
        100.0 * p.precision,
        100.0 * p.recall,
        100.0 * p.f1,
        p.tp,
        p.fp,
        p.fn_
    )
}

/// Renders the table, with a legend below it.
pub fn render_table(results: &[BenchmarkResult]) -> String {
    let header = [
        "benchmark",
        "system",
        "docs",
        "coverage",
        "R@1",
        "R@5",
        "R@30",
        "gold-mention P/R/F1 in-KB (tp/fp/fn)",
        "NIL acc",
        "end-to-end P/R/F1 (tp/fp/fn)",
    ];
    let mut rows: Vec<Vec<String>> = vec![header.iter().map(|h| h.to_string()).collect()];
    for r in results {
        let recall = |k: usize| {
            r.recall_at
                .iter()
                .find(|x| x.k == k)
                .map(|x| pct(&x.share))
                .unwrap_or_default()
        };
        let n = r.recall_at.first().map(|x| x.share.total).unwrap_or(0);
        for s in &r.systems {
            let nil = &s.disambiguation.nil;
            rows.push(vec![
                r.name.clone(),
                s.name.clone(),
                r.documents.to_string(),
                format!(
                    "{} ({}/{})",
                    pct(&r.coverage.mentions),
                    r.coverage.mentions.hits,
                    r.coverage.mentions.total
                ),
                recall(1),
                recall(5),
                format!("{} (n={n})", recall(30)),
                prf(&s.disambiguation.in_kb),
                if nil.total == 0 {
                    "-".into()
                } else {
                    format!("{} ({}/{})", pct(nil), nil.hits, nil.total)
                },
                prf(&s.end_to_end),
            ]);
        }
    }
    let widths: Vec<usize> = (0..header.len())
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for row in &rows {
        let cells: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(cell, w)| format!("{cell:<w$}"))
            .collect();
        let _ = writeln!(out, "{}", cells.join("  ").trim_end());
    }
    out.push('\n');
    for r in results {
        let unnamed = &r.coverage.unnamed;
        if unnamed.hits > 0 {
            let _ = writeln!(
                out,
                "{}: {} of {} in-KB gold mentions ({}%) name an entity with no label or alias in \
                 the KB, which no system can find by name",
                r.name,
                unnamed.hits,
                unnamed.total,
                pct(unnamed)
            );
        }
    }
    for r in results {
        let c = &r.context_candidates;
        let _ = writeln!(
            out,
            "{}: context candidates: {} added, {} raised, gold among them {} ({} added, {} \
             raised)",
            r.name,
            c.added,
            c.raised,
            c.gold_added + c.gold_raised,
            c.gold_added,
            c.gold_raised
        );
    }
    out.push_str(
        "\ncoverage: scored gold entity mentions whose entity is in the KB. R@k: in-KB gold \
         mentions with the gold among the first k candidates (n of them). gold-mention: \
         disambiguation of in-KB gold mentions. NIL acc: gold NIL mentions left unlinked. \
         end-to-end: the system's own mentions, exact span match, all gold entity mentions. \
         Percentages.\n",
    );
    out
}
