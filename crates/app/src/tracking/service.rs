//! [`TrackingService`]: one hit in, one committed hit (or bot count) out.

use super::geo::{GeoIp, Location};
use super::input::{HitInput, HitOutcome};
use super::sessions::{ActiveSession, MemorySessionTable, SessionTable};
use super::writer::{BatchWriter, WriteError};
use crate::calls::numbers::NumberReservations;
use crate::context::{ContextCache, ProjectContext};
use crate::{AppError, DynStore};
use chrono::Utc;
use numbering::VisitNumbering;
use parking_lot::Mutex;
use rand::RngCore;
use skvoz_domain::traffic::{
    classify, decide, parse_user_agent, Device, SessionDecision, SessionState, TrafficSource,
};
use skvoz_domain::ProjectId;
use skvoz_store::{Hit, IngestWrite, Visit, VisitorLink};
use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};

mod numbering;
mod offline;

/// Counted when a hit is committed.
const INGESTED: &str = "skvoz_ingested_total";

/// How far in the future an explicit hit time may be (clock skew).
const FUTURE_SKEW: chrono::Duration = chrono::Duration::minutes(5);

/// The tracking use case.
#[derive(Clone)]
pub struct TrackingService {
    inner: Arc<Inner>,
}

struct Inner {
    store: DynStore,
    contexts: Arc<ContextCache>,
    sessions: Arc<dyn SessionTable>,
    writer: BatchWriter,
    devices: Mutex<HashMap<String, Device>>,
    /// Visit ids and codes from blocks the store hands out.
    numbering: VisitNumbering,
    geo: Option<GeoIp>,
    /// Dynamic call-tracking numbers held by visits.
    numbers: Arc<dyn NumberReservations>,
    /// Set once the active sessions of every project were loaded from the
    /// store; from then on a visitor missing from memory has no session
    /// that could continue, and the hot path never reads the store.
    warmed: std::sync::atomic::AtomicBool,
}

/// A prepared hit: already queued (with its acknowledgement), or a record
/// for the caller to write.
#[allow(clippy::large_enum_variant)] // lives only until it is written
enum Prepared {
    Queued(super::writer::Pending),
    Record(IngestWrite),
}

/// Visits produced inside one import request that are not committed yet.
type Overlay = HashMap<String, ActiveSession>;

fn new_vid() -> String {
    let mut b = [0u8; 12];
    rand::thread_rng().fill_bytes(&mut b);
    format!("s{}", hex::encode(b))
}

fn write_error(e: WriteError) -> AppError {
    match e {
        WriteError::Busy => AppError::Unavailable("ingestion is saturated; retry shortly".into()),
        WriteError::Stopped => AppError::Unavailable("the server is shutting down".into()),
        WriteError::Store(msg) => AppError::Internal(msg),
    }
}

/// The state of live visitors a node keeps between hits: the active
/// sessions and the dynamic number reservations. In memory by default (one
/// node per store); several nodes sharing a store pass shared
/// implementations to [`TrackingService::with_state`].
pub struct LiveState {
    /// The active sessions.
    pub sessions: Arc<dyn SessionTable>,
    /// The dynamic number reservations.
    pub numbers: Arc<dyn NumberReservations>,
}

impl LiveState {
    /// The in-memory tables over a store (the number pools' saver runs
    /// while they live). Needs a tokio runtime.
    pub fn in_memory(store: DynStore) -> LiveState {
        LiveState {
            sessions: Arc::new(MemorySessionTable::default()),
            numbers: crate::calls::NumberPools::start(store),
        }
    }
}

impl TrackingService {
    /// Starts the service with in-memory sessions and reservations: its
    /// writer task and the sweeper of idle sessions.
    pub fn new(
        store: DynStore,
        contexts: Arc<ContextCache>,
        geo: Option<GeoIp>,
    ) -> TrackingService {
        let state = LiveState::in_memory(store.clone());
        TrackingService::with_state(store, contexts, geo, state)
    }

    /// Starts the service over the given session and reservation tables.
    pub fn with_state(
        store: DynStore,
        contexts: Arc<ContextCache>,
        geo: Option<GeoIp>,
        state: LiveState,
    ) -> TrackingService {
        let inner = Arc::new(Inner {
            writer: BatchWriter::start(store.clone()),
            store,
            contexts,
            sessions: state.sessions,
            devices: Mutex::new(HashMap::new()),
            numbering: VisitNumbering::default(),
            geo,
            numbers: state.numbers,
            warmed: std::sync::atomic::AtomicBool::new(false),
        });
        let weak: Weak<Inner> = Arc::downgrade(&inner);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(std::time::Duration::from_secs(30));
            loop {
                tick.tick().await;
                match weak.upgrade() {
                    Some(inner) => {
                        let held = inner.sessions.sweep(Utc::now()).await;
                        metrics::gauge!("skvoz_active_sessions").set(held as f64);
                    }
                    None => break,
                }
            }
        });
        TrackingService { inner }
    }

    /// Loads every project's sessions that may still continue into memory.
    /// Until it has run, hits of visitors not in memory look the store up.
    pub async fn warm_up(&self) -> Result<usize, AppError> {
        let now = Utc::now();
        let mut loaded = 0;
        for project in self.inner.store.list_projects().await? {
            let ctx = self.inner.contexts.by_id(project.id).await?;
            let since = now - ctx.session_timeout;
            for visit in self.inner.store.active_visits(ctx.scope, since).await? {
                let expires_at = visit.last_at + ctx.session_timeout + chrono::Duration::minutes(1);
                let session = ActiveSession::of(&visit, expires_at);
                self.inner
                    .sessions
                    .restore(project.id, &visit.vid, session)
                    .await;
                loaded += 1;
            }
            self.inner.numbers.warm_up(&ctx, now).await?;
        }
        self.inner.warmed.store(true, Ordering::Release);
        Ok(loaded)
    }

    /// The dynamic call-tracking numbers held by visits.
    pub fn numbers(&self) -> &Arc<dyn NumberReservations> {
        &self.inner.numbers
    }

    /// Commits what is queued and stops the writer.
    pub async fn shutdown(&self) {
        self.inner.writer.shutdown().await;
    }

    /// A hit from the site script (`POST /collect`), keyed by the public key.
    pub async fn collect(&self, public_key: &str, input: HitInput) -> Result<HitOutcome, AppError> {
        let ctx = self
            .inner
            .contexts
            .by_public_key(public_key)
            .await?
            .ok_or_else(|| AppError::Forbidden("unknown tracker key".into()))?;
        let (outcome, prepared) = self.prepare(&ctx, input, None, true).await?;
        let result = match prepared {
            Prepared::Queued(pending) => pending.committed().await,
            Prepared::Record(record) => self.inner.writer.write(record).await,
        };
        if let Err(e) = result {
            self.forget(ctx.project.id, &outcome).await;
            return Err(write_error(e));
        }
        count(&outcome);
        Ok(outcome)
    }

    /// Server-side hits and history import (`POST /api/v1/hits`): validated
    /// as a whole, sessionized per visitor in time order, committed together.
    pub async fn import(
        &self,
        project: ProjectId,
        inputs: Vec<HitInput>,
    ) -> Result<Vec<HitOutcome>, AppError> {
        let ctx = self.inner.contexts.by_id(project).await?;
        let mut inputs = inputs;
        for (i, input) in inputs.iter_mut().enumerate() {
            input.fields.normalize();
            input.fields.validate().map_err(|e| prefix_field(e, i))?;
            if input.at > Utc::now() + FUTURE_SKEW {
                return Err(AppError::invalid(
                    format!("[{i}].at"),
                    "at is in the future",
                ));
            }
            if input.fields.vid.is_none() {
                input.fields.vid = Some(new_vid());
            }
        }
        let mut order: Vec<usize> = (0..inputs.len()).collect();
        order.sort_by(|&a, &b| {
            (inputs[a].fields.vid.as_deref(), inputs[a].at)
                .cmp(&(inputs[b].fields.vid.as_deref(), inputs[b].at))
        });
        let mut overlay = Overlay::new();
        let mut outcomes: Vec<Option<HitOutcome>> = vec![None; inputs.len()];
        let mut records = Vec::with_capacity(inputs.len());
        for i in order {
            let (outcome, prepared) = self
                .prepare(&ctx, inputs[i].clone(), Some(&mut overlay), false)
                .await?;
            outcomes[i] = Some(outcome);
            match prepared {
                Prepared::Record(record) => records.push(record),
                Prepared::Queued(_) => {
                    return Err(AppError::Internal("an import hit was queued alone".into()))
                }
            }
        }
        let outcomes: Vec<HitOutcome> = outcomes.into_iter().flatten().collect();
        if let Err(e) = self.inner.writer.write_all(records).await {
            for o in &outcomes {
                self.forget(project, o).await;
            }
            return Err(write_error(e));
        }
        outcomes.iter().for_each(count);
        Ok(outcomes)
    }

    /// The device of a User-Agent; with none given (server-side hits that
    /// did not pass one) the device is unknown, not a bot.
    /// After a failed write, the session table must not point at a visit
    /// that may not exist.
    async fn forget(&self, project: ProjectId, outcome: &HitOutcome) {
        if let Some(visit_id) = outcome.visit_id {
            self.inner
                .sessions
                .forget(project, &outcome.vid, visit_id)
                .await;
        }
    }

    fn device(&self, ua: Option<&str>) -> Device {
        let Some(ua) = ua else {
            return Device {
                os: "unknown".into(),
                browser: "unknown".into(),
                device_type: skvoz_domain::traffic::DeviceType::Other,
                is_bot: false,
            };
        };
        if let Some(d) = self.inner.devices.lock().get(ua) {
            return d.clone();
        }
        let d = parse_user_agent(ua);
        let mut cache = self.inner.devices.lock();
        if cache.len() >= 20_000 {
            cache.clear();
        }
        cache.insert(ua.to_owned(), d.clone());
        d
    }

    fn locate(&self, input: &HitInput) -> Location {
        match (&self.inner.geo, input.ip) {
            (Some(geo), Some(ip)) => geo.locate(ip).unwrap_or_default(),
            _ => Location::default(),
        }
    }

    /// Makes sure a visit id and a code of the project are at hand (a store
    /// round trip only when a block is spent).
    async fn ensure_numbers(
        &self,
        project: ProjectId,
        scope: skvoz_store::Scope,
    ) -> Result<(), AppError> {
        self.inner
            .numbering
            .refill(&self.inner.store, project, scope)
            .await
    }

    /// Validates and sessionizes one hit and builds its store record. With
    /// `enqueue`, a visit hit is queued for writing while its visitor's lock
    /// is held, so one visitor's records reach the writer in the order they
    /// were decided (a continuing hit never overtakes the hit that created
    /// its visit).
    async fn prepare(
        &self,
        ctx: &ProjectContext,
        mut input: HitInput,
        overlay: Option<&mut Overlay>,
        enqueue: bool,
    ) -> Result<(HitOutcome, Prepared), AppError> {
        input.fields.normalize();
        input.fields.validate()?;
        let at = input.at;
        let device = self.device(input.ua.as_deref());
        let vid = input.fields.vid.clone().unwrap_or_else(new_vid);
        if device.is_bot {
            let day = at.with_timezone(&ctx.tz).format("%Y-%m-%d").to_string();
            let outcome = HitOutcome {
                vid,
                visit_id: None,
                visit_code: None,
                phone: None,
                wa_text: None,
                wa: Vec::new(),
                tg: Vec::new(),
                bot: true,
            };
            return Ok((
                outcome,
                Prepared::Record(IngestWrite::Bot {
                    scope: ctx.scope,
                    day,
                }),
            ));
        }
        let project = ctx.project.id;
        let f = &input.fields;
        // Events (`skvoz.event`) describe the current page, not a new
        // arrival: they never change the source (they are decided as
        // direct). An event that starts a visit (after midnight, after the
        // timeout) still names its source from its page, like a page view.
        let source = classify(&f.url, f.referrer.as_deref());
        let decision_source = if f.event.is_some() {
            TrafficSource {
                source: skvoz_domain::traffic::source::DIRECT_SOURCE.to_owned(),
                medium: skvoz_domain::traffic::source::NONE_MEDIUM.to_owned(),
                ..TrafficSource::default()
            }
        } else {
            source.clone()
        };

        // The visitor's previous visit: this request's own uncommitted
        // visits first, then the live table, then the store when memory may
        // not know (history import, before warm-up, or a hit older than
        // what memory holds).
        let skew = chrono::Duration::seconds(5);
        let from_overlay = overlay
            .as_ref()
            .and_then(|o| o.get(&vid))
            .filter(|s| at >= s.progress.last_at)
            .cloned();
        let live = self.inner.sessions.get(project, &vid).await;
        let live_usable = live
            .as_ref()
            .is_some_and(|s| at >= s.progress.last_at - skew);
        let warm = self.inner.warmed.load(Ordering::Acquire);
        let stored = if from_overlay.is_none()
            && !live_usable
            && (input.explicit_time || !warm || live.is_some())
        {
            self.inner
                .store
                .latest_visit(ctx.scope, &vid, at)
                .await?
                .map(|v| ActiveSession::of(&v, v.last_at + ctx.session_timeout))
        } else {
            None
        };
        let location = self.locate(&input);

        let timeout = ctx.session_timeout;
        // Decided under the visitor's lock. A new visit takes its id and
        // code from the blocks at hand; when a block is spent (or the id
        // block too old), the decision leaves the entry alone and is made
        // again after a refill. Continuing hits never wait for the store.
        let (session, prepared, created) = loop {
            let decided = self
                .inner
                .sessions
                .with_entry(project, &vid, |slot| {
                    let prev: Option<ActiveSession> = from_overlay.clone().or_else(|| {
                        match slot.as_ref().filter(|s| at >= s.progress.last_at - skew) {
                            Some(s) => Some(s.clone()),
                            None => stored.clone(),
                        }
                    });
                    let state = prev.as_ref().map(|p| SessionState {
                        started_at: p.started_at,
                        last_hit_at: p.progress.last_at,
                        source_key: p.source_key,
                    });
                    let decision = decide(state.as_ref(), at, &decision_source, timeout, ctx.tz);
                    let mut links = Vec::new();
                    let mut new_visit = None;
                    let session = match (decision, prev) {
                        (SessionDecision::Continue, Some(mut s)) => {
                            s.progress.hits += 1;
                            s.progress.last_at = s.progress.last_at.max(at);
                            for (kind, seen, sent) in [
                                ("ga_cid", &mut s.progress.ga_cid, &f.ga_cid),
                                ("ym_uid", &mut s.progress.ym_uid, &f.ym_uid),
                            ] {
                                if sent.is_some() && sent != seen {
                                    links.push((kind, sent.clone()));
                                    if seen.is_none() {
                                        seen.clone_from(sent);
                                    }
                                }
                            }
                            s
                        }
                        _ => {
                            // A spent block: `None` leaves the entry as it was.
                            let (id, code) = self.inner.numbering.take(project)?;
                            links.push(("ga_cid", f.ga_cid.clone()));
                            links.push(("ym_uid", f.ym_uid.clone()));
                            let visit = Visit {
                                id,
                                code,
                                vid: vid.clone(),
                                started_at: at,
                                last_at: at,
                                hits: 1,
                                channel: ctx.channels.classify(&source, &f.url).to_owned(),
                                source: source.clone(),
                                landing: f.url.clone(),
                                referrer: f.referrer.clone(),
                                device: device.clone(),
                                screen: f.screen.clone(),
                                lang: f.lang.clone(),
                                tz: f.tz.clone(),
                                country: location.country.clone(),
                                region: location.region.clone(),
                                city: location.city.clone(),
                                ga_cid: f.ga_cid.clone(),
                                ym_uid: f.ym_uid.clone(),
                            };
                            let session = ActiveSession::of(&visit, at);
                            new_visit = Some(Arc::new(visit));
                            session
                        }
                    };
                    let mut session = session;
                    session.expires_at =
                        session.progress.last_at + timeout + chrono::Duration::minutes(1);
                    if slot
                        .as_ref()
                        .is_none_or(|s| session.progress.last_at >= s.progress.last_at)
                    {
                        *slot = Some(session.clone());
                    }
                    let created = new_visit.clone();
                    let links: Vec<VisitorLink> = links
                        .into_iter()
                        .filter_map(|(kind, value)| {
                            value.map(|value| VisitorLink {
                                vid: vid.clone(),
                                kind,
                                value,
                            })
                        })
                        .collect();
                    let record = IngestWrite::Hit {
                        scope: ctx.scope,
                        visit_id: session.visit_id,
                        new_visit,
                        progress: session.progress.clone(),
                        hit: Hit {
                            visit_id: session.visit_id,
                            at,
                            url: f.url.clone(),
                            title: f.title.clone(),
                            event: f.event.clone(),
                            props: f
                                .props
                                .as_ref()
                                .map(|p| serde_json::Value::Object(p.clone()).to_string()),
                        },
                        links,
                    };
                    let prepared = if enqueue {
                        self.inner.writer.enqueue(record).map(Prepared::Queued)
                    } else {
                        Ok(Prepared::Record(record))
                    };
                    Some((session, prepared, created))
                })
                .await;
            match decided {
                Some(Some(done)) => break done,
                Some(None) => self.ensure_numbers(project, ctx.scope).await?,
                None => {
                    return Err(AppError::Internal(
                        "the session table did not decide the hit".into(),
                    ))
                }
            }
        };
        let prepared = prepared.map_err(write_error)?;
        // Call tracking: only the site script's hits show a number, and a
        // project without dynamic pools pays one check.
        let phone = if enqueue && ctx.settings.calltracking.has_dynamic() {
            let traits = created
                .as_deref()
                .map(|v| skvoz_domain::calltracking::VisitTraits {
                    source: &v.source.source,
                    medium: &v.source.medium,
                    campaign: v.source.campaign.as_deref(),
                    channel: &v.channel,
                });
            self.inner
                .numbers
                .on_hit(ctx, session.visit_id, &vid, traits, at)
                .await
        } else {
            None
        };
        if let Some(o) = overlay {
            o.insert(vid.clone(), session.clone());
        }
        // Messenger links: nothing to do (no allocation) unless configured.
        let (wa, tg) = if ctx.messenger_links.is_empty() {
            (Vec::new(), Vec::new())
        } else {
            (
                ctx.messenger_links.wa_texts(&f.url, session.code),
                ctx.messenger_links.tg_payloads(session.code),
            )
        };
        let outcome = HitOutcome {
            vid,
            visit_id: Some(session.visit_id),
            visit_code: Some(session.code),
            phone,
            wa_text: wa.first().map(|w| w.t.clone()),
            wa,
            tg,
            bot: false,
        };
        Ok((outcome, prepared))
    }
}

fn count(outcome: &HitOutcome) {
    // Handles registered once: a registry lookup per hit shows at tens of
    // thousands of hits a second.
    static HITS: std::sync::OnceLock<metrics::Counter> = std::sync::OnceLock::new();
    static BOT_HITS: std::sync::OnceLock<metrics::Counter> = std::sync::OnceLock::new();
    let counter = if outcome.bot {
        BOT_HITS.get_or_init(|| metrics::counter!(INGESTED, "kind" => "bot_hit"))
    } else {
        HITS.get_or_init(|| metrics::counter!(INGESTED, "kind" => "hit"))
    };
    counter.increment(1);
}

fn prefix_field(e: AppError, i: usize) -> AppError {
    match e {
        AppError::Invalid { field, message } => AppError::Invalid {
            field: Some(match field {
                Some(f) => format!("[{i}].{f}"),
                None => format!("[{i}]"),
            }),
            message,
        },
        other => other,
    }
}
