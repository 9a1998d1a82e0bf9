//! Link prediction: rank every entity for `(head, relation, ?)` and `(?, relation, tail)` of
//! each test triple, filtered (other known true answers do not count against the target), with
//! ties ranked realistically: the mean of the optimistic and pessimistic rank, so a model that
//! scores everything the same gets the rank of a coin toss, not rank 1. The hyperbolic model
//! ranks by its biased distance, as it was trained.

use std::collections::HashMap;

use rayon::prelude::*;
use serde::Serialize;

use super::data::Row;
use super::model::{
    expmap0, hyperbolic_dist2, hyperbolic_query, transe_dist, ModelKind, ModelView,
};

/// Filtered ranking metrics over both directions.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, serde::Deserialize)]
pub struct Metrics {
    pub mrr: f64,
    pub hits1: f64,
    pub hits3: f64,
    pub hits10: f64,
    pub mean_rank: f64,
    /// Rankings made: two per test triple.
    pub rankings: u64,
}

impl Metrics {
    /// Metrics of realistic ranks.
    pub fn from_ranks(ranks: &[f64]) -> Self {
        let n = ranks.len().max(1) as f64;
        let hits = |k: f64| ranks.iter().filter(|&&r| r <= k).count() as f64 / n;
        Metrics {
            mrr: ranks.iter().map(|r| 1.0 / r).sum::<f64>() / n,
            hits1: hits(1.0),
            hits3: hits(3.0),
            hits10: hits(10.0),
            mean_rank: ranks.iter().sum::<f64>() / n,
            rankings: ranks.len() as u64,
        }
    }
}

/// Known answers per query `(anchor, relation, predicts_head)`.
pub type Filter = HashMap<(u32, u32, bool), Vec<u32>>;

pub fn filter_from(splits: &[&[Row]]) -> Filter {
    let mut f: Filter = HashMap::new();
    for split in splits {
        for &[h, r, t] in split.iter() {
            f.entry((h, r, false)).or_default().push(t);
            f.entry((t, r, true)).or_default().push(h);
        }
    }
    for answers in f.values_mut() {
        answers.sort_unstable();
        answers.dedup();
    }
    f
}

/// Realistic rank of `target` among `dist` (lower is better), skipping `known` answers.
pub fn realistic_rank(dist: &[f32], target: u32, known: &[u32]) -> f64 {
    let dt = dist[target as usize];
    let (mut better, mut equal) = (0u64, 0u64);
    for &x in dist {
        if x < dt {
            better += 1;
        } else if x == dt {
            equal += 1;
        }
    }
    for &k in known {
        if k == target {
            continue;
        }
        let x = dist[k as usize];
        if x < dt {
            better -= 1;
        } else if x == dt {
            equal -= 1;
        }
    }
    // `equal` counts the target itself
    let optimistic = 1 + better;
    let pessimistic = better + equal;
    (optimistic + pessimistic) as f64 / 2.0
}

/// Filtered metrics of `test` under `view`.
pub fn evaluate(view: &ModelView, test: &[Row], filter: &Filter) -> Metrics {
    let points = candidate_points(view);
    let ranks: Vec<f64> = test
        .par_iter()
        .map_init(
            || (vec![0.0f32; view.entities()], vec![0.0f32; view.dim]),
            |(dist, q), &[h, r, t]| {
                let mut two = [0.0; 2];
                for (i, head) in [false, true].into_iter().enumerate() {
                    let (anchor, target) = if head { (t, h) } else { (h, t) };
                    distances(view, &points, anchor, r, head, q, dist);
                    let known = filter.get(&(anchor, r, head)).map_or(&[][..], |v| v);
                    two[i] = realistic_rank(dist, target, known);
                }
                two
            },
        )
        .flat_map_iter(|p| p.into_iter())
        .collect();
    Metrics::from_ranks(&ranks)
}

/// Hyperbolic candidates as ball points and their squared norms; TransE needs none.
struct Points {
    ball: Vec<f32>,
    norm2: Vec<f32>,
}

fn candidate_points(view: &ModelView) -> Points {
    if view.kind == ModelKind::Transe {
        return Points {
            ball: Vec::new(),
            norm2: Vec::new(),
        };
    }
    let d = view.dim;
    let mut ball = vec![0.0; view.entity.len()];
    ball.par_chunks_mut(d)
        .zip(view.entity.par_chunks(d))
        .for_each(|(o, v)| expmap0(v, view.curvature, o));
    let norm2 = ball
        .chunks(d)
        .map(|p| p.iter().map(|x| x * x).sum())
        .collect();
    Points { ball, norm2 }
}

fn distances(
    view: &ModelView,
    points: &Points,
    anchor: u32,
    r: u32,
    head: bool,
    q: &mut [f32],
    out: &mut [f32],
) {
    let d = view.dim;
    let a = view.entity_row(anchor);
    match view.kind {
        ModelKind::Transe => {
            let rel = view.relation_row(view.query_relation(r, head));
            let sign = if head && !view.reciprocal { -1.0 } else { 1.0 };
            for i in 0..d {
                q[i] = a[i] + sign * rel[i];
            }
            for (o, e) in out.iter_mut().zip(view.entity.chunks_exact(d)) {
                *o = transe_dist(q.iter().zip(e).map(|(x, y)| x - y), view.norm);
            }
        }
        ModelKind::Hyperbolic => {
            let row = view.query_relation(r, head);
            hyperbolic_query(a, view.relation_row(row), view.curvature, q);
            let qq: f32 = q.iter().map(|x| x * x).sum();
            for ((o, y), &yy) in out
                .iter_mut()
                .zip(points.ball.chunks_exact(d))
                .zip(&points.norm2)
            {
                let qy: f32 = q.iter().zip(y).map(|(a, b)| a * b).sum();
                *o = hyperbolic_dist2(qy, qq, yy, view.curvature);
            }
            // the anchor's bias shifts every candidate alike; it is kept so the values are the
            // distances training saw
            if !view.bias.is_empty() {
                let ab = view.bias(anchor);
                for (o, b) in out.iter_mut().zip(view.bias) {
                    *o = *o - ab - b;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranks_by_hand_with_ties_and_filtering() {
        // target 2 at 0.5; entity 0 better, entities 1 and 3 tie with it, 4 worse.
        let dist = [0.1, 0.5, 0.5, 0.5, 0.9];
        // no filter: optimistic 2, pessimistic 4 -> 3
        assert_eq!(realistic_rank(&dist, 2, &[]), 3.0);
        // filtering the better entity 0 and the tie 3: optimistic 1, pessimistic 2 -> 1.5
        assert_eq!(realistic_rank(&dist, 2, &[0, 3, 2]), 1.5);
        // all equal over 5 entities: (1 + 5) / 2
        assert_eq!(realistic_rank(&[1.0; 5], 0, &[]), 3.0);

        let m = Metrics::from_ranks(&[1.0, 1.5, 3.0, 12.0]);
        assert!((m.mrr - (1.0 + 1.0 / 1.5 + 1.0 / 3.0 + 1.0 / 12.0) / 4.0).abs() < 1e-12);
        assert_eq!((m.hits1, m.hits3, m.hits10), (0.25, 0.75, 0.75));
    }
}
