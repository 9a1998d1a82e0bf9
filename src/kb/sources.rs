//! The declared sources of an ingest job, as written in a pipeline config's `[[ingest.sources]]`
//! tables or given on the command line. Every tabular layout is declared, never guessed.

use std::path::{Path, PathBuf};

use serde::Deserialize;

/// One input of an ingest job.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SourceSpec {
    /// A Wikidata JSON dump (`[`, one entity per line ending in `,`, `]`), plain, gz or bz2.
    Wikidata(WikidataSource),
    /// Entity profiles in JSONL, one entity per line (Bootleg's field names).
    Profiles(PathSource),
    /// A delimited file of triples.
    Triples(TriplesSource),
    /// A delimited file of `id → value` rows feeding one kind of fact.
    Table(TableSource),
    /// A JSON object keyed by id whose values are objects or lists of ids.
    JsonMap(JsonMapSource),
}

impl SourceSpec {
    pub fn path(&self) -> &Path {
        match self {
            SourceSpec::Wikidata(s) => &s.path,
            SourceSpec::Profiles(s) => &s.path,
            SourceSpec::Triples(s) => &s.path,
            SourceSpec::Table(s) => &s.path,
            SourceSpec::JsonMap(s) => &s.path,
        }
    }

    pub fn path_mut(&mut self) -> &mut PathBuf {
        match self {
            SourceSpec::Wikidata(s) => &mut s.path,
            SourceSpec::Profiles(s) => &mut s.path,
            SourceSpec::Triples(s) => &mut s.path,
            SourceSpec::Table(s) => &mut s.path,
            SourceSpec::JsonMap(s) => &mut s.path,
        }
    }

    pub fn kind_name(&self) -> &'static str {
        match self {
            SourceSpec::Wikidata(_) => "wikidata",
            SourceSpec::Profiles(_) => "profiles",
            SourceSpec::Triples(_) => "triples",
            SourceSpec::Table(_) => "table",
            SourceSpec::JsonMap(_) => "json_map",
        }
    }
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PathSource {
    pub path: PathBuf,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct WikidataSource {
    pub path: PathBuf,
    /// Language of labels, aliases and descriptions (default `en`).
    #[serde(default = "default_language")]
    pub language: String,
}

fn default_language() -> String {
    "en".to_string()
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TriplesSource {
    pub path: PathBuf,
    /// Column positions, 0-based (default head 0, relation 1, tail 2).
    #[serde(default)]
    pub columns: TripleColumns,
    #[serde(default = "default_delimiter")]
    pub delimiter: String,
    /// Skip the first line.
    #[serde(default)]
    pub header: bool,
    /// Translate head and tail through the id map a `json_map` source declared under this name;
    /// triples whose ends are not in the map are skipped and counted.
    pub id_map: Option<String>,
    /// Reject triples whose relation no earlier source declared (a label or description).
    #[serde(default)]
    pub known_relations_only: bool,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct TripleColumns {
    pub head: usize,
    pub relation: usize,
    pub tail: usize,
}

impl Default for TripleColumns {
    fn default() -> Self {
        TripleColumns {
            head: 0,
            relation: 1,
            tail: 2,
        }
    }
}

fn default_delimiter() -> String {
    "\t".to_string()
}

/// Which fact a table row (or a JSON field) provides.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum FactKind {
    Label,
    Alias,
    Description,
    Wikipedia,
    /// The value is a type the entity is an instance of.
    Type,
    /// The key is a type, the value its parent type.
    TypeParent,
    RelationLabel,
    RelationAlias,
    RelationDescription,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TableSource {
    pub path: PathBuf,
    pub table: FactKind,
    /// Column positions, 0-based (default id 0, value 1).
    #[serde(default)]
    pub columns: KeyValueColumns,
    #[serde(default = "default_delimiter")]
    pub delimiter: String,
    #[serde(default)]
    pub header: bool,
    /// Split each value into several on this separator (for aliases joined in one cell).
    pub list_separator: Option<String>,
    /// Values may be double-quoted with `""` escapes, as CSV writes them.
    #[serde(default)]
    pub quoted: bool,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct KeyValueColumns {
    pub id: usize,
    pub value: usize,
}

impl Default for KeyValueColumns {
    fn default() -> Self {
        KeyValueColumns { id: 0, value: 1 }
    }
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct JsonMapSource {
    pub path: PathBuf,
    /// For maps whose values are lists of ids: the fact each listed id provides (e.g. `type`).
    pub list: Option<FactKind>,
    /// For maps whose values are objects: which field provides which fact, e.g.
    /// `{ label = "label", alias = "alternatives" }`. A field may hold a string or a list.
    #[serde(default)]
    pub fields: std::collections::BTreeMap<FactKind, String>,
    /// Take the entity id from this field of the value instead of the key, and remember the
    /// key → id mapping under `id_map` for later `triples` sources.
    pub id_field: Option<String>,
    pub id_map: Option<String>,
}

/// Makes every relative path absolute against `base` (a config file's directory).
pub fn resolve_paths(sources: &mut [SourceSpec], base: &Path) {
    for s in sources {
        let p = s.path_mut();
        if p.is_relative() {
            *p = normalize(&base.join(&*p));
        }
    }
}

/// Removes `.` and `name/..` pairs lexically, so recorded paths read as a person wrote them.
pub fn normalize(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut out: Vec<Component> = Vec::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir if matches!(out.last(), Some(Component::Normal(_))) => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    if out.is_empty() {
        PathBuf::from(".")
    } else {
        out.iter().collect()
    }
}
