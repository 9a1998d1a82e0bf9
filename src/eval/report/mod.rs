//! The evaluation report: a directory with `report.html` (self-contained, plots as inline SVG),
//! `report.md` (the summary tables) and `metrics.json` (everything, for programs and for a later
//! `--compare`).
//!
//! In: the benchmark results of one `tailor eval` run, their gold sets, the KB, the slice inputs
//! and, where a model was loaded, its embedding diagnostics. Out: a [`ReportMetrics`] and the
//! three files, each written aside and renamed into place.

mod compare;
mod errors;
mod html;
mod markdown;
mod plots;

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::error::EvalError;
use super::geometry::Geometry;
use super::slice_inputs::read_tags;
use super::slices::{pool, slice, SliceConfig, SliceInputs, SliceResult};
use super::{BenchmarkResult, ContextCandidates, GoldSet};
use crate::kb::Kb;
use crate::retrieve::RetrievalSettings;

pub use compare::{compare, SliceChange};
pub use errors::{worst_errors, ErrorRow, Reason};

pub const METRICS_FORMAT_VERSION: u32 = 1;
/// Rows of the worst-error table per benchmark.
pub const ERROR_ROWS: usize = 25;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SystemMetrics {
    pub name: String,
    pub in_kb_precision: f64,
    pub in_kb_recall: f64,
    pub in_kb_f1: f64,
    /// Gold NIL mentions predicted NIL; `None` when the benchmark has none.
    pub nil_accuracy: Option<f64>,
    pub end_to_end_f1: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BenchmarkMetrics {
    pub name: String,
    pub documents: usize,
    pub mentions: usize,
    /// Gold entity mentions (and distinct entities) the KB has.
    pub coverage_mentions: f64,
    pub coverage_entities: f64,
    /// Share of the in-KB gold mentions whose entity has no label or alias in the KB.
    #[serde(default)]
    pub coverage_unnamed: f64,
    /// `(k, recall@k)` over in-KB gold mentions.
    pub recall_at: Vec<(usize, f64)>,
    pub systems: Vec<SystemMetrics>,
    pub slices: Vec<SliceResult>,
    /// The worst errors of the model where one is loaded, else of the last system.
    #[serde(default)]
    pub errors: Vec<ErrorRow>,
    /// Per system, its errors counted by reason (`no candidate`, `NIL predicted`, …).
    #[serde(default)]
    pub error_reasons: Vec<(String, BTreeMap<String, u64>)>,
    /// Candidates the document's context added or raised, and how often the gold was one.
    #[serde(default)]
    pub context_candidates: ContextCandidates,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportMetrics {
    pub format_version: u32,
    pub systems: Vec<String>,
    /// `popularity` (training occurrences) when a model's counts were given, else `kb_degree`.
    pub popularity_measure: String,
    pub benchmarks: Vec<BenchmarkMetrics>,
    /// The `all` and popularity slices over every benchmark's mentions together (empty for a
    /// single benchmark).
    #[serde(default)]
    pub pooled: Vec<SliceResult>,
    #[serde(default)]
    pub geometry: Vec<Geometry>,
    /// The candidates every system chose among (`None` in reports written before it was kept).
    #[serde(default)]
    pub retrieval: Option<RetrievalSettings>,
}

/// Slices every benchmark and gathers what the report shows; `retrieval` is what proposed the
/// candidates of `results`.
pub fn build(
    results: &[BenchmarkResult],
    golds: &[GoldSet],
    kb: &Kb,
    inputs: &mut SliceInputs,
    cfg: &SliceConfig,
    geometry: Vec<Geometry>,
    retrieval: RetrievalSettings,
) -> Result<ReportMetrics, EvalError> {
    let mut benchmarks = Vec::with_capacity(results.len());
    for (r, g) in results.iter().zip(golds) {
        inputs.tags = read_tags(&g.path)?;
        let systems = r
            .systems
            .iter()
            .map(|s| SystemMetrics {
                name: s.name.clone(),
                in_kb_precision: s.disambiguation.in_kb.precision,
                in_kb_recall: s.disambiguation.in_kb.recall,
                in_kb_f1: s.disambiguation.in_kb.f1,
                nil_accuracy: (s.disambiguation.nil.total > 0)
                    .then_some(s.disambiguation.nil.share),
                end_to_end_f1: s.end_to_end.f1,
            })
            .collect();
        let primary = r
            .systems
            .iter()
            .position(|s| s.name == "model")
            .or(r.systems.len().checked_sub(1));
        let errors = primary
            .map(|s| worst_errors(r, g, kb, s, ERROR_ROWS))
            .unwrap_or_default();
        let error_reasons = (0..r.systems.len())
            .map(|s| {
                let mut counts = BTreeMap::new();
                for e in worst_errors(r, g, kb, s, usize::MAX) {
                    *counts.entry(e.reason.describe().to_string()).or_insert(0) += 1;
                }
                (r.systems[s].name.clone(), counts)
            })
            .collect();
        benchmarks.push(BenchmarkMetrics {
            name: r.name.clone(),
            documents: r.documents,
            mentions: r.mentions.len(),
            coverage_mentions: r.coverage.mentions.share,
            coverage_entities: r.coverage.entities.share,
            coverage_unnamed: r.coverage.unnamed.share,
            recall_at: r.recall_at.iter().map(|x| (x.k, x.share.share)).collect(),
            systems,
            slices: slice(r, inputs, cfg),
            errors,
            error_reasons,
            context_candidates: r.context_candidates,
        });
    }
    let popularity_measure = if inputs.counts.is_some() {
        "popularity"
    } else {
        "kb_degree"
    };
    let pooled = if benchmarks.len() > 1 {
        let per: Vec<&[SliceResult]> = benchmarks.iter().map(|b| b.slices.as_slice()).collect();
        pool(results, &per, popularity_measure, cfg)
    } else {
        Vec::new()
    };
    Ok(ReportMetrics {
        format_version: METRICS_FORMAT_VERSION,
        systems: results
            .first()
            .map(|r| r.systems.iter().map(|s| s.name.clone()).collect())
            .unwrap_or_default(),
        popularity_measure: popularity_measure.into(),
        benchmarks,
        pooled,
        geometry,
        retrieval: Some(retrieval),
    })
}

/// Reads an earlier run's `metrics.json`.
pub fn read_metrics(path: &Path) -> Result<ReportMetrics, EvalError> {
    let text = std::fs::read_to_string(path).map_err(|source| EvalError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    serde_json::from_str(&text)
        .map_err(|e| EvalError::bad(path, format!("line {}", e.line()), "metrics", e.to_string()))
}

fn write_aside(dir: &Path, name: &str, bytes: &[u8]) -> Result<(), EvalError> {
    let path = dir.join(name);
    let io = |source| EvalError::Io {
        path: path.clone(),
        source: crate::persist::plain(source),
    };
    let (mut tmp, _partial) = crate::persist::aside(&path, ".tailor-partial-").map_err(io)?;
    std::io::Write::write_all(&mut tmp, bytes).map_err(io)?;
    crate::persist::persist(tmp, &path).map_err(io)
}

/// Writes `report.html`, `report.md` and `metrics.json` into `dir` (created if missing), with
/// the change from `old` slice by slice where given.
/// The files a report writes into its directory.
const REPORT_FILES: [&str; 3] = ["metrics.json", "report.md", "report.html"];

/// Refuses a report directory whose report files would replace someone else's: it may be new,
/// hold other files, or hold an earlier report (its `metrics.json` reads as one), but a
/// `report.md` of the user's is not written over.
pub fn check_report_dir(dir: &Path) -> Result<(), EvalError> {
    let bad = |message: String| EvalError::BadInput {
        path: dir.to_path_buf(),
        message,
    };
    if dir.exists() && !dir.is_dir() {
        return Err(bad("is a file: a report is a directory of files".into()));
    }
    let present: Vec<&str> = REPORT_FILES
        .into_iter()
        .filter(|name| dir.join(name).exists())
        .collect();
    if present.is_empty() {
        return Ok(());
    }
    let metrics = dir.join(REPORT_FILES[0]);
    if metrics.is_file() && read_metrics(&metrics).is_ok() {
        return Ok(());
    }
    Err(bad(format!(
        "holds {} that no earlier tailor report wrote (no readable metrics.json), which the \
         report would replace: name another directory",
        present.join(", ")
    )))
}

pub fn write(
    dir: &Path,
    metrics: &ReportMetrics,
    old: Option<&ReportMetrics>,
) -> Result<(), EvalError> {
    check_report_dir(dir)?;
    std::fs::create_dir_all(dir).map_err(|source| EvalError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let changes = old.map(|o| compare(o, metrics)).unwrap_or_default();
    let json = serde_json::to_vec_pretty(metrics).expect("metrics serialize");
    write_aside(dir, "metrics.json", &json)?;
    write_aside(
        dir,
        "report.md",
        markdown::render(metrics, &changes).as_bytes(),
    )?;
    write_aside(
        dir,
        "report.html",
        html::render(metrics, &changes).as_bytes(),
    )?;
    tracing::info!(
        dir = %dir.display(),
        benchmarks = metrics.benchmarks.len(),
        "report written"
    );
    Ok(())
}
