//! Dashboard users and sessions in SQLite.

use crate::conn::{backend_err, map_unique, SqliteStore};
use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension, Row};
use skvoz_domain::ids::UserId;
use skvoz_store::{StoreResult, User, UserStore};

fn user_from_row(row: &Row<'_>) -> rusqlite::Result<User> {
    Ok(User {
        id: UserId(row.get(0)?),
        login: row.get(1)?,
        password_hash: row.get(2)?,
        is_admin: row.get(3)?,
    })
}

#[async_trait::async_trait]
impl UserStore for SqliteStore {
    async fn create_user(
        &self,
        login: &str,
        password_hash: &str,
        is_admin: bool,
    ) -> StoreResult<User> {
        let (login, hash) = (login.to_owned(), password_hash.to_owned());
        self.write(move |c| {
            c.execute(
                "INSERT INTO users (login, password_hash, is_admin, created_at) VALUES (?1, ?2, ?3, ?4)",
                params![login, hash, is_admin, Utc::now().timestamp_millis()],
            )
            .map_err(|e| map_unique(e, &format!("user '{login}'")))?;
            Ok(User {
                id: UserId(c.last_insert_rowid()),
                login,
                password_hash: hash,
                is_admin,
            })
        })
        .await
    }

    async fn user_by_login(&self, login: &str) -> StoreResult<Option<User>> {
        let login = login.to_owned();
        self.read(move |c| {
            c.query_row(
                "SELECT id, login, password_hash, is_admin FROM users WHERE login = ?1",
                [login],
                user_from_row,
            )
            .optional()
            .map_err(backend_err)
        })
        .await
    }

    async fn count_users(&self) -> StoreResult<i64> {
        self.read(|c| {
            c.query_row("SELECT count(*) FROM users", [], |r| r.get(0))
                .map_err(backend_err)
        })
        .await
    }

    async fn create_session(
        &self,
        user: UserId,
        token_hash: &str,
        expires_at: DateTime<Utc>,
    ) -> StoreResult<()> {
        let token_hash = token_hash.to_owned();
        self.write(move |c| {
            // Sweep expired sessions while we hold the writer anyway.
            c.execute(
                "DELETE FROM user_sessions WHERE expires_at < ?1",
                [Utc::now().timestamp_millis()],
            )
            .map_err(backend_err)?;
            c.execute(
                "INSERT INTO user_sessions (token_hash, user_id, expires_at) VALUES (?1, ?2, ?3)",
                params![token_hash, user.0, expires_at.timestamp_millis()],
            )
            .map_err(|e| map_unique(e, "session"))?;
            Ok(())
        })
        .await
    }

    async fn session_user(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<User>> {
        let token_hash = token_hash.to_owned();
        self.read(move |c| {
            c.query_row(
                "SELECT u.id, u.login, u.password_hash, u.is_admin FROM user_sessions s
                 JOIN users u ON u.id = s.user_id WHERE s.token_hash = ?1 AND s.expires_at > ?2",
                params![token_hash, now.timestamp_millis()],
                user_from_row,
            )
            .optional()
            .map_err(backend_err)
        })
        .await
    }

    async fn delete_session(&self, token_hash: &str) -> StoreResult<()> {
        let token_hash = token_hash.to_owned();
        self.write(move |c| {
            c.execute(
                "DELETE FROM user_sessions WHERE token_hash = ?1",
                [token_hash],
            )
            .map_err(backend_err)?;
            Ok(())
        })
        .await
    }
}
