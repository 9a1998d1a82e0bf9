//! Where the encoder's files live and which of them a model directory must hold.
//!
//! A model directory is the layout the sentence-transformers exports use: `config.json` (BERT
//! hyper-parameters), `tokenizer.json` (HF tokenizers), `model.safetensors` (the weights). The
//! directory is chosen by `--encoder DIR`, else the `TAILOR_ENCODER` environment variable, else
//! the default cache `tailor fetch-encoder` fills, so any BERT-family model in that layout can
//! replace the default without code changes.

use std::path::{Path, PathBuf};

use super::error::{EncodeError, Result};

/// The environment variable that points tailor at an encoder directory.
pub const ENCODER_ENV: &str = "TAILOR_ENCODER";

/// The default model's directory, relative to the repository root (the working directory of the
/// CLI and of `cargo test`).
pub const DEFAULT_ENCODER_DIR: &str = ".cache/encoder/all-MiniLM-L6-v2";

/// The three files loading needs; others in the directory (vocab, pooling config) are ignored.
pub const REQUIRED_FILES: [&str; 3] = ["config.json", "tokenizer.json", "model.safetensors"];

/// The encoder directory to use: the explicit one, else `TAILOR_ENCODER`, else the default.
pub fn resolve(explicit: Option<&Path>) -> PathBuf {
    if let Some(dir) = explicit {
        return dir.to_path_buf();
    }
    match std::env::var_os(ENCODER_ENV) {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => PathBuf::from(DEFAULT_ENCODER_DIR),
    }
}

/// The paths of the required files, or an error naming the first one that is missing.
pub struct ModelFiles {
    pub config: PathBuf,
    pub tokenizer: PathBuf,
    pub weights: PathBuf,
}

impl ModelFiles {
    pub fn in_dir(dir: &Path) -> Result<Self> {
        let [config, tokenizer, weights] = REQUIRED_FILES.map(|name| dir.join(name));
        for path in [&config, &tokenizer, &weights] {
            if !path.is_file() {
                return Err(EncodeError::Missing { path: path.clone() });
            }
        }
        Ok(ModelFiles {
            config,
            tokenizer,
            weights,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_file_is_named() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("config.json"), "{}").unwrap();
        let err = ModelFiles::in_dir(dir.path()).err().unwrap();
        let message = err.to_string();
        assert!(message.contains("tokenizer.json"), "{message}");
        assert!(message.contains("tailor fetch-encoder"), "{message}");
    }

    #[test]
    fn an_explicit_dir_wins() {
        let dir = Path::new("/some/model");
        assert_eq!(resolve(Some(dir)), dir);
    }
}
