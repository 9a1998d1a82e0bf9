//! The embeddings directory: what `tailor embed` writes and [`Embeddings::load`] reads.
//!
//! Layout: `entities.safetensors`, `relations.safetensors`, `types.safetensors` (table
//! `vectors`, and for the hyperbolic model `tangent`; the row ids, newline-joined, in the
//! metadata field `ids`) and `manifest.json` ([`EmbedManifest`]). The hyperbolic model's
//! entity file also holds `bias`, one value per entity (`[entities, 1]`); a store without it
//! (written before the model had biases) loads with every bias 0. Written into a sibling
//! directory and renamed into place. With [`EmbedManifest::half`] the tables are f16 and the
//! hyperbolic model keeps only `tangent` (the ball points are recomputed on load), which keeps
//! a 138k-entity, dim-32 model near 9 MB; loading gives f32 either way.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use candle_core::{Device, Tensor};
use serde::{Deserialize, Serialize};

use super::data::{InputRecord, TripleData};
use super::error::{EmbedError, Result};
use super::eval::Metrics;
use super::model::{expmap0, ModelKind, ModelView, Norm};
use super::tensors::{self, Named};
use super::train::{EpochRecord, Params, TrainConfig, TrainState};
use crate::persist::OutputDir;

/// Bumped whenever the directory layout changes; loading refuses other versions.
pub const FORMAT_VERSION: u32 = 1;
const MANIFEST: &str = "manifest.json";
/// What an embeddings directory holds, for [`crate::persist::check_replaceable`].
pub const EMBEDDINGS_DIR: OutputDir = OutputDir {
    marker: "entities.safetensors",
    names: &[
        "entities.safetensors",
        "relations.safetensors",
        "types.safetensors",
        MANIFEST,
    ],
    caches: &[],
    nested: &[],
};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EmbedManifest {
    pub format_version: u32,
    pub tailor_version: String,
    pub model: ModelKind,
    pub dim: usize,
    pub norm: Norm,
    /// Curvature of the Poincaré ball (hyperbolic only).
    pub curvature: Option<f32>,
    pub entities: usize,
    /// Relations, not counting inverse rows (the hyperbolic model's, reciprocal TransE's).
    pub relations: usize,
    /// TransE with an inverse row per relation (`P/inverse`) for head prediction; stores
    /// written before the option have none.
    #[serde(default)]
    pub reciprocal: bool,
    pub types: usize,
    pub train_triples: usize,
    /// The KB manifest or the triple files trained on, with their sha256.
    pub inputs: Vec<InputRecord>,
    pub config: TrainConfig,
    pub epochs: u64,
    pub stopped_early: bool,
    pub train_seconds: f64,
    /// Tables stored as f16.
    #[serde(default)]
    pub half: bool,
    /// The entity file holds a per-entity bias table.
    #[serde(default)]
    pub entity_bias: bool,
    pub history: Vec<EpochRecord>,
    /// Final metrics by split name ("valid", "test"), where measured.
    pub metrics: BTreeMap<String, Metrics>,
}

impl EmbedManifest {
    /// The manifest of the embeddings directory `dir`, of this format version.
    pub fn read(dir: &Path) -> Result<Self> {
        let path = dir.join(MANIFEST);
        let text = std::fs::read_to_string(&path).map_err(|e| EmbedError::io(&path, e))?;
        let manifest: EmbedManifest =
            serde_json::from_str(&text).map_err(|e| EmbedError::BadStore {
                path: path.clone(),
                message: e.to_string(),
            })?;
        if manifest.format_version != FORMAT_VERSION {
            return Err(EmbedError::BadStore {
                path,
                message: format!(
                    "format version {}, expected {FORMAT_VERSION}",
                    manifest.format_version
                ),
            });
        }
        Ok(manifest)
    }

    pub fn new(cfg: &TrainConfig, data: &TripleData, params: &Params, state: &TrainState) -> Self {
        EmbedManifest {
            format_version: FORMAT_VERSION,
            tailor_version: env!("CARGO_PKG_VERSION").to_string(),
            model: cfg.model,
            dim: cfg.dim,
            norm: cfg.norm,
            curvature: (cfg.model == ModelKind::Hyperbolic).then(|| params.view().curvature),
            entities: data.entities.len(),
            relations: data.relations.len(),
            reciprocal: cfg.reciprocal,
            types: data.types.len(),
            train_triples: data.train.len(),
            inputs: data.inputs.clone(),
            config: cfg.clone(),
            epochs: state.epochs_done,
            stopped_early: state.stopped_early,
            train_seconds: state.history.iter().map(|r| r.seconds).sum(),
            half: false,
            entity_bias: params.bias.rows() > 0,
            history: state.history.clone(),
            metrics: BTreeMap::new(),
        }
    }
}

/// Rows of one table, addressable by KB id.
#[derive(Debug, Clone, Default)]
struct Lookup {
    ids: Vec<String>,
    index: HashMap<String, usize>,
    width: usize,
    vectors: Vec<f32>,
    /// Tangent vectors at the origin (hyperbolic entities and types only).
    tangent: Option<Vec<f32>>,
    /// One bias per row (hyperbolic entities only).
    bias: Option<Vec<f32>>,
}

impl Lookup {
    fn new(ids: Vec<String>, width: usize, vectors: Vec<f32>, tangent: Option<Vec<f32>>) -> Self {
        let index = ids
            .iter()
            .enumerate()
            .map(|(i, id)| (id.clone(), i))
            .collect();
        Lookup {
            ids,
            index,
            width,
            vectors,
            tangent,
            bias: None,
        }
    }

    fn row<'a>(&self, table: &'a [f32], id: &str) -> Option<&'a [f32]> {
        self.index
            .get(id)
            .map(|&i| &table[i * self.width..][..self.width])
    }
}

/// Trained KG embeddings, loaded for downstream use.
///
/// For TransE, every vector is Euclidean and [`Embeddings::entity_tangent`] equals
/// [`Embeddings::entity`]. For the hyperbolic model, `entity` is the point in the Poincaré ball
/// of curvature [`Embeddings::curvature`] and `entity_tangent` its log map at the origin: use
/// the latter as input to linear layers. Relation rows of the hyperbolic model are `2 * dim`
/// wide (per-coordinate scale, then translation in the tangent space). The inverse of relation
/// `P` (hyperbolic, and TransE trained with `reciprocal`) has the id `P/inverse`.
#[derive(Debug, Clone)]
pub struct Embeddings {
    pub manifest: EmbedManifest,
    entities: Lookup,
    relations: Lookup,
    types: Lookup,
}

impl Embeddings {
    pub fn kind(&self) -> ModelKind {
        self.manifest.model
    }

    pub fn dim(&self) -> usize {
        self.manifest.dim
    }

    pub fn curvature(&self) -> Option<f32> {
        self.manifest.curvature
    }

    pub fn entity(&self, id: &str) -> Option<&[f32]> {
        self.entities.row(&self.entities.vectors, id)
    }

    /// The Euclidean (tangent-space) vector of an entity.
    pub fn entity_tangent(&self, id: &str) -> Option<&[f32]> {
        let t = self
            .entities
            .tangent
            .as_ref()
            .unwrap_or(&self.entities.vectors);
        self.entities.row(t, id)
    }

    /// The learned bias of an entity (hyperbolic model; 0 for TransE and for stores without
    /// biases). The model's distance to a target is `d² - b_anchor - b_target`.
    pub fn entity_bias(&self, id: &str) -> Option<f32> {
        let i = *self.entities.index.get(id)?;
        Some(self.entities.bias.as_ref().map_or(0.0, |b| b[i]))
    }

    pub fn relation(&self, id: &str) -> Option<&[f32]> {
        self.relations.row(&self.relations.vectors, id)
    }

    /// The vector of a type (an entity that others are instances of).
    pub fn type_vector(&self, id: &str) -> Option<&[f32]> {
        self.types.row(&self.types.vectors, id)
    }

    pub fn type_tangent(&self, id: &str) -> Option<&[f32]> {
        let t = self.types.tangent.as_ref().unwrap_or(&self.types.vectors);
        self.types.row(t, id)
    }

    /// Entity ids in row order.
    pub fn entity_ids(&self) -> &[String] {
        &self.entities.ids
    }

    pub fn relation_ids(&self) -> &[String] {
        &self.relations.ids
    }

    pub fn type_ids(&self) -> &[String] {
        &self.types.ids
    }

    /// Row index of an entity in [`Embeddings::entity_tensor`].
    pub fn entity_row(&self, id: &str) -> Option<usize> {
        self.entities.index.get(id).copied()
    }

    /// All Euclidean (tangent) entity vectors as one `[entities, dim]` tensor, for a model's
    /// `index_select`.
    pub fn entity_tensor(&self, device: &Device) -> Result<Tensor> {
        let t = self
            .entities
            .tangent
            .as_ref()
            .unwrap_or(&self.entities.vectors);
        Ok(Tensor::from_slice(
            t,
            (self.entities.ids.len(), self.dim()),
            device,
        )?)
    }

    /// The scoring view evaluation needs.
    pub fn view(&self) -> ModelView<'_> {
        ModelView {
            kind: self.kind(),
            norm: self.manifest.norm,
            dim: self.dim(),
            entity: self
                .entities
                .tangent
                .as_ref()
                .unwrap_or(&self.entities.vectors),
            relation: &self.relations.vectors,
            relations: self.manifest.relations,
            reciprocal: self.manifest.reciprocal,
            curvature: self.manifest.curvature.unwrap_or(1.0),
            bias: self.entities.bias.as_deref().unwrap_or(&[]),
        }
    }

    pub fn load(dir: &Path) -> Result<Self> {
        let manifest = EmbedManifest::read(dir)?;
        let d = manifest.dim;
        let rw = super::model::relation_width(manifest.model, d);
        let ball = (manifest.model == ModelKind::Hyperbolic).then_some(curvature_of(&manifest));
        Ok(Embeddings {
            entities: read_entities(&dir.join("entities.safetensors"), d, ball)?,
            relations: read_lookup(&dir.join("relations.safetensors"), rw, None)?,
            types: read_lookup(&dir.join("types.safetensors"), d, ball)?,
            manifest,
        })
    }
}

fn curvature_of(m: &EmbedManifest) -> f32 {
    m.curvature.unwrap_or(1.0)
}

/// Reads the entity file: its rows, and the bias table where it has one.
fn read_entities(path: &Path, width: usize, ball: Option<f32>) -> Result<Lookup> {
    let mut f = tensors::read(path)?;
    let bias = if f.has("bias") {
        let b = f.take(path, "bias", 1)?;
        Some(b)
    } else {
        None
    };
    let mut lookup = lookup_from(path, f, width, ball)?;
    if let Some(b) = &bias {
        if b.len() != lookup.ids.len() {
            return Err(EmbedError::BadStore {
                path: path.to_path_buf(),
                message: format!("{} ids for {} biases", lookup.ids.len(), b.len()),
            });
        }
    }
    lookup.bias = bias;
    Ok(lookup)
}

/// Reads one table file; `ball` (the curvature) marks hyperbolic rows, whose `tangent` table
/// is read too and whose ball points are recomputed from it when the file stores none.
fn read_lookup(path: &Path, width: usize, ball: Option<f32>) -> Result<Lookup> {
    lookup_from(path, tensors::read(path)?, width, ball)
}

fn lookup_from(
    path: &Path,
    mut f: tensors::Loaded,
    width: usize,
    ball: Option<f32>,
) -> Result<Lookup> {
    let ids: Vec<String> = f
        .meta(path, "ids")?
        .split('\n')
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect();
    let tangent = match ball {
        Some(_) => Some(f.take(path, "tangent", width)?),
        None => None,
    };
    let vectors = match (ball, &tangent) {
        (Some(c), Some(t)) if !f.has("vectors") => {
            let mut b = vec![0.0; t.len()];
            for (o, v) in b.chunks_mut(width).zip(t.chunks(width)) {
                expmap0(v, c, o);
            }
            b
        }
        _ => f.take(path, "vectors", width)?,
    };
    if vectors.len() != ids.len() * width {
        return Err(EmbedError::BadStore {
            path: path.to_path_buf(),
            message: format!(
                "{} ids for {} rows",
                ids.len(),
                vectors.len() / width.max(1)
            ),
        });
    }
    Ok(Lookup::new(ids, width, vectors, tangent))
}

/// Writes the output directory for trained `params`, replacing `dir` whole.
pub fn save(
    dir: &Path,
    params: &Params,
    data: &TripleData,
    manifest: &EmbedManifest,
) -> Result<()> {
    let parent = dir
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).map_err(|e| EmbedError::io(parent, e))?;
    let staging = tempfile::Builder::new()
        .prefix(".embed-")
        .tempdir_in(parent)
        .map_err(|e| EmbedError::io(parent, e))?;
    let _partial = crate::interrupt::Partial::track(staging.path());
    let s = staging.path();
    let view = params.view();
    let d = params.dim;
    let hyper = params.model == ModelKind::Hyperbolic;

    let ball: Option<Vec<f32>> = hyper.then(|| {
        let mut b = vec![0.0; view.entity.len()];
        for (o, v) in b.chunks_mut(d).zip(view.entity.chunks(d)) {
            expmap0(v, view.curvature, o);
        }
        b
    });
    let half = manifest.half;
    let (vectors, tangent) = match &ball {
        Some(b) => (b.as_slice(), Some(view.entity)),
        None => (view.entity, None),
    };
    // half-size hyperbolic files keep the tangent rows only; the loader maps them into the ball
    fn stored(v: &[f32], keep: bool) -> Option<&[f32]> {
        keep.then_some(v)
    }
    let keep = !(half && hyper);
    write_lookup(
        &s.join("entities.safetensors"),
        &data.entities,
        d,
        stored(vectors, keep),
        tangent,
        (params.bias.rows() > 0).then_some(params.bias.data.as_slice()),
        half,
    )?;

    let types: Vec<String> = data
        .types
        .iter()
        .map(|&t| data.entities[t as usize].clone())
        .collect();
    let pick = |table: &[f32]| -> Vec<f32> {
        data.types
            .iter()
            .flat_map(|&t| table[t as usize * d..][..d].iter().copied())
            .collect()
    };
    let type_tangent = tangent.map(pick);
    let type_vectors = pick(vectors);
    write_lookup(
        &s.join("types.safetensors"),
        &types,
        d,
        stored(&type_vectors, keep),
        type_tangent.as_deref(),
        None,
        half,
    )?;

    let mut rel_ids = data.relations.clone();
    if super::model::has_inverses(params.model, params.reciprocal) {
        rel_ids.extend(data.relations.iter().map(|r| format!("{r}/inverse")));
    }
    write_lookup(
        &s.join("relations.safetensors"),
        &rel_ids,
        view.relation_width(),
        Some(view.relation),
        None,
        None,
        half,
    )?;

    let path = s.join(MANIFEST);
    let json = serde_json::to_vec_pretty(manifest).expect("manifest serializes");
    std::fs::write(&path, json).map_err(|e| EmbedError::io(&path, e))?;
    let ready = staging.keep();
    crate::persist::replace_dir(&ready, dir, &EMBEDDINGS_DIR).map_err(|e| {
        let _ = std::fs::remove_dir_all(&ready);
        EmbedError::io(dir, e)
    })?;
    Ok(())
}

fn write_lookup(
    path: &Path,
    ids: &[String],
    width: usize,
    vectors: Option<&[f32]>,
    tangent: Option<&[f32]>,
    bias: Option<&[f32]>,
    half: bool,
) -> Result<()> {
    let mut tables = Vec::new();
    if let Some(v) = vectors {
        tables.push(Named {
            name: "vectors",
            shape: vec![ids.len(), width],
            values: v,
        });
    }
    if let Some(t) = tangent {
        tables.push(Named {
            name: "tangent",
            shape: vec![ids.len(), width],
            values: t,
        });
    }
    if let Some(b) = bias {
        tables.push(Named {
            name: "bias",
            shape: vec![ids.len(), 1],
            values: b,
        });
    }
    let meta = HashMap::from([("ids".to_string(), ids.join("\n"))]);
    tensors::write(path, &tables, meta, half)
}

/// Rewrites only the manifest of a finished directory (after evaluation adds metrics).
pub fn update_manifest(dir: &Path, manifest: &EmbedManifest) -> Result<()> {
    let path: PathBuf = dir.join(MANIFEST);
    let tmp = dir.join(".manifest.json.partial");
    let _partial = crate::interrupt::Partial::track(&tmp);
    let json = serde_json::to_vec_pretty(manifest).expect("manifest serializes");
    std::fs::write(&tmp, json).map_err(|e| EmbedError::io(&tmp, e))?;
    std::fs::rename(&tmp, &path).map_err(|e| EmbedError::io(&path, e))
}
