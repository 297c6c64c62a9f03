//! Automation runs: what the engine derived from events, and when each run
//! fires.
//!
//! A consumer reads the event log, and the runs it creates are inserted in
//! the same transaction that advances its cursor, so an event starts each
//! automation's run exactly once even across crashes. A run waits until
//! `due_at` (persisted, so a restart keeps the schedule) and is completed
//! in one transaction together with everything its actions write: outbox
//! messages, survey invitations, tags.

use crate::{NewInvitation, NewOutboxMessage, Scope, StoreResult};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Serialize;
use skvoz_domain::ProjectId;

/// A run to create.
#[derive(Debug, Clone, PartialEq)]
pub struct NewRun {
    /// Its project.
    pub project: ProjectId,
    /// The automation's id in the settings.
    pub automation_id: String,
    /// The event that started it.
    pub event_id: i64,
    /// The event's type.
    pub event_kind: String,
    /// The contact of the event.
    pub contact_id: Option<i64>,
    /// The event's data (what conditions and templates read).
    pub event_data: serde_json::Value,
    /// When it fires.
    pub due_at: DateTime<Utc>,
}

/// Where a run is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// Waiting for `due_at`.
    Pending,
    /// Its actions were carried out.
    Done,
    /// A condition did not hold.
    Skipped,
    /// The automation was removed or disabled before it fired.
    Cancelled,
    /// An action could not be prepared (no e-mail address, say).
    Failed,
}

impl RunStatus {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Pending => "pending",
            RunStatus::Done => "done",
            RunStatus::Skipped => "skipped",
            RunStatus::Cancelled => "cancelled",
            RunStatus::Failed => "failed",
        }
    }

    /// Parses [`RunStatus::as_str`].
    pub fn parse(s: &str) -> Option<RunStatus> {
        Some(match s {
            "pending" => RunStatus::Pending,
            "done" => RunStatus::Done,
            "skipped" => RunStatus::Skipped,
            "cancelled" => RunStatus::Cancelled,
            "failed" => RunStatus::Failed,
            _ => return None,
        })
    }
}

/// A run as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AutomationRun {
    /// Id.
    pub id: i64,
    /// Its project.
    pub project: ProjectId,
    /// The automation.
    pub automation_id: String,
    /// The event that started it.
    pub event_id: i64,
    /// The event's type.
    pub event_kind: String,
    /// The contact.
    pub contact_id: Option<i64>,
    /// The event's data.
    pub event_data: serde_json::Value,
    /// Where it is.
    pub status: RunStatus,
    /// Actions carried out.
    pub step: u32,
    /// When it fires (fired).
    pub due_at: DateTime<Utc>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Finished.
    pub finished_at: Option<DateTime<Utc>>,
    /// Why it was skipped or failed.
    pub note: Option<String>,
}

/// What completing a run writes, all in one transaction.
#[derive(Debug, Clone, PartialEq)]
pub struct RunCompletion {
    /// The final status (not `Pending`).
    pub status: RunStatus,
    /// Actions carried out.
    pub step: u32,
    /// Why, when skipped or failed.
    pub note: Option<String>,
    /// Survey invitations its actions made.
    pub invitations: Vec<NewInvitation>,
    /// Messages to enqueue.
    pub messages: Vec<NewOutboxMessage>,
    /// Tags to put on contacts: (contact, tag).
    pub tags: Vec<(i64, String)>,
    /// When.
    pub at: DateTime<Utc>,
}

/// An outbox message as a run's history shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OutboxView {
    /// Outbox id.
    pub id: i64,
    /// `smtp`, `webhook`, `esputnik`, …
    pub destination_kind: String,
    /// Which destination.
    pub destination: String,
    /// The idempotency key.
    pub idempotency_key: String,
    /// The payload.
    pub payload: serde_json::Value,
    /// `pending`, `delivered`, `dead`, `skipped`.
    pub status: String,
    /// Attempts so far.
    pub attempts: i64,
}

/// Automation runs.
#[async_trait]
pub trait AutomationStore: Send + Sync {
    /// Inserts runs (an automation's run per event at most once) and moves
    /// `consumer`'s cursor to `through` in one transaction; returns how
    /// many runs are new.
    async fn create_runs(
        &self,
        consumer: &str,
        through: i64,
        runs: Vec<NewRun>,
    ) -> StoreResult<usize>;
    /// Pending runs of every project due at `now`, oldest due first.
    async fn due_runs(&self, now: DateTime<Utc>, limit: usize) -> StoreResult<Vec<AutomationRun>>;
    /// Completes a pending run with everything its actions write; `false`
    /// (and nothing written) when it was not pending any more.
    async fn complete_run(
        &self,
        scope: Scope,
        run_id: i64,
        completion: RunCompletion,
    ) -> StoreResult<bool>;
    /// A project's runs, newest first.
    async fn automation_runs(&self, scope: Scope, limit: usize) -> StoreResult<Vec<AutomationRun>>;
    /// The outbox messages a run enqueued (keys `automation:{run}:…`).
    async fn run_messages(&self, scope: Scope, run_id: i64) -> StoreResult<Vec<OutboxView>>;
}

/// The idempotency key of a run's `index`-th message.
pub fn run_message_key(run_id: i64, index: usize) -> String {
    format!("automation:{run_id}:{index}")
}
