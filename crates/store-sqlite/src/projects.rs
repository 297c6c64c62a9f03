//! Projects in SQLite.

use crate::conn::{backend_err, map_unique, query_vec, SqliteStore};
use chrono::{DateTime, TimeZone, Utc};
use rusqlite::{params, OptionalExtension, Row};
use skvoz_domain::{Project, ProjectId, ProjectName};
use skvoz_store::{NewProject, ProjectStore, StoreError, StoreResult};

pub(crate) fn ms_to_time(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms).single().unwrap_or_default()
}

const COLUMNS: &str = "id, name, public_key, created_at";

fn project_from_row(row: &Row<'_>) -> rusqlite::Result<Project> {
    let name: String = row.get(1)?;
    Ok(Project {
        id: ProjectId(row.get(0)?),
        name: ProjectName::new(&name).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(1, rusqlite::types::Type::Text, Box::new(e))
        })?,
        public_key: row.get(2)?,
        created_at: ms_to_time(row.get(3)?),
    })
}

impl SqliteStore {
    async fn project_where(
        &self,
        clause: &'static str,
        value: String,
    ) -> StoreResult<Option<Project>> {
        self.read(move |c| {
            c.query_row(
                &format!("SELECT {COLUMNS} FROM projects WHERE {clause} = ?1"),
                [value],
                project_from_row,
            )
            .optional()
            .map_err(backend_err)
        })
        .await
    }
}

#[async_trait::async_trait]
impl ProjectStore for SqliteStore {
    async fn create_project(&self, new: NewProject) -> StoreResult<Project> {
        let now = Utc::now();
        self.write(move |c| {
            let tx = c.transaction().map_err(backend_err)?;
            tx.execute(
                "INSERT INTO projects (name, public_key, api_key_hash, created_at) VALUES (?1, ?2, ?3, ?4)",
                params![new.name.as_str(), new.public_key, new.api_key_hash, now.timestamp_millis()],
            )
            .map_err(|e| map_unique(e, &format!("project '{}' or its keys", new.name)))?;
            let id = tx.last_insert_rowid();
            tx.execute(
                "INSERT INTO project_settings (project_id, version, doc, updated_at) VALUES (?1, 1, ?2, ?3)",
                params![id, new.settings.to_string(), now.timestamp_millis()],
            )
            .map_err(backend_err)?;
            let project = tx
                .query_row(&format!("SELECT {COLUMNS} FROM projects WHERE id = ?1"), [id], project_from_row)
                .map_err(backend_err)?;
            tx.commit().map_err(backend_err)?;
            Ok(project)
        })
        .await
    }

    async fn project(&self, id: ProjectId) -> StoreResult<Option<Project>> {
        self.read(move |c| {
            c.query_row(
                &format!("SELECT {COLUMNS} FROM projects WHERE id = ?1"),
                [id.0],
                project_from_row,
            )
            .optional()
            .map_err(backend_err)
        })
        .await
    }

    async fn project_by_name(&self, name: &str) -> StoreResult<Option<Project>> {
        self.project_where("name", name.to_owned()).await
    }

    async fn project_by_api_key_hash(&self, hash: &str) -> StoreResult<Option<Project>> {
        self.project_where("api_key_hash", hash.to_owned()).await
    }

    async fn project_by_public_key(&self, key: &str) -> StoreResult<Option<Project>> {
        self.project_where("public_key", key.to_owned()).await
    }

    async fn list_projects(&self) -> StoreResult<Vec<Project>> {
        self.read(|c| {
            query_vec(
                c,
                &format!("SELECT {COLUMNS} FROM projects ORDER BY id"),
                [],
                project_from_row,
            )
        })
        .await
    }

    async fn set_api_key_hash(&self, id: ProjectId, hash: &str) -> StoreResult<()> {
        let hash = hash.to_owned();
        self.write(move |c| {
            let n = c
                .execute(
                    "UPDATE projects SET api_key_hash = ?1 WHERE id = ?2",
                    params![hash, id.0],
                )
                .map_err(|e| map_unique(e, "api key"))?;
            if n == 0 {
                return Err(StoreError::NotFound(format!("project {id}")));
            }
            Ok(())
        })
        .await
    }
}
