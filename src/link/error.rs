//! Errors of corpus linking, naming the input and the record at fault.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// One document is unusable; `--max-errors` may record it and go on.
    #[error("{path}: record {record}: {message}")]
    BadRecord {
        path: PathBuf,
        /// A line number for JSONL, a row number for Parquet, the file for text.
        record: String,
        message: String,
        /// The record's own id, when it could be read: an error record of `--max-errors` then
        /// joins back to its input.
        id: Option<String>,
    },
    /// The whole input is unusable (wrong format, missing column).
    #[error("{path}: {message}")]
    BadInput { path: PathBuf, message: String },
    #[error("{path}: parquet: {source}")]
    Parquet {
        path: PathBuf,
        #[source]
        source: parquet::errors::ParquetError,
    },
    #[error("{path}: arrow: {source}")]
    Arrow {
        path: PathBuf,
        #[source]
        source: arrow::error::ArrowError,
    },
    /// A document over the size limit; recorded like a bad record.
    #[error(
        "document {id:?} ({record}): {bytes} bytes of text is over the limit of {limit} bytes \
         (--max-doc-bytes)"
    )]
    TooLarge {
        id: String,
        /// Where it stood in its input (`line 3`, a file name).
        record: String,
        bytes: usize,
        limit: usize,
    },
    #[error("too many failed documents ({count}, --max-errors {limit}); last: {last}")]
    TooManyErrors {
        count: u64,
        limit: u64,
        last: Box<LinkError>,
    },
}

impl LinkError {
    /// The error names `path`, not a temporary file written aside for it.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        LinkError::Io {
            path: path.into(),
            source: crate::persist::plain(source),
        }
    }

    /// True when only one document is lost and its input can go on.
    pub fn is_record_level(&self) -> bool {
        matches!(
            self,
            LinkError::BadRecord { .. } | LinkError::TooLarge { .. }
        )
    }

    pub fn bad(
        path: impl Into<PathBuf>,
        record: impl ToString,
        message: impl Into<String>,
    ) -> Self {
        LinkError::BadRecord {
            path: path.into(),
            record: record.to_string(),
            message: message.into(),
            id: None,
        }
    }

    /// The same error, naming the record's own id.
    pub fn with_id(self, known: Option<String>) -> Self {
        match self {
            LinkError::BadRecord {
                path,
                record,
                message,
                ..
            } => LinkError::BadRecord {
                path,
                record,
                message,
                id: known,
            },
            other => other,
        }
    }
}
