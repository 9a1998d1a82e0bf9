//! What the integration tests share: running the binary as a user would, and the small KG
//! embeddings and model that the model and report tests train.

// Each test crate uses its own subset of these.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository root, where a user runs `tailor` and where `../shared/data` resolves.
pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

pub fn s(p: &Path) -> &str {
    p.to_str().expect("test paths are UTF-8")
}

/// Runs `tailor ARGS` from the repository root with warnings-only logging.
pub fn tailor(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tailor"))
        .current_dir(root())
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .expect("tailor runs")
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The run, after asserting it succeeded (its stderr is the failure message).
pub fn ok(out: Output) -> Output {
    assert!(out.status.success(), "{}", stderr(&out));
    out
}

/// TransE embeddings of the default KB, small and quick: dimension 8, one epoch.
pub fn small_embeddings(dir: &Path) -> PathBuf {
    let kg = dir.join("transe");
    ok(tailor(&[
        "-q",
        "embed",
        "--kb",
        "kb/default",
        "--model",
        "transe",
        "--dim",
        "8",
        "--epochs",
        "1",
        "--negatives",
        "2",
        "--out",
        s(&kg),
    ]));
    kg
}

/// A model trained on exact aliases from `kg` into `dir/model`; `extra` sizes the run.
pub fn small_model(dir: &Path, kg: &Path, extra: &[&str]) -> PathBuf {
    let model = dir.join("model");
    let mut args = vec![
        "-q",
        "train",
        "--no-fuzzy",
        "--embeddings",
        s(kg),
        "--out",
        s(&model),
    ];
    args.extend(extra);
    ok(tailor(&args));
    model
}
