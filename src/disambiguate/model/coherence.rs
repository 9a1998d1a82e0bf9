//! KG coherence: entities of one document support each other when the KB links them.
//!
//! Three features per candidate `e` of mention `i`, over the other mentions `j` in a window:
//! - `coherence`: the mean over `j` of the prior mass of `j`'s top candidates that the KB links
//!   to `e` (a triple between them, either way). "Jordan" next to "Chicago Bulls" thus leans to
//!   Michael Jordan, and a rare entity gains support from well-known neighbours.
//! - `reach`: the share of the `j` with any candidate at all linked to `e`, hubs aside. The
//!   prior mass misses the case the long tail needs most: "David" and "Victoria" in one
//!   sentence, where each one's right entity is a low-prior namesake, and the two namesakes are
//!   married. A hub among `j`'s candidates (a country, a big city) is linked to nearly every
//!   film, team and person of its country, so a link to it singles nothing out: counted, it
//!   made "Brazil" in a news story the 1985 film.
//! - `reach_lead`: `e`'s reach minus the best reach of the mention's other candidates, so the
//!   network sees directly whether the graph singles `e` out.
//! - `related`: the mean over `j` of the best Milne–Witten relatedness of `e` to one of `j`'s
//!   candidates (see [`RelationAdjacency::relatedness`]). It sees two steps where `reach` sees
//!   one: "Clapton, Beck, and Page" are three guitarists of one band, which none of them is
//!   linked to the others through; Jimmy Page shares that band, awards and genres with them,
//!   Larry Page nothing.
//! - `related_lead`: `related` minus the best of the mention's other candidates.

use std::collections::HashMap;

use crate::kb::RelationAdjacency;

use super::batch::CandidateFeatures;

/// Candidates of the other mentions whose prior mass counts for `coherence`, per mention.
const TOP_OTHERS: usize = 5;
/// Candidates of the other mentions that count for `reach`, per mention.
const REACH_OTHERS: usize = 16;
/// Mentions on each side that count as context.
pub const WINDOW: usize = 8;
/// Candidates of the other mentions with more relation neighbours than this are hubs, which
/// `reach` does not count.
const REACH_MAX_DEGREE: usize = 200;

/// Fills the coherence features of every candidate of every mention (mentions in document
/// order).
pub fn fill_coherence(adjacency: &RelationAdjacency, mentions: &mut [Vec<CandidateFeatures>]) {
    let tops: Vec<Vec<(u32, f32)>> = mentions.iter().map(|c| top_mass(c)).collect();
    let pools: Vec<Vec<u32>> = mentions
        .iter()
        .map(|c| {
            c.iter()
                .take(REACH_OTHERS)
                .map(|c| c.entity)
                .filter(|&f| adjacency.of(f).len() <= REACH_MAX_DEGREE)
                .collect()
        })
        .collect();
    let related_pools: Vec<Vec<u32>> = mentions
        .iter()
        .map(|c| c.iter().take(REACH_OTHERS).map(|c| c.entity).collect())
        .collect();
    // Each pair of candidates of two mentions in one window meets twice (once from each side),
    // and a list of places or names meets the same pairs over and over.
    let mut relatedness: HashMap<(u32, u32), f32> = HashMap::new();
    for i in 0..mentions.len() {
        let lo = i.saturating_sub(WINDOW);
        let hi = (i + WINDOW + 1).min(mentions.len());
        let others: Vec<usize> = (lo..hi)
            .filter(|&j| j != i && !tops[j].is_empty())
            .collect();
        if others.is_empty() {
            mentions[i].iter_mut().for_each(|c| {
                c.coherence = 0.0;
                c.reach = 0.0;
                c.reach_lead = 0.0;
                c.related = 0.0;
                c.related_lead = 0.0;
            });
            continue;
        }
        let n = others.len() as f32;
        for c in &mut mentions[i] {
            let e = c.entity;
            let linked = |f: u32| f != e && adjacency.linked(e, f);
            let support: f32 = others
                .iter()
                .map(|&j| {
                    tops[j]
                        .iter()
                        .filter(|t| linked(t.0))
                        .map(|t| t.1)
                        .sum::<f32>()
                })
                .sum();
            let reached = others
                .iter()
                .filter(|&&j| pools[j].iter().any(|&f| linked(f)))
                .count();
            c.coherence = support / n;
            c.reach = reached as f32 / n;
            let related: f32 = others
                .iter()
                .map(|&j| {
                    related_pools[j]
                        .iter()
                        .filter(|&&f| f != e)
                        .map(|&f| {
                            *relatedness
                                .entry((e.min(f), e.max(f)))
                                .or_insert_with(|| adjacency.relatedness(e, f))
                        })
                        .fold(0.0, f32::max)
                })
                .sum();
            c.related = related / n;
        }
        let reach = leads(mentions[i].iter().map(|c| c.reach).collect());
        let related = leads(mentions[i].iter().map(|c| c.related).collect());
        for (c, (reach_lead, related_lead)) in mentions[i].iter_mut().zip(reach.zip(related)) {
            c.reach_lead = reach_lead;
            c.related_lead = related_lead;
        }
    }
}

/// Each value (none negative) minus the best of the others, zero where there are none: the
/// best's lead over the runner-up, the others' gap to the best.
fn leads(values: Vec<f32>) -> impl Iterator<Item = f32> {
    let (mut best, mut second) = (0f32, 0f32);
    for &v in &values {
        if v > best {
            (best, second) = (v, best);
        } else if v > second {
            second = v;
        }
    }
    values
        .into_iter()
        .map(move |v| v - if v == best { second } else { best })
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

    /// An exact candidate with the given prior.
    fn candidate(entity: u32, prior: f32) -> CandidateFeatures {
        CandidateFeatures {
            entity,
            prior,
            similarity: 1.0,
            exact: true,
            ..Default::default()
        }
    }

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
        let c = candidate;
        let (country, player, team) = (
            kb.entity_idx("Q1").unwrap(),
            kb.entity_idx("Q2").unwrap(),
            kb.entity_idx("Q3").unwrap(),
        );
        let mut mentions = vec![vec![c(country, 0.8), c(player, 0.2)], vec![c(team, 1.0)]];
        fill_coherence(kb.adjacency(), &mut mentions);
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

    #[test]
    fn a_low_prior_namesake_linked_to_a_low_prior_namesake_is_reached() {
        let mut b = KbBuilder::new();
        let davids: Vec<String> = (0..7).map(|i| format!("Q{}", 100 + i)).collect();
        let victorias: Vec<String> = (0..7).map(|i| format!("Q{}", 200 + i)).collect();
        for id in davids.iter().chain(&victorias) {
            b.label(id, id);
        }
        b.relation_label("P26", "spouse");
        // the last David and the last Victoria are married; the first David knows a Victoria
        // that is not among the candidates
        b.triple(&davids[6], "P26", &victorias[6]);
        b.label("Q999", "Victoria elsewhere");
        b.triple(&davids[0], "P26", "Q999");
        let kb = b.finish(Manifest::default());
        let list = |ids: &[String]| -> Vec<CandidateFeatures> {
            ids.iter()
                .enumerate()
                .map(|(rank, id)| {
                    let prior = if rank == 6 {
                        0.01
                    } else {
                        0.3 - 0.04 * rank as f32
                    };
                    candidate(kb.entity_idx(id).unwrap(), prior)
                })
                .collect()
        };
        let mut mentions = vec![list(&davids), list(&victorias)];
        fill_coherence(kb.adjacency(), &mut mentions);
        let beckham = mentions[0][6];
        assert_eq!(
            beckham.coherence, 0.0,
            "the spouse is outside the top prior mass"
        );
        assert_eq!(
            beckham.reach, 1.0,
            "but among the other mention's candidates"
        );
        assert_eq!(
            beckham.reach_lead, 1.0,
            "and no other David reaches a Victoria"
        );
        assert_eq!(
            mentions[0][0].reach, 0.0,
            "a link outside the candidates does not count"
        );
        assert_eq!(mentions[1][6].reach_lead, 1.0);
        assert_eq!(mentions[1][0].reach_lead, -1.0);
    }

    #[test]
    fn a_namesake_sharing_a_band_with_the_others_is_related() {
        let mut b = KbBuilder::new();
        for (id, label) in [
            ("Q1", "Jimmy Page"),
            ("Q2", "Larry Page"),
            ("Q3", "Eric Clapton"),
            ("Q4", "The Yardbirds"),
            ("Q5", "Google"),
        ] {
            b.label(id, label);
        }
        b.relation_label("P463", "member of");
        b.triple("Q1", "P463", "Q4");
        b.triple("Q3", "P463", "Q4");
        b.triple("Q2", "P463", "Q5");
        let kb = b.finish(Manifest::default());
        let idx = |id| kb.entity_idx(id).unwrap();
        let mut mentions = vec![
            vec![candidate(idx("Q2"), 0.7), candidate(idx("Q1"), 0.3)],
            vec![candidate(idx("Q3"), 1.0)],
        ];
        fill_coherence(kb.adjacency(), &mut mentions);
        let (larry, jimmy) = (mentions[0][0], mentions[0][1]);
        assert_eq!(jimmy.reach, 0.0, "no triple joins the two guitarists");
        assert!(jimmy.related > 0.0, "but they share a band");
        assert_eq!(larry.related, 0.0);
        assert_eq!(jimmy.related_lead, jimmy.related);
        assert_eq!(larry.related_lead, -jimmy.related);
    }

    #[test]
    fn a_link_to_a_hub_does_not_reach() {
        let mut b = KbBuilder::new();
        for (id, label) in [
            ("Q1", "Brazil (film)"),
            ("Q2", "Brazil"),
            ("Q3", "Petrobras"),
        ] {
            b.label(id, label);
        }
        b.label("Q30", "United States");
        b.relation_label("P495", "country of origin");
        b.relation_label("P17", "country");
        b.triple("Q1", "P495", "Q30");
        b.triple("Q3", "P17", "Q2");
        // the hub: linked to more entities than a hub may be
        for i in 0..=REACH_MAX_DEGREE {
            let id = format!("Q{}", 1000 + i);
            b.label(&id, &id);
            b.triple(&id, "P17", "Q30");
        }
        let kb = b.finish(Manifest::default());
        let idx = |id| kb.entity_idx(id).unwrap();
        let c = |id| candidate(idx(id), 0.5);
        // "Brazil" next to a mention whose candidates are the hub and Petrobras
        let mut mentions = vec![vec![c("Q1"), c("Q2")], vec![c("Q30"), c("Q3")]];
        fill_coherence(kb.adjacency(), &mut mentions);
        assert_eq!(mentions[0][0].reach, 0.0, "the film only reaches the hub");
        assert_eq!(mentions[0][1].reach, 1.0, "the country reaches Petrobras");
        assert_eq!(mentions[0][1].reach_lead, 1.0);
    }
}
