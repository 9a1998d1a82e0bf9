//! `tailor run` on a two-stage config of real commands: a stage runs when its commands or the
//! content of its inputs changed or its outputs are gone, and not otherwise; `--from` forces.

use std::path::Path;
use std::process::Command;

const KORE50: &str = "../shared/data/eval/elevant/kore50.benchmark.jsonl";

fn run(config: &Path, extra: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_tailor"))
        .args(["-q", "run"])
        .arg(config)
        .args(extra)
        .output()
        .expect("run tailor");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{stderr}");
    stderr
}

fn outcomes(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter(|l| l.ends_with(": ran") || l.ends_with(": up to date"))
        .collect()
}

#[test]
fn stages_rerun_only_when_their_inputs_change() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    std::fs::create_dir(t.join("gold")).unwrap();
    let gold = t.join("gold/kore50.benchmark.jsonl");
    std::fs::copy(KORE50, &gold).unwrap();
    let root = std::fs::canonicalize(".").unwrap();
    let eval = |extra: &str| {
        format!(
            r#"["-q", "eval", "--prior-only", "--no-fuzzy", "--kb", "kb/default", "--gold", "{}", {extra}]"#,
            gold.display()
        )
    };
    let config = t.join("stages.toml");
    let records = t.join("out/records.jsonl");
    let report = t.join("out/report");
    std::fs::write(
        &config,
        format!(
            r#"root = "{root}"

[[stage]]
name = "records"
commands = [{records_cmd}]
inputs = ["{gold_dir}"]
outputs = ["{records}"]

[[stage]]
name = "report"
commands = [{report_cmd}]
inputs = ["{records}"]
outputs = ["{report}"]
"#,
            root = root.display(),
            records_cmd = eval(&format!(r#""--records", "{}""#, records.display())),
            report_cmd = eval(&format!(r#""--report", "{}""#, report.display())),
            gold_dir = t.join("gold").display(),
            records = records.display(),
            report = report.display(),
        ),
    )
    .unwrap();
    std::fs::create_dir(t.join("out")).unwrap();

    assert_eq!(
        outcomes(&run(&config, &[])),
        ["records: ran", "report: ran"]
    );
    assert!(records.exists() && report.join("report.html").exists());
    assert_eq!(
        outcomes(&run(&config, &[])),
        ["records: up to date", "report: up to date"]
    );

    // Rewriting the same bytes is no change; new content is.
    let text = std::fs::read_to_string(&gold).unwrap();
    std::fs::write(&gold, &text).unwrap();
    assert_eq!(
        outcomes(&run(&config, &[])),
        ["records: up to date", "report: up to date"]
    );
    let fewer: String = text.lines().take(20).map(|l| format!("{l}\n")).collect();
    std::fs::write(&gold, fewer).unwrap();
    assert_eq!(
        outcomes(&run(&config, &[])),
        ["records: ran", "report: ran"]
    );

    assert_eq!(
        outcomes(&run(&config, &["--from", "report"])),
        ["records: up to date", "report: ran"]
    );
    std::fs::remove_dir_all(&report).unwrap();
    assert_eq!(
        outcomes(&run(&config, &[])),
        ["records: up to date", "report: ran"]
    );
    assert!(
        t.join(".tailor-run/stages/records.json").exists(),
        "stamps beside the config"
    );
}
