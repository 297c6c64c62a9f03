//! The report engine: one pass over a project's index that adds up, per
//! group (the requested dimensions) and per time bucket (the whole period
//! for the channel report; days, weeks, months or quarters for dynamics):
//! traffic (visits, distinct visitors), spend, and what every requested
//! attribution model credits to the group — leads by kind, deals, sales,
//! revenue, profit.
//!
//! A conversion's journey is its contact's visits (across every visitor id
//! of the contact) within the lookback window, up to the lead's visit; a
//! deal or a sale follows its first lead (or the visit its CRM named). A
//! conversion with no visit at all is credited to the `(unattributed)`
//! group, so every model's credit adds up to the period's conversions.
//!
//! The data-driven models first look at every journey of the period: per
//! conversion type, a Markov chain and a coalition game over the groups
//! (`DataDriven`, visitors' identical paths added up once). `markov_path`
//! and `shapley` then weigh each journey's touches; `markov` adds each
//! type's conversions up and hands the total to the groups by their shares
//! of the removal effects (`MarkovSplit`). `paths` exports the same
//! journeys in ChannelAttribution's input shape.

use super::index::{Crm, Dims, ProjectIndex, Visits};
use skvoz_domain::attribution::{self, CoalitionGame, MarkovChain, ModelKind, Touch};
use skvoz_domain::crm::{DealStatus, LeadKind};
use skvoz_domain::settings::AttributionSettings;
use skvoz_domain::traffic::{ChannelClassifier, TrafficSource};
use std::collections::HashMap;

/// The name every dimension of the unattributed group shows.
pub const UNATTRIBUTED: &str = "(unattributed)";

/// A report dimension (`group_by`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dim {
    /// Channel group.
    Channel,
    /// Source.
    Source,
    /// Medium.
    Medium,
    /// Campaign.
    Campaign,
    /// Ad (`utm_content`).
    Ad,
    /// Keyword (`utm_term`).
    Keyword,
}

impl Dim {
    /// Every dimension, in drill-down order.
    pub const ALL: [Dim; 6] = [
        Dim::Channel,
        Dim::Source,
        Dim::Medium,
        Dim::Campaign,
        Dim::Ad,
        Dim::Keyword,
    ];

    /// The API.md name.
    pub fn as_str(self) -> &'static str {
        match self {
            Dim::Channel => "channel",
            Dim::Source => "source",
            Dim::Medium => "medium",
            Dim::Campaign => "campaign",
            Dim::Ad => "ad",
            Dim::Keyword => "keyword",
        }
    }

    /// By name.
    pub fn parse(name: &str) -> Option<Dim> {
        Dim::ALL.into_iter().find(|d| d.as_str() == name)
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// How attributed credit is dated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateMode {
    /// On the conversion's date (a sale on its `closed_at`).
    Conversion,
    /// On the date of the session that earned it.
    Session,
}

impl DateMode {
    /// The API name.
    pub fn as_str(self) -> &'static str {
        match self {
            DateMode::Conversion => "conversion",
            DateMode::Session => "session",
        }
    }
}

/// Traffic and spend of a cell (not attributed: every visit and cost row
/// belongs to exactly one group).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Traffic {
    /// Visits started in the cell.
    pub visits: f64,
    /// Distinct visitors of those visits.
    pub visitors: f64,
    /// Spend (minor units).
    pub cost: f64,
    /// Ad clicks.
    pub clicks: f64,
    /// Ad impressions.
    pub impressions: f64,
    /// Calls (by the visit that held the number; static numbers' offline
    /// visits; unidentified calls in the unattributed group).
    pub calls: f64,
    /// Target calls.
    pub target_calls: f64,
    /// Unique calls.
    pub unique_calls: f64,
    /// Missed (unanswered) calls.
    pub missed_calls: f64,
}

/// What one model credits to a cell.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Attributed {
    /// Leads of every kind.
    pub leads: f64,
    /// Leads by kind: form, call, chat, ticket, e-mail.
    pub by_kind: [f64; 5],
    /// Deals created.
    pub deals: f64,
    /// Won deals (sales).
    pub sales: f64,
    /// Revenue of the sales (minor units).
    pub revenue: f64,
    /// Profit of the sales that have one (minor units).
    pub profit: f64,
    /// Sales whose profit is known.
    pub profit_sales: f64,
}

/// What the engine is asked.
pub struct EngineQuery<'a> {
    /// Bucket boundaries in Unix ms: bucket `i` is `[b[i], b[i+1])`; the
    /// period is `[b[0], b[last])`.
    pub boundaries: &'a [i64],
    /// Bucket boundaries as project days (same length): cost days are
    /// bucketed by these.
    pub day_boundaries: &'a [chrono::NaiveDate],
    /// Dimensions to group by (none: one group).
    pub group_by: &'a [Dim],
    /// Models, the first being the primary one.
    pub models: &'a [ModelKind],
    /// Dating of credit.
    pub date_mode: DateMode,
    /// Lookback and model parameters.
    pub attribution: &'a AttributionSettings,
    /// The project's channel rules (for cost rows).
    pub channels: &'a ChannelClassifier,
    /// The settings version `channels` come from.
    pub settings_version: i64,
    /// For the funnel: the pipeline's open and won stages in order (lower
    /// case); deals counted by the primary model are credited to every
    /// stage up to the furthest they reached.
    pub funnel_stages: Option<&'a [String]>,
}

/// The engine's result: cells are `group * buckets + bucket`.
#[derive(Debug, Default)]
pub struct Aggregates {
    /// Each group's dimension values, in `group_by` order.
    pub groups: Vec<Vec<String>>,
    /// Number of buckets.
    pub buckets: usize,
    /// Traffic per cell.
    pub traffic: Vec<Traffic>,
    /// Per model (in query order), credit per cell.
    pub attributed: Vec<Vec<Attributed>>,
    /// Distinct visitors of each bucket over all groups.
    pub bucket_visitors: Vec<f64>,
    /// Distinct visitors of the whole period.
    pub period_visitors: f64,
    /// The Markov chain had more states than it solves (credit then falls
    /// back to equal shares).
    pub markov_truncated: bool,
    /// Funnel: per group, deals (primary model) that reached each stage.
    pub funnel: Vec<Vec<f64>>,
}

/// One conversion and its journey (`touches` into the touch pool).
#[derive(Debug, Clone)]
struct Conversion {
    kind: ConversionKind,
    /// The deal (index in the CRM facts) of a deal conversion.
    deal: Option<usize>,
    at: i64,
    touches: std::ops::Range<usize>,
    revenue: f64,
    profit: Option<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ConversionKind {
    Lead(LeadKind),
    Deal,
    Sale,
}

impl ConversionKind {
    /// Markov chains are solved per conversion type.
    fn chain(self) -> usize {
        match self {
            ConversionKind::Lead(_) => 0,
            ConversionKind::Deal => 1,
            ConversionKind::Sale => 2,
        }
    }
}

/// Every conversion of a project (leads, deals, sales) with its journey,
/// for one set of CRM facts and one lookback window. Built once and kept
/// while the visits that arrive since cannot change any journey: a new
/// visit joins a journey only when its visitor belongs to a converting
/// contact and it started before that contact's latest conversion (a
/// history import), or when it is a visit a lead or deal names that was
/// not there yet.
#[derive(Debug)]
pub(crate) struct Journeys {
    lookback_ms: i64,
    /// [`Visits::layout`] the positions in `pool` belong to.
    layout: u64,
    /// Visits the journeys were checked against.
    visits_len: usize,
    conversions: Vec<Conversion>,
    /// Journeys' visits (positions in the columns), each in time order.
    pool: Vec<u32>,
    /// Visitor key of a converting contact → the latest moment one of its
    /// journeys ends.
    watch_keys: rustc_hash::FxHashMap<u64, i64>,
    /// Visits named by a lead or deal that the index does not hold yet.
    watch_ids: rustc_hash::FxHashSet<i64>,
}

impl Journeys {
    /// Whether these journeys still hold for `visits` (and take note of
    /// the visits checked).
    fn still_valid(&mut self, visits: &Visits, lookback_ms: i64) -> bool {
        if self.lookback_ms != lookback_ms || self.layout != visits.layout {
            return false;
        }
        let n = visits.ids.len();
        if n < self.visits_len {
            return false;
        }
        for p in self.visits_len..n {
            let key = visits.key_of(visits.visitor[p]);
            if self
                .watch_keys
                .get(&key)
                .is_some_and(|&until| visits.at[p] <= until)
                || self.watch_ids.contains(&visits.ids[p])
            {
                return false;
            }
        }
        self.visits_len = n;
        true
    }

    /// Builds every conversion's journey.
    fn build(visits: &Visits, crm: &Crm, lookback_ms: i64) -> Journeys {
        let by = visits.by_visitor();
        let at = &visits.at;
        let mut out = Journeys {
            lookback_ms,
            layout: visits.layout,
            visits_len: visits.ids.len(),
            conversions: Vec::with_capacity(crm.leads.len() + crm.deals.len() * 2),
            pool: Vec::new(),
            watch_keys: rustc_hash::FxHashMap::default(),
            watch_ids: rustc_hash::FxHashSet::default(),
        };
        let Journeys {
            pool,
            watch_keys,
            watch_ids,
            conversions,
            ..
        } = &mut out;
        let mut journey = |contact: Option<i64>, visit: Option<i64>, until: i64| {
            let begin = pool.len();
            let lower = until - lookback_ms;
            // The contact's visits: every visit of each of its visitors.
            if let Some(keys) = contact.and_then(|c| crm.contact_visitors.get(&c)) {
                for &key in keys {
                    let latest = watch_keys.entry(key).or_insert(i64::MIN);
                    *latest = (*latest).max(until);
                    let Some(v) = visits.visitor_of(key) else {
                        continue;
                    };
                    for k in by.range(v as usize) {
                        let t = by.at[k];
                        if t > until {
                            break;
                        }
                        if t >= lower {
                            pool.push(by.list[k]);
                        }
                    }
                }
            }
            if let Some(id) = visit {
                match visits.position(id) {
                    Some(i) if at[i] <= until && at[i] >= lower => pool.push(i as u32),
                    Some(_) => {}
                    None => {
                        watch_ids.insert(id);
                    }
                }
            }
            let slice = &mut pool[begin..];
            if slice.len() > 1 {
                slice.sort_unstable_by_key(|&i| (at[i as usize], i));
                let mut w = begin + 1;
                for r in begin + 1..pool.len() {
                    if pool[r] != pool[w - 1] {
                        pool[w] = pool[r];
                        w += 1;
                    }
                }
                pool.truncate(w);
            }
            begin..pool.len()
        };
        let visit_time = |id: Option<i64>| id.and_then(|id| visits.position(id)).map(|i| at[i]);
        let mut lead_touches: HashMap<i64, std::ops::Range<usize>> =
            HashMap::with_capacity(crm.leads.len());
        for lead in &crm.leads {
            let created = lead.created_at.timestamp_millis();
            let until = visit_time(lead.visit_id).unwrap_or(created);
            let touches = journey(lead.contact_id, lead.visit_id, until);
            lead_touches.insert(lead.id, touches.clone());
            conversions.push(Conversion {
                kind: ConversionKind::Lead(lead.kind),
                deal: None,
                at: created,
                touches,
                revenue: 0.0,
                profit: None,
            });
        }
        for (deal_index, deal) in crm.deals.iter().enumerate() {
            let created = deal.created_at.timestamp_millis();
            let touches = match deal.lead_id.and_then(|l| lead_touches.get(&l)) {
                Some(t) if deal.visit_id.is_none() => t.clone(),
                _ => {
                    let until = visit_time(deal.visit_id).unwrap_or(created);
                    journey(deal.contact_id, deal.visit_id, until)
                }
            };
            conversions.push(Conversion {
                kind: ConversionKind::Deal,
                deal: Some(deal_index),
                at: created,
                touches: touches.clone(),
                revenue: 0.0,
                profit: None,
            });
            if deal.status == DealStatus::Won {
                conversions.push(Conversion {
                    kind: ConversionKind::Sale,
                    deal: None,
                    at: deal.closed_at.unwrap_or(deal.created_at).timestamp_millis(),
                    touches,
                    revenue: deal.revenue.0 as f64,
                    profit: deal.profit.map(|p| p.0 as f64),
                });
            }
        }
        out
    }
}

/// Which group each interned dimension set falls in, for one `group_by`
/// over the first `dims` dimension sets.
#[derive(Debug, Default)]
pub(crate) struct Grouping {
    group_by: Vec<Dim>,
    dims: usize,
    /// Group of each dimension set.
    group_of: Vec<u32>,
    /// Each group's dimension values.
    groups: Vec<Vec<String>>,
}

impl Grouping {
    fn build(dims: &[Dims], group_by: &[Dim]) -> Grouping {
        let mut group_ids: HashMap<Vec<&str>, u32> = HashMap::new();
        let mut groups: Vec<Vec<String>> = Vec::new();
        let group_of = dims
            .iter()
            .map(|d| {
                let key: Vec<&str> = group_by.iter().map(|g| &*d.values[g.index()]).collect();
                let next = groups.len() as u32;
                *group_ids.entry(key).or_insert_with(|| {
                    groups.push(
                        group_by
                            .iter()
                            .map(|g| d.values[g.index()].to_string())
                            .collect(),
                    );
                    next
                })
            })
            .collect();
        Grouping {
            group_by: group_by.to_vec(),
            dims: dims.len(),
            group_of,
            groups,
        }
    }
}

/// Groupings kept for the last few `group_by`s asked.
const GROUPINGS_KEPT: usize = 8;

fn kind_slot(kind: LeadKind) -> usize {
    match kind {
        LeadKind::Form => 0,
        LeadKind::Call => 1,
        LeadKind::Chat => 2,
        LeadKind::Ticket => 3,
        LeadKind::Email => 4,
    }
}

/// Runs the engine.
pub(crate) fn run(index: &mut ProjectIndex, q: &EngineQuery<'_>) -> Aggregates {
    let nb = q.boundaries.len().saturating_sub(1).max(1);
    let start = q.boundaries.first().copied().unwrap_or(0);
    let end = q.boundaries.last().copied().unwrap_or(0);
    let bucket_of = |t: i64| -> Option<usize> {
        if t < start || t >= end {
            return None;
        }
        Some(
            q.boundaries
                .partition_point(|&b| b <= t)
                .saturating_sub(1)
                .min(nb - 1),
        )
    };

    // Cost rows get their dimensions interned like visits' (their channel by
    // the project's rules) once per settings version.
    if index
        .crm
        .cost_dims
        .as_ref()
        .is_none_or(|(v, _)| *v != q.settings_version)
    {
        let dims: Vec<u32> = index
            .crm
            .costs
            .iter()
            .map(|c| {
                let k = &c.key;
                let source = TrafficSource {
                    source: k.source.clone(),
                    medium: k.medium.clone(),
                    campaign: (!k.campaign.is_empty()).then(|| k.campaign.clone()),
                    content: (!k.ad.is_empty()).then(|| k.ad.clone()),
                    term: (!k.keyword.is_empty()).then(|| k.keyword.clone()),
                    ..TrafficSource::default()
                };
                let channel = q.channels.classify(&source, "");
                index.visits.intern_dims([
                    channel,
                    &k.source,
                    &k.medium,
                    &k.campaign,
                    &k.ad,
                    &k.keyword,
                ])
            })
            .collect();
        index.crm.cost_dims = Some((q.settings_version, dims));
    }
    let mut cost_cells: Vec<(u32, usize, f64, f64, f64)> = Vec::new();
    if let (Some(first_day), Some(end_day), Some((_, cost_dims))) = (
        q.day_boundaries.first().copied(),
        q.day_boundaries.last().copied(),
        index.crm.cost_dims.as_ref(),
    ) {
        for (c, &dim) in index.crm.costs.iter().zip(cost_dims) {
            if c.day < first_day || c.day >= end_day {
                continue;
            }
            let b = q
                .day_boundaries
                .partition_point(|&d| d <= c.day)
                .saturating_sub(1)
                .min(nb - 1);
            cost_cells.push((
                dim,
                b,
                c.cost.0 as f64,
                c.clicks as f64,
                c.impressions as f64,
            ));
        }
    }

    let grouping = take_grouping(index, q.group_by);
    let mut groups = grouping.groups.clone();
    let group_of: &[u32] = &grouping.group_of;
    let unattributed = if q.group_by.is_empty() {
        if groups.is_empty() {
            groups.push(Vec::new());
        }
        0
    } else {
        groups.push(vec![UNATTRIBUTED.to_owned(); q.group_by.len()]);
        (groups.len() - 1) as u32
    };
    let ng = groups.len();
    let mut out = Aggregates {
        buckets: nb,
        traffic: vec![Traffic::default(); ng * nb],
        attributed: vec![vec![Attributed::default(); ng * nb]; q.models.len()],
        bucket_visitors: vec![0.0; nb],
        ..Aggregates::default()
    };
    for (dim, b, cost, clicks, impressions) in cost_cells {
        let t = &mut out.traffic[group_of[dim as usize] as usize * nb + b];
        t.cost += cost;
        t.clicks += clicks;
        t.impressions += impressions;
    }

    let journeys = take_journeys(index, q.attribution.lookback_days);

    // Traffic: visits and distinct visitors per cell, visitor by visitor.
    let ProjectIndex { visits, crm, .. } = &*index;
    let (at, dim) = (&visits.at, &visits.dim);
    let by = visits.by_visitor();
    let nvisitors = by.visitors();
    let mut seen_cells: Vec<usize> = Vec::new();
    let mut seen_buckets: Vec<usize> = Vec::new();
    for v in 0..nvisitors {
        seen_cells.clear();
        seen_buckets.clear();
        let mut any = false;
        for k in by.range(v) {
            let Some(b) = bucket_of(by.at[k]) else {
                continue;
            };
            let cell = group_of[by.dim[k] as usize] as usize * nb + b;
            out.traffic[cell].visits += 1.0;
            if !seen_cells.contains(&cell) {
                seen_cells.push(cell);
                out.traffic[cell].visitors += 1.0;
            }
            if !seen_buckets.contains(&b) {
                seen_buckets.push(b);
                out.bucket_visitors[b] += 1.0;
            }
            any = true;
        }
        if any {
            out.period_visitors += 1.0;
        }
    }

    // Calls: counted in their visit's group, like visits.
    for &(visit, at_ms, answered, target, unique) in &crm.calls {
        let Some(b) = bucket_of(at_ms) else { continue };
        let g = visit
            .and_then(|v| visits.position(v))
            .map_or(unattributed, |i| group_of[dim[i] as usize]);
        let t = &mut out.traffic[g as usize * nb + b];
        t.calls += 1.0;
        t.target_calls += f64::from(u8::from(target));
        t.unique_calls += f64::from(u8::from(unique));
        t.missed_calls += f64::from(u8::from(!answered));
    }

    // Conversions and their journeys.
    let Journeys {
        conversions, pool, ..
    } = &journeys;
    // Which conversions the period counts.
    let included = |c: &Conversion| match q.date_mode {
        DateMode::Conversion => c.at >= start && c.at < end,
        DateMode::Session => {
            if c.touches.is_empty() {
                c.at >= start && c.at < end
            } else {
                pool[c.touches.clone()]
                    .iter()
                    .any(|&i| at[i as usize] >= start && at[i as usize] < end)
            }
        }
    };
    let counted: Vec<usize> = (0..conversions.len())
        .filter(|&i| included(&conversions[i]))
        .collect();

    // Data-driven models (markov, markov_path, shapley): per conversion
    // type, a chain and a coalition game over the period's journeys — the
    // converting ones, and every other visitor's visits of the period as a
    // journey that did not convert.
    let data_driven = DataDriven::build(
        q,
        &DataDrivenInput {
            conversions,
            counted: &counted,
            pool,
            visits,
            group_of,
            bucket_of: &bucket_of,
        },
    );
    out.markov_truncated = data_driven.truncated;

    // How far each deal got down the funnel.
    let reached: Vec<Option<usize>> = match q.funnel_stages {
        None => Vec::new(),
        Some(stages) => {
            let stage_index = |name: &str| {
                stages
                    .iter()
                    .position(|s| s.eq_ignore_ascii_case(name.trim()))
            };
            let by_id: HashMap<i64, usize> = crm
                .deals
                .iter()
                .enumerate()
                .map(|(i, d)| (d.id, i))
                .collect();
            let mut reached: Vec<Option<usize>> = crm
                .deals
                .iter()
                .map(|d| stage_index(&d.stage).or(Some(0)))
                .collect();
            for h in &crm.stages {
                if let (Some(&d), Some(i)) = (by_id.get(&h.deal_id), stage_index(&h.stage)) {
                    reached[d] = reached[d].max(Some(i));
                }
            }
            reached
        }
    };
    let nstages = q.funnel_stages.map_or(0, <[String]>::len);
    let mut funnel = vec![vec![0.0f64; nstages]; ng];

    // Credit.
    let half_life = q.attribution.time_decay_half_life_days;
    let (first, last) = (q.attribution.position_first, q.attribution.position_last);
    let mut touches: Vec<Touch<u32>> = Vec::new();
    let mut weights: Vec<f64> = Vec::new();
    let mut shapley_cache: [HashMap<Vec<u32>, Vec<f64>>; 3] = Default::default();
    for (m, model) in q.models.iter().enumerate() {
        let acc = &mut out.attributed[m];
        // The published Markov split: conversions are first added up (per
        // conversion type, per bucket), then handed to the groups.
        let mut split = (*model == ModelKind::Markov).then(|| MarkovSplit::new(nb, ng, nstages));
        for &ci in &counted {
            let c = &conversions[ci];
            let journey = &pool[c.touches.clone()];
            let unit = unit_credit(c);
            let stage = c.deal.and_then(|d| reached.get(d).copied().flatten());
            let mut credit = |cell: usize, w: f64| {
                if m == 0 && nstages > 0 {
                    if let Some(r) = stage {
                        for f in &mut funnel[cell / nb][..=r.min(nstages - 1)] {
                            *f += w;
                        }
                    }
                }
                add_scaled(&mut acc[cell], &unit, w, w);
            };
            if journey.is_empty() {
                if let Some(b) = bucket_of(c.at) {
                    credit(unattributed as usize * nb + b, 1.0);
                }
                continue;
            }
            let chain = c.kind.chain();
            if let Some(split) = split.as_mut() {
                if data_driven.shares[chain].is_some() {
                    let groups = journey.iter().map(|&i| group_of[dim[i as usize] as usize]);
                    match q.date_mode {
                        DateMode::Conversion => {
                            if let Some(b) = bucket_of(c.at) {
                                split.add(chain, b, &unit, stage, groups);
                            }
                        }
                        DateMode::Session => split.add(chain, 0, &unit, stage, groups),
                    }
                    continue;
                }
            }
            touches.clear();
            touches.extend(journey.iter().map(|&i| {
                let d = &visits.dims[dim[i as usize] as usize];
                Touch {
                    at: chrono::DateTime::from_timestamp_millis(at[i as usize]).unwrap_or_default(),
                    channel: group_of[dim[i as usize] as usize],
                    direct: d.direct,
                    paid: d.paid,
                }
            }));
            weights.clear();
            match (model.rule(half_life, first, last), *model) {
                (Some(rule), _) => {
                    let at_conv = chrono::DateTime::from_timestamp_millis(c.at).unwrap_or_default();
                    weights.extend(attribution::weights(rule, &touches, at_conv));
                }
                (None, ModelKind::MarkovPath) if !data_driven.effects[chain].is_empty() => {
                    weights.extend(markov_split(&touches, &data_driven.effects[chain]));
                }
                (None, ModelKind::Shapley) => {
                    let path: Vec<u32> = touches.iter().map(|t| t.channel).collect();
                    let members = attribution::coalition(&path);
                    // One Shapley computation per distinct set of groups.
                    let cache = &mut shapley_cache[chain];
                    if !cache.contains_key(&members) {
                        let shares = data_driven.games[chain].shares(&members);
                        cache.insert(members.clone(), shares);
                    }
                    if let Some(shares) = cache.get(&members) {
                        weights.extend(attribution::coalition_weights(&path, &members, shares));
                    }
                }
                // Markov when its chain could not be solved: equal shares.
                (None, _) => weights.extend(std::iter::repeat_n(
                    1.0 / touches.len() as f64,
                    touches.len(),
                )),
            }
            for (t, &w) in touches.iter().zip(&weights) {
                if w == 0.0 {
                    continue;
                }
                let when = match q.date_mode {
                    DateMode::Conversion => c.at,
                    DateMode::Session => t.at.timestamp_millis(),
                };
                if let Some(b) = bucket_of(when) {
                    credit(t.channel as usize * nb + b, w);
                }
            }
        }
        if let Some(split) = split {
            let funnel = (m == 0 && nstages > 0).then_some(&mut funnel);
            match q.date_mode {
                DateMode::Conversion => split.by_conversion_date(&data_driven, acc, funnel),
                DateMode::Session => split.by_session_date(
                    &data_driven,
                    acc,
                    funnel,
                    counted.iter().map(|&ci| &conversions[ci]),
                    pool,
                    |i| {
                        (
                            group_of[dim[i as usize] as usize],
                            bucket_of(at[i as usize]),
                        )
                    },
                ),
            }
        }
    }
    out.groups = groups;
    out.funnel = funnel;
    put_back(index, grouping, journeys);
    out
}

/// The grouping for `group_by`: every interned dimension set maps to its
/// group (kept per `group_by` until new dimension sets appear).
fn take_grouping(index: &mut ProjectIndex, group_by: &[Dim]) -> Grouping {
    let ndims = index.visits.dims.len();
    let kept = index
        .groupings
        .iter()
        .position(|g| g.group_by == group_by && g.dims == ndims);
    match kept {
        Some(k) => index.groupings.remove(k),
        None => Grouping::build(&index.visits.dims, group_by),
    }
}

/// Every conversion's journey: kept from the last report while still
/// valid. Also readies the visits by visitor.
fn take_journeys(index: &mut ProjectIndex, lookback_days: u32) -> Journeys {
    let lookback_ms = i64::from(lookback_days) * 86_400_000;
    index.visits.ensure_by_visitor();
    index
        .crm
        .journeys
        .take()
        .and_then(|mut j| j.still_valid(&index.visits, lookback_ms).then_some(j))
        .unwrap_or_else(|| Journeys::build(&index.visits, &index.crm, lookback_ms))
}

/// Keeps the grouping and the journeys for the next report.
fn put_back(index: &mut ProjectIndex, grouping: Grouping, journeys: Journeys) {
    index.crm.journeys = Some(journeys);
    index.groupings.insert(0, grouping);
    index.groupings.truncate(GROUPINGS_KEPT);
}

/// A journey's Markov weights: each group's share is proportional to its
/// removal effect, split equally among its touches; equal shares when no
/// group of the journey has an effect.
fn markov_split(touches: &[Touch<u32>], effects: &[f64]) -> Vec<f64> {
    let path: Vec<u32> = touches.iter().map(|t| t.channel).collect();
    let fx: HashMap<u32, f64> = path
        .iter()
        .map(|&g| (g, effects.get(g as usize).copied().unwrap_or(0.0)))
        .collect();
    attribution::markov_weights(&path, &fx)
}

/// What one conversion is worth to the group that gets all of it.
fn unit_credit(c: &Conversion) -> Attributed {
    let mut a = Attributed::default();
    match c.kind {
        ConversionKind::Lead(kind) => {
            a.leads = 1.0;
            a.by_kind[kind_slot(kind)] = 1.0;
        }
        ConversionKind::Deal => a.deals = 1.0,
        ConversionKind::Sale => {
            a.sales = 1.0;
            a.revenue = c.revenue;
            if let Some(p) = c.profit {
                a.profit = p;
                a.profit_sales = 1.0;
            }
        }
    }
    a
}

/// Adds `from` to `into`, counts scaled by `count` and money (revenue,
/// profit) by `value`.
fn add_scaled(into: &mut Attributed, from: &Attributed, count: f64, value: f64) {
    into.leads += from.leads * count;
    for (i, f) in into.by_kind.iter_mut().zip(&from.by_kind) {
        *i += f * count;
    }
    into.deals += from.deals * count;
    into.sales += from.sales * count;
    into.revenue += from.revenue * value;
    into.profit += from.profit * value;
    into.profit_sales += from.profit_sales * count;
}

/// What the data-driven models read besides the query.
struct DataDrivenInput<'a> {
    conversions: &'a [Conversion],
    /// The conversions the period counts.
    counted: &'a [usize],
    pool: &'a [u32],
    visits: &'a Visits,
    group_of: &'a [u32],
    bucket_of: &'a dyn Fn(i64) -> Option<usize>,
}

/// Per conversion type (leads, deals, sales: [`ConversionKind::chain`])
/// what `markov`, `markov_path` and `shapley` need, computed once per
/// report over the groups (not the visits).
#[derive(Default)]
struct DataDriven {
    /// Removal effects per group (empty when not asked or not solved).
    effects: [Vec<f64>; 3],
    /// The published split's share of the conversions per group (`None`
    /// when no group has an effect).
    shares: [Option<Vec<f64>>; 3],
    /// Its share of the conversion value (revenue, profit) per group.
    value_shares: [Option<Vec<f64>>; 3],
    /// The conversion-rate games of `shapley`.
    games: [CoalitionGame<u32>; 3],
    /// A chain had more states than it solves.
    truncated: bool,
}

impl DataDriven {
    /// The period's journeys: each counted conversion's, converted, and
    /// every visitor's visits of the period as a journey that did not
    /// convert (except, per type, the visitors whose journeys converted).
    /// The visitors' paths go, identical ones added up, into one chain and
    /// one game shared by the three types first; a type's copy then takes
    /// its converting visitors' paths back out, so the million-visitor pass
    /// runs once.
    fn build(q: &EngineQuery<'_>, input: &DataDrivenInput<'_>) -> DataDriven {
        let markov = q
            .models
            .iter()
            .any(|m| matches!(m, ModelKind::Markov | ModelKind::MarkovPath));
        let shapley = q.models.contains(&ModelKind::Shapley);
        let mut out = DataDriven::default();
        if !markov && !shapley {
            return out;
        }
        let DataDrivenInput {
            conversions,
            counted,
            pool,
            visits,
            group_of,
            bucket_of,
        } = input;
        let by = visits.by_visitor();
        let nvisitors = by.visitors();
        let mut covered = vec![[false; 3]; nvisitors];
        let mut covered_list: Vec<usize> = Vec::new();
        for &ci in counted.iter() {
            let c = &conversions[ci];
            for &i in &pool[c.touches.clone()] {
                let v = visits.visitor[i as usize] as usize;
                if covered[v] == [false; 3] {
                    covered_list.push(v);
                }
                covered[v][c.kind.chain()] = true;
            }
        }
        let period_path = |v: usize, path: &mut Vec<u32>| {
            path.clear();
            for k in by.range(v) {
                if bucket_of(by.at[k]).is_some() {
                    path.push(group_of[by.dim[k] as usize]);
                }
            }
        };
        // Identical paths are added up first: most visitors share a few
        // short paths, so the chain and the game see each once.
        let mut distinct: rustc_hash::FxHashMap<Vec<u32>, f64> = rustc_hash::FxHashMap::default();
        let mut path: Vec<u32> = Vec::new();
        for v in 0..nvisitors {
            period_path(v, &mut path);
            if path.is_empty() {
                continue;
            }
            if let Some(n) = distinct.get_mut(path.as_slice()) {
                *n += 1.0;
            } else {
                distinct.insert(path.clone(), 1.0);
            }
        }
        let mut base_chain = MarkovChain::default();
        let mut base_game = CoalitionGame::default();
        for (path, &n) in &distinct {
            if markov {
                base_chain.add_paths(path, 0.0, n, 0.0);
            }
            if shapley {
                base_game.add(&attribution::coalition(path), 0.0, n);
            }
        }
        drop(distinct);
        let mut chains = [base_chain.clone(), base_chain.clone(), base_chain];
        let mut games = [base_game.clone(), base_game.clone(), base_game];
        for &v in &covered_list {
            period_path(v, &mut path);
            if path.is_empty() {
                continue;
            }
            let members = attribution::coalition(&path);
            for k in 0..3 {
                if covered[v][k] {
                    if markov {
                        chains[k].add_paths(&path, 0.0, -1.0, 0.0);
                    }
                    if shapley {
                        games[k].add(&members, 0.0, -1.0);
                    }
                }
            }
        }
        for &ci in counted.iter() {
            let c = &conversions[ci];
            path.clear();
            path.extend(
                pool[c.touches.clone()]
                    .iter()
                    .map(|&i| group_of[visits.dim[i as usize] as usize]),
            );
            if path.is_empty() {
                continue;
            }
            let k = c.kind.chain();
            if markov {
                chains[k].add_paths(&path, 1.0, 0.0, c.revenue);
            }
            if shapley {
                games[k].add(&attribution::coalition(&path), 1.0, 1.0);
            }
        }
        if markov {
            for (k, chain) in chains.iter().enumerate() {
                if chain.states() > MarkovChain::MAX_STATES {
                    out.truncated = true;
                    continue;
                }
                let (effects, value_effects) = chain.removal_effects_with_value();
                out.shares[k] = attribution::markov_shares(&effects);
                out.value_shares[k] =
                    attribution::markov_shares(&value_effects).or_else(|| out.shares[k].clone());
                out.effects[k] = effects;
            }
        }
        if shapley {
            out.games = games;
        }
        out
    }
}

/// The published Markov split of one report: conversions added up per
/// type (and bucket, or for the whole period when credit is dated by
/// session), then handed to the groups by their shares.
struct MarkovSplit {
    buckets: usize,
    /// Per type and bucket, the conversions' worth.
    totals: [Vec<Attributed>; 3],
    /// Deals that reached each funnel stage.
    stages: Vec<f64>,
    /// Per type and group, the group's touches in converting journeys.
    touches: [Vec<f64>; 3],
}

impl MarkovSplit {
    fn new(buckets: usize, groups: usize, stages: usize) -> MarkovSplit {
        MarkovSplit {
            buckets,
            totals: std::array::from_fn(|_| vec![Attributed::default(); buckets]),
            stages: vec![0.0; stages],
            touches: std::array::from_fn(|_| vec![0.0; groups]),
        }
    }

    /// Adds a conversion of type `chain` in bucket `bucket`, its funnel
    /// stage and its journey's groups.
    fn add(
        &mut self,
        chain: usize,
        bucket: usize,
        unit: &Attributed,
        stage: Option<usize>,
        groups: impl Iterator<Item = u32>,
    ) {
        add_scaled(&mut self.totals[chain][bucket], unit, 1.0, 1.0);
        if let (Some(r), false) = (stage, self.stages.is_empty()) {
            let last = r.min(self.stages.len() - 1);
            for f in &mut self.stages[..=last] {
                *f += 1.0;
            }
        }
        for g in groups {
            if let Some(n) = self.touches[chain].get_mut(g as usize) {
                *n += 1.0;
            }
        }
    }

    /// Credit dated by conversion: in each bucket, group `g` gets the
    /// bucket's conversions × its share.
    fn by_conversion_date(
        &self,
        shares: &DataDriven,
        acc: &mut [Attributed],
        funnel: Option<&mut Vec<Vec<f64>>>,
    ) {
        let nb = self.buckets;
        for chain in 0..3 {
            let Some(count) = &shares.shares[chain] else {
                continue;
            };
            let value = shares.value_shares[chain].as_ref().unwrap_or(count);
            for (b, total) in self.totals[chain].iter().enumerate() {
                if *total == Attributed::default() {
                    continue;
                }
                for (g, (&c, &v)) in count.iter().zip(value).enumerate() {
                    if c != 0.0 || v != 0.0 {
                        add_scaled(&mut acc[g * nb + b], total, c, v);
                    }
                }
            }
        }
        if let (Some(funnel), Some(deals)) = (funnel, &shares.shares[ConversionKind::Deal.chain()])
        {
            for (row, &share) in funnel.iter_mut().zip(deals) {
                for (f, reached) in row.iter_mut().zip(&self.stages) {
                    *f += reached * share;
                }
            }
        }
    }

    /// Credit dated by session: group `g`'s part of the period's
    /// conversions (total × its share) is spread equally over its touches
    /// in the converting journeys of that type, each dated by its visit.
    fn by_session_date<'c>(
        &self,
        shares: &DataDriven,
        acc: &mut [Attributed],
        mut funnel: Option<&mut Vec<Vec<f64>>>,
        counted: impl Iterator<Item = &'c Conversion>,
        pool: &[u32],
        touch: impl Fn(u32) -> (u32, Option<usize>),
    ) {
        let nb = self.buckets;
        for c in counted {
            let chain = c.kind.chain();
            let Some(count) = &shares.shares[chain] else {
                continue;
            };
            let value = shares.value_shares[chain].as_ref().unwrap_or(count);
            let total = &self.totals[chain][0];
            for &i in &pool[c.touches.clone()] {
                let (g, bucket) = touch(i);
                let (Some(b), Some(&n)) = (bucket, self.touches[chain].get(g as usize)) else {
                    continue;
                };
                let g = g as usize;
                let (c_share, v_share) = (
                    count.get(g).copied().unwrap_or(0.0),
                    value.get(g).copied().unwrap_or(0.0),
                );
                if n <= 0.0 || (c_share == 0.0 && v_share == 0.0) {
                    continue;
                }
                add_scaled(&mut acc[g * nb + b], total, c_share / n, v_share / n);
                if let (Some(funnel), ConversionKind::Deal) = (funnel.as_deref_mut(), c.kind) {
                    for (f, reached) in funnel[g].iter_mut().zip(&self.stages) {
                        *f += reached * c_share / n;
                    }
                }
            }
        }
    }
}

/// The journeys of a period in ChannelAttribution's input shape: every
/// distinct path of groups with how many journeys took it.
#[derive(Debug, Default)]
pub struct PathTable {
    /// Each group's dimension values, in `group_by` order (paths hold
    /// indexes into this).
    pub groups: Vec<Vec<String>>,
    /// One row per distinct path: `conversions` converting journeys (the
    /// conversions of the type asked, dated in the period, each with its
    /// journey), `nulls` visitors whose visits of the period did not lead to
    /// one, `value` the converting journeys' revenue (minor units).
    pub rows: Vec<attribution::PathCount<u32>>,
}

/// Which conversions [`paths`] exports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathConversion {
    /// Leads of every kind.
    Leads,
    /// Deals created.
    Deals,
    /// Won deals, with their revenue as the conversion value.
    Sales,
}

impl PathConversion {
    /// By its metric name (`leads`, `deals`, `sales`).
    pub fn parse(name: &str) -> Option<PathConversion> {
        Some(match name {
            "leads" => PathConversion::Leads,
            "deals" => PathConversion::Deals,
            "sales" => PathConversion::Sales,
            _ => return None,
        })
    }

    /// The metric name.
    pub fn as_str(self) -> &'static str {
        match self {
            PathConversion::Leads => "leads",
            PathConversion::Deals => "deals",
            PathConversion::Sales => "sales",
        }
    }

    fn chain(self) -> usize {
        match self {
            PathConversion::Leads => 0,
            PathConversion::Deals => 1,
            PathConversion::Sales => 2,
        }
    }
}

/// The period's paths (conversions dated by their own date), exactly the
/// journeys `markov` and `markov_path` build their chain from for that
/// conversion type: each counted conversion's journey, converted, and every
/// other visitor's visits of the period, not converted. Conversions with no
/// visit have no path and are left out.
pub(crate) fn paths(
    index: &mut ProjectIndex,
    q: &EngineQuery<'_>,
    conversion: PathConversion,
) -> PathTable {
    let start = q.boundaries.first().copied().unwrap_or(0);
    let end = q.boundaries.last().copied().unwrap_or(0);
    let in_period = |t: i64| t >= start && t < end;
    let grouping = take_grouping(index, q.group_by);
    let journeys = take_journeys(index, q.attribution.lookback_days);
    let visits = &index.visits;
    let by = visits.by_visitor();
    let group_of = &grouping.group_of;
    let chain = conversion.chain();
    let mut table: HashMap<Vec<u32>, (f64, f64, f64)> = HashMap::new();
    let mut covered = vec![false; by.visitors()];
    for c in &journeys.conversions {
        if c.kind.chain() != chain || !in_period(c.at) {
            continue;
        }
        let journey = &journeys.pool[c.touches.clone()];
        if journey.is_empty() {
            continue;
        }
        let path: Vec<u32> = journey
            .iter()
            .map(|&i| {
                covered[visits.visitor[i as usize] as usize] = true;
                group_of[visits.dim[i as usize] as usize]
            })
            .collect();
        let row = table.entry(path).or_default();
        row.0 += 1.0;
        row.2 += c.revenue;
    }
    let mut path: Vec<u32> = Vec::new();
    for (v, covered) in covered.iter().enumerate() {
        if *covered {
            continue;
        }
        path.clear();
        for k in by.range(v) {
            if in_period(by.at[k]) {
                path.push(group_of[by.dim[k] as usize]);
            }
        }
        if !path.is_empty() {
            if let Some(row) = table.get_mut(path.as_slice()) {
                row.1 += 1.0;
            } else {
                table.insert(path.clone(), (0.0, 1.0, 0.0));
            }
        }
    }
    let out = PathTable {
        groups: grouping.groups.clone(),
        rows: table
            .into_iter()
            .map(
                |(path, (conversions, nulls, value))| attribution::PathCount {
                    path,
                    conversions,
                    nulls,
                    value,
                },
            )
            .collect(),
    };
    put_back(index, grouping, journeys);
    out
}
