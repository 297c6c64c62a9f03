//! Automation runs (`migrations/0010_surveys.sql`): created with the
//! consumer's cursor in one transaction, completed with everything their
//! actions write in another.

use crate::conn::{backend_err, query_vec};
use crate::projects::ms_to_time;
use crate::SqliteStore;
use chrono::{DateTime, Utc};
use rusqlite::{params, Row};
use skvoz_domain::ProjectId;
use skvoz_store::{
    AutomationRun, AutomationStore, NewRun, OutboxView, RunCompletion, RunStatus, Scope,
    StoreResult,
};

const RUN_COLUMNS: &str = "id, project_id, automation_id, event_id, event_kind, contact_id, event_data, status, step, due_at, created_at, finished_at, note";

fn run_from_row(r: &Row<'_>) -> rusqlite::Result<AutomationRun> {
    let data: String = r.get(6)?;
    let status: String = r.get(7)?;
    Ok(AutomationRun {
        id: r.get(0)?,
        project: ProjectId(r.get(1)?),
        automation_id: r.get(2)?,
        event_id: r.get(3)?,
        event_kind: r.get(4)?,
        contact_id: r.get(5)?,
        event_data: serde_json::from_str(&data).unwrap_or(serde_json::Value::Null),
        status: RunStatus::parse(&status).unwrap_or(RunStatus::Failed),
        step: r.get(8)?,
        due_at: ms_to_time(r.get(9)?),
        created_at: ms_to_time(r.get(10)?),
        finished_at: r.get::<_, Option<i64>>(11)?.map(ms_to_time),
        note: r.get(12)?,
    })
}

#[async_trait::async_trait]
impl AutomationStore for SqliteStore {
    async fn create_runs(
        &self,
        consumer: &str,
        through: i64,
        runs: Vec<NewRun>,
    ) -> StoreResult<usize> {
        let consumer = consumer.to_owned();
        self.write(move |c| {
            let tx = c.transaction().map_err(backend_err)?;
            let now = Utc::now().timestamp_millis();
            let mut created = 0;
            for run in &runs {
                created += tx
                    .prepare_cached(
                        "INSERT INTO automation_runs (project_id, automation_id, event_id, event_kind, contact_id,
                            event_data, status, step, due_at, created_at)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'pending', 0, ?7, ?8)
                         ON CONFLICT(project_id, automation_id, event_id) DO NOTHING",
                    )
                    .map_err(backend_err)?
                    .execute(params![
                        run.project.0,
                        run.automation_id,
                        run.event_id,
                        run.event_kind,
                        run.contact_id,
                        run.event_data.to_string(),
                        run.due_at.timestamp_millis(),
                        now
                    ])
                    .map_err(backend_err)?;
            }
            crate::events::advance_cursor(&tx, &consumer, through).map_err(backend_err)?;
            tx.commit().map_err(backend_err)?;
            Ok(created)
        })
        .await
    }

    async fn due_runs(&self, now: DateTime<Utc>, limit: usize) -> StoreResult<Vec<AutomationRun>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.read(move |c| {
            query_vec(
                c,
                &format!(
                    "SELECT {RUN_COLUMNS} FROM automation_runs WHERE status = 'pending' AND due_at <= ?1
                     ORDER BY due_at, id LIMIT ?2"
                ),
                params![now.timestamp_millis(), limit],
                run_from_row,
            )
        })
        .await
    }

    async fn complete_run(
        &self,
        scope: Scope,
        run_id: i64,
        completion: RunCompletion,
    ) -> StoreResult<bool> {
        self.write(move |c| {
            let project = scope.project().0;
            let tx = c.transaction().map_err(backend_err)?;
            let at = completion.at.timestamp_millis();
            let n = tx
                .execute(
                    "UPDATE automation_runs SET status = ?1, step = ?2, note = ?3, finished_at = ?4
                     WHERE id = ?5 AND project_id = ?6 AND status = 'pending'",
                    params![
                        completion.status.as_str(),
                        completion.step,
                        completion.note,
                        at,
                        run_id,
                        project
                    ],
                )
                .map_err(backend_err)?;
            if n != 1 {
                return Ok(false);
            }
            for inv in &completion.invitations {
                crate::surveys::insert_invitation(&tx, project, inv).map_err(backend_err)?;
            }
            for m in &completion.messages {
                crate::events::enqueue(&tx, project, m).map_err(backend_err)?;
            }
            for (contact, tag) in &completion.tags {
                crate::surveys::insert_tag(&tx, project, *contact, tag, at).map_err(backend_err)?;
            }
            tx.commit().map_err(backend_err)?;
            Ok(true)
        })
        .await
    }

    async fn automation_runs(&self, scope: Scope, limit: usize) -> StoreResult<Vec<AutomationRun>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.read(move |c| {
            query_vec(
                c,
                &format!(
                    "SELECT {RUN_COLUMNS} FROM automation_runs WHERE project_id = ?1 ORDER BY id DESC LIMIT ?2"
                ),
                params![scope.project().0, limit],
                run_from_row,
            )
        })
        .await
    }

    async fn run_messages(&self, scope: Scope, run_id: i64) -> StoreResult<Vec<OutboxView>> {
        // Keys are `automation:{run}:{index}`: a range scan of the unique
        // (project, key) index (':' + 1 is ';').
        let low = format!("automation:{run_id}:");
        let high = format!("automation:{run_id};");
        self.read(move |c| {
            query_vec(
                c,
                "SELECT id, destination_kind, destination, idempotency_key, payload, status, attempts FROM outbox
                 WHERE project_id = ?1 AND idempotency_key >= ?2 AND idempotency_key < ?3 ORDER BY id",
                params![scope.project().0, low, high],
                |r| {
                    let payload: String = r.get(4)?;
                    Ok(OutboxView {
                        id: r.get(0)?,
                        destination_kind: r.get(1)?,
                        destination: r.get(2)?,
                        idempotency_key: r.get(3)?,
                        payload: serde_json::from_str(&payload).unwrap_or(serde_json::Value::Null),
                        status: r.get(5)?,
                        attempts: r.get(6)?,
                    })
                },
            )
        })
        .await
    }
}
