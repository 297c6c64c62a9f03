//! The facts each event carries, as typed structs: what webhook receivers
//! get under `data`, what the outbox routes on, what automations read.
//!
//! A backend says "this happened, here are the facts" by building one of
//! these (from its stored rows through the constructors below) and turning
//! it into a [`NewEvent`] with [`EventPayload::into_event`]; it never writes
//! the JSON itself, so every backend emits the same bytes.
//!
//! The JSON is the public webhook contract (API.md), pinned byte for byte by
//! `skvoz-store-sqlite`'s `tests/event_payloads.rs`. Fields are declared in
//! alphabetical order because the stored JSON has always had sorted keys (a
//! `serde_json::Value` object without `preserve_order` is a sorted map); with
//! the declaration in the same order, serializing a payload straight to a
//! string and serializing it through a `Value` give the same bytes. No field
//! is skipped when empty: receivers see `null`.

use crate::{
    Call, ChatRecorded, Deal, EventKind, Invitation, NewAnswer, NewChatMessage, NewEvent, NewLead,
    StoredEvent, Ticket,
};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use skvoz_domain::crm::{DealStatus, LeadKind};

/// `lead.created`: a lead was recorded (any kind: form, call, chat, ticket).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LeadCreatedPayload {
    /// The lead's contact (after any merge the lead caused); `None` when the
    /// lead named no identity.
    pub contact_id: Option<i64>,
    /// When the lead happened, as the sender said.
    pub created_at: DateTime<Utc>,
    /// The deal it opened or joined; `None` for kinds that open no deal
    /// (tickets).
    pub deal_id: Option<i64>,
    /// It joined the contact's open deal instead of opening one.
    pub duplicate: bool,
    /// The lead as received (form fields etc.).
    pub fields: serde_json::Value,
    /// Form, call, chat, ticket or e-mail.
    pub kind: LeadKind,
    /// The lead.
    pub lead_id: i64,
    /// The person's name, if given.
    pub name: Option<String>,
    /// The sender's id of the lead (call id, message id), if any.
    pub source_id: Option<String>,
    /// The visit it is attributed to.
    pub visit_id: Option<i64>,
}

/// `deal.stage_changed`: a deal entered a stage (its first one included),
/// with the deal as it is after the change that made the event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DealStageChangedPayload {
    /// When the deal entered the stage.
    pub at: DateTime<Utc>,
    /// The deal's contact.
    pub contact_id: Option<i64>,
    /// The deal.
    pub deal_id: i64,
    /// Its id in the source CRM (`None` for a deal a lead opened in skvoz
    /// and no CRM adopted yet).
    pub external_id: Option<String>,
    /// A repeat sale (follows a won deal of the same contact).
    pub is_repeat: bool,
    /// The lead that opened it.
    pub lead_id: Option<i64>,
    /// Its product or title.
    pub product: Option<String>,
    /// Profit in major currency units, when known.
    pub profit: Option<f64>,
    /// Revenue in major currency units (`1500.5` for 1 500.50).
    pub revenue: f64,
    /// The stage entered.
    pub stage: String,
    /// The deal's status on entering it (open, won, lost).
    pub status: DealStatus,
    /// The visit the deal is attributed to.
    pub visit_id: Option<i64>,
}

/// `call.finished`: a call was recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CallFinishedPayload {
    /// Somebody answered.
    pub answered: bool,
    /// The call.
    pub call_id: i64,
    /// The number called, E.164 when it parses, else as sent.
    pub called: String,
    /// Who called, E.164 (`None` when hidden or not a phone number).
    pub caller: Option<String>,
    /// The caller's contact.
    pub contact_id: Option<i64>,
    /// Talk time, seconds.
    pub duration: u32,
    /// It passed the project's target-call rule.
    pub is_target: bool,
    /// The caller's first call in the unique window.
    pub is_unique: bool,
    /// The lead a target call became.
    pub lead_id: Option<i64>,
    /// The tracking number called, when it is one of a pool.
    pub number: Option<String>,
    /// `generic`, `zadarma`, `calltouch`.
    pub provider: String,
    /// Link to the recording.
    pub recording_url: Option<String>,
    /// The provider's call id.
    pub source_id: String,
    /// When the call started (it finished `duration` seconds later).
    pub started_at: DateTime<Utc>,
    /// The visit it is attributed to.
    pub visit_id: Option<i64>,
}

/// `chat.started`: a new dialog began.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatStartedPayload {
    /// The dialog's contact, when already linked.
    pub contact_id: Option<i64>,
    /// The dialog.
    pub dialog_id: i64,
    /// A new dialog, not a repeat one (the chat wrote recently).
    pub is_new: bool,
    /// The dialog's lead, when it already became one.
    pub lead_id: Option<i64>,
    /// `whatsapp`, `telegram`, …
    pub messenger: String,
    /// The page the chat was started from.
    pub page: Option<String>,
    /// When its first message was sent.
    pub started_at: DateTime<Utc>,
    /// The visit code its first message carried.
    pub visit_code: Option<i64>,
    /// The visit that code names.
    pub visit_id: Option<i64>,
}

/// `ticket.closed`: a ticket was solved or closed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TicketClosedPayload {
    /// When it was closed, or else solved.
    pub closed_at: DateTime<Utc>,
    /// The contact (following merges, through its lead).
    pub contact_id: Option<i64>,
    /// When it was opened.
    pub created_at: DateTime<Utc>,
    /// Its id in the help desk.
    pub external_id: String,
    /// The lead of kind `ticket` it made.
    pub lead_id: Option<i64>,
    /// The product it is about.
    pub product: Option<String>,
    /// The help desk (`api`, `helpdeskeddy`).
    pub provider: String,
    /// CSAT 1–5, when given.
    pub rating: Option<u8>,
    /// The help desk's status name.
    pub status: Option<String>,
    /// Subject.
    pub subject: Option<String>,
    /// The ticket.
    pub ticket_id: i64,
}

/// `survey.answered`: a survey invitation got its answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SurveyAnsweredPayload {
    /// The answer.
    pub answer_id: i64,
    /// When it was answered.
    pub answered_at: DateTime<Utc>,
    /// Every answer by question id (`{"score": 3, "solved": "no", …}`).
    pub answers: serde_json::Value,
    /// The acquisition channel fixed when the invitation was made.
    pub channel: Option<String>,
    /// The contact asked.
    pub contact_id: Option<i64>,
    /// The deal it is about.
    pub deal_id: Option<i64>,
    /// The invitation answered.
    pub invitation_id: i64,
    /// `nps` or `csat`.
    pub kind: String,
    /// The score question's answer.
    pub score: i64,
    /// The survey's id in the settings.
    pub survey: String,
    /// The ticket it is about.
    pub ticket_id: Option<i64>,
}

impl LeadCreatedPayload {
    /// The event of `lead` recorded as `lead_id` for `contact_id`, having
    /// opened or joined `deal_id` (`duplicate`: joined).
    pub fn recorded(
        lead: &NewLead,
        lead_id: i64,
        contact_id: Option<i64>,
        deal_id: Option<i64>,
        duplicate: bool,
    ) -> Self {
        LeadCreatedPayload {
            contact_id,
            created_at: lead.created_at,
            deal_id,
            duplicate,
            fields: lead.payload.clone(),
            kind: lead.kind,
            lead_id,
            name: lead.name.clone(),
            source_id: lead.source_id.clone(),
            visit_id: lead.visit_id,
        }
    }
}

impl DealStageChangedPayload {
    /// The event of `deal` (as it now is) entering `stage` with `status` at
    /// `at`.
    pub fn entered(deal: &Deal, stage: String, status: DealStatus, at: DateTime<Utc>) -> Self {
        DealStageChangedPayload {
            at,
            contact_id: deal.contact_id,
            deal_id: deal.id,
            external_id: deal.external_id.clone(),
            is_repeat: deal.is_repeat,
            lead_id: deal.lead_id,
            product: deal.product.clone(),
            profit: deal.profit.map(|p| p.to_decimal()),
            revenue: deal.revenue.to_decimal(),
            stage,
            status,
            visit_id: deal.visit_id,
        }
    }
}

impl From<&Call> for CallFinishedPayload {
    fn from(stored: &Call) -> Self {
        let c = &stored.call;
        CallFinishedPayload {
            answered: c.answered,
            call_id: stored.id,
            called: c.called.clone(),
            caller: c.caller.clone(),
            contact_id: c.contact_id,
            duration: c.duration,
            is_target: c.is_target,
            is_unique: c.is_unique,
            lead_id: c.lead_id,
            number: c.number.clone(),
            provider: c.provider.clone(),
            recording_url: c.recording_url.clone(),
            source_id: c.source_id.clone(),
            started_at: c.started_at,
            visit_id: c.visit_id,
        }
    }
}

impl ChatStartedPayload {
    /// The dialog `recorded` that `message` started.
    pub fn started(message: &NewChatMessage, recorded: &ChatRecorded) -> Self {
        ChatStartedPayload {
            contact_id: recorded.contact_id,
            dialog_id: recorded.dialog_id,
            is_new: recorded.is_new,
            lead_id: recorded.lead_id,
            messenger: message.messenger.clone(),
            page: message.page.clone(),
            started_at: message.sent_at,
            visit_code: message.visit_code,
            visit_id: message.visit_id,
        }
    }
}

impl TicketClosedPayload {
    /// The event of `ticket` being done: `None` while it is neither closed
    /// nor solved. A closed ticket reports its closing time, else its
    /// solving time.
    pub fn of(ticket: &Ticket) -> Option<Self> {
        let closed_at = ticket.closed_at.or(ticket.resolved_at)?;
        Some(TicketClosedPayload {
            closed_at,
            contact_id: ticket.contact_id,
            created_at: ticket.created_at,
            external_id: ticket.external_id.clone(),
            lead_id: ticket.lead_id,
            product: ticket.product.clone(),
            provider: ticket.provider.clone(),
            rating: ticket.rating,
            status: ticket.status.clone(),
            subject: ticket.subject.clone(),
            ticket_id: ticket.id,
        })
    }
}

impl SurveyAnsweredPayload {
    /// The event of `invitation` answered with `answer`, stored as
    /// `answer_id`.
    pub fn answered(answer_id: i64, invitation: &Invitation, answer: &NewAnswer) -> Self {
        SurveyAnsweredPayload {
            answer_id,
            answered_at: answer.at,
            answers: answer.answers.clone(),
            channel: invitation.channel.clone(),
            contact_id: invitation.contact_id,
            deal_id: invitation.deal_id,
            invitation_id: invitation.id,
            kind: invitation.kind.clone(),
            score: answer.score,
            survey: invitation.survey_id.clone(),
            ticket_id: invitation.ticket_id,
        }
    }
}

/// The facts of any event: one variant per [`EventKind`].
///
/// Serializes as the bare payload (the kind travels beside it, in
/// [`NewEvent::kind`] and the webhook envelope's `type`); read a stored
/// event back with [`EventPayload::of_event`].
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum EventPayload {
    /// `lead.created`.
    LeadCreated(LeadCreatedPayload),
    /// `deal.stage_changed`.
    DealStageChanged(DealStageChangedPayload),
    /// `call.finished`.
    CallFinished(CallFinishedPayload),
    /// `chat.started`.
    ChatStarted(ChatStartedPayload),
    /// `ticket.closed`.
    TicketClosed(TicketClosedPayload),
    /// `survey.answered`.
    SurveyAnswered(SurveyAnsweredPayload),
}

impl EventPayload {
    /// Which event this is.
    pub fn kind(&self) -> EventKind {
        match self {
            EventPayload::LeadCreated(_) => EventKind::LeadCreated,
            EventPayload::DealStageChanged(_) => EventKind::DealStageChanged,
            EventPayload::CallFinished(_) => EventKind::CallFinished,
            EventPayload::ChatStarted(_) => EventKind::ChatStarted,
            EventPayload::TicketClosed(_) => EventKind::TicketClosed,
            EventPayload::SurveyAnswered(_) => EventKind::SurveyAnswered,
        }
    }

    /// The contact the event concerns, when known.
    pub fn contact_id(&self) -> Option<i64> {
        match self {
            EventPayload::LeadCreated(p) => p.contact_id,
            EventPayload::DealStageChanged(p) => p.contact_id,
            EventPayload::CallFinished(p) => p.contact_id,
            EventPayload::ChatStarted(p) => p.contact_id,
            EventPayload::TicketClosed(p) => p.contact_id,
            EventPayload::SurveyAnswered(p) => p.contact_id,
        }
    }

    /// The id of the changed thing: the lead, deal, call, dialog, ticket or
    /// answer.
    pub fn subject_id(&self) -> i64 {
        match self {
            EventPayload::LeadCreated(p) => p.lead_id,
            EventPayload::DealStageChanged(p) => p.deal_id,
            EventPayload::CallFinished(p) => p.call_id,
            EventPayload::ChatStarted(p) => p.dialog_id,
            EventPayload::TicketClosed(p) => p.ticket_id,
            EventPayload::SurveyAnswered(p) => p.answer_id,
        }
    }

    /// When it happened: the lead's time, the stage entry, the call's end,
    /// the dialog's first message, the ticket's closing, the answer.
    pub fn at(&self) -> DateTime<Utc> {
        match self {
            EventPayload::LeadCreated(p) => p.created_at,
            EventPayload::DealStageChanged(p) => p.at,
            EventPayload::CallFinished(p) => {
                p.started_at + Duration::seconds(i64::from(p.duration))
            }
            EventPayload::ChatStarted(p) => p.started_at,
            EventPayload::TicketClosed(p) => p.closed_at,
            EventPayload::SurveyAnswered(p) => p.answered_at,
        }
    }

    /// The event to append: kind, contact, subject and time all come from
    /// the payload, so they cannot disagree with it. Fails only if the
    /// payload cannot be represented as JSON, which none of these types can.
    pub fn into_event(self) -> Result<NewEvent, serde_json::Error> {
        Ok(NewEvent {
            kind: self.kind(),
            contact_id: self.contact_id(),
            subject_id: Some(self.subject_id()),
            at: self.at(),
            data: serde_json::to_value(&self)?,
        })
    }

    /// Reads a stored event's `data` as the payload of its kind.
    pub fn of_event(event: &StoredEvent) -> Result<EventPayload, serde_json::Error> {
        EventPayload::parse(event.kind, &event.data)
    }

    /// Reads `data` as the payload of `kind`.
    pub fn parse(
        kind: EventKind,
        data: &serde_json::Value,
    ) -> Result<EventPayload, serde_json::Error> {
        Ok(match kind {
            EventKind::LeadCreated => {
                EventPayload::LeadCreated(LeadCreatedPayload::deserialize(data)?)
            }
            EventKind::DealStageChanged => {
                EventPayload::DealStageChanged(DealStageChangedPayload::deserialize(data)?)
            }
            EventKind::CallFinished => {
                EventPayload::CallFinished(CallFinishedPayload::deserialize(data)?)
            }
            EventKind::ChatStarted => {
                EventPayload::ChatStarted(ChatStartedPayload::deserialize(data)?)
            }
            EventKind::TicketClosed => {
                EventPayload::TicketClosed(TicketClosedPayload::deserialize(data)?)
            }
            EventKind::SurveyAnswered => {
                EventPayload::SurveyAnswered(SurveyAnsweredPayload::deserialize(data)?)
            }
        })
    }
}

macro_rules! into_event_payload {
    ($($payload:ident => $variant:ident),* $(,)?) => {
        $(
            impl From<$payload> for EventPayload {
                fn from(p: $payload) -> Self {
                    EventPayload::$variant(p)
                }
            }
        )*
    };
}

into_event_payload!(
    LeadCreatedPayload => LeadCreated,
    DealStageChangedPayload => DealStageChanged,
    CallFinishedPayload => CallFinished,
    ChatStartedPayload => ChatStarted,
    TicketClosedPayload => TicketClosed,
    SurveyAnsweredPayload => SurveyAnswered,
);

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use serde_json::json;

    fn t(h: u32, m: u32, ms: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 2, h, m, 0)
            .single()
            .expect("valid time")
            + Duration::milliseconds(ms)
    }

    fn samples() -> Vec<EventPayload> {
        vec![
            LeadCreatedPayload {
                contact_id: Some(1),
                created_at: t(10, 15, 250),
                deal_id: Some(2),
                duplicate: false,
                fields: json!({"name": "Анна", "a": [1, null]}),
                kind: LeadKind::Form,
                lead_id: 3,
                name: Some("Анна".into()),
                source_id: None,
                visit_id: Some(42),
            }
            .into(),
            DealStageChangedPayload {
                at: t(11, 0, 0),
                contact_id: Some(1),
                deal_id: 2,
                external_id: Some("crm-55".into()),
                is_repeat: true,
                lead_id: Some(3),
                product: None,
                profit: Some(400.0),
                revenue: 1500.5,
                stage: "won".into(),
                status: DealStatus::Won,
                visit_id: None,
            }
            .into(),
            CallFinishedPayload {
                answered: true,
                call_id: 4,
                called: "+74950000000".into(),
                caller: None,
                contact_id: None,
                duration: 95,
                is_target: false,
                is_unique: true,
                lead_id: None,
                number: Some("+74950000001".into()),
                provider: "zadarma".into(),
                recording_url: None,
                source_id: "c1".into(),
                started_at: t(12, 0, 0),
                visit_id: Some(42),
            }
            .into(),
            ChatStartedPayload {
                contact_id: None,
                dialog_id: 5,
                is_new: true,
                lead_id: None,
                messenger: "telegram".into(),
                page: None,
                started_at: t(13, 0, 125),
                visit_code: Some(4711),
                visit_id: Some(42),
            }
            .into(),
            TicketClosedPayload {
                closed_at: t(15, 30, 0),
                contact_id: Some(1),
                created_at: t(9, 0, 0),
                external_id: "T-9".into(),
                lead_id: Some(6),
                product: None,
                provider: "api".into(),
                rating: Some(4),
                status: Some("solved".into()),
                subject: Some("Refund".into()),
                ticket_id: 7,
            }
            .into(),
            SurveyAnsweredPayload {
                answer_id: 8,
                answered_at: t(17, 45, 1),
                answers: json!({"score": 5, "solved": "yes"}),
                channel: None,
                contact_id: Some(1),
                deal_id: None,
                invitation_id: 9,
                kind: "csat".into(),
                score: 5,
                survey: "csat-1".into(),
                ticket_id: Some(7),
            }
            .into(),
        ]
    }

    /// The declaration order is the sorted key order the stored JSON has
    /// always had, so the two ways of serializing agree byte for byte.
    #[test]
    fn direct_and_value_serialization_give_the_same_bytes() {
        for p in samples() {
            let direct = serde_json::to_string(&p).expect("serialize");
            let through_value = serde_json::to_value(&p).expect("to value").to_string();
            assert_eq!(direct, through_value, "{:?}", p.kind());
        }
    }

    #[test]
    fn an_event_takes_kind_contact_subject_and_time_from_its_payload() {
        let events: Vec<_> = samples()
            .into_iter()
            .map(|p| p.into_event().expect("event"))
            .map(|e| (e.kind, e.contact_id, e.subject_id, e.at))
            .collect();
        assert_eq!(
            events,
            vec![
                (EventKind::LeadCreated, Some(1), Some(3), t(10, 15, 250)),
                (EventKind::DealStageChanged, Some(1), Some(2), t(11, 0, 0)),
                // A call finishes when its talk time is over.
                (EventKind::CallFinished, None, Some(4), t(12, 1, 35_000)),
                (EventKind::ChatStarted, None, Some(5), t(13, 0, 125)),
                (EventKind::TicketClosed, Some(1), Some(7), t(15, 30, 0)),
                (EventKind::SurveyAnswered, Some(1), Some(8), t(17, 45, 1)),
            ]
        );
    }

    #[test]
    fn a_stored_event_reads_back_as_the_payload_it_was_made_from() {
        for p in samples() {
            let e = p.clone().into_event().expect("event");
            // Through the JSON text, as a backend stores it.
            let data = serde_json::from_str(&e.data.to_string()).expect("json");
            assert_eq!(EventPayload::parse(e.kind, &data).expect("parse"), p);
        }
        // Data of another kind does not pass for this one.
        let lead = samples().remove(0).into_event().expect("event");
        assert!(EventPayload::parse(EventKind::CallFinished, &lead.data).is_err());
    }

    #[test]
    fn a_ticket_is_an_event_once_done_and_reports_closing_before_solving() {
        let mut ticket = Ticket {
            id: 7,
            provider: "api".into(),
            external_id: "T-9".into(),
            contact_id: None,
            lead_id: None,
            subject: None,
            status: Some("open".into()),
            priority: None,
            product: None,
            created_at: t(9, 0, 0),
            first_response_at: None,
            resolved_at: None,
            closed_at: None,
            rating: None,
            handling_minutes: None,
        };
        assert_eq!(TicketClosedPayload::of(&ticket), None);
        ticket.resolved_at = Some(t(10, 0, 0));
        let solved = TicketClosedPayload::of(&ticket).expect("solved");
        assert_eq!(solved.closed_at, t(10, 0, 0));
        ticket.closed_at = Some(t(11, 0, 0));
        let closed = TicketClosedPayload::of(&ticket).expect("closed");
        assert_eq!(closed.closed_at, t(11, 0, 0));
    }
}
