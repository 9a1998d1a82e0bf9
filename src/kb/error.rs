//! Errors of the KB stage, grouped by cause, each naming the file, line and field at fault.

use std::path::PathBuf;

/// Where in an input a record came from: a file and a 1-based line number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordAt {
    pub path: PathBuf,
    pub line: u64,
}

impl std::fmt::Display for RecordAt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.path.display(), self.line)
    }
}

/// Everything that can go wrong while reading, merging, storing or loading a KB.
#[derive(Debug, thiserror::Error)]
pub enum KbError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// One record of a source is malformed; `--max-errors` may skip it.
    #[error("{at}: {message}")]
    BadRecord { at: RecordAt, message: String },

    #[error("{path}: the file is empty")]
    EmptyInput { path: PathBuf },

    #[error("too many bad records ({count}, --max-errors {limit}); last: {last}")]
    TooManyErrors {
        count: u64,
        limit: u64,
        last: Box<KbError>,
    },

    #[error("{path}: pipeline config: {message}")]
    Config { path: PathBuf, message: String },

    #[error("{path}: KB store: {message}")]
    Store { path: PathBuf, message: String },

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

    #[error("no entity with id or name {0:?} in the KB")]
    UnknownEntity(String),
}

impl KbError {
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        KbError::Io {
            path: path.into(),
            source,
        }
    }

    pub fn bad(path: impl Into<PathBuf>, line: u64, message: impl Into<String>) -> Self {
        KbError::BadRecord {
            at: RecordAt {
                path: path.into(),
                line,
            },
            message: message.into(),
        }
    }

    pub fn store(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        KbError::Store {
            path: path.into(),
            message: message.into(),
        }
    }

    /// True for errors confined to one record, which an error budget may skip.
    pub fn is_record_error(&self) -> bool {
        matches!(self, KbError::BadRecord { .. })
    }
}

pub type Result<T, E = KbError> = std::result::Result<T, E>;
