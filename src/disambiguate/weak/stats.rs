//! What a run produced: counts per source and rule, entity popularity slices and how ambiguous
//! the mentions are, written beside the data and logged.

use std::collections::{BTreeMap, HashMap};

use crate::kb::EntityIdx;

use super::example::{labelled_by, WeakExample};
use super::generate::Tally;

/// Bootleg's popularity slice of an entity seen `count` times in training.
pub fn slice(count: u64) -> &'static str {
    match count {
        0 => "unseen",
        1..=10 => "tail",
        11..=1000 => "torso",
        _ => "head",
    }
}

/// How hard the mentions of one group are for the prior alone.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Ambiguity {
    pub mentions: u64,
    pub mean_candidates: f64,
    /// Share of mentions with more than one candidate.
    pub ambiguous_share: f64,
    /// Share of mentions whose gold is not the candidate of highest prior: what there is to
    /// learn beyond the prior.
    pub gold_not_top_share: f64,
}

fn ambiguity<'a>(examples: impl Iterator<Item = &'a WeakExample>) -> Ambiguity {
    let (mut n, mut cands, mut ambiguous, mut not_top) = (0u64, 0u64, 0u64, 0u64);
    for ex in examples {
        n += 1;
        cands += ex.candidates.len() as u64;
        ambiguous += u64::from(ex.candidates.len() > 1);
        not_top += u64::from(ex.gold_rank() > 0);
    }
    let share = |x: u64| if n == 0 { 0.0 } else { x as f64 / n as f64 };
    Ambiguity {
        mentions: n,
        mean_candidates: share(cands),
        ambiguous_share: share(ambiguous),
        gold_not_top_share: share(not_top),
    }
}

#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct WeakStats {
    pub seconds: f64,
    /// What each source yielded before the caps.
    pub sources: BTreeMap<String, Tally>,
    /// Mentions kept (both splits) by `labelled_by`.
    pub kept: BTreeMap<String, u64>,
    pub dropped_by_cap: u64,
    pub sentences: u64,
    pub train_examples: u64,
    pub holdout_examples: u64,
    pub masked: u64,
    pub unique_entities_train: u64,
    /// Training entities by the slice their own training count puts them in.
    pub train_entity_slices: BTreeMap<String, u64>,
    /// Held-out mentions by the slice of their gold's training count.
    pub holdout_mention_slices: BTreeMap<String, u64>,
    /// By `labelled_by`, plus `all`.
    pub ambiguity: BTreeMap<String, Ambiguity>,
}

impl WeakStats {
    pub fn compute(
        sources: BTreeMap<String, Tally>,
        dropped_by_cap: u64,
        train: &[WeakExample],
        holdout: &[WeakExample],
        counts: &HashMap<EntityIdx, u64>,
    ) -> Self {
        let all = || train.iter().chain(holdout);
        let mut kept: BTreeMap<String, u64> = BTreeMap::new();
        let mut by_tag: BTreeMap<String, Vec<&WeakExample>> = BTreeMap::new();
        for ex in all() {
            let tag = labelled_by(ex.source, ex.rule);
            *kept.entry(tag.clone()).or_default() += 1;
            by_tag.entry(tag).or_default().push(ex);
        }
        let mut ambiguity: BTreeMap<String, Ambiguity> = by_tag
            .into_iter()
            .map(|(tag, exs)| (tag, ambiguity(exs.into_iter())))
            .collect();
        ambiguity.insert("all".into(), self::ambiguity(all()));
        let mut sentences: Vec<u64> = all().map(|e| e.sentence_id).collect();
        sentences.sort_unstable();
        sentences.dedup();
        let mut train_entity_slices = BTreeMap::new();
        for &n in counts.values() {
            *train_entity_slices.entry(slice(n).to_string()).or_default() += 1;
        }
        let mut holdout_mention_slices = BTreeMap::new();
        for ex in holdout {
            let n = counts.get(&ex.gold).copied().unwrap_or(0);
            *holdout_mention_slices
                .entry(slice(n).to_string())
                .or_default() += 1;
        }
        WeakStats {
            seconds: 0.0,
            sources,
            kept,
            dropped_by_cap,
            sentences: sentences.len() as u64,
            train_examples: train.len() as u64,
            holdout_examples: holdout.len() as u64,
            masked: all().filter(|e| e.masked).count() as u64,
            unique_entities_train: counts.len() as u64,
            train_entity_slices,
            holdout_mention_slices,
            ambiguity,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::slice;

    #[test]
    fn slices_follow_bootleg_cut_points() {
        assert_eq!(slice(0), "unseen");
        assert_eq!(slice(1), "tail");
        assert_eq!(slice(10), "tail");
        assert_eq!(slice(11), "torso");
        assert_eq!(slice(1000), "torso");
        assert_eq!(slice(1001), "head");
    }
}
