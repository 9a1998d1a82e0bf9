//! Reader of entity profiles in JSONL, one entity a line, with Bootleg's field names:
//! `entity_id`, `title`, `description`, `aliases` (or `mentions`: strings or `[alias, score]`),
//! `types` (`{system: [type ids]}`) and `relations` (`[{relation, object}]`).

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use serde::Deserialize;

use super::error::{KbError, Result};
use super::ingest::{open_with_progress, IngestState};
use super::input::Lines;

#[derive(Debug, Deserialize)]
struct Profile {
    entity_id: String,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default, alias = "mentions")]
    aliases: Vec<ProfileAlias>,
    /// Type ids per type system; the systems are merged.
    #[serde(default)]
    types: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    relations: Vec<ProfileRelation>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum ProfileAlias {
    Plain(String),
    Scored(String, f32),
}

#[derive(Debug, Deserialize)]
struct ProfileRelation {
    relation: String,
    object: String,
}

/// Reads profiles into the builder; returns the number of records read.
pub fn read(path: &Path, state: &mut IngestState) -> Result<u64> {
    let mut lines = Lines::new(path, open_with_progress(path, state)?);
    let mut seen: HashMap<String, u64> = HashMap::new();
    let mut records = 0u64;
    while let Some(item) = lines.next_line() {
        let (n, line) = match item {
            Ok(v) => v,
            Err(e) => {
                state.budget.absorb(e, "")?;
                continue;
            }
        };
        if line.trim().is_empty() {
            continue;
        }
        records += 1;
        let parsed = parse_profile(line).and_then(|p| match seen.insert(p.entity_id.clone(), n) {
            Some(first) => Err(format!(
                "duplicate entity_id {:?}: first seen at line {first}",
                p.entity_id
            )),
            None => Ok(p),
        });
        match parsed {
            Ok(profile) => apply(profile, state),
            Err(message) => {
                let line = line.to_string();
                state.budget.absorb(KbError::bad(path, n, message), &line)?;
            }
        }
    }
    Ok(records)
}

fn parse_profile(line: &str) -> std::result::Result<Profile, String> {
    let de = &mut serde_json::Deserializer::from_str(line);
    let profile: Profile = serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if inner.is_syntax() || inner.is_eof() {
            format!("not valid JSON: {inner}")
        } else if path == "." {
            format!("{inner}")
        } else {
            format!("field {path:?}: {inner}")
        }
    })?;
    if profile.entity_id.trim().is_empty() {
        return Err("field \"entity_id\" is empty".into());
    }
    Ok(profile)
}

fn apply(p: Profile, state: &mut IngestState) {
    let b = &mut state.builder;
    let id = p.entity_id.trim();
    b.entity(id);
    if let Some(t) = &p.title {
        b.label(id, t);
    }
    if let Some(d) = &p.description {
        b.description(id, d);
    }
    for alias in &p.aliases {
        match alias {
            ProfileAlias::Plain(a) => b.alias(id, a, None),
            ProfileAlias::Scored(a, s) => b.alias(id, a, Some(*s)),
        }
    }
    for type_id in p.types.values().flatten() {
        b.entity_type(id, type_id);
    }
    for r in &p.relations {
        b.triple(id, &r.relation, &r.object);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_scored_and_plain_aliases() {
        let p = parse_profile(
            r#"{"entity_id":"Q1","title":"Universe","mentions":[["cosmos",0.5],"all"],"types":{"wiki":["Q2"]},"relations":[{"relation":"P1","object":"Q3"}]}"#,
        )
        .unwrap();
        assert_eq!(p.aliases.len(), 2);
        assert_eq!(p.types["wiki"], vec!["Q2"]);
    }

    #[test]
    fn wrong_type_names_the_field() {
        let err = parse_profile(r#"{"entity_id":"Q1","title":7}"#).unwrap_err();
        assert!(err.contains("title"), "{err}");
        let err =
            parse_profile(r#"{"entity_id":"Q1","relations":[{"relation":"P1"}]}"#).unwrap_err();
        assert!(
            err.contains("relations[0]") && err.contains("object"),
            "{err}"
        );
    }

    #[test]
    fn truncated_json_is_reported() {
        let err = parse_profile(r#"{"entity_id":"Q1","title":"#).unwrap_err();
        assert!(err.contains("not valid JSON"), "{err}");
    }
}
