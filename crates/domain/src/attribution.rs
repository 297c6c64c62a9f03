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

/// The attribution models of API.md by name, Markov included.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ModelKind {
    /// `first_click`.
    FirstClick,
    /// `last_click`.
    LastClick,
    /// `last_non_direct` (the default).
    LastNonDirect,
    /// `last_paid`.
    LastPaid,
    /// `linear`.
    Linear,
    /// `time_decay`.
    TimeDecay,
    /// `position_based`.
    PositionBased,
    /// `markov` (data-driven: removal effects over the period's journeys).
    Markov,
}

impl ModelKind {
    /// Every model, in the order API.md lists them.
    pub const ALL: [ModelKind; 8] = [
        ModelKind::FirstClick,
        ModelKind::LastClick,
        ModelKind::LastNonDirect,
        ModelKind::LastPaid,
        ModelKind::Linear,
        ModelKind::TimeDecay,
        ModelKind::PositionBased,
        ModelKind::Markov,
    ];

    /// The API.md name.
    pub fn as_str(self) -> &'static str {
        match self {
            ModelKind::FirstClick => "first_click",
            ModelKind::LastClick => "last_click",
            ModelKind::LastNonDirect => "last_non_direct",
            ModelKind::LastPaid => "last_paid",
            ModelKind::Linear => "linear",
            ModelKind::TimeDecay => "time_decay",
            ModelKind::PositionBased => "position_based",
            ModelKind::Markov => "markov",
        }
    }

    /// The model with this API.md name.
    pub fn parse(name: &str) -> Option<ModelKind> {
        ModelKind::ALL.into_iter().find(|m| m.as_str() == name)
    }

    /// The rule-based model with its parameters (`None` for Markov, which
    /// needs the period's journeys).
    pub fn rule(self, half_life_days: f64, first: f64, last: f64) -> Option<Model> {
        Some(match self {
            ModelKind::FirstClick => Model::FirstClick,
            ModelKind::LastClick => Model::LastClick,
            ModelKind::LastNonDirect => Model::LastNonDirect,
            ModelKind::LastPaid => Model::LastPaid,
            ModelKind::Linear => Model::Linear,
            ModelKind::TimeDecay => Model::TimeDecay { half_life_days },
            ModelKind::PositionBased => Model::PositionBased { first, last },
            ModelKind::Markov => return None,
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

/// First-order Markov removal effects, computed exactly: see
/// [`MarkovChain::removal_effects`].
///
/// `journeys` are the channel sequences of all journeys of the period,
/// converting (`true`) or not. Channels with no effect, and every channel
/// when nothing converts, get 0.
pub fn markov_removal_effects<C: Clone + Eq + Hash>(
    journeys: &[(Vec<C>, bool)],
) -> HashMap<C, f64> {
    let mut index: HashMap<C, u32> = HashMap::new();
    let mut names: Vec<C> = Vec::new();
    let mut chain = MarkovChain::default();
    let mut path_ids = Vec::new();
    for (path, converted) in journeys {
        path_ids.clear();
        for c in path {
            let id = *index.entry(c.clone()).or_insert_with(|| {
                names.push(c.clone());
                (names.len() - 1) as u32
            });
            path_ids.push(id);
        }
        chain.add_path(&path_ids, *converted);
    }
    let effects = chain.removal_effects();
    names
        .into_iter()
        .enumerate()
        .map(|(i, c)| (c, effects.get(i).copied().unwrap_or(0.0)))
        .collect()
}

/// A first-order Markov chain over channel states `0..n`, with a start
/// state and two absorbing states (conversion, null), built from journeys
/// one path at a time (no path is kept: memory is the transition counts).
#[derive(Debug, Clone, Default)]
pub struct MarkovChain {
    /// Transitions from the start state, per channel.
    from_start: Vec<f64>,
    /// Transition counts between channels, per source state.
    transitions: Vec<HashMap<u32, f64>>,
    /// Transitions into conversion, per channel.
    to_conversion: Vec<f64>,
    /// All transitions out of each channel (to channels, conversion, null).
    totals: Vec<f64>,
}

impl MarkovChain {
    /// Most states [`MarkovChain::removal_effects`] solves (the dense
    /// solve is cubic in the number of states).
    pub const MAX_STATES: usize = 2_000;

    fn grow(&mut self, state: u32) {
        let need = state as usize + 1;
        if self.totals.len() < need {
            self.from_start.resize(need, 0.0);
            self.transitions.resize_with(need, HashMap::new);
            self.to_conversion.resize(need, 0.0);
            self.totals.resize(need, 0.0);
        }
    }

    /// Adds one journey: its states in time order and whether it converted.
    pub fn add_path(&mut self, path: &[u32], converted: bool) {
        let (Some(&first), Some(&last)) = (path.first(), path.last()) else {
            return;
        };
        for &s in path {
            self.grow(s);
        }
        self.from_start[first as usize] += 1.0;
        for pair in path.windows(2) {
            *self.transitions[pair[0] as usize]
                .entry(pair[1])
                .or_default() += 1.0;
            self.totals[pair[0] as usize] += 1.0;
        }
        self.totals[last as usize] += 1.0;
        if converted {
            self.to_conversion[last as usize] += 1.0;
        }
    }

    /// Number of channel states seen.
    pub fn states(&self) -> usize {
        self.totals.len()
    }

    /// The removal effect of every state, computed exactly from the
    /// absorbing chain — no simulation. With `N = (I - Q)⁻¹` (the
    /// fundamental matrix), `p = N r` the conversion probability from each
    /// state and `π` the start distribution, removing state `i` (its
    /// incoming transitions lead to null) loses exactly the conversions
    /// that pass through `i`: `P(hit i) · p_i`, where
    /// `P(hit i) = (πᵀN)_i / N_ii`. So the effect is
    /// `P(hit i) · p_i / P(conversion)`, all from one inversion instead of
    /// one solve per removed state. Every effect is 0 when nothing converts.
    pub fn removal_effects(&self) -> Vec<f64> {
        let n = self.states();
        let start_total: f64 = self.from_start.iter().sum();
        if n == 0 || start_total <= 0.0 || self.to_conversion.iter().all(|&c| c == 0.0) {
            return vec![0.0; n];
        }
        // A = I - Q, dense.
        let mut a = vec![0.0f64; n * n];
        for i in 0..n {
            a[i * n + i] = 1.0;
            if self.totals[i] > 0.0 {
                for (&j, &count) in &self.transitions[i] {
                    a[i * n + j as usize] -= count / self.totals[i];
                }
            }
        }
        let Some(inv) = invert(a, n) else {
            return vec![0.0; n];
        };
        let r: Vec<f64> = (0..n)
            .map(|i| {
                if self.totals[i] > 0.0 {
                    self.to_conversion[i] / self.totals[i]
                } else {
                    0.0
                }
            })
            .collect();
        let pi: Vec<f64> = self.from_start.iter().map(|c| c / start_total).collect();
        // p = N r; visits = πᵀ N.
        let p: Vec<f64> = (0..n)
            .map(|i| (0..n).map(|j| inv[i * n + j] * r[j]).sum())
            .collect();
        let mut visits = vec![0.0f64; n];
        for (k, &pk) in pi.iter().enumerate() {
            if pk != 0.0 {
                for (j, v) in visits.iter_mut().enumerate() {
                    *v += pk * inv[k * n + j];
                }
            }
        }
        let base: f64 = pi.iter().zip(&p).map(|(a, b)| a * b).sum();
        if base <= 0.0 || !base.is_finite() {
            return vec![0.0; n];
        }
        (0..n)
            .map(|i| {
                let diag = inv[i * n + i];
                if diag <= 0.0 {
                    return 0.0;
                }
                let hit = (visits[i] / diag).clamp(0.0, 1.0);
                let e = hit * p[i] / base;
                if e.is_finite() {
                    e.clamp(0.0, 1.0)
                } else {
                    0.0
                }
            })
            .collect()
    }
}

/// Inverts a dense `n × n` matrix (row-major) by Gauss–Jordan elimination
/// with partial pivoting; `None` when it is singular.
fn invert(mut a: Vec<f64>, n: usize) -> Option<Vec<f64>> {
    let mut inv = vec![0.0f64; n * n];
    for i in 0..n {
        inv[i * n + i] = 1.0;
    }
    for col in 0..n {
        let pivot =
            (col..n).max_by(|&x, &y| a[x * n + col].abs().total_cmp(&a[y * n + col].abs()))?;
        if a[pivot * n + col].abs() < 1e-12 {
            return None;
        }
        if pivot != col {
            for k in 0..n {
                a.swap(pivot * n + k, col * n + k);
                inv.swap(pivot * n + k, col * n + k);
            }
        }
        let p = a[col * n + col];
        for k in 0..n {
            a[col * n + k] /= p;
            inv[col * n + k] /= p;
        }
        let (pivot_a, pivot_inv): (Vec<f64>, Vec<f64>) = (
            a[col * n..col * n + n].to_vec(),
            inv[col * n..col * n + n].to_vec(),
        );
        for row in 0..n {
            if row == col {
                continue;
            }
            let f = a[row * n + col];
            if f == 0.0 {
                continue;
            }
            for k in 0..n {
                a[row * n + k] -= f * pivot_a[k];
                inv[row * n + k] -= f * pivot_inv[k];
            }
        }
    }
    Some(inv)
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

    /// The textbook way, kept as an oracle: P(conversion) re-solved with
    /// each state removed (its incoming transitions sent to null).
    fn removal_by_resolving(journeys: &[(Vec<u8>, bool)]) -> HashMap<u8, f64> {
        let mut states: Vec<u8> = journeys.iter().flat_map(|(p, _)| p.clone()).collect();
        states.sort_unstable();
        states.dedup();
        let n = states.len();
        let idx = |c: u8| states.iter().position(|&s| s == c).expect("state");
        let mut q = vec![vec![0.0; n]; n];
        let mut r = vec![0.0; n];
        let mut tot = vec![0.0; n];
        let mut start = vec![0.0; n];
        for (path, conv) in journeys {
            if path.is_empty() {
                continue;
            }
            start[idx(path[0])] += 1.0;
            for w in path.windows(2) {
                q[idx(w[0])][idx(w[1])] += 1.0;
                tot[idx(w[0])] += 1.0;
            }
            let last = idx(*path.last().expect("last"));
            tot[last] += 1.0;
            if *conv {
                r[last] += 1.0;
            }
        }
        let st: f64 = start.iter().sum();
        let solve = |removed: Option<usize>| -> f64 {
            let mut a = vec![0.0; n * n];
            for i in 0..n {
                a[i * n + i] = 1.0;
                if Some(i) == removed || tot[i] == 0.0 {
                    continue;
                }
                for j in 0..n {
                    if Some(j) != removed {
                        a[i * n + j] -= q[i][j] / tot[i];
                    }
                }
            }
            let inv = invert(a, n).expect("invertible");
            (0..n)
                .filter(|&k| Some(k) != removed)
                .map(|k| {
                    let pk: f64 = (0..n)
                        .filter(|&j| Some(j) != removed && tot[j] > 0.0)
                        .map(|j| inv[k * n + j] * r[j] / tot[j])
                        .sum();
                    start[k] / st * pk
                })
                .sum()
        };
        let base = solve(None);
        states
            .iter()
            .enumerate()
            .map(|(i, &c)| {
                let e = if base > 0.0 {
                    (1.0 - solve(Some(i)) / base).clamp(0.0, 1.0)
                } else {
                    0.0
                };
                (c, e)
            })
            .collect()
    }

    #[test]
    fn model_names_round_trip() {
        for m in ModelKind::ALL {
            assert_eq!(ModelKind::parse(m.as_str()), Some(m));
            assert_eq!(m.rule(7.0, 0.4, 0.4).is_none(), m == ModelKind::Markov);
        }
        assert_eq!(ModelKind::parse("last"), None);
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
        fn markov_effects_match_re_solving_per_removed_state(journeys in prop::collection::vec((prop::collection::vec(0u8..6, 1..7), any::<bool>()), 1..30)) {
            let fast = markov_removal_effects(&journeys);
            let oracle = removal_by_resolving(&journeys);
            for (c, e) in &oracle {
                prop_assert!((fast[c] - e).abs() < 1e-9, "{} {} {}", c, fast[c], e);
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
