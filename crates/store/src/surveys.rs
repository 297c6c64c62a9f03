//! Survey invitations and answers, contact tags, and dynamic groups
//! evaluated by query.
//!
//! An invitation is a one-time capability: its token is random (128 bits)
//! and only the token's SHA-256 is stored. Answering consumes it in the
//! same transaction that stores the answer and appends `survey.answered`,
//! so an answer exists exactly when its event does, and a token answers
//! once.

use crate::{Scope, StoreResult};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Serialize;
use skvoz_domain::automations::GroupRule;
use skvoz_domain::ProjectId;

/// An invitation to create.
#[derive(Debug, Clone, PartialEq)]
pub struct NewInvitation {
    /// SHA-256 of the token, hex.
    pub token_hash: String,
    /// The survey's id in the settings.
    pub survey_id: String,
    /// `nps` or `csat`.
    pub kind: String,
    /// The contact asked.
    pub contact_id: Option<i64>,
    /// The ticket it is about.
    pub ticket_id: Option<i64>,
    /// The deal it is about.
    pub deal_id: Option<i64>,
    /// The acquisition channel (the contact's first visit, or the deal's
    /// visit), fixed when the invitation is made.
    pub channel: Option<String>,
    /// How it travels: `email`, `webhook`, `esputnik`, `api`, `demo`.
    pub via: String,
    /// The automation run that made it.
    pub run_id: Option<i64>,
    /// Made.
    pub created_at: DateTime<Utc>,
    /// The link stops working.
    pub expires_at: DateTime<Utc>,
}

/// An invitation as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Invitation {
    /// Id.
    pub id: i64,
    /// Its project.
    pub project: ProjectId,
    /// The survey's id.
    pub survey_id: String,
    /// `nps` or `csat`.
    pub kind: String,
    /// The contact.
    pub contact_id: Option<i64>,
    /// The ticket.
    pub ticket_id: Option<i64>,
    /// The deal.
    pub deal_id: Option<i64>,
    /// The acquisition channel.
    pub channel: Option<String>,
    /// How it travelled.
    pub via: String,
    /// Made.
    pub created_at: DateTime<Utc>,
    /// Expires.
    pub expires_at: DateTime<Utc>,
    /// Answered (the token is spent).
    pub answered_at: Option<DateTime<Utc>>,
}

/// An answer to store.
#[derive(Debug, Clone, PartialEq)]
pub struct NewAnswer {
    /// The score question's answer.
    pub score: i64,
    /// Every answer by question id (`{"score": 3, "solved": "no", …}`).
    pub answers: serde_json::Value,
    /// When.
    pub at: DateTime<Utc>,
}

/// What answering an invitation did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AnswerOutcome {
    /// Stored, with its `survey.answered` event.
    Recorded {
        /// The answer.
        answer_id: i64,
        /// Its event.
        event_id: i64,
    },
    /// The token was spent already; nothing changed.
    AlreadyAnswered,
    /// The link expired; nothing changed.
    Expired,
    /// No such invitation in this project.
    Unknown,
}

/// An answer as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SurveyAnswer {
    /// Id.
    pub id: i64,
    /// Its invitation.
    pub invitation_id: i64,
    /// The survey's id.
    pub survey_id: String,
    /// `nps` or `csat`.
    pub kind: String,
    /// The score.
    pub score: i64,
    /// Every answer by question id.
    pub answers: serde_json::Value,
    /// The contact.
    pub contact_id: Option<i64>,
    /// The ticket.
    pub ticket_id: Option<i64>,
    /// The deal.
    pub deal_id: Option<i64>,
    /// The acquisition channel.
    pub channel: Option<String>,
    /// When.
    pub answered_at: DateTime<Utc>,
}

/// One contact of a dynamic group, as exported.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GroupMember {
    /// The contact.
    pub contact_id: i64,
    /// Name.
    pub name: Option<String>,
    /// An e-mail of the contact.
    pub email: Option<String>,
    /// A phone of the contact.
    pub phone: Option<String>,
    /// The score of the contact's latest answer.
    pub last_score: Option<i64>,
    /// The survey of that answer.
    pub last_survey: Option<String>,
    /// The channel of that answer.
    pub channel: Option<String>,
}

/// Survey invitations and answers, tags, and groups.
#[async_trait]
pub trait SurveyStore: Send + Sync {
    /// Stores an invitation; returns its id.
    async fn create_invitation(&self, scope: Scope, inv: NewInvitation) -> StoreResult<i64>;
    /// The invitation holding a token's hash, in any project: the token is
    /// the capability, so the page needs no other key.
    async fn invitation_by_token_hash(&self, token_hash: &str) -> StoreResult<Option<Invitation>>;
    /// Consumes the invitation and stores its answer and `survey.answered`
    /// in one transaction (see [`AnswerOutcome`]).
    async fn answer_invitation(
        &self,
        scope: Scope,
        invitation_id: i64,
        answer: NewAnswer,
    ) -> StoreResult<AnswerOutcome>;
    /// Answers within `[from, to)`, oldest first, at most `limit`.
    async fn answers_between(
        &self,
        scope: Scope,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: usize,
    ) -> StoreResult<Vec<SurveyAnswer>>;
    /// When the contact was last invited to any survey.
    async fn last_invitation_at(
        &self,
        scope: Scope,
        contact_id: i64,
    ) -> StoreResult<Option<DateTime<Utc>>>;
    /// The contacts a group's rule holds for at `now`, by id, at most
    /// `limit`; with `only`, just that contact (a membership test).
    async fn group_members(
        &self,
        scope: Scope,
        rule: &GroupRule,
        now: DateTime<Utc>,
        only: Option<i64>,
        limit: usize,
    ) -> StoreResult<Vec<GroupMember>>;
}
