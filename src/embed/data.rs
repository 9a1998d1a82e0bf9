//! Training data for the embedding stage: integer triples over dense entity and relation rows,
//! read from a KB store or from plain `head<TAB>relation<TAB>tail` split files.
//!
//! From a KB, type assignments become triples of the relation [`INSTANCE_OF`] and the type
//! hierarchy triples of [`SUBCLASS_OF`], so types are embedded in the same space as entities
//! (a type is an entity in the KB's id space).

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::error::{EmbedError, Result};

/// The relation id given to "entity is an instance of type" triples taken from a KB.
pub const INSTANCE_OF: &str = "tailor:instance_of";
/// The relation id given to "type is a subclass of type" triples taken from a KB.
pub const SUBCLASS_OF: &str = "tailor:subclass_of";

/// A triple as table rows: head entity, relation, tail entity.
pub type Row = [u32; 3];

/// Where the triples came from, so a manifest can name its inputs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputRecord {
    pub path: String,
    pub sha256: String,
}

/// Triples over a fixed vocabulary, split for training and evaluation.
#[derive(Debug, Clone, Default)]
pub struct TripleData {
    pub entities: Vec<String>,
    pub relations: Vec<String>,
    pub train: Vec<Row>,
    pub valid: Vec<Row>,
    pub test: Vec<Row>,
    /// Entity rows that are types (tails of [`INSTANCE_OF`]), sorted.
    pub types: Vec<u32>,
    pub inputs: Vec<InputRecord>,
}

impl TripleData {
    /// All triples of a KB store, with types and the type hierarchy as extra relations.
    pub fn from_kb(dir: &Path) -> Result<Self> {
        let kb = crate::kb::load(dir)?;
        let entities: Vec<String> = kb.entities.iter().map(|e| e.id.clone()).collect();
        let mut relations: Vec<String> = kb.relations.iter().map(|r| r.id.clone()).collect();
        let mut train: Vec<Row> = kb
            .triples
            .iter()
            .map(|t| [t.head, t.relation, t.tail])
            .collect();

        let instance_of = relations.len() as u32;
        relations.push(INSTANCE_OF.to_string());
        train.extend(kb.entity_types.iter().map(|&(e, t)| [e, instance_of, t]));
        let mut types: Vec<u32> = kb.entity_types.iter().map(|p| p.1).collect();
        if !kb.type_parents.is_empty() {
            let subclass_of = relations.len() as u32;
            relations.push(SUBCLASS_OF.to_string());
            train.extend(kb.type_parents.iter().map(|&(t, p)| [t, subclass_of, p]));
            types.extend(kb.type_parents.iter().flat_map(|p| [p.0, p.1]));
        }
        types.sort_unstable();
        types.dedup();

        let manifest = dir.join("manifest.json");
        let (_, sha256) = crate::kb::sha256_file(&manifest)?;
        Ok(TripleData {
            entities,
            relations,
            train,
            types,
            inputs: vec![InputRecord {
                path: manifest.display().to_string(),
                sha256,
            }],
            ..Default::default()
        })
    }

    /// Split files sharing one vocabulary built in reading order (train first).
    pub fn from_files(train: &Path, valid: Option<&Path>, test: Option<&Path>) -> Result<Self> {
        let mut vocab = Vocab::default();
        let mut data = TripleData {
            train: vocab.read(train)?,
            ..Default::default()
        };
        if let Some(p) = valid {
            data.valid = vocab.read(p)?;
        }
        if let Some(p) = test {
            data.test = vocab.read(p)?;
        }
        for p in [Some(train), valid, test].into_iter().flatten() {
            let (_, sha256) = crate::kb::sha256_file(p)?;
            data.inputs.push(InputRecord {
                path: p.display().to_string(),
                sha256,
            });
        }
        data.entities = vocab.entities;
        data.relations = vocab.relations;
        Ok(data)
    }
}

/// Reads extra split files against a fixed vocabulary, as evaluation does; unknown ids are
/// errors naming the line, since an embedding cannot rank an entity it never saw.
pub fn read_known(
    path: &Path,
    entities: &HashMap<&str, u32>,
    relations: &HashMap<&str, u32>,
) -> Result<Vec<Row>> {
    let mut rows = Vec::new();
    for_each_triple(path, |line, h, r, t| {
        let look = |map: &HashMap<&str, u32>, id: &str, field: &'static str| {
            map.get(id).copied().ok_or_else(|| EmbedError::BadTriple {
                path: path.to_path_buf(),
                line,
                field,
                message: format!("{id:?} has no embedding"),
            })
        };
        rows.push([
            look(entities, h, "head")?,
            look(relations, r, "relation")?,
            look(entities, t, "tail")?,
        ]);
        Ok(())
    })?;
    Ok(rows)
}

#[derive(Default)]
struct Vocab {
    entities: Vec<String>,
    relations: Vec<String>,
    entity_index: HashMap<String, u32>,
    relation_index: HashMap<String, u32>,
}

impl Vocab {
    fn read(&mut self, path: &Path) -> Result<Vec<Row>> {
        let mut rows = Vec::new();
        for_each_triple(path, |_, h, r, t| {
            let h = intern(&mut self.entities, &mut self.entity_index, h);
            let r = intern(&mut self.relations, &mut self.relation_index, r);
            let t = intern(&mut self.entities, &mut self.entity_index, t);
            rows.push([h, r, t]);
            Ok(())
        })?;
        Ok(rows)
    }
}

fn intern(ids: &mut Vec<String>, index: &mut HashMap<String, u32>, id: &str) -> u32 {
    if let Some(&i) = index.get(id) {
        return i;
    }
    let i = ids.len() as u32;
    ids.push(id.to_string());
    index.insert(id.to_string(), i);
    i
}

/// Calls `f(line, head, relation, tail)` for every non-empty line; tolerates CRLF endings.
fn for_each_triple(
    path: &Path,
    mut f: impl FnMut(u64, &str, &str, &str) -> Result<()>,
) -> Result<()> {
    let file = std::fs::File::open(path).map_err(|e| EmbedError::io(path, e))?;
    let bad = |line: u64, field: &'static str, message: &str| EmbedError::BadTriple {
        path: PathBuf::from(path),
        line,
        field,
        message: message.to_string(),
    };
    for (n, line) in BufReader::new(file).lines().enumerate() {
        let line_no = n as u64 + 1;
        let line = line.map_err(|e| EmbedError::io(path, e))?;
        let line = line.trim_end_matches(['\r', '\n']);
        if line.is_empty() {
            continue;
        }
        let mut parts = line.split('\t');
        let h = parts.next().filter(|s| !s.is_empty());
        let r = parts.next().filter(|s| !s.is_empty());
        let t = parts.next().filter(|s| !s.is_empty());
        let (h, r, t) = match (h, r, t) {
            (Some(h), Some(r), Some(t)) => (h, r, t),
            (None, _, _) => return Err(bad(line_no, "head", "missing")),
            (_, None, _) => return Err(bad(line_no, "relation", "missing")),
            _ => {
                return Err(bad(
                    line_no,
                    "tail",
                    "missing (expected 3 tab-separated fields)",
                ))
            }
        };
        if parts.next().is_some() {
            return Err(bad(line_no, "tail", "more than 3 tab-separated fields"));
        }
        f(line_no, h, r, t)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_line_names_file_line_and_field() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("train.txt");
        std::fs::write(&p, "a\tr\tb\r\nc\tr\n").unwrap();
        let err = TripleData::from_files(&p, None, None)
            .unwrap_err()
            .to_string();
        assert!(err.contains("train.txt:2: tail"), "{err}");
    }

    #[test]
    fn splits_share_one_vocabulary() {
        let dir = tempfile::tempdir().unwrap();
        let (tr, te) = (dir.path().join("tr"), dir.path().join("te"));
        std::fs::write(&tr, "a\tr\tb\r\nb\ts\tc\n").unwrap();
        std::fs::write(&te, "c\tr\ta\n").unwrap();
        let d = TripleData::from_files(&tr, None, Some(&te)).unwrap();
        assert_eq!(d.entities, ["a", "b", "c"]);
        assert_eq!(d.test, vec![[2, 0, 0]]);
    }
}
