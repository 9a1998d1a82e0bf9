//! One JSONL line → one document: the `{"id", "text", "mentions"?}` object checked field by
//! field, so a bad line is refused naming what is wrong with it, never half read. The batch
//! reader and `tailor serve` share the id and span rules.

use std::collections::BTreeSet;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, Visitor};

use super::input::{GivenSpan, InputDocument};

/// A record's fields as read, before they are checked. Read by [`RecordVisitor`], not derived,
/// so that a `null` field is told from an absent one and a key given twice is named.
#[derive(Default)]
struct JsonDocument {
    /// `Some(Value::Null)` for `"id": null`.
    id: Option<serde_json::Value>,
    /// `Some(None)` for `"text": null`.
    text: Option<Option<String>>,
    /// `Some(None)` for `"mentions": null`, which is read as no given mentions, like an absent
    /// field.
    mentions: Option<Option<Vec<GivenSpan>>>,
    /// Fields tailor does not read (a corpus's `url`, `title`), kept by name only, so that a
    /// misspelt `mentions` is reported instead of silently linking detected mentions.
    other: BTreeSet<String>,
}

impl<'de> Deserialize<'de> for JsonDocument {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(RecordVisitor)
    }
}

struct RecordVisitor;

/// Stores the value of field `name` read by `read`, refusing a second one.
fn once<T, E: de::Error>(
    slot: &mut Option<T>,
    name: &str,
    read: impl FnOnce() -> Result<T, E>,
) -> Result<(), E> {
    if slot.is_some() {
        return Err(E::custom(format!(
            "field \"{name}\" appears twice in the record: give it once"
        )));
    }
    *slot = Some(read()?);
    Ok(())
}

impl<'de> Visitor<'de> for RecordVisitor {
    type Value = JsonDocument;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object with \"id\" and \"text\"")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<JsonDocument, A::Error> {
        let mut doc = JsonDocument::default();
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "id" => once(&mut doc.id, "id", || map.next_value())?,
                "text" => once(&mut doc.text, "text", || map.next_value())?,
                "mentions" => once(&mut doc.mentions, "mentions", || map.next_value())?,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                    doc.other.insert(key);
                }
            }
        }
        Ok(doc)
    }
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
pub(super) fn parse_json_record(
    line: &str,
) -> Result<(InputDocument, Vec<String>), (Option<String>, String)> {
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
            // an error of the record itself (a key given twice) names its field already
            serde_json::error::Category::Data if e.path().iter().next().is_none() => {
                (None, record_error(e.inner()))
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
        Some(serde_json::Value::Null) => {
            let message = "field \"id\" is null: a non-empty string or a number is expected";
            return Err((None, message.into()));
        }
        Some(_) => {
            let message = "field \"id\" must be a non-empty string or a number";
            return Err((None, message.into()));
        }
        None => return Err((None, "field \"id\" is missing".into())),
    };
    let text = match doc.text {
        Some(Some(text)) => text,
        Some(None) => {
            let message = "field \"text\" is null: a string is expected";
            return Err((Some(id), message.into()));
        }
        None => return Err((Some(id), "field \"text\" is missing".into())),
    };
    let mentions = doc.mentions.flatten();
    if let Some(spans) = &mentions {
        check_spans(&text, spans).map_err(|m| (Some(id.clone()), m))?;
    }
    let other = doc.other.into_iter().collect();
    Ok((
        InputDocument {
            id,
            text,
            mentions,
            record: String::new(),
        },
        other,
    ))
}

/// An error of the whole record, its column said in the words of the other errors of a line
/// (serde_json's own suffix, `at line 1 column 31`, repeats the line the caller names).
fn record_error(e: &serde_json::Error) -> String {
    let full = e.to_string();
    let suffix = format!(" at line {} column {}", e.line(), e.column());
    let bare = full.strip_suffix(&suffix).unwrap_or(&full);
    format!("{bare} (column {})", e.column())
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

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::link::input::{jsonl_from, InputItem};

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
    fn a_field_of_the_wrong_type_is_named() {
        let err = parse_json_document(r#"{"id": "a", "text": 42}"#).unwrap_err();
        assert!(err.starts_with("field \"text\": invalid type"), "{err}");
        let err = parse_json_document(r#"{"id": "a", "text": "x", "mentions": [{"start": "0"}]}"#)
            .unwrap_err();
        assert!(err.starts_with("field \"mentions[0].start\""), "{err}");
    }

    #[test]
    fn a_null_field_is_told_from_a_missing_one() {
        let err = parse_json_document(r#"{"id": "a", "text": null}"#).unwrap_err();
        assert_eq!(err, "field \"text\" is null: a string is expected");
        let err = parse_json_document(r#"{"id": null, "text": "x"}"#).unwrap_err();
        assert_eq!(
            err,
            "field \"id\" is null: a non-empty string or a number is expected"
        );
        let err = parse_json_document(r#"{"id": "a"}"#).unwrap_err();
        assert_eq!(err, "field \"text\" is missing");
        let doc = parse_json_document(r#"{"id": "a", "text": "x", "mentions": null}"#).unwrap();
        assert_eq!(doc.mentions, None, "null mentions are no given mentions");
    }

    #[test]
    fn a_key_given_twice_is_named() {
        for (line, key) in [
            (r#"{"id": "a", "text": "Paris", "text": "Rome"}"#, "text"),
            (r#"{"id": "a", "id": "b", "text": "Paris"}"#, "id"),
            (
                r#"{"id": "a", "text": "x", "mentions": [], "mentions": null}"#,
                "mentions",
            ),
        ] {
            let err = parse_json_document(line).unwrap_err();
            assert!(
                err.starts_with(&format!(
                    "field \"{key}\" appears twice in the record: give it once (column "
                )),
                "{line}: {err}"
            );
        }
        // a field tailor does not read is named once however often it is given
        let (_, other) = parse_json_record(r#"{"id":"a","text":"x","url":1,"url":2}"#).unwrap();
        assert_eq!(other, ["url"]);
    }
}
