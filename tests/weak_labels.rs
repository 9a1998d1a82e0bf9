//! Weak labelling as a user runs it: `tailor weak-labels` on the default KB and a few real
//! Wikipedia extracts, its output read back and checked row by row.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::Command;

use tailor::disambiguate::weak::OutputRow;

fn root(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

fn read_rows(path: &Path) -> Vec<OutputRow> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn builds_consistent_training_data_from_the_default_kb() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("weak.jsonl");
    let run = Command::new(env!("CARGO_BIN_EXE_tailor"))
        .current_dir(root(""))
        .args([
            "weak-labels",
            // Exact aliases only: the fuzzy index is retrieval's concern and slow to query in
            // a debug build; the labelling rules read the exact candidates anyway.
            "--no-fuzzy",
            "--max-extracts",
            "40",
            "--max-examples",
            "3000",
        ])
        .args([
            "--max-per-entity",
            "20",
            "--mask-rate",
            "0.3",
            "--holdout",
            "0.1",
        ])
        .arg("--out")
        .arg(&out)
        .env("RUST_LOG", "warn")
        .output()
        .expect("tailor runs");
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );

    let train = read_rows(&out);
    let holdout = read_rows(&dir.path().join("weak.holdout.jsonl"));
    let total = train.len() + holdout.len();
    assert_eq!(total, 3000, "the budget is filled exactly");
    assert!(!holdout.is_empty() && holdout.len() < total / 5);

    let mut per_tag: BTreeMap<&str, usize> = BTreeMap::new();
    let mut per_gold: HashMap<&str, u64> = HashMap::new();
    let mut masked = 0;
    for r in train.iter().chain(&holdout) {
        let span: String = r
            .text
            .chars()
            .skip(r.start as usize)
            .take((r.end - r.start) as usize)
            .collect();
        if r.masked {
            masked += 1;
            assert_eq!(span, "[MASK]", "{r:?}");
        } else {
            assert_eq!(span, r.surface, "{r:?}");
        }
        assert_eq!(r.candidates.len(), r.priors.len());
        assert_eq!(r.candidates[r.gold_rank as usize], r.gold, "{r:?}");
        assert!(
            r.priors.windows(2).all(|w| w[0] >= w[1]),
            "priors sorted: {r:?}"
        );
        *per_tag.entry(r.labelled_by.as_str()).or_default() += 1;
        *per_gold.entry(r.gold.as_str()).or_default() += 1;
    }
    // All three sources contribute, and the extracts use both kinds of rule.
    for tag in ["extract-unambiguous", "extract-kg", "description", "triple"] {
        assert!(
            per_tag.get(tag).copied().unwrap_or(0) > 0,
            "no {tag}: {per_tag:?}"
        );
    }
    let share = masked as f64 / total as f64;
    assert!((0.25..0.35).contains(&share), "masked share {share}");
    assert!(
        per_gold.values().all(|&n| n <= 20),
        "the per-entity cap holds"
    );
    // Extract rows point at the extract they came from.
    let extract = train.iter().find(|r| r.source == "extract").unwrap();
    assert!(root("../shared/data/kb/codex/types/en/extracts")
        .join(format!("{}.txt", extract.doc))
        .exists());

    let counts: BTreeMap<String, u64> = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("weak.entity_counts.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(counts.values().sum::<u64>(), train.len() as u64);
    let stats: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("weak.stats.json")).unwrap())
            .unwrap();
    assert_eq!(stats["train_examples"], train.len());
    let not_top = stats["ambiguity"]["all"]["gold_not_top_share"]
        .as_f64()
        .unwrap();
    assert!(not_top > 0.0, "some golds are not the prior's choice");
}

#[test]
fn no_output_lands_on_or_in_the_kb_it_reads() {
    let dir = tempfile::tempdir().unwrap();
    let kb = dir.path().join("kb");
    std::fs::create_dir(&kb).unwrap();
    std::fs::write(kb.join("entities.parquet"), "a KB's table").unwrap();
    // the training split beside the tables, or a side file named after one
    for out in [kb.join("entities.parquet"), kb.join("weak.jsonl")] {
        let run = Command::new(env!("CARGO_BIN_EXE_tailor"))
            .current_dir(root(""))
            .args([
                "weak-labels",
                "--kb",
                kb.to_str().unwrap(),
                "--extracts",
                "none",
            ])
            .args(["--out", out.to_str().unwrap()])
            .output()
            .unwrap();
        assert!(!run.status.success(), "{} was written", out.display());
        let err = String::from_utf8_lossy(&run.stderr);
        assert!(err.contains("which this run reads"), "{err}");
    }
    assert_eq!(
        std::fs::read_to_string(kb.join("entities.parquet")).unwrap(),
        "a KB's table"
    );
}

#[test]
fn a_users_file_beside_the_output_is_not_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("q.jsonl");
    let stats = dir.path().join("q.stats.json");
    std::fs::write(&stats, "{\"mine\": 1}").unwrap();
    let run = |out: &Path| {
        Command::new(env!("CARGO_BIN_EXE_tailor"))
            .current_dir(root(""))
            .args(["weak-labels", "--no-fuzzy", "--extracts", "none"])
            .args(["--max-examples", "200", "--out", out.to_str().unwrap()])
            .output()
            .unwrap()
    };
    let refused = run(&out);
    assert!(!refused.status.success(), "q.stats.json was written over");
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(
        err.contains("q.stats.json") && err.contains("earlier weak-labels run"),
        "{err}"
    );
    assert_eq!(std::fs::read_to_string(&stats).unwrap(), "{\"mine\": 1}");
    assert!(!out.exists());

    // an earlier run's four files are replaced by the next run
    let own = dir.path().join("w.jsonl");
    for _ in 0..2 {
        let ok = run(&own);
        assert!(
            ok.status.success(),
            "{}",
            String::from_utf8_lossy(&ok.stderr)
        );
    }
}
