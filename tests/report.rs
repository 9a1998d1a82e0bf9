//! `tailor eval --report` run as a user would on KORE50 with the prior, the files it writes, the
//! change from an earlier run, and the HTML opened in headless Chromium.

use std::path::Path;
use std::process::{Command, Output};

mod common;

use serde_json::Value;

const KORE50: &str = "../shared/data/eval/elevant/kore50.benchmark.jsonl";

/// Runs tailor and asserts it succeeded.
fn tailor(args: &[&str]) -> Output {
    common::ok(common::tailor(args))
}

fn report(dir: &Path, extra: &[&str]) {
    let dir = dir.to_str().unwrap();
    let mut args = vec![
        "-q",
        "eval",
        "--prior-only",
        "--kb",
        "kb/default",
        "--gold",
        KORE50,
    ];
    args.extend(["--report", dir]);
    args.extend(extra);
    tailor(&args);
}

fn metrics(dir: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("metrics.json")).unwrap()).unwrap()
}

#[test]
fn a_kore50_report_has_slices_plots_errors_and_a_comparison() {
    let tmp = tempfile::tempdir().unwrap();
    let first = tmp.path().join("first");
    report(&first, &[]);

    let m = metrics(&first);
    assert_eq!(m["systems"], serde_json::json!(["prior"]));
    assert_eq!(m["popularity_measure"], "kb_degree", "no model: KB degree");
    let b = &m["benchmarks"][0];
    assert_eq!(b["name"], "kore50");
    let slices = b["slices"].as_array().unwrap();
    let find = |family: &str, name: &str| {
        slices
            .iter()
            .find(|s| s["family"] == family && s["name"] == name)
            .unwrap_or_else(|| panic!("slice {family}/{name} in {slices:?}"))
    };
    let all = find("all", "all");
    let in_kb = all["size"].as_u64().unwrap();
    assert!((60..=143).contains(&in_kb), "in-KB gold mentions: {in_kb}");
    let prior_f1 = b["systems"][0]["in_kb_recall"].as_f64().unwrap();
    assert!((all["systems"][0]["accuracy"].as_f64().unwrap() - prior_f1).abs() < 1e-9);

    for family in ["kb_degree", "ambiguity", "type"] {
        let total: u64 = slices
            .iter()
            .filter(|s| s["family"] == family)
            .map(|s| s["size"].as_u64().unwrap())
            .sum();
        assert_eq!(total, in_kb, "{family} slices partition the in-KB mentions");
    }
    assert!(find("type", "Person")["size"].as_u64().unwrap() > 30);
    // KORE50 is built of partial names and rare entities; the statistics file tags them.
    assert!(find("tag", "PARTIAL_NAME")["size"].as_u64().unwrap() > 30);
    assert!(find("tag", "RARE")["size"].as_u64().unwrap() > 0);
    for s in slices {
        for sys in s["systems"].as_array().unwrap() {
            let (acc, low, high) = (
                sys["accuracy"].as_f64().unwrap(),
                sys["ci95"]["low"].as_f64().unwrap(),
                sys["ci95"]["high"].as_f64().unwrap(),
            );
            assert!(low <= acc && acc <= high, "interval of {s}");
        }
    }
    // Every in-KB mention the prior got wrong is an error with an in-KB reason.
    let reasons = &b["error_reasons"][0];
    assert_eq!(reasons[0], "prior");
    let in_kb_errors: u64 = reasons[1]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(r, _)| !["gold not in KB", "NIL gold linked"].contains(&r.as_str()))
        .map(|(_, n)| n.as_u64().unwrap())
        .sum();
    let correct = all["systems"][0]["correct"].as_u64().unwrap();
    assert_eq!(in_kb_errors, in_kb - correct, "{reasons}");
    let errors = b["errors"].as_array().unwrap();
    assert!(!errors.is_empty());
    for e in errors {
        let reason = e["reason"].as_str().unwrap();
        assert!(
            [
                "no_candidate",
                "gold_not_in_kb",
                "nil_predicted",
                "nil_gold_linked",
                "wrong_type",
                "wrong_entity_same_type"
            ]
            .contains(&reason),
            "{e}"
        );
        assert!(
            !e["left"].as_str().unwrap().is_empty() || !e["right"].as_str().unwrap().is_empty()
        );
    }

    let html = std::fs::read_to_string(first.join("report.html")).unwrap();
    assert!(
        html.matches("<svg").count() >= 4,
        "recall, coverage, slices, popularity plots"
    );
    assert!(!html.contains("plot failed"));
    let md = std::fs::read_to_string(first.join("report.md")).unwrap();
    assert!(
        md.contains("## kore50") && md.contains("| tag | PARTIAL_NAME |"),
        "{md}"
    );

    // The same run compared with itself changes nothing, slice by slice.
    let second = tmp.path().join("second");
    let old = first.join("metrics.json");
    report(&second, &["--compare", old.to_str().unwrap()]);
    let md = std::fs::read_to_string(second.join("report.md")).unwrap();
    assert!(md.contains("## Change from the earlier run"));
    let rows: Vec<&str> = md.lines().filter(|l| l.starts_with("| kore50 |")).collect();
    assert_eq!(rows.len(), slices.len());
    assert!(rows.iter().all(|r| r.contains("| +0.0 |")), "{rows:?}");
    assert_eq!(
        metrics(&second)["benchmarks"],
        m["benchmarks"],
        "seeded: same intervals"
    );
}

#[test]
fn the_html_report_renders_in_headless_chromium() {
    let found = Command::new("chromium").arg("--version").output();
    assert!(
        found.as_ref().is_ok_and(|o| o.status.success()),
        "chromium is not installed: run `apt-get update && apt-get install -y chromium` \
         (scripts/test.sh does)"
    );
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("report");
    report(&dir, &[]);
    let page = std::fs::canonicalize(dir.join("report.html")).unwrap();
    let profile = tmp.path().join("profile");
    let out = Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("--dump-dom")
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("run chromium");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "chromium failed: {stderr}");
    let dom = String::from_utf8_lossy(&out.stdout);
    assert!(
        dom.matches("<svg").count() >= 4,
        "SVG plots in the DOM:\n{dom:.2000}"
    );
    assert!(
        dom.contains("<rect") && dom.contains("<text"),
        "the plots have bars and text"
    );
    let console: Vec<&str> = stderr.lines().filter(|l| l.contains("CONSOLE")).collect();
    assert!(console.is_empty(), "console messages: {console:?}");
}

/// The report's model path: popularity from the model's training counts and the geometry of its
/// embeddings. About 30 s in a debug build (embedding, training and encoding KORE50 with a tiny
/// model): the only test that covers these.
#[test]
fn a_report_with_a_tiny_model_slices_by_training_counts_and_diagnoses_embeddings() {
    let tmp = tempfile::tempdir().unwrap();
    let s = |p: &Path| p.to_str().unwrap().to_string();
    let dir = tmp.path().join("report");
    let kg = common::small_embeddings(tmp.path());
    let model = common::small_model(
        tmp.path(),
        &kg,
        &[
            "--max-examples",
            "200",
            "--max-extracts",
            "5",
            "--holdout",
            "0.15",
            "--epochs",
            "1",
        ],
    );
    tailor(&[
        "-q",
        "eval",
        "--kb",
        "kb/default",
        "--no-fuzzy",
        "--no-ablations",
        "--model",
        &s(&model),
        "--gold",
        KORE50,
        "--report",
        &s(&dir),
    ]);

    let m = metrics(&dir);
    assert_eq!(m["systems"], serde_json::json!(["prior", "model"]));
    assert_eq!(m["popularity_measure"], "popularity");
    let slices = m["benchmarks"][0]["slices"].as_array().unwrap();
    let popularity: Vec<&Value> = slices
        .iter()
        .filter(|s| s["family"] == "popularity")
        .collect();
    let sizes: u64 = popularity.iter().map(|s| s["size"].as_u64().unwrap()).sum();
    let all = slices.iter().find(|s| s["family"] == "all").unwrap();
    assert_eq!(
        sizes,
        all["size"].as_u64().unwrap(),
        "popularity bins partition the mentions"
    );
    assert!(
        popularity.iter().any(|s| s["name"] == "unseen (0)"),
        "{popularity:?}"
    );

    let g = &m["geometry"][0];
    assert_eq!(g["name"], "transe");
    let (alignment, uniformity) = (
        g["alignment"].as_f64().unwrap(),
        g["uniformity"].as_f64().unwrap(),
    );
    assert!((0.0..=4.0).contains(&alignment), "{g}");
    assert!((-8.0..=0.0).contains(&uniformity), "{g}");
    assert!(g["linked_pairs"].as_u64().unwrap() > 1000);
    let bins = g["norm_by_popularity"].as_array().unwrap();
    let counted: u64 = bins.iter().map(|b| b["entities"].as_u64().unwrap()).sum();
    let manifest = std::fs::read_to_string(model.join("kg/transe/manifest.json")).unwrap();
    let embedded = serde_json::from_str::<Value>(&manifest).unwrap()["entities"].as_u64();
    assert_eq!(Some(counted), embedded, "every embedded entity in one bin");
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    assert!(html.contains("Entity embeddings") && html.matches("<svg").count() >= 5);
}
