//! Support tickets: the generic `POST /api/v1/tickets`, HelpDeskEddy's
//! webhooks and REST polling, all through one path — validate → store the
//! event (idempotent on the sender's event id) → the first time the ticket
//! names a person, a lead of kind `ticket` through
//! [`LeadService::record`](crate::crm::LeadService::record), which links it
//! to the contact (and so to the contact's channel and deals) without
//! opening a deal.
//!
//! [`card`] builds the operator's marketing card and the contact timeline;
//! [`widget`] signs and checks the card's iframe URLs.

pub mod card;
pub mod report;
pub mod widget;

use crate::context::{ContextCache, ProjectContext};
use crate::crm::leads::{clean, LeadIdentity};
use crate::crm::{LeadInput, LeadService};
use crate::inbound::{self, Delivery, HelpDeskEddyWebhook};
use crate::{AppError, DynStore};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use skvoz_connectors::helpdesk::helpdeskeddy;
use skvoz_domain::crm::LeadKind;
use skvoz_domain::support::{TicketEvent, TicketEventKind};
use skvoz_store::TicketWrite;
use std::sync::Arc;

/// The provider name of tickets sent to `POST /api/v1/tickets`.
pub const API_PROVIDER: &str = "api";
/// The provider name of HelpDeskEddy tickets.
pub const HELPDESKEDDY: &str = "helpdeskeddy";

/// Pages one poll run reads at most (a backfill continues on the next run).
const MAX_POLL_PAGES: u32 = 200;

/// A ticket event as `POST /api/v1/tickets` receives it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TicketInput {
    /// The ticket's id in the help desk (text or number).
    pub id: serde_json::Value,
    /// `created`, `status`, `rating` or `reply`.
    pub event: String,
    /// Status after the event.
    #[serde(default)]
    pub status: Option<String>,
    /// CSAT 1–5.
    #[serde(default)]
    pub rating: Option<u8>,
    /// Client's e-mail.
    #[serde(default)]
    pub email: Option<String>,
    /// Client's phone.
    #[serde(default)]
    pub phone: Option<String>,
    /// When it happened (RFC 3339).
    pub at: DateTime<Utc>,
    /// The sender's event id (default: derived from the event).
    #[serde(default)]
    pub event_id: Option<String>,
    /// Client's name.
    #[serde(default)]
    pub name: Option<String>,
    /// Subject.
    #[serde(default)]
    pub subject: Option<String>,
    /// Priority.
    #[serde(default)]
    pub priority: Option<String>,
    /// Product the ticket is about.
    #[serde(default)]
    pub product: Option<String>,
    /// skvoz visitor id.
    #[serde(default)]
    pub vid: Option<String>,
    /// Visit code the client quoted.
    #[serde(default)]
    pub visit_code: Option<serde_json::Value>,
    /// Operator minutes spent so far.
    #[serde(default)]
    pub handling_minutes: Option<u32>,
    /// When the ticket was created, if not this event's time.
    #[serde(default)]
    pub created_at: Option<DateTime<Utc>>,
}

impl TicketInput {
    /// Into the normalized event (validation of values happens in
    /// [`TicketService::record`]).
    pub fn into_event(self) -> Result<TicketEvent, AppError> {
        let ticket_id = match &self.id {
            serde_json::Value::String(s) => s.trim().to_owned(),
            serde_json::Value::Number(n) => n.to_string(),
            _ => String::new(),
        };
        let kind = TicketEventKind::parse(self.event.trim()).ok_or_else(|| {
            AppError::invalid("event", "event must be created, status, rating or reply")
        })?;
        let visit_code = match &self.visit_code {
            Some(v) => crate::crm::leads::parse_visit_code(v)?,
            None => None,
        };
        Ok(TicketEvent {
            ticket_id,
            event_id: self.event_id,
            kind: Some(kind),
            status: self.status,
            rating: self.rating,
            at: Some(self.at),
            created_at: self.created_at,
            email: self.email,
            phone: self.phone,
            vid: self.vid,
            visit_code,
            name: self.name,
            subject: self.subject,
            priority: self.priority,
            product: self.product,
            handling_minutes: self.handling_minutes,
        })
    }
}

/// What recording a ticket event did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TicketOutcome {
    /// The ticket.
    pub ticket_id: i64,
    /// The ticket was first seen now.
    pub created: bool,
    /// The event had been recorded before; nothing changed.
    pub duplicate: bool,
    /// The ticket's lead (kind `ticket`), once it names a person.
    pub lead_id: Option<i64>,
    /// Its contact.
    pub contact_id: Option<i64>,
}

/// What a poll run did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PollReport {
    /// Pages read.
    pub pages: u32,
    /// Tickets read.
    pub tickets: u64,
    /// Events applied (new).
    pub applied: u64,
    /// Events already known.
    pub duplicates: u64,
    /// Tickets that could not be read (kept with the reason).
    pub rejected: u64,
    /// The cursor after the run.
    pub cursor: Option<DateTime<Utc>>,
}

/// Whether bad identity fields reject the event (the API) or are dropped
/// (connectors, whose senders would retry a rejected event forever).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strict {
    /// Reject with 422 naming the field.
    Reject,
    /// Drop the bad field and carry on.
    Drop,
}

/// Tickets.
#[derive(Clone)]
pub struct TicketService {
    store: DynStore,
    leads: LeadService,
    contexts: Arc<ContextCache>,
}

impl TicketService {
    /// Over a store.
    pub fn new(store: DynStore, contexts: Arc<ContextCache>) -> Self {
        TicketService {
            leads: LeadService::new(store.clone()),
            store,
            contexts,
        }
    }

    /// A ticket with its events, oldest first.
    pub async fn with_events(
        &self,
        scope: skvoz_store::Scope,
        id: i64,
    ) -> Result<Option<(skvoz_store::Ticket, Vec<skvoz_store::TicketEventRecord>)>, AppError> {
        let Some(ticket) = self.store.ticket(scope, id).await? else {
            return Ok(None);
        };
        let events = self.store.ticket_events(scope, id).await?;
        Ok(Some((ticket, events)))
    }

    fn identity(
        ctx: &ProjectContext,
        event: &TicketEvent,
        strict: Strict,
    ) -> Result<LeadIdentity, AppError> {
        let region = &ctx.settings.general.default_region;
        let input = |phone: Option<String>, email: Option<String>| LeadInput {
            phone,
            email,
            vid: event.vid.clone(),
            visit_code: event.visit_code.map(serde_json::Value::from),
            ..LeadInput::default()
        };
        match input(event.phone.clone(), event.email.clone()).identity(region) {
            Ok(who) => Ok(who),
            Err(e) if strict == Strict::Reject => Err(e),
            Err(_) => {
                // Keep whichever of phone and e-mail is good.
                let phone = input(event.phone.clone(), None)
                    .identity(region)
                    .ok()
                    .and_then(|w| w.phone);
                let email = input(None, event.email.clone())
                    .identity(region)
                    .ok()
                    .and_then(|w| w.email);
                let mut who = input(None, None).identity(region).unwrap_or_default();
                who.phone = phone;
                who.email = email;
                Ok(who)
            }
        }
    }

    /// Records one ticket event from `provider` (see the module docs).
    pub async fn record(
        &self,
        ctx: &ProjectContext,
        provider: &str,
        event: TicketEvent,
        strict: Strict,
    ) -> Result<TicketOutcome, AppError> {
        let ticket_id = event.ticket_id.trim().to_owned();
        if ticket_id.is_empty() || ticket_id.len() > 100 {
            return Err(AppError::invalid("id", "id must be 1-100 characters"));
        }
        let kind = event
            .kind
            .ok_or_else(|| AppError::invalid("event", "event is required"))?;
        let now = Utc::now();
        let at = event.at.unwrap_or(now);
        if at > now + Duration::minutes(5) {
            return Err(AppError::invalid("at", "at is in the future"));
        }
        if let Some(created) = event.created_at {
            if created > now + Duration::minutes(5) {
                return Err(AppError::invalid(
                    "created_at",
                    "created_at is in the future",
                ));
            }
        }
        if let Some(r) = event.rating {
            if !(1..=5).contains(&r) {
                return Err(AppError::invalid("rating", "rating must be 1-5"));
            }
        }
        if kind == TicketEventKind::Rating && event.rating.is_none() {
            return Err(AppError::invalid("rating", "a rating event needs rating"));
        }
        if kind == TicketEventKind::Status && event.status.is_none() {
            return Err(AppError::invalid("status", "a status event needs status"));
        }
        let status = clean(event.status.clone(), "status", 100)?;
        let event_id = clean(Some(event.idempotency_key()), "event_id", 300)?
            .unwrap_or_else(|| format!("{ticket_id}:{}", kind.as_str()));
        let who = Self::identity(ctx, &event, strict)?;
        let name = clean(event.name.clone(), "name", 200)?;
        let write = TicketWrite {
            provider: provider.to_owned(),
            external_id: ticket_id.clone(),
            event_id,
            kind,
            status_class: status
                .as_deref()
                .map(|s| ctx.settings.service.classify_status(s)),
            status,
            rating: event.rating,
            at,
            created_at: event.created_at,
            subject: clean(event.subject.clone(), "subject", 500)?,
            priority: clean(event.priority.clone(), "priority", 64)?,
            product: clean(event.product.clone(), "product", 200)?,
            handling_minutes: event.handling_minutes.filter(|m| *m < 1_000_000),
            raw: serde_json::to_value(&event).unwrap_or(serde_json::Value::Null),
        };
        let rec = self.store.record_ticket_event(ctx.scope, write).await?;
        let mut outcome = TicketOutcome {
            ticket_id: rec.ticket_id,
            created: rec.created,
            duplicate: rec.replayed,
            lead_id: rec.lead_id,
            contact_id: None,
        };
        let names_someone = who.phone.is_some()
            || who.email.is_some()
            || who.vid.is_some()
            || who.visit_code.is_some();
        if rec.lead_id.is_none() && names_someone {
            let created_at = self
                .store
                .ticket(ctx.scope, rec.ticket_id)
                .await?
                .map_or(at, |t| t.created_at);
            let payload = serde_json::json!({
                "provider": provider, "ticket_id": ticket_id,
                "subject": event.subject, "priority": event.priority, "product": event.product,
            });
            // `source_id` makes a redelivery (or a race of two events of a
            // new ticket) land on the same lead.
            let (lead, _) = self
                .leads
                .record(
                    ctx,
                    LeadKind::Ticket,
                    Some(format!("{provider}:{ticket_id}")),
                    who,
                    name,
                    created_at,
                    payload,
                )
                .await?;
            let contact = (lead.contact_id != 0).then_some(lead.contact_id);
            self.store
                .link_ticket_lead(ctx.scope, rec.ticket_id, lead.lead_id, contact)
                .await?;
            outcome.lead_id = Some(lead.lead_id);
        }
        if let Some(ticket) = self.store.ticket(ctx.scope, rec.ticket_id).await? {
            outcome.contact_id = ticket.contact_id;
        }
        if !rec.replayed {
            metrics::counter!("skvoz_ingested_total", "kind" => "ticket_event").increment(1);
        }
        Ok(outcome)
    }

    /// A HelpDeskEddy webhook delivery, through the
    /// [`inbound`](crate::inbound) pipeline; `secret` is the URL's `secret`.
    pub async fn helpdeskeddy_webhook(
        &self,
        ctx: &ProjectContext,
        secret: &str,
        body: &[u8],
    ) -> Result<TicketOutcome, AppError> {
        let webhook = HelpDeskEddyWebhook::new(self);
        inbound::receive(
            &self.store,
            &webhook,
            ctx,
            Delivery::new(Some(secret), body),
        )
        .await
    }

    /// Polls HelpDeskEddy's REST API for tickets updated since `from` (default:
    /// the stored cursor, else 30 days back) and applies them; the cursor
    /// moves to the latest update seen.
    pub async fn poll_helpdeskeddy(
        &self,
        ctx: &ProjectContext,
        from: Option<DateTime<Utc>>,
    ) -> Result<PollReport, AppError> {
        let cfg = &ctx.settings.service.helpdeskeddy;
        if !cfg.enabled || cfg.api_key.is_empty() {
            return Err(AppError::NotFound(
                "HelpDeskEddy polling (enable it and set email and api_key in settings.service.helpdeskeddy)"
                    .into(),
            ));
        }
        let since = match from {
            Some(f) => f,
            None => self
                .store
                .ticket_poll_cursor(ctx.scope, HELPDESKEDDY)
                .await?
                .unwrap_or_else(|| Utc::now() - Duration::days(30)),
        };
        let client = helpdeskeddy::HelpDeskEddyClient::new(
            &cfg.base_url(),
            &cfg.email,
            &cfg.api_key,
            ctx.tz,
            std::time::Duration::from_secs(20),
        )
        .map_err(|e| AppError::invalid("service.helpdeskeddy.api_url", e.to_string()))?;
        let mut report = PollReport::default();
        let mut latest = since;
        let mut page = 1;
        loop {
            let result = client.tickets_page(since, page).await;
            let got = match result {
                Ok(p) => p,
                Err(e) => {
                    let msg = e.to_string();
                    self.store
                        .set_ticket_poll_cursor(ctx.scope, HELPDESKEDDY, None, Some(msg.clone()))
                        .await?;
                    return Err(AppError::Unavailable(format!(
                        "HelpDeskEddy page {page}: {msg}"
                    )));
                }
            };
            report.pages += 1;
            for ticket in &got.tickets {
                report.tickets += 1;
                let events = match helpdeskeddy::rest_ticket_events(ticket, ctx.tz) {
                    Ok(events) => events,
                    Err(e) => {
                        report.rejected += 1;
                        self.keep_rejected(ctx, ticket, &e.to_string()).await?;
                        continue;
                    }
                };
                for event in events {
                    if let Some(at) = event.at {
                        latest = latest.max(at.min(Utc::now()));
                    }
                    match self.record(ctx, HELPDESKEDDY, event, Strict::Drop).await {
                        Ok(o) if o.duplicate => report.duplicates += 1,
                        Ok(_) => report.applied += 1,
                        Err(AppError::Invalid { message, .. }) => {
                            report.rejected += 1;
                            self.keep_rejected(ctx, ticket, &message).await?;
                        }
                        Err(e) => return Err(e),
                    }
                }
            }
            if got.tickets.is_empty() || page >= got.total_pages || page >= MAX_POLL_PAGES {
                break;
            }
            page += 1;
        }
        // Updates in the same second as the cursor are read again next time
        // (harmless: events are idempotent), so none is missed.
        self.store
            .set_ticket_poll_cursor(ctx.scope, HELPDESKEDDY, Some(latest), None)
            .await?;
        report.cursor = Some(latest);
        Ok(report)
    }

    /// Keeps a polled ticket that could not be applied, with the reason.
    async fn keep_rejected(
        &self,
        ctx: &ProjectContext,
        ticket: &serde_json::Value,
        reason: &str,
    ) -> Result<(), AppError> {
        self.store
            .keep_payload(
                ctx.scope,
                HELPDESKEDDY,
                &ticket.to_string(),
                &format!("rejected: {reason}"),
            )
            .await?;
        Ok(())
    }

    /// One scheduler tick: polls every project whose HelpDeskEddy polling is
    /// due (its `poll_minutes` since the last cursor move).
    pub async fn poll_due(&self, last_runs: &mut std::collections::HashMap<i64, DateTime<Utc>>) {
        let projects = match self.store.list_projects().await {
            Ok(p) => p,
            Err(e) => {
                tracing::warn!(error = %e, "listing projects for HelpDeskEddy polls failed");
                return;
            }
        };
        for project in projects {
            let Ok(ctx) = self.contexts.by_id(project.id).await else {
                continue;
            };
            let cfg = &ctx.settings.service.helpdeskeddy;
            if !cfg.enabled || cfg.poll_minutes == 0 || cfg.api_key.is_empty() {
                continue;
            }
            let due = last_runs.get(&project.id.0).is_none_or(|last| {
                Utc::now() - *last >= Duration::minutes(i64::from(cfg.poll_minutes))
            });
            if !due {
                continue;
            }
            last_runs.insert(project.id.0, Utc::now());
            if let Err(e) = self.poll_helpdeskeddy(&ctx, None).await {
                tracing::warn!(project = %project.id, error = %e, "HelpDeskEddy poll failed");
            }
        }
    }
}
