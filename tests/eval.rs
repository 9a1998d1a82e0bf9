//! `tailor eval` run as a user would: the default KB against the real KORE50 gold.

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use common::{ok, s, stderr, tailor};
use serde_json::Value;

const KORE50: &str = "../shared/data/eval/elevant/kore50.benchmark.jsonl";

/// `tailor -q eval --prior-only ARGS`: the prior needs no model, so these runs are quick.
fn eval_prior(args: &[&str]) -> Output {
    let mut all = vec!["-q", "eval", "--prior-only"];
    all.extend(args);
    tailor(&all)
}

/// The prior's evaluation of `gold` on the default KB, its records written to `records`.
fn prior_records(gold: &Path, records: &Path) -> Output {
    eval_prior(&[
        "--kb",
        "kb/default",
        "--gold",
        s(gold),
        "--records",
        s(records),
    ])
}

/// A gold file `name` of one document, "Paris", labelled Q90 over code points `[0, end)`.
fn paris_gold(dir: &Path, name: &str, end: usize) -> PathBuf {
    let gold = dir.join(name);
    let doc = serde_json::json!({"id": 0, "text": "Paris", "labels": [
        {"id": 0, "span": [0, end], "entity_id": "Q90"},
    ]});
    std::fs::write(&gold, format!("{doc}\n")).unwrap();
    gold
}

fn share(v: &Value) -> f64 {
    v["share"].as_f64().expect("share")
}

#[test]
fn eval_kore50_with_the_default_kb() {
    let dir = tempfile::tempdir().unwrap();
    let records = dir.path().join("records.jsonl");
    let out = ok(eval_prior(&[
        "--kb",
        "kb/default",
        "--gold",
        KORE50,
        "--json",
        "--records",
        s(&records),
    ]));
    let report: Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    let b = &report["benchmarks"][0];
    assert_eq!(b["name"], "kore50");
    assert_eq!(b["documents"], 50);
    assert_eq!(b["labels"]["scored_entities"], 143);

    let coverage = &b["coverage"]["mentions"];
    assert_eq!(coverage["total"], 143);
    let in_kb = coverage["hits"].as_u64().unwrap();
    assert!((60..=143).contains(&in_kb), "coverage {coverage}");

    let recall: Vec<(u64, f64, u64)> = b["recall_at"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["k"].as_u64().unwrap(),
                share(r),
                r["total"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(recall.iter().map(|r| r.0).collect::<Vec<_>>(), [1, 5, 30]);
    assert!(
        recall.iter().all(|r| r.2 == in_kb),
        "recall over in-KB gold"
    );
    assert!(recall[0].1 <= recall[1].1 && recall[1].1 <= recall[2].1);
    assert!(recall[2].1 > 0.5, "recall@30 {recall:?}");

    // Gold entities the KB has no name for (Tim Berners-Lee is only in the triples) are counted,
    // and retrieval never finds them.
    let unnamed = &b["coverage"]["unnamed"];
    assert_eq!(unnamed["total"].as_u64(), Some(in_kb));
    let unnamed = unnamed["hits"].as_u64().unwrap();
    let found_at_30 = b["recall_at"][2]["hits"].as_u64().unwrap();
    assert!(
        unnamed > 0,
        "KORE50 names entities the default KB has no label for"
    );
    assert!(
        unnamed <= in_kb - found_at_30,
        "{unnamed} nameless golds, but only {} are missed by retrieval",
        in_kb - found_at_30
    );

    let prior = &b["systems"][0];
    assert_eq!(prior["name"], "prior");
    let gm = &prior["disambiguation"]["in_kb"];
    let (tp, fp, fn_) = (
        gm["tp"].as_u64().unwrap(),
        gm["fp"].as_u64().unwrap(),
        gm["fn"].as_u64().unwrap(),
    );
    assert_eq!(tp + fn_, in_kb, "every in-KB gold mention is a tp or a fn");
    let precision = gm["precision"].as_f64().unwrap();
    assert!((precision - tp as f64 / (tp + fp) as f64).abs() < 1e-9);
    // KORE50 is built to defeat the prior: well above chance, well below perfect.
    let accuracy = gm["recall"].as_f64().unwrap();
    assert!((0.25..0.9).contains(&accuracy), "prior accuracy {accuracy}");
    // A system only ever picks a candidate, so it cannot be right more often than retrieval.
    assert!(
        accuracy <= recall[2].1 + 1e-9,
        "accuracy {accuracy} > recall@30"
    );

    let e2e = &prior["end_to_end"];
    let e2e_f1 = e2e["f1"].as_f64().unwrap();
    assert!((0.1..0.9).contains(&e2e_f1), "end-to-end {e2e}");
    assert_eq!(
        e2e["tp"].as_u64().unwrap() + e2e["fn"].as_u64().unwrap(),
        143,
        "end-to-end recall is over all gold entity mentions"
    );

    // One record per scored gold mention, agreeing with the summary.
    let lines: Vec<Value> = std::fs::read_to_string(&records)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 143);
    let correct = lines
        .iter()
        .filter(|r| r["gold"]["id"] == r["predictions"][0][1]["entity"])
        .count() as u64;
    assert_eq!(correct, tp);
    assert_eq!(
        lines.iter().filter(|r| r["gold_in_kb"] == true).count() as u64,
        in_kb
    );
}

#[test]
fn eval_names_the_bad_gold_record() {
    let dir = tempfile::tempdir().unwrap();
    // the span runs past the text
    let gold = paris_gold(dir.path(), "broken.benchmark.jsonl", 9);
    let out = eval_prior(&["--kb", "kb/default", "--gold", s(&gold)]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("broken.benchmark.jsonl") && err.contains("line 1"),
        "{err}"
    );
    assert!(err.contains("labels[0].span"), "{err}");
    assert_eq!(err.matches(s(&gold)).count(), 1, "the path once: {err}");

    // a line that is not JSON after good ones, in a copy of a real benchmark
    let kore = std::fs::read_to_string(common::root().join(KORE50)).unwrap();
    let mut lines: Vec<&str> = kore.lines().take(3).collect();
    lines.insert(2, "{\"id\": 99, \"text\": ");
    let malformed = dir.path().join("malformed.benchmark.jsonl");
    std::fs::write(&malformed, lines.join("\n") + "\n").unwrap();
    let out = eval_prior(&["--kb", "kb/default", "--gold", s(&malformed)]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("line 3"), "{err}");
    assert_eq!(
        err.matches(s(&malformed)).count(),
        1,
        "the path once: {err}"
    );

    // an empty benchmark, and one benchmark given twice, are refused before anything runs
    let empty = dir.path().join("empty.benchmark.jsonl");
    std::fs::write(&empty, "").unwrap();
    let eval = |gold: &[&str]| {
        let mut args = vec!["--kb", "kb/default", "--gold"];
        args.extend(gold);
        eval_prior(&args)
    };
    let out = eval(&[s(&empty)]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("empty.benchmark.jsonl") && err.contains("no documents"),
        "{err}"
    );
    assert_eq!(err.matches(s(&empty)).count(), 1, "the path once: {err}");
    let out = eval(&[KORE50, KORE50]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("given twice"), "{}", stderr(&out));
}

#[test]
fn a_first_name_gains_the_namesake_the_rest_of_the_document_points_to() {
    let dir = tempfile::tempdir().unwrap();
    let gold = dir.path().join("steve.benchmark.jsonl");
    std::fs::write(
        &gold,
        r#"{"id": 0, "text": "Steve left Apple Inc. in 1985.", "labels": [{"id": 0, "span": [0, 5], "entity_id": "Q19837"}, {"id": 1, "span": [11, 21], "entity_id": "Q312"}]}
"#,
    )
    .unwrap();
    let report = dir.path().join("report");
    let records_of = |extra: &[&str]| -> Vec<Value> {
        let records = dir.path().join("records.jsonl");
        let mut args = vec!["--no-fuzzy", "--kb", "kb/default"];
        args.extend(extra);
        args.extend(["--gold", s(&gold), "--records", s(&records)]);
        args.extend(["--report", s(&report)]);
        ok(eval_prior(&args));
        std::fs::read_to_string(&records)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    };
    let with = records_of(&[]);
    let steve = &with[0];
    let rank = steve["gold_rank"]
        .as_u64()
        .unwrap_or_else(|| panic!("Steve Jobs is a candidate: {steve}"));
    assert_eq!(
        steve["candidates"][rank as usize]["source"], "context",
        "{steve}"
    );
    let prior = &steve["predictions"][0];
    assert_eq!(prior[0], "prior");
    assert!(
        prior[1]["entity"].is_null(),
        "the prior baseline reads no context: {steve}"
    );

    let retrieval = |m: &Value| m["retrieval"].clone();
    let metrics = || -> Value {
        serde_json::from_str(&std::fs::read_to_string(report.join("metrics.json")).unwrap())
            .unwrap()
    };
    assert_eq!(
        retrieval(&metrics()),
        serde_json::json!({"top_k": 30, "fuzzy": false, "context": true, "derived_names": true,
                           "surnames": true})
    );

    let without = records_of(&["--no-context", "--no-derived-names", "--no-surnames"]);
    assert!(without[0]["gold_rank"].is_null(), "{}", without[0]);
    assert_eq!(retrieval(&metrics())["context"], false);
    assert_eq!(retrieval(&metrics())["derived_names"], false);
    assert_eq!(retrieval(&metrics())["surnames"], false);
}

#[test]
fn a_surname_is_an_alias_and_without_it_the_full_name_raises_the_fuzzy_candidate() {
    let dir = tempfile::tempdir().unwrap();
    let gold = dir.path().join("jobs.benchmark.jsonl");
    let text = "Steve Jobs founded Apple Inc. with Steve Wozniak. Jobs left Apple Inc. in 1985.";
    let at = text.find("Jobs left").unwrap();
    let doc = serde_json::json!({"id": 0, "text": text, "labels": [
        {"id": 0, "span": [0, 10], "entity_id": "Q19837"},
        {"id": 1, "span": [at, at + 4], "entity_id": "Q19837"},
    ]});
    std::fs::write(&gold, format!("{doc}\n")).unwrap();
    let run = |extra: &[&str]| -> (String, Vec<Value>) {
        let records = dir.path().join("records.jsonl");
        let mut args = vec!["--kb", "kb/default"];
        args.extend(extra);
        args.extend(["--gold", s(&gold), "--records", s(&records)]);
        let out = ok(eval_prior(&args));
        let lines = std::fs::read_to_string(&records)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        (String::from_utf8_lossy(&out.stdout).into_owned(), lines)
    };
    let gold_source = |r: &Value| {
        let rank = r["gold_rank"].as_u64().expect("the gold is a candidate") as usize;
        r["candidates"][rank]["source"].clone()
    };

    // With surnames among the aliases "Jobs" finds Steve Jobs exactly; without, only fuzzy
    // search does, and the full name before it raises him.
    let (_, surnames) = run(&[]);
    assert_eq!(gold_source(&surnames[1]), "exact", "{}", surnames[1]);

    let (table, with) = run(&["--no-surnames"]);
    let jobs = &with[1];
    assert_eq!(jobs["surface"], "Jobs");
    assert_eq!(gold_source(jobs), "raised", "{jobs}");
    assert!(
        table.contains("gold among them 1 (0 added, 1 raised)"),
        "{table}"
    );

    let (table, without) = run(&["--no-surnames", "--no-context"]);
    assert_eq!(gold_source(&without[1]), "fuzzy", "{}", without[1]);
    assert!(
        table.contains("0 added, 0 raised, gold among them 0"),
        "{table}"
    );
    // The prior baseline scores a raised candidate as the fuzzy one it was.
    let prior_scores = |r: &Value| -> std::collections::HashMap<String, f64> {
        let p = &r["predictions"][0];
        assert_eq!(p[0], "prior");
        let scores = p[1]["scores"].as_array().unwrap();
        r["candidates"]
            .as_array()
            .unwrap()
            .iter()
            .zip(scores)
            .map(|(c, s)| {
                (
                    c["entity"].as_str().unwrap().to_string(),
                    s.as_f64().unwrap(),
                )
            })
            .collect()
    };
    for (a, b) in with.iter().zip(&without) {
        assert_eq!(
            a["predictions"][0][1]["entity"],
            b["predictions"][0][1]["entity"]
        );
        let (a, b) = (prior_scores(a), prior_scores(b));
        for (entity, score) in &a {
            if let Some(before) = b.get(entity) {
                assert_eq!(score, before, "{entity}");
            }
        }
    }
    assert_eq!(
        prior_scores(jobs)["Q19837"],
        prior_scores(&without[1])["Q19837"]
    );
}

#[test]
fn records_go_where_the_user_said_creating_directories_or_fail_before_the_work() {
    let dir = tempfile::tempdir().unwrap();
    let gold = paris_gold(dir.path(), "one.benchmark.jsonl", 5);
    let records = dir.path().join("new/deeper/records.jsonl");
    ok(prior_records(&gold, &records));
    let text = std::fs::read_to_string(&records).unwrap();
    assert_eq!(text.lines().count(), 1, "{text}");
    // records with the user's notes added are the user's now
    let noted = format!("{text}my notes: Paris is right\n");
    std::fs::write(&records, &noted).unwrap();
    let run = prior_records(&gold, &records);
    assert!(!run.status.success(), "the notes were written over");
    assert_eq!(std::fs::read_to_string(&records).unwrap(), noted);

    // A file where the records' directory should be: the error names the path given, not a
    // temporary one, and comes before the KB (here missing) is even loaded.
    std::fs::write(dir.path().join("blocked"), b"").unwrap();
    let blocked = dir.path().join("blocked/records.jsonl");
    let run = eval_prior(&[
        "--kb",
        s(&dir.path().join("no-kb")),
        "--gold",
        s(&gold),
        "--records",
        s(&blocked),
    ]);
    assert!(!run.status.success());
    let err = stderr(&run);
    assert!(err.contains(s(&blocked)), "{err}");
    assert!(
        !err.contains("tailor-partial") && !err.contains("no-kb"),
        "{err}"
    );
}

#[test]
fn a_report_never_replaces_files_no_report_wrote_and_records_are_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let gold = paris_gold(dir.path(), "one.benchmark.jsonl", 5);
    let mine = dir.path().join("mine");
    std::fs::create_dir(&mine).unwrap();
    std::fs::write(mine.join("report.md"), "my own report").unwrap();
    // both refused before the KB (here missing) is loaded
    let no_kb = dir.path().join("no-kb");
    let run = eval_prior(&["--kb", s(&no_kb), "--gold", s(&gold), "--report", s(&mine)]);
    assert!(!run.status.success(), "a user's report.md was written over");
    let err = stderr(&run);
    assert!(err.contains("report.md") && !err.contains("no-kb"), "{err}");
    assert_eq!(
        std::fs::read_to_string(mine.join("report.md")).unwrap(),
        "my own report"
    );
    let run = eval_prior(&["--kb", s(&no_kb), "--gold", s(&gold), "--records", s(&mine)]);
    assert!(!run.status.success());
    let err = stderr(&run);
    assert!(
        err.contains("is a directory") && !err.contains("no-kb"),
        "{err}"
    );
    // a user's file is never replaced by records, whatever its name (README.md was)
    for (name, text) in [
        ("README.md", "{\"mine\": true}\n"),
        ("mine.jsonl", "{\"mine\": true}\n"),
        ("blank-first.jsonl", "\n{\"mine\": true}\n"),
    ] {
        let user = dir.path().join(name);
        std::fs::write(&user, text).unwrap();
        let run = eval_prior(&["--kb", s(&no_kb), "--gold", s(&gold), "--records", s(&user)]);
        assert!(!run.status.success(), "{name} was written over");
        let err = stderr(&run);
        assert!(err.contains(name) && !err.contains("no-kb"), "{err}");
        assert_eq!(std::fs::read_to_string(&user).unwrap(), text);
    }

    // an earlier report is replaced, and other files beside it are left alone
    let report = dir.path().join("report");
    for _ in 0..2 {
        ok(eval_prior(&[
            "--kb",
            "kb/default",
            "--gold",
            s(&gold),
            "--report",
            s(&report),
        ]));
        std::fs::write(report.join("notes.txt"), "kept").unwrap();
    }
    assert_eq!(
        std::fs::read_to_string(report.join("notes.txt")).unwrap(),
        "kept"
    );
}

#[test]
fn file_outputs_never_land_in_another_commands_output() {
    let dir = tempfile::tempdir().unwrap();
    let gold = paris_gold(dir.path(), "one.benchmark.jsonl", 5);
    // a report's metrics.json, and a file inside the KB
    let report = dir.path().join("report");
    ok(eval_prior(&[
        "--kb",
        "kb/default",
        "--gold",
        s(&gold),
        "--report",
        s(&report),
    ]));
    let before = std::fs::read(report.join("metrics.json")).unwrap();
    for records in [report.join("metrics.json"), report.join("records.jsonl")] {
        let run = prior_records(&gold, &records);
        assert!(!run.status.success(), "{} was written", records.display());
        assert!(
            stderr(&run).contains("an evaluation report"),
            "{}",
            stderr(&run)
        );
    }
    assert_eq!(std::fs::read(report.join("metrics.json")).unwrap(), before);
    let run = eval_prior(&[
        "--kb",
        "kb/default",
        "--gold",
        s(&gold),
        "--records",
        "models/default/records.jsonl",
    ]);
    assert!(!run.status.success(), "records went into the model");
    assert!(stderr(&run).contains("is a model"), "{}", stderr(&run));
    assert!(!std::path::Path::new("models/default/records.jsonl").exists());
}
