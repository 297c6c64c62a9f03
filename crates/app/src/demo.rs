//! The demo data set behind `skvoz demo` and `serve --demo`: a project named
//! `demo` filled with what a Russian online electronics shop sees over a
//! number of days — visitors and their visits from Yandex and Google (organic
//! and ads), VK and Telegram, e-mail newsletters, referring sites and direct
//! entries; form leads (some repeated while the deal is open, some without a
//! visit); WhatsApp and Telegram dialogs (see `chats`); deals moving through
//! the pipeline to won or lost, and repeat sales.
//!
//! Everything enters through the services real data takes — history import
//! for hits, the form-lead path, CRM deal upserts — so sessionization, the
//! channel rules, lead deduplication and deal adoption run exactly as they do
//! in production.
//!
//! Reproducible: visitor `i` is planned from its own random stream seeded
//! from `(seed, i)`, and every time derives from [`DemoOptions::end`], so the
//! same options give the same visits, leads and deals. Streamed: visitors are
//! planned, imported and their CRM events replayed one batch at a time, so
//! memory does not grow with the number of visitors.

mod chats;
mod costs;
mod outbox;

use crate::crm::{LeadInput, Strictness};
use crate::projects::CreatedProject;
use crate::tracking::context::ProjectContext;
use crate::tracking::input::HitFields;
use crate::tracking::{HitInput, HitOutcome};
use crate::{keys, App, AppError};
use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use skvoz_domain::crm::DealUpdate;
use skvoz_domain::Money;
use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;

pub mod calls;
mod surveys;
mod tickets;

/// The login of the demo administrator.
pub const DEMO_ADMIN: &str = "admin";

/// The name of the demo project.
pub const DEMO_PROJECT: &str = "demo";

/// The shop's address; every page of the demo is on it.
const SITE: &str = "https://shop.example.ru";

/// The shop's name in page titles.
const SHOP: &str = "Пример Маркет";

/// Hits per `import` call (the API takes at most 10,000); a visitor's hits
/// never straddle two calls.
const BATCH_HITS: usize = 2_000;

/// Most visitors one run generates.
const MAX_VISITORS: u32 = 10_000_000;

/// Most days of history.
const MAX_DAYS: u32 = 3_650;

/// What [`generate`] produces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoOptions {
    /// Days of history before [`DemoOptions::end`] (default 90).
    pub days: u32,
    /// Seed of the random streams: the same seed and `end` give the same
    /// data (default 42).
    pub seed: u64,
    /// People visiting the site; each makes one or more visits (default
    /// 3000). Crawlers come on top.
    pub visitors: u32,
    /// The data stops at midnight UTC at the start of this day (default
    /// today): the last day of history is the day before. Must not be later
    /// than today.
    pub end: NaiveDate,
}

impl Default for DemoOptions {
    fn default() -> Self {
        DemoOptions {
            days: 90,
            seed: 42,
            visitors: 3_000,
            end: Utc::now().date_naive(),
        }
    }
}

impl DemoOptions {
    fn validate(&self) -> Result<(), AppError> {
        if !(1..=MAX_DAYS).contains(&self.days) {
            return Err(AppError::invalid(
                "days",
                format!("days must be 1-{MAX_DAYS}"),
            ));
        }
        if !(1..=MAX_VISITORS).contains(&self.visitors) {
            return Err(AppError::invalid(
                "visitors",
                format!("visitors must be 1-{MAX_VISITORS}"),
            ));
        }
        if self.end > Utc::now().date_naive() {
            return Err(AppError::invalid("end", "end must not be later than today"));
        }
        Ok(())
    }
}

/// What a run produced.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DemoStats {
    /// Visitors (people; crawlers not counted).
    pub visitors: u64,
    /// Visits, as sessionization cut them.
    pub visits: u64,
    /// Page views and events of those visits (crawler hits not counted).
    pub hits: u64,
    /// Leads (forms and messenger dialogs), duplicates included.
    pub leads: u64,
    /// Deals (one per lead that was not a duplicate).
    pub deals: u64,
    /// Deals that reached the won stage.
    pub won: u64,
    /// Daily cost rows (campaign × ad × keyword × day).
    pub cost_rows: u64,
    /// Messenger dialogs (their leads are counted in `leads`).
    pub dialogs: u64,
    /// Calls (call tracking), to tracking numbers and the shop's own.
    pub calls: u64,
    /// Support tickets (their leads of kind `ticket` are not in `leads`).
    pub tickets: u64,
    /// Survey answers (CSAT after tickets, NPS after sales).
    pub survey_answers: u64,
}

/// What seeding produced, for printing once.
#[derive(Debug, Clone)]
pub struct DemoSeed {
    /// The demo project's keys (the API key in clear, once).
    pub project: CreatedProject,
    /// The admin's login and generated password, when one was created now.
    pub admin: Option<(String, String)>,
    /// What the data set holds.
    pub stats: DemoStats,
}

/// Creates the `demo` project (a conflict if one exists) and fills it.
/// `progress` is called after every batch with (visitors done, visitors in
/// all).
pub async fn generate(
    app: &App,
    options: &DemoOptions,
    progress: &(dyn Fn(u64, u64) + Sync),
) -> Result<(CreatedProject, DemoStats), AppError> {
    options.validate()?;
    if app.projects.by_name(DEMO_PROJECT).await?.is_some() {
        return Err(AppError::Conflict(format!(
            "a project named '{DEMO_PROJECT}' already exists"
        )));
    }
    let (project, created) = app.projects.create(DEMO_PROJECT, None, None).await?;
    let ctx = app.contexts.by_id(project.id).await?;
    let planner = Planner::new(options, ctx.tz);
    let mut replay = Replay {
        app,
        ctx: &ctx,
        stats: DemoStats::default(),
        next_deal: 0,
    };
    let total = u64::from(options.visitors);
    let mut batch: Vec<PlannedVisitor> = Vec::new();
    let mut batch_hits = 0;
    let mut imported: Option<Imported> = None;
    for i in 0..total {
        let person = planner.visitor(i);
        batch_hits += person.hits.len();
        batch.push(person);
        if let Some(crawler) = planner.crawler(i) {
            batch_hits += crawler.hits.len();
            batch.push(crawler);
        }
        if batch_hits >= BATCH_HITS {
            let next = std::mem::take(&mut batch);
            imported = Some(replay.overlapped(next, imported.take()).await?);
            batch_hits = 0;
            progress(i + 1 - imported.as_ref().map_or(0, Imported::people), total);
        }
    }
    let last = replay.overlapped(batch, imported.take()).await?;
    replay.replay(last).await?;
    let end = Utc.from_utc_datetime(&options.end.and_time(NaiveTime::MIN));
    let from = end - Duration::days(i64::from(options.days) + 1);
    let phoned = calls::generate(app, &ctx, options.seed, from, end).await?;
    let mut stats = replay.stats;
    stats.calls = phoned.calls;
    stats.visits += phoned.offline_visits;
    stats.leads += phoned.leads;
    stats.deals += phoned.deals;
    stats.cost_rows = costs::generate(app, &ctx, options.seed).await?;
    chats::generate(app, project.id, options, &mut stats).await?;
    stats.tickets = tickets::generate(app, &ctx, options).await?;
    outbox::generate(app, &ctx, end).await?;
    stats.survey_answers =
        surveys::generate(app, &ctx, options, from, end + Duration::days(1)).await?;
    progress(total, total);
    Ok((created, stats))
}

/// Creates the first admin when the store has no users yet; returns the
/// login and password to print once. `password` is used when given,
/// otherwise one is generated.
pub async fn ensure_admin(
    app: &App,
    password: Option<&str>,
) -> Result<Option<(String, String)>, AppError> {
    if app.auth.has_users().await? {
        return Ok(None);
    }
    let password = password
        .map(str::to_owned)
        .unwrap_or_else(|| keys::random_token("", 9));
    app.auth.create_user(DEMO_ADMIN, &password, true).await?;
    Ok(Some((DEMO_ADMIN.to_owned(), password)))
}

/// For `serve --demo`: on a store without a `demo` project, creates the
/// first admin (see [`ensure_admin`]) and generates the demo data set.
/// Returns `None` when a `demo` project already exists.
pub async fn seed_if_empty(
    app: &App,
    admin_password: Option<&str>,
    options: &DemoOptions,
) -> Result<Option<DemoSeed>, AppError> {
    if app.projects.by_name(DEMO_PROJECT).await?.is_some() {
        return Ok(None);
    }
    let (project, stats) = generate(app, options, &|_, _| {}).await?;
    let admin = ensure_admin(app, admin_password).await?;
    Ok(Some(DemoSeed {
        project,
        admin,
        stats,
    }))
}

// ---------------------------------------------------------------------------
// Replaying plans through the services
// ---------------------------------------------------------------------------

/// Feeds planned visitors to the services and counts what they made.
struct Replay<'a> {
    app: &'a App,
    ctx: &'a ProjectContext,
    stats: DemoStats,
    /// The last `demo-<n>` deal number handed out.
    next_deal: u64,
}

/// A batch whose hits are committed, with what the import answered.
struct Imported {
    batch: Vec<PlannedVisitor>,
    outcomes: Vec<HitOutcome>,
}

impl Imported {
    /// Visitors (not crawlers) in the batch.
    fn people(&self) -> u64 {
        self.batch.iter().filter(|v| !v.crawler).count() as u64
    }
}

/// Imports a batch's hits in one call.
async fn import(
    app: &App,
    ctx: &ProjectContext,
    batch: Vec<PlannedVisitor>,
) -> Result<Imported, AppError> {
    let inputs: Vec<HitInput> = batch
        .iter()
        .flat_map(|v| v.hits.iter().map(move |h| v.input(h)))
        .collect();
    let sent = inputs.len();
    let outcomes = if inputs.is_empty() {
        Vec::new()
    } else {
        app.tracking.import(ctx.project.id, inputs).await?
    };
    if outcomes.len() != sent {
        return Err(AppError::Internal(format!(
            "import answered {} of {sent} hits",
            outcomes.len()
        )));
    }
    Ok(Imported { batch, outcomes })
}

impl Replay<'_> {
    /// Imports `next` while replaying the CRM events of `previous`, so the
    /// store's two kinds of work overlap. Ids stay reproducible: only
    /// imports create visits, and only replays create contacts, leads and
    /// deals, each in order.
    async fn overlapped(
        &mut self,
        next: Vec<PlannedVisitor>,
        previous: Option<Imported>,
    ) -> Result<Imported, AppError> {
        let (app, ctx) = (self.app, self.ctx);
        let (imported, replayed) = tokio::join!(import(app, ctx, next), async {
            match previous {
                Some(previous) => self.replay(previous).await,
                None => Ok(()),
            }
        });
        replayed?;
        imported
    }

    /// Counts an imported batch and replays each visitor's leads and deal
    /// updates in time order, with the visit codes the import returned.
    async fn replay(&mut self, imported: Imported) -> Result<(), AppError> {
        let Imported { batch, outcomes } = imported;
        let mut visits = HashSet::new();
        let mut offset = 0;
        for visitor in batch {
            let own = &outcomes[offset..offset + visitor.hits.len()];
            offset += visitor.hits.len();
            if visitor.crawler {
                continue;
            }
            self.stats.visitors += 1;
            for outcome in own {
                if let Some(id) = outcome.visit_id {
                    visits.insert(id);
                    self.stats.hits += 1;
                }
            }
            self.replay_crm(&visitor, own).await?;
        }
        // Visitors never share a visit, and a visitor's hits are all in
        // one batch: counting per batch counts every visit once.
        self.stats.visits += visits.len() as u64;
        Ok(())
    }

    async fn replay_crm(
        &mut self,
        visitor: &PlannedVisitor,
        outcomes: &[HitOutcome],
    ) -> Result<(), AppError> {
        let mut numbers: HashMap<u32, u64> = HashMap::new();
        for step in &visitor.crm {
            match step {
                CrmStep::Lead(lead) => {
                    let code = lead
                        .hit
                        .and_then(|h| outcomes.get(h))
                        .and_then(|o| o.visit_code);
                    let fields = lead.product.map(|p| {
                        let mut m = serde_json::Map::new();
                        m.insert("product".into(), p.into());
                        m
                    });
                    let recorded = self
                        .app
                        .leads
                        .create_form_lead(
                            self.ctx,
                            LeadInput {
                                visit_code: code.map(serde_json::Value::from),
                                phone: lead.phone.clone(),
                                email: lead.email.clone(),
                                name: lead.name.clone(),
                                form: Some(lead.form.to_owned()),
                                fields,
                                created_at: Some(lead.at),
                                ..LeadInput::default()
                            },
                        )
                        .await?;
                    self.stats.leads += 1;
                    if !recorded.duplicate && recorded.deal_id.is_some() {
                        self.stats.deals += 1;
                    }
                }
                CrmStep::Deal(step) => {
                    let n = *numbers.entry(step.deal).or_insert_with(|| {
                        self.next_deal += 1;
                        self.next_deal
                    });
                    let recorded = self
                        .app
                        .deals
                        .upsert(
                            self.ctx,
                            DealUpdate {
                                external_id: format!("demo-{n}"),
                                stage: Some(step.stage.name().to_owned()),
                                revenue: step.revenue,
                                profit: step.profit,
                                created_at: Some(step.created_at),
                                closed_at: step.stage.is_closed().then_some(step.at),
                                phone: step.phone.clone(),
                                email: step.email.clone(),
                                product: step.product.map(str::to_owned),
                                changed_at: Some(step.at),
                                ..DealUpdate::default()
                            },
                            Strictness::Api,
                            None,
                        )
                        .await?;
                    if recorded.created {
                        self.stats.deals += 1;
                    }
                    if step.stage == Stage::Won {
                        self.stats.won += 1;
                    }
                }
            }
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------
// Plans
// ---------------------------------------------------------------------------

/// One page view or event as the site script would send it.
#[derive(Debug, Clone, PartialEq)]
struct PlannedHit {
    at: DateTime<Utc>,
    url: String,
    referrer: Option<String>,
    title: Option<String>,
    /// A `form_submit` event of this form, rather than a page view.
    form: Option<&'static str>,
}

/// One visit as planned (sessionization decides the stored visits; a visit
/// across local midnight becomes two).
#[derive(Debug, Clone, PartialEq)]
struct PlannedVisit {
    hits: Vec<PlannedHit>,
}

impl PlannedVisit {
    fn start(&self) -> DateTime<Utc> {
        self.hits.first().map_or(DateTime::<Utc>::MIN_UTC, |h| h.at)
    }

    fn end(&self) -> DateTime<Utc> {
        self.hits.last().map_or(DateTime::<Utc>::MIN_UTC, |h| h.at)
    }
}

/// A visitor's browser, hits and CRM events, ready to replay.
#[derive(Debug, Clone, PartialEq)]
struct PlannedVisitor {
    crawler: bool,
    vid: String,
    ua: &'static str,
    screen: Option<&'static str>,
    lang: Option<&'static str>,
    tz: Option<&'static str>,
    ga_cid: Option<String>,
    ym_uid: Option<String>,
    /// All hits, in time order.
    hits: Vec<PlannedHit>,
    /// Leads and deal updates, in time order.
    crm: Vec<CrmStep>,
}

impl PlannedVisitor {
    fn input(&self, hit: &PlannedHit) -> HitInput {
        let props = hit.form.map(|form| {
            let mut m = serde_json::Map::new();
            m.insert("form".into(), form.into());
            m
        });
        HitInput {
            fields: HitFields {
                key: None,
                vid: Some(self.vid.clone()),
                url: hit.url.clone(),
                referrer: hit.referrer.clone(),
                title: hit.title.clone(),
                screen: self.screen.map(str::to_owned),
                lang: self.lang.map(str::to_owned),
                tz: self.tz.map(str::to_owned),
                ga_cid: self.ga_cid.clone(),
                ym_uid: self.ym_uid.clone(),
                event: hit.form.map(|_| "form_submit".to_owned()),
                props,
            },
            at: hit.at,
            explicit_time: true,
            ip: None,
            ua: Some(self.ua.to_owned()),
        }
    }
}

/// A lead or a deal update.
#[derive(Debug, Clone, PartialEq)]
enum CrmStep {
    Lead(PlannedLead),
    Deal(PlannedDealStep),
}

impl CrmStep {
    fn at(&self) -> DateTime<Utc> {
        match self {
            CrmStep::Lead(l) => l.at,
            CrmStep::Deal(d) => d.at,
        }
    }
}

/// A site form sent.
#[derive(Debug, Clone, PartialEq)]
struct PlannedLead {
    at: DateTime<Utc>,
    /// The hit (index into the visitor's hits) whose visit code the form
    /// passed; `None` for a form that passed none.
    hit: Option<usize>,
    /// Before hits are flattened: (visit, hit in visit).
    hit_ref: Option<(usize, usize)>,
    form: &'static str,
    phone: Option<String>,
    email: Option<String>,
    name: Option<String>,
    product: Option<&'static str>,
}

/// The pipeline stages the demo uses (the default pipeline).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    New,
    Qualified,
    Proposal,
    Won,
    Lost,
}

impl Stage {
    fn name(self) -> &'static str {
        match self {
            Stage::New => "new",
            Stage::Qualified => "qualified",
            Stage::Proposal => "proposal",
            Stage::Won => "won",
            Stage::Lost => "lost",
        }
    }

    fn is_closed(self) -> bool {
        matches!(self, Stage::Won | Stage::Lost)
    }
}

/// The CRM reporting a deal in a stage.
#[derive(Debug, Clone, PartialEq)]
struct PlannedDealStep {
    at: DateTime<Utc>,
    /// The visitor's deal this is (0 = first; `demo-<n>` is numbered when
    /// replayed).
    deal: u32,
    stage: Stage,
    created_at: DateTime<Utc>,
    revenue: Option<Money>,
    profit: Option<Money>,
    product: Option<&'static str>,
    phone: Option<String>,
    email: Option<String>,
}

// ---------------------------------------------------------------------------
// Planning
// ---------------------------------------------------------------------------

/// A random stream for one visitor (`salt` separates a visitor's person
/// from its crawler).
fn stream(seed: u64, index: u64, salt: u64) -> StdRng {
    fn mix(mut z: u64) -> u64 {
        // splitmix64: neighbouring indices get unrelated seeds.
        z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    StdRng::seed_from_u64(mix(
        mix(seed) ^ mix(index.wrapping_mul(4).wrapping_add(salt))
    ))
}

/// Picks from a weighted table.
fn pick<'t, T>(rng: &mut StdRng, table: &'t [(T, u32)]) -> &'t T {
    let total: u32 = table.iter().map(|(_, w)| w).sum();
    let mut roll = rng.gen_range(0..total.max(1));
    for (item, weight) in table {
        if roll < *weight {
            return item;
        }
        roll -= weight;
    }
    &table[table.len() - 1].0
}

/// Picks one of a non-empty slice.
fn one<'t, T>(rng: &mut StdRng, items: &'t [T]) -> &'t T {
    &items[rng.gen_range(0..items.len())]
}

/// Random seconds in `[lo, hi)`.
fn secs(rng: &mut StdRng, lo: i64, hi: i64) -> Duration {
    Duration::seconds(rng.gen_range(lo..hi))
}

/// Percent-encodes a query value. By hand: the values are this module's own
/// fixed strings, not worth a URL dependency of the application crate.
fn encode_query(value: &str) -> String {
    let mut out = String::with_capacity(value.len() * 3);
    for b in value.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => out.push(b as char),
            b' ' => out.push('+'),
            _ => {
                let _ = write!(out, "%{b:02X}");
            }
        }
    }
    out
}

/// Plans visitors: the calendar of a run and the tables.
struct Planner {
    seed: u64,
    days: u32,
    first_day: NaiveDate,
    end: DateTime<Utc>,
    tz: Tz,
    /// Cumulative weights of the days (weekly rhythm, slow growth).
    day_weights: Vec<f64>,
}

impl Planner {
    fn new(options: &DemoOptions, tz: Tz) -> Planner {
        let first_day = options.end - Duration::days(i64::from(options.days));
        let mut acc = 0.0;
        let day_weights = (0..options.days)
            .map(|d| {
                let date = first_day + Duration::days(i64::from(d));
                let weekday = [1.05, 1.05, 1.0, 1.0, 0.95, 0.8, 0.9]
                    [date.weekday().num_days_from_monday() as usize];
                let trend = 0.85 + 0.3 * f64::from(d) / f64::from(options.days);
                acc += weekday * trend;
                acc
            })
            .collect();
        Planner {
            seed: options.seed,
            days: options.days,
            first_day,
            end: Utc.from_utc_datetime(&options.end.and_time(NaiveTime::MIN)),
            tz,
            day_weights,
        }
    }

    fn date(&self, day: u32) -> NaiveDate {
        self.first_day + Duration::days(i64::from(day))
    }

    /// The instant of `seconds` after local midnight of `day`.
    fn at(&self, day: u32, seconds: u32) -> DateTime<Utc> {
        let local = self.date(day).and_time(NaiveTime::MIN) + Duration::seconds(i64::from(seconds));
        self.tz
            .from_local_datetime(&local)
            .earliest()
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_else(|| Utc.from_utc_datetime(&local))
    }

    /// The local day of an instant, as an index (may be out of range).
    fn day_of(&self, at: DateTime<Utc>) -> i64 {
        (at.with_timezone(&self.tz).date_naive() - self.first_day).num_days()
    }

    fn random_day(&self, rng: &mut StdRng) -> u32 {
        let total = self.day_weights.last().copied().unwrap_or(1.0);
        let roll = rng.gen_range(0.0..total);
        self.day_weights.partition_point(|&w| w <= roll) as u32
    }

    /// A local time of day, following the shop's daily curve.
    fn random_time(rng: &mut StdRng) -> u32 {
        let hour = *pick(rng, HOURS);
        hour * 3600 + rng.gen_range(0..3600)
    }

    /// A crawler for some visitor indices (about one in 25).
    fn crawler(&self, i: u64) -> Option<PlannedVisitor> {
        let mut rng = stream(self.seed, i, 1);
        if !rng.gen_ratio(1, 25) {
            return None;
        }
        let ua = *one(&mut rng, CRAWLERS);
        let mut hits: Vec<PlannedHit> = (0..rng.gen_range(2..15))
            .map(|_| {
                let day = rng.gen_range(0..self.days);
                let at = self.at(day, rng.gen_range(0..86_400));
                let cat = rng.gen_range(0..CATEGORIES.len());
                let page = match rng.gen_range(0..3) {
                    0 => Page::Catalog(cat),
                    1 => Page::Product(cat, rng.gen_range(0..CATEGORIES[cat].products.len())),
                    _ => Page::Home,
                };
                PlannedHit {
                    at,
                    url: format!("{SITE}{}", page.path()),
                    referrer: None,
                    title: None,
                    form: None,
                }
            })
            .filter(|h| h.at < self.end)
            .collect();
        hits.sort_by_key(|h| h.at);
        Some(PlannedVisitor {
            crawler: true,
            vid: format!("{:016x}{:08x}", rng.gen::<u64>(), rng.gen::<u32>()),
            ua,
            screen: None,
            lang: None,
            tz: None,
            ga_cid: None,
            ym_uid: None,
            hits,
            crm: Vec::new(),
        })
        .filter(|c| !c.hits.is_empty())
    }

    /// Visitor `i`: browser, visits over the days, and — for those who send
    /// a form — leads and the deals they open.
    fn visitor(&self, i: u64) -> PlannedVisitor {
        let mut rng = stream(self.seed, i, 0);
        let rng = &mut rng;
        let device = pick(rng, DEVICES);
        let screen = *one(rng, device.screens);
        let lang = *pick(rng, LANGS);
        let tz = *pick(rng, TIME_ZONES);
        let vid = format!("{:016x}{:08x}", rng.gen::<u64>(), rng.gen::<u32>());
        let first_day = self.random_day(rng);
        let first_at = self.at(first_day, Self::random_time(rng));
        let ga_cid = rng.gen_bool(0.35).then(|| {
            format!(
                "{}.{}",
                rng.gen_range(100_000_000..2_147_483_647u32),
                first_at.timestamp()
            )
        });
        let ym_uid = rng.gen_bool(0.6).then(|| {
            format!(
                "{}{}",
                first_at.timestamp(),
                rng.gen_range(100_000_000..1_000_000_000u32)
            )
        });

        // Visits: most people come once; some come back on later days,
        // from other sources.
        let count = match rng.gen_range(0..100) {
            0..=61 => 1,
            62..=81 => 2,
            82..=90 => 3,
            91..=95 => 4,
            _ => rng.gen_range(5..=8),
        };
        let mut interest = *pick(rng, CATEGORY_WEIGHTS);
        let mut visits: Vec<PlannedVisit> = Vec::new();
        let mut arrivals: Vec<Arrival> = Vec::new();
        let mut lead_visit: Option<usize> = None;
        let mut start = first_at;
        for n in 0..count {
            if n > 0 {
                // Back after a few days (sometimes the same day, hours later).
                let gap_days = (-3.5 * (1.0 - rng.gen::<f64>()).ln()) as i64;
                let day = self.day_of(start) + gap_days;
                let candidate = if gap_days == 0 {
                    start + secs(rng, 2 * 3600, 8 * 3600)
                } else {
                    match u32::try_from(day) {
                        Ok(day) if day < self.days => self.at(day, Self::random_time(rng)),
                        _ => break,
                    }
                };
                start = self.free_start(&visits, candidate, rng);
            }
            if start >= self.end {
                break;
            }
            let arrival = *pick(
                rng,
                if n == 0 {
                    FIRST_ARRIVALS
                } else {
                    RETURN_ARRIVALS
                },
            );
            let rate = 0.024 * arrival.conversion() * if n > 0 { 1.6 } else { 1.0 };
            let converts = lead_visit.is_none() && rng.gen_bool(rate.min(1.0));
            let visit = self.visit(rng, start, arrival, &mut interest, n == 0, converts);
            if converts {
                lead_visit = Some(visits.len());
            }
            visits.push(visit);
            arrivals.push(arrival);
        }

        let mut crm = Vec::new();
        if let Some(v) = lead_visit {
            self.plan_customer(rng, i, &mut visits, &arrivals, v, interest, &mut crm);
        }
        self.finish(
            PlannedVisitor {
                crawler: false,
                vid,
                ua: device.ua,
                screen: Some(screen),
                lang: Some(lang),
                tz: Some(tz),
                ga_cid,
                ym_uid,
                hits: Vec::new(),
                crm,
            },
            visits,
        )
    }

    /// Moves a visit's start clear of the visitor's other visits.
    fn free_start(
        &self,
        visits: &[PlannedVisit],
        mut at: DateTime<Utc>,
        rng: &mut StdRng,
    ) -> DateTime<Utc> {
        let margin = Duration::minutes(45);
        while let Some(busy) = visits
            .iter()
            .find(|v| at > v.start() - margin && at < v.end() + margin)
        {
            at = busy.end() + margin + secs(rng, 0, 3 * 3600);
        }
        at
    }

    /// Orders visits, drops what falls after the end, and points leads at
    /// hits.
    fn finish(&self, mut visitor: PlannedVisitor, mut visits: Vec<PlannedVisit>) -> PlannedVisitor {
        // Visits never overlap, so ordering by start orders all hits; the
        // lead references follow the visits they point at.
        let mut order: Vec<usize> = (0..visits.len()).collect();
        order.sort_by_key(|&v| visits[v].start());
        let mut flat_start = vec![0; visits.len()];
        let mut hits = Vec::new();
        for &v in &order {
            flat_start[v] = hits.len();
            hits.append(&mut visits[v].hits);
        }
        let kept = hits.partition_point(|h: &PlannedHit| h.at < self.end);
        hits.truncate(kept);
        visitor.hits = hits;
        visitor.crm.retain(|s| s.at() < self.end);
        for step in &mut visitor.crm {
            if let CrmStep::Lead(lead) = step {
                lead.hit = lead
                    .hit_ref
                    .map(|(v, h)| flat_start[v] + h)
                    .filter(|&h| h < kept);
            }
        }
        visitor.crm.sort_by_key(CrmStep::at);
        visitor
    }

    /// One visit: a landing from `arrival`, a walk through the shop, and
    /// with `converts` a form sent at the end.
    fn visit(
        &self,
        rng: &mut StdRng,
        start: DateTime<Utc>,
        arrival: Arrival,
        interest: &mut usize,
        first: bool,
        converts: bool,
    ) -> PlannedVisit {
        let date = start.with_timezone(&self.tz).date_naive();
        let (page, query, referrer) = landing(rng, arrival, interest, first, date);
        let mut url = format!("{SITE}{}{query}", page.path());
        let mut hits = vec![PlannedHit {
            at: start,
            url: url.clone(),
            referrer,
            title: Some(page.title()),
            form: None,
        }];
        let pages = if converts {
            rng.gen_range(3..9)
        } else if rng.gen_bool(arrival.bounce_rate()) {
            1
        } else {
            2 + (-2.2 * (1.0 - rng.gen::<f64>()).ln()) as usize
        }
        .min(20);
        let mut at = start;
        let mut current = page;
        for n in 1..pages {
            let mut next = next_page(rng, current, *interest);
            if converts && n == pages - 1 && !matches!(next, Page::Product(..) | Page::Cart) {
                next = Page::Product(
                    *interest,
                    rng.gen_range(0..CATEGORIES[*interest].products.len()),
                );
            }
            at += secs(rng, 15, 240);
            let next_url = format!("{SITE}{}", next.path());
            hits.push(PlannedHit {
                at,
                url: next_url.clone(),
                referrer: Some(url),
                title: Some(next.title()),
                form: None,
            });
            url = next_url;
            current = next;
        }
        if converts {
            let form = *pick(
                rng,
                if matches!(current, Page::Cart) {
                    CART_FORMS
                } else {
                    PRODUCT_FORMS
                },
            );
            add_form(rng, &mut hits, form);
        }
        PlannedVisit { hits }
    }

    /// A person who sent a form: identity, the first lead, its deal's way
    /// through the pipeline, a duplicate form now and then, and repeat
    /// purchases after a won deal.
    #[allow(clippy::too_many_arguments)]
    fn plan_customer(
        &self,
        rng: &mut StdRng,
        i: u64,
        visits: &mut Vec<PlannedVisit>,
        arrivals: &[Arrival],
        lead_visit: usize,
        interest: usize,
        crm: &mut Vec<CrmStep>,
    ) {
        let person = Person::new(rng, self.seed, i);
        let (with_phone, with_email) = match rng.gen_range(0..100) {
            0..=54 => (true, false),
            55..=89 => (true, true),
            _ => (false, true),
        };
        let lead_hit = visits[lead_visit].hits.len() - 1;
        let t0 = visits[lead_visit].hits[lead_hit].at + Duration::seconds(1);
        let product = rng.gen_range(0..CATEGORIES[interest].products.len());
        // Some site forms pass no visit code: those leads stay unattributed.
        let attributed = !rng.gen_bool(0.08);
        crm.push(CrmStep::Lead(person.lead(
            rng,
            t0,
            attributed.then_some((lead_visit, lead_hit)),
            visits[lead_visit].hits[lead_hit].form.unwrap_or("callback"),
            with_phone,
            with_email,
            Some(CATEGORIES[interest].products[product].name),
        )));
        let path = deal_path(rng, t0, false);
        let closes = path.last().filter(|(_, s)| s.is_closed()).map(|(t, _)| *t);

        // The same person again while the deal is open: a second form in
        // the same visit, or on a later visit.
        if rng.gen_bool(0.15) {
            let until = closes.unwrap_or(self.end).min(t0 + Duration::days(5));
            if rng.gen_bool(0.3) {
                let at = t0 + secs(rng, 60, 300);
                if at < until {
                    let form = *pick(rng, PRODUCT_FORMS);
                    add_form_at(&mut visits[lead_visit].hits, at, form);
                    let hit = visits[lead_visit].hits.len() - 1;
                    crm.push(CrmStep::Lead(person.lead(
                        rng,
                        at + Duration::seconds(1),
                        Some((lead_visit, hit)),
                        form,
                        with_phone,
                        with_email,
                        None,
                    )));
                }
            } else if until > t0 + Duration::hours(2) {
                let span = (until - t0).num_seconds();
                let at = t0 + secs(rng, 2 * 3600, span);
                let at = self.free_start(visits, at, rng);
                let arrival = if rng.gen_bool(0.6) {
                    Arrival::Direct
                } else {
                    arrivals[lead_visit]
                };
                let mut topic = interest;
                let visit = self.visit(rng, at, arrival, &mut topic, false, true);
                let hit = visit.hits.len() - 1;
                let lead_at = visit.hits[hit].at + Duration::seconds(1);
                let form = visit.hits[hit].form.unwrap_or("callback");
                if lead_at < until {
                    visits.push(visit);
                    crm.push(CrmStep::Lead(person.lead(
                        rng,
                        lead_at,
                        Some((visits.len() - 1, hit)),
                        form,
                        with_phone,
                        with_email,
                        None,
                    )));
                }
            }
        }
        let mut won_at = self.push_deal(
            rng,
            crm,
            &person,
            0,
            t0,
            &path,
            (interest, product),
            with_phone,
            with_email,
        );

        // Happy customers come back weeks later for something else.
        let mut deal = 1;
        while let Some(won) = won_at {
            if deal > 2 || !rng.gen_bool(0.3) {
                break;
            }
            let at = won + secs(rng, 10 * 86_400, 45 * 86_400);
            let at = self.free_start(visits, at, rng);
            if at >= self.end {
                break;
            }
            let arrival = *pick(rng, REPEAT_ARRIVALS);
            let mut topic = if rng.gen_bool(0.5) {
                ACCESSORIES
            } else {
                *pick(rng, CATEGORY_WEIGHTS)
            };
            let visit = self.visit(rng, at, arrival, &mut topic, false, true);
            let hit = visit.hits.len() - 1;
            let t = visit.hits[hit].at + Duration::seconds(1);
            let form = visit.hits[hit].form.unwrap_or("callback");
            visits.push(visit);
            let product = rng.gen_range(0..CATEGORIES[topic].products.len());
            crm.push(CrmStep::Lead(person.lead(
                rng,
                t,
                Some((visits.len() - 1, hit)),
                form,
                with_phone,
                with_email,
                Some(CATEGORIES[topic].products[product].name),
            )));
            let path = deal_path(rng, t, true);
            won_at = self.push_deal(
                rng,
                crm,
                &person,
                deal,
                t,
                &path,
                (topic, product),
                with_phone,
                with_email,
            );
            deal += 1;
        }
    }

    /// The CRM's updates of one deal along `path`; returns when it was won.
    #[allow(clippy::too_many_arguments)]
    fn push_deal(
        &self,
        rng: &mut StdRng,
        crm: &mut Vec<CrmStep>,
        person: &Person,
        deal: u32,
        created_at: DateTime<Utc>,
        path: &[(DateTime<Utc>, Stage)],
        (category, product): (usize, usize),
        with_phone: bool,
        with_email: bool,
    ) -> Option<DateTime<Utc>> {
        let category = &CATEGORIES[category];
        let product = &category.products[product];
        let quantity = if category.slug == "accessories" && rng.gen_bool(0.2) {
            2
        } else {
            1
        };
        let discount = if rng.gen_bool(0.2) { 95 } else { 100 };
        let rubles = product.price * quantity * discount / 100 / 10 * 10;
        let margin = rng.gen_range(category.margin.0..=category.margin.1);
        let revenue = Money(rubles * 100);
        let profit = Money(rubles * margin);
        let mut won_at = None;
        for &(at, stage) in path {
            let won = stage == Stage::Won;
            if won && at < self.end {
                won_at = Some(at);
            }
            crm.push(CrmStep::Deal(PlannedDealStep {
                at,
                deal,
                stage,
                created_at,
                revenue: won.then_some(revenue),
                profit: won.then_some(profit),
                product: (stage != Stage::New).then_some(product.name),
                // The CRM keeps numbers in E.164.
                phone: with_phone.then(|| format!("+7{}", person.phone)),
                email: with_email.then(|| person.email.clone()),
            }));
        }
        won_at
    }
}

/// Appends a `form_submit` event a little after the visit's last hit.
fn add_form(rng: &mut StdRng, hits: &mut Vec<PlannedHit>, form: &'static str) {
    let at = hits.last().map_or(DateTime::<Utc>::MIN_UTC, |h| h.at) + secs(rng, 20, 150);
    add_form_at(hits, at, form);
}

/// Appends a `form_submit` event on the visit's last page.
fn add_form_at(hits: &mut Vec<PlannedHit>, at: DateTime<Utc>, form: &'static str) {
    if let Some(last) = hits.last() {
        let event = PlannedHit {
            at,
            url: last.url.clone(),
            referrer: last.referrer.clone(),
            title: last.title.clone(),
            form: Some(form),
        };
        hits.push(event);
    }
}

/// How a deal opened at `opened` moves: the CRM picks it up as `new`
/// minutes later, then it qualifies, gets a proposal, and is won or lost —
/// or stalls in an open stage. Returning customers convert more often.
fn deal_path(rng: &mut StdRng, opened: DateTime<Utc>, repeat: bool) -> Vec<(DateTime<Utc>, Stage)> {
    // (advance, lost when not advancing) per open stage.
    let odds: [(f64, f64); 3] = if repeat {
        [(0.85, 0.5), (0.85, 0.3), (0.8, 0.5)]
    } else {
        [(0.6, 0.55), (0.667, 0.25), (0.625, 0.2)]
    };
    let mut at = opened + secs(rng, 120, 1200);
    let mut path = vec![(at, Stage::New)];
    let delays = [
        (3600, 36 * 3600),
        (12 * 3600, 5 * 86_400),
        (86_400, 10 * 86_400),
    ];
    for (n, next) in [Stage::Qualified, Stage::Proposal, Stage::Won]
        .into_iter()
        .enumerate()
    {
        let (advance, lost) = odds[n];
        if rng.gen_bool(advance) {
            at += secs(rng, delays[n].0, delays[n].1);
            path.push((at, next));
            if next.is_closed() {
                break;
            }
        } else {
            if rng.gen_bool(lost) {
                at += secs(rng, 86_400, 7 * 86_400);
                path.push((at, Stage::Lost));
            }
            break;
        }
    }
    path
}

/// Someone who sent a form.
struct Person {
    name: String,
    first_name: &'static str,
    /// Ten digits after +7.
    phone: String,
    email: String,
}

impl Person {
    fn new(rng: &mut StdRng, seed: u64, i: u64) -> Person {
        let female = rng.gen_bool(0.55);
        let (first, first_latin) = *one(rng, if female { FEMALE_NAMES } else { MALE_NAMES });
        let (last, last_latin) = *one(rng, SURNAMES);
        let (last, last_latin) = if female {
            (format!("{last}а"), format!("{last_latin}a"))
        } else {
            (last.to_owned(), last_latin.to_owned())
        };
        // Unique per visitor (the multiplier is coprime to 10^7), so two
        // people never share a number by accident.
        let local = (i % 10_000_000 * 7_919_821 + seed % 10_000_000) % 10_000_000;
        let phone = format!("{}{local:07}", one(rng, OPERATOR_CODES));
        let mailbox = match rng.gen_range(0..4) {
            0 => format!("{first_latin}.{last_latin}{i}"),
            1 => format!("{last_latin}.{first_latin}{i}"),
            2 => format!("{first_latin}{i}"),
            _ => format!("{last_latin}_{i}"),
        };
        let email = format!("{mailbox}@{}", pick(rng, MAIL_DOMAINS));
        Person {
            name: format!("{first} {last}"),
            first_name: first,
            phone,
            email,
        }
    }

    /// A phone as people type it into forms.
    fn phone_text(&self, rng: &mut StdRng) -> String {
        let p = &self.phone;
        match rng.gen_range(0..5) {
            0 => format!("+7 ({}) {}-{}-{}", &p[..3], &p[3..6], &p[6..8], &p[8..]),
            1 => format!("8{p}"),
            2 => format!("+7{p}"),
            3 => format!("8 {} {} {} {}", &p[..3], &p[3..6], &p[6..8], &p[8..]),
            _ => format!("8({}){}-{}-{}", &p[..3], &p[3..6], &p[6..8], &p[8..]),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn lead(
        &self,
        rng: &mut StdRng,
        at: DateTime<Utc>,
        hit_ref: Option<(usize, usize)>,
        form: &'static str,
        with_phone: bool,
        with_email: bool,
        product: Option<&'static str>,
    ) -> PlannedLead {
        let name = match rng.gen_range(0..10) {
            0..=5 => Some(self.first_name.to_owned()),
            6..=8 => Some(self.name.clone()),
            _ => None,
        };
        PlannedLead {
            at,
            hit: None,
            hit_ref,
            form,
            phone: with_phone.then(|| self.phone_text(rng)),
            email: with_email.then(|| self.email.clone()),
            name,
            product,
        }
    }
}

// ---------------------------------------------------------------------------
// Traffic
// ---------------------------------------------------------------------------

/// How a visit reaches the site.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Arrival {
    YandexOrganic,
    GoogleOrganic,
    /// Yandex Direct, search.
    YandexSearchAds,
    /// Yandex Direct, the advertising network (РСЯ).
    YandexNetworkAds,
    GoogleAds,
    VkSocial,
    TelegramSocial,
    DzenSocial,
    VkAds,
    Email,
    Referral,
    Direct,
}

impl Arrival {
    /// How much likelier than organic search a visit ends in a form.
    fn conversion(self) -> f64 {
        match self {
            Arrival::YandexOrganic | Arrival::GoogleOrganic => 1.0,
            Arrival::YandexSearchAds | Arrival::GoogleAds => 1.3,
            Arrival::YandexNetworkAds => 0.8,
            Arrival::VkSocial | Arrival::TelegramSocial | Arrival::DzenSocial => 0.5,
            Arrival::VkAds => 0.6,
            Arrival::Email => 1.5,
            Arrival::Referral | Arrival::Direct => 1.2,
        }
    }

    fn bounce_rate(self) -> f64 {
        match self {
            Arrival::YandexNetworkAds | Arrival::VkAds => 0.5,
            Arrival::VkSocial | Arrival::TelegramSocial | Arrival::DzenSocial => 0.45,
            Arrival::Direct | Arrival::Email => 0.25,
            _ => 0.35,
        }
    }
}

/// Sources of first visits, in percent (organic search 30, paid search
/// 22, direct 24, social 8, paid social 6, referral 6, e-mail 4).
const FIRST_ARRIVALS: &[(Arrival, u32)] = &[
    (Arrival::YandexOrganic, 22),
    (Arrival::GoogleOrganic, 8),
    (Arrival::YandexSearchAds, 15),
    (Arrival::YandexNetworkAds, 4),
    (Arrival::GoogleAds, 3),
    (Arrival::VkSocial, 4),
    (Arrival::TelegramSocial, 3),
    (Arrival::DzenSocial, 1),
    (Arrival::VkAds, 6),
    (Arrival::Email, 4),
    (Arrival::Referral, 6),
    (Arrival::Direct, 24),
];

/// Sources of return visits: more direct, e-mail and retargeting.
const RETURN_ARRIVALS: &[(Arrival, u32)] = &[
    (Arrival::Direct, 35),
    (Arrival::YandexOrganic, 14),
    (Arrival::GoogleOrganic, 5),
    (Arrival::Email, 14),
    (Arrival::YandexNetworkAds, 10),
    (Arrival::YandexSearchAds, 6),
    (Arrival::VkAds, 5),
    (Arrival::VkSocial, 3),
    (Arrival::TelegramSocial, 4),
    (Arrival::Referral, 2),
    (Arrival::GoogleAds, 2),
];

/// Sources of a customer's visit to buy again.
const REPEAT_ARRIVALS: &[(Arrival, u32)] = &[
    (Arrival::Email, 40),
    (Arrival::Direct, 35),
    (Arrival::YandexOrganic, 15),
    (Arrival::YandexNetworkAds, 10),
];

/// An advertising campaign with its ads (`utm_content`) and keywords
/// (`utm_term`).
struct Campaign {
    arrival: Arrival,
    name: &'static str,
    /// The category it advertises (`None`: the whole shop).
    category: Option<&'static str>,
    ads: &'static [&'static str],
    keywords: &'static [&'static str],
    weight: u32,
}

const CAMPAIGNS: &[Campaign] = &[
    Campaign {
        arrival: Arrival::YandexSearchAds,
        name: "poisk_smartfony",
        category: Some("smartphones"),
        ads: &["iphone15_rassrochka", "galaxy_s24_skidka", "redmi_note13"],
        keywords: &[
            "купить смартфон",
            "iphone 15 купить",
            "samsung galaxy s24 цена",
            "смартфон в рассрочку",
            "redmi note 13 pro",
        ],
        weight: 30,
    },
    Campaign {
        arrival: Arrival::YandexSearchAds,
        name: "poisk_noutbuki",
        category: Some("laptops"),
        ads: &["macbook_air_m3", "igrovye_noutbuki"],
        keywords: &[
            "купить ноутбук",
            "игровой ноутбук",
            "macbook air m3",
            "ноутбук для учебы",
        ],
        weight: 15,
    },
    Campaign {
        arrival: Arrival::YandexSearchAds,
        name: "poisk_bytovaya_tehnika",
        category: Some("appliances"),
        ads: &["dyson_v15", "robot_pylesos", "besplatnaya_dostavka"],
        keywords: &[
            "робот пылесос купить",
            "dyson v15 detect",
            "стиральная машина lg",
            "посудомоечная машина bosch",
            "кофемашина delonghi",
        ],
        weight: 25,
    },
    Campaign {
        arrival: Arrival::YandexSearchAds,
        name: "poisk_televizory",
        category: Some("tv"),
        ads: &["oled_skidka", "ps5_v_nalichii"],
        keywords: &[
            "телевизор oled 55",
            "купить телевизор",
            "playstation 5 slim купить",
        ],
        weight: 10,
    },
    Campaign {
        arrival: Arrival::YandexSearchAds,
        name: "poisk_aksessuary",
        category: Some("accessories"),
        ads: &["airpods_pro", "powerbank"],
        keywords: &[
            "airpods pro 2 купить",
            "повербанк 20000",
            "умные часы xiaomi",
        ],
        weight: 10,
    },
    Campaign {
        arrival: Arrival::YandexSearchAds,
        name: "poisk_brend",
        category: None,
        ads: &["brend"],
        keywords: &[
            "пример маркет",
            "primer market",
            "магазин электроники пример",
        ],
        weight: 10,
    },
    Campaign {
        arrival: Arrival::YandexNetworkAds,
        name: "rsya_retargeting",
        category: None,
        ads: &["banner_korzina", "banner_skidka_20"],
        keywords: &[],
        weight: 40,
    },
    Campaign {
        arrival: Arrival::YandexNetworkAds,
        name: "rsya_smartfony",
        category: Some("smartphones"),
        ads: &["banner_iphone15", "banner_redmi"],
        keywords: &[],
        weight: 30,
    },
    Campaign {
        arrival: Arrival::YandexNetworkAds,
        name: "rsya_tehnika",
        category: Some("appliances"),
        ads: &["banner_dyson", "banner_roborock"],
        keywords: &[],
        weight: 30,
    },
    Campaign {
        arrival: Arrival::GoogleAds,
        name: "google_search_electronics",
        category: None,
        ads: &["rsa_1", "rsa_2"],
        keywords: &[
            "интернет магазин электроники",
            "купить airpods pro",
            "playstation 5 купить",
        ],
        weight: 60,
    },
    Campaign {
        arrival: Arrival::GoogleAds,
        name: "google_pmax",
        category: None,
        ads: &["pmax_all_products"],
        keywords: &[],
        weight: 40,
    },
    Campaign {
        arrival: Arrival::VkAds,
        name: "vk_lookalike_pokupateli",
        category: None,
        ads: &["post_carousel", "video_obzor"],
        keywords: &[],
        weight: 45,
    },
    Campaign {
        arrival: Arrival::VkAds,
        name: "vk_retargeting_korzina",
        category: None,
        ads: &["post_skidka_korzina"],
        keywords: &[],
        weight: 30,
    },
    Campaign {
        arrival: Arrival::VkAds,
        name: "vk_televizory",
        category: Some("tv"),
        ads: &["post_oled_sale"],
        keywords: &[],
        weight: 10,
    },
    Campaign {
        arrival: Arrival::VkAds,
        name: "vk_smartfony",
        category: Some("smartphones"),
        ads: &["post_iphone_trade_in"],
        keywords: &[],
        weight: 15,
    },
];

/// Sites that link to the shop (referrer URLs).
const REFERRERS: &[(&str, u32)] = &[
    ("https://market.yandex.ru/catalog--elektronika/54440", 30),
    (
        "https://otzovik.com/reviews/internet-magazin_primer_market/",
        20,
    ),
    (
        "https://irecommend.ru/content/internet-magazin-primer-market",
        15,
    ),
    ("https://www.ixbt.com/news/", 20),
    ("https://4pda.to/forum/index.php?showtopic=1084620", 15),
];

/// A campaign of `arrival`: the first visit's campaign sets the visitor's
/// interest; later ones follow it when they can.
fn campaign(
    rng: &mut StdRng,
    arrival: Arrival,
    interest: &mut usize,
    first: bool,
) -> &'static Campaign {
    let fits = |c: &Campaign| {
        c.arrival == arrival
            && (first
                || c.category
                    .is_none_or(|slug| CATEGORIES[*interest].slug == slug))
    };
    let table: Vec<(&'static Campaign, u32)> = CAMPAIGNS
        .iter()
        .filter(|c| fits(c))
        .map(|c| (c, c.weight))
        .collect();
    let chosen = if table.is_empty() {
        &CAMPAIGNS[0]
    } else {
        *pick(rng, &table)
    };
    if first {
        if let Some(slug) = chosen.category {
            if let Some(c) = CATEGORIES.iter().position(|c| c.slug == slug) {
                *interest = c;
            }
        }
    }
    chosen
}

/// The landing page, its query (UTM tags, click ids) and the referrer.
fn landing(
    rng: &mut StdRng,
    arrival: Arrival,
    interest: &mut usize,
    first: bool,
    date: NaiveDate,
) -> (Page, String, Option<String>) {
    let products = CATEGORIES[*interest].products.len();
    let content_page = |rng: &mut StdRng, interest: usize| match rng.gen_range(0..10) {
        0..=4 => Page::Product(interest, rng.gen_range(0..products)),
        5..=7 => Page::Catalog(interest),
        _ => Page::Blog(interest),
    };
    match arrival {
        Arrival::YandexOrganic => {
            let page = content_page(rng, *interest);
            // Yandex tags organic clicks with ysclid (not an ad click id).
            let query = if rng.gen_bool(0.6) {
                format!(
                    "?ysclid={:x}{}",
                    rng.gen_range(0x10_0000u32..0xff_ffff),
                    rng.gen_range(100_000_000u32..999_999_999)
                )
            } else {
                String::new()
            };
            let referrer = if rng.gen_bool(0.8) {
                "https://yandex.ru/"
            } else {
                "https://ya.ru/"
            };
            (page, query, Some(referrer.to_owned()))
        }
        Arrival::GoogleOrganic => {
            let referrer = if rng.gen_bool(0.7) {
                "https://www.google.com/"
            } else {
                "https://www.google.ru/"
            };
            (
                content_page(rng, *interest),
                String::new(),
                Some(referrer.to_owned()),
            )
        }
        Arrival::YandexSearchAds
        | Arrival::YandexNetworkAds
        | Arrival::GoogleAds
        | Arrival::VkAds => {
            let c = campaign(rng, arrival, interest, first);
            let page = match c.category {
                Some(_) if rng.gen_bool(0.6) => Page::Product(
                    *interest,
                    rng.gen_range(0..CATEGORIES[*interest].products.len()),
                ),
                Some(_) => Page::Catalog(*interest),
                None if rng.gen_bool(0.5) => Page::Home,
                None => Page::Promo(rng.gen_range(0..PROMOS.len())),
            };
            let (source, referrer) = match arrival {
                Arrival::GoogleAds => ("google", Some("https://www.google.com/")),
                Arrival::VkAds => ("vk", Some("https://vk.com/")),
                Arrival::YandexSearchAds => ("yandex", Some("https://yandex.ru/")),
                _ => ("yandex", None),
            };
            let mut query = format!(
                "?utm_source={source}&utm_medium=cpc&utm_campaign={}&utm_content={}",
                c.name,
                one(rng, c.ads)
            );
            if !c.keywords.is_empty() {
                let keyword = *one(rng, c.keywords);
                let _ = write!(query, "&utm_term={}", encode_query(keyword));
            }
            match arrival {
                Arrival::GoogleAds => {
                    let id: String = (0..40)
                        .map(|_| {
                            *one(
                                rng,
                                b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-",
                            ) as char
                        })
                        .collect();
                    let _ = write!(query, "&gclid={id}");
                }
                Arrival::YandexSearchAds | Arrival::YandexNetworkAds => {
                    let _ = write!(
                        query,
                        "&yclid={}",
                        rng.gen_range(1_000_000_000_000_000u64..9_999_999_999_999_999)
                    );
                }
                _ => {}
            }
            (page, query, referrer.map(str::to_owned))
        }
        Arrival::VkSocial | Arrival::TelegramSocial | Arrival::DzenSocial => {
            let referrer = match arrival {
                Arrival::VkSocial => *one(
                    rng,
                    &[
                        "https://vk.com/",
                        "https://m.vk.com/",
                        "https://away.vk.com/",
                    ],
                ),
                Arrival::TelegramSocial => "https://t.me/",
                _ => "https://dzen.ru/",
            };
            let page = if rng.gen_bool(0.3) {
                Page::Promo(rng.gen_range(0..PROMOS.len()))
            } else {
                content_page(rng, *interest)
            };
            (page, String::new(), Some(referrer.to_owned()))
        }
        Arrival::Email => {
            // A weekly digest (sent on Thursdays) or a trigger e-mail.
            let campaign = match rng.gen_range(0..10) {
                0..=6 => {
                    let back = (date.weekday().num_days_from_monday() + 7 - 3) % 7;
                    (date - Duration::days(i64::from(back)))
                        .format("digest_%Y_%m_%d")
                        .to_string()
                }
                7..=8 => "abandoned_cart".to_owned(),
                _ => "price_drop".to_owned(),
            };
            let page = match campaign.as_str() {
                "abandoned_cart" => Page::Cart,
                "price_drop" => Page::Product(*interest, rng.gen_range(0..products)),
                _ if rng.gen_bool(0.5) => Page::Promo(rng.gen_range(0..PROMOS.len())),
                _ => content_page(rng, *interest),
            };
            let query = format!(
                "?utm_source=unisender&utm_medium=email&utm_campaign={campaign}&utm_content={}",
                one(rng, &["header_banner", "product_card", "footer_link"])
            );
            (page, query, None)
        }
        Arrival::Referral => {
            let referrer = *pick(rng, REFERRERS);
            (
                content_page(rng, *interest),
                String::new(),
                Some(referrer.to_owned()),
            )
        }
        Arrival::Direct => {
            let page = match rng.gen_range(0..10) {
                0..=5 => Page::Home,
                6..=8 => Page::Product(*interest, rng.gen_range(0..products)),
                _ => Page::Cart,
            };
            (page, String::new(), None)
        }
    }
}

/// A page of the shop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Page {
    Home,
    Catalog(usize),
    Product(usize, usize),
    Blog(usize),
    Promo(usize),
    Cart,
    Checkout,
    Delivery,
    Contacts,
}

impl Page {
    fn path(self) -> String {
        match self {
            Page::Home => "/".to_owned(),
            Page::Catalog(c) => format!("/catalog/{}/", CATEGORIES[c].slug),
            Page::Product(c, p) => format!("/product/{}/", CATEGORIES[c].products[p].slug),
            Page::Blog(c) => format!("/blog/{}/", CATEGORIES[c].blog.0),
            Page::Promo(p) => format!("/promo/{}/", PROMOS[p].0),
            Page::Cart => "/cart/".to_owned(),
            Page::Checkout => "/checkout/".to_owned(),
            Page::Delivery => "/delivery/".to_owned(),
            Page::Contacts => "/contacts/".to_owned(),
        }
    }

    fn title(self) -> String {
        match self {
            Page::Home => format!("{SHOP} — интернет-магазин электроники и техники"),
            Page::Catalog(c) => format!(
                "{} — купить в интернет-магазине {SHOP}",
                CATEGORIES[c].title
            ),
            Page::Product(c, p) => {
                let product = &CATEGORIES[c].products[p];
                format!(
                    "{} — купить по цене {} ₽ в {SHOP}",
                    product.name, product.price
                )
            }
            Page::Blog(c) => format!("{} — блог {SHOP}", CATEGORIES[c].blog.1),
            Page::Promo(p) => format!("{} — {SHOP}", PROMOS[p].1),
            Page::Cart => format!("Корзина — {SHOP}"),
            Page::Checkout => format!("Оформление заказа — {SHOP}"),
            Page::Delivery => format!("Доставка и оплата — {SHOP}"),
            Page::Contacts => format!("Контакты — {SHOP}"),
        }
    }
}

/// The next page of a walk through the shop.
fn next_page(rng: &mut StdRng, from: Page, interest: usize) -> Page {
    let products = CATEGORIES[interest].products.len();
    let roll = rng.gen_range(0..100);
    let other = rng.gen_range(0..CATEGORIES.len());
    match from {
        Page::Home | Page::Promo(_) | Page::Blog(_) => match roll {
            0..=44 => Page::Catalog(interest),
            45..=69 => Page::Product(interest, rng.gen_range(0..products)),
            70..=84 => Page::Catalog(other),
            _ => Page::Promo(rng.gen_range(0..PROMOS.len())),
        },
        Page::Catalog(_) => match roll {
            0..=69 => Page::Product(interest, rng.gen_range(0..products)),
            70..=79 => Page::Catalog(other),
            80..=89 => Page::Cart,
            90..=94 => Page::Delivery,
            _ => Page::Home,
        },
        Page::Product(..) => match roll {
            0..=34 => Page::Product(interest, rng.gen_range(0..products)),
            35..=54 => Page::Catalog(interest),
            55..=79 => Page::Cart,
            80..=89 => Page::Delivery,
            90..=94 => Page::Contacts,
            _ => Page::Home,
        },
        Page::Cart => match roll {
            0..=39 => Page::Checkout,
            40..=69 => Page::Product(interest, rng.gen_range(0..products)),
            70..=89 => Page::Delivery,
            _ => Page::Home,
        },
        Page::Checkout | Page::Delivery | Page::Contacts => match roll {
            0..=49 => Page::Catalog(interest),
            50..=79 => Page::Product(interest, rng.gen_range(0..products)),
            _ => Page::Home,
        },
    }
}

// ---------------------------------------------------------------------------
// Tables
// ---------------------------------------------------------------------------

/// A product the shop sells.
struct Product {
    slug: &'static str,
    name: &'static str,
    /// Price in rubles.
    price: i64,
}

/// A section of the catalogue.
struct Category {
    slug: &'static str,
    title: &'static str,
    products: &'static [Product],
    /// Profit as percent of revenue, lowest and highest.
    margin: (i64, i64),
    /// A blog post about the category: (slug, title).
    blog: (&'static str, &'static str),
}

const fn product(slug: &'static str, name: &'static str, price: i64) -> Product {
    Product { slug, name, price }
}

/// The index of accessories in [`CATEGORIES`].
const ACCESSORIES: usize = 3;

const CATEGORIES: &[Category] = &[
    Category {
        slug: "smartphones",
        title: "Смартфоны",
        products: &[
            product("iphone-15-128gb", "Смартфон Apple iPhone 15 128 ГБ", 79_990),
            product(
                "iphone-15-pro-max-256gb",
                "Смартфон Apple iPhone 15 Pro Max 256 ГБ",
                139_990,
            ),
            product(
                "galaxy-s24-256gb",
                "Смартфон Samsung Galaxy S24 256 ГБ",
                74_990,
            ),
            product(
                "redmi-note-13-pro",
                "Смартфон Xiaomi Redmi Note 13 Pro 8/256 ГБ",
                27_990,
            ),
            product("poco-x6", "Смартфон POCO X6 12/256 ГБ", 24_990),
            product("honor-90", "Смартфон HONOR 90 8/256 ГБ", 32_990),
        ],
        margin: (8, 14),
        blog: ("kak-vybrat-smartfon", "Как выбрать смартфон"),
    },
    Category {
        slug: "laptops",
        title: "Ноутбуки",
        products: &[
            product(
                "macbook-air-13-m3",
                "Ноутбук Apple MacBook Air 13 M3 8/256 ГБ",
                119_990,
            ),
            product(
                "asus-vivobook-15",
                "Ноутбук ASUS VivoBook 15 X1504VA",
                54_990,
            ),
            product(
                "lenovo-ideapad-slim-3",
                "Ноутбук Lenovo IdeaPad Slim 3 15IRH8",
                62_990,
            ),
            product(
                "msi-katana-15",
                "Игровой ноутбук MSI Katana 15 B13VFK",
                109_990,
            ),
            product(
                "huawei-matebook-d16",
                "Ноутбук HUAWEI MateBook D 16",
                69_990,
            ),
        ],
        margin: (10, 16),
        blog: ("noutbuk-dlya-ucheby", "Ноутбук для учёбы: на что смотреть"),
    },
    Category {
        slug: "appliances",
        title: "Бытовая техника",
        products: &[
            product(
                "dyson-v15-detect",
                "Пылесос Dyson V15 Detect Absolute",
                74_990,
            ),
            product("roborock-s8", "Робот-пылесос Roborock S8", 59_990),
            product("lg-f2j3ws2w", "Стиральная машина LG F2J3WS2W", 36_990),
            product(
                "bosch-sms25aw01r",
                "Посудомоечная машина Bosch SMS25AW01R",
                42_990,
            ),
            product(
                "samsung-rb37a5200sa",
                "Холодильник Samsung RB37A5200SA",
                64_990,
            ),
            product(
                "delonghi-ecam22-110",
                "Кофемашина De'Longhi Magnifica S ECAM22.110",
                39_990,
            ),
            product(
                "polaris-pwk-1725cgl",
                "Электрочайник Polaris PWK 1725CGL",
                3_490,
            ),
        ],
        margin: (15, 25),
        blog: (
            "robot-pylesos-ili-vertikalnyy",
            "Робот-пылесос или вертикальный: что выбрать",
        ),
    },
    Category {
        slug: "accessories",
        title: "Аксессуары",
        products: &[
            product("airpods-pro-2", "Наушники Apple AirPods Pro 2", 22_990),
            product(
                "anker-powercore-20000",
                "Внешний аккумулятор Anker PowerCore 20000",
                4_990,
            ),
            product("jbl-flip-6", "Портативная колонка JBL Flip 6", 11_990),
            product("xiaomi-watch-s3", "Умные часы Xiaomi Watch S3", 14_990),
            product("logitech-mx-master-3s", "Мышь Logitech MX Master 3S", 9_990),
            product(
                "samsung-ep-t2510",
                "Сетевое зарядное устройство Samsung 25W",
                3_590,
            ),
        ],
        margin: (30, 45),
        blog: (
            "luchshie-besprovodnye-naushniki",
            "Лучшие беспроводные наушники",
        ),
    },
    Category {
        slug: "tv",
        title: "Телевизоры и консоли",
        products: &[
            product("lg-oled55c3rla", "Телевизор LG OLED55C3RLA 55\"", 129_990),
            product("xiaomi-tv-a2-43", "Телевизор Xiaomi Mi TV A2 43\"", 27_990),
            product(
                "yandex-station-max",
                "Умная колонка Яндекс Станция Макс",
                29_990,
            ),
            product(
                "sony-ps5-slim",
                "Игровая консоль Sony PlayStation 5 Slim",
                64_990,
            ),
        ],
        margin: (10, 18),
        blog: (
            "kakoy-televizor-vybrat",
            "Какой телевизор выбрать: OLED, QLED или LED",
        ),
    },
];

/// Which category a new visitor is after, when no campaign says.
const CATEGORY_WEIGHTS: &[(usize, u32)] = &[(0, 30), (1, 15), (2, 25), (3, 18), (4, 12)];

const PROMOS: &[(&str, &str)] = &[
    ("skidki-nedeli", "Скидки недели"),
    ("trade-in", "Trade-in: сдайте старый смартфон"),
    ("rassrochka", "Рассрочка 0-0-12"),
];

/// Forms on a product page.
const PRODUCT_FORMS: &[(&str, u32)] = &[
    ("one_click_order", 40),
    ("callback", 35),
    ("consultation", 15),
    ("trade_in", 10),
];

/// Forms in the cart.
const CART_FORMS: &[(&str, u32)] = &[("one_click_order", 70), ("callback", 30)];

/// Local hours of the day, weighted by how busy they are.
const HOURS: &[(u32, u32)] = &[
    (0, 20),
    (1, 10),
    (2, 6),
    (3, 4),
    (4, 3),
    (5, 4),
    (6, 8),
    (7, 18),
    (8, 30),
    (9, 45),
    (10, 55),
    (11, 60),
    (12, 60),
    (13, 60),
    (14, 58),
    (15, 55),
    (16, 53),
    (17, 52),
    (18, 55),
    (19, 62),
    (20, 68),
    (21, 66),
    (22, 50),
    (23, 35),
];

/// A browser: its User-Agent and the screens it comes with.
struct Device {
    ua: &'static str,
    screens: &'static [&'static str],
}

const DESKTOP_SCREENS: &[&str] = &[
    "1920x1080",
    "1920x1080",
    "1920x1080",
    "1366x768",
    "1536x864",
    "2560x1440",
    "1440x900",
    "1600x900",
    "1280x720",
];
const MAC_SCREENS: &[&str] = &["1440x900", "1512x982", "1680x1050", "2560x1440"];
const IPHONE_SCREENS: &[&str] = &["390x844", "393x852", "430x932", "375x667", "414x896"];
const ANDROID_SCREENS: &[&str] = &["412x915", "360x800", "393x873", "384x854", "412x892"];
const TABLET_SCREENS: &[&str] = &["810x1080", "820x1180", "800x1280"];

/// Real browsers of Russian shoppers: desktop 38%, phones 56%, tablets 6%.
const DEVICES: &[(Device, u32)] = &[
    (Device { ua: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36", screens: DESKTOP_SCREENS }, 14),
    (Device { ua: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 YaBrowser/24.4.0.0 Safari/537.36", screens: DESKTOP_SCREENS }, 10),
    (Device { ua: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.0.0", screens: DESKTOP_SCREENS }, 3),
    (Device { ua: "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0", screens: DESKTOP_SCREENS }, 3),
    (Device { ua: "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15", screens: MAC_SCREENS }, 5),
    (Device { ua: "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36", screens: MAC_SCREENS }, 2),
    (Device { ua: "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36", screens: DESKTOP_SCREENS }, 1),
    (Device { ua: "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1", screens: IPHONE_SCREENS }, 20),
    (Device { ua: "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 YaBrowser/24.4.3.455.10 SA/3 Mobile/15E148 Safari/604.1", screens: IPHONE_SCREENS }, 5),
    (Device { ua: "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36", screens: ANDROID_SCREENS }, 16),
    (Device { ua: "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/24.0 Chrome/117.0.0.0 Mobile Safari/537.36", screens: ANDROID_SCREENS }, 5),
    (Device { ua: "Mozilla/5.0 (Linux; Android 13; M2101K6G) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 YaBrowser/24.1.5.73.00 SA/3 Mobile Safari/537.36", screens: ANDROID_SCREENS }, 10),
    (Device { ua: "Mozilla/5.0 (iPad; CPU OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1", screens: TABLET_SCREENS }, 4),
    (Device { ua: "Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36", screens: TABLET_SCREENS }, 2),
];

/// Search engine crawlers (counted as bots, not visits).
const CRAWLERS: &[&str] = &[
    "Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)",
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
];

const LANGS: &[(&str, u32)] = &[
    ("ru-RU", 78),
    ("ru", 12),
    ("en-US", 4),
    ("en-GB", 1),
    ("kk-KZ", 1),
    ("be-BY", 1),
    ("uk-UA", 1),
    ("hy-AM", 1),
    ("uz-UZ", 1),
];

const TIME_ZONES: &[(&str, u32)] = &[
    ("Europe/Moscow", 64),
    ("Europe/Samara", 4),
    ("Asia/Yekaterinburg", 9),
    ("Asia/Novosibirsk", 5),
    ("Asia/Krasnoyarsk", 3),
    ("Europe/Kaliningrad", 2),
    ("Asia/Omsk", 2),
    ("Europe/Volgograd", 3),
    ("Asia/Vladivostok", 2),
    ("Asia/Irkutsk", 2),
    ("Asia/Almaty", 2),
    ("Europe/Minsk", 2),
];

const MALE_NAMES: &[(&str, &str)] = &[
    ("Александр", "aleksandr"),
    ("Дмитрий", "dmitriy"),
    ("Максим", "maksim"),
    ("Сергей", "sergey"),
    ("Андрей", "andrey"),
    ("Алексей", "aleksey"),
    ("Иван", "ivan"),
    ("Михаил", "mikhail"),
    ("Артём", "artem"),
    ("Никита", "nikita"),
    ("Евгений", "evgeniy"),
    ("Владимир", "vladimir"),
    ("Павел", "pavel"),
    ("Роман", "roman"),
    ("Олег", "oleg"),
];

const FEMALE_NAMES: &[(&str, &str)] = &[
    ("Анна", "anna"),
    ("Елена", "elena"),
    ("Мария", "mariya"),
    ("Ольга", "olga"),
    ("Наталья", "natalya"),
    ("Екатерина", "ekaterina"),
    ("Татьяна", "tatyana"),
    ("Ирина", "irina"),
    ("Светлана", "svetlana"),
    ("Юлия", "yuliya"),
    ("Анастасия", "anastasiya"),
    ("Дарья", "darya"),
    ("Марина", "marina"),
    ("Ксения", "kseniya"),
    ("Виктория", "viktoriya"),
];

/// Surnames in the male form (the female form adds "а").
const SURNAMES: &[(&str, &str)] = &[
    ("Иванов", "ivanov"),
    ("Смирнов", "smirnov"),
    ("Кузнецов", "kuznetsov"),
    ("Попов", "popov"),
    ("Васильев", "vasilev"),
    ("Петров", "petrov"),
    ("Соколов", "sokolov"),
    ("Михайлов", "mikhaylov"),
    ("Новиков", "novikov"),
    ("Фёдоров", "fedorov"),
    ("Морозов", "morozov"),
    ("Волков", "volkov"),
    ("Алексеев", "alekseev"),
    ("Лебедев", "lebedev"),
    ("Семёнов", "semenov"),
    ("Егоров", "egorov"),
    ("Павлов", "pavlov"),
    ("Козлов", "kozlov"),
    ("Степанов", "stepanov"),
    ("Николаев", "nikolaev"),
    ("Орлов", "orlov"),
    ("Андреев", "andreev"),
    ("Макаров", "makarov"),
    ("Захаров", "zakharov"),
];

/// Mobile operator codes (the three digits after +7).
const OPERATOR_CODES: &[&str] = &[
    "903", "905", "906", "909", "915", "916", "917", "919", "921", "925", "926", "929", "950",
    "952", "953", "962", "963", "964", "965", "977", "981", "985", "999",
];

const MAIL_DOMAINS: &[(&str, u32)] = &[
    ("mail.ru", 35),
    ("yandex.ru", 30),
    ("gmail.com", 20),
    ("bk.ru", 5),
    ("list.ru", 4),
    ("inbox.ru", 3),
    ("rambler.ru", 3),
];

#[cfg(test)]
mod tests {
    use super::*;
    use skvoz_domain::contact::normalize_phone;
    use skvoz_domain::traffic::classify;

    fn planner(seed: u64) -> Planner {
        let options = DemoOptions {
            days: 60,
            seed,
            visitors: 100,
            end: NaiveDate::from_ymd_opt(2025, 3, 1).expect("a date"),
        };
        Planner::new(&options, chrono_tz::Europe::Moscow)
    }

    #[test]
    fn a_visitor_is_the_same_for_the_same_seed_and_index() {
        let (a, b, c) = (planner(7), planner(7), planner(8));
        assert_eq!(a.visitor(12), b.visitor(12));
        assert_ne!(a.visitor(12), c.visitor(12));
        assert_ne!(a.visitor(12), a.visitor(13));
    }

    #[test]
    fn hits_are_ordered_within_the_window_and_leads_point_at_form_events() {
        let p = planner(1);
        let start = p.at(0, 0) - Duration::days(1);
        let mut leads = 0;
        for i in 0..3000 {
            let v = p.visitor(i);
            assert!(!v.hits.is_empty());
            assert!(v.hits.windows(2).all(|w| w[0].at <= w[1].at));
            assert!(v.hits.iter().all(|h| h.at >= start && h.at < p.end));
            assert!(v.crm.windows(2).all(|w| w[0].at() <= w[1].at()));
            for step in &v.crm {
                if let CrmStep::Lead(lead) = step {
                    leads += 1;
                    if let Some(h) = lead.hit {
                        assert!(v.hits[h].form.is_some(), "{lead:?}");
                        assert!(v.hits[h].at < lead.at);
                    }
                }
            }
        }
        assert!(leads > 50, "{leads} leads");
    }

    #[test]
    fn every_phone_notation_normalizes_to_the_crm_number() {
        let mut rng = StdRng::seed_from_u64(3);
        for i in 0..200 {
            let person = Person::new(&mut rng, 42, i);
            let crm = format!("+7{}", person.phone);
            assert_eq!(normalize_phone(&crm, "RU").as_deref(), Ok(crm.as_str()));
            for _ in 0..5 {
                let typed = person.phone_text(&mut rng);
                assert_eq!(
                    normalize_phone(&typed, "RU").as_deref(),
                    Ok(crm.as_str()),
                    "{typed}"
                );
            }
        }
    }

    #[test]
    fn paid_landings_carry_campaign_ad_and_keyword() {
        let mut rng = StdRng::seed_from_u64(5);
        let date = NaiveDate::from_ymd_opt(2025, 2, 20).expect("a date");
        for _ in 0..50 {
            let mut interest = 0;
            let (page, query, referrer) = landing(
                &mut rng,
                Arrival::YandexSearchAds,
                &mut interest,
                true,
                date,
            );
            let url = format!("{SITE}{}{query}", page.path());
            let s = classify(&url, referrer.as_deref());
            assert_eq!((s.source.as_str(), s.medium.as_str()), ("yandex", "cpc"));
            assert!(
                s.campaign.is_some() && s.content.is_some() && s.term.is_some(),
                "{url}"
            );
            assert!(s.yclid.is_some());
        }
        let mut interest = 0;
        let (page, query, _) = landing(&mut rng, Arrival::Email, &mut interest, false, date);
        let s = classify(&format!("{SITE}{}{query}", page.path()), None);
        assert_eq!(s.medium, "email");
    }

    #[test]
    fn query_values_are_percent_encoded() {
        assert_eq!(
            encode_query("купить ноутбук"),
            "%D0%BA%D1%83%D0%BF%D0%B8%D1%82%D1%8C+%D0%BD%D0%BE%D1%83%D1%82%D0%B1%D1%83%D0%BA"
        );
        assert_eq!(encode_query("a-b_c.d"), "a-b_c.d");
    }
}
