//! Errors of evaluation, naming the gold file, the record and the field at fault.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// One gold record is unusable: a line that is not JSON, a span outside its text, a NIF
    /// phrase without an offset.
    #[error("{path}: {record}: {field}: {message}")]
    BadRecord {
        path: PathBuf,
        /// `line N` for JSONL, the subject IRI for NIF.
        record: String,
        /// The field at fault, as a path such as `labels[2].span`.
        field: String,
        message: String,
    },
    /// The whole file is unusable (unknown format, Turtle syntax).
    #[error("{path}: {message}")]
    BadInput { path: PathBuf, message: String },
}

impl EvalError {
    pub fn bad(
        path: impl Into<PathBuf>,
        record: impl ToString,
        field: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        EvalError::BadRecord {
            path: path.into(),
            record: record.to_string(),
            field: field.into(),
            message: message.into(),
        }
    }
}
