//! The change from an earlier run, slice by slice and system by system, matched by benchmark,
//! slice family and name, and system name. Slices only one run has are left out.

use serde::Serialize;

use super::ReportMetrics;

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
    pub fn delta(&self) -> f64 {
        self.new_accuracy - self.old_accuracy
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
                    beyond_old_interval: nsys.accuracy < osys.ci95.low
                        || nsys.accuracy > osys.ci95.high,
                });
            }
        }
    }
    changes
}
