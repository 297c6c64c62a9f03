//! Attribution models: how conversions are split among the touches
//! (visits) of their journeys. Pure functions; the reports feed them the
//! journeys of a period.
//!
//! The rule-based models ([`weights`]) give one weight per touch,
//! non-negative, summing to 1 for a journey with touches (an empty journey
//! gets no weights). The data-driven ones look at every journey of the
//! period first:
//! - `markov` is the published method (Anderl et al. 2016, ChannelAttribution,
//!   DP6's marketing-attribution-models): a first-order chain over the
//!   groups, exact removal effects ([`MarkovChain`]), and each group's credit
//!   = the period's total × its removal effect ÷ the sum of removal effects
//!   ([`markov_shares`]);
//! - `markov_path` (a skvoz variant) splits each converting journey among its
//!   own groups in proportion to their removal effects ([`markov_weights`]);
//! - `shapley` is the conversion-rate Shapley value over sets of groups
//!   ([`CoalitionGame`]).
//!
//! Model names are those of API.md.

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
    /// `markov` (data-driven: the period's total split by removal effects).
    Markov,
    /// `markov_path` (each journey split among its groups by removal effects).
    MarkovPath,
    /// `shapley` (conversion-rate Shapley value over sets of groups).
    Shapley,
}

impl ModelKind {
    /// Every model, in the order API.md lists them.
    pub const ALL: [ModelKind; 10] = [
        ModelKind::FirstClick,
        ModelKind::LastClick,
        ModelKind::LastNonDirect,
        ModelKind::LastPaid,
        ModelKind::Linear,
        ModelKind::TimeDecay,
        ModelKind::PositionBased,
        ModelKind::Markov,
        ModelKind::MarkovPath,
        ModelKind::Shapley,
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
            ModelKind::MarkovPath => "markov_path",
            ModelKind::Shapley => "shapley",
        }
    }

    /// The model with this API.md name.
    pub fn parse(name: &str) -> Option<ModelKind> {
        ModelKind::ALL.into_iter().find(|m| m.as_str() == name)
    }

    /// The rule-based model with its parameters (`None` for the data-driven
    /// models, which need the period's journeys).
    pub fn rule(self, half_life_days: f64, first: f64, last: f64) -> Option<Model> {
        Some(match self {
            ModelKind::FirstClick => Model::FirstClick,
            ModelKind::LastClick => Model::LastClick,
            ModelKind::LastNonDirect => Model::LastNonDirect,
            ModelKind::LastPaid => Model::LastPaid,
            ModelKind::Linear => Model::Linear,
            ModelKind::TimeDecay => Model::TimeDecay { half_life_days },
            ModelKind::PositionBased => Model::PositionBased { first, last },
            ModelKind::Markov | ModelKind::MarkovPath | ModelKind::Shapley => return None,
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
/// Repeated touches of a state are kept (a self-transition), as
/// ChannelAttribution and Anderl et al. do.
#[derive(Debug, Clone, Default)]
pub struct MarkovChain {
    /// Transitions from the start state, per channel.
    from_start: Vec<f64>,
    /// Transition counts between channels, per source state.
    transitions: Vec<HashMap<u32, f64>>,
    /// Transitions into conversion, per channel.
    to_conversion: Vec<f64>,
    /// Conversion value (revenue) of the transitions into conversion, per
    /// channel.
    to_value: Vec<f64>,
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
            self.to_value.resize(need, 0.0);
            self.totals.resize(need, 0.0);
        }
    }

    /// Adds one journey: its states in time order and whether it converted.
    pub fn add_path(&mut self, path: &[u32], converted: bool) {
        if converted {
            self.add_paths(path, 1.0, 0.0, 0.0);
        } else {
            self.add_paths(path, 0.0, 1.0, 0.0);
        }
    }

    /// Adds `conversions + nulls` journeys along the same path (states in
    /// time order): `conversions` of them converted, with `value` in all,
    /// `nulls` did not — ChannelAttribution's input row (`total_conversions`,
    /// `total_null`, `total_conversion_value`). Negative counts take journeys
    /// added before back out (the counts are sums of whole numbers, so this
    /// is exact).
    pub fn add_paths(&mut self, path: &[u32], conversions: f64, nulls: f64, value: f64) {
        let (Some(&first), Some(&last)) = (path.first(), path.last()) else {
            return;
        };
        for &s in path {
            self.grow(s);
        }
        let n = conversions + nulls;
        self.from_start[first as usize] += n;
        for pair in path.windows(2) {
            *self.transitions[pair[0] as usize]
                .entry(pair[1])
                .or_default() += n;
            self.totals[pair[0] as usize] += n;
        }
        self.totals[last as usize] += n;
        self.to_conversion[last as usize] += conversions;
        self.to_value[last as usize] += value;
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
        self.removal_effects_with_value().0
    }

    /// The removal effects on conversions and on conversion value, from one
    /// inversion. The value effects are the same formula with `r` the
    /// expected value absorbed from each state (the value of its
    /// conversions ÷ its transitions): what ChannelAttribution's `var_value`
    /// estimates by simulation. Value effects are all 0 when no value was
    /// added.
    pub fn removal_effects_with_value(&self) -> (Vec<f64>, Vec<f64>) {
        let n = self.states();
        let zeros = || (vec![0.0; n], vec![0.0; n]);
        let start_total: f64 = self.from_start.iter().sum();
        if n == 0 || start_total <= 0.0 || self.to_conversion.iter().all(|&c| c <= 0.0) {
            return zeros();
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
            return zeros();
        };
        let pi: Vec<f64> = self.from_start.iter().map(|c| c / start_total).collect();
        // visits = πᵀ N: expected visits to each state.
        let mut visits = vec![0.0f64; n];
        for (k, &pk) in pi.iter().enumerate() {
            if pk != 0.0 {
                for (j, v) in visits.iter_mut().enumerate() {
                    *v += pk * inv[k * n + j];
                }
            }
        }
        let effects = |absorbed: &[f64]| -> Vec<f64> {
            let r: Vec<f64> = (0..n)
                .map(|i| {
                    if self.totals[i] > 0.0 {
                        absorbed[i] / self.totals[i]
                    } else {
                        0.0
                    }
                })
                .collect();
            // p = N r.
            let p: Vec<f64> = (0..n)
                .map(|i| (0..n).map(|j| inv[i * n + j] * r[j]).sum())
                .collect();
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
        };
        let conversions = effects(&self.to_conversion);
        let value = if self.to_value.iter().any(|&v| v > 0.0) {
            effects(&self.to_value)
        } else {
            vec![0.0; n]
        };
        (conversions, value)
    }
}

/// The published Markov split: each state's share of the period's total,
/// its removal effect ÷ the sum of removal effects. `None` when no state
/// has an effect (nothing converted, or the chain could not be solved).
pub fn markov_shares(effects: &[f64]) -> Option<Vec<f64>> {
    let sum: f64 = effects.iter().sum();
    (sum > 0.0 && sum.is_finite()).then(|| effects.iter().map(|e| e / sum).collect())
}

/// One row of ChannelAttribution's input: a path and how many journeys
/// took it.
#[derive(Debug, Clone, PartialEq)]
pub struct PathCount<C> {
    /// The groups touched, in time order (repeats kept).
    pub path: Vec<C>,
    /// Journeys along the path that converted.
    pub conversions: f64,
    /// Journeys along the path that did not.
    pub nulls: f64,
    /// Conversion value (revenue) of the converting ones.
    pub value: f64,
}

/// Credit a group gets under the published Markov model.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct MarkovCredit {
    /// Removal effect on conversions.
    pub removal_effect: f64,
    /// Removal effect on conversion value.
    pub removal_effect_value: f64,
    /// Conversions credited: total × removal effect ÷ Σ removal effects.
    pub conversions: f64,
    /// Value credited, the same way with the value removal effects.
    pub value: f64,
}

/// The published Markov model over aggregated paths (what
/// ChannelAttribution's `markov_model(order=1, var_null=…, var_value=…)`
/// estimates): every group's removal effects and credit. Groups end up with
/// no credit when nothing converted.
pub fn markov_model<C: Clone + Eq + Hash>(rows: &[PathCount<C>]) -> HashMap<C, MarkovCredit> {
    let mut index: HashMap<C, u32> = HashMap::new();
    let mut names: Vec<C> = Vec::new();
    let mut chain = MarkovChain::default();
    let mut ids = Vec::new();
    let (mut conversions, mut value) = (0.0, 0.0);
    for row in rows {
        ids.clear();
        for c in &row.path {
            let id = *index.entry(c.clone()).or_insert_with(|| {
                names.push(c.clone());
                (names.len() - 1) as u32
            });
            ids.push(id);
        }
        if !ids.is_empty() {
            conversions += row.conversions;
            value += row.value;
        }
        chain.add_paths(&ids, row.conversions, row.nulls, row.value);
    }
    let (fx, fx_value) = chain.removal_effects_with_value();
    let shares = markov_shares(&fx);
    let value_shares = markov_shares(&fx_value);
    names
        .into_iter()
        .enumerate()
        .map(|(i, c)| {
            let credit = MarkovCredit {
                removal_effect: fx.get(i).copied().unwrap_or(0.0),
                removal_effect_value: fx_value.get(i).copied().unwrap_or(0.0),
                conversions: shares.as_ref().map_or(0.0, |s| s[i] * conversions),
                value: value_shares.as_ref().map_or(0.0, |s| s[i] * value),
            };
            (c, credit)
        })
        .collect()
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

/// Most groups a journey's coalition holds for [`CoalitionGame`]: the
/// Shapley value is exact over all `2^n` subsets, so a journey with more
/// distinct groups keeps its latest 16.
pub const SHAPLEY_MAX_GROUPS: usize = 16;

/// The coalition of a journey: its distinct groups (the
/// [`SHAPLEY_MAX_GROUPS`] touched latest when there are more), sorted.
pub fn coalition<C: Clone + Ord>(path: &[C]) -> Vec<C> {
    let mut out: Vec<C> = Vec::new();
    for c in path.iter().rev() {
        if out.len() == SHAPLEY_MAX_GROUPS {
            break;
        }
        if !out.contains(c) {
            out.push(c.clone());
        }
    }
    out.sort_unstable();
    out
}

/// The conversion-rate game of Shapley attribution (Dalessandro et al.
/// 2012; the `conv_rate` default of DP6's marketing-attribution-models,
/// without its 4-group cap): the worth of a set of groups is the conversion
/// rate of the journeys whose set of groups is exactly it (0 where there
/// are none). Journeys are added one coalition at a time (see
/// [`coalition`]).
#[derive(Debug, Clone)]
pub struct CoalitionGame<C> {
    /// Per coalition (sorted, distinct): conversions and journeys.
    journeys: HashMap<Vec<C>, (f64, f64)>,
}

impl<C> Default for CoalitionGame<C> {
    fn default() -> Self {
        CoalitionGame {
            journeys: HashMap::new(),
        }
    }
}

impl<C: Clone + Ord + Hash> CoalitionGame<C> {
    /// Adds `journeys` journeys with this coalition (sorted and distinct, as
    /// [`coalition`] gives it), `conversions` of which converted. Negative
    /// counts take journeys added before back out.
    pub fn add(&mut self, coalition: &[C], conversions: f64, journeys: f64) {
        if coalition.is_empty() {
            return;
        }
        if let Some(e) = self.journeys.get_mut(coalition) {
            e.0 += conversions;
            e.1 += journeys;
        } else {
            self.journeys
                .insert(coalition.to_vec(), (conversions, journeys));
        }
    }

    /// The worth of a coalition: its journeys' conversion rate.
    pub fn rate(&self, coalition: &[C]) -> f64 {
        match self.journeys.get(coalition) {
            Some(&(c, n)) if n > 0.0 => c / n,
            _ => 0.0,
        }
    }

    /// Each member's Shapley value in the game restricted to the subsets of
    /// `coalition` (sorted, distinct, at most [`SHAPLEY_MAX_GROUPS`]
    /// members), in `coalition` order: the average over orderings of what
    /// the member adds to the worth of those before it. They sum to the
    /// coalition's worth; some can be negative.
    pub fn shapley(&self, coalition: &[C]) -> Vec<f64> {
        let s = coalition.len().min(SHAPLEY_MAX_GROUPS);
        let members = &coalition[..s];
        let subsets = 1usize << s;
        // Worth of every subset, by bit mask over `members`: looked up
        // subset by subset, or — when the game holds fewer coalitions than
        // there are subsets — by finding which of its coalitions are
        // subsets (the others are worth 0).
        let mut worth = vec![0.0f64; subsets];
        if subsets > self.journeys.len() {
            for (coalition, &(c, n)) in &self.journeys {
                if n <= 0.0 {
                    continue;
                }
                let mut mask = 0usize;
                let mut inside = true;
                for m in coalition {
                    match members.binary_search(m) {
                        Ok(b) => mask |= 1 << b,
                        Err(_) => {
                            inside = false;
                            break;
                        }
                    }
                }
                if inside {
                    worth[mask] = c / n;
                }
            }
        } else {
            let mut subset: Vec<C> = Vec::with_capacity(s);
            for (mask, w) in worth.iter_mut().enumerate().skip(1) {
                subset.clear();
                subset.extend(
                    (0..s)
                        .filter(|b| mask & (1 << b) != 0)
                        .map(|b| members[b].clone()),
                );
                *w = self.rate(&subset);
            }
        }
        // |T|! (s - |T| - 1)! / s! for a subset T without the member.
        let mut factorial = vec![1.0f64; s + 1];
        for k in 1..=s {
            factorial[k] = factorial[k - 1] * k as f64;
        }
        let weight: Vec<f64> = (0..s)
            .map(|t| factorial[t] * factorial[s - t - 1] / factorial[s])
            .collect();
        (0..s)
            .map(|i| {
                let bit = 1usize << i;
                (0..subsets)
                    .filter(|mask| mask & bit == 0)
                    .map(|mask| {
                        weight[mask.count_ones() as usize] * (worth[mask | bit] - worth[mask])
                    })
                    .sum()
            })
            .collect()
    }

    /// Each member's share of the coalition's conversions: its Shapley
    /// value ÷ their sum (negative shares kept, so the shares still sum to
    /// 1); equal shares when the values sum to zero.
    pub fn shares(&self, coalition: &[C]) -> Vec<f64> {
        let values = self.shapley(coalition);
        let sum: f64 = values.iter().sum();
        if sum.abs() < 1e-12 || !sum.is_finite() {
            let n = values.len().max(1) as f64;
            return vec![1.0 / n; values.len()];
        }
        values.into_iter().map(|v| v / sum).collect()
    }
}

/// A journey's weights from its coalition's shares (as
/// [`CoalitionGame::shares`] gives them, in `coalition` order): each group's
/// share split equally among its touches; touches of groups left out of the
/// coalition get 0.
pub fn coalition_weights<C: Eq>(path: &[C], coalition: &[C], shares: &[f64]) -> Vec<f64> {
    let mut counts = vec![0usize; coalition.len()];
    let member: Vec<Option<usize>> = path
        .iter()
        .map(|c| coalition.iter().position(|m| m == c))
        .collect();
    for &k in member.iter().flatten() {
        counts[k] += 1;
    }
    member
        .iter()
        .map(|m| {
            m.map_or(0.0, |k| {
                shares.get(k).copied().unwrap_or(0.0) / counts[k] as f64
            })
        })
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

    /// Five journeys, worked by hand (the published Markov split):
    ///
    /// ```text
    /// 1. A → B → conv (value 100)    4. C → A → conv (value 30)
    /// 2. A → conv     (value 50)     5. C → null
    /// 3. B → null
    /// ```
    /// Start: A 2/5, B 1/5, C 2/5. From A: B 1/3, conv 2/3 (value 80/3 per
    /// transition); from B: conv 1/2 (value 50), null 1/2; from C: A 1/2,
    /// null 1/2. Conversion probability: p_B = 1/2, p_A = 1/3·1/2 + 2/3 =
    /// 5/6, p_C = 5/12, P = 2/5·5/6 + 1/5·1/2 + 2/5·5/12 = 3/5.
    /// Without A: 1/10 → RE 5/6; without B: p_A = 2/3, p_C = 1/3, P = 2/5 →
    /// RE 1/3; without C: 13/30 → RE 5/18. ΣRE = 26/18, so the 3 conversions
    /// go A 3·15/26, B 3·6/26, C 3·5/26.
    /// Value: v_B = 50, v_A = 50/3 + 80/3 = 130/3, v_C = 65/3, V = 36.
    /// Without A: 10 → RE 13/18; without B: v_A = 80/3, v_C = 40/3, V = 16 →
    /// RE 5/9; without C: 82/3 → RE 13/54. ΣRE = 82/54: the 180 go
    /// A 180·39/82, B 180·30/82, C 180·13/82.
    fn five_journeys() -> Vec<PathCount<&'static str>> {
        let row = |path: &[&'static str], conversions: f64, value: f64| PathCount {
            path: path.to_vec(),
            conversions,
            nulls: 1.0 - conversions,
            value,
        };
        vec![
            row(&["A", "B"], 1.0, 100.0),
            row(&["A"], 1.0, 50.0),
            row(&["B"], 0.0, 0.0),
            row(&["C", "A"], 1.0, 30.0),
            row(&["C"], 0.0, 0.0),
        ]
    }

    #[test]
    fn markov_published_split_hand_computed() {
        let credit = markov_model(&five_journeys());
        let want = [
            (
                "A",
                5.0 / 6.0,
                13.0 / 18.0,
                45.0 / 26.0,
                180.0 * 39.0 / 82.0,
            ),
            ("B", 1.0 / 3.0, 5.0 / 9.0, 18.0 / 26.0, 180.0 * 30.0 / 82.0),
            (
                "C",
                5.0 / 18.0,
                13.0 / 54.0,
                15.0 / 26.0,
                180.0 * 13.0 / 82.0,
            ),
        ];
        for (c, re, re_value, conversions, value) in want {
            let got = credit[c];
            assert!((got.removal_effect - re).abs() < 1e-9, "{c}: {got:?}");
            assert!(
                (got.removal_effect_value - re_value).abs() < 1e-9,
                "{c}: {got:?}"
            );
            assert!((got.conversions - conversions).abs() < 1e-9, "{c}: {got:?}");
            assert!((got.value - value).abs() < 1e-9, "{c}: {got:?}");
        }
        // A: 1.730769, B: 0.692308, C: 0.576923 conversions; 85.61, 65.85,
        // 28.54 of value.
        assert!((credit["A"].conversions - 1.730_769).abs() < 1e-6);
        assert!((credit["C"].value - 28.536_585).abs() < 1e-6);
        // The same rows counted twice (ChannelAttribution's aggregated
        // input) give the same split of twice the totals.
        let doubled: Vec<PathCount<&str>> = five_journeys()
            .into_iter()
            .map(|r| PathCount {
                conversions: r.conversions * 2.0,
                nulls: r.nulls * 2.0,
                value: r.value * 2.0,
                ..r
            })
            .collect();
        let twice = markov_model(&doubled);
        for c in ["A", "B", "C"] {
            assert!((twice[c].conversions - 2.0 * credit[c].conversions).abs() < 1e-9);
            assert!((twice[c].removal_effect - credit[c].removal_effect).abs() < 1e-9);
        }
    }

    #[test]
    fn markov_path_hand_computed() {
        // markov_path on the five journeys: each converting journey split by
        // its own groups' removal effects (A 15/18, B 6/18, C 5/18):
        // A → B: A 15/21 = 5/7, B 2/7; A: A 1; C → A: C 5/20 = 1/4, A 3/4.
        // Sums: A 5/7 + 1 + 3/4 = 2.464286, B 0.285714, C 0.25 — not the
        // published 1.73 / 0.69 / 0.58.
        let journeys: Vec<(Vec<&str>, bool)> = five_journeys()
            .into_iter()
            .map(|r| (r.path, r.conversions > 0.0))
            .collect();
        let fx = markov_removal_effects(&journeys);
        let mut credit: HashMap<&str, f64> = HashMap::new();
        for (path, converted) in &journeys {
            if *converted {
                for (c, w) in path.iter().zip(markov_weights(path, &fx)) {
                    *credit.entry(c).or_default() += w;
                }
            }
        }
        assert!(
            (credit["A"] - (5.0 / 7.0 + 1.0 + 0.75)).abs() < 1e-9,
            "{credit:?}"
        );
        assert!((credit["B"] - 2.0 / 7.0).abs() < 1e-9, "{credit:?}");
        assert!((credit["C"] - 0.25).abs() < 1e-9, "{credit:?}");
    }

    #[test]
    fn shapley_hand_computed() {
        // Journeys: A→B conv, A conv, B null, C→A conv, C null, B conv.
        // Rates: v(A) = 1, v(B) = 1/2, v(C) = 0, v(AB) = 1, v(AC) = 1.
        // {A,B}: φ_A = ½[v(A) + v(AB) - v(B)] = ½[1 + ½] = 3/4,
        //        φ_B = ½[v(B) + v(AB) - v(A)] = ½[½ + 0] = 1/4.
        // {A,C}: φ_A = ½[1 + 1] = 1, φ_C = ½[0 + 0] = 0.
        // Credit: A 3/4 + 1 + 1 = 2.75, B 1/4 + 1 = 1.25, C 0.
        let journeys: Vec<(Vec<&str>, bool)> = vec![
            (vec!["A", "B"], true),
            (vec!["A"], true),
            (vec!["B"], false),
            (vec!["C", "A"], true),
            (vec!["C"], false),
            (vec!["B"], true),
        ];
        let mut game = CoalitionGame::default();
        for (path, converted) in &journeys {
            game.add(&coalition(path), f64::from(u8::from(*converted)), 1.0);
        }
        assert!(close(&game.shapley(&["A", "B"]), &[0.75, 0.25]));
        assert!(close(&game.shares(&["A", "C"]), &[1.0, 0.0]));
        let mut credit: HashMap<&str, f64> = HashMap::new();
        for (path, converted) in &journeys {
            if *converted {
                let members = coalition(path);
                let w = coalition_weights(path, &members, &game.shares(&members));
                for (c, w) in path.iter().zip(w) {
                    *credit.entry(c).or_default() += w;
                }
            }
        }
        assert!((credit["A"] - 2.75).abs() < 1e-9, "{credit:?}");
        assert!((credit["B"] - 1.25).abs() < 1e-9, "{credit:?}");
        assert!(credit.get("C").copied().unwrap_or(0.0).abs() < 1e-9);
        // A negative value: v(A) = 1, v(B) = 0, v(AB) = 1/2 →
        // φ_A = ½[1 + ½] = 3/4, φ_B = ½[0 - ½] = -1/4; shares 3/2, -1/2.
        let mut game = CoalitionGame::default();
        game.add(&["A"], 1.0, 1.0);
        game.add(&["B"], 0.0, 1.0);
        game.add(&["A", "B"], 1.0, 2.0);
        assert!(close(&game.shapley(&["A", "B"]), &[0.75, -0.25]));
        assert!(close(&game.shares(&["A", "B"]), &[1.5, -0.5]));
        // Repeated touches share their group's part; a 20-group journey
        // keeps its 16 latest groups.
        assert!(close(
            &coalition_weights(&["A", "B", "A"], &["A", "B"], &[0.5, 0.5]),
            &[0.25, 0.5, 0.25]
        ));
        let long: Vec<u8> = (0..20).collect();
        assert_eq!(coalition(&long), (4..20).collect::<Vec<u8>>());
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
            let data_driven = matches!(
                m,
                ModelKind::Markov | ModelKind::MarkovPath | ModelKind::Shapley
            );
            assert_eq!(m.rule(7.0, 0.4, 0.4).is_none(), data_driven);
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

        /// ChannelAttribution reads A > A > B as A > B; skvoz keeps the
        /// repeat as a self-transition. A self-loop only delays leaving a
        /// state, so no removal effect changes and the two stay comparable.
        #[test]
        fn repeats_in_a_row_change_no_removal_effect(journeys in prop::collection::vec((prop::collection::vec(0u8..4, 1..9), any::<bool>()), 1..30)) {
            let collapsed: Vec<(Vec<u8>, bool)> = journeys
                .iter()
                .map(|(p, c)| {
                    let mut p = p.clone();
                    p.dedup();
                    (p, *c)
                })
                .collect();
            let kept = markov_removal_effects(&journeys);
            let merged = markov_removal_effects(&collapsed);
            for (c, e) in &kept {
                prop_assert!((e - merged[c]).abs() < 1e-9, "{} {} {}", c, e, merged[c]);
            }
        }

        #[test]
        fn markov_credit_adds_up_to_the_totals(journeys in prop::collection::vec((prop::collection::vec(0u8..5, 1..8), 0u8..3, 0u8..3, 0u32..1000), 1..40)) {
            let rows: Vec<PathCount<u8>> = journeys
                .iter()
                .map(|(path, conv, null, value)| PathCount {
                    path: path.clone(),
                    conversions: f64::from(*conv),
                    nulls: f64::from(*null),
                    value: if *conv > 0 { f64::from(*value) } else { 0.0 },
                })
                .collect();
            let total: f64 = rows.iter().map(|r| r.conversions).sum();
            let value: f64 = rows.iter().map(|r| r.value).sum();
            let credit = markov_model(&rows);
            let got: f64 = credit.values().map(|c| c.conversions).sum();
            let got_value: f64 = credit.values().map(|c| c.value).sum();
            prop_assert!((got - total).abs() < 1e-6, "{} != {}", got, total);
            prop_assert!((got_value - value).abs() < 1e-6, "{} != {}", got_value, value);
            prop_assert!(credit.values().all(|c| c.conversions >= 0.0 && c.value >= 0.0));
        }

        #[test]
        fn shapley_shares_sum_to_one_and_symmetric_groups_get_equal_credit(
            journeys in prop::collection::vec((prop::collection::vec(0u8..5, 1..8), any::<bool>()), 1..40),
        ) {
            // Groups 5 and 6 are symmetric: wherever one is touched the other
            // is too, so every coalition holds both or neither.
            let mut game = CoalitionGame::default();
            let paths: Vec<(Vec<u8>, bool)> = journeys
                .iter()
                .map(|(p, c)| {
                    let mut p = p.clone();
                    if p[0] % 2 == 0 {
                        p.push(5);
                        p.push(6);
                    }
                    (p, *c)
                })
                .collect();
            for (p, c) in &paths {
                game.add(&coalition(p), f64::from(u8::from(*c)), 1.0);
            }
            for (p, _) in &paths {
                let members = coalition(p);
                let shares = game.shares(&members);
                prop_assert!((shares.iter().sum::<f64>() - 1.0).abs() < 1e-9, "{:?}", shares);
                let w = coalition_weights(p, &members, &shares);
                prop_assert!((w.iter().sum::<f64>() - 1.0).abs() < 1e-9, "{:?}", w);
                if let (Some(a), Some(b)) = (members.iter().position(|&m| m == 5), members.iter().position(|&m| m == 6)) {
                    prop_assert!((shares[a] - shares[b]).abs() < 1e-9, "{:?} {:?}", members, shares);
                }
            }
        }

        #[test]
        fn shapley_reads_the_game_the_same_both_ways(journeys in prop::collection::vec((prop::collection::vec(0u8..8, 1..9), any::<bool>()), 1..12)) {
            // Few coalitions: big sets read the game by its coalitions;
            // the same game padded with many empty-worth coalitions reads
            // subset by subset. Same values.
            let mut game = CoalitionGame::default();
            for (p, c) in &journeys {
                game.add(&coalition(p), f64::from(u8::from(*c)), 1.0);
            }
            let mut padded = game.clone();
            for a in 100u8..255 {
                for b in a + 1..=255 {
                    padded.add(&[a, b], 0.0, 1.0);
                }
            }
            prop_assert!(padded.journeys.len() > 1 << SHAPLEY_MAX_GROUPS.min(8));
            for (p, _) in &journeys {
                let members = coalition(p);
                let a = game.shapley(&members);
                let b = padded.shapley(&members);
                prop_assert!(close(&a, &b), "{:?} {:?} {:?}", members, a, b);
            }
        }

        #[test]
        fn shapley_with_one_group_per_journey_is_last_click(journeys in prop::collection::vec((0u8..6, 1usize..4, any::<bool>()), 1..40)) {
            let paths: Vec<(Vec<u8>, bool)> = journeys.iter().map(|&(g, n, c)| (vec![g; n], c)).collect();
            let mut game = CoalitionGame::default();
            for (p, c) in &paths {
                game.add(&coalition(p), f64::from(u8::from(*c)), 1.0);
            }
            let mut shapley: HashMap<u8, f64> = HashMap::new();
            let mut last: HashMap<u8, f64> = HashMap::new();
            for (p, c) in &paths {
                if !*c {
                    continue;
                }
                let members = coalition(p);
                for (g, w) in p.iter().zip(coalition_weights(p, &members, &game.shares(&members))) {
                    *shapley.entry(*g).or_default() += w;
                }
                let touches: Vec<Touch<u8>> = p
                    .iter()
                    .map(|&g| Touch { at: conv(), channel: g, direct: false, paid: false })
                    .collect();
                for (t, w) in touches.iter().zip(weights(Model::LastClick, &touches, conv())) {
                    *last.entry(t.channel).or_default() += w;
                }
            }
            for (g, w) in &last {
                prop_assert!((shapley.get(g).copied().unwrap_or(0.0) - w).abs() < 1e-9, "{} {:?} {:?}", g, shapley, last);
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
