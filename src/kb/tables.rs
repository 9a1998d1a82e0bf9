//! Readers for delimited triple and `id → value` tables and for JSON maps keyed by id, each
//! with its layout declared in the source spec.

use std::collections::HashMap;

use serde_json::Value;

use super::error::{KbError, Result};
use super::ingest::{open_with_progress, IngestState};
use super::input::Lines;
use super::sources::{FactKind, JsonMapSource, TableSource, TriplesSource};

/// Applies one fact about `id` to the builder.
pub(super) fn apply_fact(state: &mut IngestState, kind: FactKind, id: &str, value: &str) {
    let b = &mut state.builder;
    match kind {
        FactKind::Label => b.label(id, value),
        FactKind::Alias => b.alias(id, value, None),
        FactKind::Description => b.description(id, value),
        FactKind::Wikipedia => b.wikipedia(id, value),
        FactKind::Type => b.entity_type(id, value),
        FactKind::TypeParent => b.type_parent(id, value),
        FactKind::RelationLabel => b.relation_label(id, value),
        FactKind::RelationAlias => b.relation_alias(id, value),
        FactKind::RelationDescription => b.relation_description(id, value),
    }
}

/// Removes CSV-style quoting: `"a ""b"""` becomes `a "b"`. Unquoted text is returned as is.
pub(super) fn unquote(text: &str) -> std::borrow::Cow<'_, str> {
    match text.strip_prefix('"').and_then(|t| t.strip_suffix('"')) {
        Some(inner) if text.len() >= 2 => inner.replace("\"\"", "\"").into(),
        _ => text.into(),
    }
}

fn field<'a>(cells: &[&'a str], at: usize, name: &str) -> std::result::Result<&'a str, String> {
    match cells.get(at) {
        None => Err(format!(
            "{name} column {at} missing: the line has {} columns",
            cells.len()
        )),
        Some(v) if v.trim().is_empty() => Err(format!("{name} (column {at}) is empty")),
        Some(v) => Ok(v.trim()),
    }
}

/// Reads `head relation tail` rows; returns the number of data lines read.
pub fn read_triples(src: &TriplesSource, state: &mut IngestState) -> Result<u64> {
    let mut lines = Lines::new(&src.path, open_with_progress(&src.path, state)?);
    let map = match &src.id_map {
        Some(name) => Some(
            state
                .id_maps
                .get(name)
                .cloned()
                .ok_or_else(|| KbError::Config {
                    path: src.path.clone(),
                    message: format!("id map {name:?} is declared by no earlier json_map source"),
                })?,
        ),
        None => None,
    };
    let cols = src.columns;
    let mut rows = 0u64;
    let mut unmapped = 0u64;
    while let Some(item) = lines.next_line() {
        let (n, line) = match item {
            Ok(v) => v,
            Err(e) => {
                state.budget.absorb(e, "")?;
                continue;
            }
        };
        if (n == 1 && src.header) || line.trim().is_empty() {
            continue;
        }
        rows += 1;
        let cells: Vec<&str> = line.split(src.delimiter.as_str()).collect();
        let parsed = (|| {
            let h = field(&cells, cols.head, "head")?;
            let r = field(&cells, cols.relation, "relation")?;
            let t = field(&cells, cols.tail, "tail")?;
            if src.known_relations_only && !state.builder.has_relation(r) {
                return Err(format!(
                    "unknown relation {r:?}: no earlier source declares it"
                ));
            }
            Ok((h, r, t))
        })();
        match parsed {
            Ok((h, r, t)) => match &map {
                Some(map) => match (map.get(h), map.get(t)) {
                    (Some(h), Some(t)) => state.builder.triple(h, r, t),
                    _ => unmapped += 1,
                },
                None => state.builder.triple(h, r, t),
            },
            Err(message) => {
                let line = line.to_string();
                state
                    .budget
                    .absorb(KbError::bad(&src.path, n, message), &line)?;
            }
        }
    }
    if unmapped > 0 {
        state.skip("triple with an end missing from the id map", unmapped);
    }
    Ok(rows)
}

/// Reads `id value` rows into one kind of fact.
pub fn read_table(src: &TableSource, state: &mut IngestState) -> Result<u64> {
    let mut lines = Lines::new(&src.path, open_with_progress(&src.path, state)?);
    let cols = src.columns;
    let single_valued = matches!(src.table, FactKind::Label | FactKind::RelationLabel);
    let mut seen: HashMap<String, u64> = HashMap::new();
    let mut rows = 0u64;
    while let Some(item) = lines.next_line() {
        let (n, line) = match item {
            Ok(v) => v,
            Err(e) => {
                state.budget.absorb(e, "")?;
                continue;
            }
        };
        if (n == 1 && src.header) || line.trim().is_empty() {
            continue;
        }
        rows += 1;
        let cells: Vec<&str> = line.split(src.delimiter.as_str()).collect();
        let parsed = field(&cells, cols.id, "id").and_then(|id| {
            let value = field(&cells, cols.value, "value")?;
            if single_valued {
                if let Some(first) = seen.insert(id.to_string(), n) {
                    return Err(format!(
                        "duplicate id {id:?}: it already had a value at line {first}"
                    ));
                }
            }
            Ok((id, value))
        });
        let (id, value) = match parsed {
            Ok(v) => v,
            Err(message) => {
                let line = line.to_string();
                state
                    .budget
                    .absorb(KbError::bad(&src.path, n, message), &line)?;
                continue;
            }
        };
        let value = if src.quoted {
            unquote(value)
        } else {
            value.into()
        };
        // Known shortcoming: a joined list is split blindly, so an alias that itself holds the
        // separator ("Boston, MA") comes out as two aliases.
        match &src.list_separator {
            Some(sep) => {
                for part in value.split(sep.as_str()) {
                    apply_fact(state, src.table, id, part);
                }
            }
            None => apply_fact(state, src.table, id, &value),
        }
    }
    Ok(rows)
}

/// Reads a JSON object keyed by id. Loaded whole: such maps are small beside dumps.
pub fn read_json_map(src: &JsonMapSource, state: &mut IngestState) -> Result<u64> {
    let mut text = String::new();
    std::io::Read::read_to_string(&mut open_with_progress(&src.path, state)?, &mut text).map_err(
        |e| match e.kind() {
            std::io::ErrorKind::InvalidData => KbError::bad(&src.path, 1, "invalid UTF-8"),
            _ => KbError::io(&src.path, e),
        },
    )?;
    let root: Value = serde_json::from_str(&text)
        .map_err(|e| KbError::bad(&src.path, e.line() as u64, format!("invalid JSON: {e}")))?;
    let Value::Object(entries) = root else {
        return Err(KbError::bad(
            &src.path,
            1,
            "expected a JSON object keyed by id",
        ));
    };
    if src.list.is_none() && src.fields.is_empty() {
        return Err(KbError::Config {
            path: src.path.clone(),
            message: "a json_map source needs `list` or `fields`".into(),
        });
    }
    let mut id_map = HashMap::new();
    for (key, value) in &entries {
        if let Err(message) = apply_json_entry(src, state, key, value, &mut id_map) {
            // JSON maps have no useful line numbers once parsed: name the entry instead.
            let at = line_of_key(&text, key);
            let record = value.to_string();
            state.budget.absorb(
                KbError::bad(&src.path, at, format!("entry {key:?}: {message}")),
                &record,
            )?;
        }
    }
    if let Some(name) = &src.id_map {
        state.id_maps.insert(name.clone(), id_map);
    }
    Ok(entries.len() as u64)
}

fn apply_json_entry(
    src: &JsonMapSource,
    state: &mut IngestState,
    key: &str,
    value: &Value,
    id_map: &mut HashMap<String, String>,
) -> std::result::Result<(), String> {
    if let Some(kind) = src.list {
        let Value::Array(items) = value else {
            return Err(format!(
                "expected a list of ids, found {}",
                json_kind(value)
            ));
        };
        for item in items {
            let Value::String(v) = item else {
                return Err(format!("list item is {}, not a string", json_kind(item)));
            };
            apply_fact(state, kind, key, v);
        }
        return Ok(());
    }
    let Value::Object(obj) = value else {
        return Err(format!("expected an object, found {}", json_kind(value)));
    };
    let id = match &src.id_field {
        Some(f) => match obj.get(f) {
            Some(Value::String(id)) if !id.trim().is_empty() => id.trim().to_string(),
            Some(Value::Null) | None => {
                state.skip("json_map entry without an id", 1);
                return Ok(());
            }
            Some(other) => {
                return Err(format!("field {f:?} is {}, not a string", json_kind(other)))
            }
        },
        None => key.to_string(),
    };
    id_map.insert(key.to_string(), id.clone());
    for (kind, name) in &src.fields {
        match obj.get(name) {
            None | Some(Value::Null) => {}
            Some(Value::String(v)) => apply_fact(state, *kind, &id, v),
            Some(Value::Array(items)) => {
                for item in items {
                    match item {
                        Value::String(v) => apply_fact(state, *kind, &id, v),
                        other => {
                            return Err(format!(
                                "field {name:?} holds {}, not a string",
                                json_kind(other)
                            ))
                        }
                    }
                }
            }
            Some(other) => {
                return Err(format!(
                    "field {name:?} is {}, not a string",
                    json_kind(other)
                ))
            }
        }
    }
    Ok(())
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// The 1-based line where `"key":` first appears, for error messages; 1 if not found.
fn line_of_key(text: &str, key: &str) -> u64 {
    let needle = format!("\"{key}\"");
    text.find(&needle)
        .map(|at| text[..at].bytes().filter(|&b| b == b'\n').count() as u64 + 1)
        .unwrap_or(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unquote_handles_csv_escapes() {
        assert_eq!(unquote(r#""Don ""Red"" Barry""#), r#"Don "Red" Barry"#);
        assert_eq!(unquote("plain"), "plain");
        assert_eq!(unquote("\""), "\"");
    }

    #[test]
    fn line_of_key_counts_newlines() {
        assert_eq!(line_of_key("{\n \"a\": 1,\n \"b\": 2\n}", "b"), 3);
    }
}
