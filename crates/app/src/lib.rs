//! Application services: the use cases of skvoz over the domain and a store.
//!
//! Handlers (HTTP, CLI) parse input, call a service here, and map the
//! result; services never see HTTP types and never write SQL.

pub mod auth;
pub mod automations;
pub mod calls;
pub mod chats;
pub mod context;
pub mod crm;
pub mod demo;
mod error;
pub mod inbound;
pub mod keys;
pub mod outbox;
pub mod projects;
pub mod reports;
pub mod settings;
pub mod surveys;
pub mod tickets;
pub mod tracking;

pub use error::AppError;

use skvoz_store::Store;
use std::sync::Arc;

/// The store as services hold it.
pub type DynStore = Arc<dyn Store>;

/// All services of one skvoz node, sharing one store.
#[derive(Clone)]
pub struct App {
    /// The store. Private on purpose: handlers reach data through the
    /// services, so every backend sees the same use cases and no handler
    /// depends on a store method the services do not vouch for.
    store: DynStore,
    /// Projects and keys.
    pub projects: projects::ProjectService,
    /// Settings documents.
    pub settings: settings::SettingsService,
    /// Dashboard users and sessions.
    pub auth: auth::AuthService,
    /// Per-project contexts cached for hot paths.
    pub contexts: Arc<context::ContextCache>,
    /// Visit tracking.
    pub tracking: tracking::TrackingService,
    /// Leads.
    pub leads: crm::LeadService,
    /// Deals.
    pub deals: crm::DealService,
    /// CRM webhooks.
    pub crm_webhooks: crm::CrmWebhooks,
    /// The Alytics format both ways.
    pub alytics: crm::AlyticsService,
    /// Reports (channel report, dynamics, funnel).
    pub reports: Arc<reports::ReportService>,
    /// Ad spend import.
    pub costs: reports::costs::CostService,
    /// Messenger chats (WhatsApp, Telegram, generic).
    pub chats: chats::ChatService,
    /// The chat report.
    pub chat_report: chats::ChatReportService,
    /// Call tracking: numbers, calls, pools.
    pub calls: calls::CallService,
    /// Support tickets and the HelpDeskEddy connector.
    pub tickets: tickets::TicketService,
    /// The operator's contact card and the contact timeline.
    pub cards: tickets::card::ContactCardService,
    /// Outbound delivery: the relay, the worker, dead letters.
    pub outbox: outbox::OutboxService,
    /// Surveys: invitations, the hosted page, answers, groups, the NPS report.
    pub surveys: surveys::SurveyService,
    /// The automations engine.
    pub automations: automations::AutomationEngine,
}

/// Options of the services that are not the store.
#[derive(Default)]
pub struct AppOptions {
    /// A MaxMind-format database for regions by IP.
    pub geoip: Option<tracking::geo::GeoIp>,
    /// Outbox knobs (lease, poll, backoff).
    pub outbox: outbox::OutboxOptions,
    /// Where reports keep their per-project index snapshots (none: every
    /// fresh process reads the visits from the store).
    pub report_snapshots: Option<reports::SnapshotOptions>,
}

impl App {
    /// Builds every service over `store`.
    /// Must run inside a tokio runtime (it starts the ingestion writer).
    pub fn new(store: DynStore) -> App {
        App::with_options(store, AppOptions::default())
    }

    /// Builds every service with options.
    pub fn with_options(store: DynStore, options: AppOptions) -> App {
        let contexts = Arc::new(context::ContextCache::new(store.clone()));
        let tracking =
            tracking::TrackingService::new(store.clone(), contexts.clone(), options.geoip);
        let leads = crm::LeadService::new(store.clone());
        let surveys = surveys::SurveyService::new(store.clone(), contexts.clone());
        let outbox = outbox::OutboxService::new(store.clone(), options.outbox);
        // E-mail (survey invitations, automation e-mails) goes through the
        // outbox like every other outbound message.
        outbox.register(Arc::new(automations::smtp::SmtpDeliverer));
        App {
            automations: automations::AutomationEngine::new(
                store.clone(),
                contexts.clone(),
                surveys.clone(),
            ),
            surveys,
            calls: calls::CallService::new(store.clone(), tracking.clone(), leads.clone()),
            projects: projects::ProjectService::new(store.clone()),
            settings: settings::SettingsService::new(store.clone(), contexts.clone()),
            auth: auth::AuthService::new(store.clone()),
            tracking,
            leads,
            deals: crm::DealService::new(store.clone()),
            crm_webhooks: crm::CrmWebhooks::new(store.clone()),
            alytics: crm::AlyticsService::new(store.clone(), contexts.clone()),
            reports: Arc::new(reports::ReportService::with_snapshots(
                store.clone(),
                options.report_snapshots,
            )),
            costs: reports::costs::CostService::new(store.clone()),
            chats: chats::ChatService::new(store.clone()),
            chat_report: chats::ChatReportService::new(store.clone()),
            tickets: tickets::TicketService::new(store.clone(), contexts.clone()),
            cards: tickets::card::ContactCardService::new(store.clone()),
            outbox,
            contexts,
            store,
        }
    }

    /// Starts the periodic jobs of a serving node: the Alytics-format pulls
    /// (every 6 hours; each run covers yesterday plus the re-pull window,
    /// and re-applying a transaction changes nothing).
    pub fn spawn_schedulers(&self) {
        self.outbox.start();
        // Automations: new events into runs, due runs fired (the first pass
        // at once, so runs that fell due while the node was down fire now).
        self.automations.spawn(std::time::Duration::from_secs(2));
        let alytics = self.alytics.clone();
        tokio::spawn(async move {
            // Let the node finish starting before the first run.
            tokio::time::sleep(std::time::Duration::from_secs(60)).await;
            let mut tick = tokio::time::interval(std::time::Duration::from_secs(6 * 3600));
            loop {
                tick.tick().await;
                if let Err(e) = alytics.pull_all().await {
                    tracing::warn!(error = %e, "scheduled Alytics pulls failed");
                }
            }
        });
        // HelpDeskEddy polls: checked every minute, each project at its own
        // `poll_minutes`.
        let tickets = self.tickets.clone();
        tokio::spawn(async move {
            tokio::time::sleep(std::time::Duration::from_secs(60)).await;
            let mut last_runs = std::collections::HashMap::new();
            let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
            loop {
                tick.tick().await;
                tickets.poll_due(&mut last_runs).await;
            }
        });
    }

    /// Answers when the store can serve queries (the health check).
    pub async fn ping(&self) -> Result<(), AppError> {
        Ok(self.store.ping().await?)
    }

    /// The store backend's name (`sqlite`, `postgres`, …).
    pub fn backend(&self) -> &'static str {
        self.store.backend()
    }

    /// Writes a consistent copy of the whole store to `dest` (which must
    /// not exist) while the node goes on serving.
    pub async fn backup(&self, dest: &std::path::Path) -> Result<(), AppError> {
        match self.store.backup(dest).await {
            // The store's message already says what exists.
            Err(skvoz_store::StoreError::Duplicate(what)) => Err(AppError::Conflict(what)),
            other => Ok(other?),
        }
    }

    /// Flushes pending writes and closes the store; call on shutdown.
    pub async fn shutdown(&self) -> Result<(), AppError> {
        self.outbox
            .shutdown(std::time::Duration::from_secs(10))
            .await;
        self.tracking.shutdown().await;
        self.reports.flush().await;
        if let Err(e) = self.calls.numbers().flush().await {
            tracing::warn!(error = %e, "saving number reservations at shutdown failed");
        }
        self.store.close().await?;
        Ok(())
    }
}
