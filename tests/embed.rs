//! `tailor embed` as a user runs it: training on the real CoDEx-S splits, then `embed eval`.

use std::path::{Path, PathBuf};

mod common;
use common::{s, tailor};

use tailor::embed::{Embeddings, ModelKind};

fn codex_s(split: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/data/kb/codex/triples/codex-s")
        .join(format!("{split}.txt"))
}

fn size(p: &Path) -> u64 {
    std::fs::metadata(p).unwrap().len()
}

#[test]
fn trains_on_codex_s_and_evaluates() {
    let dir = tempfile::tempdir().unwrap();
    for model in ["transe", "hyperbolic"] {
        let out = dir.path().join(model);
        let (tr, va, te) = (codex_s("train"), codex_s("valid"), codex_s("test"));
        let args = [
            "embed",
            "--model",
            model,
            "--train",
            s(&tr),
            "--valid",
            s(&va),
            "--test",
            s(&te),
            "--dim",
            "8",
            "--epochs",
            "2",
            "--negatives",
            "2",
            "--valid-sample",
            "200",
            "--out",
            s(&out),
            "--json",
        ];
        let run = tailor(&args);
        assert!(
            run.status.success(),
            "{}",
            String::from_utf8_lossy(&run.stderr)
        );
        let manifest: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
        let mrr = manifest["metrics"]["test"]["mrr"].as_f64().unwrap();
        // 2,034 entities: a random ranking scores about 0.004
        assert!(mrr > 0.005 && mrr <= 1.0, "{model}: test MRR {mrr}");
        assert_eq!(manifest["epochs"], 2);
        assert!(manifest["history"][1]["valid"]["mrr"].is_number());

        let emb = Embeddings::load(&out).unwrap();
        assert_eq!(emb.dim(), 8);
        let first = emb.entity_ids()[0].clone();
        assert_eq!(emb.entity(&first).unwrap().len(), 8);
        assert_eq!(emb.entity_tangent(&first).unwrap().len(), 8);
        if model == "hyperbolic" {
            assert_eq!(emb.kind(), ModelKind::Hyperbolic);
            assert!(emb.curvature().unwrap() > 0.0);
            let ball: f32 = emb.entity(&first).unwrap().iter().map(|x| x * x).sum();
            assert!(ball < 1.0 / emb.curvature().unwrap());
        }
        assert!(dir
            .path()
            .join(format!("{model}.checkpoint.safetensors"))
            .exists());

        let ev = tailor(&[
            "embed",
            "eval",
            "--embeddings",
            s(&out),
            "--test",
            s(&te),
            "--valid",
            s(&va),
            "--train",
            s(&tr),
            "--json",
        ]);
        assert!(
            ev.status.success(),
            "{}",
            String::from_utf8_lossy(&ev.stderr)
        );
        let m: serde_json::Value = serde_json::from_slice(&ev.stdout).unwrap();
        assert!(
            (m["mrr"].as_f64().unwrap() - mrr).abs() < 1e-9,
            "eval matches training's test"
        );
        assert_eq!(m["rankings"], 2 * 1828);

        // the same run stored as f16 reads back as the f32 tables, rounded
        let half_out = dir.path().join(format!("{model}-half"));
        // (training only: the splits and their rankings would only repeat the checks above)
        let mut half_args: Vec<&str> = args.to_vec();
        for flag in ["--valid", "--test", "--out"] {
            let at = half_args.iter().position(|a| *a == flag).unwrap();
            half_args.drain(at..at + 2);
        }
        half_args.extend(["--out", s(&half_out), "--half"]);
        let run = tailor(&half_args);
        assert!(
            run.status.success(),
            "{}",
            String::from_utf8_lossy(&run.stderr)
        );
        let half = Embeddings::load(&half_out).unwrap();
        assert_eq!(half.entity_ids(), emb.entity_ids());
        for id in emb.entity_ids().iter().take(200) {
            for (getter, what) in [
                (
                    Embeddings::entity as for<'a> fn(&'a Embeddings, &str) -> Option<&'a [f32]>,
                    "ball",
                ),
                (Embeddings::entity_tangent, "tangent"),
            ] {
                let (a, b) = (getter(&emb, id).unwrap(), getter(&half, id).unwrap());
                for (x, y) in a.iter().zip(b) {
                    assert!(
                        (x - y).abs() <= 2e-3 * x.abs() + 1e-4,
                        "{model} {what} {id}"
                    );
                }
            }
        }
        let (full, small) = (
            size(&out.join("entities.safetensors")),
            size(&half_out.join("entities.safetensors")),
        );
        // half the bytes per value, and one table instead of two for the hyperbolic model; the
        // id list (a fifth of the f32 TransE file at dim 8) stays
        let limit = if model == "hyperbolic" { 0.4 } else { 0.65 };
        assert!(
            (small as f64) < limit * full as f64,
            "{model}: {small} vs {full}"
        );
    }
}

#[test]
fn a_malformed_triple_file_names_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.txt");
    std::fs::write(&bad, "Q1\tP31\tQ5\nQ2\tP31\n").unwrap();
    let run = tailor(&[
        "embed",
        "--train",
        s(&bad),
        "--out",
        s(&dir.path().join("o")),
    ]);
    assert!(!run.status.success());
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(err.contains("bad.txt:2: tail"), "{err}");
}

#[test]
fn rates_margins_and_temperatures_out_of_range_are_refused_before_anything_runs() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("o");
    for (flag, value) in [
        ("--lr", "0"),
        ("--lr", "-1"),
        ("--lr", "nan"),
        ("--lr", "inf"),
        ("--margin", "-1"),
        ("--margin", "inf"),
        ("--temperature", "nan"),
        ("--temperature", "-2"),
    ] {
        let arg = format!("{flag}={value}");
        let run = tailor(&[
            "embed",
            "--train",
            s(&codex_s("train")),
            &arg,
            "--out",
            s(&out),
        ]);
        assert!(!run.status.success(), "{flag} {value} was accepted");
        let err = String::from_utf8_lossy(&run.stderr);
        assert!(
            err.contains(flag) && err.contains("invalid value"),
            "{flag} {value}: {err}"
        );
        assert!(!out.exists());
    }
}

#[test]
fn an_interrupted_run_is_not_started_over_without_resume() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("transe");
    let checkpoint = dir.path().join("transe.checkpoint.safetensors");
    let train = codex_s("train");
    let embed = |extra: &[&str]| {
        let mut args = vec![
            "-q",
            "embed",
            "--train",
            s(&train),
            "--dim",
            "4",
            "--negatives",
            "1",
            "--out",
            s(&out),
        ];
        args.extend_from_slice(extra);
        tailor(&args)
    };
    let ok = |run: std::process::Output| {
        assert!(
            run.status.success(),
            "{}",
            String::from_utf8_lossy(&run.stderr)
        );
    };
    ok(embed(&["--epochs", "1"]));
    assert!(checkpoint.exists());
    // the same command again: the checkpoint is that of the finished run in --out
    ok(embed(&["--epochs", "1"]));
    // so is it after a resumed run that added epochs
    ok(embed(&["--epochs", "2", "--resume"]));
    ok(embed(&["--epochs", "2"]));

    // a run killed before it wrote its output leaves only the checkpoint
    std::fs::remove_dir_all(&out).unwrap();
    let kept = std::fs::read(&checkpoint).unwrap();
    let run = embed(&["--epochs", "3"]);
    assert!(
        !run.status.success(),
        "the interrupted run was started over"
    );
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(
        err.contains(
            "transe.checkpoint.safetensors exists, as an interrupted training run leaves it"
        ) && err.contains("pass --resume to continue that run, or remove it"),
        "{err}"
    );
    assert_eq!(std::fs::read(&checkpoint).unwrap(), kept, "left as it was");
    assert!(!out.exists());
    // its output, continued, is that of the run
    ok(embed(&["--epochs", "2", "--resume"]));
    assert_eq!(Embeddings::load(&out).unwrap().manifest.epochs, 2);
}
