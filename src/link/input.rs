//! Corpus readers: `.txt` (one document per file), `.jsonl` (`{"id", "text", "mentions"?}` a
//! line) and `.parquet` (`id` and `text` columns), each yielding documents in input order, or
//! a record error that names the file and record. `-` reads JSONL from standard input (the
//! form `RDD.pipe` and shell pipelines feed). Compressed `.gz` / `.zst` / `.bz2` text and JSONL
//! are looked through; compressed Parquet is refused, since Parquet needs a seekable file (and
//! compresses its pages itself). How one JSONL line becomes a document is
//! [`super::json_record`]'s.

use std::collections::BTreeSet;
use std::fs::File;
use std::io::BufRead;
use std::path::{Path, PathBuf};

use arrow::array::{Array, AsArray};
use arrow::datatypes::DataType;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use serde::Deserialize;

use super::error::LinkError;
use super::json_record::parse_json_record;
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

fn jsonl(path: &Path) -> Result<Box<dyn Iterator<Item = InputItem>>, LinkError> {
    Ok(jsonl_from(path, open(path)?))
}

/// JSONL documents from any reader. A read error (a truncated `.gz`, say) ends the stream after
/// being reported, with the line it happened at, so the documents before it still count.
pub(super) fn jsonl_from(
    path: &Path,
    reader: Box<dyn BufRead>,
) -> Box<dyn Iterator<Item = InputItem>> {
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
}
