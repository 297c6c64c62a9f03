//! Creating projects and authenticating their keys.

use crate::{keys, AppError, DynStore};
use serde::Serialize;
use skvoz_domain::{Currency, Project, ProjectName, ProjectSettings, TimeZone};
use skvoz_store::NewProject;

/// What `project create` prints: the only time the API key is shown.
#[derive(Debug, Clone, Serialize)]
pub struct CreatedProject {
    /// The new project's id.
    pub project_id: i64,
    /// The tracker key.
    pub public_key: String,
    /// The API key, in clear, once.
    pub api_key: String,
}

/// Projects and keys.
#[derive(Clone)]
pub struct ProjectService {
    store: DynStore,
}

impl ProjectService {
    /// Over a store.
    pub fn new(store: DynStore) -> Self {
        ProjectService { store }
    }

    /// Creates a project with default settings for its zone and currency.
    pub async fn create(
        &self,
        name: &str,
        timezone: Option<&str>,
        currency: Option<&str>,
    ) -> Result<(Project, CreatedProject), AppError> {
        let name = ProjectName::new(name).map_err(|e| AppError::invalid("name", e.to_string()))?;
        let mut settings = ProjectSettings::default();
        if let Some(tz) = timezone {
            settings.general.timezone = tz
                .parse::<TimeZone>()
                .map_err(|e| AppError::invalid("timezone", e.to_string()))?;
        }
        if let Some(cur) = currency {
            settings.general.currency = cur
                .parse::<Currency>()
                .map_err(|e| AppError::invalid("currency", e.to_string()))?;
        }
        let public_key = keys::new_public_key();
        let api_key = keys::new_api_key();
        let doc = serde_json::to_value(&settings).map_err(|e| AppError::Internal(e.to_string()))?;
        let project = self
            .store
            .create_project(NewProject {
                name,
                public_key: public_key.clone(),
                api_key_hash: keys::hash_token(&api_key),
                settings: doc,
            })
            .await?;
        let created = CreatedProject {
            project_id: project.id.0,
            public_key,
            api_key,
        };
        Ok((project, created))
    }

    /// Replaces a project's API key; the old one stops working at once.
    pub async fn rotate_api_key(&self, project: &Project) -> Result<String, AppError> {
        let api_key = keys::new_api_key();
        self.store
            .set_api_key_hash(project.id, &keys::hash_token(&api_key))
            .await?;
        Ok(api_key)
    }

    /// The project an API key belongs to, if any.
    pub async fn by_api_key(&self, api_key: &str) -> Result<Option<Project>, AppError> {
        if api_key.len() > 200 {
            return Ok(None);
        }
        Ok(self
            .store
            .project_by_api_key_hash(&keys::hash_token(api_key))
            .await?)
    }

    /// A project by id.
    pub async fn by_id(&self, id: skvoz_domain::ProjectId) -> Result<Option<Project>, AppError> {
        Ok(self.store.project(id).await?)
    }

    /// A project by name.
    pub async fn by_name(&self, name: &str) -> Result<Option<Project>, AppError> {
        Ok(self.store.project_by_name(name).await?)
    }

    /// All projects.
    pub async fn list(&self) -> Result<Vec<Project>, AppError> {
        Ok(self.store.list_projects().await?)
    }
}
