//! The gold standard as every reader produces it: documents with labelled mention spans, and
//! the rule that decides which labels are scored.
//!
//! Scoring policy (shared by every metric):
//! - A label is **scored** when its entity is a QID or `<NIL>` and it is a root mention (no
//!   parent), not optional and not a coreference (pronoun or nominal) mention.
//! - Every other label is **ignored**: literal kinds (`DATETIME`, `QUANTITY`, …),
//!   `<NO_MAPPING>` (the right answer exists but has no Wikidata id), malformed ids, optional
//!   labels, coreference labels and the children of a parent label (the parts of a longer
//!   name, such as "Duke" in "Christian III, Duke of Zweibrücken"). They are never given to a
//!   scorer as gold mentions, and a system's mention exactly on their span is neither rewarded
//!   nor penalised.
//! - Scored QID labels count for coverage, recall@k, disambiguation and end-to-end linking;
//!   scored NIL labels count for NIL handling, and a system linking one is a false positive.

use serde::Serialize;

/// What a gold label says the mention refers to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum GoldEntity {
    /// A Wikidata item, `Q…`.
    Entity(String),
    /// The mention refers to something that has no entity (`<NIL>`).
    Nil,
    /// The mention has an entity, but no Wikidata id was found for it (`<NO_MAPPING>`).
    NoMapping,
    /// A literal such as a date or quantity (`DATETIME`, `QUANTITY`).
    Literal(String),
    /// An id that is none of the above, kept as read (the real files hold a few).
    Malformed(String),
}

impl GoldEntity {
    /// Classifies an id as the ELEVANT files spell it.
    pub fn parse(id: &str) -> Self {
        let is_qid = |s: &str| {
            s.strip_prefix('Q')
                .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        };
        match id {
            "<NIL>" => GoldEntity::Nil,
            "<NO_MAPPING>" => GoldEntity::NoMapping,
            _ if is_qid(id) => GoldEntity::Entity(id.to_string()),
            _ if id.len() > 1 && id.bytes().all(|b| b.is_ascii_uppercase() || b == b'_') => {
                GoldEntity::Literal(id.to_string())
            }
            _ => GoldEntity::Malformed(id.to_string()),
        }
    }

    pub fn qid(&self) -> Option<&str> {
        match self {
            GoldEntity::Entity(q) => Some(q),
            _ => None,
        }
    }
}

/// One labelled span of a gold document.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GoldMention {
    /// The label's id within its document, where the format has one (for joining with
    /// per-mention statistics such as ELEVANT's tags).
    pub label: Option<u64>,
    /// Code-point offsets into the document text, `[start, end)`.
    pub start: usize,
    pub end: usize,
    pub surface: String,
    pub entity: GoldEntity,
    /// The gold entity's name as the benchmark gives it.
    pub name: Option<String>,
    /// The benchmark's coarse types of the gold entity (QIDs such as person `Q215627`).
    pub types: Vec<String>,
    pub optional: bool,
    pub coref: bool,
    pub parent: Option<u64>,
    pub children: Vec<u64>,
}

impl GoldMention {
    /// Whether the label is scored (see the module docs); ignored labels only shield the
    /// system's mentions on their span.
    pub fn is_scored(&self) -> bool {
        matches!(self.entity, GoldEntity::Entity(_) | GoldEntity::Nil)
            && !self.optional
            && !self.is_coreference()
            && self.parent.is_none()
    }

    /// A coreference mention: flagged so, or a pronoun standing for a named mention.
    pub fn is_coreference(&self) -> bool {
        self.coref || is_pronoun(&self.surface)
    }
}

/// English personal, possessive and reflexive pronouns, lowercase or capitalized; all capitals
/// ("US", "IT") are names.
fn is_pronoun(surface: &str) -> bool {
    const PRONOUNS: &[&str] = &[
        "i",
        "me",
        "my",
        "mine",
        "myself",
        "you",
        "your",
        "yours",
        "yourself",
        "he",
        "him",
        "his",
        "himself",
        "she",
        "her",
        "hers",
        "herself",
        "it",
        "its",
        "itself",
        "we",
        "us",
        "our",
        "ours",
        "ourselves",
        "they",
        "them",
        "their",
        "theirs",
        "themselves",
    ];
    let surface = surface.trim();
    let lower = surface.to_lowercase();
    let shouted = surface.chars().count() > 1 && surface == surface.to_uppercase();
    PRONOUNS.contains(&lower.as_str()) && !shouted
}

/// One gold document.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GoldDocument {
    pub id: String,
    pub text: String,
    /// The part of the text that was annotated, `[start, end)` in code points; system mentions
    /// outside it are not judged.
    pub evaluation_span: (usize, usize),
    pub mentions: Vec<GoldMention>,
}

/// A whole benchmark as read from one file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GoldSet {
    /// The file name without `.benchmark.jsonl` / `.ttl`, e.g. `kore50`.
    pub name: String,
    pub path: std::path::PathBuf,
    pub documents: Vec<GoldDocument>,
}

impl GoldSet {
    /// Labels by kind, for the report: how many are scored and why the rest are not.
    pub fn label_counts(&self) -> LabelCounts {
        let mut c = LabelCounts::default();
        for m in self.documents.iter().flat_map(|d| &d.mentions) {
            c.labels += 1;
            if m.is_scored() {
                match m.entity {
                    GoldEntity::Nil => c.scored_nil += 1,
                    _ => c.scored_entities += 1,
                }
            } else {
                c.ignored += 1;
            }
            if matches!(m.entity, GoldEntity::Malformed(_)) {
                c.malformed += 1;
            }
        }
        c
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct LabelCounts {
    pub labels: u64,
    pub scored_entities: u64,
    pub scored_nil: u64,
    pub ignored: u64,
    /// Labels whose id was neither a QID, a NIL/no-mapping marker nor a literal kind.
    pub malformed: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_ids() {
        assert_eq!(GoldEntity::parse("Q42"), GoldEntity::Entity("Q42".into()));
        assert_eq!(GoldEntity::parse("<NIL>"), GoldEntity::Nil);
        assert_eq!(GoldEntity::parse("<NO_MAPPING>"), GoldEntity::NoMapping);
        assert_eq!(
            GoldEntity::parse("DATETIME"),
            GoldEntity::Literal("DATETIME".into())
        );
        assert!(matches!(GoldEntity::parse(""), GoldEntity::Malformed(_)));
        assert!(matches!(
            GoldEntity::parse("Q1134486Q4850082"),
            GoldEntity::Malformed(_)
        ));
        assert!(matches!(GoldEntity::parse("Q"), GoldEntity::Malformed(_)));
    }

    #[test]
    fn pronouns_are_coreference_without_the_flag() {
        let m = |surface: &str| GoldMention {
            label: None,
            start: 0,
            end: surface.chars().count(),
            surface: surface.into(),
            entity: GoldEntity::Entity("Q80".into()),
            name: None,
            types: vec![],
            optional: false,
            coref: false,
            parent: None,
            children: vec![],
        };
        assert!(!m("His").is_scored());
        assert!(!m("they").is_scored());
        assert!(m("Berners-Lee").is_scored());
        assert!(m("US").is_scored(), "an acronym is not the pronoun \"us\"");
    }
}
