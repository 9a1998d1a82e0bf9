//! Errors of the text encoder, grouped by cause and naming the file at fault.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum EncodeError {
    /// A file the encoder directory must hold is not there.
    #[error(
        "{path}: missing encoder file (run `tailor fetch-encoder`, or point --encoder or \
         TAILOR_ENCODER at a BERT-family model directory)"
    )]
    Missing { path: PathBuf },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A file is there but cannot be used: bad JSON, wrong tensor names or shapes.
    #[error("{path}: {message}")]
    BadFile { path: PathBuf, message: String },
    #[error("tokenizer: {0}")]
    Tokenize(String),
    #[error("encoder model: {0}")]
    Model(#[from] candle_core::Error),
    /// A mention span that does not lie inside its text.
    #[error("mention span {start}..{end} is outside a text of {len} characters")]
    BadSpan {
        start: usize,
        end: usize,
        len: usize,
    },
    /// Fetching the default encoder failed at one step (download, unpack, check).
    #[error("fetch-encoder: {0}")]
    Fetch(String),
}

impl EncodeError {
    /// The error names `path`, not a temporary file written aside for it.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        EncodeError::Io {
            path: path.into(),
            source: crate::persist::plain(source),
        }
    }

    pub fn bad(path: impl Into<PathBuf>, message: impl ToString) -> Self {
        EncodeError::BadFile {
            path: path.into(),
            message: message.to_string(),
        }
    }
}

pub type Result<T, E = EncodeError> = std::result::Result<T, E>;
