//! Size and balance: a per-entity cap so head entities do not crowd out the rest, a total
//! budget, then masking and the held-out split, all driven by one seeded generator so a run is
//! reproducible.

use std::collections::HashMap;

use rand::rngs::StdRng;
use rand::Rng;

use crate::kb::EntityIdx;

use super::example::WeakExample;
use super::generate::Sentence;
use super::mask::mask_span;

/// Admits mentions while the per-entity cap and the total budget allow.
#[derive(Debug)]
pub struct Budget {
    pub max_examples: usize,
    pub max_per_entity: u32,
    pub taken: usize,
    /// Mentions dropped because their gold had reached the cap.
    pub dropped_by_cap: u64,
    counts: HashMap<EntityIdx, u32>,
}

impl Budget {
    pub fn new(max_examples: usize, max_per_entity: u32) -> Self {
        Budget {
            max_examples,
            max_per_entity,
            taken: 0,
            dropped_by_cap: 0,
            counts: HashMap::new(),
        }
    }

    pub fn is_full(&self) -> bool {
        self.taken >= self.max_examples
    }

    /// Keeps the mentions whose gold is under the cap, within `limit` total mentions; the
    /// sentence survives if any mention does.
    pub fn admit(&mut self, mut sentence: Sentence, limit: usize) -> Option<Sentence> {
        let limit = limit.min(self.max_examples);
        sentence.mentions.retain(|m| {
            if self.taken >= limit {
                return false;
            }
            let n = self.counts.entry(m.gold).or_default();
            if *n >= self.max_per_entity {
                self.dropped_by_cap += 1;
                return false;
            }
            *n += 1;
            self.taken += 1;
            true
        });
        (!sentence.mentions.is_empty()).then_some(sentence)
    }
}

/// One training example per mention; each mention is masked with probability `mask_rate`,
/// in its own copy of the sentence, so the other mentions' spans stay valid in every row.
pub fn expand(
    sentence: &Sentence,
    sentence_id: u64,
    mask_rate: f32,
    mask_token: &str,
    rng: &mut StdRng,
) -> Vec<WeakExample> {
    sentence
        .mentions
        .iter()
        .map(|m| {
            let masked = mask_rate > 0.0 && rng.random::<f32>() < mask_rate;
            let (text, start, end) = if masked {
                mask_span(&sentence.text, m.start, m.end, mask_token)
            } else {
                (sentence.text.clone(), m.start, m.end)
            };
            WeakExample {
                sentence_id,
                doc: sentence.doc.clone(),
                source: sentence.source,
                rule: m.rule,
                text,
                start,
                end,
                surface: m.surface.clone(),
                gold: m.gold,
                candidates: m.candidates.clone(),
                masked,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::disambiguate::weak::example::{Rule, Source, WeakCandidate};
    use crate::disambiguate::weak::generate::LabelledMention;
    use rand::SeedableRng;

    fn sentence(golds: &[EntityIdx]) -> Sentence {
        let text = "Ada met Bob in Rome.".to_string();
        let spans = [(0, 3), (8, 11), (15, 19)];
        Sentence {
            doc: "d".into(),
            source: Source::Extract,
            mentions: golds
                .iter()
                .zip(spans)
                .map(|(&gold, (start, end))| LabelledMention {
                    start,
                    end,
                    surface: text.chars().skip(start).take(end - start).collect(),
                    gold,
                    rule: Rule::Unambiguous,
                    candidates: vec![WeakCandidate {
                        entity: gold,
                        prior: 1.0,
                    }],
                })
                .collect(),
            text,
        }
    }

    #[test]
    fn cap_and_budget_limit_mentions() {
        let mut b = Budget::new(4, 2);
        assert_eq!(
            b.admit(sentence(&[1, 1, 2]), usize::MAX)
                .unwrap()
                .mentions
                .len(),
            3
        );
        let s = b.admit(sentence(&[1, 3, 4]), usize::MAX).unwrap();
        assert_eq!(s.mentions.iter().map(|m| m.gold).collect::<Vec<_>>(), [3]);
        assert_eq!(b.dropped_by_cap, 1);
        assert!(b.is_full());
        assert!(b.admit(sentence(&[5]), usize::MAX).is_none());
    }

    #[test]
    fn masked_rows_keep_spans_on_the_token() {
        let mut rng = StdRng::seed_from_u64(7);
        let rows = expand(&sentence(&[1, 2, 3]), 9, 1.0, "[MASK]", &mut rng);
        assert_eq!(rows[1].text, "Ada met [MASK] in Rome.");
        for r in &rows {
            assert!(r.masked);
            let span: String = r.text.chars().skip(r.start).take(r.end - r.start).collect();
            assert_eq!(span, "[MASK]");
        }
        let rows = expand(&sentence(&[1, 2, 3]), 9, 0.0, "[MASK]", &mut rng);
        for r in &rows {
            let span: String = r.text.chars().skip(r.start).take(r.end - r.start).collect();
            assert_eq!(span, r.surface);
            assert!(!r.masked);
        }
    }
}
