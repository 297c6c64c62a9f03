//! [`CallService`]: one reported call in, one stored call out — attributed
//! to the visit that held its dynamic number at call time, to its static
//! number's source (through an offline visit), to the first call's visit
//! of a repeat caller, or to nobody ("unidentified"); a target call becomes
//! a lead of kind `call` through [`LeadService::record`].

use super::numbers::NumberReservations;
use crate::context::ProjectContext;
use crate::crm::leads::{LeadIdentity, LeadService};
use crate::inbound::{self, CalltouchWebhook, Delivery, ZadarmaWebhook};
use crate::tracking::TrackingService;
use crate::{AppError, DynStore};
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use skvoz_connectors::telephony::TelephonyError;
use skvoz_domain::calltracking::{
    is_target, is_unique, recommend_size, CallAttribution, CompiledRule, InboundCall, PoolKind,
    PoolSettings, Span, VisitTraits,
};
use skvoz_domain::contact::normalize_phone;
use skvoz_domain::crm::{Identity, IdentityKind, LeadKind};
use skvoz_domain::traffic::{SourceKind, TrafficSource};
use skvoz_store::{Call, NewCall, Visit};
use std::sync::Arc;

/// The share of visits a pool may give a shared number.
pub const TARGET_SHARED_RATE: f64 = 0.01;

/// Most visits replayed by a sizing.
const SIZING_VISITS: usize = 1_000_000;

/// What recording a call did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CallOutcome {
    /// The call.
    pub call_id: i64,
    /// How it found its visit.
    pub attribution: CallAttribution,
    /// The visit.
    pub visit_id: Option<i64>,
    /// Passed the target rule.
    pub is_target: bool,
    /// First call of the caller in the unique window.
    pub is_unique: bool,
    /// The visit's number was shared.
    pub shared: bool,
    /// The lead it became (target calls).
    pub lead_id: Option<i64>,
    /// The caller's contact.
    pub contact_id: Option<i64>,
    /// The deal the call lead opened or joined (`null` on a replay).
    pub deal_id: Option<i64>,
    /// The call lead joined the contact's open deal instead of opening one.
    pub duplicate: bool,
    /// It had been recorded before (same provider and id); nothing changed.
    pub replayed: bool,
}

impl CallOutcome {
    fn of(call: &Call, replayed: bool) -> CallOutcome {
        let c = &call.call;
        CallOutcome {
            call_id: call.id,
            attribution: c.attribution,
            visit_id: c.visit_id,
            is_target: c.is_target,
            is_unique: c.is_unique,
            shared: c.shared,
            lead_id: c.lead_id,
            contact_id: c.contact_id,
            deal_id: None,
            duplicate: false,
            replayed,
        }
    }
}

/// What a webhook delivery did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HookOutcome {
    /// The event (Zadarma) or `call`.
    pub event: String,
    /// The call recorded, when the event completes one.
    pub call: Option<CallOutcome>,
}

/// A pool as `GET /api/v1/callpools` shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PoolStatus {
    /// Id.
    pub id: String,
    /// `dynamic` or `static`.
    pub kind: PoolKind,
    /// Its numbers.
    pub numbers: Vec<String>,
    /// Numbers held by an active visit now (dynamic pools).
    pub busy_now: usize,
    /// Visits holding a number now.
    pub holders_now: usize,
    /// Visits that got a number in the last 7 days.
    pub visits_7d: i64,
    /// Of them, visits whose number was shared.
    pub shared_7d: i64,
    /// `shared_7d / visits_7d` (0 without visits).
    pub shared_rate_7d: f64,
    /// Static pools: the source its calls go to.
    pub source: Option<String>,
}

/// `GET /api/v1/callpools/{id}/sizing`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SizingReport {
    /// Pool id.
    pub pool_id: String,
    /// Numbers it has.
    pub numbers: usize,
    /// Days of traffic replayed.
    pub days: u32,
    /// The pool's hold time, minutes.
    pub hold_minutes: u32,
    /// Visits of the period the pool's rule takes.
    pub visits: usize,
    /// Most reservations active at once (visit plus hold time).
    pub peak_concurrent: usize,
    /// Numbers needed so that at most `target_shared_rate` of those visits
    /// share a number.
    pub recommended: usize,
    /// The target (1%).
    pub target_shared_rate: f64,
    /// The share of visits that would share a number at the current size.
    pub predicted_shared_rate: f64,
    /// The share of visits that actually got a shared number in the period.
    pub current_shared_rate: f64,
    /// Visits that actually got a number in the period.
    pub reserved_visits: i64,
}

/// A call as the calls list shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CallRow {
    /// The call.
    #[serde(flatten)]
    pub call: Call,
    /// Missed (not answered).
    pub missed: bool,
    /// The visit's source.
    pub source: Option<String>,
    /// The visit's medium.
    pub medium: Option<String>,
    /// The visit's campaign.
    pub campaign: Option<String>,
    /// The visit's channel.
    pub channel: Option<String>,
}

/// Call counts of a period, for the dashboard.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct CallTotals {
    /// Calls.
    pub calls: usize,
    /// Target calls.
    pub target: usize,
    /// Unique calls.
    pub unique: usize,
    /// Missed (not answered) calls.
    pub missed: usize,
    /// Visits that got a dynamic number in the period.
    pub visits_with_number: i64,
    /// Of them, visits whose number was shared.
    pub shared_visits: i64,
    /// `shared_visits / visits_with_number` (0 without such visits).
    pub shared_visit_rate: f64,
}

/// The call-tracking use cases.
#[derive(Clone)]
pub struct CallService {
    store: DynStore,
    tracking: TrackingService,
    leads: LeadService,
}

/// The 422 a telephony payload that does not parse is answered with.
pub(crate) fn telephony_error(e: TelephonyError) -> AppError {
    match &e {
        TelephonyError::Missing(field) | TelephonyError::Invalid { field, .. } => {
            AppError::invalid(*field, e.to_string())
        }
        TelephonyError::Malformed(_) => AppError::invalid("", e.to_string()),
    }
}

fn rate(part: i64, whole: i64) -> f64 {
    if whole <= 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

impl CallService {
    /// Over a store, the tracker (for numbers and offline visits) and leads.
    pub fn new(store: DynStore, tracking: TrackingService, leads: LeadService) -> Self {
        CallService {
            store,
            tracking,
            leads,
        }
    }

    /// The in-memory reservations.
    pub fn numbers(&self) -> &Arc<dyn NumberReservations> {
        self.tracking.numbers()
    }

    /// Records a call: idempotent on (provider, sender's id).
    pub async fn record(
        &self,
        ctx: &ProjectContext,
        call: InboundCall,
    ) -> Result<CallOutcome, AppError> {
        let scope = ctx.scope;
        if call.started_at > Utc::now() + Duration::minutes(5) {
            return Err(AppError::invalid(
                "started_at",
                "the call starts in the future",
            ));
        }
        if let Some(done) = self
            .store
            .call_by_source(scope, call.provider, &call.source_id)
            .await?
        {
            return Ok(CallOutcome::of(&done, true));
        }
        let cfg = &ctx.settings.calltracking;
        let region = &ctx.settings.general.default_region;
        let caller = normalize_phone(&call.caller, region).ok();
        let called = normalize_phone(&call.called, region).unwrap_or_else(|_| call.called.clone());
        let at = call.started_at;
        let pool = cfg.pool_of_number(&called).map(|(_, p)| p);

        let earlier = match &caller {
            Some(c) => self.store.calls_of_caller(scope, c, at, 10_000).await?,
            None => Vec::new(),
        };
        let unique = is_unique(
            earlier.last().map(|c| c.call.started_at),
            at,
            cfg.unique_days,
        );
        let target = is_target(&cfg.target_rule, call.answered, call.duration);
        let first_visit = earlier.iter().find_map(|c| c.call.visit_id);

        let (attribution, visit, shared) = match (first_visit, pool) {
            (Some(v), _) if cfg.repeat_caller_keeps_first_source => (
                CallAttribution::Repeat,
                self.store.visit(scope, v).await?,
                false,
            ),
            (_, Some(p)) if p.kind == PoolKind::Dynamic => {
                // Reservations decided in the last second may still be queued.
                self.numbers().flush().await?;
                let holders = self.store.reservations_at(scope, &called, at).await?;
                match holders.first() {
                    Some(h) => (
                        CallAttribution::Dynamic,
                        self.store.visit(scope, h.visit_id).await?,
                        h.shared || holders.len() > 1,
                    ),
                    None => (CallAttribution::Unidentified, None, false),
                }
            }
            (_, Some(p)) => (
                CallAttribution::Static,
                Some(self.static_visit(ctx, p, &called, at).await?),
                false,
            ),
            (_, None) => (CallAttribution::Unidentified, None, false),
        };

        let payload = serde_json::json!({
            "provider": call.provider, "id": call.source_id, "caller": call.caller,
            "called": call.called, "started_at": at, "duration": call.duration,
            "answered": call.answered, "recording_url": call.recording_url,
            "attribution": attribution.as_str(), "pool": pool.map(|p| p.id.clone()),
        });
        let mut deal = (None, false);
        let (lead_id, contact_id) = if target {
            let who = LeadIdentity {
                visit_code: visit.as_ref().map(|v| v.code),
                phone: caller.clone(),
                ..LeadIdentity::default()
            };
            let (recorded, _) = self
                .leads
                .record(
                    ctx,
                    LeadKind::Call,
                    Some(format!("{}:{}", call.provider, call.source_id)),
                    who,
                    None,
                    at,
                    payload,
                )
                .await?;
            deal = (recorded.deal_id, recorded.duplicate);
            (
                Some(recorded.lead_id),
                (recorded.contact_id != 0).then_some(recorded.contact_id),
            )
        } else {
            let contact = match &caller {
                Some(c) => {
                    self.store
                        .contact_by_identity(scope, &Identity::new(IdentityKind::Phone, c.clone()))
                        .await?
                }
                None => None,
            };
            (None, contact)
        };
        let (stored, replayed) = self
            .store
            .insert_call(
                scope,
                NewCall {
                    provider: call.provider.to_owned(),
                    source_id: call.source_id,
                    caller,
                    called: called.clone(),
                    number: pool.map(|_| called),
                    pool_id: pool.map(|p| p.id.clone()),
                    started_at: at,
                    duration: call.duration,
                    answered: call.answered,
                    is_target: target,
                    is_unique: unique,
                    recording_url: call.recording_url,
                    attribution,
                    shared,
                    visit_id: visit.as_ref().map(|v| v.id),
                    contact_id,
                    lead_id,
                },
            )
            .await?;
        if !replayed {
            metrics::counter!("skvoz_ingested_total", "kind" => "call").increment(1);
        }
        let mut outcome = CallOutcome::of(&stored, replayed);
        if !replayed {
            (outcome.deal_id, outcome.duplicate) = deal;
        }
        Ok(outcome)
    }

    /// The offline visit a call to a static number is attributed through.
    async fn static_visit(
        &self,
        ctx: &ProjectContext,
        pool: &PoolSettings,
        number: &str,
        at: DateTime<Utc>,
    ) -> Result<Visit, AppError> {
        let lower = |v: &Option<String>| {
            v.as_deref()
                .map(|s| s.trim().to_lowercase())
                .filter(|s| !s.is_empty())
        };
        let source = TrafficSource {
            source: lower(&pool.source).unwrap_or_else(|| "offline".to_owned()),
            medium: lower(&pool.medium).unwrap_or_else(|| "offline".to_owned()),
            campaign: lower(&pool.campaign),
            kind: SourceKind::Utm,
            ..TrafficSource::default()
        };
        self.tracking
            .record_offline_visit(ctx, source, format!("tel:{number}"), "call", at)
            .await
    }

    /// A Zadarma notification, through the [`inbound`](crate::inbound)
    /// pipeline: the `Signature` is checked before anything is stored;
    /// `NOTIFY_END` records the call, other events are kept as raw payloads
    /// only.
    pub async fn zadarma(
        &self,
        ctx: &ProjectContext,
        signature: Option<&str>,
        body: &[u8],
    ) -> Result<HookOutcome, AppError> {
        let webhook = ZadarmaWebhook::new(self);
        inbound::receive(&self.store, &webhook, ctx, Delivery::new(signature, body)).await
    }

    /// A Calltouch-style webhook (query string or form body), checked by
    /// the URL's `secret`, through the [`inbound`](crate::inbound) pipeline.
    pub async fn calltouch(
        &self,
        ctx: &ProjectContext,
        secret: &str,
        payload: &[u8],
    ) -> Result<HookOutcome, AppError> {
        let webhook = CalltouchWebhook::new(self);
        inbound::receive(
            &self.store,
            &webhook,
            ctx,
            Delivery::new(Some(secret), payload),
        )
        .await
    }

    /// Calls that started in `[from, to)`, newest first, with their visits'
    /// sources.
    pub async fn list(
        &self,
        ctx: &ProjectContext,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<CallRow>, AppError> {
        let calls = self.calls(ctx, from, to, limit).await?;
        self.with_sources(ctx, calls).await
    }

    /// Calls that started in `[from, to)`, newest first, without their
    /// visits (counting needs none; [`CallService::with_sources`] adds them
    /// to the few a page shows).
    pub async fn calls(
        &self,
        ctx: &ProjectContext,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<Call>, AppError> {
        Ok(self.store.calls_between(ctx.scope, from, to, limit).await?)
    }

    /// `calls` with their visits' sources, in the same order.
    pub async fn with_sources(
        &self,
        ctx: &ProjectContext,
        calls: Vec<Call>,
    ) -> Result<Vec<CallRow>, AppError> {
        let mut rows = Vec::with_capacity(calls.len());
        for call in calls {
            let visit = match call.call.visit_id {
                Some(id) => self.store.visit(ctx.scope, id).await?,
                None => None,
            };
            rows.push(CallRow {
                missed: !call.call.answered,
                source: visit.as_ref().map(|v| v.source.source.clone()),
                medium: visit.as_ref().map(|v| v.source.medium.clone()),
                campaign: visit.as_ref().and_then(|v| v.source.campaign.clone()),
                channel: visit.as_ref().map(|v| v.channel.clone()),
                call,
            });
        }
        Ok(rows)
    }

    /// Counts of `calls` (as listed) and the shared-visit rate of
    /// `[from, to)`.
    pub async fn totals<'a>(
        &self,
        ctx: &ProjectContext,
        calls: impl IntoIterator<Item = &'a Call>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<CallTotals, AppError> {
        let stats = self
            .store
            .reservation_stats(ctx.scope, None, from, to)
            .await?;
        let mut totals = CallTotals {
            visits_with_number: stats.reservations,
            shared_visits: stats.shared,
            shared_visit_rate: rate(stats.shared, stats.reservations),
            ..CallTotals::default()
        };
        for c in calls {
            let c = &c.call;
            totals.calls += 1;
            totals.target += usize::from(c.is_target);
            totals.unique += usize::from(c.is_unique);
            totals.missed += usize::from(!c.answered);
        }
        Ok(totals)
    }

    /// Calls of the last `days` days, newest first.
    pub async fn recent(
        &self,
        ctx: &ProjectContext,
        days: u32,
        limit: usize,
    ) -> Result<Vec<CallRow>, AppError> {
        let now = Utc::now();
        self.list(ctx, now - Duration::days(i64::from(days)), now, limit)
            .await
    }

    /// Every pool with its numbers, how many are busy now and its shared
    /// rate over the last 7 days.
    pub async fn pools(&self, ctx: &ProjectContext) -> Result<Vec<PoolStatus>, AppError> {
        let now = Utc::now();
        let live = self.numbers().status(ctx, now).await;
        let mut out = Vec::new();
        for pool in &ctx.settings.calltracking.pools {
            let stats = self
                .store
                .reservation_stats(ctx.scope, Some(&pool.id), now - Duration::days(7), now)
                .await?;
            let l = live.iter().find(|l| l.pool_id == pool.id);
            out.push(PoolStatus {
                id: pool.id.clone(),
                kind: pool.kind,
                numbers: pool.numbers.clone(),
                busy_now: l.map_or(0, |l| l.busy),
                holders_now: l.map_or(0, |l| l.holders),
                visits_7d: stats.reservations,
                shared_7d: stats.shared,
                shared_rate_7d: rate(stats.shared, stats.reservations),
                source: pool.source.clone(),
            });
        }
        Ok(out)
    }

    /// How many numbers a dynamic pool needs so that at most 1% of the
    /// visits its rule takes share a number: the last `days` of the
    /// project's visits replayed against pools of each size.
    pub async fn sizing(
        &self,
        ctx: &ProjectContext,
        pool_id: &str,
        days: u32,
    ) -> Result<SizingReport, AppError> {
        let now = Utc::now();
        self.sizing_between(
            ctx,
            pool_id,
            now - Duration::days(i64::from(days)),
            now,
            days,
        )
        .await
    }

    /// [`CallService::sizing`] over an explicit period.
    pub async fn sizing_between(
        &self,
        ctx: &ProjectContext,
        pool_id: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        days: u32,
    ) -> Result<SizingReport, AppError> {
        let cfg = &ctx.settings.calltracking;
        let pool = cfg
            .pools
            .iter()
            .find(|p| p.id == pool_id)
            .ok_or_else(|| AppError::NotFound(format!("pool '{pool_id}'")))?;
        if pool.kind != PoolKind::Dynamic {
            return Err(AppError::invalid(
                "id",
                "only dynamic pools are sized (a static number serves one source)",
            ));
        }
        // A visit is served by the first dynamic pool whose rule it matches.
        let mut rules = Vec::new();
        for p in cfg.pools.iter().filter(|p| p.kind == PoolKind::Dynamic) {
            let rule = CompiledRule::new(&p.rule)
                .map_err(|e| AppError::Internal(format!("pool rule: {e}")))?;
            rules.push((p.id == pool.id, rule));
        }
        let hold_ms = i64::from(cfg.hold_of(pool)) * 60_000;
        let visits = self
            .store
            .visit_spans(ctx.scope, from, to, SIZING_VISITS)
            .await?;
        let spans: Vec<Span> = visits
            .iter()
            .filter(|v| {
                let traits = VisitTraits {
                    source: &v.source,
                    medium: &v.medium,
                    campaign: v.campaign.as_deref(),
                    channel: &v.channel,
                };
                rules
                    .iter()
                    .find(|(_, r)| r.matches(traits))
                    .is_some_and(|(mine, _)| *mine)
            })
            .map(|v| Span {
                start: v.started_at.timestamp_millis(),
                end: v.last_at.timestamp_millis() + hold_ms,
            })
            .collect();
        let sizing = recommend_size(&spans, pool.numbers.len(), TARGET_SHARED_RATE);
        let stats = self
            .store
            .reservation_stats(ctx.scope, Some(&pool.id), from, to)
            .await?;
        Ok(SizingReport {
            pool_id: pool.id.clone(),
            numbers: pool.numbers.len(),
            days,
            hold_minutes: cfg.hold_of(pool),
            visits: sizing.visits,
            peak_concurrent: sizing.peak_concurrent,
            recommended: sizing.recommended,
            target_shared_rate: sizing.target_shared_rate,
            predicted_shared_rate: sizing.predicted_shared_rate,
            current_shared_rate: rate(stats.shared, stats.reservations),
            reserved_visits: stats.reservations,
        })
    }
}
