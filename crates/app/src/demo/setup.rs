//! The demo's users: the first administrator of an empty store.

use crate::{keys, App, AppError};

/// The login of the demo administrator.
pub const DEMO_ADMIN: &str = "admin";

/// Creates the first admin when the store has no users yet; returns the
/// login and password to print once. `password` is used when given,
/// otherwise one is generated.
pub async fn ensure_admin(
    app: &App,
    password: Option<&str>,
) -> Result<Option<(String, String)>, AppError> {
    if app.auth.has_users().await? {
        return Ok(None);
    }
    let password = password
        .map(str::to_owned)
        .unwrap_or_else(|| keys::random_token("", 9));
    app.auth.create_user(DEMO_ADMIN, &password, true).await?;
    Ok(Some((DEMO_ADMIN.to_owned(), password)))
}
