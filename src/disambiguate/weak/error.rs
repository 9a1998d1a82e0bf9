//! Errors of weak-label generation, naming the file at fault.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum WeakError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// An extract file is not UTF-8 text or its name is not an entity id.
    #[error("{path}: {message}")]
    BadExtract { path: PathBuf, message: String },
    #[error("{path}: unknown output format: expected .parquet, .jsonl or .json")]
    UnknownFormat { path: PathBuf },
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
    #[error("{path}: json: {source}")]
    Json {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("invalid option {name}: {message}")]
    BadOption { name: &'static str, message: String },
}

impl WeakError {
    /// The error names `path`, not a temporary file written aside for it.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        WeakError::Io {
            path: path.into(),
            source: crate::persist::plain(source),
        }
    }
}
