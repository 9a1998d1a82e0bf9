//! Turning each source into labelled sentences: descriptions and triples verbalized around
//! entities known by construction, extract sentences labelled by the rules of [`super::label`].
//!
//! A mention known by construction is kept only when retrieval proposes its gold for the
//! surface: training on a candidate set the linker would never produce teaches nothing. How
//! the known entity is written (its label, a hard name, a short form) is [`super::names`]'s
//! choice. Each kept mention records the retriever's full candidate list, fuzzy ones included,
//! as the hard negatives the model will meet.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, RwLock};

use crate::kb::{EntityIdx, Kb, Triple};
use crate::retrieve::{normalize, Candidate, Retriever};

use super::example::{labelled_by, Rule, Source, WeakCandidate};
use super::label::{Decision, Labeller, Subject};
use super::prose::{sentences, Extract};
use super::verbalize::{description_sentence, relation_phrase, triple_sentence};

/// A labelled mention inside a [`Sentence`], before masking.
#[derive(Debug, Clone, PartialEq)]
pub struct LabelledMention {
    pub start: usize,
    pub end: usize,
    pub surface: String,
    pub gold: EntityIdx,
    pub rule: Rule,
    pub candidates: Vec<WeakCandidate>,
}

/// A sentence with at least one labelled mention.
#[derive(Debug, Clone, PartialEq)]
pub struct Sentence {
    pub doc: String,
    pub source: Source,
    pub text: String,
    pub mentions: Vec<LabelledMention>,
}

/// What happened to the mentions of one source, by outcome.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Tally {
    pub sentences_seen: u64,
    pub mentions_seen: u64,
    /// Labelled mentions by `labelled_by` tag, before caps.
    pub labelled: BTreeMap<String, u64>,
    /// Several exact candidates, no rule singled one out.
    pub rejected_ambiguous: u64,
    /// Several exact candidates adjacent to the anchors.
    pub rejected_kg_tied: u64,
    /// A mention known by construction whose gold retrieval does not propose.
    pub rejected_gold_not_candidate: u64,
    /// Labels dropped because the surface argues against them (see `Generator::implausible`).
    pub rejected_implausible: u64,
}

impl Tally {
    pub fn merge(&mut self, other: &Tally) {
        self.sentences_seen += other.sentences_seen;
        self.mentions_seen += other.mentions_seen;
        for (k, v) in &other.labelled {
            *self.labelled.entry(k.clone()).or_default() += v;
        }
        self.rejected_ambiguous += other.rejected_ambiguous;
        self.rejected_kg_tied += other.rejected_kg_tied;
        self.rejected_gold_not_candidate += other.rejected_gold_not_candidate;
        self.rejected_implausible += other.rejected_implausible;
    }

    fn count(&mut self, source: Source, decision: Decision) {
        match decision {
            Decision::Labelled(_, rule) => {
                *self.labelled.entry(labelled_by(source, rule)).or_default() += 1
            }
            Decision::Ambiguous => self.rejected_ambiguous += 1,
            Decision::KgTied => self.rejected_kg_tied += 1,
        }
    }
}

/// Produces labelled sentences from the KB and the retriever; safe to share across threads.
pub struct Generator<'a> {
    pub kb: &'a Kb,
    pub(super) retriever: &'a Retriever,
    pub(super) labeller: Labeller,
    /// Candidates by normalized surface: names recur across triples and sentences.
    cache: RwLock<HashMap<String, Arc<Vec<Candidate>>>>,
    /// Share of known mentions written with a hard name (see [`super::names`]).
    pub hard_names: f32,
    /// Share of the known mentions not given a hard name that are written with a short form
    /// only fuzzy search finds (see [`super::names`]).
    pub short_names: f32,
    /// Seeds the choice of hard names.
    pub seed: u64,
}

impl<'a> Generator<'a> {
    pub fn new(kb: &'a Kb, retriever: &'a Retriever, dominance: f32) -> Self {
        let mut labeller = Labeller::new(kb);
        labeller.dominance = dominance;
        Generator {
            kb,
            retriever,
            labeller,
            cache: RwLock::default(),
            hard_names: 0.0,
            short_names: 0.0,
            seed: 0,
        }
    }

    pub(super) fn candidates(&self, key: &str) -> Arc<Vec<Candidate>> {
        if let Some(c) = self.cache.read().expect("cache lock").get(key) {
            return c.clone();
        }
        let found = Arc::new(self.retriever.candidates_for_key(key));
        let mut cache = self.cache.write().expect("cache lock");
        cache.entry(key.to_string()).or_insert(found).clone()
    }

    /// Labelled sentences of one extract, in text order.
    pub fn extract(&self, extract: &Extract) -> (Vec<Sentence>, Tally) {
        let subject = self
            .kb
            .entity_idx(&extract.entity_id)
            .map(|e| self.labeller.subject(e));
        let mut tally = Tally::default();
        let mut out = Vec::new();
        for text in sentences(&extract.text) {
            tally.sentences_seen += 1;
            let mentions = self.label_detected(
                &text,
                Source::Extract,
                subject.as_ref(),
                &[],
                None,
                &mut tally,
            );
            if !mentions.is_empty() {
                out.push(Sentence {
                    doc: extract.entity_id.clone(),
                    source: Source::Extract,
                    text,
                    mentions,
                });
            }
        }
        (out, tally)
    }

    /// The description of `entity` with the entity as subject, if it yields a label.
    pub fn description(&self, entity: EntityIdx) -> (Option<Sentence>, Tally) {
        let mut tally = Tally::default();
        let e = self.kb.entity(entity);
        let (Some(label), Some(desc)) = (e.label.as_deref(), e.description.as_deref()) else {
            return (None, tally);
        };
        let written = self.written_name(entity, 0xDE5C, false);
        let Some(v) = description_sentence(written.as_deref().unwrap_or(label), desc) else {
            return (None, tally);
        };
        tally.sentences_seen += 1;
        let mut mentions: Vec<LabelledMention> = self
            .known(&v.text, v.first, entity, Source::Description, &mut tally)
            .into_iter()
            .collect();
        let subject = self.labeller.subject(entity);
        let others = self.label_detected(
            &v.text,
            Source::Description,
            Some(&subject),
            &[entity],
            Some(v.first),
            &mut tally,
        );
        mentions.extend(others);
        let sentence = (!mentions.is_empty()).then(|| Sentence {
            doc: e.id.clone(),
            source: Source::Description,
            text: v.text,
            mentions,
        });
        (sentence, tally)
    }

    /// The triple rendered as a sentence, with head and tail as mentions where retrieval
    /// proposes them.
    pub fn triple(&self, t: &Triple) -> (Option<Sentence>, Tally) {
        let mut tally = Tally::default();
        let (head, tail) = (self.kb.entity(t.head), self.kb.entity(t.tail));
        let (Some(h), Some(tl)) = (head.label.as_deref(), tail.label.as_deref()) else {
            return (None, tally);
        };
        if t.head == t.tail {
            return (None, tally);
        }
        let rel = self.kb.relation(t.relation);
        let relation = u64::from(t.relation) << 40;
        let head_name = self.written_name(t.head, relation ^ u64::from(t.tail), true);
        let tail_name = self.written_name(t.tail, relation ^ u64::from(t.head) ^ 1 << 63, true);
        let v = triple_sentence(
            head_name.as_deref().unwrap_or(h),
            &relation_phrase(&rel.id, rel.label.as_deref()),
            tail_name.as_deref().unwrap_or(tl),
        );
        tally.sentences_seen += 1;
        let second = v.second.expect("triples have a tail span");
        let spans = [(v.first, t.head), (second, t.tail)];
        let surfaces: Vec<String> = spans
            .iter()
            .map(|&((start, end), _)| v.text.chars().skip(start).take(end - start).collect())
            .collect();
        let keys: Vec<String> = surfaces.iter().map(|s| normalize(s)).collect();
        let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
        let mut lists: Vec<Vec<Candidate>> =
            keys.iter().map(|k| self.candidates(k).to_vec()).collect();
        // a partial name is found through the other entity, as linking would find it
        self.retriever
            .add_context_candidates(&keys, &mut lists, &[]);
        let mentions: Vec<LabelledMention> = spans
            .into_iter()
            .zip(lists)
            .filter_map(|((span, gold), candidates)| {
                self.keep_known(span, &v.text, gold, &candidates, Source::Triple, &mut tally)
            })
            .collect();
        let sentence = (!mentions.is_empty()).then(|| Sentence {
            doc: format!("{}|{}|{}", head.id, rel.id, tail.id),
            source: Source::Triple,
            text: v.text,
            mentions,
        });
        (sentence, tally)
    }

    /// A mention whose gold is known by construction, kept if retrieval proposes the gold.
    fn known(
        &self,
        text: &str,
        span: (usize, usize),
        gold: EntityIdx,
        source: Source,
        tally: &mut Tally,
    ) -> Option<LabelledMention> {
        let surface: String = text.chars().skip(span.0).take(span.1 - span.0).collect();
        let candidates = self.candidates(&normalize(&surface));
        self.keep_known(span, text, gold, &candidates, source, tally)
    }

    /// [`Generator::known`] over candidates already retrieved; a gold written with another
    /// name than its label is [`Rule::Renamed`].
    fn keep_known(
        &self,
        (start, end): (usize, usize),
        text: &str,
        gold: EntityIdx,
        candidates: &[Candidate],
        source: Source,
        tally: &mut Tally,
    ) -> Option<LabelledMention> {
        tally.mentions_seen += 1;
        let surface: String = text.chars().skip(start).take(end - start).collect();
        let rule = if self.kb.entity(gold).label.as_deref() == Some(surface.as_str()) {
            Rule::Known
        } else {
            Rule::Renamed
        };
        if !candidates.iter().any(|c| c.entity == gold) {
            tally.rejected_gold_not_candidate += 1;
            return None;
        }
        tally.count(source, Decision::Labelled(gold, rule));
        Some(LabelledMention {
            start,
            end,
            surface,
            gold,
            rule,
            candidates: record(candidates),
        })
    }

    /// Detects alias mentions in `text` (outside `skip`) and labels them by the rules.
    fn label_detected(
        &self,
        text: &str,
        source: Source,
        subject: Option<&Subject>,
        known: &[EntityIdx],
        skip: Option<(usize, usize)>,
        tally: &mut Tally,
    ) -> Vec<LabelledMention> {
        let detected: Vec<_> = self
            .retriever
            .detect(text)
            .into_iter()
            .filter(|m| skip.is_none_or(|(s, e)| m.end <= s || m.start >= e))
            .collect();
        let candidates: Vec<Arc<Vec<Candidate>>> =
            detected.iter().map(|m| self.candidates(&m.key)).collect();
        let slices: Vec<&[Candidate]> = candidates.iter().map(|c| c.as_slice()).collect();
        let decisions = self.labeller.label(&slices, subject, known);
        let chars: Vec<char> = text.chars().collect();
        let mut out = Vec::new();
        for ((m, cands), decision) in detected.iter().zip(&candidates).zip(decisions) {
            tally.mentions_seen += 1;
            let decision = match decision {
                Decision::Labelled(gold, _) if self.implausible(&chars, m.start, m.end, gold) => {
                    tally.rejected_implausible += 1;
                    continue;
                }
                d => d,
            };
            tally.count(source, decision);
            if let Decision::Labelled(gold, rule) = decision {
                out.push(LabelledMention {
                    start: m.start,
                    end: m.end,
                    surface: chars[m.start..m.end].iter().collect(),
                    gold,
                    rule,
                    candidates: record(cands),
                });
            }
        }
        out
    }
}

impl Generator<'_> {
    /// True for a label the surface argues against: a lower-case word for an entity whose
    /// name is capitalized ("always" for the film "Always"), or a capitalized mention that is
    /// only part of a longer name the KB lacks ("Charles" in "Charles Lamont").
    fn implausible(&self, chars: &[char], start: usize, end: usize, gold: EntityIdx) -> bool {
        let lower = chars[start..end].iter().all(|c| !c.is_uppercase());
        let label_capitalized = self
            .kb
            .entity(gold)
            .label
            .as_deref()
            .and_then(|l| l.chars().next())
            .is_some_and(char::is_uppercase);
        (lower && label_capitalized) || (!lower && part_of_longer_name(chars, start, end))
    }
}

/// True when a capitalized word directly follows the span, or directly precedes it without
/// being the first word of the sentence.
fn part_of_longer_name(chars: &[char], start: usize, end: usize) -> bool {
    let after =
        chars.get(end) == Some(&' ') && chars.get(end + 1).is_some_and(|c| c.is_uppercase());
    let before = start >= 2 && chars[start - 1] == ' ' && {
        let word_start = chars[..start - 1]
            .iter()
            .rposition(|c| !c.is_alphanumeric())
            .map_or(0, |i| i + 1);
        word_start > 0 && chars[word_start].is_uppercase() && word_start < start - 1
    };
    after || before
}

fn record(candidates: &[Candidate]) -> Vec<WeakCandidate> {
    candidates
        .iter()
        .map(|c| WeakCandidate {
            entity: c.entity,
            prior: c.prior,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str, word: &str) -> bool {
        let chars: Vec<char> = text.chars().collect();
        let start = text[..text.find(word).unwrap()].chars().count();
        part_of_longer_name(&chars, start, start + word.chars().count())
    }

    #[test]
    fn partial_names_are_spotted() {
        assert!(check("a 1947 film by Charles Lamont.", "Charles"));
        assert!(check("a 1947 film by Charles Lamont.", "Lamont"));
        assert!(!check("In Paris, France.", "Paris"));
        assert!(!check("He went to Paris in May.", "Paris"));
        assert!(!check("Paris is big.", "Paris"));
    }
}
