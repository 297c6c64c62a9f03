//! Domain events and the outbox they feed.
//!
//! Every change another system may want to hear about — a lead, a deal's
//! stage change, a finished call, a started chat, a closed ticket, an
//! answered survey — appends a row to the project's event log **in the same
//! transaction as the change itself**. Nothing downstream can miss a change
//! that committed, and nothing hears of a change that rolled back.
//!
//! Consumers (the outbox relay that fans events out to webhooks, GA4,
//! Yandex Metrika and eSputnik; the automations engine) read the log in id
//! order from a durable per-consumer cursor, and advance the cursor in the
//! same transaction as whatever they derived from the events — so each event
//! is handled exactly once by each consumer even across crashes.
//!
//! What an event says is one of the typed payloads in
//! [`payloads`](crate::EventPayload): a backend builds the payload from its
//! rows and turns it into a [`NewEvent`] with
//! [`EventPayload::into_event`](crate::EventPayload::into_event), so no
//! backend writes the JSON webhook receivers see.
//!
//! Outbound messages wait in the outbox table, each with an idempotency key
//! unique per project: enqueueing the same key twice is a no-op, and the key
//! travels with the message so a receiver can drop a redelivery.

use crate::{Scope, StoreResult};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Serialize;
use skvoz_domain::ProjectId;
use std::fmt;
use std::str::FromStr;

/// What happened. The names are the public webhook event types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
pub enum EventKind {
    /// `lead.created`: a lead was recorded (any kind: form, call, chat, ticket).
    #[serde(rename = "lead.created")]
    LeadCreated,
    /// `deal.stage_changed`: a deal entered a stage (its first one included).
    #[serde(rename = "deal.stage_changed")]
    DealStageChanged,
    /// `call.finished`: a call was recorded.
    #[serde(rename = "call.finished")]
    CallFinished,
    /// `chat.started`: a new dialog began.
    #[serde(rename = "chat.started")]
    ChatStarted,
    /// `ticket.closed`: a ticket was closed or solved.
    #[serde(rename = "ticket.closed")]
    TicketClosed,
    /// `survey.answered`: a survey got its answer.
    #[serde(rename = "survey.answered")]
    SurveyAnswered,
}

impl EventKind {
    /// Every kind, in documentation order.
    pub const ALL: [EventKind; 6] = [
        EventKind::LeadCreated,
        EventKind::DealStageChanged,
        EventKind::CallFinished,
        EventKind::ChatStarted,
        EventKind::TicketClosed,
        EventKind::SurveyAnswered,
    ];

    /// The public name (`lead.created`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::LeadCreated => "lead.created",
            EventKind::DealStageChanged => "deal.stage_changed",
            EventKind::CallFinished => "call.finished",
            EventKind::ChatStarted => "chat.started",
            EventKind::TicketClosed => "ticket.closed",
            EventKind::SurveyAnswered => "survey.answered",
        }
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for EventKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        EventKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| format!("unknown event type `{s}`"))
    }
}

/// An event to append (for changes made outside the backends' own
/// transactions; the backends append their own events themselves).
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    /// What happened.
    pub kind: EventKind,
    /// The contact it concerns, when known.
    pub contact_id: Option<i64>,
    /// The id of the changed thing (lead, deal, call, dialog, ticket, answer).
    pub subject_id: Option<i64>,
    /// When it happened.
    pub at: DateTime<Utc>,
    /// The facts, as webhook receivers see them under `data`: a serialized
    /// [`EventPayload`](crate::EventPayload) for events the backends append.
    pub data: serde_json::Value,
}

/// An event as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredEvent {
    /// Id: increasing in commit order of the writer.
    pub id: i64,
    /// The project.
    pub project: ProjectId,
    /// What happened.
    pub kind: EventKind,
    /// The contact it concerns, when known.
    pub contact_id: Option<i64>,
    /// The id of the changed thing.
    pub subject_id: Option<i64>,
    /// When it happened.
    pub at: DateTime<Utc>,
    /// When it was recorded.
    pub recorded_at: DateTime<Utc>,
    /// The facts; [`EventPayload::of_event`](crate::EventPayload::of_event)
    /// reads them typed.
    pub data: serde_json::Value,
}

/// A message for the outbox.
#[derive(Debug, Clone, PartialEq)]
pub struct NewOutboxMessage {
    /// The kind of destination (`webhook`, `ga4`, `metrika`, `metrika_calls`,
    /// `esputnik`, `smtp`, …): which deliverer takes it.
    pub destination_kind: String,
    /// Which destination of that kind (a webhook's or rule's id in the
    /// project's settings); messages to one destination share its rate limit
    /// and may be batched together.
    pub destination: String,
    /// Unique per project: enqueueing an existing key does nothing.
    pub idempotency_key: String,
    /// What to deliver (the deliverer's own shape).
    pub payload: serde_json::Value,
    /// The event it came from, if any.
    pub event_id: Option<i64>,
    /// Not to be delivered before this time (delays, schedules).
    pub not_before: Option<DateTime<Utc>>,
}

/// The event log and the outbox's front door.
#[async_trait]
pub trait EventStore: Send + Sync {
    /// Events of all projects with id > `after`, oldest first (for consumers
    /// that serve every project).
    async fn events_after(&self, after: i64, limit: usize) -> StoreResult<Vec<StoredEvent>>;
    /// One project's events with id > `after`, oldest first.
    async fn project_events(
        &self,
        scope: Scope,
        after: i64,
        limit: usize,
    ) -> StoreResult<Vec<StoredEvent>>;
    /// A consumer's durable cursor (0 before its first advance).
    async fn event_cursor(&self, consumer: &str) -> StoreResult<i64>;
}
