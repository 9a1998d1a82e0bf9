//! Bootstrap confidence intervals of a share: resample the mentions with replacement, take the
//! share of each resample, and read the 2.5th and 97.5th percentiles. Seeded, so a report is
//! reproducible; no normal approximation, so a slice of 3 mentions gets the wide interval it
//! deserves rather than a symmetric one past 0 or 1.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

/// A 95% interval of a share.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Interval {
    pub low: f64,
    pub high: f64,
}

/// Percentile bootstrap 95% interval of the share of `true` in `hits`, seeded. An empty
/// sample gives `[0, 0]`.
pub fn bootstrap_ci(hits: &[bool], resamples: usize, seed: u64) -> Interval {
    if hits.is_empty() || resamples == 0 {
        return Interval {
            low: 0.0,
            high: 0.0,
        };
    }
    let mut rng = StdRng::seed_from_u64(seed);
    let n = hits.len();
    let mut shares: Vec<f64> = (0..resamples)
        .map(|_| {
            let hit = (0..n).filter(|_| hits[rng.random_range(0..n)]).count();
            hit as f64 / n as f64
        })
        .collect();
    shares.sort_by(f64::total_cmp);
    let at = |q: f64| shares[((q * (resamples - 1) as f64).round() as usize).min(resamples - 1)];
    Interval {
        low: at(0.025),
        high: at(0.975),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bootstrap_contains_the_estimate_and_shrinks_with_size() {
        let sample = |n: usize| (0..n).map(|i| i % 4 != 0).collect::<Vec<bool>>();
        let small = bootstrap_ci(&sample(20), 1000, 1);
        let large = bootstrap_ci(&sample(2000), 1000, 1);
        for ci in [small, large] {
            assert!(ci.low <= 0.75 && 0.75 <= ci.high, "{ci:?}");
        }
        assert!(large.high - large.low < (small.high - small.low) / 4.0);
        // The normal approximation at n = 2000: 1.96 * sqrt(0.75 * 0.25 / 2000) ≈ 0.019.
        assert!(
            (large.high - large.low - 2.0 * 0.019).abs() < 0.01,
            "{large:?}"
        );
        assert_eq!(bootstrap_ci(&sample(20), 1000, 1), small, "seeded");
        let all = bootstrap_ci(&[true; 7], 100, 3);
        assert_eq!((all.low, all.high), (1.0, 1.0));
    }
}
