//! The outbox worker's queries (migrations/0009_outbox_worker.sql): the
//! relay's fan-out with its cursor in one transaction, leased claims,
//! outcomes, the dead-letter list, and the contact keys of conversions.

use crate::conn::{backend_err, query_vec};
use crate::projects::ms_to_time;
use crate::SqliteStore;
use chrono::{DateTime, Utc};
use rusqlite::{params, params_from_iter, Connection, OptionalExtension, Row};
use skvoz_domain::ProjectId;
use skvoz_store::{
    ContactKeys, NewOutboxMessage, OutboxFilter, OutboxMessage, OutboxResult, OutboxStore, Scope,
    StoreResult,
};

const COLUMNS: &str =
    "id, project_id, destination_kind, destination, idempotency_key, payload, event_id,
    status, attempts, next_attempt_at, last_error, skip_reason, created_at, delivered_at";

fn message_from_row(r: &Row<'_>) -> rusqlite::Result<OutboxMessage> {
    let payload: String = r.get(5)?;
    Ok(OutboxMessage {
        id: r.get(0)?,
        project: ProjectId(r.get(1)?),
        destination_kind: r.get(2)?,
        destination: r.get(3)?,
        idempotency_key: r.get(4)?,
        payload: serde_json::from_str(&payload).unwrap_or(serde_json::Value::Null),
        event_id: r.get(6)?,
        status: r.get(7)?,
        attempts: r.get(8)?,
        next_attempt_at: ms_to_time(r.get(9)?),
        last_error: r.get(10)?,
        skip_reason: r.get(11)?,
        created_at: ms_to_time(r.get(12)?),
        delivered_at: r.get::<_, Option<i64>>(13)?.map(ms_to_time),
    })
}

/// The newest value of an identity kind of a contact, else of a visit
/// column over the contact's visits.
fn latest_key(
    c: &Connection,
    project: i64,
    contact: i64,
    identity: Option<&str>,
    visit_column: Option<&str>,
) -> rusqlite::Result<Option<String>> {
    if let Some(kind) = identity {
        let v: Option<String> = c
            .prepare_cached(
                "SELECT value FROM contact_identities WHERE contact_id = ?2 AND kind = ?3
                 AND project_id = ?1 ORDER BY first_seen DESC LIMIT 1",
            )?
            .query_row(params![project, contact, kind], |r| r.get(0))
            .optional()?;
        if v.is_some() {
            return Ok(v);
        }
    }
    let Some(col) = visit_column else {
        return Ok(None);
    };
    c.prepare_cached(&format!(
        "SELECT v.{col} FROM ({}) x CROSS JOIN visits v ON v.id = x.visit_ref
         WHERE +v.project_id = ?1 AND v.{col} IS NOT NULL AND v.{col} != ''
         ORDER BY v.started_at DESC LIMIT 1",
        crate::tickets::CONTACT_VISIT_IDS
    ))?
    .query_row(params![project, contact], |r| r.get(0))
    .optional()
}

#[async_trait::async_trait]
impl OutboxStore for SqliteStore {
    async fn relay_batch(
        &self,
        consumer: &str,
        upto: i64,
        messages: Vec<(Scope, NewOutboxMessage)>,
    ) -> StoreResult<usize> {
        let consumer = consumer.to_owned();
        self.write(move |c| {
            let tx = c.transaction().map_err(backend_err)?;
            let mut fresh = 0;
            for (scope, m) in &messages {
                if crate::events::enqueue(&tx, scope.project().0, m).map_err(backend_err)? {
                    fresh += 1;
                }
            }
            crate::events::advance_cursor(&tx, &consumer, upto).map_err(backend_err)?;
            tx.commit().map_err(backend_err)?;
            Ok(fresh)
        })
        .await
    }

    async fn claim_outbox(
        &self,
        kinds: Vec<String>,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: usize,
    ) -> StoreResult<Vec<OutboxMessage>> {
        if kinds.is_empty() || limit == 0 {
            return Ok(Vec::new());
        }
        self.write(move |c| {
            let tx = c.transaction().map_err(backend_err)?;
            let marks = vec!["?"; kinds.len()].join(", ");
            let sql = format!(
                "SELECT {COLUMNS} FROM outbox WHERE status = 'pending' AND next_attempt_at <= ?
                 AND (leased_until IS NULL OR leased_until <= ?) AND destination_kind IN ({marks})
                 ORDER BY next_attempt_at, id LIMIT ?"
            );
            let now_ms = now.timestamp_millis();
            let mut args: Vec<rusqlite::types::Value> = vec![now_ms.into(), now_ms.into()];
            args.extend(kinds.into_iter().map(rusqlite::types::Value::from));
            args.push((limit as i64).into());
            let claimed = {
                let mut stmt = tx.prepare(&sql).map_err(backend_err)?;
                let rows = stmt
                    .query_map(params_from_iter(args), message_from_row)
                    .map_err(backend_err)?
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(backend_err)?;
                rows
            };
            {
                let mut lease = tx
                    .prepare_cached("UPDATE outbox SET leased_until = ?2 WHERE id = ?1")
                    .map_err(backend_err)?;
                for m in &claimed {
                    lease
                        .execute(params![m.id, lease_until.timestamp_millis()])
                        .map_err(backend_err)?;
                }
            }
            tx.commit().map_err(backend_err)?;
            Ok(claimed)
        })
        .await
    }

    async fn finish_outbox(&self, results: Vec<(i64, OutboxResult)>) -> StoreResult<()> {
        if results.is_empty() {
            return Ok(());
        }
        self.write(move |c| {
            let tx = c.transaction().map_err(backend_err)?;
            for (id, result) in &results {
                // Only a pending message changes: a person may have acted on
                // it meanwhile.
                let (sql, args): (&str, Vec<rusqlite::types::Value>) = match result {
                    OutboxResult::Delivered { at } => (
                        "UPDATE outbox SET status = 'delivered', attempts = attempts + 1,
                         delivered_at = ?2, leased_until = NULL WHERE id = ?1 AND status = 'pending'",
                        vec![(*id).into(), at.timestamp_millis().into()],
                    ),
                    OutboxResult::Retry { next, error } => (
                        "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?2,
                         last_error = ?3, leased_until = NULL WHERE id = ?1 AND status = 'pending'",
                        vec![
                            (*id).into(),
                            next.timestamp_millis().into(),
                            error.clone().into(),
                        ],
                    ),
                    OutboxResult::Dead { error } => (
                        "UPDATE outbox SET status = 'dead', attempts = attempts + 1,
                         last_error = ?2, leased_until = NULL WHERE id = ?1 AND status = 'pending'",
                        vec![(*id).into(), error.clone().into()],
                    ),
                    OutboxResult::Skipped { reason } => (
                        "UPDATE outbox SET status = 'skipped', skip_reason = ?2, leased_until = NULL
                         WHERE id = ?1 AND status = 'pending'",
                        vec![(*id).into(), reason.clone().into()],
                    ),
                };
                tx.prepare_cached(sql)
                    .map_err(backend_err)?
                    .execute(params_from_iter(args))
                    .map_err(backend_err)?;
            }
            tx.commit().map_err(backend_err)?;
            Ok(())
        })
        .await
    }

    async fn prune_outbox(&self, before: DateTime<Utc>, limit: usize) -> StoreResult<u64> {
        let (before, limit) = (
            before.timestamp_millis(),
            i64::try_from(limit).unwrap_or(i64::MAX),
        );
        self.write(move |c| {
            let n = c
                .prepare_cached(
                    "DELETE FROM outbox WHERE id IN (
                        SELECT id FROM outbox WHERE status = 'delivered' AND delivered_at < ?1
                        UNION ALL
                        SELECT id FROM outbox WHERE status = 'skipped' AND created_at < ?1
                        LIMIT ?2)",
                )
                .map_err(backend_err)?
                .execute(params![before, limit])
                .map_err(backend_err)?;
            Ok(n as u64)
        })
        .await
    }

    async fn list_outbox(
        &self,
        scope: Scope,
        filter: OutboxFilter,
    ) -> StoreResult<Vec<OutboxMessage>> {
        self.read(move |c| {
            query_vec(
                c,
                &format!(
                    "SELECT {COLUMNS} FROM outbox WHERE project_id = ?1
                     AND (?2 IS NULL OR status = ?2) AND (?3 IS NULL OR destination_kind = ?3)
                     AND (?4 IS NULL OR id < ?4) ORDER BY id DESC LIMIT ?5"
                ),
                params![
                    scope.project().0,
                    filter.status,
                    filter.kind,
                    filter.before,
                    filter.limit as i64
                ],
                message_from_row,
            )
        })
        .await
    }

    async fn retry_outbox(&self, scope: Scope, id: i64) -> StoreResult<bool> {
        self.write(move |c| {
            let n = c
                .execute(
                    "UPDATE outbox SET status = 'pending', attempts = 0, next_attempt_at = ?3,
                     leased_until = NULL WHERE id = ?1 AND project_id = ?2 AND status = 'dead'",
                    params![id, scope.project().0, Utc::now().timestamp_millis()],
                )
                .map_err(backend_err)?;
            Ok(n == 1)
        })
        .await
    }

    async fn retry_dead_outbox(&self, scope: Scope) -> StoreResult<u64> {
        self.write(move |c| {
            let n = c
                .execute(
                    "UPDATE outbox SET status = 'pending', attempts = 0, next_attempt_at = ?2,
                     leased_until = NULL WHERE project_id = ?1 AND status = 'dead'",
                    params![scope.project().0, Utc::now().timestamp_millis()],
                )
                .map_err(backend_err)?;
            Ok(n as u64)
        })
        .await
    }

    async fn outbox_counts(&self, scope: Scope) -> StoreResult<Vec<(String, i64)>> {
        self.read(move |c| {
            query_vec(
                c,
                "SELECT status, count(*) FROM outbox WHERE project_id = ?1 GROUP BY status ORDER BY status",
                [scope.project().0],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
        })
        .await
    }

    async fn outbox_depth(&self) -> StoreResult<Vec<(String, String, i64)>> {
        self.read(move |c| {
            query_vec(
                c,
                "SELECT destination_kind, status, count(*) FROM outbox
                 GROUP BY destination_kind, status ORDER BY 1, 2",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
        })
        .await
    }

    async fn contact_keys(&self, scope: Scope, contact_id: i64) -> StoreResult<ContactKeys> {
        self.read(move |c| {
            let project = scope.project().0;
            // Only a contact of this project.
            let mine: Option<i64> = c
                .query_row(
                    "SELECT id FROM contacts WHERE id = ?1 AND project_id = ?2",
                    params![contact_id, project],
                    |r| r.get(0),
                )
                .optional()
                .map_err(backend_err)?;
            let Some(id) = mine else {
                return Ok(ContactKeys::default());
            };
            let id = crate::crm::root_contact(c, id).map_err(backend_err)?;
            let key = |identity, column| {
                latest_key(c, project, id, identity, column).map_err(backend_err)
            };
            Ok(ContactKeys {
                ga_cid: key(Some("ga_cid"), Some("ga_cid"))?,
                ym_uid: key(Some("ym_uid"), Some("ym_uid"))?,
                yclid: key(None, Some("yclid"))?,
                email: key(Some("email"), None)?,
                phone: key(Some("phone"), None)?,
            })
        })
        .await
    }
}
