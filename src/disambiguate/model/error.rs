//! Errors of the disambiguation model, by cause.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A model directory or data file that is unreadable or inconsistent.
    #[error("{path}: {message}")]
    Bad { path: PathBuf, message: String },
    #[error("model: {0}")]
    Candle(#[from] candle_core::Error),
    #[error(transparent)]
    Encode(#[from] crate::encode::EncodeError),
    #[error(transparent)]
    Embed(#[from] crate::embed::EmbedError),
    #[error(transparent)]
    Kb(#[from] crate::kb::KbError),
    /// The staging directory of `tailor train --out X`, `X.partial`, is there but the run was
    /// not told to resume: it holds the checkpoints of a run that did not finish (or something
    /// else of that name), which starting over would delete.
    #[error(
        "{} exists, as an interrupted training run leaves it: pass --resume to continue that run, or remove it to start over",
        path.display()
    )]
    Interrupted { path: PathBuf },
    /// Training could not start or went wrong (no examples, a loss that is not finite).
    #[error("training: {0}")]
    Training(String),
}

pub type Result<T, E = ModelError> = std::result::Result<T, E>;

impl ModelError {
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        ModelError::Io {
            path: path.into(),
            source,
        }
    }

    /// A run that would start over in `staging`, where an interrupted run is kept.
    pub fn interrupted(staging: impl Into<PathBuf>) -> Self {
        ModelError::Interrupted {
            path: staging.into(),
        }
    }

    pub fn bad(path: impl Into<PathBuf>, message: impl ToString) -> Self {
        ModelError::Bad {
            path: path.into(),
            message: message.to_string(),
        }
    }
}
