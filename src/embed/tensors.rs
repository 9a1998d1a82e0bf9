//! Reading and writing named f32 tables as safetensors, with string metadata beside them.
//! Tables may be stored as f16 to halve the files; reading always gives f32.

use std::collections::HashMap;
use std::path::Path;

use safetensors::tensor::{Dtype, TensorView};
use safetensors::SafeTensors;

use super::error::{EmbedError, Result};

/// A named table to write: shape and row-major values.
pub struct Named<'a> {
    pub name: &'a str,
    pub shape: Vec<usize>,
    pub values: &'a [f32],
}

/// Writes `tables`, as f16 when `half` is set.
pub fn write(
    path: &Path,
    tables: &[Named],
    metadata: HashMap<String, String>,
    half: bool,
) -> Result<()> {
    let dtype = if half { Dtype::F16 } else { Dtype::F32 };
    let bytes: Vec<Vec<u8>> = tables
        .iter()
        .map(|t| {
            if half {
                let h = t.values.iter().map(|&x| half::f16::from_f32(x));
                h.flat_map(|x| x.to_le_bytes()).collect()
            } else {
                t.values.iter().flat_map(|x| x.to_le_bytes()).collect()
            }
        })
        .collect();
    let err = |source| EmbedError::Safetensors {
        path: path.to_path_buf(),
        source,
    };
    let views = tables
        .iter()
        .zip(&bytes)
        .map(|(t, b)| {
            Ok((
                t.name,
                TensorView::new(dtype, t.shape.clone(), b).map_err(err)?,
            ))
        })
        .collect::<Result<Vec<_>>>()?;
    safetensors::serialize_to_file(views, Some(metadata), path).map_err(err)
}

/// All tables of a file, by name, with their shapes; and the metadata.
pub struct Loaded {
    pub tables: HashMap<String, (Vec<usize>, Vec<f32>)>,
    pub metadata: HashMap<String, String>,
}

pub fn read(path: &Path) -> Result<Loaded> {
    let buf = std::fs::read(path).map_err(|e| EmbedError::io(path, e))?;
    let err = |source| EmbedError::Safetensors {
        path: path.to_path_buf(),
        source,
    };
    let (_, meta) = SafeTensors::read_metadata(&buf).map_err(err)?;
    let st = SafeTensors::deserialize(&buf).map_err(err)?;
    let mut tables = HashMap::new();
    for (name, view) in st.tensors() {
        let values = match view.dtype() {
            Dtype::F32 => view
                .data()
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect(),
            Dtype::F16 => view
                .data()
                .chunks_exact(2)
                .map(|b| half::f16::from_le_bytes([b[0], b[1]]).to_f32())
                .collect(),
            other => {
                return Err(EmbedError::BadStore {
                    path: path.to_path_buf(),
                    message: format!("table {name} is {other:?}, expected F32 or F16"),
                })
            }
        };
        tables.insert(name, (view.shape().to_vec(), values));
    }
    Ok(Loaded {
        tables,
        metadata: meta.metadata().clone().unwrap_or_default(),
    })
}

impl Loaded {
    pub fn has(&self, name: &str) -> bool {
        self.tables.contains_key(name)
    }

    /// Takes a table, checking its width; an error names the file and the table.
    pub fn take(&mut self, path: &Path, name: &str, width: usize) -> Result<Vec<f32>> {
        let bad = |message: String| EmbedError::BadStore {
            path: path.to_path_buf(),
            message,
        };
        let (shape, values) = self
            .tables
            .remove(name)
            .ok_or_else(|| bad(format!("no table {name}")))?;
        if shape.len() != 2 || shape[1] != width {
            return Err(bad(format!(
                "table {name} has shape {shape:?}, expected [_, {width}]"
            )));
        }
        Ok(values)
    }

    pub fn meta(&self, path: &Path, key: &str) -> Result<&str> {
        self.metadata
            .get(key)
            .map(String::as_str)
            .ok_or_else(|| EmbedError::BadStore {
                path: path.to_path_buf(),
                message: format!("no metadata field {key}"),
            })
    }
}
