//! The change from an earlier run, slice by slice and system by system, matched by benchmark,
//! slice family and name, and system name. Slices only one run has are left out.

use serde::Serialize;

use super::ReportMetrics;

/// Accuracies closer than this are equal: JSON round trips can move a float by one ulp.
const EPSILON: f64 = 1e-9;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SliceChange {
    pub benchmark: String,
    pub family: String,
    pub slice: String,
    pub system: String,
    pub old_accuracy: f64,
    pub new_accuracy: f64,
    pub old_size: usize,
    pub new_size: usize,
    /// True when the new accuracy lies outside the old run's 95% interval.
    pub beyond_old_interval: bool,
}

impl SliceChange {
    /// New minus old accuracy; a difference below 1e-9 (a float read back from JSON) is 0.
    pub fn delta(&self) -> f64 {
        let d = self.new_accuracy - self.old_accuracy;
        if d.abs() < EPSILON {
            0.0
        } else {
            d
        }
    }
}

pub fn compare(old: &ReportMetrics, new: &ReportMetrics) -> Vec<SliceChange> {
    let mut changes = Vec::new();
    for nb in &new.benchmarks {
        let Some(ob) = old.benchmarks.iter().find(|b| b.name == nb.name) else {
            continue;
        };
        for ns in &nb.slices {
            let Some(os) = ob
                .slices
                .iter()
                .find(|s| s.family == ns.family && s.name == ns.name)
            else {
                continue;
            };
            for nsys in &ns.systems {
                let Some(osys) = os.systems.iter().find(|s| s.system == nsys.system) else {
                    continue;
                };
                changes.push(SliceChange {
                    benchmark: nb.name.clone(),
                    family: ns.family.clone(),
                    slice: ns.name.clone(),
                    system: nsys.system.clone(),
                    old_accuracy: osys.accuracy,
                    new_accuracy: nsys.accuracy,
                    old_size: os.size,
                    new_size: ns.size,
                    beyond_old_interval: nsys.accuracy < osys.ci95.low - EPSILON
                        || nsys.accuracy > osys.ci95.high + EPSILON,
                });
            }
        }
    }
    changes
}

#[cfg(test)]
mod tests {
    use super::super::BenchmarkMetrics;
    use super::*;
    use crate::eval::slices::{Interval, SliceResult, SystemSlice};

    fn metrics(accuracy: f64, low: f64, high: f64) -> ReportMetrics {
        let slice = |name: &str| SliceResult {
            family: "tag".into(),
            name: name.into(),
            size: 10,
            systems: vec![SystemSlice {
                system: "prior".into(),
                accuracy,
                correct: (accuracy * 10.0) as u64,
                ci95: Interval { low, high },
                linked: 10,
                precision: accuracy,
                f1: accuracy,
            }],
            mentions: vec![],
        };
        ReportMetrics {
            format_version: 1,
            systems: vec!["prior".into()],
            popularity_measure: "kb_degree".into(),
            benchmarks: vec![BenchmarkMetrics {
                name: "b".into(),
                documents: 1,
                mentions: 10,
                coverage_mentions: 1.0,
                coverage_entities: 1.0,
                coverage_unnamed: 0.0,
                recall_at: vec![],
                systems: vec![],
                slices: vec![slice("RARE"), slice(&format!("only at {accuracy}"))],
                errors: vec![],
                error_reasons: vec![],
                context_candidates: Default::default(),
            }],
            pooled: vec![],
            geometry: vec![],
            retrieval: None,
        }
    }

    #[test]
    fn changes_are_matched_by_slice_and_judged_against_the_old_interval() {
        let old = metrics(0.5, 0.2, 0.8);
        let changes = compare(&old, &metrics(0.7, 0.4, 0.9));
        assert_eq!(changes.len(), 1, "slices only one run has are left out");
        assert_eq!(changes[0].slice, "RARE");
        assert!((changes[0].delta() - 0.2).abs() < 1e-12);
        assert!(!changes[0].beyond_old_interval);
        let far = compare(&old, &metrics(0.9, 0.8, 1.0));
        assert!(far[0].beyond_old_interval);
        assert_eq!(compare(&old, &old)[0].delta(), 0.0);
    }
}
