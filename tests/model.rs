//! The disambiguation model as a user trains and runs it: small KG embeddings of the default KB,
//! a small `tailor train`, then `link` and `eval` with the model it wrote.

mod common;

use common::{ok, s, small_embeddings, small_model, stderr, tailor};

#[test]
fn a_small_training_run_beats_the_prior_on_its_held_out_mentions() {
    let dir = tempfile::tempdir().unwrap();
    let kg = small_embeddings(dir.path());
    let model = small_model(
        dir.path(),
        &kg,
        &[
            "--max-examples",
            "2500",
            "--max-extracts",
            "30",
            "--holdout",
            "0.15",
            "--epochs",
            "10",
            "--ablations",
        ],
    );

    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(model.join("config.json")).unwrap()).unwrap();
    let history = config["history"].as_array().unwrap();
    assert_eq!(history.len(), 10, "one record per epoch");
    let weak = &config["weak_labels"];
    assert_eq!(weak["max_examples"], 2500, "{weak}");
    assert_eq!(weak["max_extracts"], 30, "{weak}");
    assert_eq!(weak["seed"], 17, "{weak}");
    assert!(
        weak["hard_names"].is_number() && weak["holdout"].is_number(),
        "{weak}"
    );
    let retrieval = &config["retrieval"];
    assert_eq!(retrieval["fuzzy"], false, "{retrieval}");
    assert_eq!(retrieval["context"], true, "{retrieval}");
    assert_eq!(config["options"]["hard_repeats"], 1);
    let loss = |i: usize| history[i]["loss"].as_f64().unwrap();
    assert!(
        loss(9) < loss(0),
        "training lowers the loss: {} -> {}",
        loss(0),
        loss(9)
    );
    let best = config["best_epoch"]
        .as_u64()
        .expect("the best epoch is recorded") as usize;
    let last = &history[best - 1]["holdout"];
    let (n, model_ok, prior_ok) = (
        last["mentions"].as_u64().unwrap(),
        last["model_correct"].as_u64().unwrap(),
        last["prior_correct"].as_u64().unwrap(),
    );
    assert!(
        n >= 50,
        "enough held-out mentions not labelled by the prior: {n}"
    );
    assert!(
        model_ok > prior_ok,
        "the model beats the prior on held-out mentions: {model_ok} vs {prior_ok} of {n}"
    );
    for file in [
        "model.safetensors",
        "entity_counts.json",
        "kg/transe/manifest.json",
    ] {
        assert!(
            model.join(file).exists(),
            "{file} is in the model directory"
        );
    }
    assert!(model.join("ablations/text-only/config.json").exists());
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(model.join("model.safetensors"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o644, "weights others can read: {mode:o}");
    }
    assert!(
        !dir.path().join("model.partial").exists(),
        "no staging left behind"
    );

    let out = dir.path().join("out.jsonl");
    ok(tailor(&[
        "link",
        "--no-fuzzy",
        "--model",
        s(&model),
        "examples/corpus/city.txt",
        "--out",
        s(&out),
    ]));
    let doc: serde_json::Value =
        serde_json::from_str(std::fs::read_to_string(&out).unwrap().trim()).unwrap();
    let mentions = doc["mentions"].as_array().unwrap();
    assert!(!mentions.is_empty());
    for m in mentions.iter().filter(|m| !m["entity"].is_null()) {
        let score = m["score"].as_f64().unwrap();
        assert!(
            (0.0..=1.0).contains(&score),
            "scores are probabilities: {score}"
        );
    }

    // Documents linked together share encoder batches; each must come out as it does alone.
    let link_files = |files: &[&str], out: &std::path::Path| -> Vec<serde_json::Value> {
        let mut args = vec!["link", "--no-fuzzy", "--model", s(&model)];
        args.extend_from_slice(files);
        args.extend_from_slice(&["--out", s(out)]);
        ok(tailor(&args));
        std::fs::read_to_string(out)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    };
    let pair = ["examples/corpus/city.txt", "examples/corpus/film.txt"];
    let together = link_files(&pair, &dir.path().join("together.jsonl"));
    for (i, file) in pair.iter().enumerate() {
        let alone = &link_files(&[file], &dir.path().join("alone.jsonl"))[0];
        let (a, b) = (
            alone["mentions"].as_array().unwrap(),
            together[i]["mentions"].as_array().unwrap(),
        );
        assert_eq!(a.len(), b.len(), "{file}");
        for (x, y) in a.iter().zip(b) {
            assert_eq!(x["entity"], y["entity"], "{file}: {x} vs {y}");
            let (sx, sy) = (x["score"].as_f64(), y["score"].as_f64());
            assert!(
                sx.zip(sy).is_none_or(|(p, q)| (p - q).abs() < 1e-4),
                "{file}: {sx:?} vs {sy:?}"
            );
        }
    }

    let eval = ok(tailor(&[
        "-q",
        "eval",
        "--no-fuzzy",
        "--model",
        s(&model),
        "--json",
        "--gold",
        "../shared/data/eval/elevant/kore50.benchmark.jsonl",
    ]));
    let report: serde_json::Value = serde_json::from_slice(&eval.stdout).unwrap();
    let text = report.to_string();
    for system in ["\"prior\"", "\"model\"", "\"text-only\"", "\"kg-only\""] {
        assert!(text.contains(system), "{system} is evaluated");
    }
}

#[test]
fn a_model_of_another_kb_or_a_missing_one_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.jsonl");
    let missing = dir.path().join("no-model");
    let run = tailor(&[
        "link",
        "--no-fuzzy",
        "--model",
        s(&missing),
        "examples/corpus/city.txt",
        "--out",
        s(&out),
    ]);
    assert!(!run.status.success());
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(
        err.contains("no-model") && err.contains("config.json"),
        "{err}"
    );
    assert!(!out.exists());

    let run = tailor(&[
        "train",
        "--embeddings",
        s(&missing),
        "--out",
        s(&dir.path().join("m")),
    ]);
    assert!(!run.status.success());
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(err.contains("no such embeddings directory"), "{err}");
}

#[test]
fn training_options_out_of_range_are_refused_before_anything_runs() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("m");
    for (flag, value) in [
        ("--batch-size", "0"),
        ("--epochs", "0"),
        ("--kg-dropout", "5"),
        ("--prior-dropout", "NaN"),
        ("--hard-names", "1.5"),
        ("--lr", "-1"),
        ("--lr", "0"),
        ("--lr", "nan"),
        ("--lr", "inf"),
        ("--relations-in-text", "33"),
    ] {
        let run = tailor(&[
            "train",
            "--embeddings",
            "models/default/kg/transe",
            &format!("{flag}={value}"),
            "--out",
            s(&out),
        ]);
        assert!(!run.status.success(), "{flag} {value} was accepted");
        let err = stderr(&run);
        assert!(
            err.contains(flag) && err.contains("invalid value"),
            "{flag} {value}: {err}"
        );
        assert!(!out.exists() && !dir.path().join("m.partial").exists());
    }
}

#[test]
fn a_split_too_small_to_train_on_is_refused_naming_the_settings() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("m");
    let run = tailor(&[
        "train",
        "--no-fuzzy",
        "--embeddings",
        "models/default/kg/transe",
        "--max-examples",
        "1",
        "--max-extracts",
        "5",
        "--out",
        s(&out),
    ]);
    assert!(!run.status.success(), "one mention was trained on");
    let err = stderr(&run);
    assert!(
        err.contains("1 training and 0 held-out mentions") && err.contains("at least 10 and 2"),
        "{err}"
    );
    assert!(
        err.contains("--max-examples, now 1") && err.contains("--holdout, now 0.05"),
        "{err}"
    );
    assert!(!out.exists() && !dir.path().join("m.partial").exists());
}

/// `tailor train` at the smallest size that still runs, into `out`, with `extra` flags.
fn train_tiny(out: &std::path::Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec![
        "train",
        "--no-fuzzy",
        "--embeddings",
        "models/default/kg/transe",
        "--max-examples",
        "200",
        "--max-extracts",
        "5",
        "--epochs",
        "1",
    ];
    args.extend_from_slice(extra);
    args.extend(["--out", s(out)]);
    tailor(&args)
}

/// The names in `dir`, sorted.
fn names_in(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn a_refused_resume_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let kb = dir.path().join("kb");
    std::fs::create_dir(&kb).unwrap();
    for entry in std::fs::read_dir(common::root().join("kb/default")).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() && !path.file_name().unwrap().to_string_lossy().starts_with('.') {
            std::fs::copy(&path, kb.join(path.file_name().unwrap())).unwrap();
        }
    }
    // an interrupted run: its settings (those of the shipped model) and its last weights
    let out = dir.path().join("m");
    let staging = dir.path().join("m.partial");
    std::fs::create_dir(&staging).unwrap();
    std::fs::copy(
        common::root().join("models/default/config.json"),
        staging.join("config.json"),
    )
    .unwrap();
    std::fs::write(staging.join("last.safetensors"), b"weights").unwrap();
    let kb_before = names_in(&kb);

    let run = train_tiny(
        &out,
        &["--kb", s(&kb), "--relations-in-text", "2", "--resume"],
    );
    assert!(!run.status.success(), "a changed run was resumed");
    let err = stderr(&run);
    assert!(err.contains("cannot resume"), "{err}");
    assert_eq!(
        names_in(&kb),
        kb_before,
        "no cache for the refused settings"
    );
    assert_eq!(
        names_in(&staging),
        ["config.json", "last.safetensors"],
        "the interrupted run is left as it was"
    );
    assert_eq!(
        std::fs::read(staging.join("last.safetensors")).unwrap(),
        b"weights"
    );
    assert!(!out.exists());
}

#[test]
fn a_stray_partial_directory_is_not_resumed() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("m");
    let staging = dir.path().join("m.partial");
    std::fs::create_dir(&staging).unwrap();
    let resume = || train_tiny(&out, &["--resume"]);
    let run = resume();
    assert!(!run.status.success(), "an empty directory was resumed");
    let err = stderr(&run);
    assert!(
        err.contains(&format!(
            "{}: cannot resume: not a checkpoint of `tailor train`: it holds no config.json and \
             last.safetensors",
            staging.display()
        )) && err.contains("to start over"),
        "{err}"
    );

    std::fs::write(staging.join("notes.txt"), b"mine").unwrap();
    let run = resume();
    assert!(!run.status.success(), "a directory of notes was resumed");
    assert!(
        stderr(&run).contains("it holds no config.json"),
        "{}",
        stderr(&run)
    );
    assert_eq!(
        names_in(&staging),
        ["notes.txt"],
        "the directory is left as it was"
    );
    assert!(!out.exists());
}

#[test]
fn resuming_nothing_does_not_replace_a_finished_model() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("m");
    std::fs::create_dir(&out).unwrap();
    for file in ["config.json", "entity_counts.json"] {
        std::fs::copy(
            common::root().join("models/default").join(file),
            out.join(file),
        )
        .unwrap();
    }
    let run = train_tiny(&out, &["--resume"]);
    assert!(!run.status.success(), "a finished model was trained over");
    let err = stderr(&run);
    assert!(
        err.contains("no interrupted run to resume") && err.contains("without --resume"),
        "{err}"
    );
    assert_eq!(names_in(&out), ["config.json", "entity_counts.json"]);
}

#[test]
fn a_run_without_resume_leaves_an_interrupted_run_alone() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("m");
    // the checkpoints of a run that was killed (or a directory of the user's of that name)
    let staging = dir.path().join("m.partial");
    std::fs::create_dir(&staging).unwrap();
    std::fs::write(staging.join("last.safetensors"), b"weights").unwrap();
    let run = train_tiny(&out, &[]);
    assert!(
        !run.status.success(),
        "the interrupted run was started over"
    );
    let err = stderr(&run);
    assert!(
        err.contains("m.partial exists, as an interrupted training run leaves it")
            && err.contains("pass --resume to continue that run, or remove it"),
        "{err}"
    );
    assert_eq!(names_in(&staging), ["last.safetensors"]);
    assert_eq!(
        std::fs::read(staging.join("last.safetensors")).unwrap(),
        b"weights"
    );
    assert!(!out.exists());
}

/// Copies the files of `from` into `to`, one level of directories deep.
fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            std::fs::copy(&path, to.join(path.file_name().unwrap())).unwrap();
        }
    }
}

#[test]
fn embeddings_of_another_kb_in_a_model_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // the shipped model, without its ablations
    let model = d.join("model");
    copy_dir(&common::root().join("models/default"), &model);
    for kg in ["transe", "hyperbolic"] {
        let from = common::root().join("models/default/kg").join(kg);
        copy_dir(&from, &model.join("kg").join(kg));
    }
    let link = || {
        let out = d.join("out.jsonl");
        let run = tailor(&[
            "link",
            "--no-fuzzy",
            "--model",
            s(&model),
            "examples/corpus/city.txt",
            "--out",
            s(&out),
        ]);
        assert!(!run.status.success(), "linked with another KB's embeddings");
        assert!(!out.exists());
        stderr(&run)
    };
    let first_lines = |path: &str, n: usize| -> String {
        let text = std::fs::read_to_string(common::root().join(path)).unwrap();
        text.lines()
            .take(n)
            .map(|l| format!("{}\n", l.trim_end()))
            .collect()
    };

    // a small KB of CoDEx triples, its embeddings written over the model's
    let triples = d.join("t.tsv");
    std::fs::write(
        &triples,
        first_lines("../shared/data/kb/codex/triples/codex-s/train.txt", 300),
    )
    .unwrap();
    let small_kb = d.join("kb");
    ok(tailor(&[
        "-q",
        "ingest",
        "--triples",
        s(&triples),
        "--out",
        s(&small_kb),
    ]));
    let transe = model.join("kg/transe");
    let embed = |input: &[&str]| {
        let mut args = vec!["-q", "embed"];
        args.extend_from_slice(input);
        args.extend_from_slice(&["--epochs", "2", "--negatives", "2", "--out", s(&transe)]);
        ok(tailor(&args));
    };
    embed(&["--kb", s(&small_kb)]);
    let entities = tailor::embed::Embeddings::load(&transe)
        .unwrap()
        .manifest
        .entities;
    assert!(entities < 1000, "{entities}");
    let err = link();
    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(model.join("config.json")).unwrap()).unwrap();
    let model_kb = &config["kb_manifest_sha256"].as_str().unwrap()[..12];
    assert!(
        err.contains("kg/transe")
            && err.contains("trained on another KB")
            && err.contains(&format!("{entities} entities"))
            && err.contains(model_kb)
            && err.contains("138808 entities"),
        "{err}"
    );

    // embeddings of triple files record no KB: their entities are checked against the model's
    let freebase = d.join("fb.tsv");
    std::fs::write(
        &freebase,
        first_lines("../shared/data/kb/fb15k237-wikidata/train.txt", 300),
    )
    .unwrap();
    embed(&["--train", s(&freebase)]);
    let err = link();
    assert!(
        err.contains("kg/transe") && err.contains("triple files") && err.contains("/m/"),
        "{err}"
    );
}
