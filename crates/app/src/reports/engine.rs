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

use super::index::{Crm, Dims, ProjectIndex, Visits};
use skvoz_domain::attribution::{self, MarkovChain, ModelKind, Touch};
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

    // Groups: every interned dimension set maps to its group (kept per
    // `group_by` until new dimension sets appear).
    let ndims = index.visits.dims.len();
    let kept = index
        .groupings
        .iter()
        .position(|g| g.group_by == q.group_by && g.dims == ndims);
    let grouping = match kept {
        Some(k) => index.groupings.remove(k),
        None => Grouping::build(&index.visits.dims, q.group_by),
    };
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

    // Journeys: kept from the last report while still valid.
    let lookback_ms = i64::from(q.attribution.lookback_days) * 86_400_000;
    index.visits.ensure_by_visitor();
    let journeys = index
        .crm
        .journeys
        .take()
        .and_then(|mut j| j.still_valid(&index.visits, lookback_ms).then_some(j))
        .unwrap_or_else(|| Journeys::build(&index.visits, &index.crm, lookback_ms));

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

    // Markov: removal effects per conversion type over the period's
    // journeys — the converting ones, and every other visitor's visits of
    // the period as a journey that did not convert.
    let mut markov_effects: Option<[Vec<f64>; 3]> = None;
    if q.models.contains(&ModelKind::Markov) {
        let mut chains = [
            MarkovChain::default(),
            MarkovChain::default(),
            MarkovChain::default(),
        ];
        let mut covered = vec![[false; 3]; nvisitors];
        let mut path: Vec<u32> = Vec::new();
        for &ci in &counted {
            let c = &conversions[ci];
            path.clear();
            for &i in &pool[c.touches.clone()] {
                path.push(group_of[dim[i as usize] as usize]);
                covered[visits.visitor[i as usize] as usize][c.kind.chain()] = true;
            }
            chains[c.kind.chain()].add_path(&path, true);
        }
        for (v, covered) in covered.iter().enumerate() {
            path.clear();
            for k in by.range(v) {
                if bucket_of(by.at[k]).is_some() {
                    path.push(group_of[by.dim[k] as usize]);
                }
            }
            if path.is_empty() {
                continue;
            }
            for (k, chain) in chains.iter_mut().enumerate() {
                if !covered[k] {
                    chain.add_path(&path, false);
                }
            }
        }
        let mut solve = |chain: &MarkovChain| {
            if chain.states() > MarkovChain::MAX_STATES {
                out.markov_truncated = true;
                Vec::new()
            } else {
                chain.removal_effects()
            }
        };
        markov_effects = Some([solve(&chains[0]), solve(&chains[1]), solve(&chains[2])]);
    }

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
    for (m, model) in q.models.iter().enumerate() {
        let acc = &mut out.attributed[m];
        for &ci in &counted {
            let c = &conversions[ci];
            let journey = &pool[c.touches.clone()];
            let mut credit = |cell: usize, w: f64| {
                if m == 0 && nstages > 0 {
                    if let Some(Some(r)) = c.deal.and_then(|d| reached.get(d)) {
                        for f in &mut funnel[cell / nb][..=(*r).min(nstages - 1)] {
                            *f += w;
                        }
                    }
                }
                let a = &mut acc[cell];
                match c.kind {
                    ConversionKind::Lead(kind) => {
                        a.leads += w;
                        a.by_kind[kind_slot(kind)] += w;
                    }
                    ConversionKind::Deal => a.deals += w,
                    ConversionKind::Sale => {
                        a.sales += w;
                        a.revenue += w * c.revenue;
                        if let Some(p) = c.profit {
                            a.profit += w * p;
                            a.profit_sales += w;
                        }
                    }
                }
            };
            if journey.is_empty() {
                if let Some(b) = bucket_of(c.at) {
                    credit(unattributed as usize * nb + b, 1.0);
                }
                continue;
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
            match (model.rule(half_life, first, last), &markov_effects) {
                (Some(rule), _) => {
                    let at_conv = chrono::DateTime::from_timestamp_millis(c.at).unwrap_or_default();
                    weights.extend(attribution::weights(rule, &touches, at_conv));
                }
                (None, Some(effects)) => {
                    let fx = &effects[c.kind.chain()];
                    weights.extend(markov_split(&touches, fx));
                }
                (None, None) => weights.extend(std::iter::repeat_n(
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
    }
    out.groups = groups;
    out.funnel = funnel;
    index.crm.journeys = Some(journeys);
    index.groupings.insert(0, grouping);
    index.groupings.truncate(GROUPINGS_KEPT);
    out
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
