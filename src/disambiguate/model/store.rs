//! The model directory: weights, config, and what the model was trained with.
//!
//! ```text
//! DIR/config.json          shape, signals, training options and history, and the versions
//!                          (KB manifest hash, embedding manifests, encoder fingerprint)
//! DIR/model.safetensors    the fusion network's weights of its best epoch on held-out mentions
//! DIR/last.safetensors     the last epoch's weights, for `--resume`
//! DIR/entity_counts.json   how often each entity is a training label: the popularity slices
//! DIR/kg/<name>/           the KG embeddings it reads (as `tailor embed` writes them)
//! DIR/ablations/<name>/    the same layout for each ablation trained beside it
//! ```
//! Written aside and renamed into place, so a failed training leaves no half model.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::Digest;

use crate::disambiguate::weak::WeakOptions;
use crate::kb::Kb;
use crate::retrieve::RetrievalSettings;

use super::error::{ModelError, Result};
use super::net::NetShape;
use super::signals::Signals;
use super::train::{EpochRecord, TrainOptions};

pub const MODEL_FORMAT_VERSION: u32 = 4;
pub const CONFIG_FILE: &str = "config.json";
pub const WEIGHTS_FILE: &str = "model.safetensors";
/// The last epoch's weights, which `--resume` continues from.
pub const LAST_WEIGHTS_FILE: &str = "last.safetensors";
pub const COUNTS_FILE: &str = "entity_counts.json";
/// What a model directory holds, for [`crate::persist::check_replaceable`].
pub const MODEL_DIR: crate::persist::OutputDir = crate::persist::OutputDir {
    marker: COUNTS_FILE,
    names: &[
        CONFIG_FILE,
        WEIGHTS_FILE,
        LAST_WEIGHTS_FILE,
        COUNTS_FILE,
        "kg",
        "ablations",
    ],
    caches: &[],
    // the embeddings under `kg/` and the ablation models under `ablations/`
    nested: &["safetensors", "json"],
};
pub const ENTITY_TEXT_FILE: &str = "entity_text.safetensors";

/// Everything about a model except its weights.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ModelConfig {
    pub format_version: u32,
    pub signals: Signals,
    pub shape: NetShape,
    pub options: TrainOptions,
    /// SHA-256 of the KB's manifest: a model is only meaningful with the KB it was trained on.
    pub kb_manifest_sha256: String,
    /// Embedding directories it reads, relative to the model directory.
    pub embeddings: Vec<PathBuf>,
    pub encoder_fingerprint: Option<String>,
    pub training_mentions: usize,
    pub holdout_mentions: usize,
    pub history: Vec<EpochRecord>,
    /// The epoch whose weights `model.safetensors` holds: the best on held-out mentions.
    #[serde(default)]
    pub best_epoch: Option<usize>,
    /// How the weak labels it was trained on were made (`None`: not recorded, as in models
    /// trained before this was kept).
    #[serde(default)]
    pub weak_labels: Option<WeakOptions>,
    /// The retrieval that proposed the training candidates (`None`: not recorded).
    #[serde(default)]
    pub retrieval: Option<RetrievalSettings>,
}

impl ModelConfig {
    pub fn read(dir: &Path) -> Result<Self> {
        let path = dir.join(CONFIG_FILE);
        let text = std::fs::read_to_string(&path).map_err(|e| ModelError::io(&path, e))?;
        let config: ModelConfig =
            serde_json::from_str(&text).map_err(|e| ModelError::bad(&path, e))?;
        if config.format_version != MODEL_FORMAT_VERSION {
            return Err(ModelError::bad(
                &path,
                format!(
                    "model format {} but this tailor reads {MODEL_FORMAT_VERSION}: train the \
                     model again with this tailor (`tailor train`), or use the tailor that \
                     trained it",
                    config.format_version
                ),
            ));
        }
        Ok(config)
    }

    pub fn write(&self, dir: &Path) -> Result<()> {
        let path = dir.join(CONFIG_FILE);
        let text = serde_json::to_string_pretty(self).expect("config serializes");
        std::fs::write(&path, text).map_err(|e| ModelError::io(&path, e))
    }

    /// Fails unless the model was trained on this KB.
    pub fn check_kb(&self, kb: &Kb, dir: &Path) -> Result<()> {
        let have = kb_manifest_sha256(kb);
        if have != self.kb_manifest_sha256 {
            return Err(ModelError::bad(
                dir.join(CONFIG_FILE),
                format!(
                    "trained on KB {} but the KB given is {have}: retrain, or pass the KB it \
                     was trained on",
                    &self.kb_manifest_sha256[..12]
                ),
            ));
        }
        Ok(())
    }
}

/// The hash that identifies a KB store's content.
pub fn kb_manifest_sha256(kb: &Kb) -> String {
    kb.manifest.sha256()
}

/// SHA-256 of the KB's `manifest.json` as its store writes it: the identity `tailor embed`
/// records for the KB it trained on (the file's hash, where a model records the manifest's).
pub fn kb_manifest_file_sha256(kb: &Kb) -> String {
    let bytes = serde_json::to_vec_pretty(&kb.manifest).expect("manifest serializes");
    hex::encode(sha2::Sha256::digest(&bytes))
}

pub fn write_counts(dir: &Path, counts: &BTreeMap<String, u64>) -> Result<()> {
    let path = dir.join(COUNTS_FILE);
    let text = serde_json::to_string(counts).expect("counts serialize");
    std::fs::write(&path, text).map_err(|e| ModelError::io(&path, e))
}

/// Training occurrences per entity id; entities absent from the map were unseen in training.
pub fn read_counts(dir: &Path) -> Result<BTreeMap<String, u64>> {
    let path = dir.join(COUNTS_FILE);
    let text = std::fs::read_to_string(&path).map_err(|e| ModelError::io(&path, e))?;
    serde_json::from_str(&text).map_err(|e| ModelError::bad(&path, e))
}

/// The ablation model directories trained beside a model, by name.
pub fn ablations(dir: &Path) -> Vec<(String, PathBuf)> {
    let Ok(entries) = std::fs::read_dir(dir.join("ablations")) else {
        return Vec::new();
    };
    let mut found: Vec<(String, PathBuf)> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.join(CONFIG_FILE).exists())
        .map(|p| (p.file_name().unwrap().to_string_lossy().into_owned(), p))
        .collect();
    found.sort();
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_model_config_loads_and_round_trips() {
        let config = ModelConfig::read(Path::new("models/default")).unwrap();
        assert_eq!(config.format_version, MODEL_FORMAT_VERSION);
        assert!(config.best_epoch.is_some());
        let text = serde_json::to_string(&config).unwrap();
        let again: ModelConfig = serde_json::from_str(&text).unwrap();
        assert_eq!(again.weak_labels.is_some(), config.weak_labels.is_some());
    }

    #[test]
    fn the_kb_file_hash_is_the_one_embed_records() {
        let kb = crate::kb::load(Path::new("kb/default")).unwrap();
        let (_, file) = crate::kb::sha256_file(Path::new("kb/default/manifest.json")).unwrap();
        assert_eq!(kb_manifest_file_sha256(&kb), file);
        let emb = crate::embed::EmbedManifest::read(Path::new("models/default/kg/transe")).unwrap();
        assert_eq!(emb.inputs[0].sha256, file);
    }

    #[test]
    fn weak_label_settings_and_retrieval_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let mut config = ModelConfig::read(Path::new("models/default")).unwrap();
        config.weak_labels = Some(WeakOptions {
            extracts: Some("extracts".into()),
            max_extracts: Some(30),
            max_examples: 2500,
            hard_names: 0.25,
            seed: 9,
            ..WeakOptions::default()
        });
        config.retrieval = Some(RetrievalSettings {
            top_k: 12,
            fuzzy: false,
            context: true,
            derived_names: true,
            surnames: true,
        });
        config.write(dir.path()).unwrap();
        let read = ModelConfig::read(dir.path()).unwrap();
        let weak = read.weak_labels.unwrap();
        assert_eq!(weak.extracts.as_deref(), Some(Path::new("extracts")));
        assert_eq!(
            (weak.max_extracts, weak.max_examples, weak.seed),
            (Some(30), 2500, 9)
        );
        assert_eq!(weak.hard_names, 0.25);
        assert_eq!(read.retrieval, config.retrieval);
    }
}
