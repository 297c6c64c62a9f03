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

mod audience;
pub mod calls;
mod catalogue;
mod chats;
mod costs;
mod leads;
mod options;
mod outbox;
mod plan;
mod random;
mod replay;
mod setup;
mod surveys;
mod tickets;
mod traffic;
mod visitors;

pub use options::{DemoOptions, DemoStats};
pub use setup::{ensure_admin, DEMO_ADMIN};

use crate::projects::CreatedProject;
use crate::{App, AppError};
use chrono::{Duration, NaiveTime, TimeZone, Utc};
use plan::PlannedVisitor;
use replay::{Imported, Replay};
use visitors::Planner;

/// The name of the demo project.
pub const DEMO_PROJECT: &str = "demo";

/// The shop's address; every page of the demo is on it.
const SITE: &str = "https://shop.example.ru";

/// The shop's name in page titles.
const SHOP: &str = "Пример Маркет";

/// Hits per `import` call (the API takes at most 10,000); a visitor's hits
/// never straddle two calls.
const BATCH_HITS: usize = 2_000;

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

#[cfg(test)]
mod tests;
