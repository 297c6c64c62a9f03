//! Call tracking: number pools, reservations, target and unique calls, and
//! pool sizing — the pure rules, no I/O.
//!
//! - [`CallTrackingSettings`]: the `calltracking` section of the settings
//!   document (pools, hold time, target rule, unique window, provider
//!   secrets, substitution selectors) and its validation.
//! - [`PoolState`]: one dynamic pool's numbers and who holds them.
//!   [`PoolState::reserve`] never hands out a number held by an active
//!   visitor while a free one exists; when all are held it reuses the least
//!   recently released number and says the reservation is shared.
//! - [`is_target`], [`is_unique`]: the call rules.
//! - [`shared_count`], [`peak_concurrent`], [`recommend_size`]: how many
//!   numbers a pool needs for a given share of visits to get a number of
//!   their own, replayed from the project's own traffic.

use crate::contact::normalize_phone;
use crate::settings::{compile_rule_pattern, FieldError};
use chrono::{DateTime, Utc};
use regex::Regex;
use serde::{Deserialize, Serialize};
use std::cmp::Reverse;
use std::collections::{BTreeSet, BinaryHeap, HashSet};

/// The `calltracking` settings section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CallTrackingSettings {
    /// Number pools, dynamic and static. A visit takes a number from the
    /// first dynamic pool whose rule it matches.
    pub pools: Vec<PoolSettings>,
    /// Minutes a dynamic number stays with a visitor after the last sign of
    /// life of the page (a hit or a ping of the script).
    pub hold_minutes: u32,
    /// Which calls are target calls.
    pub target_rule: TargetRule,
    /// A call is unique when its caller did not call within this many days
    /// before; `null` means "never called before".
    pub unique_days: Option<u32>,
    /// A caller who called before keeps the visit (and so the source) of
    /// their first attributed call.
    pub repeat_caller_keeps_first_source: bool,
    /// CSS selectors of the site's phone elements the script rewrites.
    pub selectors: Vec<String>,
    /// The site's own phone numbers (any notation): the script also
    /// rewrites `tel:` links and text showing them.
    pub site_numbers: Vec<String>,
    /// Zadarma PBX webhooks.
    pub zadarma: ZadarmaSettings,
    /// Calltouch-style webhooks.
    pub calltouch: CalltouchSettings,
}

impl Default for CallTrackingSettings {
    fn default() -> Self {
        CallTrackingSettings {
            pools: Vec::new(),
            hold_minutes: 3,
            target_rule: TargetRule::default(),
            unique_days: None,
            repeat_caller_keeps_first_source: true,
            selectors: vec![".skvoz-phone".to_owned()],
            site_numbers: Vec::new(),
            zadarma: ZadarmaSettings::default(),
            calltouch: CalltouchSettings::default(),
        }
    }
}

/// Zadarma: webhooks to `/hooks/{public_key}/zadarma`, signed with the
/// account's API secret.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct ZadarmaSettings {
    /// Accept its webhooks.
    pub enabled: bool,
    /// The API key (kept for API calls; the signature uses the secret).
    pub api_key: String,
    /// The API secret that signs the `Signature` header.
    pub secret: String,
}

/// Calltouch-style webhooks to `/hooks/{public_key}/calltouch?secret=…`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct CalltouchSettings {
    /// Accept its webhooks.
    pub enabled: bool,
    /// The `secret` query parameter (Calltouch signs nothing).
    pub secret: String,
}

/// A pool of tracking numbers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PoolSettings {
    /// Short id, unique in the project (`[a-z0-9_-]`, 1-40).
    pub id: String,
    /// Dynamic (numbers handed to visits) or static (bound to a source).
    pub kind: PoolKind,
    /// The numbers, E.164 (`+74951234567`).
    pub numbers: Vec<String>,
    /// Dynamic pools: which visits get a number (all conditions must match;
    /// an empty rule matches every visit).
    #[serde(default)]
    pub rule: PoolRule,
    /// Static pools: the source calls to these numbers are attributed to.
    #[serde(default)]
    pub source: Option<String>,
    /// Static pools: the medium (default `offline`).
    #[serde(default)]
    pub medium: Option<String>,
    /// Static pools: the campaign.
    #[serde(default)]
    pub campaign: Option<String>,
    /// Dynamic pools: hold time of this pool (default the section's).
    #[serde(default)]
    pub hold_minutes: Option<u32>,
}

/// Dynamic or static.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PoolKind {
    /// Numbers handed to visits for the visit plus a hold time.
    Dynamic,
    /// Numbers printed or placed somewhere, each call going to a fixed source.
    Static,
}

/// Which visits a dynamic pool serves: regexes (whole value,
/// case-insensitive) and the "all paid traffic" switch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct PoolRule {
    /// Source regex (`yandex`).
    pub source: Option<String>,
    /// Medium regex (`cpc`).
    pub medium: Option<String>,
    /// Campaign regex.
    pub campaign: Option<String>,
    /// Channel regex (`paid search|paid social`).
    pub channel: Option<String>,
    /// Only paid traffic: a paid medium (`cpc`, `cpm`, …) or a `paid …`
    /// channel.
    pub paid: bool,
}

/// Which calls are target calls.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TargetRule {
    /// The call must have been answered.
    pub answered: bool,
    /// At least this many seconds long.
    pub min_duration: u32,
}

impl Default for TargetRule {
    fn default() -> Self {
        TargetRule {
            answered: true,
            min_duration: 30,
        }
    }
}

/// Media counted as paid by [`PoolRule::paid`].
const PAID_MEDIUM: &str =
    "cpc|ppc|cpm|cpv|cpa|paid|paidsearch|paid_search|paid-search|display|banner|retargeting|remarketing|paid_social|paid-social|paidsocial";

fn is_e164(n: &str) -> bool {
    n.len() >= 8
        && n.len() <= 16
        && n.starts_with('+')
        && n[1..].chars().all(|c| c.is_ascii_digit())
}

fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 40
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

impl CallTrackingSettings {
    /// Semantic checks; errors name the path under `calltracking`.
    pub fn validate(&self, default_region: &str) -> Result<(), FieldError> {
        let err = |path: String, msg: &str| FieldError {
            field: format!("calltracking.{path}"),
            message: msg.to_owned(),
        };
        if !(1..=60).contains(&self.hold_minutes) {
            return Err(err("hold_minutes".into(), "must be between 1 and 60"));
        }
        if self.target_rule.min_duration > 3600 {
            return Err(err(
                "target_rule.min_duration".into(),
                "at most 3600 seconds",
            ));
        }
        if let Some(d) = self.unique_days {
            if !(1..=3650).contains(&d) {
                return Err(err(
                    "unique_days".into(),
                    "must be between 1 and 3650, or null for ever",
                ));
            }
        }
        if self.selectors.len() > 20 {
            return Err(err("selectors".into(), "at most 20 selectors"));
        }
        for (i, s) in self.selectors.iter().enumerate() {
            if s.trim().is_empty() || s.len() > 200 || s.contains(['<', '>', '{', '}']) {
                return Err(err(
                    format!("selectors[{i}]"),
                    "must be a CSS selector of 1-200 characters",
                ));
            }
        }
        if self.site_numbers.len() > 20 {
            return Err(err("site_numbers".into(), "at most 20 numbers"));
        }
        for (i, n) in self.site_numbers.iter().enumerate() {
            if normalize_phone(n, default_region).is_err() {
                return Err(err(format!("site_numbers[{i}]"), "not a phone number"));
            }
        }
        if self.pools.len() > 50 {
            return Err(err("pools".into(), "at most 50 pools"));
        }
        let mut ids = HashSet::new();
        let mut numbers = HashSet::new();
        for (i, pool) in self.pools.iter().enumerate() {
            if !valid_id(&pool.id) || !ids.insert(pool.id.as_str()) {
                return Err(err(
                    format!("pools[{i}].id"),
                    "ids must be unique, 1-40 characters of [a-z0-9_-]",
                ));
            }
            if pool.numbers.is_empty() || pool.numbers.len() > 1000 {
                return Err(err(format!("pools[{i}].numbers"), "1 to 1000 numbers"));
            }
            for (j, n) in pool.numbers.iter().enumerate() {
                if !is_e164(n) {
                    return Err(err(
                        format!("pools[{i}].numbers[{j}]"),
                        "must be E.164: + and 7-15 digits",
                    ));
                }
                if !numbers.insert(n.as_str()) {
                    return Err(err(
                        format!("pools[{i}].numbers[{j}]"),
                        "a number may be in only one pool",
                    ));
                }
            }
            for (name, pattern) in [
                ("source", &pool.rule.source),
                ("medium", &pool.rule.medium),
                ("campaign", &pool.rule.campaign),
                ("channel", &pool.rule.channel),
            ] {
                if let Some(p) = pattern {
                    if let Err(e) = compile_rule_pattern(p) {
                        return Err(FieldError {
                            field: format!("calltracking.pools[{i}].rule.{name}"),
                            message: format!("invalid regular expression: {e}"),
                        });
                    }
                }
            }
            if let Some(h) = pool.hold_minutes {
                if !(1..=60).contains(&h) {
                    return Err(err(
                        format!("pools[{i}].hold_minutes"),
                        "must be between 1 and 60",
                    ));
                }
            }
            if pool.kind == PoolKind::Static
                && pool
                    .source
                    .as_deref()
                    .is_none_or(|s| s.trim().is_empty() || s.len() > 200)
            {
                return Err(err(
                    format!("pools[{i}].source"),
                    "a static pool needs the source its calls are attributed to",
                ));
            }
        }
        if self.zadarma.enabled && self.zadarma.secret.len() < 8 {
            return Err(err(
                "zadarma.secret".into(),
                "an enabled Zadarma connector needs its API secret",
            ));
        }
        if self.calltouch.enabled && self.calltouch.secret.len() < 16 {
            return Err(err(
                "calltouch.secret".into(),
                "an enabled Calltouch connector needs a secret of at least 16 characters",
            ));
        }
        Ok(())
    }

    /// The pool holding a number, with its index.
    pub fn pool_of_number(&self, number: &str) -> Option<(usize, &PoolSettings)> {
        self.pools
            .iter()
            .enumerate()
            .find(|(_, p)| p.numbers.iter().any(|n| n == number))
    }

    /// The hold time of a pool, in minutes.
    pub fn hold_of(&self, pool: &PoolSettings) -> u32 {
        pool.hold_minutes.unwrap_or(self.hold_minutes)
    }

    /// Whether any dynamic pool exists (the tracker's hot path does nothing
    /// for call tracking otherwise).
    pub fn has_dynamic(&self) -> bool {
        self.pools.iter().any(|p| p.kind == PoolKind::Dynamic)
    }
}

/// A compiled [`PoolRule`].
#[derive(Debug, Clone)]
pub struct CompiledRule {
    source: Option<Regex>,
    medium: Option<Regex>,
    campaign: Option<Regex>,
    channel: Option<Regex>,
    paid: Option<Regex>,
}

/// What a pool rule looks at in a visit.
#[derive(Debug, Clone, Copy)]
pub struct VisitTraits<'a> {
    /// Source.
    pub source: &'a str,
    /// Medium.
    pub medium: &'a str,
    /// Campaign.
    pub campaign: Option<&'a str>,
    /// Channel group.
    pub channel: &'a str,
}

impl CompiledRule {
    /// Compiles a rule (validated settings never fail here).
    pub fn new(rule: &PoolRule) -> Result<CompiledRule, regex::Error> {
        let c = |p: &Option<String>| p.as_deref().map(compile_rule_pattern).transpose();
        Ok(CompiledRule {
            source: c(&rule.source)?,
            medium: c(&rule.medium)?,
            campaign: c(&rule.campaign)?,
            channel: c(&rule.channel)?,
            paid: if rule.paid {
                Some(compile_rule_pattern(PAID_MEDIUM)?)
            } else {
                None
            },
        })
    }

    /// Whether a visit with these traits gets a number from the pool.
    pub fn matches(&self, v: VisitTraits<'_>) -> bool {
        let ok = |re: &Option<Regex>, value: &str| re.as_ref().is_none_or(|r| r.is_match(value));
        ok(&self.source, v.source)
            && ok(&self.medium, v.medium)
            && ok(&self.campaign, v.campaign.unwrap_or(""))
            && ok(&self.channel, v.channel)
            && self.paid.as_ref().is_none_or(|p| {
                p.is_match(v.medium) || v.channel.to_ascii_lowercase().starts_with("paid")
            })
    }
}

/// One holder of a number: a visit and until when (Unix ms).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hold {
    /// The visit.
    pub visit: i64,
    /// Held until (Unix ms).
    pub until: i64,
}

#[derive(Debug, Clone, Default)]
struct NumberSlot {
    holders: Vec<Hold>,
    /// When the number was last released (its latest holder's hold ended).
    free_since: i64,
}

/// The result of [`PoolState::reserve`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reservation {
    /// Index of the number in the pool.
    pub number: usize,
    /// The number is also held by another active visit.
    pub shared: bool,
}

/// One dynamic pool's numbers and their holders, in memory.
#[derive(Debug, Clone)]
pub struct PoolState {
    slots: Vec<NumberSlot>,
}

impl PoolState {
    /// A pool of `n` free numbers.
    pub fn new(n: usize) -> PoolState {
        PoolState {
            slots: vec![NumberSlot::default(); n],
        }
    }

    /// Numbers in the pool.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// Whether the pool has no numbers.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// Drops holds that ended by `now`; a number left with no holder was
    /// released when its last hold ended.
    fn prune(slot: &mut NumberSlot, now: i64) {
        if slot.holders.iter().any(|h| h.until <= now) {
            let mut released = slot.free_since;
            slot.holders.retain(|h| {
                released = released.max(h.until);
                h.until > now
            });
            if slot.holders.is_empty() {
                slot.free_since = released;
            }
        }
    }

    /// Gives `visit` a number until `until` (Unix ms): the free number
    /// released longest ago, or — when every number is held — the number
    /// whose previous release is the oldest, shared.
    pub fn reserve(&mut self, visit: i64, now: i64, until: i64) -> Reservation {
        let mut free: Option<(i64, usize)> = None;
        let mut any: Option<(i64, usize)> = None;
        for (i, slot) in self.slots.iter_mut().enumerate() {
            Self::prune(slot, now);
            let key = (slot.free_since, i);
            if slot.holders.is_empty() {
                if free.is_none_or(|f| key < f) {
                    free = Some(key);
                }
            } else if any.is_none_or(|a| key < a) {
                any = Some(key);
            }
        }
        let (number, shared) = match (free, any) {
            (Some((_, i)), _) => (i, false),
            (None, Some((_, i))) => (i, true),
            (None, None) => {
                return Reservation {
                    number: 0,
                    shared: true,
                }
            }
        };
        self.slots[number].holders.push(Hold { visit, until });
        Reservation { number, shared }
    }

    /// Extends (or, after a restart, restores) `visit`'s hold on a number.
    pub fn hold(&mut self, number: usize, visit: i64, until: i64) {
        let Some(slot) = self.slots.get_mut(number) else {
            return;
        };
        match slot.holders.iter_mut().find(|h| h.visit == visit) {
            Some(h) => h.until = h.until.max(until),
            None => slot.holders.push(Hold { visit, until }),
        }
    }

    /// Numbers held by at least one active visit at `now`.
    pub fn busy(&self, now: i64) -> usize {
        self.slots
            .iter()
            .filter(|s| s.holders.iter().any(|h| h.until > now))
            .count()
    }

    /// The active holders of a number at `now`.
    pub fn holders(&self, number: usize, now: i64) -> Vec<Hold> {
        self.slots
            .get(number)
            .map(|s| {
                s.holders
                    .iter()
                    .filter(|h| h.until > now)
                    .copied()
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// Whether a call is a target call under the rule.
pub fn is_target(rule: &TargetRule, answered: bool, duration_secs: u32) -> bool {
    (answered || !rule.answered) && duration_secs >= rule.min_duration
}

/// Whether a call at `at` is unique, given the caller's latest earlier
/// call: no earlier call, or (with a window) none within `unique_days`.
pub fn is_unique(
    previous: Option<DateTime<Utc>>,
    at: DateTime<Utc>,
    unique_days: Option<u32>,
) -> bool {
    match (previous, unique_days) {
        (None, _) => true,
        (Some(_), None) => false,
        (Some(prev), Some(days)) => at - prev >= chrono::Duration::days(i64::from(days)),
    }
}

/// How a call found its visit or source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CallAttribution {
    /// A dynamic number: the visit that held it at call time.
    Dynamic,
    /// A static number: its pool's source (an offline visit).
    Static,
    /// Nobody held the number, or it is no tracking number.
    Unidentified,
    /// A repeat caller kept the visit of their first call.
    Repeat,
}

impl CallAttribution {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            CallAttribution::Dynamic => "dynamic",
            CallAttribution::Static => "static",
            CallAttribution::Unidentified => "unidentified",
            CallAttribution::Repeat => "repeat",
        }
    }

    /// From the stored name.
    pub fn parse(s: &str) -> Option<CallAttribution> {
        Some(match s {
            "dynamic" => CallAttribution::Dynamic,
            "static" => CallAttribution::Static,
            "unidentified" => CallAttribution::Unidentified,
            "repeat" => CallAttribution::Repeat,
            _ => return None,
        })
    }
}

/// A call as a telephony connector reports it (numbers as sent; the
/// service normalizes them).
#[derive(Debug, Clone, PartialEq)]
pub struct InboundCall {
    /// `generic`, `zadarma`, `calltouch`.
    pub provider: &'static str,
    /// The sender's call id.
    pub source_id: String,
    /// Who called, as sent.
    pub caller: String,
    /// The number called, as sent.
    pub called: String,
    /// When the call started.
    pub started_at: DateTime<Utc>,
    /// Talk duration in seconds.
    pub duration: u32,
    /// Whether it was answered.
    pub answered: bool,
    /// A link to the recording.
    pub recording_url: Option<String>,
}

/// One visit's reservation span for sizing: from its first hit to its last
/// activity plus the hold time (Unix ms).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    /// Reservation start.
    pub start: i64,
    /// Reservation end.
    pub end: i64,
}

/// Most reservations active at once.
pub fn peak_concurrent(spans: &[Span]) -> usize {
    let mut edges: Vec<(i64, i32)> = Vec::with_capacity(spans.len() * 2);
    for s in spans {
        edges.push((s.start, 1));
        edges.push((s.end, -1));
    }
    // An end at the same instant as a start frees the number first.
    edges.sort_unstable();
    let (mut now, mut peak) = (0i64, 0i64);
    for (_, d) in edges {
        now += i64::from(d);
        peak = peak.max(now);
    }
    peak.max(0) as usize
}

/// How many visits would get a shared number from a pool of `n` numbers,
/// replaying `spans` in start order with exactly [`PoolState`]'s rule (a
/// shared visit joins the busy number released longest ago and keeps it
/// busy until its own end), in O(log n) per visit.
pub fn shared_count(spans: &[Span], n: usize) -> usize {
    let mut order: Vec<&Span> = spans.iter().collect();
    order.sort_by_key(|s| (s.start, s.end));
    // Per number: busy until, released at.
    let mut until = vec![0i64; n];
    let mut free_since = vec![0i64; n];
    let mut free: BTreeSet<(i64, usize)> = (0..n).map(|i| (0, i)).collect();
    let mut busy: BTreeSet<(i64, usize)> = BTreeSet::new();
    let mut ends: BinaryHeap<Reverse<(i64, usize)>> = BinaryHeap::new();
    let mut shared = 0;
    for s in order {
        while let Some(&Reverse((end, i))) = ends.peek() {
            if end > s.start {
                break;
            }
            ends.pop();
            // A stale entry: the number was extended since.
            if until[i] == end && busy.remove(&(free_since[i], i)) {
                free_since[i] = end;
                free.insert((end, i));
            }
        }
        if let Some((_, i)) = free.pop_first() {
            until[i] = s.end;
            busy.insert((free_since[i], i));
            ends.push(Reverse((s.end, i)));
        } else if let Some(&(_, i)) = busy.first() {
            shared += 1;
            if s.end > until[i] {
                until[i] = s.end;
                ends.push(Reverse((s.end, i)));
            }
        } else {
            shared += 1;
        }
    }
    shared
}

/// A pool size recommendation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Sizing {
    /// Visits replayed.
    pub visits: usize,
    /// Most reservations active at once.
    pub peak_concurrent: usize,
    /// Fewest numbers for which at most `target_shared_rate` of visits
    /// would share a number.
    pub recommended: usize,
    /// The target share of shared visits.
    pub target_shared_rate: f64,
    /// Share of visits that would share a number with the pool's current
    /// size.
    pub predicted_shared_rate: f64,
}

/// The smallest pool for which at most `max_rate` of the visits in `spans`
/// share a number, found by replay (the shared count only falls as the
/// pool grows, so a binary search between 0 and the peak finds it).
pub fn recommend_size(spans: &[Span], current: usize, max_rate: f64) -> Sizing {
    let peak = peak_concurrent(spans);
    let allowed = (spans.len() as f64 * max_rate).floor() as usize;
    let (mut lo, mut hi) = (0usize, peak);
    while lo < hi {
        let mid = (lo + hi) / 2;
        if shared_count(spans, mid) <= allowed {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    let rate = |shared: usize| {
        if spans.is_empty() {
            0.0
        } else {
            shared as f64 / spans.len() as f64
        }
    };
    Sizing {
        visits: spans.len(),
        peak_concurrent: peak,
        recommended: lo.max(usize::from(!spans.is_empty())),
        target_shared_rate: max_rate,
        predicted_shared_rate: rate(shared_count(spans, current)),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn settings(v: serde_json::Value) -> Result<CallTrackingSettings, FieldError> {
        let s: CallTrackingSettings = serde_json::from_value(v).map_err(|e| FieldError {
            field: String::new(),
            message: e.to_string(),
        })?;
        s.validate("RU")?;
        Ok(s)
    }

    #[test]
    fn defaults_are_documented_values() {
        let s = CallTrackingSettings::default();
        assert_eq!(s.hold_minutes, 3);
        assert_eq!(
            s.target_rule,
            TargetRule {
                answered: true,
                min_duration: 30
            }
        );
        assert_eq!(s.unique_days, None);
        assert!(s.repeat_caller_keeps_first_source);
        s.validate("RU").unwrap();
    }

    #[test]
    fn validation_names_the_field() {
        let cases = [
            (
                json!({"pools": [{"id": "a", "kind": "dynamic", "numbers": ["84951234567"]}]}),
                "calltracking.pools[0].numbers[0]",
            ),
            (
                json!({"pools": [{"id": "a", "kind": "dynamic", "numbers": ["+74951234567"]}, {"id": "a", "kind": "dynamic", "numbers": ["+74951234568"]}]}),
                "calltracking.pools[1].id",
            ),
            (
                json!({"pools": [{"id": "a", "kind": "dynamic", "numbers": ["+74951234567"]}, {"id": "b", "kind": "dynamic", "numbers": ["+74951234567"]}]}),
                "calltracking.pools[1].numbers[0]",
            ),
            (
                json!({"pools": [{"id": "a", "kind": "static", "numbers": ["+74951234567"]}]}),
                "calltracking.pools[0].source",
            ),
            (
                json!({"pools": [{"id": "a", "kind": "dynamic", "numbers": ["+74951234567"], "rule": {"medium": "(("}}]}),
                "calltracking.pools[0].rule.medium",
            ),
            (json!({"hold_minutes": 0}), "calltracking.hold_minutes"),
            (json!({"unique_days": 0}), "calltracking.unique_days"),
            (
                json!({"zadarma": {"enabled": true}}),
                "calltracking.zadarma.secret",
            ),
            (
                json!({"calltouch": {"enabled": true, "secret": "short"}}),
                "calltracking.calltouch.secret",
            ),
            (
                json!({"site_numbers": ["call us"]}),
                "calltracking.site_numbers[0]",
            ),
        ];
        for (doc, path) in cases {
            let e = settings(doc.clone()).expect_err("must fail");
            assert_eq!(e.field, path, "{doc}: {e:?}");
        }
    }

    #[test]
    fn rules_match_source_medium_and_paid() {
        let yandex = CompiledRule::new(&PoolRule {
            source: Some("yandex".into()),
            medium: Some("cpc".into()),
            ..Default::default()
        })
        .unwrap();
        let t = |source, medium, channel| VisitTraits {
            source,
            medium,
            campaign: None,
            channel,
        };
        assert!(yandex.matches(t("Yandex", "cpc", "paid search")));
        assert!(!yandex.matches(t("yandex", "organic", "organic search")));
        assert!(
            !yandex.matches(t("yandex.ru", "cpc", "paid search")),
            "whole value"
        );
        let paid = CompiledRule::new(&PoolRule {
            paid: true,
            ..Default::default()
        })
        .unwrap();
        assert!(paid.matches(t("google", "cpc", "paid search")));
        assert!(paid.matches(t("vk", "post", "paid social")));
        assert!(!paid.matches(t("(direct)", "(none)", "direct")));
        let all = CompiledRule::new(&PoolRule::default()).unwrap();
        assert!(all.matches(t("(direct)", "(none)", "direct")));
    }

    #[test]
    fn reserve_prefers_free_and_least_recently_released() {
        let mut p = PoolState::new(2);
        let a = p.reserve(1, 0, 100);
        let b = p.reserve(2, 10, 50);
        assert_ne!(a.number, b.number);
        assert!(!a.shared && !b.shared);
        // Both held: the third visit shares; released-longest-ago (both
        // never released, so the first) is reused.
        let c = p.reserve(3, 20, 200);
        assert!(c.shared);
        // At 60 visit 2's number is free again and is preferred.
        let d = p.reserve(4, 60, 300);
        assert_eq!(
            d,
            Reservation {
                number: b.number,
                shared: false
            }
        );
        assert_eq!(p.busy(60), 2);
        // Visit 1 extends; at 150 visit 1's number is still busy.
        p.hold(a.number, 1, 400);
        assert_eq!(p.holders(a.number, 150).len(), 2);
    }

    #[test]
    fn least_recently_released_free_number_goes_first() {
        let mut p = PoolState::new(3);
        let x = p.reserve(1, 0, 10).number;
        let y = p.reserve(2, 0, 20).number;
        let z = p.reserve(3, 0, 30).number;
        // All free at 40; released at 10, 20, 30: the one freed at 10 first.
        assert_eq!(p.reserve(4, 40, 100).number, x);
        assert_eq!(p.reserve(5, 40, 100).number, y);
        assert_eq!(p.reserve(6, 40, 100).number, z);
    }

    #[test]
    fn target_and_unique_rules() {
        let rule = TargetRule::default();
        assert!(is_target(&rule, true, 30));
        assert!(!is_target(&rule, true, 29));
        assert!(!is_target(&rule, false, 120));
        let any = TargetRule {
            answered: false,
            min_duration: 0,
        };
        assert!(is_target(&any, false, 0));
        let t = |d: i64| DateTime::<Utc>::from_timestamp(d * 86_400, 0).unwrap();
        assert!(is_unique(None, t(10), None));
        assert!(!is_unique(Some(t(0)), t(1000), None));
        assert!(is_unique(Some(t(0)), t(30), Some(30)));
        assert!(!is_unique(Some(t(0)), t(29), Some(30)));
    }

    #[test]
    fn sizing_by_hand() {
        // Three overlapping, one later: peak 3; with 2 numbers one shares.
        let spans = [
            Span { start: 0, end: 10 },
            Span { start: 1, end: 10 },
            Span { start: 2, end: 10 },
            Span { start: 10, end: 20 },
        ];
        assert_eq!(peak_concurrent(&spans), 3);
        assert_eq!(shared_count(&spans, 3), 0);
        assert_eq!(shared_count(&spans, 2), 1);
        assert_eq!(shared_count(&spans, 0), 4);
        let s = recommend_size(&spans, 2, 0.0);
        assert_eq!(s.recommended, 3);
        assert_eq!(s.predicted_shared_rate, 0.25);
        assert_eq!(recommend_size(&spans, 2, 0.25).recommended, 2);
        assert_eq!(recommend_size(&[], 5, 0.01).recommended, 0);
    }

    fn spans() -> impl Strategy<Value = Vec<Span>> {
        prop::collection::vec((0i64..5_000, 1i64..600), 0..300).prop_map(|v| {
            v.into_iter()
                .map(|(start, len)| Span {
                    start,
                    end: start + len,
                })
                .collect()
        })
    }

    proptest! {
        /// The fast replay agrees with the real pool.
        #[test]
        fn shared_count_matches_pool_state(spans in spans(), n in 1usize..20) {
            let mut order = spans.clone();
            order.sort_by_key(|s| (s.start, s.end));
            let mut pool = PoolState::new(n);
            let mut shared = 0;
            for (i, s) in order.iter().enumerate() {
                if pool.reserve(i as i64, s.start, s.end).shared {
                    shared += 1;
                }
            }
            prop_assert_eq!(shared, shared_count(&spans, n));
        }

        /// A free number is never left while a visit gets a shared one,
        /// and no number is ever held twice while another is free.
        #[test]
        fn never_shares_while_a_number_is_free(spans in spans(), n in 1usize..10) {
            let mut order = spans.clone();
            order.sort_by_key(|s| (s.start, s.end));
            let mut pool = PoolState::new(n);
            for (i, s) in order.iter().enumerate() {
                let free_before = n - pool.busy(s.start);
                let r = pool.reserve(i as i64, s.start, s.end);
                prop_assert_eq!(r.shared, free_before == 0);
            }
        }

        /// The recommendation meets the target and one number fewer does not.
        #[test]
        fn recommendation_is_the_smallest(spans in spans(), rate in 0.0f64..0.2) {
            let s = recommend_size(&spans, 1, rate);
            let allowed = (spans.len() as f64 * rate).floor() as usize;
            prop_assert!(shared_count(&spans, s.recommended) <= allowed);
            if s.recommended > 1 {
                prop_assert!(shared_count(&spans, s.recommended - 1) > allowed);
            }
            prop_assert!(s.recommended <= s.peak_concurrent.max(1));
        }
    }
}
