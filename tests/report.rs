//! `tailor eval --report` run as a user would on KORE50 with the prior, the files it writes, the
//! change from an earlier run, and the HTML opened in headless Chromium.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

const KORE50: &str = "../shared/data/eval/elevant/kore50.benchmark.jsonl";

fn tailor(args: &[&str]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_tailor"))
        .args(args)
        .output()
        .expect("run tailor");
    assert!(
        out.status.success(),
        "tailor {args:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
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
