//! Persistence behind traits.
//!
//! Services talk to a [`Store`], a supertrait of small capability traits,
//! one per aggregate (projects, settings, users, …). Backends live in their
//! own crates (`skvoz-store-sqlite` now; PostgreSQL for the core and
//! ClickHouse for events later) and prove themselves against one shared
//! conformance suite (the `conformance` module and `conformance_suite!`,
//! compiled only with the `conformance` feature, which backends enable in
//! their dev-dependencies).
//!
//! Project isolation is enforced here, at the boundary: every method that
//! touches a project's data takes a [`Scope`], and backends bind its project
//! id into every query. A handler cannot forget to filter because it never
//! writes the filter.

mod automations;
mod calls;
mod chats;
#[cfg(feature = "conformance")]
pub mod conformance;
mod crm;
mod error;
mod events;
mod outbox;
mod payloads;
mod projects;
mod reports;
mod settings;
mod surveys;
mod tickets;
mod users;
mod visits;

pub use automations::{
    run_message_key, AutomationRun, AutomationStore, NewRun, OutboxView, RunCompletion, RunStatus,
};
pub use calls::{Call, CallStore, NewCall, NumberReservation, ReservationStats, VisitSpan};
pub use chats::{
    ChatDialog, ChatRecorded, ChatReportRow, ChatStore, ChatVisitFacts, DialogPolicy,
    EarlierContact, NewChatMessage, StoredChatMessage,
};
pub use crm::{
    Contact, CrmStore, Deal, DealRecorded, DealWrite, Lead, LeadPolicy, LeadRecorded, NewLead,
    PullRun, StageChange,
};
pub use error::StoreError;
pub use events::{EventKind, EventStore, NewEvent, NewOutboxMessage, StoredEvent};
pub use outbox::{ContactKeys, OutboxFilter, OutboxMessage, OutboxResult, OutboxStore};
pub use payloads::{
    CallFinishedPayload, ChatStartedPayload, DealStageChangedPayload, EventPayload,
    LeadCreatedPayload, SurveyAnsweredPayload, TicketClosedPayload,
};
pub use projects::{NewProject, ProjectStore};
pub use reports::{CostsReplaced, DealFact, LeadFact, ReportStore, StageFact, VisitRow};
pub use settings::{SettingsStore, VersionedSettings};
pub use surveys::{
    AnswerOutcome, GroupMember, Invitation, NewAnswer, NewInvitation, SurveyAnswer, SurveyStore,
};
pub use tickets::{
    ContactVisits, Ticket, TicketEventRecord, TicketRecorded, TicketStore, TicketWrite,
};
pub use users::{User, UserStore};
pub use visits::{Hit, IngestWrite, Visit, VisitProgress, VisitStore, VisitorLink};

use async_trait::async_trait;
use skvoz_domain::ProjectId;
use std::path::Path;

/// Result of a store call.
pub type StoreResult<T> = Result<T, StoreError>;

/// The right to touch one project's data. Obtained from an authenticated
/// request (API key, dashboard session) or an operator command; every
/// project-scoped store method takes one and filters by it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Scope(ProjectId);

impl Scope {
    /// A scope for a project whose access has already been checked.
    pub fn new(project: ProjectId) -> Scope {
        Scope(project)
    }

    /// The project this scope grants.
    pub fn project(&self) -> ProjectId {
        self.0
    }
}

/// Operational capabilities of a backend.
#[async_trait]
pub trait MaintenanceStore: Send + Sync {
    /// Answers when the store can serve queries.
    async fn ping(&self) -> StoreResult<()>;
    /// Writes a consistent copy of the whole store to `dest` while serving.
    async fn backup(&self, dest: &Path) -> StoreResult<()>;
    /// Makes everything acknowledged durable and releases resources; called
    /// on graceful shutdown.
    async fn close(&self) -> StoreResult<()>;
    /// The backend's name (`sqlite`, `postgres`, …).
    fn backend(&self) -> &'static str;
}

/// Everything a skvoz node needs from persistence.
pub trait Store:
    ProjectStore
    + SettingsStore
    + UserStore
    + VisitStore
    + CrmStore
    + ReportStore
    + ChatStore
    + CallStore
    + TicketStore
    + EventStore
    + OutboxStore
    + SurveyStore
    + AutomationStore
    + MaintenanceStore
{
}

impl<T> Store for T where
    T: ProjectStore
        + SettingsStore
        + UserStore
        + VisitStore
        + CrmStore
        + ReportStore
        + ChatStore
        + CallStore
        + TicketStore
        + EventStore
        + OutboxStore
        + SurveyStore
        + AutomationStore
        + MaintenanceStore
{
}
