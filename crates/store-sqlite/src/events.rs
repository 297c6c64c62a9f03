//! The event log, consumers' cursors and the outbox's front door.
//!
//! The other modules call [`emit`] inside their own write transactions, so an
//! event exists exactly when its change committed.

use crate::conn::{backend_err, query_vec};
use crate::projects::ms_to_time;
use crate::SqliteStore;
use chrono::Utc;
use rusqlite::{params, Connection, OptionalExtension, Row};
use skvoz_domain::ProjectId;
use skvoz_store::{
    EventPayload, EventStore, NewEvent, NewOutboxMessage, Scope, StoreResult, StoredEvent,
};

/// Appends an event inside the caller's transaction; returns its id.
pub(crate) fn emit(c: &Connection, project: i64, event: &NewEvent) -> rusqlite::Result<i64> {
    c.prepare_cached(
        "INSERT INTO events (project_id, kind, contact_id, subject_id, at, recorded_at, data)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![
        project,
        event.kind.as_str(),
        event.contact_id,
        event.subject_id,
        event.at.timestamp_millis(),
        Utc::now().timestamp_millis(),
        event.data.to_string(),
    ])?;
    Ok(c.last_insert_rowid())
}

/// Advances a consumer's cursor inside the caller's transaction (never
/// backwards).
pub(crate) fn advance_cursor(c: &Connection, consumer: &str, to: i64) -> rusqlite::Result<()> {
    c.prepare_cached(
        "INSERT INTO event_cursors (consumer, last_id) VALUES (?1, ?2)
         ON CONFLICT(consumer) DO UPDATE SET last_id = max(last_id, excluded.last_id)",
    )?
    .execute(params![consumer, to])?;
    Ok(())
}

/// Enqueues an outbox message inside the caller's transaction; `false` when
/// the project already has a message with its idempotency key.
pub(crate) fn enqueue(
    c: &Connection,
    project: i64,
    m: &NewOutboxMessage,
) -> rusqlite::Result<bool> {
    let now = Utc::now().timestamp_millis();
    let due = m.not_before.map(|t| t.timestamp_millis()).unwrap_or(now);
    let n = c
        .prepare_cached(
            "INSERT INTO outbox (project_id, destination_kind, destination, idempotency_key, payload, event_id,
                status, attempts, next_attempt_at, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'pending', 0, ?7, ?8)
             ON CONFLICT(project_id, idempotency_key) DO NOTHING",
        )?
        .execute(params![
            project,
            m.destination_kind,
            m.destination,
            m.idempotency_key,
            m.payload.to_string(),
            m.event_id,
            due,
            now
        ])?;
    Ok(n == 1)
}

pub(crate) const EVENT_COLUMNS: &str =
    "id, project_id, kind, contact_id, subject_id, at, recorded_at, data";

pub(crate) fn event_from_row(r: &Row<'_>) -> rusqlite::Result<StoredEvent> {
    let kind: String = r.get(2)?;
    let data: String = r.get(7)?;
    Ok(StoredEvent {
        id: r.get(0)?,
        project: ProjectId(r.get(1)?),
        kind: kind.parse().map_err(|e: String| {
            rusqlite::Error::FromSqlConversionFailure(2, rusqlite::types::Type::Text, e.into())
        })?,
        contact_id: r.get(3)?,
        subject_id: r.get(4)?,
        at: ms_to_time(r.get(5)?),
        recorded_at: ms_to_time(r.get(6)?),
        data: serde_json::from_str(&data).unwrap_or(serde_json::Value::Null),
    })
}

/// Appends the event of `payload` inside the caller's transaction; returns
/// its id. The store-neutral payload decides the JSON, the kind, the contact,
/// the subject and the time; this backend only writes the row.
pub(crate) fn emit_payload(
    c: &Connection,
    project: i64,
    payload: EventPayload,
) -> rusqlite::Result<i64> {
    let event = payload
        .into_event()
        .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
    emit(c, project, &event)
}

#[async_trait::async_trait]
impl EventStore for SqliteStore {
    async fn events_after(&self, after: i64, limit: usize) -> StoreResult<Vec<StoredEvent>> {
        self.read(move |c| {
            query_vec(
                c,
                &format!("SELECT {EVENT_COLUMNS} FROM events WHERE id > ?1 ORDER BY id LIMIT ?2"),
                params![after, limit as i64],
                event_from_row,
            )
        })
        .await
    }

    async fn project_events(
        &self,
        scope: Scope,
        after: i64,
        limit: usize,
    ) -> StoreResult<Vec<StoredEvent>> {
        self.read(move |c| {
            query_vec(
                c,
                &format!(
                    "SELECT {EVENT_COLUMNS} FROM events WHERE project_id = ?1 AND id > ?2 ORDER BY id LIMIT ?3"
                ),
                params![scope.project().0, after, limit as i64],
                event_from_row,
            )
        })
        .await
    }

    async fn event_cursor(&self, consumer: &str) -> StoreResult<i64> {
        let consumer = consumer.to_owned();
        self.read(move |c| {
            c.query_row(
                "SELECT last_id FROM event_cursors WHERE consumer = ?1",
                [&consumer],
                |r| r.get(0),
            )
            .optional()
            .map(|v| v.unwrap_or(0))
            .map_err(backend_err)
        })
        .await
    }
}
