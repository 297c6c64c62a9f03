//! Dashboard users and their login sessions.

use crate::StoreResult;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use skvoz_domain::ids::UserId;

/// A dashboard user.
#[derive(Clone, PartialEq)]
pub struct User {
    /// Its id.
    pub id: UserId,
    /// Login (an e-mail or a name).
    pub login: String,
    /// Argon2 PHC string.
    pub password_hash: String,
    /// May manage every project.
    pub is_admin: bool,
}

impl std::fmt::Debug for User {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("User")
            .field("id", &self.id)
            .field("login", &self.login)
            .field("password_hash", &"<redacted>")
            .field("is_admin", &self.is_admin)
            .finish()
    }
}

/// Users and sessions.
#[async_trait]
pub trait UserStore: Send + Sync {
    /// Creates a user; a taken login is [`crate::StoreError::Duplicate`].
    async fn create_user(
        &self,
        login: &str,
        password_hash: &str,
        is_admin: bool,
    ) -> StoreResult<User>;
    /// The user with this login.
    async fn user_by_login(&self, login: &str) -> StoreResult<Option<User>>;
    /// How many users exist.
    async fn count_users(&self) -> StoreResult<i64>;
    /// Records a login session by the hash of its token.
    async fn create_session(
        &self,
        user: UserId,
        token_hash: &str,
        expires_at: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// The user of an unexpired session.
    async fn session_user(&self, token_hash: &str, now: DateTime<Utc>)
        -> StoreResult<Option<User>>;
    /// Ends a session.
    async fn delete_session(&self, token_hash: &str) -> StoreResult<()>;
}
