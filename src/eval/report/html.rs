//! `report.html`: one self-contained page (no scripts, no outside files) with the plots inlined
//! as SVG — per-slice accuracy by system, accuracy against popularity, candidate recall@k, KB
//! coverage, embedding norms against popularity — and the tables behind them.

use std::fmt::Write;

use super::plots::{curves, grouped_bars, Bar, Series};
use super::{BenchmarkMetrics, ReportMetrics, SliceChange};

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn pct(x: f64) -> String {
    format!("{:.1}", 100.0 * x)
}

fn figure(out: &mut String, plot: Result<String, String>) {
    match plot {
        Ok(svg) => {
            let _ = writeln!(out, "<figure>{svg}</figure>");
        }
        Err(e) => {
            let _ = writeln!(out, "<p class=\"warn\">plot failed: {}</p>", escape(&e));
        }
    }
}

const STYLE: &str = "body{font-family:sans-serif;margin:2em;max-width:1600px}\
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 7px;\
font-size:13px;text-align:left}th{background:#f0f0f0}figure{margin:1em 0}\
figure svg{max-width:100%;height:auto}\
.ctx{color:#555}.m{font-weight:bold;color:#000}.warn{color:#b00}";

pub fn render(m: &ReportMetrics, changes: &[SliceChange]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>tailor evaluation report</title><style>{STYLE}</style></head><body>"
    );
    let _ = writeln!(
        out,
        "<h1>tailor evaluation report</h1><p>Systems: {}. Slices are over in-KB gold mentions: \
         accuracy (NIL counted wrong) in %, whiskers and brackets are 95% bootstrap intervals, \
         then precision over the mentions linked and F1. Popularity measure: \
         <code>{}</code>.</p>",
        escape(&m.systems.join(", ")),
        escape(&m.popularity_measure)
    );
    overview(&mut out, m);
    pooled(&mut out, m);
    for b in &m.benchmarks {
        benchmark(&mut out, m, b);
    }
    geometry(&mut out, m);
    if !changes.is_empty() {
        let _ = writeln!(
            out,
            "<h2>Change from the earlier run</h2><table><tr><th>benchmark</th><th>family</th>\
             <th>slice</th><th>system</th><th>old</th><th>new</th><th>Δ</th>\
             <th>beyond old CI</th></tr>"
        );
        for c in changes {
            let _ = writeln!(
                out,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{} (n={})</td>\
                 <td>{} (n={})</td><td>{:+.1}</td><td>{}</td></tr>",
                escape(&c.benchmark),
                escape(&c.family),
                escape(&c.slice),
                escape(&c.system),
                pct(c.old_accuracy),
                c.old_size,
                pct(c.new_accuracy),
                c.new_size,
                100.0 * c.delta(),
                if c.beyond_old_interval { "yes" } else { "" }
            );
        }
        let _ = writeln!(out, "</table>");
    }
    let _ = writeln!(out, "</body></html>");
    out
}

fn overview(out: &mut String, m: &ReportMetrics) {
    let _ = writeln!(out, "<h2>Candidates and coverage</h2>");
    let ks: Vec<String> = m
        .benchmarks
        .first()
        .map(|b| {
            b.recall_at
                .iter()
                .map(|(k, _)| format!("k = {k}"))
                .collect()
        })
        .unwrap_or_default();
    let recall: Vec<Series<f64>> = m
        .benchmarks
        .iter()
        .map(|b| Series {
            name: b.name.clone(),
            values: b.recall_at.iter().map(|(_, r)| *r).collect(),
        })
        .collect();
    figure(
        out,
        curves("Candidate recall@k", "recall", 1.0, &ks, &recall),
    );
    let names: Vec<String> = m.benchmarks.iter().map(|b| b.name.clone()).collect();
    let bars = |name: &str, f: fn(&BenchmarkMetrics) -> f64| Series {
        name: name.to_string(),
        values: m
            .benchmarks
            .iter()
            .map(|b| Bar {
                value: f(b),
                interval: None,
            })
            .collect(),
    };
    let coverage = [
        bars("entity mentions", |b| b.coverage_mentions),
        bars("distinct entities", |b| b.coverage_entities),
        bars("in-KB mentions of a nameless entity", |b| {
            b.coverage_unnamed
        }),
    ];
    figure(
        out,
        grouped_bars("KB coverage of gold entities", "share", &names, &coverage),
    );
}

fn benchmark(out: &mut String, m: &ReportMetrics, b: &BenchmarkMetrics) {
    let _ = writeln!(
        out,
        "<h2>{}</h2><p>{} documents, {} scored gold mentions.</p><table><tr><th>system</th>\
         <th>in-KB P</th><th>in-KB R</th><th>in-KB F1</th><th>NIL</th><th>end-to-end F1</th></tr>",
        escape(&b.name),
        b.documents,
        b.mentions
    );
    for s in &b.systems {
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&s.name),
            pct(s.in_kb_precision),
            pct(s.in_kb_recall),
            pct(s.in_kb_f1),
            s.nil_accuracy.map_or("–".into(), pct),
            pct(s.end_to_end_f1)
        );
    }
    let _ = writeln!(out, "</table>");

    let categories: Vec<String> = b
        .slices
        .iter()
        .map(|s| format!("{}: {} (n={})", s.family, s.name, s.size))
        .collect();
    let series: Vec<Series<Bar>> = (0..m.systems.len())
        .map(|i| Series {
            name: m.systems[i].clone(),
            values: b
                .slices
                .iter()
                .map(|s| Bar {
                    value: s.systems[i].accuracy,
                    interval: Some((s.systems[i].ci95.low, s.systems[i].ci95.high)),
                })
                .collect(),
        })
        .collect();
    let title = format!("{}: accuracy on in-KB gold mentions per slice", b.name);
    figure(out, grouped_bars(&title, "accuracy", &categories, &series));

    let popular: Vec<_> = b
        .slices
        .iter()
        .filter(|s| s.family == m.popularity_measure)
        .collect();
    let bins: Vec<String> = popular
        .iter()
        .map(|s| format!("{} (n={})", s.name, s.size))
        .collect();
    let lines: Vec<Series<f64>> = (0..m.systems.len())
        .map(|i| Series {
            name: m.systems[i].clone(),
            values: popular.iter().map(|s| s.systems[i].accuracy).collect(),
        })
        .collect();
    let title = format!("{}: accuracy against {}", b.name, m.popularity_measure);
    figure(out, curves(&title, "accuracy", 1.0, &bins, &lines));

    let _ = write!(out, "<table><tr><th>family</th><th>slice</th><th>size</th>");
    for s in &m.systems {
        let _ = write!(out, "<th>{}</th>", escape(s));
    }
    let _ = writeln!(out, "</tr>");
    for s in &b.slices {
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td>",
            escape(&s.family),
            escape(&s.name),
            s.size
        );
        for x in &s.systems {
            let _ = write!(out, "<td>{}</td>", x.summary());
        }
        let _ = writeln!(out, "</tr>");
    }
    let _ = writeln!(out, "</table>");
    errors(out, b);
}

/// The slices over every benchmark's mentions together.
fn pooled(out: &mut String, m: &ReportMetrics) {
    if m.pooled.is_empty() {
        return;
    }
    let _ = write!(
        out,
        "<h2>All {} benchmarks pooled</h2><table><tr><th>slice</th><th>size</th>",
        m.benchmarks.len()
    );
    for s in &m.systems {
        let _ = write!(out, "<th>{}</th>", escape(s));
    }
    let _ = writeln!(out, "</tr>");
    for s in &m.pooled {
        let _ = write!(out, "<tr><td>{}</td><td>{}</td>", escape(&s.name), s.size);
        for x in &s.systems {
            let _ = write!(out, "<td>{}</td>", x.summary());
        }
        let _ = writeln!(out, "</tr>");
    }
    let _ = writeln!(out, "</table>");
}

fn errors(out: &mut String, b: &BenchmarkMetrics) {
    let mut reasons: Vec<&String> = b.error_reasons.iter().flat_map(|(_, r)| r.keys()).collect();
    reasons.sort();
    reasons.dedup();
    if !reasons.is_empty() {
        let _ = write!(out, "<h3>Errors by reason</h3><table><tr><th>reason</th>");
        for (system, _) in &b.error_reasons {
            let _ = write!(out, "<th>{}</th>", escape(system));
        }
        let _ = writeln!(out, "</tr>");
        for reason in reasons {
            let _ = write!(out, "<tr><td>{}</td>", escape(reason));
            for (_, counts) in &b.error_reasons {
                let _ = write!(out, "<td>{}</td>", counts.get(reason).copied().unwrap_or(0));
            }
            let _ = writeln!(out, "</tr>");
        }
        let _ = writeln!(out, "</table>");
    }
    let Some(first) = b.errors.first() else {
        return;
    };
    let _ = writeln!(
        out,
        "<h3>Worst errors of {}</h3><table><tr><th>document</th><th>context</th><th>gold</th>\
         <th>predicted</th><th>why</th><th>margin</th></tr>",
        escape(&first.system)
    );
    for e in &b.errors {
        let predicted = match (&e.predicted, &e.predicted_label) {
            (Some(id), Some(l)) => format!("{id} {l}"),
            _ => "NIL".into(),
        };
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td class=\"ctx\">…{}<span class=\"m\">{}</span>{}…</td>\
             <td>{} {}</td><td>{}</td><td>{}</td><td>{:.3}</td></tr>",
            escape(&e.document),
            escape(&e.left),
            escape(&e.surface),
            escape(&e.right),
            escape(&e.gold),
            escape(&e.gold_label),
            escape(&predicted),
            e.reason.describe(),
            e.margin
        );
    }
    let _ = writeln!(out, "</table>");
}

fn geometry(out: &mut String, m: &ReportMetrics) {
    if m.geometry.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "<h2>Entity embeddings</h2><p>On normalized vectors: alignment is the mean squared \
         distance over KB-linked pairs (lower: linked entities closer), uniformity the log mean \
         of exp(−2·distance²) over random pairs (lower: more spread).</p><table><tr>\
         <th>embedding</th><th>model</th><th>dim</th><th>alignment</th><th>uniformity</th>\
         <th>link-prediction MRR</th></tr>"
    );
    for g in &m.geometry {
        let mut mrr: Vec<String> = g.mrr.iter().map(|(k, v)| format!("{k} {v:.3}")).collect();
        if mrr.is_empty() {
            mrr.push("not measured".into());
        }
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{:.3} ({} pairs)</td><td>{:.3} ({} \
             pairs)</td><td>{}</td></tr>",
            escape(&g.name),
            escape(&g.model),
            g.dim,
            g.alignment,
            g.linked_pairs,
            g.uniformity,
            g.random_pairs,
            escape(&mrr.join(", "))
        );
    }
    let _ = writeln!(out, "</table>");
    let Some(first) = m.geometry.iter().find(|g| !g.norm_by_popularity.is_empty()) else {
        return;
    };
    let bins: Vec<String> = first
        .norm_by_popularity
        .iter()
        .map(|b| format!("{} (n={})", b.bin, b.entities))
        .collect();
    let lines: Vec<Series<f64>> = m
        .geometry
        .iter()
        .map(|g| Series {
            name: g.name.clone(),
            values: g.norm_by_popularity.iter().map(|b| b.mean_norm).collect(),
        })
        .collect();
    let y_max = lines
        .iter()
        .flat_map(|l| l.values.iter().copied())
        .fold(0.0, f64::max);
    let title = "Mean entity vector norm against training occurrences";
    figure(out, curves(title, "norm", y_max, &bins, &lines));
}
