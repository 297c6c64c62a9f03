//! Messenger dialogs and messages in SQLite. Recording a message (with its
//! dialog decision) is one write transaction.

use crate::conn::{backend_err, query_vec, SqliteStore};
use crate::projects::ms_to_time;
use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension, Row, Transaction};
use skvoz_domain::messengers::{decide_dialog, DialogDecision};
use skvoz_store::{
    ChatDialog, ChatRecorded, ChatReportRow, ChatStartedPayload, ChatStore, ChatVisitFacts,
    DialogPolicy, EarlierContact, NewChatMessage, Scope, StoreResult, StoredChatMessage,
};

const DIALOG_COLUMNS: &str = "d.id, d.messenger, d.external_chat, d.first_message_id, \
     d.started_at, d.last_message_at, d.messages, d.visit_id, d.visit_code, d.contact_id, \
     d.lead_id, d.is_new, d.code_edited_away, d.page, d.tags, d.name, d.phone, d.username";

/// Columns of [`DIALOG_COLUMNS`].
const DIALOG_WIDTH: usize = 18;

fn dialog_from_row(r: &Row<'_>) -> rusqlite::Result<ChatDialog> {
    let tags: String = r.get(14)?;
    Ok(ChatDialog {
        id: r.get(0)?,
        messenger: r.get(1)?,
        external_chat: r.get(2)?,
        first_message_id: r.get(3)?,
        started_at: ms_to_time(r.get(4)?),
        last_message_at: ms_to_time(r.get(5)?),
        messages: r.get(6)?,
        visit_id: r.get(7)?,
        visit_code: r.get(8)?,
        contact_id: r.get(9)?,
        lead_id: r.get(10)?,
        is_new: r.get(11)?,
        code_edited_away: r.get(12)?,
        page: r.get(13)?,
        tags: serde_json::from_str(&tags).unwrap_or_default(),
        name: r.get(15)?,
        phone: r.get(16)?,
        username: r.get(17)?,
    })
}

fn recorded_of(
    tx: &Transaction<'_>,
    project: i64,
    dialog_id: i64,
    message_id: &str,
    replayed: bool,
) -> rusqlite::Result<ChatRecorded> {
    let (first, is_new, contact_id, lead_id): (String, bool, Option<i64>, Option<i64>) = tx
        .prepare_cached(
            "SELECT first_message_id, is_new, contact_id, lead_id FROM chat_dialogs
             WHERE project_id = ?1 AND id = ?2",
        )?
        .query_row(params![project, dialog_id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })?;
    Ok(ChatRecorded {
        dialog_id,
        replayed,
        first_message: first == message_id,
        is_new,
        contact_id,
        lead_id,
    })
}

fn record_tx(
    tx: &Transaction<'_>,
    project: i64,
    m: &NewChatMessage,
    policy: DialogPolicy,
) -> rusqlite::Result<ChatRecorded> {
    let existing: Option<i64> = tx
        .prepare_cached(
            "SELECT dialog_id FROM chat_messages
             WHERE project_id = ?1 AND messenger = ?2 AND message_id = ?3",
        )?
        .query_row(params![project, m.messenger, m.message_id], |r| r.get(0))
        .optional()?;
    if let Some(dialog_id) = existing {
        return recorded_of(tx, project, dialog_id, &m.message_id, true);
    }
    let at = m.sent_at.timestamp_millis();
    let latest: Option<(i64, i64, Option<i64>)> = tx
        .prepare_cached(
            "SELECT id, last_message_at, visit_code FROM chat_dialogs
             WHERE project_id = ?1 AND messenger = ?2 AND external_chat = ?3
             ORDER BY last_message_at DESC, id DESC LIMIT 1",
        )?
        .query_row(params![project, m.messenger, m.external_chat], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .optional()?;
    let mut decision = decide_dialog(
        latest.map(|(_, last, _)| ms_to_time(last)),
        m.sent_at,
        policy.gap,
        policy.repeat_window,
    );
    // A code other than the dialog's is a new click on the site: a new
    // dialog (repeat, since the chat wrote moments ago).
    if let (DialogDecision::Continue, Some((_, _, code))) = (decision, latest) {
        if m.visit_code.is_some() && m.visit_code != code {
            decision = DialogDecision::Start { is_new: false };
        }
    }
    let start = match (decision, latest) {
        (DialogDecision::Continue, Some(_)) => None,
        (DialogDecision::Continue, None) => Some(true),
        (DialogDecision::Start { is_new }, _) => Some(is_new),
    };
    let dialog_id = match (start, latest) {
        (None, Some((id, _, _))) => {
            tx.prepare_cached(
                "UPDATE chat_dialogs SET messages = messages + 1,
                 last_message_at = MAX(last_message_at, ?3),
                 name = COALESCE(name, ?4)
                 WHERE project_id = ?1 AND id = ?2",
            )?
            .execute(params![project, id, at, m.name])?;
            id
        }
        (is_new, _) => {
            let is_new = is_new.unwrap_or(true);
            let tags = serde_json::to_string(&m.tags).unwrap_or_else(|_| "[]".into());
            tx.prepare_cached(
                "INSERT INTO chat_dialogs (project_id, messenger, external_chat, first_message_id,
                 started_at, last_message_at, messages, visit_id, visit_code, is_new,
                 code_edited_away, page, tags, name, phone, username)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?5, 1, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
            )?
            .execute(params![
                project,
                m.messenger,
                m.external_chat,
                m.message_id,
                at,
                m.visit_id,
                m.visit_code,
                is_new,
                m.code_edited_away,
                m.page,
                tags,
                m.name,
                m.phone,
                m.username
            ])?;
            tx.last_insert_rowid()
        }
    };
    tx.prepare_cached(
        "INSERT INTO chat_messages (project_id, messenger, message_id, dialog_id, external_chat,
         sent_at, kind, text) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute(params![
        project,
        m.messenger,
        m.message_id,
        dialog_id,
        m.external_chat,
        at,
        m.kind,
        m.text
    ])?;
    recorded_of(tx, project, dialog_id, &m.message_id, false)
}

fn ms_json(v: &serde_json::Value) -> Option<DateTime<Utc>> {
    v.as_i64().map(ms_to_time)
}

#[async_trait::async_trait]
impl ChatStore for SqliteStore {
    async fn record_chat_message(
        &self,
        scope: Scope,
        message: NewChatMessage,
        policy: DialogPolicy,
    ) -> StoreResult<ChatRecorded> {
        let project = scope.project().0;
        self.write(move |c| {
            let tx = c.transaction().map_err(backend_err)?;
            let out = record_tx(&tx, project, &message, policy).map_err(backend_err)?;
            if out.first_message && !out.replayed {
                let started = ChatStartedPayload::started(&message, &out);
                crate::events::emit_payload(&tx, project, started.into()).map_err(backend_err)?;
            }
            tx.commit().map_err(backend_err)?;
            Ok(out)
        })
        .await
    }

    async fn link_dialog(
        &self,
        scope: Scope,
        dialog_id: i64,
        contact_id: Option<i64>,
        lead_id: Option<i64>,
    ) -> StoreResult<()> {
        let project = scope.project().0;
        self.write(move |c| {
            c.execute(
                "UPDATE chat_dialogs SET contact_id = COALESCE(?3, contact_id),
                 lead_id = COALESCE(?4, lead_id) WHERE project_id = ?1 AND id = ?2",
                params![project, dialog_id, contact_id, lead_id],
            )
            .map_err(backend_err)?;
            Ok(())
        })
        .await
    }

    async fn dialog(&self, scope: Scope, id: i64) -> StoreResult<Option<ChatDialog>> {
        let project = scope.project().0;
        self.read(move |c| {
            c.query_row(
                &format!(
                    "SELECT {DIALOG_COLUMNS} FROM chat_dialogs d WHERE d.project_id = ?1 AND d.id = ?2"
                ),
                params![project, id],
                dialog_from_row,
            )
            .optional()
            .map_err(backend_err)
        })
        .await
    }

    async fn dialogs_of_contacts(
        &self,
        scope: Scope,
        contact_ids: Vec<i64>,
        limit: usize,
    ) -> StoreResult<Vec<ChatDialog>> {
        let project = scope.project().0;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        // A contact merges a handful of others at most; one indexed read
        // each (chat_dialogs_contact), then time order over the lot.
        let ids = serde_json::to_string(&contact_ids).unwrap_or_else(|_| "[]".to_owned());
        self.read(move |c| {
            query_vec(
                c,
                &format!(
                    "SELECT {DIALOG_COLUMNS} FROM json_each(?2) j CROSS JOIN chat_dialogs d
                       ON d.contact_id = j.value
                     WHERE +d.project_id = ?1 ORDER BY d.started_at, d.id LIMIT ?3"
                ),
                params![project, ids, limit],
                dialog_from_row,
            )
        })
        .await
    }

    async fn dialog_messages(
        &self,
        scope: Scope,
        dialog_id: i64,
    ) -> StoreResult<Vec<StoredChatMessage>> {
        let project = scope.project().0;
        self.read(move |c| {
            query_vec(
                c,
                "SELECT message_id, dialog_id, sent_at, kind, text FROM chat_messages
                 WHERE project_id = ?1 AND dialog_id = ?2 ORDER BY sent_at, id",
                params![project, dialog_id],
                |r| {
                    Ok(StoredChatMessage {
                        message_id: r.get(0)?,
                        dialog_id: r.get(1)?,
                        sent_at: ms_to_time(r.get(2)?),
                        kind: r.get(3)?,
                        text: r.get(4)?,
                    })
                },
            )
        })
        .await
    }

    async fn chat_report_rows(
        &self,
        scope: Scope,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: usize,
    ) -> StoreResult<Vec<ChatReportRow>> {
        let project = scope.project().0;
        let (from, to) = (from.timestamp_millis(), to.timestamp_millis());
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        // The contact after a merge: contacts merge into the oldest, which
        // is not merged further in practice (one level is followed). The
        // unary `+` keeps SQLite on the contact indexes in the correlated
        // subqueries (without it the planner prefers the (project, time)
        // indexes and the report turns quadratic).
        let sql = format!(
            "SELECT {DIALOG_COLUMNS},
               v.source, v.medium, v.campaign, v.content, v.term, v.channel, v.region, v.city,
               v.os, v.screen, v.device_type, v.landing, v.id IS NOT NULL,
               c.name,
               CASE WHEN d.contact_id IS NULL THEN NULL ELSE
               (SELECT ci.value FROM contact_identities ci
                 WHERE ci.contact_id = COALESCE(c.merged_into, d.contact_id)
                   AND +ci.project_id = d.project_id AND +ci.kind = 'phone'
                 ORDER BY ci.first_seen LIMIT 1) END,
               CASE WHEN d.contact_id IS NULL THEN NULL ELSE
               (SELECT json_group_array(json_array(kind, at)) FROM (
                  SELECT l.kind AS kind, l.created_at AS at FROM leads l
                   WHERE l.contact_id = COALESCE(c.merged_into, d.contact_id)
                     AND +l.project_id = d.project_id AND +l.created_at < d.started_at
                  UNION ALL
                  SELECT 'chat' AS kind, e.started_at AS at FROM chat_dialogs e
                   WHERE e.contact_id = d.contact_id AND +e.project_id = d.project_id
                     AND e.lead_id IS NULL AND +e.started_at < d.started_at
                  ORDER BY at DESC LIMIT 20)) END,
               COALESCE(c.merged_into, d.contact_id)
             FROM chat_dialogs d
             LEFT JOIN visits v ON v.id = d.visit_id AND v.project_id = d.project_id
             LEFT JOIN contacts c ON c.id = d.contact_id AND c.project_id = d.project_id
             WHERE d.project_id = ?1 AND d.started_at >= ?2 AND d.started_at < ?3
             ORDER BY d.started_at, d.id LIMIT ?4"
        );
        self.read(move |c| {
            query_vec(c, &sql, params![project, from, to, limit], |r| {
                let mut dialog = dialog_from_row(r)?;
                let w = DIALOG_WIDTH;
                // The surviving contact, when the dialog's was merged.
                dialog.contact_id = r.get(w + 16)?;
                let has_visit: bool = r.get(w + 12)?;
                let visit = if has_visit {
                    Some(ChatVisitFacts {
                        source: r.get(w)?,
                        medium: r.get(w + 1)?,
                        campaign: r.get(w + 2)?,
                        ad: r.get(w + 3)?,
                        keyword: r.get(w + 4)?,
                        channel: r.get(w + 5)?,
                        region: r.get(w + 6)?,
                        city: r.get(w + 7)?,
                        os: r.get(w + 8)?,
                        screen: r.get(w + 9)?,
                        device_type: r.get(w + 10)?,
                        landing: r.get(w + 11)?,
                    })
                } else {
                    None
                };
                let earlier: Option<String> = r.get(w + 15)?;
                let earlier = earlier
                    .and_then(|s| serde_json::from_str::<Vec<serde_json::Value>>(&s).ok())
                    .unwrap_or_default()
                    .iter()
                    .filter_map(|pair| {
                        Some(EarlierContact {
                            kind: pair.get(0)?.as_str()?.to_owned(),
                            at: ms_json(pair.get(1)?)?,
                        })
                    })
                    .collect();
                Ok(ChatReportRow {
                    contact_name: r.get::<_, Option<String>>(w + 13)?.or(dialog.name.clone()),
                    contact_phone: r.get::<_, Option<String>>(w + 14)?.or(dialog.phone.clone()),
                    visit,
                    earlier,
                    dialog,
                })
            })
        })
        .await
    }
}
