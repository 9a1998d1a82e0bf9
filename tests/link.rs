//! Linking as a user runs it: `tailor link` on the example corpus and on broken inputs.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod common;
use common::{ok, root, s, stderr, tailor};
use std::sync::Arc;

use arrow::array::{Array, Int64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use parquet::arrow::ArrowWriter;

fn records(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Links with exact aliases only: the fuzzy index is not what these tests are about, and
/// building it for every test would dominate the suite's time.
fn link(inputs: &[&Path], out: &Path, extra: &[&str]) -> Output {
    let mut args = vec!["link", "--prior-only", "--no-fuzzy", "--out", s(out)];
    args.extend(extra);
    args.extend(inputs.iter().map(|p| s(p)));
    tailor(&args)
}

/// The default KB's tables, without the caches beside them (a KB as a fresh clone has it).
fn copy_default_kb(to: &Path) {
    for entry in std::fs::read_dir(root().join("kb/default")).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if path.is_file() && !name.starts_with('.') {
            std::fs::copy(&path, to.join(&name)).unwrap();
        }
    }
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

#[test]
fn links_the_example_corpus_with_the_default_kb() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("annotations.jsonl");
    let corpus: Vec<PathBuf> = std::fs::read_dir(root().join("examples/corpus"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    let inputs: Vec<&Path> = corpus.iter().map(PathBuf::as_path).collect();
    let run = link(&inputs, &out, &[]);
    assert!(run.status.success(), "{}", stderr(&run));

    let docs = records(&out);
    assert_eq!(docs.len(), corpus.len(), "one record per input document");
    let borders = docs
        .iter()
        .find(|d| d["id"] == "borders-of-france.txt")
        .expect("the borders document is in the output");
    let text =
        std::fs::read_to_string(root().join("examples/corpus/borders-of-france.txt")).unwrap();
    let chars: Vec<char> = text.chars().collect();
    let mentions = borders["mentions"].as_array().unwrap();
    assert!(!mentions.is_empty());
    for m in mentions {
        let (start, end) = (m["start"].as_u64().unwrap(), m["end"].as_u64().unwrap());
        let surface: String = chars[start as usize..end as usize].iter().collect();
        assert_eq!(
            m["surface"],
            surface.as_str(),
            "offsets are code points into the text"
        );
    }
    assert!(
        mentions.iter().any(|m| m["entity"] == "Q142"),
        "France is linked in the borders of France text: {mentions:?}"
    );
}

#[test]
fn gold_mentions_are_linked_as_given() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(
        dir.path(),
        "docs.jsonl",
        "{\"id\": \"d1\", \"text\": \"Paris is the capital of France.\", \
         \"mentions\": [{\"start\": 24, \"end\": 30}]}\n"
            .as_bytes(),
    );
    let out = dir.path().join("out.jsonl");
    let run = link(&[&input], &out, &[]);
    assert!(run.status.success(), "{}", stderr(&run));
    let docs = records(&out);
    let mentions = docs[0]["mentions"].as_array().unwrap();
    assert_eq!(mentions.len(), 1, "only the given span is linked");
    assert_eq!(mentions[0]["surface"], "France");
    assert_eq!(mentions[0]["entity"], "Q142");
}

#[test]
fn a_field_tailor_does_not_read_is_named_once() {
    let dir = tempfile::tempdir().unwrap();
    // a misspelt "mentions" would otherwise link detected mentions without a word
    let line = |id: &str| {
        format!(
            "{{\"id\": \"{id}\", \"text\": \"Paris is big.\", \"url\": \"u\", \
             \"mentons\": [{{\"start\": 0, \"end\": 5}}]}}\n"
        )
    };
    let input = write(
        dir.path(),
        "docs.jsonl",
        format!("{}{}", line("d1"), line("d2")).as_bytes(),
    );
    let out = dir.path().join("out.jsonl");
    let run = link(&[&input], &out, &[]);
    assert!(run.status.success(), "{}", stderr(&run));
    let err = stderr(&run);
    assert_eq!(
        err.matches("field \"mentons\" is ignored").count(),
        1,
        "{err}"
    );
    assert_eq!(err.matches("field \"url\" is ignored").count(), 1, "{err}");
    assert!(err.contains("docs.jsonl: line 1"), "{err}");
    assert_eq!(records(&out).len(), 2);
}

#[test]
fn a_bad_record_stops_the_run_and_leaves_no_output() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(
        dir.path(),
        "docs.jsonl",
        b"{\"id\": \"a\", \"text\": \"Paris\"}\n{not json\n{\"id\": \"c\", \"text\": \"Berlin\"}\n",
    );
    let out = dir.path().join("out.jsonl");
    let run = link(&[&input], &out, &[]);
    assert!(!run.status.success());
    let err = stderr(&run);
    assert!(
        err.contains("docs.jsonl") && err.contains("line 2"),
        "{err}"
    );
    assert!(err.contains("not a JSON document"), "{err}");
    assert!(!out.exists(), "no half-written output");
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .filter(|n| n.to_string_lossy().starts_with(".tailor-partial"))
        .collect();
    assert!(
        leftovers.is_empty(),
        "temporary output removed: {leftovers:?}"
    );
}

#[test]
fn inputs_with_no_documents_are_named_in_a_warning_and_the_output_is_still_written() {
    let dir = tempfile::tempdir().unwrap();
    let empty_text = write(dir.path(), "empty.txt", b"");
    let empty_jsonl = write(dir.path(), "empty.jsonl", b"\n\n");
    let full = write(
        dir.path(),
        "full.jsonl",
        b"{\"id\": \"a\", \"text\": \"Paris\"}\n",
    );
    let out = dir.path().join("out.jsonl");
    let run = link(&[&empty_text, &empty_jsonl, &full], &out, &[]);
    assert!(run.status.success(), "{}", stderr(&run));
    let err = stderr(&run);
    assert!(
        err.contains("1 input(s) held no documents") && err.contains(s(&empty_jsonl)),
        "{err}"
    );
    assert!(
        err.contains("1 text file(s) held no text") && err.contains(s(&empty_text)),
        "{err}"
    );
    assert_eq!(err.matches("held no text").count(), 1, "said once: {err}");
    assert_eq!(
        err.matches("held no documents").count(),
        1,
        "said once: {err}"
    );
    assert!(
        !err.contains(s(&full)),
        "a file with documents is not named: {err}"
    );
    assert_eq!(
        records(&out).len(),
        2,
        "the empty text file keeps its record"
    );

    let only_empty = dir.path().join("only-empty.jsonl");
    let run = link(&[&empty_jsonl], &only_empty, &[]);
    assert!(run.status.success(), "{}", stderr(&run));
    assert!(
        stderr(&run).contains("held no documents"),
        "{}",
        stderr(&run)
    );
    assert_eq!(std::fs::read_to_string(&only_empty).unwrap(), "");
}

#[test]
fn a_repeated_document_id_is_refused_naming_both_places() {
    let dir = tempfile::tempdir().unwrap();
    let one = write(
        dir.path(),
        "one.jsonl",
        b"{\"id\": \"a\", \"text\": \"Paris\"}\n{\"id\": \"b\", \"text\": \"Rome\"}\n\
          {\"id\": \"a\", \"text\": \"Berlin\"}\n",
    );
    let out = dir.path().join("out.jsonl");
    let run = link(&[&one], &out, &[]);
    assert!(!run.status.success());
    let err = stderr(&run);
    assert!(
        err.contains("one.jsonl: record line 3: id \"a\" is used again (first at line 1)"),
        "{err}"
    );
    assert!(
        !out.exists(),
        "no output with rows that cannot be told apart"
    );

    let other = write(
        dir.path(),
        "other.jsonl",
        b"{\"id\": 7, \"text\": \"x\"}\n{\"id\": \"b\", \"text\": \"y\"}\n",
    );
    let run = link(&[&one, &other], &out, &["--max-errors", "5"]);
    assert!(run.status.success(), "{}", stderr(&run));
    let err = stderr(&run);
    let first = format!("first at {} line 2", s(&one));
    assert!(
        err.contains("other.jsonl: record line 2") && err.contains(&first),
        "{err}"
    );
    let ids: Vec<String> = records(&out)
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect();
    let unique: std::collections::HashSet<&String> = ids.iter().collect();
    assert_eq!(
        unique.len(),
        ids.len(),
        "failed repeats are written under their place: {ids:?}"
    );

    std::fs::create_dir(dir.path().join("x")).unwrap();
    std::fs::create_dir(dir.path().join("y")).unwrap();
    let a = write(&dir.path().join("x"), "same.txt", b"Paris");
    let b = write(&dir.path().join("y"), "same.txt", b"Rome");
    let run = link(&[&a, &b], &out, &[]);
    assert!(!run.status.success());
    let err = stderr(&run);
    assert!(
        err.contains(&format!(
            "{}: record same.txt: id \"same.txt\" is used again",
            s(&b)
        )) && err.contains(&format!("first at {} same.txt", s(&a))),
        "{err}"
    );
}

#[test]
fn a_null_field_and_a_key_given_twice_are_named_with_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(
        dir.path(),
        "docs.jsonl",
        b"{\"id\": \"a\", \"text\": null}\n{\"id\": \"b\", \"text\": \"Paris\", \"text\": \"Rome\"}\n",
    );
    let out = dir.path().join("out.jsonl");
    let run = link(&[&input], &out, &["--max-errors", "10"]);
    assert!(run.status.success(), "{}", stderr(&run));
    let docs = records(&out);
    let errors: Vec<&str> = docs.iter().map(|d| d["error"].as_str().unwrap()).collect();
    assert!(
        errors[0]
            .contains("docs.jsonl: record line 1: field \"text\" is null: a string is expected"),
        "{}",
        errors[0]
    );
    assert!(
        errors[1].contains("docs.jsonl: record line 2: field \"text\" appears twice in the record"),
        "{}",
        errors[1]
    );
}

#[test]
fn max_errors_records_every_failed_document() {
    let dir = tempfile::tempdir().unwrap();
    let mut bytes = b"{\"id\": \"a\", \"text\": \"Paris\"}\n{not json\n".to_vec();
    bytes.extend(b"{\"text\": \"no id\"}\n");
    bytes.extend(
        b"{\"id\": \"s\", \"text\": \"abc\", \"mentions\": [{\"start\": 2, \"end\": 9}]}\n",
    );
    bytes.extend(b"{\"id\": \"u\", \"text\": \"\xff\xfe\"}\n");
    bytes.extend(b"{\"id\": \"e\", \"text\": \"\"}\n");
    let input = write(dir.path(), "docs.jsonl", &bytes);
    let out = dir.path().join("out.jsonl");
    let run = link(&[&input], &out, &["--max-errors", "10"]);
    assert!(run.status.success(), "{}", stderr(&run));

    let docs = records(&out);
    assert_eq!(
        docs.len(),
        6,
        "every input record yields one output record: {docs:?}"
    );
    assert_eq!(docs[0]["id"], "a");
    assert!(docs[0].get("error").is_none());
    let errors: Vec<&str> = docs[1..5]
        .iter()
        .map(|d| d["error"].as_str().unwrap())
        .collect();
    assert!(errors[0].contains("line 2") && errors[0].contains("not a JSON document"));
    assert!(errors[1].contains("line 3") && errors[1].contains("\"id\" is missing"));
    assert!(errors[2].contains("line 4") && errors[2].contains("outside the text"));
    assert_eq!(docs[3]["id"], "s", "a record whose id parsed keeps it");
    assert!(
        docs[1]["id"].as_str().unwrap().ends_with(":line 2"),
        "{}",
        docs[1]
    );
    assert!(errors[3].contains("line 5"), "{}", errors[3]);
    assert_eq!(
        docs[5]["id"], "e",
        "an empty document is linked, with no mentions"
    );
    assert_eq!(docs[5]["mentions"].as_array().unwrap().len(), 0);

    let run = link(&[&input], &out, &["--max-errors", "2"]);
    assert!(!run.status.success());
    assert!(
        stderr(&run).contains("too many failed documents"),
        "{}",
        stderr(&run)
    );
}

#[test]
fn invalid_utf8_text_file_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(dir.path(), "broken.txt", b"Paris \xc3\x28 France");
    let out = dir.path().join("out.jsonl");
    let run = link(&[&input], &out, &[]);
    assert!(!run.status.success());
    let err = stderr(&run);
    assert!(
        err.contains("broken.txt") && err.contains("invalid UTF-8 at byte 6"),
        "{err}"
    );
}

#[test]
fn a_directory_given_as_input_is_named_as_one() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("corpus.jsonl");
    std::fs::create_dir(&folder).unwrap();
    let out = dir.path().join("out.jsonl");
    let run = link(&[&folder], &out, &[]);
    assert!(!run.status.success());
    let err = stderr(&run);
    assert!(
        err.contains("corpus.jsonl") && err.contains("is a directory"),
        "{err}"
    );
    assert!(!out.exists());
}

fn write_parquet(path: &Path, columns: Vec<(&str, Arc<dyn Array>)>) {
    let fields: Vec<Field> = columns
        .iter()
        .map(|(n, a)| Field::new(*n, a.data_type().clone(), true))
        .collect();
    let schema = Arc::new(Schema::new(fields));
    let batch =
        RecordBatch::try_new(schema.clone(), columns.into_iter().map(|c| c.1).collect()).unwrap();
    let mut w = ArrowWriter::try_new(std::fs::File::create(path).unwrap(), schema, None).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
}

#[test]
fn parquet_in_and_out() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("docs.parquet");
    write_parquet(
        &input,
        vec![
            ("id", Arc::new(Int64Array::from(vec![1, 2]))),
            (
                "text",
                Arc::new(StringArray::from(vec!["Berlin and France.", ""])),
            ),
        ],
    );
    let out = dir.path().join("out.parquet");
    let run = link(&[&input], &out, &[]);
    assert!(run.status.success(), "{}", stderr(&run));

    let file = std::fs::File::open(&out).unwrap();
    let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
        .unwrap()
        .build()
        .unwrap();
    let mut ids = Vec::new();
    let mut entities = Vec::new();
    for batch in reader {
        let batch = batch.unwrap();
        let id = batch.column_by_name("doc_id").unwrap();
        let id = id.as_any().downcast_ref::<StringArray>().unwrap();
        let entity = batch.column_by_name("entity").unwrap();
        let entity = entity.as_any().downcast_ref::<StringArray>().unwrap();
        for i in 0..batch.num_rows() {
            ids.push(id.value(i).to_string());
            entities.push(entity.is_valid(i).then(|| entity.value(i).to_string()));
        }
    }
    assert!(
        ids.contains(&"2".to_string()),
        "the empty document still has a row"
    );
    assert!(entities.contains(&Some("Q142".to_string())), "{entities:?}");
    assert!(entities.contains(&Some("Q64".to_string())), "{entities:?}");
}

#[test]
fn parquet_without_a_text_column_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("docs.parquet");
    write_parquet(
        &input,
        vec![(
            "body",
            Arc::new(StringArray::from(vec![DataType::Utf8.to_string()])),
        )],
    );
    let out = dir.path().join("out.jsonl");
    let run = link(&[&input], &out, &[]);
    assert!(!run.status.success());
    let err = stderr(&run);
    assert!(
        err.contains("docs.parquet") && err.contains("no `text` column"),
        "{err}"
    );
    assert!(!out.exists());
}

#[test]
fn a_50_mb_document_is_linked() {
    let dir = tempfile::tempdir().unwrap();
    let filler = "qzxv wvkq ".repeat(5 * 1024 * 1024);
    let text = format!("Paris {filler}France");
    let input = write(dir.path(), "big.txt", text.as_bytes());
    let out = dir.path().join("out.jsonl");
    let run = link(&[&input], &out, &[]);
    assert!(!run.status.success(), "over the default document limit");
    assert!(stderr(&run).contains("over the limit"), "{}", stderr(&run));

    let run = link(&[&input], &out, &["--max-doc-bytes", "67108864"]);
    assert!(run.status.success(), "{}", stderr(&run));
    let docs = records(&out);
    assert_eq!(docs.len(), 1);
    let mentions = docs[0]["mentions"].as_array().unwrap();
    let linked: Vec<(&str, u64)> = mentions
        .iter()
        .map(|m| {
            (
                m["entity"].as_str().unwrap_or(""),
                m["start"].as_u64().unwrap(),
            )
        })
        .collect();
    let end = text.chars().count() as u64;
    assert_eq!(
        linked,
        [("Q90", 0), ("Q142", end - 6)],
        "both ends of the text are reached"
    );
}

#[test]
fn an_output_of_an_unknown_format_is_refused_not_made_a_directory() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(dir.path(), "a.txt", b"Paris");
    for name in ["out.json", "out.jsonl.gz", "out.JSONL"] {
        let out = dir.path().join(name);
        let run = link(&[&input], &out, &[]);
        assert!(!run.status.success(), "{name} is refused");
        assert!(stderr(&run).contains(name), "{}", stderr(&run));
        assert!(!out.exists(), "{name} was not created");
    }
}

#[test]
fn prior_only_linking_skips_context_candidates_it_would_score_zero() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(
        dir.path(),
        "steve.jsonl",
        br#"{"id": "d", "text": "Steve left Apple Inc. in 1985.", "mentions": [{"start": 0, "end": 5}, {"start": 11, "end": 21}]}
"#,
    );
    let out = dir.path().join("out.jsonl");
    let run = link(&[&input], &out, &["--output-candidates", "30"]);
    assert!(run.status.success(), "{}", stderr(&run));
    let doc = &records(&out)[0];
    let all: Vec<&serde_json::Value> = doc["mentions"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|m| m["candidates"].as_array().unwrap())
        .collect();
    assert!(all.iter().all(|c| c["source"] != "context"), "{doc}");
    assert_eq!(doc["mentions"][1]["entity"], "Q312", "Apple Inc.");
}

#[test]
fn counts_and_thresholds_out_of_range_are_refused_before_anything_runs() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(dir.path(), "a.txt", b"Paris");
    let out = dir.path().join("out.jsonl");
    for (flag, value) in [
        ("--top-k", "0"),
        ("--model-nil", "-1"),
        ("--model-nil", "5"),
        ("--model-nil", "NaN"),
        ("--nil-threshold", "1.5"),
        ("--part-docs", "0"),
        ("--max-doc-bytes", "0"),
    ] {
        let run = link(&[&input], &out, &[&format!("{flag}={value}")]);
        assert!(!run.status.success(), "{flag} {value} was accepted");
        let err = stderr(&run);
        assert!(err.contains(flag) && err.contains(value), "{flag}: {err}");
        assert!(!out.exists());
    }
    for (command, flag, value) in [
        ("eval", "--top-k", "0"),
        ("eval", "--nil-threshold", "-0.5"),
        ("eval", "--model-nil", "2"),
        ("eval", "--resamples", "0"),
        ("eval", "--popularity-cuts", "1000,10"),
        ("eval", "--popularity-cuts", "10,10"),
        ("eval", "--degree-cuts", "2,100,10"),
        ("candidates", "--limit", "0"),
        ("serve", "--max-batch", "0"),
        ("weak-labels", "--dominance", "3"),
    ] {
        let arg = format!("{flag}={value}");
        let mut args = vec![command, arg.as_str()];
        match command {
            "eval" => args.extend([
                "--gold",
                "../shared/data/eval/elevant/kore50.benchmark.jsonl",
            ]),
            "candidates" => args.push("Paris"),
            "weak-labels" => args.extend(["--out", s(&out)]),
            _ => {}
        }
        let run = tailor(&args);
        assert!(
            !run.status.success(),
            "{command} {flag} {value} was accepted"
        );
        let err = stderr(&run);
        assert!(
            err.contains(flag) && err.contains("invalid value"),
            "{command} {flag}: {err}"
        );
    }
}

#[test]
fn a_run_stopped_by_sigterm_removes_what_it_was_writing_aside() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("annotations.jsonl");
    // The model over two thousand Wikipedia extracts: long enough to be stopped mid-write.
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_tailor"))
        .current_dir(root())
        .args([
            "-q",
            "link",
            "--no-fuzzy",
            "--threads",
            "1",
            "--out",
            s(&out),
        ])
        .arg("../shared/data/kb/codex/types/en/extracts/*.txt")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let partial = || {
        std::fs::read_dir(dir.path())
            .unwrap()
            .filter_map(|e| e.ok())
            .any(|e| {
                e.file_name()
                    .to_string_lossy()
                    .starts_with(".tailor-partial-")
            })
    };
    let started = std::time::Instant::now();
    while !partial() {
        assert!(
            child.try_wait().unwrap().is_none(),
            "link ended before writing"
        );
        assert!(
            started.elapsed().as_secs() < 120,
            "no partial output after 2 min"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let run = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(130), "{err}");
    assert!(err.contains("interrupted: removed 1"), "{err}");
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(
        left.is_empty(),
        "nothing partial and no output left: {left:?}"
    );
}

/// Two fresh builds of the fuzzy index over the default KB rank a first name's many namesakes
/// alike: before the index was built by one thread, ties on score were cut at a different place
/// each time, and a fresh clone did not retrieve what the shipped model was trained on.
#[test]
fn the_fuzzy_index_ranks_alike_from_one_build_to_the_next() {
    let ranked: Vec<String> = (0..3)
        .map(|_| {
            let kb = tempfile::tempdir().unwrap();
            copy_default_kb(kb.path());
            let out = tailor(&[
                "-q",
                "candidates",
                "Steve",
                "--kb",
                s(kb.path()),
                "--limit",
                "30",
            ]);
            assert!(out.status.success(), "{}", stderr(&out));
            String::from_utf8(out.stdout).unwrap()
        })
        .collect();
    assert!(ranked[0].contains("Steve"), "{}", ranked[0]);
    assert_eq!(ranked[0], ranked[1]);
    assert_eq!(ranked[0], ranked[2]);
}

/// A model read with another text encoder than it was trained with is refused by name: its
/// weights were fitted to that encoder's vectors.
#[test]
fn a_model_refuses_an_encoder_it_was_not_trained_with() {
    let encoder = root().join(".cache/encoder/all-MiniLM-L6-v2");
    let other = tempfile::tempdir().unwrap();
    let config = std::fs::read_to_string(encoder.join("config.json")).unwrap();
    std::fs::write(other.path().join("config.json"), config + "\n ").unwrap();
    std::fs::copy(
        encoder.join("tokenizer.json"),
        other.path().join("tokenizer.json"),
    )
    .unwrap();
    std::os::unix::fs::symlink(
        encoder.join("model.safetensors"),
        other.path().join("model.safetensors"),
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let input = write(dir.path(), "in.txt", b"Paris is the capital of France.");
    let out = dir.path().join("out.jsonl");
    let run = tailor(&[
        "link",
        "--encoder",
        s(other.path()),
        "--out",
        s(&out),
        s(&input),
    ]);
    assert!(!run.status.success());
    let err = stderr(&run);
    assert!(err.contains("trained with the text encoder"), "{err}");
    assert!(!out.exists());
}

#[test]
fn a_damaged_fuzzy_index_cache_is_rebuilt_with_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let kb = dir.path().join("kb");
    std::fs::create_dir(&kb).unwrap();
    copy_default_kb(&kb);
    let input = write(
        dir.path(),
        "a.txt",
        b"Angela Merkl met Steve Jobs in Paris.",
    );
    let out = dir.path().join("out.jsonl");
    let run_link = || {
        tailor(&[
            "link",
            "--prior-only",
            "--kb",
            s(&kb),
            "--out",
            s(&out),
            s(&input),
        ])
    };
    let first = run_link();
    assert!(first.status.success(), "{}", stderr(&first));
    let cache = std::fs::read_dir(&kb)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with(".fuzzy-")
        })
        .expect("the first run caches the fuzzy index");
    let victim = std::fs::read_dir(&cache)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|x| x == "term"))
        .expect("a term dictionary in the cache");
    std::fs::write(&victim, b"xx").unwrap();
    let before = std::fs::read_to_string(&out).unwrap();

    let second = run_link();
    let err = stderr(&second);
    assert!(second.status.success(), "{err}");
    assert!(
        err.contains("WARN") && err.contains(s(&cache)) && err.contains("rebuilding"),
        "{err}"
    );
    assert_eq!(std::fs::read_to_string(&out).unwrap(), before);
    assert!(std::fs::metadata(&victim).map_or(true, |m| m.len() > 2));
    // Rebuilt in place: a third run finds the cache sound.
    let third = run_link();
    assert!(third.status.success() && !stderr(&third).contains("WARN"));
}

#[test]
fn a_reader_that_stops_early_ends_the_run_quietly() {
    let corpus: Vec<String> = std::fs::read_dir(root().join("examples/corpus"))
        .unwrap()
        .map(|e| e.unwrap().path().to_string_lossy().into_owned())
        .collect();
    let mut link = vec!["-q", "link", "--prior-only", "--out", "-"];
    link.extend(corpus.iter().map(String::as_str));
    // one document whose line is larger than the output buffer, so the pipe breaks while it
    // serializes rather than between documents
    let dir = tempfile::tempdir().unwrap();
    let doc = serde_json::json!({"id": "long", "text": "Paris ".repeat(20_000)});
    let long = write(dir.path(), "long.jsonl", format!("{doc}\n").as_bytes());
    let long = ["-q", "link", "--prior-only", "--out", "-", s(&long)];
    // link writes more than a pipe holds after the reader has read 10 bytes; the others print
    // with `println!` to a reader that is gone before they start
    let runs: [(&[&str], usize); 4] = [
        (&link, 10),
        (&long, 10),
        (&["kb", "stats", "kb/default"], 0),
        (
            &["candidates", "Paris", "--kb", "kb/default", "--limit", "30"],
            0,
        ),
    ];
    for (args, read) in runs {
        use std::io::Read;
        use std::process::{Command, Stdio};
        let mut child = Command::new(env!("CARGO_BIN_EXE_tailor"))
            .current_dir(root())
            .args(args)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdout = child.stdout.take().unwrap();
        let mut first = vec![0u8; read];
        stdout.read_exact(&mut first).unwrap();
        drop(stdout);
        let run = child.wait_with_output().unwrap();
        let err = stderr(&run);
        assert!(run.status.success(), "{args:?}: {:?}: {err}", run.status);
        assert!(!err.contains("Broken pipe"), "{args:?}: {err}");
    }
}

/// An output onto an input, or into the KB being read, is refused before anything is written:
/// written aside and renamed into place, it would have replaced what the run read.
#[test]
fn an_output_that_would_replace_an_input_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(
        dir.path(),
        "self.jsonl",
        b"{\"id\": \"a\", \"text\": \"Paris\"}\n",
    );
    let before = std::fs::read(&input).unwrap();
    let spelled_apart = dir.path().join(".").join("self.jsonl");
    let run = link(&[&input], &spelled_apart, &[]);
    assert!(!run.status.success());
    assert!(
        stderr(&run).contains("also read by this run"),
        "{}",
        stderr(&run)
    );
    assert_eq!(
        std::fs::read(&input).unwrap(),
        before,
        "the input is untouched"
    );

    let kb = tempfile::tempdir().unwrap();
    copy_default_kb(kb.path());
    let table = kb.path().join("entities.parquet");
    let run = link(&[&input], &table, &["--kb", s(kb.path())]);
    assert!(!run.status.success());
    assert!(
        stderr(&run).contains("which this run reads"),
        "{}",
        stderr(&run)
    );

    let gold = root().join("../shared/data/eval/elevant/kore50.benchmark.jsonl");
    let copy = dir.path().join("kore50.benchmark.jsonl");
    std::fs::copy(&gold, &copy).unwrap();
    let run = tailor(&[
        "-q",
        "eval",
        "--prior-only",
        "--gold",
        s(&copy),
        "--records",
        s(&copy),
    ]);
    assert!(!run.status.success());
    assert!(stderr(&run).contains("--records"), "{}", stderr(&run));
    assert_eq!(std::fs::read(&copy).unwrap(), std::fs::read(&gold).unwrap());
}

/// The text encoder the model reads is guarded like the model: parts written into its
/// directory would sit among (and could replace) its files.
#[test]
fn an_output_into_the_text_encoder_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(
        dir.path(),
        "in.jsonl",
        b"{\"id\": \"a\", \"text\": \"Paris\"}\n",
    );
    let encoder = dir.path().join("encoder");
    std::fs::create_dir(&encoder).unwrap();
    write(&encoder, "config.json", b"{}");
    let into = encoder.join("parts");
    for extra in [&["--encoder", s(&encoder)][..], &[]] {
        let mut args = vec!["link", "--no-fuzzy", "--out", s(&into), s(&input)];
        args.extend(extra);
        let run = Command::new(env!("CARGO_BIN_EXE_tailor"))
            .current_dir(root())
            .args(&args)
            .env("RUST_LOG", "warn")
            .env("TAILOR_ENCODER", s(&encoder))
            .output()
            .unwrap();
        assert!(!run.status.success());
        let err = stderr(&run);
        assert!(err.contains("which this run reads"), "{extra:?}: {err}");
        assert!(err.contains(s(&encoder)), "{extra:?}: {err}");
        assert!(!into.exists(), "{extra:?}: the run wrote into the encoder");
    }
}

/// "American" names the United States in text far more often than any film or album called
/// so; no KB source gives that alias, and the miner finds it in descriptions such as "American
/// actor" beside a citizenship of the United States.
#[test]
fn an_adjective_retrieves_the_place_its_descriptions_point_to() {
    let first_line = |extra: &[&str]| {
        let mut args = vec![
            "candidates",
            "American",
            "--kb",
            "kb/default",
            "--limit",
            "30",
        ];
        args.extend_from_slice(extra);
        let run = ok(tailor(&args));
        String::from_utf8(run.stdout).unwrap()
    };
    let mined = first_line(&[]);
    let first = mined.lines().next().unwrap_or_default();
    assert!(
        first.contains("Q30 ") && first.contains("derived"),
        "{mined}"
    );
    let without = first_line(&["--no-derived-names"]);
    assert!(!without.contains("Q30 "), "{without}");
}

#[test]
fn an_output_never_lands_in_another_commands_output_or_the_current_directory() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(
        dir.path(),
        "docs.jsonl",
        b"{\"id\": \"a\", \"text\": \"Paris\"}\n",
    );
    // a KB this run does not read: a file over one of its tables, or a stranger among them
    let other = dir.path().join("other-kb");
    std::fs::create_dir(&other).unwrap();
    copy_default_kb(&other);
    let before = names_in(&other);
    for name in ["entities.parquet", "annotations.jsonl"] {
        let out = other.join(name);
        let run = link(&[&input], &out, &[]);
        assert!(!run.status.success(), "{name} was written");
        assert!(
            stderr(&run).contains("which is a KB store"),
            "{}",
            stderr(&run)
        );
    }
    assert_eq!(names_in(&other), before);
    // the current directory (the repository root here) is no directory of parts
    let run = link(&[&input], Path::new("./"), &[]);
    assert!(
        !run.status.success(),
        "parts went into the current directory"
    );
    assert!(
        stderr(&run).contains("current directory"),
        "{}",
        stderr(&run)
    );
    assert!(!root().join("_progress.json").exists());
}

/// Every name in a directory, hidden ones too, sorted.
fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(root().join(dir))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}
