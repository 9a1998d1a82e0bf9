//! One weakly labelled training mention: the sentence it sits in, its span and surface, the gold
//! entity, the candidates retrieval proposes for it, and how the label was obtained.

use crate::kb::EntityIdx;

/// Where the sentence came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// An entity's description rendered with the entity as subject.
    Description,
    /// A KB triple rendered as a sentence.
    Triple,
    /// A sentence of real prose from a Wikipedia extract.
    Extract,
}

/// Why the gold label is believed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Rule {
    /// Known by construction: the subject of a description, the head or tail of a triple.
    Known,
    /// Known by construction, and written with another of the entity's names, one retrieval
    /// does not rank it first for (see `Generator::written_name`).
    Renamed,
    /// The alias has one exact candidate, or one whose prior dominates the others.
    Unambiguous,
    /// The entity the text is about is among the exact candidates.
    Subject,
    /// Exactly one exact candidate is adjacent in the KB graph to an entity already known in
    /// the text.
    Kg,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Description => "description",
            Source::Triple => "triple",
            Source::Extract => "extract",
        }
    }
}

impl Rule {
    pub fn as_str(self) -> &'static str {
        match self {
            Rule::Known => "known",
            Rule::Renamed => "renamed",
            Rule::Unambiguous => "unambiguous",
            Rule::Subject => "subject",
            Rule::Kg => "kg",
        }
    }
}

/// The combined tag of source and rule: `description`, `triple` for mentions known by
/// construction, else `<source>-<rule>` such as `extract-kg`.
pub fn labelled_by(source: Source, rule: Rule) -> String {
    match rule {
        Rule::Known => source.as_str().to_string(),
        _ => format!("{}-{}", source.as_str(), rule.as_str()),
    }
}

/// A candidate as the training data records it.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct WeakCandidate {
    pub entity: EntityIdx,
    pub prior: f32,
}

/// One training mention. Offsets are code points into `text`, `[start, end)`.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct WeakExample {
    /// Identifies the sentence; mentions of one sentence share it.
    pub sentence_id: u64,
    /// The document the sentence came from: the extract's or the described entity's id, or
    /// `head|relation|tail` for a triple.
    pub doc: String,
    pub source: Source,
    pub rule: Rule,
    /// The sentence, with this mention replaced by the mask token when `masked`.
    pub text: String,
    pub start: usize,
    pub end: usize,
    /// The mention's own words as they appear in the unmasked sentence.
    pub surface: String,
    pub gold: EntityIdx,
    /// Retrieval's candidates for the surface, best prior first; the gold is always among them.
    pub candidates: Vec<WeakCandidate>,
    pub masked: bool,
}

impl WeakExample {
    /// Position of the gold among the candidates.
    pub fn gold_rank(&self) -> usize {
        self.candidates
            .iter()
            .position(|c| c.entity == self.gold)
            .expect("the gold is among the candidates")
    }
}
