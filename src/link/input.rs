//! Corpus readers: `.txt` (one document per file), `.jsonl` (`{"id", "text", "mentions"?}` a
//! line) and `.parquet` (`id` and `text` columns), each yielding documents in input order, or
//! a record error that names the file and record. `-` reads JSONL from standard input (the
//! form `RDD.pipe` and shell pipelines feed). Compressed `.gz` / `.zst` / `.bz2` text and JSONL
//! are looked through; compressed Parquet is refused, since Parquet needs a seekable file (and
//! compresses its pages itself).

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::BufRead;
use std::path::{Path, PathBuf};

use arrow::array::{Array, AsArray};
use arrow::datatypes::DataType;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use serde::Deserialize;

use super::error::LinkError;
use crate::kb::open_source;

/// A gold mention span given with the input (gold-mention mode).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
pub struct GivenSpan {
    pub start: usize,
    pub end: usize,
}

/// One document to link.
#[derive(Debug, Clone, PartialEq)]
pub struct InputDocument {
    pub id: String,
    pub text: String,
    /// Mention spans given by the input; `None` means detect mentions.
    pub mentions: Option<Vec<GivenSpan>>,
    /// Where the document stood in its input (`line 3`, `row 7`, the file name for a text
    /// file), so an error about it, a repeated id say, can point at it.
    pub record: String,
}

/// A document or the error that replaced it, with where it came from.
pub type InputItem = Result<InputDocument, LinkError>;

/// Opens an input by extension (`.gz` / `.zst` / `.bz2` are looked through).
pub fn read_input(path: &Path) -> Result<Box<dyn Iterator<Item = InputItem>>, LinkError> {
    if path.as_os_str() == "-" {
        let stdin = std::io::BufReader::with_capacity(1 << 20, std::io::stdin());
        return Ok(jsonl_from(Path::new("<stdin>"), Box::new(stdin)));
    }
    let name = path.to_string_lossy().to_lowercase();
    let compressed = ["gz", "zst", "bz2"]
        .iter()
        .find_map(|ext| name.strip_suffix(&format!(".{ext}")));
    let stem = compressed.unwrap_or(&name).to_string();
    if stem.ends_with(".jsonl") || stem.ends_with(".ndjson") {
        jsonl(path)
    } else if stem.ends_with(".parquet") && compressed.is_some() {
        Err(LinkError::BadInput {
            path: path.to_path_buf(),
            message: "compressed Parquet cannot be read: Parquet needs a seekable file and \
                      compresses its pages itself; decompress it first"
                .into(),
        })
    } else if stem.ends_with(".parquet") {
        parquet(path)
    } else if stem.ends_with(".txt") || stem.ends_with(".text") {
        Ok(Box::new(std::iter::once(text_file(path))))
    } else {
        Err(LinkError::BadInput {
            path: path.to_path_buf(),
            message: "unknown input format: expected .txt, .jsonl or .parquet".into(),
        })
    }
}

/// Opens `path`, decompressing by extension; a failure names the path once (the KB error
/// already names it).
fn open(path: &Path) -> Result<Box<dyn BufRead>, LinkError> {
    open_source(path, None).map_err(|e| match e {
        crate::kb::KbError::Io { source, .. } => LinkError::io(path, source),
        other => LinkError::BadInput {
            path: path.to_path_buf(),
            message: other.to_string(),
        },
    })
}

/// When `bytes` (the start of a file that is not valid UTF-8) begin with the magic number of
/// a compressed format, says so: a `corpus.jsonl` that is really gzip would otherwise fail as
/// "invalid UTF-8".
fn compressed_as(path: &Path, bytes: &[u8]) -> Option<String> {
    let (format, ext) = if bytes.starts_with(&[0x1f, 0x8b]) {
        ("gzip", ".gz")
    } else if bytes.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        ("zstd", ".zst")
    } else if bytes.starts_with(b"BZh") && bytes.get(4..10) == Some(&b"1AY&SY"[..]) {
        ("bzip2", ".bz2")
    } else {
        return None;
    };
    Some(format!(
        "the file looks {format}-compressed, not text: name it {}{ext} so it is decompressed",
        path.file_name().unwrap_or_default().to_string_lossy()
    ))
}

fn text_file(path: &Path) -> InputItem {
    let mut bytes = Vec::new();
    let mut reader = open(path)?;
    std::io::Read::read_to_end(&mut reader, &mut bytes).map_err(|e| LinkError::io(path, e))?;
    let id = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    // an editor's byte-order mark is no part of the document
    if bytes.starts_with(BOM.as_bytes()) {
        bytes.drain(..BOM.len());
    }
    let text = String::from_utf8(bytes).map_err(|e| {
        let message = compressed_as(path, e.as_bytes())
            .unwrap_or_else(|| format!("invalid UTF-8 at byte {}", e.utf8_error().valid_up_to()));
        LinkError::bad(path, &id, message)
    })?;
    Ok(InputDocument {
        text,
        mentions: None,
        record: id.clone(),
        id,
    })
}

/// The UTF-8 byte-order mark some editors put at the start of a file.
const BOM: &str = "\u{feff}";

#[derive(Deserialize)]
struct JsonDocument {
    id: Option<serde_json::Value>,
    text: Option<String>,
    mentions: Option<Vec<GivenSpan>>,
    /// Fields tailor does not read (a corpus's `url`, `title`), kept by name only, so that a
    /// misspelt `mentions` is reported instead of silently linking detected mentions.
    #[serde(flatten)]
    other: BTreeMap<String, serde::de::IgnoredAny>,
}

fn jsonl(path: &Path) -> Result<Box<dyn Iterator<Item = InputItem>>, LinkError> {
    Ok(jsonl_from(path, open(path)?))
}

/// JSONL documents from any reader. A read error (a truncated `.gz`, say) ends the stream after
/// being reported, with the line it happened at, so the documents before it still count.
fn jsonl_from(path: &Path, reader: Box<dyn BufRead>) -> Box<dyn Iterator<Item = InputItem>> {
    let path: PathBuf = path.to_path_buf();
    let mut line_no = 0u64;
    let mut split = reader.split(b'\n');
    let mut failed = false;
    let mut reported: BTreeSet<String> = BTreeSet::new();
    Box::new(std::iter::from_fn(move || loop {
        if failed {
            return None;
        }
        let raw = match split.next()? {
            Ok(raw) => raw,
            Err(e) => {
                failed = true;
                let message = format!("read error after line {line_no}: {e}");
                return Some(Err(LinkError::bad(
                    &path,
                    format!("line {}", line_no + 1),
                    message,
                )));
            }
        };
        line_no += 1;
        let record = format!("line {line_no}");
        let Ok(mut line) = std::str::from_utf8(&raw) else {
            let message = match compressed_as(&path, &raw).filter(|_| line_no == 1) {
                Some(found) => found,
                None => "invalid UTF-8".into(),
            };
            return Some(Err(LinkError::bad(&path, record, message)));
        };
        if line_no == 1 {
            line = line.strip_prefix(BOM).unwrap_or(line);
        }
        if line.trim().is_empty() {
            continue;
        }
        return Some(match parse_json_record(line) {
            Ok((doc, other)) => {
                for field in other {
                    if !reported.contains(&field) {
                        tracing::warn!(
                            "{}: {record}: field \"{field}\" is ignored (tailor reads \"id\", \
                             \"text\" and \"mentions\"); said once per field",
                            path.display()
                        );
                        reported.insert(field);
                    }
                }
                Ok(InputDocument { record, ..doc })
            }
            Err((id, m)) => Err(LinkError::bad(&path, record, m).with_id(id)),
        });
    }))
}

#[cfg(test)]
fn parse_json_document(line: &str) -> Result<InputDocument, String> {
    parse_json_record(line)
        .map(|(doc, _)| doc)
        .map_err(|(_, message)| message)
}

/// A number id as text, when it is an exact integer of 64 bits. Any other number (2^64 or more,
/// 1.5, 1e3) is read through a float: rounded, two ids could become one, so it is refused with
/// a message saying to give it as a string.
pub(crate) fn number_id(n: &serde_json::Number) -> Result<String, String> {
    if n.is_i64() || n.is_u64() {
        return Ok(n.to_string());
    }
    Err(format!(
        "field \"id\" is the number {n}, which is not an integer within 64 bits and would be \
         rounded, so two ids could become one: give it as a string (\"id\": \"...\")"
    ))
}

/// [`parse_json_document`], also giving the record's id with an error found after the id was
/// read, and the names of the fields it does not read.
fn parse_json_record(line: &str) -> Result<(InputDocument, Vec<String>), (Option<String>, String)> {
    // serde reads a struct from an array too, by position: ["text", "id", null] would pass
    // with its id and text swapped
    if !line.trim_start().starts_with('{') {
        return Err(match serde_json::from_str::<serde_json::Value>(line) {
            Ok(_) => (None, not_an_object(line)),
            Err(e) => (None, format!("not a JSON document: {e}")),
        });
    }
    let mut de = serde_json::Deserializer::from_str(line);
    let doc: JsonDocument =
        serde_path_to_error::deserialize(&mut de).map_err(|e| match e.inner().classify() {
            serde_json::error::Category::Data
                if e.path().iter().next().is_none() && !line.trim_start().starts_with('{') =>
            {
                (None, not_an_object(line))
            }
            serde_json::error::Category::Data => {
                (None, format!("field \"{}\": {}", e.path(), e.inner()))
            }
            _ => (None, format!("not a JSON document: {}", e.inner())),
        })?;
    // the deserializer stops after the first object: a second document on the line, or junk
    // after it, would otherwise be dropped without a word
    if let Err(e) = de.end() {
        return Err((None, after_the_object(line, e.column())));
    }
    let id = match doc.id {
        Some(serde_json::Value::String(s)) if !s.is_empty() => s,
        Some(serde_json::Value::Number(n)) => number_id(&n).map_err(|m| (None, m))?,
        Some(_) => {
            let message = "field \"id\" must be a non-empty string or a number";
            return Err((None, message.into()));
        }
        None => return Err((None, "field \"id\" is missing".into())),
    };
    let Some(text) = doc.text else {
        return Err((Some(id), "field \"text\" is missing".into()));
    };
    if let Some(spans) = &doc.mentions {
        check_spans(&text, spans).map_err(|m| (Some(id.clone()), m))?;
    }
    let other = doc.other.into_keys().collect();
    Ok((
        InputDocument {
            id,
            text,
            mentions: doc.mentions,
            record: String::new(),
        },
        other,
    ))
}

/// The error for content after a line's object, at 1-based byte `column`: another document (a
/// file whose newlines were lost, say) or anything else.
fn after_the_object(line: &str, column: usize) -> String {
    let rest = line.get(column.saturating_sub(1)..).unwrap_or_default();
    if rest.starts_with('{') {
        format!(
            "more than one JSON value on the line (the second starts at column {column}): one \
             document per line"
        )
    } else {
        format!(
            "unexpected text after the JSON object at column {column}: one document per line, \
             and nothing after it"
        )
    }
}

/// The error for a line that is JSON but not an object, naming what it is instead (serde's
/// own, `invalid length 1, expected struct`, does not say what a line must be).
fn not_an_object(line: &str) -> String {
    let found = match line.trim_start().chars().next() {
        Some('[') => "an array",
        Some('"') => "a string",
        Some('t' | 'f') => "a boolean",
        Some('n') => "null",
        _ => "a number",
    };
    format!("each line must be a JSON object with \"id\" and \"text\", not {found}")
}

/// Every given span must be a non-empty range of the text's code points.
pub(crate) fn check_spans(text: &str, spans: &[GivenSpan]) -> Result<(), String> {
    let len = text.chars().count();
    for (i, s) in spans.iter().enumerate() {
        if s.start >= s.end {
            return Err(format!(
                "field \"mentions[{i}]\": span [{}, {}) is empty (start must be below end)",
                s.start, s.end
            ));
        }
        if s.end > len {
            return Err(format!(
                "field \"mentions[{i}]\": span [{}, {}) is outside the text of {len} characters",
                s.start, s.end
            ));
        }
    }
    Ok(())
}

fn parquet(path: &Path) -> Result<Box<dyn Iterator<Item = InputItem>>, LinkError> {
    let pq = |source| LinkError::Parquet {
        path: path.to_path_buf(),
        source,
    };
    let file = File::open(path).map_err(|e| LinkError::io(path, e))?;
    let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(pq)?;
    let schema = builder.schema().clone();
    let column = |name: &str| schema.fields().iter().position(|f| f.name() == name);
    let text_at = column("text").ok_or_else(|| LinkError::BadInput {
        path: path.to_path_buf(),
        message: "no `text` column".into(),
    })?;
    let id_at = column("id");
    for (at, name) in [(Some(text_at), "text"), (id_at, "id")] {
        if let Some(at) = at {
            let dt = schema.field(at).data_type();
            let ok = matches!(
                dt,
                DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
            ) || (name == "id" && dt.is_integer());
            if !ok {
                return Err(LinkError::BadInput {
                    path: path.to_path_buf(),
                    message: format!("column `{name}` has type {dt}, expected a string"),
                });
            }
        }
    }
    let reader = builder.with_batch_size(1024).build().map_err(pq)?;
    let path = path.to_path_buf();
    let mut row = 0u64;
    let docs = reader.flat_map(move |batch| -> Vec<InputItem> {
        let batch = match batch {
            Ok(b) => b,
            Err(source) => {
                return vec![Err(LinkError::Arrow {
                    path: path.clone(),
                    source,
                })]
            }
        };
        let cast = |at: usize| arrow::compute::cast(batch.column(at), &DataType::Utf8);
        let (texts, ids) = match (cast(text_at), id_at.map(cast).transpose()) {
            (Ok(t), Ok(i)) => (t, i),
            (Err(source), _) | (_, Err(source)) => {
                return vec![Err(LinkError::Arrow {
                    path: path.clone(),
                    source,
                })]
            }
        };
        let texts = texts.as_string::<i32>().clone();
        (0..batch.num_rows())
            .map(|i| {
                row += 1;
                let record = format!("row {row}");
                let id = match &ids {
                    Some(ids) if ids.is_valid(i) => ids.as_string::<i32>().value(i).to_string(),
                    Some(_) => return Err(LinkError::bad(&path, record, "`id` is null")),
                    None => row.to_string(),
                };
                if !texts.is_valid(i) {
                    return Err(LinkError::bad(&path, record, "`text` is null"));
                }
                Ok(InputDocument {
                    id,
                    text: texts.value(i).to_string(),
                    mentions: None,
                    record,
                })
            })
            .collect()
    });
    Ok(Box::new(docs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_documents_are_checked() {
        let doc = parse_json_document(r#"{"id": 7, "text": "Paris"}"#).unwrap();
        assert_eq!(doc.id, "7");
        for id in ["-9223372036854775808", "18446744073709551615"] {
            let doc = parse_json_document(&format!(r#"{{"id": {id}, "text": "x"}}"#)).unwrap();
            assert_eq!(doc.id, id);
        }
        // past 64 bits, or not an integer, a number id would be rounded through a float
        for id in [
            "12345678901234567890123",
            "18446744073709551616",
            "1.5",
            "1e3",
            "-0.0",
        ] {
            let err = parse_json_document(&format!(r#"{{"id": {id}, "text": "x"}}"#)).unwrap_err();
            assert!(
                err.contains("not an integer within 64 bits")
                    && err.contains("give it as a string"),
                "{id}: {err}"
            );
        }
        let err = parse_json_document(r#"{"text": "x"}"#).unwrap_err();
        assert!(err.contains("\"id\" is missing"));
        let err =
            parse_json_document(r#"{"id":"a","text":"abc","mentions":[{"start":1,"end":9}]}"#)
                .unwrap_err();
        assert!(err.contains("outside the text of 3 characters"), "{err}");
        assert!(err.contains("mentions[0]"), "{err}");
        let err = parse_json_document(
            r#"{"id":"a","text":"abc","mentions":[{"start":0,"end":1},{"start":2,"end":2}]}"#,
        )
        .unwrap_err();
        assert!(
            err.contains("mentions[1]") && err.contains("is empty"),
            "{err}"
        );
        assert!(parse_json_document("{oops")
            .unwrap_err()
            .contains("not a JSON document"));
    }

    #[test]
    fn fields_not_read_are_named_and_wrong_types_keep_their_path() {
        let line = r#"{"id":"a","text":"Paris","url":"x","mentons":[{"start":0,"end":5}]}"#;
        let (doc, other) = parse_json_record(line).unwrap();
        assert_eq!(doc.mentions, None);
        assert_eq!(other, ["mentons", "url"]);
        let err = parse_json_document(r#"{"id":"a","text":5,"url":"x"}"#).unwrap_err();
        assert!(
            err.contains("field \"text\"") && err.contains("integer"),
            "{err}"
        );
        let line = r#"{"id":"a","text":"abc","mentions":[{"start":"0","end":1}]}"#;
        let err = parse_json_document(line).unwrap_err();
        assert!(err.contains("mentions[0].start"), "{err}");
    }

    #[test]
    fn a_line_that_is_not_an_object_says_what_a_line_must_be() {
        for (line, found) in [
            ("[1]", "not an array"),
            ("[\"Paris is big\", \"doc7\", null]", "not an array"),
            (r#""x""#, "not a string"),
            ("3", "not a number"),
            ("null", "not null"),
        ] {
            let err = parse_json_document(line).unwrap_err();
            assert!(
                err.starts_with("each line must be a JSON object with \"id\" and \"text\""),
                "{line}: {err}"
            );
            assert!(err.contains(found), "{line}: {err}");
        }
        let path = Path::new("corpus.jsonl");
        let lines = "{\"id\": \"a\", \"text\": \"x\"}\n[1]\n";
        let items: Vec<InputItem> =
            jsonl_from(path, Box::new(std::io::Cursor::new(lines))).collect();
        let err = items[1].as_ref().unwrap_err().to_string();
        assert!(
            err.starts_with("corpus.jsonl: record line 2: each line must be"),
            "{err}"
        );
    }

    #[test]
    fn a_byte_order_mark_is_skipped() {
        let lines = "\u{feff}{\"id\": \"a\", \"text\": \"x\"}\n{\"id\": \"b\", \"text\": \"y\"}\n";
        let docs: Vec<InputDocument> = jsonl_from(
            Path::new("bom.jsonl"),
            Box::new(std::io::Cursor::new(lines)),
        )
        .collect::<Result<_, _>>()
        .unwrap();
        assert_eq!(docs.len(), 2);
        assert_eq!((docs[0].id.as_str(), docs[0].text.as_str()), ("a", "x"));

        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("bom.txt");
        std::fs::write(&file, "\u{feff}Paris is in France.").unwrap();
        let doc = text_file(&file).unwrap();
        assert_eq!(doc.text, "Paris is in France.");
    }

    #[test]
    fn content_after_the_object_is_refused() {
        let err =
            parse_json_document(r#"{"id":"a","text":"Paris."} {"id":"b","text":"x"}"#).unwrap_err();
        assert!(
            err.starts_with(
                "more than one JSON value on the line (the second starts at column 28)"
            ),
            "{err}"
        );
        assert!(err.ends_with("one document per line"), "{err}");
        let err =
            parse_json_document(r#"{"id":"a","text":"Paris."} trailing garbage"#).unwrap_err();
        assert!(
            err.starts_with("unexpected text after the JSON object at column 28"),
            "{err}"
        );
        // whitespace after the object is no content
        let doc = parse_json_document("{\"id\":\"a\",\"text\":\"Paris.\"}  \t\r").unwrap();
        assert_eq!(doc.text, "Paris.");
        let lines = "{\"id\":\"a\",\"text\":\"x\"}\n{\"id\":\"b\",\"text\":\"y\"}{\"id\":\"c\"}\n";
        let items: Vec<InputItem> = jsonl_from(
            Path::new("two.jsonl"),
            Box::new(std::io::Cursor::new(lines)),
        )
        .collect();
        assert_eq!(items.len(), 2);
        let err = items[1].as_ref().unwrap_err().to_string();
        assert!(
            err.starts_with("two.jsonl: record line 2: more than one JSON value"),
            "{err}"
        );
    }

    #[test]
    fn a_compressed_file_without_its_extension_is_named_compressed() {
        use std::io::Write;
        let dir = tempfile::tempdir().unwrap();
        let gz = dir.path().join("corpus.jsonl");
        let mut enc =
            flate2::write::GzEncoder::new(File::create(&gz).unwrap(), flate2::Compression::fast());
        enc.write_all(b"{\"id\":\"a\",\"text\":\"Paris.\"}\n")
            .unwrap();
        enc.finish().unwrap();
        let err = read_input(&gz)
            .unwrap()
            .next()
            .unwrap()
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("record line 1: the file looks gzip-compressed")
                && err.ends_with("name it corpus.jsonl.gz so it is decompressed"),
            "{err}"
        );
        let zst = dir.path().join("doc.txt");
        std::fs::write(
            &zst,
            zstd::encode_all(&b"Paris is in France."[..], 3).unwrap(),
        )
        .unwrap();
        let err = text_file(&zst).unwrap_err().to_string();
        assert!(
            err.contains("looks zstd-compressed") && err.contains("name it doc.txt.zst"),
            "{err}"
        );
        // text that is merely not UTF-8 is still said to be that
        std::fs::write(&zst, b"Caf\xe9").unwrap();
        let err = text_file(&zst).unwrap_err().to_string();
        assert!(err.ends_with("invalid UTF-8 at byte 3"), "{err}");
    }

    #[test]
    fn an_unopenable_input_names_its_path_once() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["gone.jsonl", "gone.txt", "gone.jsonl.gz"] {
            let path = dir.path().join(name);
            let err = match read_input(&path) {
                Err(e) => e.to_string(),
                Ok(mut items) => items.next().unwrap().unwrap_err().to_string(),
            };
            let shown = path.display().to_string();
            assert_eq!(err.matches(&shown).count(), 1, "{err}");
            assert!(err.starts_with(&format!("{shown}: ")), "{err}");
        }
    }

    #[test]
    fn a_field_of_the_wrong_type_is_named() {
        let err = parse_json_document(r#"{"id": "a", "text": 42}"#).unwrap_err();
        assert!(err.starts_with("field \"text\": invalid type"), "{err}");
        let err = parse_json_document(r#"{"id": "a", "text": "x", "mentions": [{"start": "0"}]}"#)
            .unwrap_err();
        assert!(err.starts_with("field \"mentions[0].start\""), "{err}");
    }
}
