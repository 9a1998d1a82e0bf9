//! Negative sampling: corrupt the head or the tail of a true triple with random entities.
//!
//! Which side is corrupted is drawn per triple: uniformly, or with Bernoulli probabilities per
//! relation (Wang et al. 2014: corrupt the head of a one-to-many relation more often, since a
//! random tail there is more likely a true triple). With filtering on, a negative that is a
//! known training triple is redrawn a few times.

use std::collections::HashSet;

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

use super::data::Row;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Corruption {
    Uniform,
    Bernoulli,
}

/// One positive with the side to corrupt: the negatives replace `pos`, `anchor` is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Example {
    pub anchor: u32,
    pub relation: u32,
    /// True when the head is corrupted: `anchor` is the tail, `pos` the head.
    pub head_side: bool,
    pub pos: u32,
}

pub struct Sampler {
    entities: u32,
    /// Per relation, the probability of corrupting the head.
    head_prob: Vec<f32>,
    known: Option<HashSet<Row>>,
}

/// How many times a filtered negative is redrawn before it is kept anyway.
const FILTER_TRIES: usize = 8;

impl Sampler {
    pub fn new(
        train: &[Row],
        entities: usize,
        relations: usize,
        corruption: Corruption,
        filtered: bool,
    ) -> Self {
        let head_prob = match corruption {
            Corruption::Uniform => vec![0.5; relations],
            Corruption::Bernoulli => bernoulli(train, relations),
        };
        let known = filtered.then(|| train.iter().copied().collect());
        Sampler {
            entities: entities as u32,
            head_prob,
            known,
        }
    }

    /// Draws the side of `t` to corrupt and fills `negs` with corrupting entities.
    pub fn sample(&self, t: Row, rng: &mut SmallRng, negs: &mut [u32]) -> Example {
        let [h, r, tl] = t;
        let head_side = rng.random::<f32>() < self.head_prob[r as usize];
        let (anchor, pos) = if head_side { (tl, h) } else { (h, tl) };
        for n in negs.iter_mut() {
            let mut e = self.draw(rng, pos);
            if let Some(known) = &self.known {
                for _ in 0..FILTER_TRIES {
                    let cand = if head_side { [e, r, tl] } else { [h, r, e] };
                    if !known.contains(&cand) {
                        break;
                    }
                    e = self.draw(rng, pos);
                }
            }
            *n = e;
        }
        Example {
            anchor,
            relation: r,
            head_side,
            pos,
        }
    }

    /// A uniformly random entity other than `not`.
    fn draw(&self, rng: &mut SmallRng, not: u32) -> u32 {
        if self.entities < 2 {
            return 0;
        }
        let e = rng.random_range(0..self.entities - 1);
        if e >= not {
            e + 1
        } else {
            e
        }
    }
}

/// tph / (tph + hpt) per relation: tails per head against heads per tail.
fn bernoulli(train: &[Row], relations: usize) -> Vec<f32> {
    let mut pairs: Vec<(u32, u32, u32)> = train.iter().map(|t| (t[1], t[0], t[2])).collect();
    pairs.sort_unstable();
    let mut heads = vec![0u64; relations];
    let mut tails_of_heads = vec![0u64; relations];
    let mut last = None;
    for &(r, h, _) in &pairs {
        tails_of_heads[r as usize] += 1;
        if last != Some((r, h)) {
            heads[r as usize] += 1;
            last = Some((r, h));
        }
    }
    let mut by_tail: Vec<(u32, u32)> = train.iter().map(|t| (t[1], t[2])).collect();
    by_tail.sort_unstable();
    by_tail.dedup();
    let mut tails = vec![0u64; relations];
    for &(r, _) in &by_tail {
        tails[r as usize] += 1;
    }
    (0..relations)
        .map(|r| {
            if heads[r] == 0 || tails[r] == 0 {
                return 0.5;
            }
            let tph = tails_of_heads[r] as f32 / heads[r] as f32;
            let hpt = tails_of_heads[r] as f32 / tails[r] as f32;
            tph / (tph + hpt)
        })
        .collect()
}

/// A generator for one chunk of one batch of one epoch: the same stream whatever the thread
/// count, which is what makes training deterministic and resumable.
pub fn chunk_rng(seed: u64, epoch: u64, chunk: u64) -> SmallRng {
    let mut x = seed ^ 0x9E37_79B9_7F4A_7C15;
    for v in [epoch, chunk] {
        x = (x ^ v).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        x ^= x >> 31;
    }
    SmallRng::seed_from_u64(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bernoulli_corrupts_heads_of_one_to_many_relations() {
        // relation 0: one head with four tails
        let train: Vec<Row> = (1..5).map(|t| [0, 0, t]).collect();
        let p = bernoulli(&train, 1);
        assert!((p[0] - 0.8).abs() < 1e-6, "{p:?}");
    }

    #[test]
    fn negatives_never_equal_the_positive() {
        let s = Sampler::new(&[[0, 0, 1]], 3, 1, Corruption::Uniform, true);
        let mut rng = chunk_rng(1, 0, 0);
        let mut negs = [0u32; 64];
        for _ in 0..20 {
            let ex = s.sample([0, 0, 1], &mut rng, &mut negs);
            assert!(negs.iter().all(|&n| n != ex.pos && n < 3));
        }
    }
}
