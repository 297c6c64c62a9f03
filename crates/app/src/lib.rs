//! Application services: the use cases of skvoz over the domain and a store.
//!
//! Handlers (HTTP, CLI) parse input, call a service here, and map the
//! result; services never see HTTP types and never write SQL.

pub mod auth;
pub mod demo;
mod error;
pub mod keys;
pub mod projects;
pub mod settings;

pub use error::AppError;

use skvoz_store::Store;
use std::sync::Arc;

/// The store as services hold it.
pub type DynStore = Arc<dyn Store>;

/// All services of one skvoz node, sharing one store.
#[derive(Clone)]
pub struct App {
    /// The store.
    pub store: DynStore,
    /// Projects and keys.
    pub projects: projects::ProjectService,
    /// Settings documents.
    pub settings: settings::SettingsService,
    /// Dashboard users and sessions.
    pub auth: auth::AuthService,
}

impl App {
    /// Builds every service over `store`.
    pub fn new(store: DynStore) -> App {
        App {
            projects: projects::ProjectService::new(store.clone()),
            settings: settings::SettingsService::new(store.clone()),
            auth: auth::AuthService::new(store.clone()),
            store,
        }
    }

    /// Flushes pending writes and closes the store; call on shutdown.
    pub async fn shutdown(&self) -> Result<(), AppError> {
        self.store.close().await?;
        Ok(())
    }
}
