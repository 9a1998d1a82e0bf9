//! A file cache of sentence vectors, so entity texts (labels, descriptions) are encoded once
//! per model rather than once per run.
//!
//! In: an encoder, texts and a cache directory. Out: the texts' vectors, read from
//! `<dir>/<key>.safetensors` when present, else encoded and written there (aside, then renamed).
//! The key hashes the encoder's fingerprint, its maximum length and every text, so a change to
//! any of them misses the cache instead of returning stale vectors.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use candle_core::{Device, Tensor};
use sha2::{Digest, Sha256};

use super::encoder::Encoder;
use super::error::{EncodeError, Result};

const TENSOR_NAME: &str = "vectors";

/// The vectors of `texts`, from the cache in `dir` when it has them.
pub fn encode_cached(encoder: &Encoder, texts: &[&str], dir: &Path) -> Result<Vec<Vec<f32>>> {
    let path = cache_path(encoder, texts, dir);
    if path.is_file() {
        let vectors = read(&path, texts.len(), encoder.dim())?;
        tracing::info!(path = %path.display(), texts = texts.len(), "encoder cache hit");
        return Ok(vectors);
    }

    let vectors = encoder.encode(texts)?;
    write(&path, &vectors, encoder.dim())?;
    tracing::info!(path = %path.display(), texts = texts.len(), "encoder cache written");
    Ok(vectors)
}

/// `<dir>/<sha256 of fingerprint, max length and texts>.safetensors`.
pub fn cache_path(encoder: &Encoder, texts: &[&str], dir: &Path) -> PathBuf {
    let mut hasher = Sha256::new();
    hasher.update(encoder.fingerprint().as_bytes());
    hasher.update((encoder.options().max_len as u64).to_le_bytes());
    for text in texts {
        hasher.update((text.len() as u64).to_le_bytes());
        hasher.update(text.as_bytes());
    }
    dir.join(format!("{}.safetensors", hex::encode(hasher.finalize())))
}

fn read(path: &Path, rows: usize, dim: usize) -> Result<Vec<Vec<f32>>> {
    let tensors = candle_core::safetensors::load(path, &Device::Cpu)
        .map_err(|e| EncodeError::bad(path, e))?;
    let tensor = tensors
        .get(TENSOR_NAME)
        .ok_or_else(|| EncodeError::bad(path, format!("no `{TENSOR_NAME}` tensor")))?;
    if tensor.dims() != [rows, dim] && !(rows == 0 && tensor.elem_count() == 0) {
        return Err(EncodeError::bad(
            path,
            format!("shape {:?}, expected [{rows}, {dim}]", tensor.dims()),
        ));
    }
    if rows == 0 {
        return Ok(Vec::new());
    }
    Ok(tensor.to_vec2()?)
}

fn write(path: &Path, vectors: &[Vec<f32>], dim: usize) -> Result<()> {
    let flat: Vec<f32> = vectors.iter().flatten().copied().collect();
    let tensor = Tensor::from_vec(flat, (vectors.len(), dim), &Device::Cpu)?;
    let (aside, _partial) =
        crate::persist::aside(path, ".vectors.partial-").map_err(|e| EncodeError::io(path, e))?;
    let tensors = HashMap::from([(TENSOR_NAME.to_string(), tensor)]);
    let aside = aside.into_temp_path();
    candle_core::safetensors::save(&tensors, &aside).map_err(|e| EncodeError::bad(path, e))?;
    crate::persist::persist_written(aside, path).map_err(|e| EncodeError::io(path, e))
}
