//! Dashboard users: Argon2 password hashes and login sessions.
//!
//! A session is a random token in an HttpOnly cookie; the store keeps only
//! its SHA-256.

use crate::{keys, AppError, DynStore};
use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;
use chrono::{Duration, Utc};
use skvoz_store::User;

/// How long a login lasts.
pub const SESSION_TTL_DAYS: i64 = 14;

/// Users and sessions.
#[derive(Clone)]
pub struct AuthService {
    store: DynStore,
}

/// Hashes a password with Argon2id and a random salt (PHC string).
pub fn hash_password(password: &str) -> Result<String, AppError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AppError::Internal(format!("argon2: {e}")))
}

fn verify_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

impl AuthService {
    /// Over a store.
    pub fn new(store: DynStore) -> Self {
        AuthService { store }
    }

    /// Creates a user; passwords need at least 8 characters.
    pub async fn create_user(
        &self,
        login: &str,
        password: &str,
        is_admin: bool,
    ) -> Result<User, AppError> {
        let login = login.trim();
        if login.is_empty() || login.len() > 200 {
            return Err(AppError::invalid("login", "login must be 1-200 characters"));
        }
        if password.chars().count() < 8 {
            return Err(AppError::invalid(
                "password",
                "password must have at least 8 characters",
            ));
        }
        let hash = hash_password(password)?;
        Ok(self.store.create_user(login, &hash, is_admin).await?)
    }

    /// Whether any user exists yet.
    pub async fn has_users(&self) -> Result<bool, AppError> {
        Ok(self.store.count_users().await? > 0)
    }

    /// Checks a password and opens a session; returns the cookie token.
    pub async fn login(&self, login: &str, password: &str) -> Result<(User, String), AppError> {
        let user = self.store.user_by_login(login.trim()).await?;
        // Verify against a dummy hash when the user is unknown, so timing
        // does not reveal which logins exist.
        let ok = match &user {
            Some(u) => verify_password(password, &u.password_hash),
            None => {
                let _ = verify_password(password, dummy_hash());
                false
            }
        };
        let user = match (ok, user) {
            (true, Some(u)) => u,
            _ => return Err(AppError::Unauthorized("wrong login or password".into())),
        };
        let token = keys::random_token("", 32);
        self.store
            .create_session(
                user.id,
                &keys::hash_token(&token),
                Utc::now() + Duration::days(SESSION_TTL_DAYS),
            )
            .await?;
        Ok((user, token))
    }

    /// The user of a session cookie, if valid.
    pub async fn session_user(&self, token: &str) -> Result<Option<User>, AppError> {
        if token.len() > 200 {
            return Ok(None);
        }
        Ok(self
            .store
            .session_user(&keys::hash_token(token), Utc::now())
            .await?)
    }

    /// Ends a session.
    pub async fn logout(&self, token: &str) -> Result<(), AppError> {
        Ok(self.store.delete_session(&keys::hash_token(token)).await?)
    }
}

/// A real Argon2id hash of a random string, computed once, so an unknown
/// login costs the same verification time as a known one.
fn dummy_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| hash_password(&keys::random_token("", 16)).unwrap_or_default())
}
