//! KG coherence: entities of one document support each other when the KB links them.
//!
//! For a candidate `e` of mention `i`, coherence is the mean over the other mentions `j` in a
//! window of the prior mass of `j`'s top candidates that the KB links to `e` (a triple between
//! them, either way). "Jordan" next to "Chicago Bulls" thus leans to Michael Jordan, and a
//! rare entity gains support from well-known neighbours that text alone would not give it.

use crate::kb::KbGraph;

use super::batch::CandidateFeatures;

/// Candidates of the other mentions looked at, per mention.
const TOP_OTHERS: usize = 5;
/// Mentions on each side that count as context.
pub const WINDOW: usize = 8;

/// Fills `coherence` of every candidate of every mention (mentions in document order).
pub fn fill_coherence(graph: &KbGraph, mentions: &mut [Vec<CandidateFeatures>]) {
    let tops: Vec<Vec<(u32, f32)>> = mentions.iter().map(|c| top_mass(c)).collect();
    for i in 0..mentions.len() {
        let lo = i.saturating_sub(WINDOW);
        let hi = (i + WINDOW + 1).min(mentions.len());
        let others: Vec<&Vec<(u32, f32)>> = (lo..hi)
            .filter(|&j| j != i && !tops[j].is_empty())
            .map(|j| &tops[j])
            .collect();
        for c in &mut mentions[i] {
            c.coherence = if others.is_empty() {
                0.0
            } else {
                let support: f32 = others
                    .iter()
                    .map(|top| {
                        top.iter()
                            .filter(|&&(e, _)| e != c.entity && graph.linked(c.entity, e))
                            .map(|&(_, p)| p)
                            .sum::<f32>()
                    })
                    .sum();
                support / others.len() as f32
            };
        }
    }
}

/// The best few candidates by prior with their priors renormalized to sum to one.
fn top_mass(candidates: &[CandidateFeatures]) -> Vec<(u32, f32)> {
    let mut top: Vec<(u32, f32)> = candidates.iter().map(|c| (c.entity, c.prior)).collect();
    top.sort_by(|a, b| b.1.total_cmp(&a.1));
    top.truncate(TOP_OTHERS);
    let total: f32 = top.iter().map(|t| t.1).sum();
    if total > 0.0 {
        top.iter_mut().for_each(|t| t.1 /= total);
    }
    top
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kb::{KbBuilder, Manifest};

    #[test]
    fn linked_candidates_support_each_other() {
        let mut b = KbBuilder::new();
        for (id, label) in [
            ("Q1", "Jordan"),
            ("Q2", "Michael Jordan"),
            ("Q3", "Chicago Bulls"),
        ] {
            b.label(id, label);
        }
        b.relation_label("P54", "member of sports team");
        b.triple("Q2", "P54", "Q3");
        let kb = b.finish(Manifest::default());
        let c = |entity, prior| CandidateFeatures {
            entity,
            prior,
            similarity: 1.0,
            exact: true,
            coherence: 0.0,
        };
        let (country, player, team) = (
            kb.entity_idx("Q1").unwrap(),
            kb.entity_idx("Q2").unwrap(),
            kb.entity_idx("Q3").unwrap(),
        );
        let mut mentions = vec![vec![c(country, 0.8), c(player, 0.2)], vec![c(team, 1.0)]];
        fill_coherence(kb.graph(), &mut mentions);
        assert_eq!(
            mentions[0][0].coherence, 0.0,
            "the country is not linked to the team"
        );
        assert_eq!(mentions[0][1].coherence, 1.0, "the player is");
        assert!(
            (mentions[1][0].coherence - 0.2).abs() < 1e-6,
            "the team sees the player's mass"
        );
    }
}
