//! Staged runs (`tailor run pipelines/default.toml`): ingest → embed → train → link → eval as a
//! list of stages, each a tailor command with the files it reads and writes, re-run only when
//! something it depends on changed.
//!
//! In: a stage config (TOML, `[[stage]]` tables) and optionally the stage to force from. Out: the
//! stages' own outputs, plus a stamp per stage in `.tailor-run/<config name>/` beside the config,
//! holding the content hash of the stage's commands and inputs and of the outputs it left. A
//! stage is skipped when its key equals the stamp's and its outputs still hash as they did;
//! forcing a stage forces every stage after it. Hashes are of file contents, not times, so
//! rewriting a file with the same bytes re-runs nothing.

mod hash;

use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub use hash::hash_paths;

#[derive(Debug, thiserror::Error)]
pub enum StageError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Config { path: PathBuf, message: String },
    #[error("stage `{stage}`: `tailor {command}` failed ({status})")]
    Failed {
        stage: String,
        command: String,
        status: String,
    },
    #[error("stage `{stage}` left no output {path}")]
    MissingOutput { stage: String, path: PathBuf },
}

pub(crate) fn io(path: &Path) -> impl Fn(std::io::Error) -> StageError + '_ {
    move |source| StageError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// A stage config file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StagesConfig {
    /// Directory the commands run in and the paths are relative to, itself relative to the
    /// config file. Default `..` (a config in `pipelines/` runs from the repository root).
    #[serde(default = "default_root")]
    pub root: PathBuf,
    pub stage: Vec<Stage>,
    /// The config file's directory, where the stamps are kept.
    #[serde(skip)]
    pub dir: PathBuf,
}

fn default_root() -> PathBuf {
    PathBuf::from("..")
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Stage {
    pub name: String,
    /// tailor command lines (without `tailor`), run in order.
    pub commands: Vec<Vec<String>>,
    /// Files and directories the commands read (dot-files inside directories, such as caches,
    /// are not part of the hash).
    #[serde(default)]
    pub inputs: Vec<PathBuf>,
    /// Files and directories the commands write.
    pub outputs: Vec<PathBuf>,
}

impl StagesConfig {
    pub fn load(path: &Path) -> Result<Self, StageError> {
        let text = std::fs::read_to_string(path).map_err(io(path))?;
        let mut config: StagesConfig = toml::from_str(&text).map_err(|e| StageError::Config {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        config.dir = path.parent().unwrap_or(Path::new(".")).to_path_buf();
        config.root = config.dir.join(&config.root);
        let mut seen = std::collections::HashSet::new();
        for s in &config.stage {
            if !seen.insert(s.name.as_str()) {
                return Err(StageError::Config {
                    path: path.to_path_buf(),
                    message: format!("stage `{}` is named twice", s.name),
                });
            }
        }
        Ok(config)
    }

    fn paths(&self, paths: &[PathBuf]) -> Vec<PathBuf> {
        paths.iter().map(|p| self.root.join(p)).collect()
    }
}

/// What a finished stage left behind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Stamp {
    key: String,
    outputs: String,
}

/// What happened to each stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Ran,
    UpToDate,
}

/// The key of a stage: its commands and the contents of its inputs.
pub fn stage_key(config: &StagesConfig, stage: &Stage) -> Result<String, StageError> {
    let mut h = Sha256::new();
    for c in &stage.commands {
        h.update(serde_json::to_vec(c).expect("strings serialize"));
        h.update([0]);
    }
    h.update(hash_paths(&config.paths(&stage.inputs))?);
    Ok(hex::encode(h.finalize()))
}

/// Runs the stages in order with `tailor` = `exe`, skipping those up to date; `from` forces
/// that stage and the ones after it.
pub fn run(
    config: &StagesConfig,
    name: &str,
    exe: &Path,
    from: Option<&str>,
) -> Result<Vec<(String, Outcome)>, StageError> {
    let first_forced = match from {
        Some(f) => Some(
            config
                .stage
                .iter()
                .position(|s| s.name == f)
                .ok_or_else(|| StageError::Config {
                    path: PathBuf::from(name),
                    message: format!("no stage `{f}` to run from"),
                })?,
        ),
        None => None,
    };
    let stamps = config.dir.join(".tailor-run").join(name);
    std::fs::create_dir_all(&stamps).map_err(io(&stamps))?;

    let mut outcomes = Vec::new();
    for (i, stage) in config.stage.iter().enumerate() {
        let key = stage_key(config, stage)?;
        let outputs = config.paths(&stage.outputs);
        let stamp_path = stamps.join(format!("{}.json", stage.name));
        let forced = first_forced.is_some_and(|f| i >= f);
        let stamp: Option<Stamp> = std::fs::read_to_string(&stamp_path)
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok());
        let fresh = stamp.is_some_and(|s| {
            s.key == key
                && outputs.iter().all(|p| p.exists())
                && hash_paths(&outputs).is_ok_and(|h| h == s.outputs)
        });
        if fresh && !forced {
            tracing::info!(stage = %stage.name, "up to date");
            outcomes.push((stage.name.clone(), Outcome::UpToDate));
            continue;
        }

        let started = Instant::now();
        tracing::info!(stage = %stage.name, forced, "running");
        for command in &stage.commands {
            let status = std::process::Command::new(exe)
                .args(command)
                .current_dir(&config.root)
                .status()
                .map_err(io(exe))?;
            if !status.success() {
                return Err(StageError::Failed {
                    stage: stage.name.clone(),
                    command: command.join(" "),
                    status: status.to_string(),
                });
            }
        }
        if let Some(missing) = outputs.iter().find(|p| !p.exists()) {
            return Err(StageError::MissingOutput {
                stage: stage.name.clone(),
                path: missing.clone(),
            });
        }
        let stamp = Stamp {
            key,
            outputs: hash_paths(&outputs)?,
        };
        let json = serde_json::to_vec_pretty(&stamp).expect("stamp serializes");
        write_stamp(&stamps, &stamp_path, &json).map_err(io(&stamp_path))?;
        tracing::info!(
            stage = %stage.name,
            seconds = started.elapsed().as_secs_f64(),
            "stage done"
        );
        outcomes.push((stage.name.clone(), Outcome::Ran));
    }
    Ok(outcomes)
}

/// A stamp is written aside and renamed, so a run killed while writing it leaves the old stamp
/// or none (the stage then runs again), never a torn one.
fn write_stamp(dir: &Path, path: &Path, json: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    tmp.write_all(json)?;
    crate::persist::persist(tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_pipeline_lists_every_stage_in_order() {
        let config = StagesConfig::load(Path::new("pipelines/default.toml")).unwrap();
        let names: Vec<&str> = config.stage.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(
            names,
            ["ingest", "embed", "encoder", "train", "link", "eval"]
        );
        assert!(config.root.join("pipelines/default-kb.toml").exists());
        for stage in &config.stage {
            let key = stage_key(&config, stage).unwrap();
            assert_eq!(key.len(), 64);
        }
    }

    #[test]
    fn a_stage_named_twice_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.toml");
        let stage = "[[stage]]\nname = \"a\"\ncommands = [[\"kb\"]]\noutputs = []\n";
        std::fs::write(&path, format!("{stage}{stage}")).unwrap();
        let err = StagesConfig::load(&path).unwrap_err().to_string();
        assert!(
            err.contains("x.toml") && err.contains("named twice"),
            "{err}"
        );
    }
}
