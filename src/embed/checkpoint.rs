//! Training checkpoints: the tables, their optimizer state and the training state, in one
//! safetensors file written aside and renamed into place, so a crash never leaves half a file.

use std::collections::HashMap;
use std::path::Path;

use super::error::{EmbedError, Result};
use super::model::ModelKind;
use super::optim::Table;
use super::tensors::{self, Named};
use super::train::{Params, TrainConfig, TrainState};

pub fn write(path: &Path, cfg: &TrainConfig, p: &Params, state: &TrainState) -> Result<()> {
    let tmp = path.with_extension("partial");
    // The checkpoint sits beside the output directory, whose parent a first run may not have.
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|e| EmbedError::io(parent, e))?;
    }
    let (ew, rw) = (p.entity.width, p.relation.width);
    let curv = [p.curvature_raw, p.curvature_g2];
    let mut tables = vec![
        Named {
            name: "entity",
            shape: vec![p.entity.rows(), ew],
            values: &p.entity.data,
        },
        Named {
            name: "entity_g2",
            shape: vec![p.entity.rows(), ew],
            values: &p.entity.g2,
        },
        Named {
            name: "relation",
            shape: vec![p.relation.rows(), rw],
            values: &p.relation.data,
        },
        Named {
            name: "relation_g2",
            shape: vec![p.relation.rows(), rw],
            values: &p.relation.g2,
        },
        Named {
            name: "curvature",
            shape: vec![1, 2],
            values: &curv,
        },
    ];
    if p.bias.rows() > 0 {
        tables.push(Named {
            name: "bias",
            shape: vec![p.bias.rows(), 1],
            values: &p.bias.data,
        });
        tables.push(Named {
            name: "bias_g2",
            shape: vec![p.bias.rows(), 1],
            values: &p.bias.g2,
        });
    }
    let mut meta = HashMap::new();
    meta.insert(
        "config".into(),
        serde_json::to_string(cfg).expect("config serializes"),
    );
    meta.insert(
        "state".into(),
        serde_json::to_string(state).expect("state serializes"),
    );
    meta.insert("relations".into(), p.relations.to_string());
    tensors::write(&tmp, &tables, meta, false)?;
    std::fs::rename(&tmp, path).map_err(|e| EmbedError::io(path, e))
}

/// The settings and training state a checkpoint was written with, from its header only (the
/// tables of a large KB's checkpoint are tens of megabytes, not needed to tell where it stands).
pub fn read_progress(path: &Path) -> Result<(TrainConfig, TrainState)> {
    header_progress(path).map_err(|e| unreadable(path, e))
}

/// [`read_progress`] before its errors are said as an unreadable checkpoint.
fn header_progress(path: &Path) -> Result<(TrainConfig, TrainState)> {
    use std::io::Read;
    let bad = |message: String| EmbedError::BadStore {
        path: path.to_path_buf(),
        message,
    };
    let mut file = std::fs::File::open(path).map_err(|e| EmbedError::io(path, e))?;
    let mut len = [0u8; 8];
    file.read_exact(&mut len)
        .map_err(|e| EmbedError::io(path, e))?;
    let len = u64::from_le_bytes(len);
    // the format caps its header at 100 MB
    if len > 100_000_000 {
        return Err(bad(format!("a header of {len} bytes: not a checkpoint")));
    }
    let mut header = vec![0u8; len as usize];
    file.read_exact(&mut header)
        .map_err(|e| EmbedError::io(path, e))?;
    let header: serde_json::Value =
        serde_json::from_slice(&header).map_err(|e| bad(format!("header: {e}")))?;
    let field = |key: &str| {
        header["__metadata__"][key]
            .as_str()
            .ok_or_else(|| bad(format!("no metadata field {key}")))
    };
    let saved: TrainConfig =
        serde_json::from_str(field("config")?).map_err(|e| bad(format!("config: {e}")))?;
    let state: TrainState =
        serde_json::from_str(field("state")?).map_err(|e| bad(format!("state: {e}")))?;
    Ok((saved, state))
}

/// A checkpoint file read whole: its tables and the settings and state in its metadata.
fn open(path: &Path) -> Result<(tensors::Loaded, TrainConfig, TrainState)> {
    let f = tensors::read(path)?;
    let bad = |message: String| EmbedError::BadStore {
        path: path.to_path_buf(),
        message,
    };
    let saved: TrainConfig =
        serde_json::from_str(f.meta(path, "config")?).map_err(|e| bad(format!("config: {e}")))?;
    let state: TrainState =
        serde_json::from_str(f.meta(path, "state")?).map_err(|e| bad(format!("state: {e}")))?;
    Ok((f, saved, state))
}

/// An error reading the checkpoint at `path` as [`EmbedError::UnreadableCheckpoint`], which
/// says what to do; other errors are kept.
fn unreadable(path: &Path, e: EmbedError) -> EmbedError {
    let reason = match e {
        EmbedError::Io { source, .. } if source.kind() == std::io::ErrorKind::UnexpectedEof => {
            "it is cut short".into()
        }
        EmbedError::Io { source, .. } => source.to_string(),
        EmbedError::Safetensors { source, .. } => format!("safetensors: {source}"),
        EmbedError::BadStore { message, .. } => message,
        other => return other,
    };
    EmbedError::UnreadableCheckpoint {
        path: path.to_path_buf(),
        reason,
    }
}

/// Reads a checkpoint for `cfg`; the model settings must match (only `epochs` may grow).
pub fn read(
    path: &Path,
    cfg: &TrainConfig,
    entities: usize,
    relations: usize,
) -> Result<(Params, TrainState)> {
    let (mut f, saved, state) = open(path).map_err(|e| unreadable(path, e))?;
    let bad = |message: String| EmbedError::BadStore {
        path: path.to_path_buf(),
        message,
    };
    if (TrainConfig {
        epochs: cfg.epochs,
        ..saved.clone()
    }) != *cfg
    {
        return Err(bad(format!(
            "written with other settings; resume with the same flags (saved: {})",
            serde_json::to_string(&saved).unwrap_or_default()
        )));
    }
    let d = cfg.dim;
    let rw = super::model::relation_width(cfg.model, d);
    let has_bias = f.has("bias");
    // the settings match, so a table missing or of another width is a damaged file
    let mut take =
        |name: &str, width: usize| f.take(path, name, width).map_err(|e| unreadable(path, e));
    let entity = Table {
        width: d,
        data: take("entity", d)?,
        g2: take("entity_g2", d)?,
    };
    let relation = Table {
        width: rw,
        data: take("relation", rw)?,
        g2: take("relation_g2", rw)?,
    };
    if entity.rows() != entities
        || relation.rows() != super::model::relation_rows(cfg.model, cfg.reciprocal, relations)
    {
        return Err(bad("table sizes do not match the training data".into()));
    }
    let curv = take("curvature", 2)?;
    // the hyperbolic model's biases; a checkpoint from before it had them resumes from 0
    let bias = match (cfg.model, has_bias) {
        (ModelKind::Transe, _) => Table::new(Vec::new(), 1),
        (ModelKind::Hyperbolic, false) => Table::new(vec![0.0; entities], 1),
        (ModelKind::Hyperbolic, true) => Table {
            width: 1,
            data: take("bias", 1)?,
            g2: take("bias_g2", 1)?,
        },
    };
    if bias.rows() != entities && cfg.model == ModelKind::Hyperbolic {
        return Err(bad(
            "bias table size does not match the training data".into()
        ));
    }
    let params = Params {
        model: cfg.model,
        norm: cfg.norm,
        reciprocal: cfg.reciprocal,
        dim: d,
        relations,
        entity,
        relation,
        bias,
        curvature_raw: curv[0],
        curvature_g2: curv[1],
    };
    Ok((params, state))
}
