//! Leads, contacts and deals as the domain sees them: the normalized shapes
//! every connector (site forms, amoCRM, Bitrix24, Alytics feeds, telephony,
//! messengers, help desks) produces before the services resolve and store
//! them.
//!
//! The CRM's rules live beside the types as pure functions every store
//! backend applies the same way: [`merge`] (which contact a set of
//! identities belongs to), [`leads`] (what a lead does to deals) and
//! [`deals`] (how a CRM's deal report lands on the stored deal).

pub mod deals;
pub mod leads;
pub mod merge;

pub use deals::{
    plan_deal_upsert, DealChanges, DealFields, DealPlan, DealState, DealTarget, DealWriteFacts,
    NewDeal, StoredDeal,
};
pub use leads::{plan_lead, LeadDeal, LeadFacts, LeadOpensDeal, LeadPlan};
pub use merge::{name_to_fill, plan_contact_merge, ContactResolution};

use crate::money::Money;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// What kind of contact attempt a lead is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LeadKind {
    /// A site form.
    Form,
    /// A phone call.
    Call,
    /// A messenger chat.
    Chat,
    /// A support ticket.
    Ticket,
    /// An e-mail.
    Email,
}

impl LeadKind {
    /// The name used in storage and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            LeadKind::Form => "form",
            LeadKind::Call => "call",
            LeadKind::Chat => "chat",
            LeadKind::Ticket => "ticket",
            LeadKind::Email => "email",
        }
    }

    /// Whether a lead of this kind opens (or joins) a sales deal. A support
    /// ticket is not a sale: it is recorded as a lead of its contact (so it
    /// counts per channel) but leaves the deals alone.
    pub fn opens_deal(self) -> bool {
        !matches!(self, LeadKind::Ticket)
    }

    /// Parses [`LeadKind::as_str`].
    pub fn parse(s: &str) -> Option<LeadKind> {
        Some(match s {
            "form" => LeadKind::Form,
            "call" => LeadKind::Call,
            "chat" => LeadKind::Chat,
            "ticket" => LeadKind::Ticket,
            "email" => LeadKind::Email,
            _ => return None,
        })
    }
}

/// The kinds of identity a contact gathers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IdentityKind {
    /// E.164 phone number.
    Phone,
    /// Lower-cased e-mail.
    Email,
    /// skvoz visitor id (`skvoz_vid`).
    Vid,
    /// Google Analytics client id.
    GaCid,
    /// Yandex Metrika client id.
    YmUid,
    /// Telegram user id.
    Telegram,
    /// A CRM's client/contact id (`amocrm:123`, `bitrix24:45`).
    CrmClient,
}

impl IdentityKind {
    /// The name used in storage.
    pub fn as_str(self) -> &'static str {
        match self {
            IdentityKind::Phone => "phone",
            IdentityKind::Email => "email",
            IdentityKind::Vid => "vid",
            IdentityKind::GaCid => "ga_cid",
            IdentityKind::YmUid => "ym_uid",
            IdentityKind::Telegram => "telegram",
            IdentityKind::CrmClient => "crm_client",
        }
    }

    /// Parses [`IdentityKind::as_str`].
    pub fn parse(s: &str) -> Option<IdentityKind> {
        Some(match s {
            "phone" => IdentityKind::Phone,
            "email" => IdentityKind::Email,
            "vid" => IdentityKind::Vid,
            "ga_cid" => IdentityKind::GaCid,
            "ym_uid" => IdentityKind::YmUid,
            "telegram" => IdentityKind::Telegram,
            "crm_client" => IdentityKind::CrmClient,
            _ => return None,
        })
    }
}

/// One identity of a contact, already normalized.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Identity {
    /// Its kind.
    pub kind: IdentityKind,
    /// Its normalized value.
    pub value: String,
}

impl Identity {
    /// An identity of a kind.
    pub fn new(kind: IdentityKind, value: impl Into<String>) -> Identity {
        Identity {
            kind,
            value: value.into(),
        }
    }
}

/// Whether a deal is still open, won or lost.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DealStatus {
    /// In progress.
    Open,
    /// Paid / closed won.
    Won,
    /// Closed lost.
    Lost,
}

impl DealStatus {
    /// The name used in storage and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            DealStatus::Open => "open",
            DealStatus::Won => "won",
            DealStatus::Lost => "lost",
        }
    }

    /// Parses [`DealStatus::as_str`].
    pub fn parse(s: &str) -> Option<DealStatus> {
        Some(match s {
            "open" => DealStatus::Open,
            "won" => DealStatus::Won,
            "lost" => DealStatus::Lost,
            _ => return None,
        })
    }
}

impl From<crate::settings::StageKind> for DealStatus {
    fn from(k: crate::settings::StageKind) -> Self {
        match k {
            crate::settings::StageKind::Open => DealStatus::Open,
            crate::settings::StageKind::Won => DealStatus::Won,
            crate::settings::StageKind::Lost => DealStatus::Lost,
        }
    }
}

/// A deal as a connector reports it: every field optional except the id,
/// so a partial update (amoCRM sends only what changed) leaves the rest.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DealUpdate {
    /// The deal's id in its source system (unique per project and source).
    pub external_id: String,
    /// Open, won or lost.
    pub status: Option<DealStatus>,
    /// A stage name of the project's pipeline.
    pub stage: Option<String>,
    /// Revenue.
    pub revenue: Option<Money>,
    /// Profit (margin), when known.
    pub profit: Option<Money>,
    /// When the deal was created in the source system.
    pub created_at: Option<DateTime<Utc>>,
    /// When it was won or lost.
    pub closed_at: Option<DateTime<Utc>>,
    /// The client's phone (raw; normalized by the service).
    pub phone: Option<String>,
    /// The client's e-mail (raw).
    pub email: Option<String>,
    /// The visit code the CRM kept (Roistat-style `roistat` field).
    pub visit_code: Option<i64>,
    /// The visitor id.
    pub vid: Option<String>,
    /// The GA client id.
    pub ga_cid: Option<String>,
    /// The CRM's client id (`amocrm:…`).
    pub crm_client_id: Option<String>,
    /// Product or deal title, for reports by product.
    pub product: Option<String>,
    /// When this change happened in the source system (the time of a stage
    /// change in the history); default: when skvoz receives it.
    pub changed_at: Option<DateTime<Utc>>,
}

/// A row of a deal's stage history: the deal entered `stage` with
/// `status` at `at`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StageEntry {
    /// The stage entered.
    pub stage: String,
    /// The deal's status then.
    pub status: DealStatus,
    /// When.
    pub at: DateTime<Utc>,
}

/// What a new lead does to deals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeadDecision {
    /// Open a new deal in the first stage.
    OpenDeal,
    /// Join the contact's open deal: a repeat lead, not a new deal.
    JoinOpenDeal(i64),
}

/// Deduplication: with dedup on, a lead from a contact with an open deal
/// joins that deal; otherwise it opens a new one.
pub fn decide_lead(dedup: bool, open_deal: Option<i64>) -> LeadDecision {
    match (dedup, open_deal) {
        (true, Some(deal)) => LeadDecision::JoinOpenDeal(deal),
        _ => LeadDecision::OpenDeal,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dedup_decisions() {
        assert_eq!(decide_lead(true, Some(7)), LeadDecision::JoinOpenDeal(7));
        assert_eq!(decide_lead(true, None), LeadDecision::OpenDeal);
        assert_eq!(decide_lead(false, Some(7)), LeadDecision::OpenDeal);
    }
}
