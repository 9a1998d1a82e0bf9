//! Slices: subsets of the scored in-KB gold mentions of a run, and each system's accuracy on
//! them with a bootstrap confidence interval, so a ten-mention slice is not read like a
//! thousand-mention one.
//!
//! In: a [`BenchmarkResult`] (its mention records and predictions) and a [`SliceInputs`] (the
//! gold entity's training occurrences, its KB degree, coarse type names, the benchmark's own
//! mention tags). Out: [`SliceResult`]s, one per slice, in families:
//! - `popularity`: training occurrences of the gold entity, cut like Bootleg (unseen 0, tail
//!   1–10, torso 11–1000, head > 1000); only where a model's counts are given.
//! - `kb_degree`: the gold entity's number of triples, a popularity measure without a model.
//! - `ambiguity`: mentions with no candidate, one, or two and more.
//! - `type`: the first of the gold mention's types that the coarse type list names.
//! - `tag`: the benchmark's mention tags (`RARE`, `PARTIAL_NAME`, `METONYM`, …).
//!
//! Only gold mentions whose entity is in the KB are sliced: accuracy (the gold entity chosen)
//! is what the slices compare, and NIL handling is reported over the whole benchmark instead.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

pub use super::bootstrap::{bootstrap_ci, Interval};
use super::evaluate::BenchmarkResult;
use super::metrics::Share;

/// How slices are cut and how their intervals are estimated.
#[derive(Debug, Clone)]
pub struct SliceConfig {
    /// Upper bounds (inclusive) of the popularity bins over training occurrences; a last bin
    /// takes everything above. Default `[0, 10, 1000]`: unseen, tail, torso, head.
    pub popularity_cuts: Vec<u64>,
    /// Upper bounds (inclusive) of the KB degree bins. Default `[2, 10, 100]`.
    pub degree_cuts: Vec<u64>,
    /// Bootstrap resamples per slice and system. Default 1000.
    pub resamples: usize,
    /// Seed of the resampling, so two runs of the same data give the same intervals.
    pub seed: u64,
}

impl Default for SliceConfig {
    fn default() -> Self {
        SliceConfig {
            popularity_cuts: vec![0, 10, 1000],
            degree_cuts: vec![2, 10, 100],
            resamples: 1000,
            seed: 17,
        }
    }
}

/// What the slices are cut by, beyond the mention records themselves.
#[derive(Debug, Clone, Default)]
pub struct SliceInputs {
    /// Entity id → training occurrences (a model's `entity_counts.json`); `None` without model.
    pub counts: Option<HashMap<String, u64>>,
    /// Entity id → number of triples it takes part in.
    pub degree: HashMap<String, u64>,
    /// Type id → coarse type name, in the order a mention's types are tried.
    pub coarse_types: HashMap<String, String>,
    /// `(document index, label id)` → the benchmark's tags of that mention.
    pub tags: HashMap<(usize, u64), Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SystemSlice {
    pub system: String,
    /// Correct (gold entity chosen) over the slice's mentions: the slice's recall, NIL counted
    /// wrong.
    pub accuracy: f64,
    pub correct: u64,
    pub ci95: Interval,
    /// Mentions the system linked to some entity (not NIL).
    #[serde(default)]
    pub linked: u64,
    /// Correct over linked: a system that leaves an unsure mention unlinked is more precise.
    #[serde(default)]
    pub precision: f64,
    /// Harmonic mean of `precision` and `accuracy`.
    #[serde(default)]
    pub f1: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SliceResult {
    pub family: String,
    pub name: String,
    pub size: usize,
    pub systems: Vec<SystemSlice>,
    /// Indices into the benchmark's mention records.
    #[serde(skip)]
    pub mentions: Vec<usize>,
}

impl SystemSlice {
    /// `accuracy [interval] · P precision · F1 f1`, in %, as the report's tables print it.
    pub fn summary(&self) -> String {
        let pct = |x: f64| format!("{:.1}", 100.0 * x);
        format!(
            "{} [{}, {}] · P {} · F1 {}",
            pct(self.accuracy),
            pct(self.ci95.low),
            pct(self.ci95.high),
            pct(self.precision),
            pct(self.f1)
        )
    }
}

/// The name of the bin of `value` under inclusive upper `cuts`: `0`, `1–10`, `> 1000`, ….
pub fn bin_name(value: u64, cuts: &[u64]) -> String {
    let mut low = 0;
    for &cut in cuts {
        if value <= cut {
            return if low == cut {
                format!("{cut}")
            } else {
                format!("{low}–{cut}")
            };
        }
        low = cut + 1;
    }
    format!("> {}", cuts.last().copied().unwrap_or(0))
}

/// All bin names of `cuts`, lowest first.
pub fn bin_names(cuts: &[u64]) -> Vec<String> {
    let mut names: Vec<String> = cuts.iter().map(|&c| bin_name(c, cuts)).collect();
    names.push(bin_name(u64::MAX, cuts));
    names
}

/// Popularity bins get the Bootleg names when cut the Bootleg way.
fn popularity_name(value: u64, cuts: &[u64]) -> String {
    let bin = bin_name(value, cuts);
    if cuts != [0, 10, 1000] {
        return bin;
    }
    let word = match value {
        0 => "unseen",
        1..=10 => "tail",
        11..=1000 => "torso",
        _ => "head",
    };
    format!("{word} ({bin})")
}

/// Every slice of one benchmark, families in the module's order, bins lowest first.
pub fn slice(
    result: &BenchmarkResult,
    inputs: &SliceInputs,
    cfg: &SliceConfig,
) -> Vec<SliceResult> {
    let mut groups: Vec<(String, String, Vec<usize>)> = Vec::new();
    let mut add = |family: &str, name: String, i: usize| match groups
        .iter_mut()
        .find(|g| g.0 == family && g.1 == name)
    {
        Some(g) => g.2.push(i),
        None => groups.push((family.to_string(), name, vec![i])),
    };
    for (i, m) in result.mentions.iter().enumerate() {
        let Some(qid) = m.gold.qid().filter(|_| m.gold_in_kb) else {
            continue;
        };
        add("all", "all".into(), i);
        if let Some(counts) = &inputs.counts {
            let n = counts.get(qid).copied().unwrap_or(0);
            add("popularity", popularity_name(n, &cfg.popularity_cuts), i);
        }
        let degree = inputs.degree.get(qid).copied().unwrap_or(0);
        add("kb_degree", bin_name(degree, &cfg.degree_cuts), i);
        let ambiguity = match m.candidates.len() {
            0 => "no candidate",
            1 => "1 candidate",
            _ => "≥ 2 candidates",
        };
        add("ambiguity", ambiguity.into(), i);
        let coarse = m.types.iter().find_map(|t| inputs.coarse_types.get(t));
        add("type", coarse.cloned().unwrap_or_else(|| "other".into()), i);
        if let Some(tags) = m.label.and_then(|l| inputs.tags.get(&(m.document, l))) {
            for tag in tags {
                add("tag", tag.clone(), i);
            }
        }
    }
    sort_groups(&mut groups, cfg);

    groups
        .into_iter()
        .map(|(family, name, mentions)| {
            let at: Vec<(&BenchmarkResult, usize)> =
                mentions.iter().map(|&i| (result, i)).collect();
            SliceResult {
                family,
                size: mentions.len(),
                name,
                systems: score(&at, cfg),
                mentions,
            }
        })
        .collect()
}

/// The `all` and `popularity` (or `kb_degree`: the family named by `popularity`) slices of every
/// benchmark pooled into one set each, so the
/// head-to-tail comparison rests on every benchmark's mentions at once rather than on slices of
/// a few dozen. `slices[b]` are the slices of `results[b]`; systems are those of the first.
pub fn pool(
    results: &[BenchmarkResult],
    slices: &[&[SliceResult]],
    popularity: &str,
    cfg: &SliceConfig,
) -> Vec<SliceResult> {
    let mut groups: Vec<(String, String, Vec<MentionAt<'_>>)> = Vec::new();
    for (result, slices) in results.iter().zip(slices) {
        for s in slices
            .iter()
            .filter(|s| s.family == "all" || s.family == popularity)
        {
            let at = s.mentions.iter().map(|&i| (result, i));
            match groups.iter_mut().find(|g| g.0 == s.family && g.1 == s.name) {
                Some(g) => g.2.extend(at),
                None => groups.push((s.family.clone(), s.name.clone(), at.collect())),
            }
        }
    }
    sort_groups(&mut groups, cfg);
    groups
        .into_iter()
        .map(|(family, name, at)| SliceResult {
            family,
            name,
            size: at.len(),
            systems: score(&at, cfg),
            mentions: Vec::new(),
        })
        .collect()
}

/// A mention of a benchmark: the benchmark's result and the mention's index in it.
type MentionAt<'a> = (&'a BenchmarkResult, usize);

/// Each system's figures over the mentions `at` (a benchmark and a mention index in it).
fn score(at: &[MentionAt<'_>], cfg: &SliceConfig) -> Vec<SystemSlice> {
    let Some((first, _)) = at.first() else {
        return Vec::new();
    };
    (0..first.systems.len())
        .map(|s| {
            let (hits, linked): (Vec<bool>, Vec<bool>) = at
                .iter()
                .map(|&(result, i)| {
                    let p = &result.systems[s].predictions[i];
                    let linked = p.entity_idx.is_some();
                    (
                        linked && p.entity_idx == result.mentions[i].gold_idx,
                        linked,
                    )
                })
                .unzip();
            let correct = hits.iter().filter(|&&h| h).count() as u64;
            let linked = linked.iter().filter(|&&l| l).count() as u64;
            let accuracy = Share::new(correct, hits.len() as u64).share;
            let precision = Share::new(correct, linked).share;
            let f1 = if precision + accuracy > 0.0 {
                2.0 * precision * accuracy / (precision + accuracy)
            } else {
                0.0
            };
            let seed = cfg.seed ^ (s as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
            SystemSlice {
                system: first.systems[s].name.clone(),
                accuracy,
                correct,
                ci95: bootstrap_ci(&hits, cfg.resamples, seed),
                linked,
                precision,
                f1,
            }
        })
        .collect()
}

/// Sort key of a bin: its lower bound, so `0`, `1–10`, `11–1000`, `> 1000` come in order.
fn name_value(name: &str, cuts: &[u64]) -> u64 {
    for (i, b) in bin_names(cuts).iter().enumerate() {
        if name.ends_with(&format!("({b})")) || name == b {
            return i as u64;
        }
    }
    u64::MAX
}

fn sort_groups<T>(groups: &mut [(String, String, Vec<T>)], cfg: &SliceConfig) {
    const FAMILIES: [&str; 6] = ["all", "popularity", "kb_degree", "ambiguity", "type", "tag"];
    groups.sort_by_key(|(family, name, mentions)| {
        let f = FAMILIES
            .iter()
            .position(|x| x == family)
            .unwrap_or(FAMILIES.len());
        let within = match family.as_str() {
            "popularity" => name_value(name, &cfg.popularity_cuts),
            "kb_degree" => name_value(name, &cfg.degree_cuts),
            _ => u64::MAX - mentions.len() as u64,
        };
        (f, within, name.clone())
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::metrics::Prf;
    use crate::eval::{
        Coverage, Disambiguation, GoldEntity, LabelCounts, MentionRecord, Prediction,
        RecordCandidate, SystemResult,
    };

    /// A mention of entity `q` (KB index `idx`, `None` when the KB lacks it) with `n`
    /// candidates, the gold first among them when in the KB.
    fn mention(
        label: u64,
        q: Option<&str>,
        idx: Option<u32>,
        n: u32,
        types: &[&str],
    ) -> MentionRecord {
        let candidate_idx: Vec<u32> = (0..n).map(|i| idx.unwrap_or(100) + i * 10).collect();
        MentionRecord {
            document: 0,
            doc_id: "d".into(),
            label: Some(label),
            start: 0,
            end: 1,
            surface: "x".into(),
            gold: q.map_or(GoldEntity::Nil, |q| GoldEntity::Entity(q.into())),
            gold_idx: idx,
            gold_in_kb: idx.is_some(),
            types: types.iter().map(|t| t.to_string()).collect(),
            candidates: candidate_idx
                .iter()
                .map(|c| RecordCandidate {
                    entity: format!("E{c}"),
                    prior: 0.5,
                    source: crate::retrieve::CandidateSource::Exact,
                })
                .collect(),
            gold_rank: idx.map(|_| 0),
            candidate_idx,
        }
    }

    fn predict(entity_idx: Option<u32>) -> Prediction {
        Prediction {
            scores: vec![],
            entity: entity_idx.map(|e| format!("E{e}")),
            entity_idx,
        }
    }

    #[test]
    fn mentions_fall_in_the_hand_computed_slices() {
        let mentions = vec![
            mention(0, Some("Q1"), Some(0), 2, &["Q215627"]),
            mention(1, Some("Q2"), Some(1), 1, &["Q43229"]),
            mention(2, Some("Q3"), Some(2), 3, &["Q999"]),
            mention(3, None, None, 2, &[]),
            mention(4, Some("Q4"), None, 2, &[]),
        ];
        let predictions = vec![
            predict(Some(0)),
            predict(None),
            predict(Some(2)),
            predict(None),
            predict(Some(100)),
        ];
        let result = BenchmarkResult {
            name: "fixture".into(),
            path: "fixture.benchmark.jsonl".into(),
            documents: 1,
            labels: LabelCounts::default(),
            coverage: Coverage::default(),
            recall_at: vec![],
            systems: vec![SystemResult {
                name: "prior".into(),
                disambiguation: Disambiguation::default(),
                end_to_end: Prf::default(),
                predictions,
                linked: vec![],
            }],
            context_candidates: Default::default(),
            mentions,
        };
        let map = |pairs: &[(&str, u64)]| -> HashMap<String, u64> {
            pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
        };
        let inputs = SliceInputs {
            counts: Some(map(&[("Q2", 5), ("Q3", 2000)])),
            degree: map(&[("Q1", 1), ("Q2", 50), ("Q3", 500)]),
            coarse_types: [("Q215627", "Person"), ("Q43229", "Organization")]
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            tags: [((0, 0), vec!["RARE"]), ((0, 2), vec!["RARE", "METONYM"])]
                .into_iter()
                .map(|(k, v)| (k, v.into_iter().map(String::from).collect()))
                .collect(),
        };
        let slices = slice(&result, &inputs, &SliceConfig::default());
        let got: Vec<(&str, &str, Vec<usize>, f64)> = slices
            .iter()
            .map(|s| {
                let acc = s.systems[0].accuracy;
                (s.family.as_str(), s.name.as_str(), s.mentions.clone(), acc)
            })
            .collect();
        let expected = vec![
            ("all", "all", vec![0, 1, 2], 2.0 / 3.0),
            ("popularity", "unseen (0)", vec![0], 1.0),
            ("popularity", "tail (1–10)", vec![1], 0.0),
            ("popularity", "head (> 1000)", vec![2], 1.0),
            ("kb_degree", "0–2", vec![0], 1.0),
            ("kb_degree", "11–100", vec![1], 0.0),
            ("kb_degree", "> 100", vec![2], 1.0),
            ("ambiguity", "≥ 2 candidates", vec![0, 2], 1.0),
            ("ambiguity", "1 candidate", vec![1], 0.0),
            ("type", "Organization", vec![1], 0.0),
            ("type", "Person", vec![0], 1.0),
            ("type", "other", vec![2], 1.0),
            ("tag", "RARE", vec![0, 2], 1.0),
            ("tag", "METONYM", vec![2], 1.0),
        ];
        assert_eq!(got, expected);
        assert_eq!(slices[0].systems[0].correct, 2);
        let ci = slices[0].systems[0].ci95;
        assert!(ci.low <= 2.0 / 3.0 && 2.0 / 3.0 <= ci.high, "{ci:?}");
        let all = &slices[0].systems[0];
        assert_eq!(all.linked, 2, "the NIL prediction is not linked");
        assert_eq!(all.precision, 1.0);
        assert!((all.f1 - 0.8).abs() < 1e-9, "{}", all.f1);

        let twice = [result.clone(), result];
        let pooled = pool(
            &twice,
            &[&slices, &slices],
            "popularity",
            &SliceConfig::default(),
        );
        let got: Vec<(&str, &str, usize, u64)> = pooled
            .iter()
            .map(|s| {
                (
                    s.family.as_str(),
                    s.name.as_str(),
                    s.size,
                    s.systems[0].correct,
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                ("all", "all", 6, 4),
                ("popularity", "unseen (0)", 2, 2),
                ("popularity", "tail (1–10)", 2, 0),
                ("popularity", "head (> 1000)", 2, 2),
            ],
            "only the all and popularity slices are pooled, in bin order"
        );
    }

    #[test]
    fn bins_are_named_and_ordered() {
        let cuts = [0, 10, 1000];
        assert_eq!(bin_name(0, &cuts), "0");
        assert_eq!(bin_name(1, &cuts), "1–10");
        assert_eq!(bin_name(10, &cuts), "1–10");
        assert_eq!(bin_name(11, &cuts), "11–1000");
        assert_eq!(bin_name(1001, &cuts), "> 1000");
        assert_eq!(popularity_name(5, &cuts), "tail (1–10)");
        assert_eq!(popularity_name(0, &cuts), "unseen (0)");
        assert_eq!(popularity_name(5000, &cuts), "head (> 1000)");
        assert_eq!(name_value("torso (11–1000)", &cuts), 2);
        assert_eq!(name_value("> 1000", &cuts), 3);
    }
}
