//! Projects and their keys.

use crate::StoreResult;
use async_trait::async_trait;
use skvoz_domain::{Project, ProjectId, ProjectName};

/// A project to create. Keys arrive already generated; only the API key's
/// hash is kept.
#[derive(Debug, Clone)]
pub struct NewProject {
    /// Unique name.
    pub name: ProjectName,
    /// Public tracker key.
    pub public_key: String,
    /// SHA-256 hex of the API key.
    pub api_key_hash: String,
    /// The initial settings document.
    pub settings: serde_json::Value,
}

/// Projects and key lookups.
#[async_trait]
pub trait ProjectStore: Send + Sync {
    /// Creates a project with its initial settings (version 1).
    async fn create_project(&self, new: NewProject) -> StoreResult<Project>;
    /// The project with this id.
    async fn project(&self, id: ProjectId) -> StoreResult<Option<Project>>;
    /// The project with this name.
    async fn project_by_name(&self, name: &str) -> StoreResult<Option<Project>>;
    /// The project whose API key hashes to `hash`.
    async fn project_by_api_key_hash(&self, hash: &str) -> StoreResult<Option<Project>>;
    /// The project with this public tracker key.
    async fn project_by_public_key(&self, key: &str) -> StoreResult<Option<Project>>;
    /// All projects, by id.
    async fn list_projects(&self) -> StoreResult<Vec<Project>>;
    /// Replaces the API key's hash (rotation); the old key stops working.
    async fn set_api_key_hash(&self, id: ProjectId, hash: &str) -> StoreResult<()>;
}
