//! Calls and number reservations in SQLite.

use crate::conn::{backend_err, query_vec, SqliteStore};
use crate::projects::ms_to_time;
use crate::reports::bump_revision;
use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension, Row};
use skvoz_domain::calltracking::CallAttribution;
use skvoz_store::{
    Call, CallFinishedPayload, CallStore, NewCall, NumberReservation, ReservationStats, Scope,
    StoreResult, VisitSpan,
};

const CALL_COLUMNS: &str = "id, provider, source_id, caller, called, number, pool_id, started_at, \
     duration, answered, is_target, is_unique, recording_url, attribution, shared, visit_id, \
     contact_id, lead_id";

fn call_from_row(r: &Row<'_>) -> rusqlite::Result<Call> {
    let attribution: String = r.get(13)?;
    Ok(Call {
        id: r.get(0)?,
        call: NewCall {
            provider: r.get(1)?,
            source_id: r.get(2)?,
            caller: r.get(3)?,
            called: r.get(4)?,
            number: r.get(5)?,
            pool_id: r.get(6)?,
            started_at: ms_to_time(r.get(7)?),
            duration: r.get(8)?,
            answered: r.get(9)?,
            is_target: r.get(10)?,
            is_unique: r.get(11)?,
            recording_url: r.get(12)?,
            attribution: CallAttribution::parse(&attribution)
                .unwrap_or(CallAttribution::Unidentified),
            shared: r.get(14)?,
            visit_id: r.get(15)?,
            contact_id: r.get(16)?,
            lead_id: r.get(17)?,
        },
    })
}

const RESERVATION_COLUMNS: &str =
    "visit_id, vid, pool_id, number, reserved_from, held_until, shared";

fn reservation_from_row(r: &Row<'_>) -> rusqlite::Result<NumberReservation> {
    Ok(NumberReservation {
        visit_id: r.get(0)?,
        vid: r.get(1)?,
        pool_id: r.get(2)?,
        number: r.get(3)?,
        reserved_from: ms_to_time(r.get(4)?),
        held_until: ms_to_time(r.get(5)?),
        shared: r.get(6)?,
    })
}

fn by_source(
    c: &rusqlite::Connection,
    project: i64,
    provider: &str,
    source_id: &str,
) -> StoreResult<Option<Call>> {
    c.prepare_cached(&format!(
        "SELECT {CALL_COLUMNS} FROM calls WHERE project_id = ?1 AND provider = ?2 AND source_id = ?3"
    ))
    .map_err(backend_err)?
    .query_row(params![project, provider, source_id], call_from_row)
    .optional()
    .map_err(backend_err)
}

#[async_trait::async_trait]
impl CallStore for SqliteStore {
    async fn save_reservations(&self, batch: Vec<(Scope, NumberReservation)>) -> StoreResult<()> {
        if batch.is_empty() {
            return Ok(());
        }
        self.write(move |c| {
            let tx = c.transaction().map_err(backend_err)?;
            {
                let mut stmt = tx
                    .prepare_cached(
                        "INSERT INTO number_reservations (project_id, visit_id, vid, pool_id, number, reserved_from, held_until, shared)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                         ON CONFLICT(project_id, visit_id, number) DO UPDATE SET
                            held_until = MAX(held_until, excluded.held_until)",
                    )
                    .map_err(backend_err)?;
                for (scope, r) in &batch {
                    stmt.execute(params![
                        scope.project().0,
                        r.visit_id,
                        r.vid,
                        r.pool_id,
                        r.number,
                        r.reserved_from.timestamp_millis(),
                        r.held_until.timestamp_millis(),
                        r.shared
                    ])
                    .map_err(backend_err)?;
                }
            }
            tx.commit().map_err(backend_err)
        })
        .await
    }

    async fn active_reservations(
        &self,
        scope: Scope,
        at: DateTime<Utc>,
    ) -> StoreResult<Vec<NumberReservation>> {
        self.read(move |c| {
            query_vec(
                c,
                &format!("SELECT {RESERVATION_COLUMNS} FROM number_reservations WHERE project_id = ?1 AND held_until > ?2 ORDER BY reserved_from"),
                params![scope.project().0, at.timestamp_millis()],
                reservation_from_row,
            )
        })
        .await
    }

    async fn reservations_at(
        &self,
        scope: Scope,
        number: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<Vec<NumberReservation>> {
        let number = number.to_owned();
        self.read(move |c| {
            // A reservation lasts a visit plus minutes: looking back a day
            // bounds the index range scanned.
            let ms = at.timestamp_millis();
            query_vec(
                c,
                &format!(
                    "SELECT {RESERVATION_COLUMNS} FROM number_reservations
                     WHERE project_id = ?1 AND number = ?2 AND reserved_from <= ?3 AND reserved_from >= ?4 AND held_until >= ?3
                     ORDER BY reserved_from DESC"
                ),
                params![scope.project().0, number, ms, ms - 86_400_000],
                reservation_from_row,
            )
        })
        .await
    }

    async fn reservation_stats(
        &self,
        scope: Scope,
        pool_id: Option<&str>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> StoreResult<ReservationStats> {
        let pool_id = pool_id.map(str::to_owned);
        self.read(move |c| {
            c.prepare_cached(
                "SELECT COUNT(DISTINCT visit_id), COUNT(DISTINCT CASE WHEN shared THEN visit_id END) FROM number_reservations
                 WHERE project_id = ?1 AND reserved_from >= ?2 AND reserved_from < ?3
                   AND (?4 IS NULL OR pool_id = ?4)",
            )
            .map_err(backend_err)?
            .query_row(
                params![
                    scope.project().0,
                    from.timestamp_millis(),
                    to.timestamp_millis(),
                    pool_id
                ],
                |r| {
                    Ok(ReservationStats {
                        reservations: r.get(0)?,
                        shared: r.get(1)?,
                    })
                },
            )
            .map_err(backend_err)
        })
        .await
    }

    async fn insert_call(&self, scope: Scope, call: NewCall) -> StoreResult<(Call, bool)> {
        self.write(move |c| {
            let project = scope.project().0;
            let c = c.transaction().map_err(backend_err)?;
            let inserted = c
                .prepare_cached(
                    "INSERT INTO calls (project_id, provider, source_id, caller, called, number, pool_id, started_at,
                        duration, answered, missed, is_target, is_unique, recording_url, attribution, shared,
                        visit_id, contact_id, lead_id, received_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20)
                     ON CONFLICT(project_id, provider, source_id) DO NOTHING",
                )
                .map_err(backend_err)?
                .execute(params![
                    project,
                    call.provider,
                    call.source_id,
                    call.caller,
                    call.called,
                    call.number,
                    call.pool_id,
                    call.started_at.timestamp_millis(),
                    call.duration,
                    call.answered,
                    !call.answered,
                    call.is_target,
                    call.is_unique,
                    call.recording_url,
                    call.attribution.as_str(),
                    call.shared,
                    call.visit_id,
                    call.contact_id,
                    call.lead_id,
                    Utc::now().timestamp_millis(),
                ])
                .map_err(backend_err)?;
            let stored = by_source(&c, project, &call.provider, &call.source_id)?
                .ok_or_else(|| backend_err("a call vanished after its insert"))?;
            if inserted == 1 {
                crate::events::emit_payload(&c, project, CallFinishedPayload::from(&stored).into())
                    .map_err(backend_err)?;
                // Calls are report facts (calls per channel).
                bump_revision(&c, project).map_err(backend_err)?;
            }
            c.commit().map_err(backend_err)?;
            Ok((stored, inserted == 0))
        })
        .await
    }

    async fn call_by_source(
        &self,
        scope: Scope,
        provider: &str,
        source_id: &str,
    ) -> StoreResult<Option<Call>> {
        let (provider, source_id) = (provider.to_owned(), source_id.to_owned());
        self.read(move |c| by_source(c, scope.project().0, &provider, &source_id))
            .await
    }

    async fn calls_of_caller(
        &self,
        scope: Scope,
        caller: &str,
        before: DateTime<Utc>,
        limit: usize,
    ) -> StoreResult<Vec<Call>> {
        let caller = caller.to_owned();
        self.read(move |c| {
            query_vec(
                c,
                &format!(
                    "SELECT {CALL_COLUMNS} FROM calls WHERE project_id = ?1 AND caller = ?2 AND started_at < ?3
                     ORDER BY started_at, id LIMIT ?4"
                ),
                params![scope.project().0, caller, before.timestamp_millis(), limit as i64],
                call_from_row,
            )
        })
        .await
    }

    async fn calls_between(
        &self,
        scope: Scope,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: usize,
    ) -> StoreResult<Vec<Call>> {
        self.read(move |c| {
            query_vec(
                c,
                &format!(
                    "SELECT {CALL_COLUMNS} FROM calls WHERE project_id = ?1 AND started_at >= ?2 AND started_at < ?3
                     ORDER BY started_at DESC, id DESC LIMIT ?4"
                ),
                params![
                    scope.project().0,
                    from.timestamp_millis(),
                    to.timestamp_millis(),
                    limit as i64
                ],
                call_from_row,
            )
        })
        .await
    }

    async fn visit_spans(
        &self,
        scope: Scope,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: usize,
    ) -> StoreResult<Vec<VisitSpan>> {
        self.read(move |c| {
            query_vec(
                c,
                "SELECT id, started_at, last_at, source, medium, campaign, channel FROM visits
                 WHERE project_id = ?1 AND started_at >= ?2 AND started_at < ?3
                 ORDER BY started_at LIMIT ?4",
                params![
                    scope.project().0,
                    from.timestamp_millis(),
                    to.timestamp_millis(),
                    limit as i64
                ],
                |r| {
                    Ok(VisitSpan {
                        id: r.get(0)?,
                        started_at: ms_to_time(r.get(1)?),
                        last_at: ms_to_time(r.get(2)?),
                        source: r.get(3)?,
                        medium: r.get(4)?,
                        campaign: r.get(5)?,
                        channel: r.get(6)?,
                    })
                },
            )
        })
        .await
    }
}
