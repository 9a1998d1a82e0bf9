//! The Spark recipe of docs/cluster.md, run for real in local mode by `tests/spark/spark_pipe.py`
//! (needs `pip install pyspark` and Java 17, hence ignored by default):
//! `cargo test --test spark -- --ignored`.

use std::path::Path;
use std::process::Command;

#[test]
#[ignore = "needs pyspark and Java; run in its own CI step"]
fn spark_pipe_equals_one_process() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".into());
    let out = Command::new(python)
        .current_dir(root)
        .args([
            "tests/spark/spark_pipe.py",
            "--tailor",
            env!("CARGO_BIN_EXE_tailor"),
        ])
        .args(["--kb", "kb/default"])
        .output()
        .expect("python runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("equal to one process"), "{stdout}");
}
