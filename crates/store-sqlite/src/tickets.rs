//! Tickets, ticket events and a contact's visits in SQLite. Applying an
//! event is one write transaction.
//!
//! A ticket's contact is read through its lead (`leads.contact_id` follows
//! contact merges), falling back to the contact stored on the ticket.

use crate::conn::{backend_err, query_vec, SqliteStore};
use crate::projects::ms_to_time;
use crate::visits::{visit_from_row, VISIT_COLUMNS};
use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension, Row, Transaction};
use skvoz_domain::support::{apply_ticket_event, TicketChange, TicketEventKind, TicketState};
use skvoz_store::{
    ContactVisits, Scope, StoreResult, Ticket, TicketClosedPayload, TicketEventRecord,
    TicketRecorded, TicketStore, TicketWrite, Visit,
};

const TICKET_COLUMNS: &str =
    "t.id, t.provider, t.external_id, coalesce(l.contact_id, t.contact_id), t.lead_id, \
     t.subject, t.status, t.priority, t.product, t.created_at, t.first_response_at, t.resolved_at, \
     t.closed_at, t.rating, t.handling_minutes";

const TICKET_FROM: &str = "tickets t LEFT JOIN leads l ON l.id = t.lead_id";

fn ticket_from_row(r: &Row<'_>) -> rusqlite::Result<Ticket> {
    Ok(Ticket {
        id: r.get(0)?,
        provider: r.get(1)?,
        external_id: r.get(2)?,
        contact_id: r.get(3)?,
        lead_id: r.get(4)?,
        subject: r.get(5)?,
        status: r.get(6)?,
        priority: r.get(7)?,
        product: r.get(8)?,
        created_at: ms_to_time(r.get(9)?),
        first_response_at: r.get::<_, Option<i64>>(10)?.map(ms_to_time),
        resolved_at: r.get::<_, Option<i64>>(11)?.map(ms_to_time),
        closed_at: r.get::<_, Option<i64>>(12)?.map(ms_to_time),
        rating: r
            .get::<_, Option<i64>>(13)?
            .and_then(|v| u8::try_from(v).ok()),
        handling_minutes: r
            .get::<_, Option<i64>>(14)?
            .and_then(|v| u32::try_from(v).ok()),
    })
}

/// Appends `ticket.closed` when the ticket is now resolved or closed (the
/// caller knows it was not before this event).
fn emit_closed(tx: &Transaction<'_>, project: i64, ticket_id: i64) -> rusqlite::Result<()> {
    let t = tx.query_row(
        &format!("SELECT {TICKET_COLUMNS} FROM {TICKET_FROM} WHERE t.id = ?1"),
        [ticket_id],
        ticket_from_row,
    )?;
    if let Some(closed) = TicketClosedPayload::of(&t) {
        crate::events::emit_payload(tx, project, closed.into())?;
    }
    Ok(())
}

/// The state columns of a ticket, in [`ticket_state_from_row`]'s order.
const TICKET_STATE_COLUMNS: &str =
    "id, lead_id, created_at, updated_at, subject, priority, product, handling_minutes, \
     first_response_at, rating, status, status_at, resolved_at, closed_at";

/// A ticket's id, lead and the state its events change.
fn ticket_state_from_row(r: &Row<'_>) -> rusqlite::Result<(i64, Option<i64>, TicketState)> {
    let time = |i: usize| -> rusqlite::Result<Option<DateTime<Utc>>> {
        Ok(r.get::<_, Option<i64>>(i)?.map(ms_to_time))
    };
    Ok((
        r.get(0)?,
        r.get(1)?,
        TicketState {
            created_at: ms_to_time(r.get(2)?),
            updated_at: ms_to_time(r.get(3)?),
            subject: r.get(4)?,
            priority: r.get(5)?,
            product: r.get(6)?,
            handling_minutes: r
                .get::<_, Option<i64>>(7)?
                .and_then(|v| u32::try_from(v).ok()),
            first_response_at: time(8)?,
            rating: r
                .get::<_, Option<i64>>(9)?
                .and_then(|v| u8::try_from(v).ok()),
            status: r.get(10)?,
            status_at: time(11)?,
            resolved_at: time(12)?,
            closed_at: time(13)?,
        },
    ))
}

/// Applies one help-desk event; also answers whether the ticket was done
/// (resolved or closed) before it. The new state is
/// [`apply_ticket_event`]'s.
fn record_tx(
    tx: &Transaction<'_>,
    project: i64,
    w: &TicketWrite,
) -> rusqlite::Result<(TicketRecorded, bool)> {
    let at = w.at.timestamp_millis();
    let existing = tx
        .prepare_cached(&format!(
            "SELECT {TICKET_STATE_COLUMNS} FROM tickets WHERE project_id = ?1 AND provider = ?2 AND external_id = ?3"
        ))?
        .query_row(params![project, w.provider, w.external_id], ticket_state_from_row)
        .optional()?;
    let (ticket_id, lead_id, state, created) = match existing {
        Some((id, lead, state)) => (id, lead, state, false),
        None => {
            let created_at = w.created_at.unwrap_or(w.at);
            tx.prepare_cached(
                "INSERT INTO tickets (project_id, provider, external_id, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![project, w.provider, w.external_id, created_at.timestamp_millis(), at])?;
            let state = TicketState::opened(created_at, w.at);
            (tx.last_insert_rowid(), None, state, true)
        }
    };
    let done_before = state.is_done();
    let inserted = tx
        .prepare_cached(
            "INSERT INTO ticket_events (ticket_id, event_id, kind, status, rating, at, raw) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
             ON CONFLICT(ticket_id, event_id) DO NOTHING",
        )?
        .execute(params![
            ticket_id,
            w.event_id,
            w.kind.as_str(),
            w.status,
            w.rating.map(i64::from),
            at,
            w.raw.to_string()
        ])?;
    if inserted == 0 {
        let out = TicketRecorded {
            ticket_id,
            created: false,
            replayed: true,
            lead_id,
        };
        return Ok((out, done_before));
    }
    let next = apply_ticket_event(
        &state,
        &TicketChange {
            kind: w.kind,
            at: w.at,
            created_at: w.created_at,
            subject: w.subject.clone(),
            priority: w.priority.clone(),
            product: w.product.clone(),
            handling_minutes: w.handling_minutes,
            rating: w.rating,
            status: w.status.clone(),
            status_class: w.status_class,
        },
    );
    let ms = |t: Option<DateTime<Utc>>| t.map(|t| t.timestamp_millis());
    tx.prepare_cached(
        "UPDATE tickets SET created_at = ?1, updated_at = ?2, subject = ?3, priority = ?4, product = ?5,
            handling_minutes = ?6, first_response_at = ?7, rating = ?8, status = ?9, status_at = ?10,
            resolved_at = ?11, closed_at = ?12 WHERE id = ?13",
    )?
    .execute(params![
        next.created_at.timestamp_millis(),
        next.updated_at.timestamp_millis(),
        next.subject,
        next.priority,
        next.product,
        next.handling_minutes.map(i64::from),
        ms(next.first_response_at),
        next.rating.map(i64::from),
        next.status,
        ms(next.status_at),
        ms(next.resolved_at),
        ms(next.closed_at),
        ticket_id
    ])?;
    let out = TicketRecorded {
        ticket_id,
        created,
        replayed: false,
        lead_id,
    };
    Ok((out, done_before))
}

fn ticket_query(
    c: &rusqlite::Connection,
    filter: &str,
    p: impl rusqlite::Params,
) -> StoreResult<Vec<Ticket>> {
    query_vec(
        c,
        &format!("SELECT {TICKET_COLUMNS} FROM {TICKET_FROM} WHERE {filter}"),
        p,
        ticket_from_row,
    )
}

#[async_trait::async_trait]
impl TicketStore for SqliteStore {
    async fn record_ticket_event(
        &self,
        scope: Scope,
        write: TicketWrite,
    ) -> StoreResult<TicketRecorded> {
        self.write(move |c| {
            let project = scope.project().0;
            let tx = c.transaction().map_err(backend_err)?;
            let (out, done_before) = record_tx(&tx, project, &write).map_err(backend_err)?;
            if !out.replayed && !done_before {
                emit_closed(&tx, project, out.ticket_id).map_err(backend_err)?;
            }
            tx.commit().map_err(backend_err)?;
            Ok(out)
        })
        .await
    }

    async fn link_ticket_lead(
        &self,
        scope: Scope,
        ticket_id: i64,
        lead_id: i64,
        contact_id: Option<i64>,
    ) -> StoreResult<()> {
        self.write(move |c| {
            c.execute(
                "UPDATE tickets SET lead_id = ?1, contact_id = ?2 WHERE project_id = ?3 AND id = ?4",
                params![lead_id, contact_id, scope.project().0, ticket_id],
            )
            .map_err(backend_err)?;
            Ok(())
        })
        .await
    }

    async fn ticket(&self, scope: Scope, id: i64) -> StoreResult<Option<Ticket>> {
        self.read(move |c| {
            Ok(ticket_query(
                c,
                "t.project_id = ?1 AND t.id = ?2",
                params![scope.project().0, id],
            )?
            .into_iter()
            .next())
        })
        .await
    }

    async fn ticket_events(
        &self,
        scope: Scope,
        ticket_id: i64,
    ) -> StoreResult<Vec<TicketEventRecord>> {
        self.read(move |c| {
            query_vec(
                c,
                "SELECT e.ticket_id, e.kind, e.status, e.rating, e.at FROM ticket_events e JOIN tickets t ON t.id = e.ticket_id
                 WHERE t.project_id = ?1 AND e.ticket_id = ?2 ORDER BY e.at, e.id",
                params![scope.project().0, ticket_id],
                |r| {
                    let kind: String = r.get(1)?;
                    Ok(TicketEventRecord {
                        ticket_id: r.get(0)?,
                        kind: TicketEventKind::parse(&kind).unwrap_or(TicketEventKind::Status),
                        status: r.get(2)?,
                        rating: r.get::<_, Option<i64>>(3)?.and_then(|v| u8::try_from(v).ok()),
                        at: ms_to_time(r.get(4)?),
                    })
                },
            )
        })
        .await
    }

    async fn tickets_of_contact(&self, scope: Scope, contact_id: i64) -> StoreResult<Vec<Ticket>> {
        self.read(move |c| {
            // Driven by the contact's leads and the ticket indexes, not by
            // the project's tickets in time order.
            query_vec(
                c,
                &format!(
                    "SELECT {TICKET_COLUMNS} FROM (
                        SELECT t2.id AS ticket_ref FROM leads l2 CROSS JOIN tickets t2 ON t2.lead_id = l2.id
                            WHERE l2.contact_id = ?2 AND +l2.project_id = ?1
                        UNION SELECT id FROM tickets WHERE contact_id = ?2 AND lead_id IS NULL
                     ) x CROSS JOIN tickets t ON t.id = x.ticket_ref LEFT JOIN leads l ON l.id = t.lead_id
                     WHERE +t.project_id = ?1 ORDER BY t.created_at, t.id"
                ),
                params![scope.project().0, contact_id],
                ticket_from_row,
            )
        })
        .await
    }

    async fn tickets_between(
        &self,
        scope: Scope,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> StoreResult<Vec<Ticket>> {
        self.read(move |c| {
            ticket_query(
                c,
                "t.project_id = ?1 AND t.created_at >= ?2 AND t.created_at < ?3 ORDER BY t.created_at, t.id",
                params![scope.project().0, from.timestamp_millis(), to.timestamp_millis()],
            )
        })
        .await
    }

    async fn visits_of_contact(
        &self,
        scope: Scope,
        contact_id: i64,
        limit: usize,
    ) -> StoreResult<Vec<Visit>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.read(move |c| {
            query_vec(
                c,
                &contact_visits_sql("ASC", "?3"),
                params![scope.project().0, contact_id, limit],
                visit_from_row,
            )
        })
        .await
    }

    async fn contact_visits(&self, scope: Scope, contact_id: i64) -> StoreResult<ContactVisits> {
        self.read(move |c| {
            let project = scope.project().0;
            let count: i64 = c
                .prepare_cached(&format!("SELECT count(*) FROM ({CONTACT_VISIT_IDS})"))
                .map_err(backend_err)?
                .query_row(params![project, contact_id], |r| r.get(0))
                .map_err(backend_err)?;
            let one = |order: &str| -> StoreResult<Option<Visit>> {
                c.prepare_cached(&contact_visits_sql(order, "1"))
                    .map_err(backend_err)?
                    .query_row(params![project, contact_id], visit_from_row)
                    .optional()
                    .map_err(backend_err)
            };
            Ok(ContactVisits {
                count,
                first: one("ASC")?,
                last: one("DESC")?,
            })
        })
        .await
    }

    async fn first_visit_channels(
        &self,
        scope: Scope,
        contacts: Vec<i64>,
    ) -> StoreResult<std::collections::HashMap<i64, String>> {
        self.read(move |c| {
            let project = scope.project().0;
            let mut first = c
                .prepare_cached(&contact_visits_sql("ASC", "1"))
                .map_err(backend_err)?;
            let mut out = std::collections::HashMap::with_capacity(contacts.len());
            for contact in contacts {
                let visit = first
                    .query_row(params![project, contact], visit_from_row)
                    .optional()
                    .map_err(backend_err)?;
                if let Some(v) = visit {
                    out.insert(contact, v.channel);
                }
            }
            Ok(out)
        })
        .await
    }

    async fn ticket_poll_cursor(
        &self,
        scope: Scope,
        provider: &str,
    ) -> StoreResult<Option<DateTime<Utc>>> {
        let provider = provider.to_owned();
        self.read(move |c| {
            let cursor: Option<Option<i64>> = c
                .query_row(
                    "SELECT cursor FROM ticket_poll_state WHERE project_id = ?1 AND provider = ?2",
                    params![scope.project().0, provider],
                    |r| r.get(0),
                )
                .optional()
                .map_err(backend_err)?;
            Ok(cursor.flatten().map(ms_to_time))
        })
        .await
    }

    async fn set_ticket_poll_cursor(
        &self,
        scope: Scope,
        provider: &str,
        cursor: Option<DateTime<Utc>>,
        error: Option<String>,
    ) -> StoreResult<()> {
        let provider = provider.to_owned();
        self.write(move |c| {
            c.execute(
                "INSERT INTO ticket_poll_state (project_id, provider, cursor, attempted_at, error) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT(project_id, provider) DO UPDATE SET cursor = coalesce(excluded.cursor, cursor),
                    attempted_at = excluded.attempted_at, error = excluded.error",
                params![
                    scope.project().0,
                    provider,
                    cursor.map(|t| t.timestamp_millis()),
                    Utc::now().timestamp_millis(),
                    error
                ],
            )
            .map_err(backend_err)?;
            Ok(())
        })
        .await
    }
}

/// The ids of a contact's visits: those of its visitor ids, and those its
/// leads were linked to. Parameters: ?1 project, ?2 contact.
pub(crate) const CONTACT_VISIT_IDS: &str = "SELECT v.id AS visit_ref FROM contact_identities ci CROSS JOIN visits v
        ON v.project_id = ?1 AND v.vid = ci.value
        WHERE ci.contact_id = ?2 AND ci.kind = 'vid' AND +ci.project_id = ?1
     UNION SELECT l.visit_id FROM leads l WHERE l.contact_id = ?2 AND +l.project_id = ?1 AND l.visit_id IS NOT NULL";

/// The contact's visits, driven by the contact's few identities and leads
/// (`CROSS JOIN` keeps SQLite from walking the project's visits by time
/// instead).
fn contact_visits_sql(order: &str, limit: &str) -> String {
    let cols = VISIT_COLUMNS
        .split(", ")
        .map(|c| format!("visits.{}", c.trim()))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "SELECT {cols} FROM ({CONTACT_VISIT_IDS}) x CROSS JOIN visits ON visits.id = x.visit_ref
         WHERE +visits.project_id = ?1 ORDER BY visits.started_at {order}, visits.id {order} LIMIT {limit}"
    )
}
