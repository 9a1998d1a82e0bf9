//! The metrics, as pure functions of per-mention outcomes so they can be checked by hand:
//! precision/recall/F1 counts, recall@k over candidate ranks, gold-mention disambiguation with
//! NIL handling, and end-to-end span matching.

use std::collections::HashMap;

use serde::Serialize;

/// Micro precision, recall and F1 with the counts they come from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Prf {
    pub tp: u64,
    pub fp: u64,
    #[serde(rename = "fn")]
    pub fn_: u64,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
}

impl Prf {
    /// From counts; an empty denominator gives 0.
    pub fn from_counts(tp: u64, fp: u64, fn_: u64) -> Self {
        let ratio = |a: u64, b: u64| if b == 0 { 0.0 } else { a as f64 / b as f64 };
        let precision = ratio(tp, tp + fp);
        let recall = ratio(tp, tp + fn_);
        let f1 = if precision + recall == 0.0 {
            0.0
        } else {
            2.0 * precision * recall / (precision + recall)
        };
        Prf {
            tp,
            fp,
            fn_,
            precision,
            recall,
            f1,
        }
    }
}

/// A share with its numerator and denominator.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Share {
    pub hits: u64,
    pub total: u64,
    pub share: f64,
}

impl Share {
    pub fn new(hits: u64, total: u64) -> Self {
        let share = if total == 0 {
            0.0
        } else {
            hits as f64 / total as f64
        };
        Share { hits, total, share }
    }
}

/// Recall@k for each k: the share of mentions whose gold is among their first k candidates.
/// `ranks` holds each mention's 0-based gold rank, `None` when the gold is not a candidate.
pub fn recall_at(ranks: &[Option<usize>], ks: &[usize]) -> Vec<(usize, Share)> {
    ks.iter()
        .map(|&k| {
            let hits = ranks.iter().filter(|r| r.is_some_and(|r| r < k)).count() as u64;
            (k, Share::new(hits, ranks.len() as u64))
        })
        .collect()
}

/// Gold-mention disambiguation over in-KB gold mentions: `(gold, predicted)` pairs, where a
/// prediction of `None` is NIL. A wrong entity is both a false positive and a false negative; a
/// NIL prediction only a false negative.
pub fn disambiguation<T: PartialEq>(pairs: impl IntoIterator<Item = (T, Option<T>)>) -> Prf {
    let (mut tp, mut fp, mut fn_) = (0, 0, 0);
    for (gold, predicted) in pairs {
        match predicted {
            Some(p) if p == gold => tp += 1,
            Some(_) => {
                fp += 1;
                fn_ += 1
            }
            None => fn_ += 1,
        }
    }
    Prf::from_counts(tp, fp, fn_)
}

/// What a gold span asks of the system in end-to-end linking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GoldTarget {
    /// Link to this entity.
    Entity(String),
    /// Leave unlinked: a link here is a false positive.
    Nil,
    /// Not judged: a link here counts for nothing.
    Ignored,
}

/// A gold span for end-to-end matching.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoldSpan {
    pub start: usize,
    pub end: usize,
    pub target: GoldTarget,
}

/// The verdict on one linked system mention.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Exact span of a gold entity mention, same entity.
    Correct,
    /// Exact span of a gold entity mention, another entity.
    WrongEntity,
    /// Exact span of a NIL gold mention.
    LinkedNil,
    /// No gold mention has this span.
    NoGoldSpan,
    /// On an ignored label's span, or outside the evaluation span.
    Ignored,
}

impl Outcome {
    pub fn is_false_positive(self) -> bool {
        matches!(
            self,
            Outcome::WrongEntity | Outcome::LinkedNil | Outcome::NoGoldSpan
        )
    }
}

/// End-to-end linking of one document by exact span match: each linked system mention
/// `(start, end, entity)` gets an [`Outcome`]; every gold entity span inside the evaluation
/// span without a correct link is a false negative. Returns the outcomes (in prediction order)
/// and the document's counts `(tp, fp, fn)`.
pub fn match_spans(
    gold: &[GoldSpan],
    predicted: &[(usize, usize, &str)],
    evaluation_span: (usize, usize),
) -> (Vec<Outcome>, (u64, u64, u64)) {
    let inside = |s: usize, e: usize| s >= evaluation_span.0 && e <= evaluation_span.1;
    let mut by_span: HashMap<(usize, usize), Vec<usize>> = HashMap::new();
    for (i, g) in gold.iter().enumerate() {
        by_span.entry((g.start, g.end)).or_default().push(i);
    }
    let mut found = vec![false; gold.len()];
    let mut outcomes = Vec::with_capacity(predicted.len());
    for &(s, e, entity) in predicted {
        let outcome = if !inside(s, e) {
            Outcome::Ignored
        } else {
            match by_span.get(&(s, e)) {
                None => Outcome::NoGoldSpan,
                Some(ids) => {
                    let hit = ids.iter().find(|&&i| {
                        !found[i] && gold[i].target == GoldTarget::Entity(entity.to_string())
                    });
                    if let Some(&i) = hit {
                        found[i] = true;
                        Outcome::Correct
                    } else if ids
                        .iter()
                        .any(|&i| matches!(gold[i].target, GoldTarget::Entity(_)))
                    {
                        Outcome::WrongEntity
                    } else if ids.iter().any(|&i| gold[i].target == GoldTarget::Nil) {
                        Outcome::LinkedNil
                    } else {
                        Outcome::Ignored
                    }
                }
            }
        };
        outcomes.push(outcome);
    }
    let tp = outcomes.iter().filter(|o| **o == Outcome::Correct).count() as u64;
    let fp = outcomes.iter().filter(|o| o.is_false_positive()).count() as u64;
    let fn_ = gold
        .iter()
        .zip(&found)
        .filter(|(g, f)| {
            !**f && matches!(g.target, GoldTarget::Entity(_)) && inside(g.start, g.end)
        })
        .count() as u64;
    (outcomes, (tp, fp, fn_))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    #[test]
    fn prf_by_hand() {
        // 3 right, 1 wrong, 2 missed: P = 3/4, R = 3/5, F1 = 2·0.75·0.6/1.35 = 2/3.
        let p = Prf::from_counts(3, 1, 2);
        assert!(close(p.precision, 0.75));
        assert!(close(p.recall, 0.6));
        assert!(close(p.f1, 2.0 / 3.0));
        assert_eq!(Prf::from_counts(0, 0, 0).f1, 0.0);
    }

    #[test]
    fn recall_at_k_by_hand() {
        let ranks = [Some(0), Some(3), None, Some(10), Some(29)];
        let r = recall_at(&ranks, &[1, 5, 30]);
        assert_eq!(r[0].1.hits, 1);
        assert_eq!(r[1].1.hits, 2);
        assert_eq!(r[2].1.hits, 4);
        assert!(close(r[2].1.share, 0.8));
        assert_eq!(r[2].1.total, 5);
    }

    #[test]
    fn disambiguation_by_hand() {
        // right, wrong, NIL, right: tp 2, fp 1, fn 2 → P 2/3, R 1/2.
        let p = disambiguation([
            ("Q1", Some("Q1")),
            ("Q2", Some("Q9")),
            ("Q3", None),
            ("Q4", Some("Q4")),
        ]);
        assert_eq!((p.tp, p.fp, p.fn_), (2, 1, 2));
        assert!(close(p.precision, 2.0 / 3.0));
        assert!(close(p.recall, 0.5));
    }

    #[test]
    fn span_matching_by_hand() {
        let g = |start, end, target| GoldSpan { start, end, target };
        let e = |q: &str| GoldTarget::Entity(q.into());
        let gold = [
            g(0, 5, e("Q1")),
            g(10, 15, e("Q2")),
            g(20, 25, GoldTarget::Nil),
            g(30, 35, GoldTarget::Ignored),
            g(40, 45, e("Q5")),
            g(90, 95, e("Q9")),
        ];
        let predicted = [
            (0, 5, "Q1"),   // correct
            (10, 14, "Q2"), // span off by one: no gold span
            (20, 25, "Q3"), // a NIL mention linked
            (30, 35, "Q4"), // ignored label
            (40, 45, "Q6"), // wrong entity
            (50, 55, "Q7"), // no gold span
            (90, 95, "Q8"), // outside the evaluation span
        ];
        let (outcomes, counts) = match_spans(&gold, &predicted, (0, 60));
        assert_eq!(
            outcomes,
            [
                Outcome::Correct,
                Outcome::NoGoldSpan,
                Outcome::LinkedNil,
                Outcome::Ignored,
                Outcome::WrongEntity,
                Outcome::NoGoldSpan,
                Outcome::Ignored,
            ]
        );
        // Q2 and Q5 missed; Q9 lies outside the evaluation span.
        assert_eq!(counts, (1, 4, 2));
    }

    #[test]
    fn an_ignored_label_does_not_shadow_a_scored_one_on_the_same_span() {
        let gold = [
            GoldSpan {
                start: 0,
                end: 4,
                target: GoldTarget::Ignored,
            },
            GoldSpan {
                start: 0,
                end: 4,
                target: GoldTarget::Entity("Q1".into()),
            },
        ];
        let (_, counts) = match_spans(&gold, &[(0, 4, "Q2")], (0, 4));
        assert_eq!(counts, (0, 1, 1));
    }
}
