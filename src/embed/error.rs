//! Errors of the embedding stage, grouped by cause, each naming the file, line or field at fault.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum EmbedError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// A line of a triple file is not `head<TAB>relation<TAB>tail`.
    #[error("{path}:{line}: {field}: {message}")]
    BadTriple {
        path: PathBuf,
        line: u64,
        field: &'static str,
        message: String,
    },

    /// An embeddings directory or checkpoint is missing a table or holds one of the wrong shape.
    #[error("{path}: {message}")]
    BadStore { path: PathBuf, message: String },

    /// A training or evaluation setting that cannot work (zero dimension, no triples, ...).
    #[error("{field}: {message}")]
    Config {
        field: &'static str,
        message: String,
    },

    /// `tailor embed --out X` without `--resume` where `X.checkpoint.safetensors` holds a run
    /// that did not finish (its output is not the checkpoint's): starting over would overwrite it.
    #[error(
        "{} exists, as an interrupted training run leaves it: pass --resume to continue that run, or remove it to start over",
        path.display()
    )]
    Interrupted { path: PathBuf },

    /// A checkpoint beside the output that cannot be read (cut short, not a checkpoint, or not
    /// readable by this user). It can be neither resumed nor, by a run without `--resume`,
    /// overwritten, so the only way on is to remove it.
    #[error(
        "{}: the checkpoint cannot be read ({reason}), so the run cannot resume from it: remove it to start over",
        path.display()
    )]
    UnreadableCheckpoint { path: PathBuf, reason: String },

    #[error(transparent)]
    Kb(#[from] crate::kb::KbError),

    #[error("candle: {0}")]
    Candle(#[from] candle_core::Error),

    #[error("{path}: safetensors: {source}")]
    Safetensors {
        path: PathBuf,
        #[source]
        source: safetensors::SafeTensorError,
    },
}

impl EmbedError {
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        EmbedError::Io {
            path: path.into(),
            source,
        }
    }

    pub fn config(field: &'static str, message: impl Into<String>) -> Self {
        EmbedError::Config {
            field,
            message: message.into(),
        }
    }
}

pub type Result<T> = std::result::Result<T, EmbedError>;
