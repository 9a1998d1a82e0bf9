//! Reader of ELEVANT benchmark files (`<name>.benchmark.jsonl`): one document a line,
//! `{id, title, text, evaluation_span, labels: [{id, span, entity_id, name, type, optional?,
//! coref?, parent?, children?}]}`, spans in code points.
//!
//! Out: a [`GoldSet`]. Every structural fault (a line that is not JSON, a missing field, a span
//! outside the text) is an error naming the file, the line and the field; an entity id of an
//! unknown shape is kept as [`GoldEntity::Malformed`] and only warned about, since the published
//! files hold a few on coreference labels.

use std::io::BufRead;
use std::path::Path;

use serde::Deserialize;

use super::error::EvalError;
use super::gold::{GoldDocument, GoldEntity, GoldMention, GoldSet};

#[derive(Deserialize)]
struct RawDocument {
    id: serde_json::Value,
    text: String,
    #[serde(default)]
    evaluation_span: Option<[usize; 2]>,
    labels: Vec<RawLabel>,
}

#[derive(Deserialize)]
struct RawLabel {
    id: Option<u64>,
    span: [usize; 2],
    entity_id: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(rename = "type", default)]
    types: Option<String>,
    #[serde(default)]
    optional: Option<bool>,
    #[serde(default)]
    coref: Option<bool>,
    #[serde(default)]
    parent: Option<u64>,
    #[serde(default)]
    children: Option<Vec<u64>>,
}

/// Reads a whole ELEVANT benchmark file.
pub fn read_elevant(path: &Path) -> Result<GoldSet, EvalError> {
    let file = std::fs::File::open(path).map_err(|source| EvalError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let mut documents: Vec<GoldDocument> = Vec::new();
    // a document given twice would be scored twice
    let mut first_line: std::collections::HashMap<String, usize> = Default::default();
    for (i, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line = line.map_err(|source| EvalError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        if line.trim().is_empty() {
            continue;
        }
        let doc = parse_line(path, i + 1, &line)?;
        if let Some(first) = first_line.insert(doc.id.clone(), i + 1) {
            return Err(EvalError::bad(
                path,
                format!("line {}", i + 1),
                "id",
                format!(
                    "document {:?} is given twice (first on line {first})",
                    doc.id
                ),
            ));
        }
        documents.push(doc);
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default()
        .trim_end_matches(".jsonl")
        .trim_end_matches(".benchmark")
        .to_string();
    Ok(GoldSet {
        name,
        path: path.to_path_buf(),
        documents,
    })
}

/// Parses and checks one line (1-based `line_no`).
pub fn parse_line(path: &Path, line_no: usize, line: &str) -> Result<GoldDocument, EvalError> {
    let record = format!("line {line_no}");
    let de = &mut serde_json::Deserializer::from_str(line);
    let raw: RawDocument = serde_path_to_error::deserialize(de).map_err(|e| {
        let field = e.path().to_string();
        EvalError::bad(path, &record, field, e.into_inner().to_string())
    })?;

    let chars: Vec<char> = raw.text.chars().collect();
    let len = chars.len();
    let evaluation_span = match raw.evaluation_span {
        Some([s, e]) if s <= e && e <= len => (s, e),
        Some([s, e]) => {
            return Err(EvalError::bad(
                path,
                &record,
                "evaluation_span",
                format!("[{s}, {e}) is not within the text of {len} characters"),
            ))
        }
        None => (0, len),
    };

    let mut mentions = Vec::with_capacity(raw.labels.len());
    for (j, l) in raw.labels.into_iter().enumerate() {
        let [start, end] = l.span;
        if start > end || end > len {
            return Err(EvalError::bad(
                path,
                &record,
                format!("labels[{j}].span"),
                format!("[{start}, {end}) is not within the text of {len} characters"),
            ));
        }
        let entity = GoldEntity::parse(&l.entity_id);
        if let GoldEntity::Malformed(id) = &entity {
            tracing::warn!(
                "{}: {record}: labels[{j}].entity_id: {id:?} is not a QID, <NIL>, \
                 <NO_MAPPING> or literal kind; the label is not scored",
                path.display()
            );
        }
        mentions.push(GoldMention {
            label: l.id,
            start,
            end,
            surface: chars[start..end].iter().collect(),
            entity,
            name: l.name,
            types: l
                .types
                .map(|t| {
                    t.split('|')
                        .filter(|s| !s.is_empty())
                        .map(String::from)
                        .collect()
                })
                .unwrap_or_default(),
            optional: l.optional.unwrap_or(false),
            coref: l.coref.unwrap_or(false),
            parent: l.parent,
            children: l.children.unwrap_or_default(),
        });
    }
    warn_contradicting_labels(path, &record, &mentions);
    let id = match raw.id {
        serde_json::Value::String(s) => s,
        other => other.to_string(),
    };
    Ok(GoldDocument {
        id,
        text: raw.text,
        evaluation_span,
        mentions,
    })
}

/// Two scored labels on one span with different answers cannot both be right: a system's
/// link there is scored against both, one true and one false positive at best. Said once per
/// span; the labels are still scored, as the benchmark gives them.
fn warn_contradicting_labels(path: &Path, record: &str, mentions: &[GoldMention]) -> usize {
    let scored: Vec<&GoldMention> = mentions.iter().filter(|m| m.is_scored()).collect();
    let mut warned = 0;
    for (i, a) in scored.iter().enumerate() {
        let first_on_span = !scored[..i]
            .iter()
            .any(|b| (b.start, b.end) == (a.start, a.end));
        let other = scored[i + 1..]
            .iter()
            .find(|b| (b.start, b.end) == (a.start, a.end) && b.entity != a.entity);
        if let (true, Some(b)) = (first_on_span, other) {
            tracing::warn!(
                "{}: {record}: two labels on [{}, {}) {:?} give different answers ({} and {}); \
                 both are scored",
                path.display(),
                a.start,
                a.end,
                a.surface,
                a.entity.qid().unwrap_or("<NIL>"),
                b.entity.qid().unwrap_or("<NIL>")
            );
            warned += 1;
        }
    }
    warned
}

#[cfg(test)]
mod tests {
    use super::*;

    const KORE50: &str = "../shared/data/eval/elevant/kore50.benchmark.jsonl";

    #[test]
    fn reads_the_first_kore50_documents() {
        let text = std::fs::read_to_string(KORE50).unwrap();
        let mut lines = text.lines();
        let doc = parse_line(Path::new(KORE50), 1, lines.next().unwrap()).unwrap();
        assert_eq!(doc.id, "0");
        assert_eq!(doc.evaluation_span, (0, 118));
        let got: Vec<_> = doc
            .mentions
            .iter()
            .map(|m| (m.surface.as_str(), m.entity.qid().unwrap()))
            .collect();
        assert_eq!(
            got,
            [
                ("Steve", "Q19837"),
                ("Apple", "Q312"),
                ("Stanford", "Q41506")
            ]
        );
        assert_eq!(doc.mentions[1].types, ["Q2424752", "Q431289", "Q43229"]);
        assert!(doc.mentions.iter().all(GoldMention::is_scored));

        let second = parse_line(Path::new(KORE50), 2, lines.next().unwrap()).unwrap();
        assert_eq!(second.mentions.len(), 4);
        assert_eq!(second.mentions[3].surface, "Windows");
    }

    #[test]
    fn whole_file_and_name() {
        let set = read_elevant(Path::new(KORE50)).unwrap();
        assert_eq!(set.name, "kore50");
        assert_eq!(set.documents.len(), 50);
        let counts = set.label_counts();
        assert_eq!(counts.labels, 144);
        assert_eq!(counts.scored_entities, 143);
    }

    #[test]
    fn code_point_offsets_and_flags() {
        let line = r#"{"id": 7, "text": "Zürich und Köln. Er", "labels": [
            {"id": 0, "span": [0, 6], "entity_id": "Q72", "name": "Zürich", "type": "Q515"},
            {"id": 1, "span": [11, 15], "entity_id": "Q365", "optional": true},
            {"id": 2, "span": [17, 19], "entity_id": "Q72", "coref": true},
            {"id": 3, "span": [0, 3], "entity_id": "DATETIME", "parent": 0}]}"#;
        let doc = parse_line(Path::new("x.jsonl"), 1, &line.replace('\n', " ")).unwrap();
        assert_eq!(doc.mentions[1].surface, "Köln");
        assert_eq!(doc.evaluation_span, (0, 19));
        let scored: Vec<bool> = doc.mentions.iter().map(GoldMention::is_scored).collect();
        assert_eq!(scored, [true, false, false, false]);
    }

    #[test]
    fn span_outside_the_text_names_line_and_field() {
        let line = r#"{"id": 1, "text": "short", "labels": [{"id": 0, "span": [0, 5],
            "entity_id": "Q1"}, {"id": 1, "span": [3, 9], "entity_id": "Q2"}]}"#;
        let err = parse_line(Path::new("g.jsonl"), 12, &line.replace('\n', " "))
            .unwrap_err()
            .to_string();
        assert!(err.contains("g.jsonl"), "{err}");
        assert!(err.contains("line 12"), "{err}");
        assert!(err.contains("labels[1].span"), "{err}");
    }

    #[test]
    fn contradicting_labels_on_one_span_are_counted_once() {
        let line = r#"{"id": 1, "text": "Paris is big", "labels": [
            {"id": 0, "span": [0, 5], "entity_id": "Q90"},
            {"id": 1, "span": [0, 5], "entity_id": "Q167646"},
            {"id": 2, "span": [0, 5], "entity_id": "Q90"},
            {"id": 3, "span": [9, 12], "entity_id": "Q1"},
            {"id": 4, "span": [9, 12], "entity_id": "Q1"}]}"#;
        let doc = parse_line(Path::new("g.jsonl"), 1, &line.replace('\n', " ")).unwrap();
        assert_eq!(doc.mentions.len(), 5, "all labels are kept");
        assert_eq!(
            warn_contradicting_labels(Path::new("g.jsonl"), "line 1", &doc.mentions),
            1,
            "one span, said once; agreeing labels say nothing"
        );
    }

    #[test]
    fn a_document_given_twice_names_both_lines() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("dup.benchmark.jsonl");
        let doc = r#"{"id": 3, "text": "Paris", "labels": []}"#;
        let other = r#"{"id": 4, "text": "Rome", "labels": []}"#;
        std::fs::write(&path, format!("{doc}\n{other}\n\n{doc}\n")).unwrap();
        let err = read_elevant(&path).unwrap_err().to_string();
        assert!(
            err.contains("line 4: id") && err.contains("given twice (first on line 1)"),
            "{err}"
        );
    }

    #[test]
    fn bad_json_and_missing_fields_name_the_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.benchmark.jsonl");
        let good = std::fs::read_to_string(KORE50).unwrap();
        let first = good.lines().next().unwrap();
        std::fs::write(&path, format!("{first}\nthis is not json\n")).unwrap();
        let err = read_elevant(&path).unwrap_err().to_string();
        assert!(err.contains("bad.benchmark.jsonl: line 2"), "{err}");

        let missing = r#"{"id": 1, "text": "a", "labels": [{"id": 0, "span": [0, 1]}]}"#;
        let err = parse_line(&path, 3, missing).unwrap_err().to_string();
        assert!(err.contains("line 3") && err.contains("labels[0]"), "{err}");
        assert!(err.contains("entity_id"), "{err}");
    }
}
