//! Reading a `POST /link` body into the documents to link, or the 4xx that says why not.
//!
//! In: the raw body bytes and the server's limits. Out: the documents, and whether the body was
//! a batch (`{"documents": [...]}`, answered as a batch) or one document (answered as one).
//! The body is read as a JSON value first and its shape decided by hand rather than by an
//! untagged serde enum: serde would read a batch with a stray top-level `"text"` as the batch
//! alone, and a `"documents"` object as one document with an unknown field, and neither answer
//! tells the client what it got wrong.

use std::collections::HashMap;

use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::Value;

use super::input::{GivenSpan, InputDocument};
use super::json_record::check_spans;
use super::serve::{ApiError, ServeLimits};

/// The fields of one document; a batch body has `"documents"` alone.
const DOCUMENT_FIELDS: [&str; 3] = ["id", "text", "mentions"];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DocumentRequest {
    id: Option<Value>,
    text: Option<String>,
    mentions: Option<Vec<GivenSpan>>,
}

fn unprocessable(message: String) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, message)
}

/// How a client would name the JSON type it sent.
fn kind(value: &Value) -> &'static str {
    match value {
        Value::Object(_) => "an object",
        Value::Array(_) => "an array",
        Value::String(_) => "a string",
        Value::Bool(_) => "a boolean",
        Value::Null => "null",
        Value::Number(_) => "a number",
    }
}

/// The documents of a `/link` body and whether it was a batch.
pub(super) fn parse_link_body(
    body: &[u8],
    limits: &ServeLimits,
) -> Result<(Vec<InputDocument>, bool), ApiError> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, format!("invalid JSON: {e}")))?;
    let (values, batch) = match value {
        Value::Object(mut fields) if fields.contains_key("documents") => {
            if let Some(both) = DOCUMENT_FIELDS.iter().find(|f| fields.contains_key(**f)) {
                return Err(unprocessable(format!(
                    "send either one document ({{\"text\": ...}}) or a batch \
                     ({{\"documents\": [...]}}), not both: this request has \"documents\" and \
                     {both:?}"
                )));
            }
            if let Some(other) = fields.keys().find(|k| *k != "documents") {
                return Err(unprocessable(format!(
                    "unknown field {other:?} beside \"documents\": a batch has no other field"
                )));
            }
            match fields.remove("documents").expect("checked above") {
                Value::Array(values) => (values, true),
                other => {
                    return Err(unprocessable(format!(
                        "\"documents\" must be an array of documents, not {}",
                        kind(&other)
                    )))
                }
            }
        }
        Value::Object(_) => (vec![value], false),
        other => {
            return Err(unprocessable(format!(
                "the body must be a JSON object, one document {{\"text\": ...}} or a batch \
                 {{\"documents\": [...]}}, not {}",
                kind(&other)
            )))
        }
    };
    if values.len() > limits.max_batch {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "{} documents is over the batch limit of {}",
                values.len(),
                limits.max_batch
            ),
        ));
    }
    // Answers are told apart by id, as in `tailor link`'s output: the same id twice in one
    // batch would leave the client unable to say which answer is which.
    let mut seen: HashMap<String, usize> = HashMap::with_capacity(values.len());
    let mut docs = Vec::with_capacity(values.len());
    for (at, value) in values.into_iter().enumerate() {
        let doc = parse_document(at, value, limits)?;
        if let Some(first) = seen.insert(doc.id.clone(), at) {
            return Err(unprocessable(format!(
                "documents {first} and {at} have the id {:?}: ids must be unique within a \
                 batch, so that the answers can be told apart (a document without \"id\" is \
                 named by its position)",
                doc.id
            )));
        }
        docs.push(doc);
    }
    Ok((docs, batch))
}

fn parse_document(
    at: usize,
    value: Value,
    limits: &ServeLimits,
) -> Result<InputDocument, ApiError> {
    // serde would read a struct from an array by position, with fields silently swapped
    if !value.is_object() {
        return Err(unprocessable(format!(
            "document {at}: each document must be a JSON object with \"text\" (and \"id\"), \
             not {}",
            kind(&value)
        )));
    }
    let doc: DocumentRequest = serde_path_to_error::deserialize(value)
        .map_err(|e| unprocessable(format!("document {at}: {e}")))?;
    let id = match doc.id {
        None => at.to_string(),
        Some(Value::String(s)) => s,
        Some(Value::Number(n)) => super::json_record::number_id(&n)
            .map_err(|m| unprocessable(format!("document {at}: {m}")))?,
        Some(_) => {
            return Err(unprocessable(format!(
                "document {at}: field \"id\" must be a string or a number"
            )))
        }
    };
    let text = doc
        .text
        .ok_or_else(|| unprocessable(format!("document {at}: field \"text\" is missing")))?;
    if text.len() > limits.max_doc_bytes {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "document {at}: {} bytes of text is over the limit of {} bytes",
                text.len(),
                limits.max_doc_bytes
            ),
        ));
    }
    if let Some(spans) = &doc.mentions {
        check_spans(&text, spans).map_err(|m| unprocessable(format!("document {at}: {m}")))?;
    }
    Ok(InputDocument {
        id,
        text,
        mentions: doc.mentions,
        record: format!("document {at}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(body: &str) -> Result<(Vec<InputDocument>, bool), ApiError> {
        parse_link_body(body.as_bytes(), &ServeLimits::default())
    }

    fn refused(body: &str) -> (u16, String) {
        let e = parse(body).expect_err(body);
        (e.status.as_u16(), e.message)
    }

    #[test]
    fn one_document_and_a_batch_are_told_apart() {
        let (docs, batch) = parse(r#"{"id": "d", "text": "Paris."}"#).unwrap();
        assert_eq!((docs.len(), batch, docs[0].id.as_str()), (1, false, "d"));
        let (docs, batch) =
            parse(r#"{"documents": [{"text": "a"}, {"id": 7, "text": "b"}]}"#).unwrap();
        let ids: Vec<&str> = docs.iter().map(|d| d.id.as_str()).collect();
        assert_eq!((ids, batch), (vec!["0", "7"], true));
        assert_eq!(parse(r#"{"documents": []}"#).unwrap().0.len(), 0);
    }

    #[test]
    fn a_body_with_a_document_and_a_batch_is_refused() {
        let (status, message) = refused(r#"{"text": "Paris.", "documents": [{"text": "x"}]}"#);
        assert_eq!(status, 422);
        assert!(message.contains("not both"), "{message}");
        assert!(message.contains("\"text\""), "{message}");
        let (status, message) = refused(r#"{"documents": [], "extra": 1}"#);
        assert_eq!(status, 422);
        assert!(message.contains("\"extra\""), "{message}");
    }

    #[test]
    fn documents_must_be_an_array() {
        let (status, message) = refused(r#"{"documents": {"text": "x"}}"#);
        assert_eq!(status, 422);
        assert!(
            message.starts_with("\"documents\" must be an array of documents"),
            "{message}"
        );
        let (_, message) = refused(r#"[{"text": "x"}]"#);
        assert!(message.contains("not an array"), "{message}");
    }

    #[test]
    fn a_number_id_that_would_be_rounded_is_refused() {
        // both read as the float 1.2345678901234568e+22: two documents, one id
        let body = r#"{"documents": [{"id": 12345678901234567890123, "text": "x"},
                                     {"id": 12345678901234567890124, "text": "y"}]}"#;
        let (status, message) = refused(body);
        assert_eq!(status, 422);
        assert!(
            message.starts_with("document 0: field \"id\" is the number")
                && message.contains("give it as a string"),
            "{message}"
        );
        let (_, message) = refused(r#"{"id": 1.5, "text": "x"}"#);
        assert!(
            message.contains("not an integer within 64 bits"),
            "{message}"
        );
        let (docs, _) = parse(r#"{"id": 18446744073709551615, "text": "x"}"#).unwrap();
        assert_eq!(docs[0].id, "18446744073709551615");
    }

    #[test]
    fn repeated_ids_in_a_batch_name_both_positions() {
        let body = r#"{"documents": [{"id": "a", "text": "x"}, {"id": "b", "text": "y"},
                                     {"id": "a", "text": "z"}]}"#;
        let (status, message) = refused(body);
        assert_eq!(status, 422);
        assert!(
            message.contains(r#"documents 0 and 2 have the id "a""#),
            "{message}"
        );
        // a number id and a position name the same answer as the string would
        let (_, message) = refused(r#"{"documents": [{"text": "x"}, {"id": 0, "text": "y"}]}"#);
        assert!(
            message.contains(r#"documents 0 and 1 have the id "0""#),
            "{message}"
        );
    }
}
