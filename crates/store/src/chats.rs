//! Messenger chats: messages (idempotent on the sender's message id) grouped
//! into dialogs, each linked to the visit its first message named, to its
//! contact and, for dialogs that became leads, to its lead.
//!
//! Recording a message and deciding its dialog is one store call (one
//! transaction), so concurrent deliveries of one chat cannot open two
//! dialogs.

use crate::{Scope, StoreResult};
use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

/// A message to record.
#[derive(Debug, Clone)]
pub struct NewChatMessage {
    /// `whatsapp`, `telegram`, or another messenger's name.
    pub messenger: String,
    /// The sender's id in the messenger (WhatsApp `wa_id`, Telegram user id).
    pub external_chat: String,
    /// The sender's message id; a second message with the same id (per
    /// project and messenger) changes nothing.
    pub message_id: String,
    /// When it was sent.
    pub sent_at: DateTime<Utc>,
    /// `text`, `image`, `start`, …
    pub kind: String,
    /// Its text or caption.
    pub text: Option<String>,
    /// The sender's name.
    pub name: Option<String>,
    /// The sender's E.164 phone (WhatsApp).
    pub phone: Option<String>,
    /// The sender's username (Telegram).
    pub username: Option<String>,
    /// The visit code the message carries, if any; a code other than the
    /// current dialog's starts a new dialog (a new click on the site).
    pub visit_code: Option<i64>,
    /// The visit that code names in this project.
    pub visit_id: Option<i64>,
    /// The page the chat was started from (for a dialog this starts).
    pub page: Option<String>,
    /// The message looks like the prefilled text with its code removed.
    pub code_edited_away: bool,
    /// Tags for a dialog this message starts.
    pub tags: Vec<String>,
}

/// How messages group into dialogs.
#[derive(Debug, Clone, Copy)]
pub struct DialogPolicy {
    /// Silence after which a message starts a new dialog.
    pub gap: Duration,
    /// A dialog is repeat when the chat wrote within this before it.
    pub repeat_window: Duration,
}

/// What recording a message did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChatRecorded {
    /// The dialog the message belongs to.
    pub dialog_id: i64,
    /// The message had been recorded before; nothing changed.
    pub replayed: bool,
    /// This message started its dialog (true on a replay of a first message).
    pub first_message: bool,
    /// The dialog is new (not repeat).
    pub is_new: bool,
    /// The dialog's contact, once linked.
    pub contact_id: Option<i64>,
    /// The dialog's lead, once it became one.
    pub lead_id: Option<i64>,
}

/// A dialog as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChatDialog {
    /// Id.
    pub id: i64,
    /// `whatsapp`, `telegram`, …
    pub messenger: String,
    /// The sender's id in the messenger.
    pub external_chat: String,
    /// The message id that started it.
    pub first_message_id: String,
    /// When its first message was sent.
    pub started_at: DateTime<Utc>,
    /// Its latest message.
    pub last_message_at: DateTime<Utc>,
    /// Messages in it.
    pub messages: i64,
    /// The visit its first message named (`None`: unattributed).
    pub visit_id: Option<i64>,
    /// The code its first message carried.
    pub visit_code: Option<i64>,
    /// The contact.
    pub contact_id: Option<i64>,
    /// The lead it became.
    pub lead_id: Option<i64>,
    /// New, not repeat.
    pub is_new: bool,
    /// Its first message was the prefilled text with the code removed.
    pub code_edited_away: bool,
    /// The page of first contact.
    pub page: Option<String>,
    /// Tags.
    pub tags: Vec<String>,
    /// The sender's name.
    pub name: Option<String>,
    /// The sender's phone.
    pub phone: Option<String>,
    /// The sender's username.
    pub username: Option<String>,
}

/// The visit facts the chat report shows.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ChatVisitFacts {
    /// Source.
    pub source: String,
    /// Medium.
    pub medium: String,
    /// `utm_campaign`.
    pub campaign: Option<String>,
    /// `utm_content` (the ad).
    pub ad: Option<String>,
    /// `utm_term` (the keyword).
    pub keyword: Option<String>,
    /// Channel group.
    pub channel: String,
    /// Region.
    pub region: Option<String>,
    /// City.
    pub city: Option<String>,
    /// Operating system.
    pub os: String,
    /// Screen resolution.
    pub screen: Option<String>,
    /// Device type.
    pub device_type: String,
    /// Landing page.
    pub landing: String,
}

/// An earlier contact attempt of the same contact.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EarlierContact {
    /// `form`, `call`, `chat`, …
    pub kind: String,
    /// When.
    pub at: DateTime<Utc>,
}

/// One row of the chat report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChatReportRow {
    /// The dialog.
    pub dialog: ChatDialog,
    /// Its visit, when attributed.
    pub visit: Option<ChatVisitFacts>,
    /// The contact's name.
    pub contact_name: Option<String>,
    /// The contact's phone.
    pub contact_phone: Option<String>,
    /// The contact's earlier leads and dialogs, newest first (at most 20).
    pub earlier: Vec<EarlierContact>,
}

/// A message as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredChatMessage {
    /// The sender's message id.
    pub message_id: String,
    /// Its dialog.
    pub dialog_id: i64,
    /// When.
    pub sent_at: DateTime<Utc>,
    /// Kind.
    pub kind: String,
    /// Text.
    pub text: Option<String>,
}

/// Chats.
#[async_trait]
pub trait ChatStore: Send + Sync {
    /// Records a message and places it in a dialog (continuing the chat's
    /// latest one or starting one), atomically; idempotent on the message id.
    async fn record_chat_message(
        &self,
        scope: Scope,
        message: NewChatMessage,
        policy: DialogPolicy,
    ) -> StoreResult<ChatRecorded>;
    /// Links a dialog to its contact and lead.
    async fn link_dialog(
        &self,
        scope: Scope,
        dialog_id: i64,
        contact_id: Option<i64>,
        lead_id: Option<i64>,
    ) -> StoreResult<()>;
    /// A dialog.
    async fn dialog(&self, scope: Scope, id: i64) -> StoreResult<Option<ChatDialog>>;
    /// The dialogs of a contact and of the contacts merged into it
    /// (`contact_ids`), oldest first, at most `limit`.
    async fn dialogs_of_contacts(
        &self,
        scope: Scope,
        contact_ids: Vec<i64>,
        limit: usize,
    ) -> StoreResult<Vec<ChatDialog>>;
    /// A dialog's messages in time order.
    async fn dialog_messages(
        &self,
        scope: Scope,
        dialog_id: i64,
    ) -> StoreResult<Vec<StoredChatMessage>>;
    /// Dialogs that started in `[from, to)` with their visit, contact and
    /// earlier contacts, oldest first, at most `limit`.
    async fn chat_report_rows(
        &self,
        scope: Scope,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: usize,
    ) -> StoreResult<Vec<ChatReportRow>>;
}
