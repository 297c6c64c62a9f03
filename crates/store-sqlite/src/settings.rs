//! Settings documents in SQLite, with optimistic concurrency.

use crate::conn::{backend_err, SqliteStore};
use rusqlite::{params, OptionalExtension};
use skvoz_store::{Scope, SettingsStore, StoreError, StoreResult, VersionedSettings};

fn current(c: &rusqlite::Connection, scope: Scope) -> StoreResult<VersionedSettings> {
    let row: Option<(i64, String)> = c
        .query_row(
            "SELECT version, doc FROM project_settings WHERE project_id = ?1",
            [scope.project().0],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()
        .map_err(backend_err)?;
    let (version, doc) = row
        .ok_or_else(|| StoreError::NotFound(format!("settings of project {}", scope.project())))?;
    Ok(VersionedSettings {
        version,
        doc: serde_json::from_str(&doc).map_err(backend_err)?,
    })
}

#[async_trait::async_trait]
impl SettingsStore for SqliteStore {
    async fn settings(&self, scope: Scope) -> StoreResult<VersionedSettings> {
        self.read(move |c| current(c, scope)).await
    }

    async fn put_settings(
        &self,
        scope: Scope,
        expected_version: Option<i64>,
        doc: serde_json::Value,
    ) -> StoreResult<VersionedSettings> {
        self.write(move |c| {
            let tx = c.transaction().map_err(backend_err)?;
            let found = current(&tx, scope)?.version;
            if let Some(expected) = expected_version {
                if expected != found {
                    return Err(StoreError::VersionConflict { expected, found });
                }
            }
            tx.execute(
                "UPDATE project_settings SET version = ?1, doc = ?2, updated_at = ?3 WHERE project_id = ?4",
                params![found + 1, doc.to_string(), chrono::Utc::now().timestamp_millis(), scope.project().0],
            )
            .map_err(backend_err)?;
            tx.commit().map_err(backend_err)?;
            Ok(VersionedSettings {
                version: found + 1,
                doc,
            })
        })
        .await
    }
}
