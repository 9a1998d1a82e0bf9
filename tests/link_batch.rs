//! Batch linking as a user runs it: the `tailor link` binary over a corpus made of the example
//! articles, with globs, compression, bad inputs, sharding, merging, and a run killed midway and
//! resumed.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn tailor() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tailor"));
    cmd.current_dir(root()).env("RUST_LOG", "warn");
    cmd
}

fn link(args: &[&str]) -> Output {
    tailor()
        .args(["link", "--prior-only", "--no-fuzzy"])
        .args(args)
        .output()
        .expect("tailor runs")
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The example articles' paragraphs, one document each, as JSONL records.
fn paragraphs() -> Vec<String> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join("examples/corpus"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
        .iter()
        .flat_map(|f| {
            let text = std::fs::read_to_string(f).unwrap();
            text.lines()
                .filter(|l| !l.trim().is_empty())
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Writes `n` documents cycling over the paragraphs, ids `{prefix}{i}`.
fn write_corpus(path: &Path, prefix: &str, n: usize) {
    let paras = paragraphs();
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    for i in 0..n {
        let doc = serde_json::json!({"id": format!("{prefix}{i}"), "text": paras[i % paras.len()]});
        writeln!(out, "{doc}").unwrap();
    }
}

/// The file names in a directory, sorted.
fn names(dir: &Path) -> Vec<String> {
    let mut n: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    n.sort();
    n
}

fn read_jsonl(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn by_id(mut docs: Vec<Value>) -> Vec<Value> {
    docs.sort_by(|a, b| a["id"].as_str().cmp(&b["id"].as_str()));
    docs
}

#[test]
fn bad_inputs_are_recorded_and_the_rest_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let d = &dir.path().join("in");
    std::fs::create_dir(d).unwrap();
    write_corpus(&d.join("a.jsonl"), "a-", 20);

    // A truncated .gz: the complete lines before the cut are linked, the cut is one error.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    write_corpus(&d.join("b.jsonl"), "b-", 400);
    gz.write_all(&std::fs::read(d.join("b.jsonl")).unwrap())
        .unwrap();
    let gz = gz.finish().unwrap();
    std::fs::write(d.join("b.jsonl.gz"), &gz[..gz.len() * 2 / 3]).unwrap();
    std::fs::remove_file(d.join("b.jsonl")).unwrap();

    std::fs::write(d.join("c.parquet"), b"PAR1 this is not a parquet file PAR1").unwrap();
    let big = "Paris is in France. ".repeat(50 << 20 >> 4);
    let big = serde_json::json!({"id": "big", "text": &big[..50 << 20]});
    let mut noid = format!("{big}\n");
    noid.push_str("{\"text\": \"Berlin has no id here\"}\n");
    noid.push_str("{\"id\": \"ok\", \"text\": \"Berlin is a city.\"}\n");
    std::fs::write(d.join("d.jsonl"), noid).unwrap();

    let out = dir.path().join("out.jsonl");
    let pattern = format!("{}/*", s(d));
    let run = link(&[&pattern, "--out", s(&out), "--max-errors", "10"]);
    assert!(run.status.success(), "{}", stderr(&run));
    let docs = read_jsonl(&out);
    let failed: Vec<&Value> = docs.iter().filter(|d| d.get("error").is_some()).collect();
    let errors: Vec<&str> = failed
        .iter()
        .map(|d| d["error"].as_str().unwrap())
        .collect();
    assert_eq!(failed.len(), 4, "{errors:#?}");
    assert!(errors[0].contains("b.jsonl.gz") && errors[0].contains("read error"));
    assert!(errors[1].contains("c.parquet"), "{}", errors[1]);
    assert!(errors[2].contains("\"big\"") && errors[2].contains("over the limit"));
    assert!(errors[3].contains("d.jsonl: record line 2") && errors[3].contains("\"id\""));
    assert_eq!(failed[3]["id"], format!("{}/d.jsonl:line 2", s(d)));

    let linked: Vec<&str> = docs
        .iter()
        .filter(|d| d.get("error").is_none())
        .map(|d| d["id"].as_str().unwrap())
        .collect();
    let from_gz = linked.iter().filter(|id| id.starts_with("b-")).count();
    assert!(
        (100..400).contains(&from_gz),
        "{from_gz} documents before the cut"
    );
    assert_eq!(linked.iter().filter(|id| id.starts_with("a-")).count(), 20);
    assert_eq!(linked.last(), Some(&"ok"));
    assert!(docs[0]["mentions"].as_array().unwrap().len() > 2);

    // Without --max-errors the first bad input stops the run, naming it, and no output is left.
    let strict = dir.path().join("strict.jsonl");
    let run = link(&[&pattern, "--out", s(&strict)]);
    assert!(!run.status.success());
    assert!(stderr(&run).contains("b.jsonl.gz"), "{}", stderr(&run));
    assert!(!strict.exists());
}

#[test]
fn compressed_parquet_is_refused_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("corpus.parquet.gz");
    std::fs::write(&input, b"whatever").unwrap();
    let run = link(&[s(&input), "--out", s(&dir.path().join("o.jsonl"))]);
    assert!(!run.status.success());
    assert!(
        stderr(&run).contains("compressed Parquet cannot be read"),
        "{}",
        stderr(&run)
    );
}

#[test]
fn shards_and_merge_equal_one_run() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let corpus = d.join("corpus.jsonl.zst");
    write_corpus(&d.join("plain.jsonl"), "doc-", 300);
    let plain = std::fs::read(d.join("plain.jsonl")).unwrap();
    std::fs::write(&corpus, zstd::encode_all(&plain[..], 3).unwrap()).unwrap();

    let single = d.join("single.jsonl");
    let run = link(&[s(&corpus), "--out", s(&single)]);
    assert!(run.status.success(), "{}", stderr(&run));

    let parts = d.join("parts");
    for i in 0..3 {
        let shard = format!("{i}/3");
        let args = [
            s(&corpus),
            "--out",
            s(&parts),
            "--format",
            "jsonl",
            "--part-docs",
            "40",
        ];
        let run = link(&[&args[..], &["--shard", &shard]].concat());
        assert!(run.status.success(), "{}", stderr(&run));
    }
    let merged = d.join("merged.jsonl");
    let run = tailor()
        .args(["link", "--merge", s(&parts), "--out", s(&merged)])
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", stderr(&run));
    let expected = read_jsonl(&single);
    let got = read_jsonl(&merged);
    assert_eq!(got.len(), 300);
    assert_eq!(by_id(got), by_id(expected));

    // A Parquet run into a directory holds every mention of the single run, one row each.
    let pq = d.join("pq");
    let run = link(&[s(&corpus), "--out", s(&pq), "--part-docs", "100"]);
    assert!(run.status.success(), "{}", stderr(&run));
    let all = d.join("all.parquet");
    let run = tailor()
        .args(["link", "--merge", s(&pq), "--out", s(&all)])
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", stderr(&run));
    let rows: usize = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(
        std::fs::File::open(&all).unwrap(),
    )
    .unwrap()
    .build()
    .unwrap()
    .map(|b| b.unwrap().num_rows())
    .sum();
    let mentions: usize = read_jsonl(&single)
        .iter()
        .map(|d| d["mentions"].as_array().unwrap().len().max(1))
        .sum();
    assert_eq!(rows, mentions);
}

#[test]
fn a_killed_run_resumes_to_the_same_output() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let corpus = d.join("corpus.jsonl");
    write_corpus(&corpus, "doc-", 10_000);
    let args = |out: &Path| -> Vec<String> {
        [
            "link",
            "--prior-only",
            "--no-fuzzy",
            s(&corpus),
            "--out",
            s(out),
            "--format",
            "jsonl",
        ]
        .iter()
        .map(|a| a.to_string())
        .chain(["--part-docs".into(), "250".into()])
        .collect()
    };

    let clean = d.join("clean");
    let run = tailor().args(args(&clean)).output().unwrap();
    assert!(run.status.success(), "{}", stderr(&run));

    // Kill the second run as soon as its first part is committed.
    let resumed = d.join("resumed");
    let mut child = tailor()
        .args(args(&resumed))
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let manifest = resumed.join("_progress.json");
    let t0 = Instant::now();
    while !manifest.exists() {
        assert!(
            t0.elapsed() < Duration::from_secs(60),
            "no part was committed"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let progress: Value = serde_json::from_slice(&std::fs::read(&manifest).unwrap()).unwrap();
    assert_eq!(
        progress["complete"], false,
        "the run ended before it was killed"
    );

    let again = tailor().args(args(&resumed)).output().unwrap();
    assert!(
        !again.status.success(),
        "a second run without --resume must refuse"
    );
    assert!(stderr(&again).contains("--resume"), "{}", stderr(&again));

    let mut resume = args(&resumed);
    resume.push("--resume".into());
    let run = tailor().args(&resume).output().unwrap();
    assert!(run.status.success(), "{}", stderr(&run));
    assert_eq!(names(&clean), names(&resumed));
    assert_eq!(names(&clean).len(), 41);
    for name in names(&clean) {
        let (a, b) = (clean.join(&name), resumed.join(&name));
        assert!(
            std::fs::read(a).unwrap() == std::fs::read(b).unwrap(),
            "{name} differs"
        );
    }
}

#[test]
fn a_resume_after_an_input_was_edited_to_the_same_size_is_refused_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let corpus = d.join("corpus.jsonl");
    write_corpus(&corpus, "doc-", 5);
    let out = d.join("out");
    let run_with = |extra: &[&str]| {
        let mut args = vec![s(&corpus), "--out", s(&out), "--part-docs", "2"];
        args.extend(extra);
        link(&args)
    };
    let run = run_with(&[]);
    assert!(run.status.success(), "{}", stderr(&run));
    let parts: Vec<(String, Vec<u8>)> = names(&out)
        .into_iter()
        .map(|n| (n.clone(), std::fs::read(out.join(&n)).unwrap()))
        .collect();

    let text = std::fs::read_to_string(&corpus).unwrap();
    let edited = text.replace("\"doc-4\"", "\"doc-9\"");
    assert_eq!(edited.len(), text.len(), "the edit keeps the size");
    assert_ne!(edited, text);
    std::fs::write(&corpus, edited).unwrap();
    let run = run_with(&["--resume"]);
    assert!(!run.status.success(), "a resume over an edited input ran");
    let err = stderr(&run);
    assert!(
        err.contains(&format!(
            "this run differs from the run that wrote this directory: input 1, {}, was edited \
             since: its size is the same ({} bytes) but its SHA-256 was ",
            corpus.display(),
            text.len()
        )),
        "{err}"
    );
    for (name, bytes) in parts {
        assert_eq!(std::fs::read(out.join(&name)).unwrap(), bytes, "{name}");
    }
}

#[test]
fn an_output_directory_holding_other_files_is_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let corpus = d.join("corpus.jsonl");
    write_corpus(&corpus, "doc-", 20);
    // another tool's dataset: a Spark part and its marker, which a run's stale-part cleanup
    // must never take for its own
    let out = d.join("spark-output");
    std::fs::create_dir(&out).unwrap();
    let theirs = ["part-00000-3f1c-c000.snappy.parquet", "_SUCCESS"];
    for name in theirs {
        std::fs::write(out.join(name), name).unwrap();
    }
    let run = link(&[s(&corpus), "--out", s(&out)]);
    assert!(
        !run.status.success(),
        "a foreign directory was written into"
    );
    let err = stderr(&run);
    assert!(
        err.contains("did not write") && err.contains("_SUCCESS") && err.contains("1 more"),
        "{err}"
    );
    assert_eq!(names(&out).len(), theirs.len(), "{:?}", names(&out));
    for name in theirs {
        assert_eq!(std::fs::read_to_string(out.join(name)).unwrap(), name);
    }
    // with the files gone the same command runs
    for name in theirs {
        std::fs::remove_file(out.join(name)).unwrap();
    }
    let run = link(&[s(&corpus), "--out", s(&out)]);
    assert!(run.status.success(), "{}", stderr(&run));
}

#[test]
fn a_users_files_named_like_parts_are_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let corpus = d.join("corpus.jsonl");
    write_corpus(&corpus, "doc-", 5);
    // named like parts of this run (part 0 would be written over, part 3 removed as stale) and
    // of the other format; with no manifest nothing shows they are tailor's
    for (i, name) in ["part-00003.jsonl", "part-00000.jsonl", "part-00000.parquet"]
        .into_iter()
        .enumerate()
    {
        let out = d.join(format!("out{i}"));
        std::fs::create_dir(&out).unwrap();
        std::fs::write(out.join(name), "{\"id\":\"mine\"}\n").unwrap();
        let run = link(&[s(&corpus), "--out", s(&out), "--format", "jsonl"]);
        assert!(!run.status.success(), "{name} was replaced");
        let err = stderr(&run);
        assert!(
            err.contains(&format!(
                "holds {name} but no progress manifest (_progress.json): it is not a run tailor \
                 can resume; move it or name another directory"
            )),
            "{err}"
        );
        assert_eq!(names(&out), [name]);
        assert_eq!(
            std::fs::read_to_string(out.join(name)).unwrap(),
            "{\"id\":\"mine\"}\n"
        );
    }
}

#[test]
fn a_resume_against_a_changed_kb_is_refused_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let corpus = d.join("corpus.jsonl");
    write_corpus(&corpus, "doc-", 5);
    let kb = d.join("kb");
    std::fs::create_dir(&kb).unwrap();
    for entry in std::fs::read_dir(root().join("kb/default")).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            std::fs::copy(&path, kb.join(path.file_name().unwrap())).unwrap();
        }
    }
    let out = d.join("out");
    let run_with = |extra: &[&str]| {
        let mut args = vec![s(&corpus), "--out", s(&out), "--kb", s(&kb)];
        args.extend(extra);
        link(&args)
    };
    let run = run_with(&[]);
    assert!(run.status.success(), "{}", stderr(&run));
    // the KB rebuilt at the same path, from a source that changed since
    let manifest = kb.join("manifest.json");
    let mut recorded: Value = serde_json::from_slice(&std::fs::read(&manifest).unwrap()).unwrap();
    recorded["sources"][0]["sha256"] = Value::String("0".repeat(64));
    std::fs::write(&manifest, serde_json::to_vec_pretty(&recorded).unwrap()).unwrap();
    let before = names(&out);
    let run = run_with(&["--resume"]);
    assert!(!run.status.success(), "a resume against another KB ran");
    let err = stderr(&run);
    assert!(
        err.contains(
            "this run differs from the run that wrote this directory: the settings \
             differ: kb_sha256 was "
        ),
        "{err}"
    );
    assert_eq!(names(&out), before);
}

#[test]
fn an_output_of_the_wrong_kind_already_there_is_refused_before_linking() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let corpus = d.join("corpus.jsonl");
    write_corpus(&corpus, "doc-", 3);
    let folder = d.join("x.parquet");
    std::fs::create_dir(&folder).unwrap();
    let notes = d.join("notes");
    std::fs::write(&notes, "mine").unwrap();
    // a KB that is not there: a refusal that came after loading it would name the KB instead
    let missing_kb = d.join("no-kb");
    for (out, said) in [
        (
            &folder,
            "x.parquet is an existing directory, and a .jsonl or .parquet output is one",
        ),
        (
            &notes,
            "notes is an existing file, and an output without an extension is a directory",
        ),
    ] {
        let run = link(&[s(&corpus), "--out", s(out), "--kb", s(&missing_kb)]);
        assert!(!run.status.success(), "{} was accepted", out.display());
        let err = stderr(&run);
        assert!(err.contains(said), "{err}");
    }
    assert_eq!(std::fs::read_to_string(&notes).unwrap(), "mine");
    assert!(names(&folder).is_empty());
}

#[test]
fn mixed_shard_layouts_and_unfinished_runs_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let corpus = d.join("corpus.jsonl");
    write_corpus(&corpus, "doc-", 600);
    let shard_run = |out: &Path, shard: &str| {
        link(&[
            s(&corpus),
            "--out",
            s(out),
            "--part-docs",
            "100",
            "--shard",
            shard,
        ])
    };

    let parts = d.join("parts");
    for i in 0..3 {
        let run = shard_run(&parts, &format!("{i}/3"));
        assert!(run.status.success(), "{}", stderr(&run));
    }
    let before = names(&parts);

    // Another shard count, or no sharding, into the same directory is refused untouched.
    for other in [Some("0/2"), None] {
        let run = match other {
            Some(shard) => shard_run(&parts, shard),
            None => link(&[s(&corpus), "--out", s(&parts)]),
        };
        assert!(!run.status.success(), "{other:?} was accepted");
        let err = stderr(&run);
        assert!(err.contains("split into 3 shards"), "{err}");
        assert_eq!(names(&parts), before, "{other:?} wrote into the directory");
    }

    // A directory that came to hold two layouts anyway (copied together) is not merged.
    let two = d.join("two");
    let run = shard_run(&two, "0/2");
    assert!(run.status.success(), "{}", stderr(&run));
    let mixed = d.join("mixed");
    std::fs::create_dir(&mixed).unwrap();
    for from in [&parts, &two] {
        for name in names(from) {
            std::fs::copy(from.join(&name), mixed.join(&name)).unwrap();
        }
    }
    let merge = |dir: &Path| {
        tailor()
            .args(["link", "-q", "--merge", s(dir), "--out"])
            .arg(d.join("all.parquet"))
            .output()
            .unwrap()
    };
    let run = merge(&mixed);
    assert!(!run.status.success(), "a mixed directory was merged");
    assert!(
        stderr(&run).contains("different shard layouts"),
        "{}",
        stderr(&run)
    );
    assert!(!d.join("all.parquet").exists());

    // An unfinished worker stops the merge, naming the directory and --resume.
    let manifest = parts.join("_shard00001-of00003-progress.json");
    let mut progress: Value = serde_json::from_slice(&std::fs::read(&manifest).unwrap()).unwrap();
    progress["complete"] = Value::Bool(false);
    std::fs::write(&manifest, serde_json::to_vec(&progress).unwrap()).unwrap();
    let run = merge(&parts);
    assert!(!run.status.success(), "an unfinished run was merged");
    let err = stderr(&run);
    assert!(
        err.contains("not finished") && err.contains("--resume"),
        "{err}"
    );
    assert!(err.contains(s(&parts)), "{err}");
    assert!(!d.join("all.parquet").exists());

    // A worker that left no manifest at all (killed before its first part, or never run)
    // stops the merge too: its documents would be missing without a word.
    std::fs::remove_file(&manifest).unwrap();
    let run = merge(&parts);
    assert!(!run.status.success(), "a run missing a shard was merged");
    let err = stderr(&run);
    assert!(err.contains("shard 1/3 left no progress manifest"), "{err}");
    assert!(!d.join("all.parquet").exists());

    // Its parts, with no manifest to say they are tailor's, are neither removed nor written
    // over by a rerun of that worker: they are refused, named.
    let run = shard_run(&parts, "1/3");
    assert!(
        !run.status.success(),
        "parts with no manifest were replaced"
    );
    let err = stderr(&run);
    assert!(
        err.contains(
            "holds shard00001-of00003-part-00000.parquet (and 2 more parts) but no \
             progress manifest (_shard00001-of00003-progress.json)"
        ),
        "{err}"
    );
    for name in &names(&parts) {
        if name.starts_with("shard00001-") {
            std::fs::remove_file(parts.join(name)).unwrap();
        }
    }

    // That worker run again with other settings makes parts of another output.
    let run = link(&[
        s(&corpus),
        "--out",
        s(&parts),
        "--part-docs",
        "100",
        "--shard",
        "1/3",
        "--top-k",
        "5",
    ]);
    assert!(run.status.success(), "{}", stderr(&run));
    let run = merge(&parts);
    assert!(
        !run.status.success(),
        "shards linked differently were merged"
    );
    let err = stderr(&run);
    assert!(
        err.contains("linked differently") && err.contains("top_k=5"),
        "{err}"
    );
    assert!(!d.join("all.parquet").exists());

    // A sharded run into one file would be replaced by the next worker's.
    let file = d.join("shard.jsonl");
    let run = link(&[s(&corpus), "--out", s(&file), "--shard", "0/2"]);
    assert!(!run.status.success(), "a shard was written to a file");
    assert!(
        stderr(&run).contains("--shard needs an output directory"),
        "{}",
        stderr(&run)
    );
    assert!(!file.exists());
}

#[test]
fn a_merge_writes_nothing_into_what_it_merges_and_reads_each_part_once() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let corpus = d.join("corpus.jsonl");
    write_corpus(&corpus, "doc-", 30);
    let parts = d.join("parts");
    let args = [s(&corpus), "--out", s(&parts), "--format", "jsonl"];
    let run = link(&[&args[..], &["--part-docs", "10"]].concat());
    assert!(run.status.success(), "{}", stderr(&run));
    let before = names(&parts);
    let first = parts.join("part-00000.jsonl");
    let merge = |inputs: &[&str], out: &Path| {
        tailor()
            .args(["link", "-q", "--merge"])
            .args(inputs)
            .args(["--out", s(out)])
            .output()
            .unwrap()
    };

    // An output onto a part, anywhere inside the directory, or onto the directory itself.
    for out in [first.clone(), parts.join("all.jsonl"), parts.clone()] {
        let run = merge(&[s(&parts)], &out);
        assert!(!run.status.success(), "merged into {}", out.display());
        let err = stderr(&run);
        assert!(
            err.contains("inside") || err.contains("also read"),
            "{}: {err}",
            out.display()
        );
        assert_eq!(names(&parts), before, "{}", out.display());
    }
    let run = merge(&[s(&first)], &first);
    assert!(!run.status.success());
    assert!(stderr(&run).contains("also read"), "{}", stderr(&run));
    // Parts named one by one into the run's directory: a reader of the directory would count
    // each row twice.
    let second = parts.join("part-00001.jsonl");
    let run = merge(&[s(&first), s(&second)], &parts.join("all.jsonl"));
    assert!(!run.status.success(), "merged into the run's directory");
    let err = stderr(&run);
    assert!(
        err.contains("inside the output directory of a `tailor link` run")
            && err.contains("_progress.json")
            && err.contains("count every row twice"),
        "{err}"
    );
    assert_eq!(names(&parts), before);
    let folder = d.join("folder.jsonl");
    std::fs::create_dir(&folder).unwrap();
    let run = merge(&[s(&parts)], &folder);
    assert!(!run.status.success(), "merged onto a directory");
    assert!(
        stderr(&run).contains("folder.jsonl: is an existing directory: a merge writes one file"),
        "{}",
        stderr(&run)
    );

    // The same part or directory named twice, however spelled, would repeat its records.
    let merged = d.join("merged.jsonl");
    let spelled = format!("{}/./", s(&parts));
    let twice = [
        vec![s(&parts), s(&parts)],
        vec![s(&parts), &spelled],
        vec![s(&first), s(&first)],
        vec![s(&parts), s(&first)],
    ];
    for inputs in twice {
        let run = merge(&inputs, &merged);
        assert!(!run.status.success(), "{inputs:?} merged");
        let err = stderr(&run);
        assert!(
            err.contains("twice") && err.contains("part-00000.jsonl")
                || err.contains("named twice"),
            "{inputs:?}: {err}"
        );
        assert!(!merged.exists());
    }
    let run = merge(&[s(&parts)], &merged);
    assert!(run.status.success(), "{}", stderr(&run));
    assert_eq!(read_jsonl(&merged).len(), 30);
}

#[test]
fn two_documents_on_one_line_are_refused_not_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("two.jsonl");
    std::fs::write(
        &input,
        "{\"id\":\"a\",\"text\":\"Paris.\"} {\"id\":\"b\",\"text\":\"Berlin.\"}\n",
    )
    .unwrap();
    let out = dir.path().join("o.jsonl");
    let run = link(&[s(&input), "--out", s(&out)]);
    assert!(!run.status.success(), "a line of two documents was linked");
    let err = stderr(&run);
    assert!(
        err.contains("two.jsonl: record line 1: more than one JSON value on the line"),
        "{err}"
    );
    assert!(!out.exists());
}

#[test]
fn an_output_directory_is_what_the_help_says() {
    let help = tailor().args(["link", "--help"]).output().unwrap();
    // clap may wrap the text at any space
    let help = String::from_utf8_lossy(&help.stdout)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        help.contains("a path ending") && help.contains("a new path without an extension"),
        "{help}"
    );
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let corpus = d.join("corpus.jsonl");
    write_corpus(&corpus, "doc-", 3);
    // a new directory with a dot in its name, said to be one by its trailing slash
    let slashed = format!("{}/run.v2/", s(d));
    let run = link(&[s(&corpus), "--out", &slashed, "--format", "jsonl"]);
    assert!(run.status.success(), "{}", stderr(&run));
    assert_eq!(
        names(&d.join("run.v2")),
        ["_progress.json", "part-00000.jsonl"]
    );
    // a new path without an extension is a directory
    let plain = d.join("out");
    let run = link(&[s(&corpus), "--out", s(&plain)]);
    assert!(run.status.success(), "{}", stderr(&run));
    assert!(plain.join("_progress.json").is_file());
    // any other new path with an extension is refused, saying what would be accepted
    for name in ["results.txt", "results.json", "results.jsonl.gz", "v1.2"] {
        let out = d.join(name);
        let run = link(&[s(&corpus), "--out", s(&out)]);
        assert!(!run.status.success(), "{name} was written");
        let err = stderr(&run);
        assert!(
            err.contains("unknown output format") && err.contains("a path ending in /"),
            "{name}: {err}"
        );
        assert!(!out.exists(), "{name}");
    }
}
