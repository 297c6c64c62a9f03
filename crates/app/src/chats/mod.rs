//! Messenger chats: WhatsApp Cloud API and Telegram bot webhooks and the
//! generic `POST /api/v1/chats`, each message resolved to its dialog, the
//! dialog to the visit its first message named (by the visit-code marker
//! or the `/start` payload) and to a contact, and a new dialog turned into
//! a lead of kind `chat` through the common lead path.
//!
//! ```text
//! delivery ─► check signature / secret ─► parse (connectors::messengers)
//!   ─► per message: code (marker / payload) ─► visit by code ─► page of
//!      first contact ─► store.record_chat_message (dialog: continue or
//!      start, new or repeat; idempotent on the message id)
//!   ─► first message of a dialog: LeadService::record (new dialogs, or
//!      all with repeat_dialogs_as_leads) or the contact by identity
//!   ─► link the dialog to its contact and lead ─► keep the raw payload
//! ```

pub mod report;

use crate::context::ProjectContext;
use crate::crm::leads::LeadIdentity;
use crate::crm::LeadService;
use crate::inbound::{self, Delivery, TelegramWebhook, WhatsAppWebhook};
use crate::{AppError, DynStore};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use skvoz_connectors::messengers::{marker, telegram};
use skvoz_domain::contact::normalize_phone;
use skvoz_domain::crm::{Identity, IdentityKind, LeadKind};
use skvoz_domain::messengers::{page_and_path, InboundMessage, Messenger};
use skvoz_store::{DialogPolicy, NewChatMessage};

pub use report::{ChatReport, ChatReportQuery, ChatReportService};

/// What one message did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ChatOutcome {
    /// The dialog it belongs to.
    pub dialog_id: i64,
    /// It had been received before; nothing changed.
    pub duplicate: bool,
    /// It started its dialog.
    pub dialog_started: bool,
    /// The dialog is new (not repeat).
    pub is_new: bool,
    /// The visit the dialog is linked to.
    pub visit_id: Option<i64>,
    /// The dialog's contact.
    pub contact_id: Option<i64>,
    /// The lead the dialog became.
    pub lead_id: Option<i64>,
    /// The deal that lead opened or joined (set when the lead is made now).
    pub deal_id: Option<i64>,
    /// That lead joined the contact's open deal instead of opening one.
    pub lead_duplicate: bool,
    /// The dialog's first message was the prefilled text with its code
    /// removed (the dialog is unattributed).
    pub code_edited_away: bool,
}

/// What a webhook delivery did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ChatDelivery {
    /// Messages in it.
    pub messages: usize,
    /// Status updates (WhatsApp), ignored.
    pub statuses: usize,
    /// Messages seen before.
    pub duplicates: usize,
    /// Dialogs it started.
    pub dialogs_started: usize,
    /// Leads it created.
    pub leads: usize,
    /// Entries skipped (malformed messages, updates that are not messages).
    pub skipped: usize,
}

/// A chat message in the generic shape (`POST /api/v1/chats`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChatInput {
    /// The sender's message id (idempotency key per channel).
    pub id: String,
    /// `whatsapp`, `telegram`, or another messenger's name.
    pub channel: String,
    /// The sender: a phone for WhatsApp, the user id for Telegram, any id
    /// otherwise (a phone there becomes the contact's phone).
    pub from: String,
    /// The text.
    #[serde(default)]
    pub text: Option<String>,
    /// When it was sent (RFC 3339).
    pub sent_at: DateTime<Utc>,
    /// The sender's name.
    #[serde(default)]
    pub name: Option<String>,
    /// The visit code, when the sender's system extracted it already.
    #[serde(default)]
    pub visit_code: Option<serde_json::Value>,
    /// Tags of the dialog this message starts.
    #[serde(default)]
    pub tags: Vec<String>,
}

/// The chat use cases.
#[derive(Clone)]
pub struct ChatService {
    store: DynStore,
    leads: LeadService,
}

/// The longest message text kept.
const MAX_TEXT: usize = 4096;

fn policy(ctx: &ProjectContext) -> DialogPolicy {
    let m = &ctx.settings.messengers;
    DialogPolicy {
        gap: chrono::Duration::hours(i64::from(m.dialog_gap_hours)),
        repeat_window: chrono::Duration::days(i64::from(m.repeat_window_days)),
    }
}

impl ChatService {
    /// Over a store.
    pub fn new(store: DynStore) -> Self {
        ChatService {
            leads: LeadService::new(store.clone()),
            store,
        }
    }

    /// A dialog with its messages in time order.
    pub async fn dialog_with_messages(
        &self,
        scope: skvoz_store::Scope,
        dialog_id: i64,
    ) -> Result<Option<(skvoz_store::ChatDialog, Vec<skvoz_store::StoredChatMessage>)>, AppError>
    {
        let Some(dialog) = self.store.dialog(scope, dialog_id).await? else {
            return Ok(None);
        };
        let messages = self.store.dialog_messages(scope, dialog_id).await?;
        Ok(Some((dialog, messages)))
    }

    /// The visit code a message carries, and whether it looks like the
    /// prefilled text with the code removed.
    fn code_of(ctx: &ProjectContext, m: &InboundMessage) -> (Option<i64>, bool) {
        let cfg = &ctx.settings.messengers;
        if let Some(payload) = &m.start_payload {
            let prefix =
                m.to.as_deref()
                    .and_then(|bot| cfg.bot(bot))
                    .map_or("", |b| b.payload_prefix.as_str());
            return (telegram::code_in_payload(payload, prefix), false);
        }
        if m.messenger == Messenger::Telegram {
            return (None, false);
        }
        let Some(text) = m.text.as_deref() else {
            return (None, false);
        };
        let scan = marker::scan(text, &cfg.whatsapp.marker);
        if scan.code.is_some() {
            return (scan.code, false);
        }
        let lower = text.to_lowercase();
        let greeting_seen = cfg.whatsapp.numbers.iter().any(|n| {
            std::iter::once(n.greeting.as_str())
                .chain(n.pages.iter().map(|p| p.greeting.as_str()))
                .map(str::trim)
                .any(|g| g.chars().count() >= 8 && lower.contains(&g.to_lowercase()))
        });
        (None, scan.label_seen || greeting_seen)
    }

    /// The page the chat was started from: the visit's latest page view at
    /// or before the message, without its query.
    async fn page_of(
        &self,
        ctx: &ProjectContext,
        visit: &skvoz_store::Visit,
        at: DateTime<Utc>,
    ) -> Result<String, AppError> {
        let hits = self.store.hits_of_visit(ctx.scope, visit.id).await?;
        let url = hits
            .iter()
            .rev()
            .find(|h| h.event.is_none() && h.at <= at)
            .map_or(visit.landing.as_str(), |h| h.url.as_str());
        Ok(page_and_path(url).0.chars().take(500).collect())
    }

    /// Records one message through the whole path.
    pub async fn ingest(
        &self,
        ctx: &ProjectContext,
        m: InboundMessage,
        tags: Vec<String>,
    ) -> Result<ChatOutcome, AppError> {
        self.ingest_with(ctx, m, tags, None).await
    }

    /// [`ChatService::ingest`] with a visit code the sender already
    /// extracted (the generic API's `visit_code`), which wins over the text.
    pub async fn ingest_with(
        &self,
        ctx: &ProjectContext,
        m: InboundMessage,
        tags: Vec<String>,
        explicit_code: Option<i64>,
    ) -> Result<ChatOutcome, AppError> {
        let (code, code_edited_away) = match explicit_code {
            Some(code) => (Some(code), false),
            None => Self::code_of(ctx, &m),
        };
        let visit = match code {
            Some(code) => self.store.visit_by_code(ctx.scope, code).await?,
            None => None,
        };
        let page = match &visit {
            Some(v) => Some(self.page_of(ctx, v, m.sent_at).await?),
            None => None,
        };
        let text = m
            .text
            .as_deref()
            .map(|t| t.chars().take(MAX_TEXT).collect::<String>());
        let rec = self
            .store
            .record_chat_message(
                ctx.scope,
                NewChatMessage {
                    messenger: m.messenger.as_str().to_owned(),
                    external_chat: m.external_chat.clone(),
                    message_id: m.message_id.clone(),
                    sent_at: m.sent_at,
                    kind: m.kind.clone(),
                    text: text.clone(),
                    name: m.name.clone(),
                    phone: m.phone.clone(),
                    username: m.username.clone(),
                    visit_code: code,
                    visit_id: visit.as_ref().map(|v| v.id),
                    page,
                    code_edited_away,
                    tags,
                },
                policy(ctx),
            )
            .await?;
        let mut out = ChatOutcome {
            dialog_id: rec.dialog_id,
            duplicate: rec.replayed,
            dialog_started: rec.first_message && !rec.replayed,
            is_new: rec.is_new,
            visit_id: None,
            contact_id: rec.contact_id,
            lead_id: rec.lead_id,
            deal_id: None,
            lead_duplicate: false,
            code_edited_away,
        };
        if !rec.replayed {
            metrics::counter!("skvoz_ingested_total", "kind" => "chat_message").increment(1);
        }
        // The first message of a dialog links it; a replayed first message
        // whose linking did not finish (a crash in between) finishes it now.
        let unlinked = rec.lead_id.is_none() && rec.contact_id.is_none();
        if rec.first_message && unlinked {
            let mut identities = Vec::new();
            let mut phone = m.phone.clone();
            match &m.messenger {
                Messenger::Telegram => identities.push(Identity::new(
                    IdentityKind::Telegram,
                    m.external_chat.clone(),
                )),
                Messenger::Whatsapp => {}
                Messenger::Other(_) => {
                    if phone.is_none() {
                        phone =
                            normalize_phone(&m.external_chat, &ctx.settings.general.default_region)
                                .ok();
                    }
                }
            }
            let as_lead = rec.is_new || ctx.settings.messengers.repeat_dialogs_as_leads;
            if as_lead {
                let who = LeadIdentity {
                    visit_code: visit.as_ref().map(|v| v.code),
                    phone: phone.clone(),
                    extra: identities,
                    ..LeadIdentity::default()
                };
                let payload = serde_json::json!({
                    "messenger": m.messenger.as_str(), "message_id": m.message_id,
                    "from": m.external_chat, "name": m.name, "username": m.username,
                    "text": text, "visit_code": code, "dialog_id": rec.dialog_id,
                    "code_edited_away": code_edited_away,
                });
                let (lead, _) = self
                    .leads
                    .record(
                        ctx,
                        LeadKind::Chat,
                        Some(format!("{}:{}", m.messenger.as_str(), m.message_id)),
                        who,
                        m.name.clone(),
                        m.sent_at,
                        payload,
                    )
                    .await?;
                let contact = (lead.contact_id != 0).then_some(lead.contact_id);
                self.store
                    .link_dialog(ctx.scope, rec.dialog_id, contact, Some(lead.lead_id))
                    .await?;
                out.contact_id = contact;
                out.lead_id = Some(lead.lead_id);
                out.deal_id = lead.deal_id;
                out.lead_duplicate = lead.duplicate;
            } else {
                let identity = match (&phone, identities.first()) {
                    (_, Some(id)) => Some(id.clone()),
                    (Some(p), None) => Some(Identity::new(IdentityKind::Phone, p.clone())),
                    (None, None) => None,
                };
                if let Some(identity) = identity {
                    let contact = self.store.contact_by_identity(ctx.scope, &identity).await?;
                    if contact.is_some() {
                        self.store
                            .link_dialog(ctx.scope, rec.dialog_id, contact, None)
                            .await?;
                    }
                    out.contact_id = contact;
                }
            }
        }
        if let Some(d) = self.store.dialog(ctx.scope, rec.dialog_id).await? {
            out.visit_id = d.visit_id;
            out.code_edited_away = d.code_edited_away;
        }
        Ok(out)
    }

    /// `POST /api/v1/chats`.
    pub async fn create(
        &self,
        ctx: &ProjectContext,
        input: ChatInput,
    ) -> Result<ChatOutcome, AppError> {
        let id = input.id.trim();
        if id.is_empty() || id.len() > 200 {
            return Err(AppError::invalid("id", "id must be 1-200 characters"));
        }
        let messenger = Messenger::parse(&input.channel).ok_or_else(|| {
            AppError::invalid(
                "channel",
                "channel must be whatsapp, telegram or a name of 1-32 characters of a-z0-9_-",
            )
        })?;
        let from = input.from.trim();
        if from.is_empty() || from.len() > 100 {
            return Err(AppError::invalid("from", "from must be 1-100 characters"));
        }
        if input.text.as_deref().is_some_and(|t| t.len() > 16 * 1024) {
            return Err(AppError::invalid("text", "text is longer than 16 KiB"));
        }
        if input.sent_at > Utc::now() + chrono::Duration::minutes(5) {
            return Err(AppError::invalid("sent_at", "sent_at is in the future"));
        }
        let name = input
            .name
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(|n| n.chars().take(200).collect::<String>());
        if input.tags.len() > 20 || input.tags.iter().any(|t| t.is_empty() || t.len() > 64) {
            return Err(AppError::invalid("tags", "at most 20 tags of 1-64 bytes"));
        }
        let (external_chat, phone) = match messenger {
            Messenger::Whatsapp => {
                let phone = normalize_phone(from, &ctx.settings.general.default_region)
                    .map_err(|e| AppError::invalid("from", e.to_string()))?;
                (phone.trim_start_matches('+').to_owned(), Some(phone))
            }
            Messenger::Telegram => {
                if !from.chars().all(|c| c.is_ascii_digit()) || from.len() > 20 {
                    return Err(AppError::invalid(
                        "from",
                        "a Telegram sender is its numeric user id",
                    ));
                }
                (from.to_owned(), None)
            }
            Messenger::Other(_) => (from.to_owned(), None),
        };
        let explicit_code = match &input.visit_code {
            Some(v) => crate::crm::leads::parse_visit_code(v)?,
            None => None,
        };
        let start_payload = match messenger {
            Messenger::Telegram => input
                .text
                .as_deref()
                .and_then(telegram::start_payload)
                .map(str::to_owned),
            _ => None,
        };
        let message = InboundMessage {
            kind: if start_payload.is_some() {
                "start"
            } else {
                "text"
            }
            .into(),
            messenger,
            external_chat,
            message_id: id.to_owned(),
            phone,
            name,
            username: None,
            text: input.text,
            start_payload,
            sent_at: input.sent_at,
            to: None,
        };
        self.ingest_with(ctx, message, input.tags, explicit_code)
            .await
    }

    /// The WhatsApp verification handshake.
    pub fn whatsapp_verify(
        &self,
        ctx: &ProjectContext,
        mode: Option<&str>,
        token: Option<&str>,
        challenge: Option<&str>,
    ) -> Result<String, AppError> {
        inbound::whatsapp::verify_handshake(ctx, mode, token, challenge)
    }

    /// A WhatsApp Cloud API delivery, through the [`inbound`] pipeline:
    /// signature first (a bad one stores nothing), then every message of
    /// every entry.
    pub async fn whatsapp(
        &self,
        ctx: &ProjectContext,
        signature: Option<&str>,
        body: &[u8],
    ) -> Result<ChatDelivery, AppError> {
        let webhook = WhatsAppWebhook::new(self);
        inbound::receive(&self.store, &webhook, ctx, Delivery::new(signature, body)).await
    }

    /// A Telegram update, through the [`inbound`] pipeline; the bot is the
    /// one whose `secret_token` the update carries.
    pub async fn telegram(
        &self,
        ctx: &ProjectContext,
        secret: Option<&str>,
        body: &[u8],
    ) -> Result<ChatDelivery, AppError> {
        let webhook = TelegramWebhook::new(self);
        inbound::receive(&self.store, &webhook, ctx, Delivery::new(secret, body)).await
    }
}

impl ChatDelivery {
    /// Counts what one of the delivery's messages did.
    pub(crate) fn count(&mut self, r: &ChatOutcome) {
        self.duplicates += usize::from(r.duplicate);
        self.dialogs_started += usize::from(r.dialog_started);
        self.leads += usize::from(r.dialog_started && r.lead_id.is_some());
    }
}
