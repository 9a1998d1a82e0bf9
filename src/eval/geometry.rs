//! How the KG entity embeddings a model reads sit on the unit hypersphere: alignment (linked
//! entities close) and uniformity (entities spread out), after Wang and Isola's definitions,
//! and vector norm against popularity, beside the link-prediction MRR the embedding run
//! recorded. A tail entity whose vector never moved from its initialization shows up as a norm
//! unlike the head's and as poor alignment.
//!
//! In: an [`Embeddings`] table, the KB (for linked pairs) and optionally training counts. Out: a
//! [`Geometry`] per embedding, all sampled pairs drawn from a seeded generator.

use std::collections::{BTreeMap, HashMap};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

use super::slices::bin_name;
use crate::embed::Embeddings;
use crate::kb::Kb;

/// Pairs sampled for each of alignment and uniformity.
pub const PAIRS: usize = 20_000;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NormBin {
    pub bin: String,
    pub entities: usize,
    pub mean_norm: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Geometry {
    pub name: String,
    pub model: String,
    pub dim: usize,
    /// Mean squared distance of normalized vectors over KB-linked (head, tail) pairs; lower is
    /// better aligned. 0 ≤ alignment ≤ 4.
    pub alignment: f64,
    pub linked_pairs: usize,
    /// log of the mean of exp(−2 ‖u − v‖²) over random pairs; lower is more uniform.
    pub uniformity: f64,
    pub random_pairs: usize,
    /// Mean raw vector norm per popularity bin (training occurrences), lowest bin first; bins
    /// without entities are left out.
    pub norm_by_popularity: Vec<NormBin>,
    /// Link-prediction metrics the embedding run recorded, by split.
    pub mrr: BTreeMap<String, f64>,
}

fn normalized(v: &[f32]) -> Vec<f64> {
    let norm = v.iter().map(|&x| (x as f64).powi(2)).sum::<f64>().sqrt();
    v.iter()
        .map(|&x| if norm == 0.0 { 0.0 } else { x as f64 / norm })
        .collect()
}

fn squared_distance(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y).powi(2)).sum()
}

/// Mean squared distance between the normalized vectors of each pair.
pub fn alignment(pairs: &[(&[f32], &[f32])]) -> f64 {
    let total: f64 = pairs
        .iter()
        .map(|(a, b)| squared_distance(&normalized(a), &normalized(b)))
        .sum();
    total / pairs.len().max(1) as f64
}

/// log E exp(−2 ‖u − v‖²) over the pairs, vectors normalized first.
pub fn uniformity(pairs: &[(&[f32], &[f32])]) -> f64 {
    let total: f64 = pairs
        .iter()
        .map(|(a, b)| (-2.0 * squared_distance(&normalized(a), &normalized(b))).exp())
        .sum();
    (total / pairs.len().max(1) as f64).ln()
}

/// The diagnostics of one embedding table.
pub fn geometry(
    name: &str,
    emb: &Embeddings,
    kb: &Kb,
    counts: Option<&HashMap<String, u64>>,
    popularity_cuts: &[u64],
    seed: u64,
) -> Geometry {
    let mut rng = StdRng::seed_from_u64(seed);
    let vector = |idx: u32| emb.entity_tangent(&kb.entity(idx).id);

    let linked: Vec<(&[f32], &[f32])> = if kb.triples.is_empty() {
        Vec::new()
    } else {
        (0..PAIRS)
            .filter_map(|_| {
                let t = &kb.triples[rng.random_range(0..kb.triples.len())];
                Some((vector(t.head)?, vector(t.tail)?))
            })
            .collect()
    };
    let ids = emb.entity_ids();
    let random: Vec<(&[f32], &[f32])> = if ids.len() < 2 {
        Vec::new()
    } else {
        (0..PAIRS)
            .filter_map(|_| {
                let a = &ids[rng.random_range(0..ids.len())];
                let b = &ids[rng.random_range(0..ids.len())];
                if a == b {
                    return None;
                }
                Some((emb.entity_tangent(a)?, emb.entity_tangent(b)?))
            })
            .collect()
    };

    Geometry {
        name: name.to_string(),
        model: format!("{:?}", emb.kind()),
        dim: emb.dim(),
        alignment: alignment(&linked),
        linked_pairs: linked.len(),
        uniformity: uniformity(&random),
        random_pairs: random.len(),
        norm_by_popularity: counts
            .map(|c| norms(emb, c, popularity_cuts))
            .unwrap_or_default(),
        mrr: emb
            .manifest
            .metrics
            .iter()
            .map(|(split, m)| (split.clone(), m.mrr))
            .collect(),
    }
}

fn norms(emb: &Embeddings, counts: &HashMap<String, u64>, cuts: &[u64]) -> Vec<NormBin> {
    let mut bins: Vec<(String, usize, f64)> = super::slices::bin_names(cuts)
        .into_iter()
        .map(|b| (b, 0, 0.0))
        .collect();
    for id in emb.entity_ids() {
        let Some(v) = emb.entity(id) else { continue };
        let bin = bin_name(counts.get(id).copied().unwrap_or(0), cuts);
        if let Some(b) = bins.iter_mut().find(|b| b.0 == bin) {
            b.1 += 1;
            b.2 += v.iter().map(|&x| (x as f64).powi(2)).sum::<f64>().sqrt();
        }
    }
    bins.into_iter()
        .filter(|b| b.1 > 0)
        .map(|(bin, entities, sum)| NormBin {
            bin,
            entities,
            mean_norm: sum / entities as f64,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alignment_and_uniformity_on_hand_vectors() {
        let (x, y, z) = ([1.0f32, 0.0], [0.0f32, 3.0], [-2.0f32, 0.0]);
        // Orthogonal unit vectors are √2 apart, opposite ones 2: squared 2 and 4.
        assert!((alignment(&[(&x, &y)]) - 2.0).abs() < 1e-12);
        assert!((alignment(&[(&x, &y), (&x, &z)]) - 3.0).abs() < 1e-12);
        assert_eq!(alignment(&[(&x, &x)]), 0.0);
        let expected = (((-4.0f64).exp() + (-8.0f64).exp()) / 2.0).ln();
        assert!((uniformity(&[(&x, &y), (&x, &z)]) - expected).abs() < 1e-12);
        assert_eq!(uniformity(&[(&x, &x)]), 0.0);
    }
}
