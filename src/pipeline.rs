//! Declarative run configs (`pipelines/*.toml`): which sources a KB is built from, where each
//! stage writes, and with which settings. Relative paths are resolved against the config file's
//! directory, so a config works from any working directory.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::kb::sources::{normalize, resolve_paths, SourceSpec};
use crate::kb::KbError;

/// A whole run config. Each stage's section is optional so one file can drive one stage.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PipelineConfig {
    pub ingest: Option<IngestConfig>,
}

/// `[ingest]`: the KB's sources, in merge order, and where the store goes.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IngestConfig {
    /// Output store directory.
    pub out: PathBuf,
    /// Malformed records to skip before failing (default 0).
    #[serde(default)]
    pub max_errors: u64,
    pub sources: Vec<SourceSpec>,
}

impl PipelineConfig {
    pub fn load(path: &Path) -> Result<Self, KbError> {
        let text = std::fs::read_to_string(path).map_err(|e| KbError::io(path, e))?;
        let mut config: PipelineConfig = toml::from_str(&text).map_err(|e| KbError::Config {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        if let Some(ingest) = &mut config.ingest {
            resolve_paths(&mut ingest.sources, base);
            if ingest.out.is_relative() {
                ingest.out = normalize(&base.join(&ingest.out));
            }
        }
        Ok(config)
    }
}
