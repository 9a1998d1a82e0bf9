//! Streaming reader of Wikidata JSON dumps.
//!
//! The dump is a `[` line, one entity per line ending in `,`, and a `]` line. Lines are read in
//! batches and parsed in parallel; only the wanted language's label, aliases and description,
//! the English Wikipedia title and item-valued claims are kept. Real dumps are irregular: empty
//! maps written as `[]`, claims whose value is "somevalue" or "novalue", properties and lexemes
//! among the items. Such records are counted by reason, never fatal.

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::marker::PhantomData;

use rayon::prelude::*;
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;

use super::error::{KbError, Result};
use super::ingest::{open_with_progress, IngestState};
use super::input::Lines;
use super::sources::WikidataSource;

const BATCH_LINES: usize = 4096;
const INSTANCE_OF: &str = "P31";
const SUBCLASS_OF: &str = "P279";

/// What one dump line contributes, parsed off the main thread.
#[derive(Debug, Default, PartialEq)]
pub struct ParsedEntity {
    pub id: String,
    pub kind: String,
    pub label: Option<String>,
    pub description: Option<String>,
    pub aliases: Vec<String>,
    pub wikipedia: Option<String>,
    /// `(property, item)` pairs of item-valued claims.
    pub claims: Vec<(String, String)>,
    /// Claims skipped, by reason.
    pub skipped: BTreeMap<&'static str, u64>,
}

#[derive(Deserialize)]
struct RawEntity<'a> {
    #[serde(rename = "type", default)]
    kind: Option<String>,
    id: Option<String>,
    #[serde(default, borrow)]
    labels: Option<&'a RawValue>,
    #[serde(default, borrow)]
    descriptions: Option<&'a RawValue>,
    #[serde(default, borrow)]
    aliases: Option<&'a RawValue>,
    #[serde(default, borrow)]
    claims: Option<&'a RawValue>,
    #[serde(default, borrow)]
    sitelinks: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct LangValue {
    value: String,
}

#[derive(Deserialize)]
struct Sitelink {
    title: String,
}

#[derive(Deserialize)]
struct Claim<'a> {
    #[serde(borrow)]
    mainsnak: Snak<'a>,
}

#[derive(Deserialize)]
struct Snak<'a> {
    snaktype: String,
    #[serde(default, borrow)]
    datavalue: Option<DataValue<'a>>,
}

#[derive(Deserialize)]
struct DataValue<'a> {
    #[serde(rename = "type")]
    kind: String,
    #[serde(borrow)]
    value: &'a RawValue,
}

#[derive(Deserialize)]
struct EntityIdValue {
    id: Option<String>,
    #[serde(rename = "numeric-id")]
    numeric_id: Option<u64>,
    #[serde(rename = "entity-type")]
    entity_type: Option<String>,
}

/// Deserializes one key of a language-keyed map, accepting `[]` for an empty map.
struct OneKey<'k, T> {
    key: &'k str,
    _t: PhantomData<T>,
}

impl<'de, T: Deserialize<'de>> DeserializeSeed<'de> for OneKey<'_, T> {
    type Value = Option<T>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> std::result::Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de, T: Deserialize<'de>> Visitor<'de> for OneKey<'_, T> {
    type Value = Option<T>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a map keyed by language or site (or [] when empty)")
    }
    fn visit_map<A: MapAccess<'de>>(
        self,
        mut map: A,
    ) -> std::result::Result<Self::Value, A::Error> {
        let mut found = None;
        while let Some(k) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            if k == self.key {
                found = Some(map.next_value::<T>()?);
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(found)
    }
    fn visit_seq<A: SeqAccess<'de>>(
        self,
        mut seq: A,
    ) -> std::result::Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(None)
    }
    fn visit_unit<E>(self) -> std::result::Result<Self::Value, E> {
        Ok(None)
    }
}

fn one_key<'de, T: Deserialize<'de>>(
    raw: Option<&'de RawValue>,
    key: &str,
) -> serde_json::Result<Option<T>> {
    match raw {
        None => Ok(None),
        Some(raw) => {
            let mut de = serde_json::Deserializer::from_str(raw.get());
            OneKey {
                key,
                _t: PhantomData,
            }
            .deserialize(&mut de)
        }
    }
}

/// Claims as a property → statements map, accepting `[]` for none.
fn claims_of<'de>(
    raw: Option<&'de RawValue>,
) -> serde_json::Result<Vec<(String, Vec<&'de RawValue>)>> {
    let Some(raw) = raw else {
        return Ok(Vec::new());
    };
    let text = raw.get().trim_start();
    if text.starts_with('[') {
        let _: Vec<IgnoredAny> = serde_json::from_str(text)?;
        return Ok(Vec::new());
    }
    let map: BTreeMap<String, Vec<&'de RawValue>> = serde_json::from_str(raw.get())?;
    Ok(map.into_iter().collect())
}

/// Parses one dump line (already stripped of its trailing comma).
pub fn parse_entity(line: &str, language: &str) -> std::result::Result<ParsedEntity, String> {
    let raw: RawEntity = serde_json::from_str(line).map_err(|e| format!("invalid JSON: {e}"))?;
    let id = raw
        .id
        .filter(|s| !s.is_empty())
        .ok_or("field \"id\" is missing or empty")?;
    let ctx = |field: &str, e: serde_json::Error| format!("entity {id}: field {field:?}: {e}");
    let mut parsed = ParsedEntity {
        kind: raw.kind.unwrap_or_else(|| "item".to_string()),
        label: one_key::<LangValue>(raw.labels, language)
            .map_err(|e| ctx("labels", e))?
            .map(|v| v.value),
        description: one_key::<LangValue>(raw.descriptions, language)
            .map_err(|e| ctx("descriptions", e))?
            .map(|v| v.value),
        aliases: one_key::<Vec<LangValue>>(raw.aliases, language)
            .map_err(|e| ctx("aliases", e))?
            .unwrap_or_default()
            .into_iter()
            .map(|v| v.value)
            .collect(),
        wikipedia: one_key::<Sitelink>(raw.sitelinks, &format!("{language}wiki"))
            .map_err(|e| ctx("sitelinks", e))?
            .map(|s| s.title),
        ..ParsedEntity::default()
    };
    for (property, statements) in claims_of(raw.claims).map_err(|e| ctx("claims", e))? {
        for statement in statements {
            let Ok(claim) = serde_json::from_str::<Claim>(statement.get()) else {
                *parsed.skipped.entry("malformed claim").or_default() += 1;
                continue;
            };
            let snak = claim.mainsnak;
            let reason = match (snak.snaktype.as_str(), snak.datavalue) {
                ("somevalue", _) => "claim with value \"somevalue\"",
                ("novalue", _) => "claim with value \"novalue\"",
                ("value", Some(dv)) if dv.kind == "wikibase-entityid" => match item_id(dv.value) {
                    Some(target) => {
                        parsed.claims.push((property.clone(), target));
                        continue;
                    }
                    None => "claim pointing to a non-item entity",
                },
                ("value", Some(_)) => "literal-valued claim (not a relation)",
                _ => "claim without a value",
            };
            *parsed.skipped.entry(reason).or_default() += 1;
        }
    }
    parsed.id = id;
    Ok(parsed)
}

/// The QID an entity-id value points to, if it is an item.
fn item_id(value: &RawValue) -> Option<String> {
    let v: EntityIdValue = serde_json::from_str(value.get()).ok()?;
    match (v.entity_type.as_deref(), v.id, v.numeric_id) {
        (Some("item") | None, Some(id), _) if id.starts_with('Q') => Some(id),
        (Some("item"), None, Some(n)) => Some(format!("Q{n}")),
        _ => None,
    }
}

/// Reads a dump into the builder; returns the number of entity lines read.
pub fn read(src: &WikidataSource, state: &mut IngestState) -> Result<u64> {
    let mut lines = Lines::new(&src.path, open_with_progress(&src.path, state)?);
    let mut seen: HashSet<String> = HashSet::new();
    let mut records = 0u64;
    let mut batch: Vec<(u64, String)> = Vec::with_capacity(BATCH_LINES);
    loop {
        batch.clear();
        while batch.len() < BATCH_LINES {
            match lines.next_line() {
                None => break,
                Some(Err(e)) => state.budget.absorb(e, "")?,
                Some(Ok((n, line))) => {
                    let body = line.trim().trim_end_matches(',');
                    if !matches!(body, "" | "[" | "]") {
                        batch.push((n, body.to_string()));
                    }
                }
            }
        }
        if batch.is_empty() {
            break;
        }
        records += batch.len() as u64;
        let parsed: Vec<_> = batch
            .par_iter()
            .map(|(_, line)| parse_entity(line, &src.language))
            .collect();
        for ((n, line), result) in batch.iter().zip(parsed) {
            match result {
                Ok(entity) => {
                    if !seen.insert(entity.id.clone()) {
                        let msg = format!("duplicate entity id {:?} in this dump", entity.id);
                        state
                            .budget
                            .absorb(KbError::bad(&src.path, *n, msg), line)?;
                        continue;
                    }
                    apply(entity, state);
                }
                Err(message) => {
                    state
                        .budget
                        .absorb(KbError::bad(&src.path, *n, message), line)?;
                }
            }
        }
    }
    if records == 0 {
        return Err(KbError::bad(
            &src.path,
            lines.lines_read(),
            "no entity record in the dump",
        ));
    }
    Ok(records)
}

fn apply(entity: ParsedEntity, state: &mut IngestState) {
    for (reason, n) in &entity.skipped {
        state.skip(reason, *n);
    }
    match entity.kind.as_str() {
        "item" => {}
        "property" => {
            let b = &mut state.builder;
            if let Some(l) = &entity.label {
                b.relation_label(&entity.id, l);
            }
            if let Some(d) = &entity.description {
                b.relation_description(&entity.id, d);
            }
            for a in &entity.aliases {
                b.relation_alias(&entity.id, a);
            }
            state.skip("property record (kept as relation metadata)", 1);
            return;
        }
        _ => {
            state.skip("non-item record (lexeme, form, sense, …)", 1);
            return;
        }
    }
    let b = &mut state.builder;
    b.entity(&entity.id);
    if let Some(l) = &entity.label {
        b.label(&entity.id, l);
    }
    if let Some(d) = &entity.description {
        b.description(&entity.id, d);
    }
    if let Some(w) = &entity.wikipedia {
        b.wikipedia(&entity.id, w);
    }
    for a in &entity.aliases {
        b.alias(&entity.id, a, None);
    }
    for (property, target) in &entity.claims {
        match property.as_str() {
            INSTANCE_OF => b.entity_type(&entity.id, target),
            SUBCLASS_OF => b.type_parent(&entity.id, target),
            _ => b.triple(&entity.id, property, target),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_english_and_item_claims() {
        let line = r#"{"type":"item","id":"Q90","labels":{"fr":{"language":"fr","value":"Paris"},"en":{"language":"en","value":"Paris"}},"descriptions":[],"aliases":{"en":[{"language":"en","value":"City of Light"}]},"sitelinks":{"enwiki":{"site":"enwiki","title":"Paris"}},"claims":{"P31":[{"mainsnak":{"snaktype":"value","property":"P31","datavalue":{"value":{"entity-type":"item","numeric-id":515,"id":"Q515"},"type":"wikibase-entityid"}}}],"P17":[{"mainsnak":{"snaktype":"somevalue","property":"P17"}}],"P1082":[{"mainsnak":{"snaktype":"value","datavalue":{"value":{"amount":"+2"},"type":"quantity"}}}],"P6":[{"mainsnak":{"snaktype":"value","datavalue":{"value":{"entity-type":"item","numeric-id":601},"type":"wikibase-entityid"}}},{"mainsnak":{"snaktype":"value","datavalue":{"value":{"id":"Q7"}}}}]}}"#;
        let e = parse_entity(line, "en").unwrap();
        assert_eq!(e.label.as_deref(), Some("Paris"));
        assert_eq!(e.description, None);
        assert_eq!(e.aliases, vec!["City of Light"]);
        assert_eq!(e.wikipedia.as_deref(), Some("Paris"));
        let claims = [("P31", "Q515"), ("P6", "Q601")].map(|(p, q)| (p.to_string(), q.to_string()));
        assert_eq!(e.claims, claims);
        assert_eq!(e.skipped["malformed claim"], 1);
        assert_eq!(e.skipped["claim with value \"somevalue\""], 1);
        assert_eq!(e.skipped["literal-valued claim (not a relation)"], 1);
    }

    #[test]
    fn empty_maps_as_lists_are_accepted() {
        let line = r#"{"type":"item","id":"Q1","labels":[],"descriptions":[],"aliases":[],"claims":[],"sitelinks":[]}"#;
        let e = parse_entity(line, "en").unwrap();
        assert_eq!(e.id, "Q1");
        assert!(e.label.is_none() && e.claims.is_empty());
    }

    #[test]
    fn wrong_field_type_names_the_field() {
        let line = r#"{"type":"item","id":"Q1","labels":{"en":{"value":5}}}"#;
        let err = parse_entity(line, "en").unwrap_err();
        assert!(err.contains("\"labels\""), "{err}");
    }
}
