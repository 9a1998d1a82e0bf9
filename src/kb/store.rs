//! Persisting a KB as a directory of Parquet tables plus `manifest.json`.
//!
//! Tables (entity and relation references are row numbers in `entities` and `relations`):
//! - `entities`: id, label, description, wikipedia, degree
//! - `aliases`: entity, alias, score
//! - `entity_types`: entity, type; `type_parents`: type, parent
//! - `relations`: id, label, description, aliases (list)
//! - `triples`: head, relation, tail
//!
//! A store is written into a sibling temporary directory and renamed into place, so a failed or
//! interrupted write never leaves a half store where a reader would find it.

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, Float32Array, ListArray, ListBuilder, RecordBatch, RecordBatchReader,
    StringArray, StringBuilder, UInt32Array,
};
use arrow::datatypes::{Field, Schema};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;

use super::error::{KbError, Result};
use super::manifest::{Manifest, FORMAT_VERSION};
use super::model::{Alias, Entity, Kb, Relation, Triple};
use crate::persist::OutputDir;

const MANIFEST: &str = "manifest.json";

/// Writes `kb` to `dir`, replacing any store there only once the new one is complete.
pub fn save(kb: &Kb, dir: &Path) -> Result<()> {
    let parent = dir
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    fs::create_dir_all(parent).map_err(|e| KbError::io(parent, e))?;
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let staging = tempfile::Builder::new()
        .prefix(&format!(".{name}.partial-"))
        .tempdir_in(parent)
        .map_err(|e| KbError::io(parent, e))?;
    let _partial = crate::interrupt::Partial::track(staging.path());
    crate::persist::check_replaceable(dir, &KB_DIR).map_err(|e| KbError::io(dir, e))?;

    write_tables(kb, staging.path())?;
    let manifest_path = staging.path().join(MANIFEST);
    let json = serde_json::to_vec_pretty(&kb.manifest).expect("manifest serializes");
    fs::write(&manifest_path, json).map_err(|e| KbError::io(&manifest_path, e))?;

    let ready = staging.keep();
    crate::persist::replace_dir(&ready, dir, &KB_DIR).map_err(|e| {
        // a store that cannot be put in place is not left half-named beside it
        let _ = fs::remove_dir_all(&ready);
        KbError::io(dir, e)
    })
}

/// What a KB store directory holds, for [`crate::persist::check_replaceable`].
pub const KB_DIR: OutputDir = OutputDir {
    marker: "entities.parquet",
    names: &[
        "entities.parquet",
        "aliases.parquet",
        "entity_types.parquet",
        "type_parents.parquet",
        "relations.parquet",
        "triples.parquet",
        MANIFEST,
    ],
    // the fuzzy index and the candidate-text vectors retrieval and the model keep beside it
    caches: &[".fuzzy-", ".entity-text-"],
    nested: &[],
};

fn write_tables(kb: &Kb, dir: &Path) -> Result<()> {
    let e = &kb.entities;
    let opt = |f: fn(&Entity) -> Option<&str>| -> ArrayRef {
        Arc::new(e.iter().map(f).collect::<StringArray>())
    };
    write_table(
        &dir.join("entities.parquet"),
        vec![
            (
                "id",
                Arc::new(
                    e.iter()
                        .map(|x| Some(x.id.as_str()))
                        .collect::<StringArray>(),
                ),
            ),
            ("label", opt(|x| x.label.as_deref())),
            ("description", opt(|x| x.description.as_deref())),
            ("wikipedia", opt(|x| x.wikipedia.as_deref())),
            ("degree", u32s(e.iter().map(|x| x.degree))),
        ],
    )?;

    let a = &kb.aliases;
    write_table(
        &dir.join("aliases.parquet"),
        vec![
            ("entity", u32s(a.iter().map(|x| x.entity))),
            (
                "alias",
                Arc::new(
                    a.iter()
                        .map(|x| Some(x.text.as_str()))
                        .collect::<StringArray>(),
                ),
            ),
            (
                "score",
                Arc::new(a.iter().map(|x| x.score).collect::<Float32Array>()),
            ),
        ],
    )?;

    write_pairs(
        &dir.join("entity_types.parquet"),
        ("entity", "type"),
        &kb.entity_types,
    )?;
    write_pairs(
        &dir.join("type_parents.parquet"),
        ("type", "parent"),
        &kb.type_parents,
    )?;

    let r = &kb.relations;
    let mut aliases = ListBuilder::new(StringBuilder::new());
    for rel in r {
        for alias in &rel.aliases {
            aliases.values().append_value(alias);
        }
        aliases.append(true);
    }
    let ropt = |f: fn(&Relation) -> Option<&str>| -> ArrayRef {
        Arc::new(r.iter().map(f).collect::<StringArray>())
    };
    write_table(
        &dir.join("relations.parquet"),
        vec![
            (
                "id",
                Arc::new(
                    r.iter()
                        .map(|x| Some(x.id.as_str()))
                        .collect::<StringArray>(),
                ),
            ),
            ("label", ropt(|x| x.label.as_deref())),
            ("description", ropt(|x| x.description.as_deref())),
            ("aliases", Arc::new(aliases.finish())),
        ],
    )?;

    let t = &kb.triples;
    write_table(
        &dir.join("triples.parquet"),
        vec![
            ("head", u32s(t.iter().map(|x| x.head))),
            ("relation", u32s(t.iter().map(|x| x.relation))),
            ("tail", u32s(t.iter().map(|x| x.tail))),
        ],
    )
}

fn u32s(values: impl Iterator<Item = u32>) -> ArrayRef {
    Arc::new(values.collect::<UInt32Array>())
}

fn write_pairs(path: &Path, names: (&str, &str), pairs: &[(u32, u32)]) -> Result<()> {
    write_table(
        path,
        vec![
            (names.0, u32s(pairs.iter().map(|p| p.0))),
            (names.1, u32s(pairs.iter().map(|p| p.1))),
        ],
    )
}

fn write_table(path: &Path, columns: Vec<(&str, ArrayRef)>) -> Result<()> {
    let arrow_err = |source| KbError::Arrow {
        path: path.to_path_buf(),
        source,
    };
    let pq_err = |source| KbError::Parquet {
        path: path.to_path_buf(),
        source,
    };
    let fields: Vec<Field> = columns
        .iter()
        .map(|(name, array)| Field::new(*name, array.data_type().clone(), array.null_count() > 0))
        .collect();
    let schema = Arc::new(Schema::new(fields));
    let arrays = columns.into_iter().map(|(_, a)| a).collect();
    let batch = RecordBatch::try_new(schema.clone(), arrays).map_err(arrow_err)?;
    let props = WriterProperties::builder()
        .set_compression(Compression::ZSTD(
            ZstdLevel::try_new(9).expect("valid level"),
        ))
        .build();
    let file = File::create(path).map_err(|e| KbError::io(path, e))?;
    let mut writer = ArrowWriter::try_new(file, schema, Some(props)).map_err(pq_err)?;
    writer.write(&batch).map_err(pq_err)?;
    writer.close().map_err(pq_err)?;
    Ok(())
}

/// A missing manifest means the path was never a store (a typo, the ingest sources' directory):
/// say so and how one is built, rather than only that a file is missing.
fn not_a_store(dir: &Path, manifest_path: &Path, e: std::io::Error) -> KbError {
    if e.kind() != std::io::ErrorKind::NotFound {
        return KbError::io(manifest_path, e);
    }
    let what = if dir.is_dir() {
        format!("no {MANIFEST} here, so this is not a KB store")
    } else {
        "no such directory".into()
    };
    KbError::store(
        dir,
        format!("{what}; build one with `tailor ingest --config PIPELINE.toml --out DIR`"),
    )
}

/// Loads a store written by [`save`].
pub fn load(dir: &Path) -> Result<Kb> {
    let manifest_path = dir.join(MANIFEST);
    let text = fs::read(&manifest_path).map_err(|e| not_a_store(dir, &manifest_path, e))?;
    let manifest: Manifest = serde_json::from_slice(&text)
        .map_err(|e| KbError::store(&manifest_path, format!("unreadable manifest: {e}")))?;
    if manifest.format_version != FORMAT_VERSION {
        return Err(KbError::store(
            dir,
            format!(
                "format version {} but this tailor reads version {FORMAT_VERSION}; re-run ingest",
                manifest.format_version
            ),
        ));
    }

    let t = read_table(&dir.join("entities.parquet"))?;
    let (ids, labels, descs, wikis) = (t.str(0)?, t.str(1)?, t.str(2)?, t.str(3)?);
    let degrees = t.u32(4)?;
    let entities = (0..t.rows)
        .map(|i| Entity {
            id: ids.value(i).to_string(),
            label: labels.is_valid(i).then(|| labels.value(i).to_string()),
            description: descs.is_valid(i).then(|| descs.value(i).to_string()),
            wikipedia: wikis.is_valid(i).then(|| wikis.value(i).to_string()),
            degree: degrees.value(i),
        })
        .collect();

    let t = read_table(&dir.join("aliases.parquet"))?;
    let (ents, texts, scores) = (t.u32(0)?, t.str(1)?, t.f32(2)?);
    let aliases = (0..t.rows)
        .map(|i| Alias {
            entity: ents.value(i),
            text: texts.value(i).to_string(),
            score: scores.is_valid(i).then(|| scores.value(i)),
        })
        .collect();

    let entity_types = read_pairs(&dir.join("entity_types.parquet"))?;
    let type_parents = read_pairs(&dir.join("type_parents.parquet"))?;

    let t = read_table(&dir.join("relations.parquet"))?;
    let (ids, labels, descs, lists) = (t.str(0)?, t.str(1)?, t.str(2)?, t.list(3)?);
    let relations = (0..t.rows)
        .map(|i| {
            let values = lists.value(i);
            let values = values
                .as_any()
                .downcast_ref::<StringArray>()
                .expect("string list");
            Relation {
                id: ids.value(i).to_string(),
                label: labels.is_valid(i).then(|| labels.value(i).to_string()),
                description: descs.is_valid(i).then(|| descs.value(i).to_string()),
                aliases: values.iter().flatten().map(str::to_string).collect(),
            }
        })
        .collect();

    let t = read_table(&dir.join("triples.parquet"))?;
    let (h, r, tl) = (t.u32(0)?, t.u32(1)?, t.u32(2)?);
    let triples = (0..t.rows)
        .map(|i| Triple {
            head: h.value(i),
            relation: r.value(i),
            tail: tl.value(i),
        })
        .collect();

    Ok(Kb::from_parts(
        entities,
        aliases,
        entity_types,
        type_parents,
        relations,
        triples,
        manifest,
    ))
}

fn read_pairs(path: &Path) -> Result<Vec<(u32, u32)>> {
    let t = read_table(path)?;
    let (a, b) = (t.u32(0)?, t.u32(1)?);
    Ok((0..t.rows).map(|i| (a.value(i), b.value(i))).collect())
}

/// One table read whole, its batches concatenated column by column.
struct Table {
    path: PathBuf,
    rows: usize,
    columns: Vec<ArrayRef>,
}

impl Table {
    fn column<T: 'static>(&self, i: usize, want: &str) -> Result<&T> {
        self.columns
            .get(i)
            .and_then(|c| c.as_any().downcast_ref::<T>())
            .ok_or_else(|| KbError::store(&self.path, format!("column {i} is not {want}")))
    }
    fn str(&self, i: usize) -> Result<&StringArray> {
        self.column(i, "utf8")
    }
    fn u32(&self, i: usize) -> Result<&UInt32Array> {
        self.column(i, "uint32")
    }
    fn f32(&self, i: usize) -> Result<&Float32Array> {
        self.column(i, "float32")
    }
    fn list(&self, i: usize) -> Result<&ListArray> {
        self.column(i, "list<utf8>")
    }
}

fn read_table(path: &Path) -> Result<Table> {
    let pq_err = |source| KbError::Parquet {
        path: path.to_path_buf(),
        source,
    };
    let file = File::open(path).map_err(|e| KbError::io(path, e))?;
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .map_err(pq_err)?
        .with_batch_size(1 << 20)
        .build()
        .map_err(pq_err)?;
    let schema = reader.schema();
    let mut batches = Vec::new();
    for batch in reader {
        batches.push(batch.map_err(|source| KbError::Arrow {
            path: path.to_path_buf(),
            source,
        })?);
    }
    let batch =
        arrow::compute::concat_batches(&schema, &batches).map_err(|source| KbError::Arrow {
            path: path.to_path_buf(),
            source,
        })?;
    Ok(Table {
        path: path.to_path_buf(),
        rows: batch.num_rows(),
        columns: batch.columns().to_vec(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kb::KbBuilder;

    #[test]
    fn a_directory_that_is_not_a_store_says_how_to_build_one() {
        let dir = tempfile::tempdir().unwrap();
        let err = load(dir.path()).unwrap_err().to_string();
        assert!(err.starts_with(&dir.path().display().to_string()), "{err}");
        assert!(
            err.contains("no manifest.json here, so this is not a KB store"),
            "{err}"
        );
        assert!(err.contains("tailor ingest"), "{err}");
        let err = load(&dir.path().join("typo")).unwrap_err().to_string();
        assert!(err.contains("typo: KB store: no such directory"), "{err}");
    }

    #[test]
    fn round_trips_every_table() {
        let mut b = KbBuilder::new();
        b.label("Q90", "Paris");
        b.description("Q90", "capital of France");
        b.alias("Q90", "City of Light", Some(0.9));
        b.alias("Q90", "Paname", None);
        b.entity_type("Q90", "Q515");
        b.type_parent("Q515", "Q486972");
        b.triple("Q90", "P17", "Q142");
        b.relation_label("P17", "country");
        b.relation_alias("P17", "sovereign state");
        let kb = b.finish(Manifest {
            format_version: FORMAT_VERSION,
            ..Manifest::default()
        });
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kb");
        save(&kb, &path).unwrap();
        let back = load(&path).unwrap();
        assert_eq!(back.entities, kb.entities);
        assert_eq!(back.aliases, kb.aliases);
        assert_eq!(back.entity_types, kb.entity_types);
        assert_eq!(back.type_parents, kb.type_parents);
        assert_eq!(back.relations, kb.relations);
        assert_eq!(back.triples, kb.triples);
        assert_eq!(back.manifest, kb.manifest);
        // Saving again over an existing store replaces it and leaves nothing beside it.
        save(&kb, &path).unwrap();
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap())
            .collect();
        assert_eq!(names.len(), 1);
    }
}
