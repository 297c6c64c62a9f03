//! Attribution models: how one conversion's value is split among the touches
//! (visits) of its journey. Pure functions; the reports (the attribution
//! issue) feed them the journeys of a period.
//!
//! Every model returns one weight per touch, non-negative, summing to 1 for
//! a journey with touches (an empty journey gets no weights). Model names
//! are those of API.md.

use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::hash::Hash;

/// One touch of a journey.
#[derive(Debug, Clone, PartialEq)]
pub struct Touch<C> {
    /// When the visit started.
    pub at: DateTime<Utc>,
    /// What the touch is credited to (a channel, or a source/campaign key).
    pub channel: C,
    /// Direct traffic (`(direct)` / `(none)`).
    pub direct: bool,
    /// Paid traffic (cpc, paid social, …).
    pub paid: bool,
}

/// An attribution model.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Model {
    /// All credit to the first touch.
    FirstClick,
    /// All credit to the last touch.
    LastClick,
    /// All credit to the last touch that is not direct (the last touch
    /// when all are direct). The default.
    LastNonDirect,
    /// All credit to the last paid touch (else as last non-direct).
    LastPaid,
    /// Equal credit to every touch.
    Linear,
    /// Credit halves every `half_life_days` before the conversion.
    TimeDecay {
        /// Half-life in days (default 7).
        half_life_days: f64,
    },
    /// `first` to the first touch, `last` to the last, the rest shared by
    /// the middle (40/20/40 by default).
    PositionBased {
        /// Share of the first touch.
        first: f64,
        /// Share of the last touch.
        last: f64,
    },
}

impl Model {
    /// The model with this API.md name (defaults for parameters); `markov`
    /// is computed over all journeys by [`markov_removal_effects`].
    pub fn parse(name: &str) -> Option<Model> {
        Some(match name {
            "first_click" => Model::FirstClick,
            "last_click" => Model::LastClick,
            "last_non_direct" => Model::LastNonDirect,
            "last_paid" => Model::LastPaid,
            "linear" => Model::Linear,
            "time_decay" => Model::TimeDecay {
                half_life_days: 7.0,
            },
            "position_based" => Model::PositionBased {
                first: 0.4,
                last: 0.4,
            },
            _ => return None,
        })
    }
}

fn one_hot(n: usize, i: usize) -> Vec<f64> {
    let mut w = vec![0.0; n];
    w[i] = 1.0;
    w
}

/// The weights a rule-based model gives the touches of one journey, which
/// must be in time order; `conversion_at` dates the conversion (time decay).
pub fn weights<C>(model: Model, touches: &[Touch<C>], conversion_at: DateTime<Utc>) -> Vec<f64> {
    let n = touches.len();
    if n == 0 {
        return Vec::new();
    }
    let last_non_direct = || touches.iter().rposition(|t| !t.direct).unwrap_or(n - 1);
    match model {
        Model::FirstClick => one_hot(n, 0),
        Model::LastClick => one_hot(n, n - 1),
        Model::LastNonDirect => one_hot(n, last_non_direct()),
        Model::LastPaid => one_hot(
            n,
            touches
                .iter()
                .rposition(|t| t.paid)
                .unwrap_or_else(last_non_direct),
        ),
        Model::Linear => vec![1.0 / n as f64; n],
        Model::TimeDecay { half_life_days } => {
            let half_life = if half_life_days > 0.0 {
                half_life_days
            } else {
                7.0
            };
            let raw: Vec<f64> = touches
                .iter()
                .map(|t| {
                    let days = (conversion_at - t.at).num_seconds().max(0) as f64 / 86_400.0;
                    (-days / half_life * std::f64::consts::LN_2).exp()
                })
                .collect();
            let sum: f64 = raw.iter().sum();
            if sum > 0.0 && sum.is_finite() {
                raw.into_iter().map(|w| w / sum).collect()
            } else {
                vec![1.0 / n as f64; n]
            }
        }
        Model::PositionBased { first, last } => match n {
            1 => vec![1.0],
            2 => {
                let f = first / (first + last);
                vec![f, 1.0 - f]
            }
            _ => {
                let middle = (1.0 - first - last).max(0.0) / (n - 2) as f64;
                let total = first + last + middle * (n - 2) as f64;
                let mut w = vec![middle / total; n];
                w[0] = first / total;
                w[n - 1] = last / total;
                w
            }
        },
    }
}

/// First-order Markov removal effects, computed exactly: the probability
/// of reaching conversion from the start is solved from the absorbing
/// chain's linear system (not simulated), once with every channel and once
/// with each channel removed (its transitions lead nowhere). The effect of
/// a channel is `1 - P(conversion without it) / P(conversion)`.
///
/// `journeys` are the channel sequences of all journeys of the period,
/// converting (`true`) or not. Channels with no effect, and every channel
/// when nothing converts, get 0.
pub fn markov_removal_effects<C: Clone + Eq + Hash>(
    journeys: &[(Vec<C>, bool)],
) -> HashMap<C, f64> {
    let mut index: HashMap<C, usize> = HashMap::new();
    for (path, _) in journeys {
        for c in path {
            let next = index.len();
            index.entry(c.clone()).or_insert(next);
        }
    }
    let n = index.len();
    // Transition counts: from start (row n) and from each channel to each
    // channel, plus to conversion and to null.
    let mut to_channel = vec![vec![0.0f64; n]; n + 1];
    let mut to_conversion = vec![0.0f64; n + 1];
    let mut totals = vec![0.0f64; n + 1];
    for (path, converted) in journeys {
        if path.is_empty() {
            continue;
        }
        let mut from = n;
        for c in path {
            let to = index[c];
            to_channel[from][to] += 1.0;
            totals[from] += 1.0;
            from = to;
        }
        totals[from] += 1.0;
        if *converted {
            to_conversion[from] += 1.0;
        }
    }
    let base = conversion_probability(&to_channel, &to_conversion, &totals, None);
    let mut effects = HashMap::new();
    for (c, &i) in &index {
        let effect = if base > 0.0 {
            let without = conversion_probability(&to_channel, &to_conversion, &totals, Some(i));
            (1.0 - without / base).clamp(0.0, 1.0)
        } else {
            0.0
        };
        effects.insert(c.clone(), effect);
    }
    effects
}

/// P(conversion | start), with channel `removed` (if any) absorbing into
/// null. Solves `(I - Q) p = r` by Gaussian elimination with partial
/// pivoting.
#[allow(clippy::needless_range_loop)] // row/column indices read clearer here than iterator chains
fn conversion_probability(
    to_channel: &[Vec<f64>],
    to_conversion: &[f64],
    totals: &[f64],
    removed: Option<usize>,
) -> f64 {
    let n = to_conversion.len() - 1;
    let prob = |from: usize, to: usize| {
        if totals[from] > 0.0 {
            to_channel[from][to] / totals[from]
        } else {
            0.0
        }
    };
    // Build A = I - Q and b = r over channel states.
    let mut a = vec![vec![0.0f64; n + 1]; n];
    for i in 0..n {
        a[i][i] = 1.0;
        if Some(i) == removed {
            continue; // p_i = 0
        }
        for j in 0..n {
            if Some(j) != removed {
                a[i][j] -= prob(i, j);
            }
        }
        a[i][n] = if totals[i] > 0.0 {
            to_conversion[i] / totals[i]
        } else {
            0.0
        };
    }
    for col in 0..n {
        let pivot = (col..n)
            .max_by(|&x, &y| a[x][col].abs().total_cmp(&a[y][col].abs()))
            .unwrap_or(col);
        a.swap(col, pivot);
        let p = a[col][col];
        if p.abs() < 1e-12 {
            continue;
        }
        for k in col..=n {
            a[col][k] /= p;
        }
        for row in 0..n {
            if row != col {
                let f = a[row][col];
                if f != 0.0 {
                    for k in col..=n {
                        a[row][k] -= f * a[col][k];
                    }
                }
            }
        }
    }
    (0..n)
        .filter(|&j| Some(j) != removed)
        .map(|j| prob(n, j) * a[j][n])
        .sum()
}

/// A converting journey's weights under the Markov model: each channel of
/// the path gets a share proportional to its removal effect, split equally
/// among its touches (equal shares when no channel has an effect).
pub fn markov_weights<C: Eq + Hash>(path: &[C], effects: &HashMap<C, f64>) -> Vec<f64> {
    let n = path.len();
    if n == 0 {
        return Vec::new();
    }
    let mut counts: HashMap<&C, usize> = HashMap::new();
    for c in path {
        *counts.entry(c).or_default() += 1;
    }
    let total: f64 = counts
        .keys()
        .map(|c| effects.get(*c).copied().unwrap_or(0.0))
        .sum();
    if total <= 0.0 || !total.is_finite() {
        return vec![1.0 / n as f64; n];
    }
    path.iter()
        .map(|c| effects.get(c).copied().unwrap_or(0.0) / total / counts[c] as f64)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;
    use proptest::prelude::*;

    fn t(days_before: i64, channel: &'static str, direct: bool, paid: bool) -> Touch<&'static str> {
        Touch {
            at: conv() - Duration::days(days_before),
            channel,
            direct,
            paid,
        }
    }

    fn conv() -> DateTime<Utc> {
        "2026-03-10T12:00:00Z".parse().expect("time")
    }

    fn close(a: &[f64], b: &[f64]) -> bool {
        a.len() == b.len() && a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-9)
    }

    #[test]
    fn hand_computed_journeys() {
        // organic (14 d) → paid (7 d) → direct (0 d)
        let j = [
            t(14, "organic", false, false),
            t(7, "paid", false, true),
            t(0, "direct", true, false),
        ];
        let cases: Vec<(&str, Vec<f64>)> = vec![
            ("first_click", vec![1.0, 0.0, 0.0]),
            ("last_click", vec![0.0, 0.0, 1.0]),
            ("last_non_direct", vec![0.0, 1.0, 0.0]),
            ("last_paid", vec![0.0, 1.0, 0.0]),
            ("linear", vec![1.0 / 3.0; 3]),
            // 2^-2, 2^-1, 2^0 normalized by 1.75
            ("time_decay", vec![0.25 / 1.75, 0.5 / 1.75, 1.0 / 1.75]),
            ("position_based", vec![0.4, 0.2, 0.4]),
        ];
        for (name, want) in cases {
            let got = weights(Model::parse(name).expect("model"), &j, conv());
            assert!(close(&got, &want), "{name}: {got:?} != {want:?}");
        }
        // All direct: last non-direct falls back to the last touch; no paid
        // touch: last paid falls back to last non-direct.
        let all_direct = [t(3, "direct", true, false), t(1, "direct", true, false)];
        assert!(close(
            &weights(Model::LastNonDirect, &all_direct, conv()),
            &[0.0, 1.0]
        ));
        let organic = [t(3, "organic", false, false), t(1, "direct", true, false)];
        assert!(close(
            &weights(Model::LastPaid, &organic, conv()),
            &[1.0, 0.0]
        ));
        // Position based with two touches: 50/50; four touches: 40/10/10/40.
        assert!(close(
            &weights(Model::parse("position_based").expect("m"), &organic, conv()),
            &[0.5, 0.5]
        ));
        let four = [
            t(4, "a", false, false),
            t(3, "b", false, false),
            t(2, "c", false, false),
            t(1, "d", false, false),
        ];
        assert!(close(
            &weights(Model::parse("position_based").expect("m"), &four, conv()),
            &[0.4, 0.1, 0.1, 0.4]
        ));
        assert!(weights::<&str>(Model::Linear, &[], conv()).is_empty());
    }

    #[test]
    fn markov_hand_computed() {
        // Paths: C1→conv, C1→C2→conv, C2→null.
        // P(conv) = 2/3·(1/2 + 1/2·1/2) + 1/3·1/2 = 2/3.
        // Without C1: 1/3·1/2 = 1/6 → effect 0.75. Without C2: 2/3·1/2 = 1/3 → 0.5.
        let journeys = vec![
            (vec!["C1"], true),
            (vec!["C1", "C2"], true),
            (vec!["C2"], false),
        ];
        let fx = markov_removal_effects(&journeys);
        assert!((fx["C1"] - 0.75).abs() < 1e-9, "{fx:?}");
        assert!((fx["C2"] - 0.5).abs() < 1e-9, "{fx:?}");
        assert!(close(&markov_weights(&["C1", "C2"], &fx), &[0.6, 0.4]));
        assert!(close(&markov_weights(&["C1"], &fx), &[1.0]));
        // A repeated channel splits its share among its touches.
        assert!(close(
            &markov_weights(&["C1", "C2", "C1"], &fx),
            &[0.3, 0.4, 0.3]
        ));
        // Nothing converts: no effects, equal shares.
        let none = markov_removal_effects(&[(vec!["A", "B"], false)]);
        assert_eq!(none["A"], 0.0);
        assert!(close(&markov_weights(&["A", "B"], &none), &[0.5, 0.5]));
    }

    #[test]
    fn markov_handles_loops_exactly() {
        // A → A → conv and A → null: P(conv) from A with a self-loop.
        // From A: to A 1/3, conv 1/3, null 1/3 → p = 1/3 + 1/3·p → p = 1/2.
        let journeys = vec![(vec!["A", "A"], true), (vec!["A"], false)];
        let fx = markov_removal_effects(&journeys);
        assert!((fx["A"] - 1.0).abs() < 1e-9);
    }

    fn arb_journey() -> impl Strategy<Value = Vec<Touch<u8>>> {
        prop::collection::vec((0i64..60, 0u8..6, any::<bool>(), any::<bool>()), 1..12).prop_map(
            |mut v| {
                v.sort_by_key(|x| std::cmp::Reverse(x.0));
                v.into_iter()
                    .map(|(d, c, direct, paid)| Touch {
                        at: conv() - Duration::days(d),
                        channel: c,
                        direct,
                        paid,
                    })
                    .collect()
            },
        )
    }

    proptest! {
        #[test]
        fn every_model_gives_weights_that_sum_to_one(j in arb_journey()) {
            for name in ["first_click", "last_click", "last_non_direct", "last_paid", "linear", "time_decay", "position_based"] {
                let w = weights(Model::parse(name).expect("model"), &j, conv());
                prop_assert_eq!(w.len(), j.len());
                prop_assert!(w.iter().all(|x| *x >= 0.0 && x.is_finite()), "{} {:?}", name, w);
                prop_assert!((w.iter().sum::<f64>() - 1.0).abs() < 1e-9, "{} {:?}", name, w);
            }
        }

        #[test]
        fn markov_weights_sum_to_one(journeys in prop::collection::vec((prop::collection::vec(0u8..5, 1..8), any::<bool>()), 1..40)) {
            let fx = markov_removal_effects(&journeys);
            prop_assert!(fx.values().all(|e| (0.0..=1.0).contains(e)));
            for (path, converted) in &journeys {
                if *converted {
                    let w = markov_weights(path, &fx);
                    prop_assert!((w.iter().sum::<f64>() - 1.0).abs() < 1e-9, "{:?} {:?}", path, w);
                }
            }
        }
    }
}
