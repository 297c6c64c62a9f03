//! Support tickets and their events, and the read side of a contact that
//! the operator card and the timeline need (the contact's visits).
//!
//! Applying a ticket event is one store call: the ticket is found or created
//! by (provider, external id), the event is skipped when its id was seen
//! before (webhooks are redelivered), and the ticket's derived fields —
//! status, first response, resolution, closing, rating — are updated in the
//! same transaction.

use crate::{Scope, StoreResult, Visit};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Serialize;
use skvoz_domain::support::{StatusClass, TicketEventKind, TicketFacts};

/// A ticket as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Ticket {
    /// Id.
    pub id: i64,
    /// The help desk (`api`, `helpdeskeddy`).
    pub provider: String,
    /// Its id in the help desk (unique per project and provider).
    pub external_id: String,
    /// The contact (following merges, through its lead).
    pub contact_id: Option<i64>,
    /// The lead of kind `ticket` it made.
    pub lead_id: Option<i64>,
    /// Subject.
    pub subject: Option<String>,
    /// The help desk's status name.
    pub status: Option<String>,
    /// Priority as the help desk names it.
    pub priority: Option<String>,
    /// The product it is about.
    pub product: Option<String>,
    /// Opened.
    pub created_at: DateTime<Utc>,
    /// First operator reply.
    pub first_response_at: Option<DateTime<Utc>>,
    /// Solved.
    pub resolved_at: Option<DateTime<Utc>>,
    /// Closed.
    pub closed_at: Option<DateTime<Utc>>,
    /// CSAT 1–5.
    pub rating: Option<u8>,
    /// Operator minutes, when known.
    pub handling_minutes: Option<u32>,
}

impl Ticket {
    /// The facts the service-cost and SLA math take.
    pub fn facts(&self) -> TicketFacts {
        TicketFacts {
            created_at: Some(self.created_at),
            first_response_at: self.first_response_at,
            resolved_at: self.resolved_at,
            closed_at: self.closed_at,
            handling_minutes: self.handling_minutes,
            rating: self.rating,
        }
    }
}

/// One stored event of a ticket.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TicketEventRecord {
    /// The ticket.
    pub ticket_id: i64,
    /// What happened.
    pub kind: TicketEventKind,
    /// Status after it.
    pub status: Option<String>,
    /// Rating given.
    pub rating: Option<u8>,
    /// When.
    pub at: DateTime<Utc>,
}

/// A ticket event to apply, resolved by the service.
#[derive(Debug, Clone)]
pub struct TicketWrite {
    /// The help desk.
    pub provider: String,
    /// The ticket's id there.
    pub external_id: String,
    /// The event's idempotency id.
    pub event_id: String,
    /// What happened.
    pub kind: TicketEventKind,
    /// Status after it.
    pub status: Option<String>,
    /// Where that status puts the ticket (from the project's settings).
    pub status_class: Option<StatusClass>,
    /// Rating 1–5.
    pub rating: Option<u8>,
    /// When it happened.
    pub at: DateTime<Utc>,
    /// When the ticket was created, when known.
    pub created_at: Option<DateTime<Utc>>,
    /// Subject (`None` keeps the stored one).
    pub subject: Option<String>,
    /// Priority (`None` keeps it).
    pub priority: Option<String>,
    /// Product (`None` keeps it).
    pub product: Option<String>,
    /// Handling minutes so far (`None` keeps them).
    pub handling_minutes: Option<u32>,
    /// The event as received.
    pub raw: serde_json::Value,
}

/// What applying an event did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TicketRecorded {
    /// The ticket.
    pub ticket_id: i64,
    /// The ticket row was created by this event.
    pub created: bool,
    /// The event had been applied before; nothing changed.
    pub replayed: bool,
    /// The ticket's lead, if it has one yet.
    pub lead_id: Option<i64>,
}

/// A contact's visits in brief, for the operator card.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ContactVisits {
    /// Visits in all.
    pub count: i64,
    /// The first visit (its source is the contact's acquisition source).
    pub first: Option<Visit>,
    /// The latest visit.
    pub last: Option<Visit>,
}

/// Tickets, ticket events, and the contact's visits.
#[async_trait]
pub trait TicketStore: Send + Sync {
    /// Applies one ticket event atomically (see the module docs).
    async fn record_ticket_event(
        &self,
        scope: Scope,
        write: TicketWrite,
    ) -> StoreResult<TicketRecorded>;
    /// Links a ticket to the lead it made and that lead's contact.
    async fn link_ticket_lead(
        &self,
        scope: Scope,
        ticket_id: i64,
        lead_id: i64,
        contact_id: Option<i64>,
    ) -> StoreResult<()>;
    /// A ticket by id.
    async fn ticket(&self, scope: Scope, id: i64) -> StoreResult<Option<Ticket>>;
    /// A ticket's events, oldest first.
    async fn ticket_events(
        &self,
        scope: Scope,
        ticket_id: i64,
    ) -> StoreResult<Vec<TicketEventRecord>>;
    /// A contact's tickets, oldest first.
    async fn tickets_of_contact(&self, scope: Scope, contact_id: i64) -> StoreResult<Vec<Ticket>>;
    /// Tickets created within `[from, to)`, oldest first, each with its
    /// contact id (after merges): what reports aggregate per channel.
    async fn tickets_between(
        &self,
        scope: Scope,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> StoreResult<Vec<Ticket>>;
    /// The contact's visits (by its visitor ids and its leads' visits), oldest
    /// first, at most `limit`.
    async fn visits_of_contact(
        &self,
        scope: Scope,
        contact_id: i64,
        limit: usize,
    ) -> StoreResult<Vec<Visit>>;
    /// Count, first and last of the contact's visits.
    async fn contact_visits(&self, scope: Scope, contact_id: i64) -> StoreResult<ContactVisits>;
    /// The channel of each contact's first visit, for many contacts in one
    /// call (reports); contacts without visits are left out.
    async fn first_visit_channels(
        &self,
        scope: Scope,
        contacts: Vec<i64>,
    ) -> StoreResult<std::collections::HashMap<i64, String>>;
    /// The polling cursor of a help desk: updates up to this time are in.
    async fn ticket_poll_cursor(
        &self,
        scope: Scope,
        provider: &str,
    ) -> StoreResult<Option<DateTime<Utc>>>;
    /// Moves the polling cursor and records the run's outcome.
    async fn set_ticket_poll_cursor(
        &self,
        scope: Scope,
        provider: &str,
        cursor: Option<DateTime<Utc>>,
        error: Option<String>,
    ) -> StoreResult<()>;
}
