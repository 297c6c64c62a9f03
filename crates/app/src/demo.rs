//! The demo project: what `serve --demo` seeds into an empty store.

use crate::projects::CreatedProject;
use crate::{keys, App, AppError};

/// The login of the demo administrator.
pub const DEMO_ADMIN: &str = "admin";

/// What seeding produced, for printing once.
#[derive(Debug, Clone)]
pub struct DemoSeed {
    /// The demo project's keys (the API key in clear, once).
    pub project: CreatedProject,
    /// The admin's login and generated password, when one was created now.
    pub admin: Option<(String, String)>,
}

/// Seeds the demo project and a first admin when the store has neither.
/// Returns `None` when a `demo` project already exists.
/// `admin_password` sets the first admin's password; otherwise a random one
/// is generated (and returned for printing once).
pub async fn seed_if_empty(
    app: &App,
    admin_password: Option<&str>,
) -> Result<Option<DemoSeed>, AppError> {
    if app.projects.by_name("demo").await?.is_some() {
        return Ok(None);
    }
    let (_project, created) = app.projects.create("demo", None, None).await?;
    let admin = if app.auth.has_users().await? {
        None
    } else {
        let password = admin_password
            .map(str::to_owned)
            .unwrap_or_else(|| keys::random_token("", 9));
        app.auth.create_user(DEMO_ADMIN, &password, true).await?;
        Some((DEMO_ADMIN.to_owned(), password))
    };
    Ok(Some(DemoSeed {
        project: created,
        admin,
    }))
}
