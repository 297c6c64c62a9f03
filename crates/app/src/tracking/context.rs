//! Per-project context for the hot path: the project, its typed settings,
//! compiled channel rules and time zone, cached by public key and by id.
//!
//! Entries live a few seconds and are dropped at once when this node
//! changes the project's settings, so a settings change shows within
//! [`TTL`] on every node of an installation.

use crate::{AppError, DynStore};
use parking_lot::RwLock;
use skvoz_domain::traffic::ChannelClassifier;
use skvoz_domain::{Project, ProjectId, ProjectSettings};
use skvoz_store::Scope;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long a cached context is trusted.
pub const TTL: Duration = Duration::from_secs(10);

/// Everything the tracker needs to know about a project.
pub struct ProjectContext {
    /// The project.
    pub project: Project,
    /// Its store scope.
    pub scope: Scope,
    /// Settings version this context was built from.
    pub version: i64,
    /// The typed settings.
    pub settings: ProjectSettings,
    /// Time zone for day boundaries.
    pub tz: chrono_tz::Tz,
    /// Idle time that ends a session.
    pub session_timeout: chrono::Duration,
    /// Compiled channel rules.
    pub channels: ChannelClassifier,
}

type Slot = (Option<Arc<ProjectContext>>, Instant);

/// The cache.
pub struct ContextCache {
    store: DynStore,
    by_key: RwLock<HashMap<String, Slot>>,
    by_id: RwLock<HashMap<ProjectId, Slot>>,
}

impl ContextCache {
    /// An empty cache over a store.
    pub fn new(store: DynStore) -> Self {
        ContextCache {
            store,
            by_key: RwLock::new(HashMap::new()),
            by_id: RwLock::new(HashMap::new()),
        }
    }

    async fn build(&self, project: Project) -> Result<Arc<ProjectContext>, AppError> {
        let scope = Scope::new(project.id);
        let stored = self.store.settings(scope).await?;
        let settings = ProjectSettings::from_json(stored.doc).map_err(|e| {
            AppError::Internal(format!(
                "stored settings invalid at {}: {}",
                e.field, e.message
            ))
        })?;
        let channels = ChannelClassifier::new(&settings.channels).map_err(|e| {
            AppError::Internal(format!(
                "channel rules invalid at {}: {}",
                e.field, e.message
            ))
        })?;
        Ok(Arc::new(ProjectContext {
            scope,
            version: stored.version,
            tz: settings.general.timezone.0,
            session_timeout: chrono::Duration::minutes(i64::from(
                settings.general.session_timeout_minutes,
            )),
            channels,
            settings,
            project,
        }))
    }

    fn fresh(slot: Option<&Slot>) -> Option<Option<Arc<ProjectContext>>> {
        slot.filter(|(_, at)| at.elapsed() < TTL)
            .map(|(c, _)| c.clone())
    }

    /// The context of the project with this public tracker key.
    pub async fn by_public_key(&self, key: &str) -> Result<Option<Arc<ProjectContext>>, AppError> {
        if let Some(hit) = Self::fresh(self.by_key.read().get(key)) {
            return Ok(hit);
        }
        if key.len() > 200 {
            return Ok(None);
        }
        let ctx = match self.store.project_by_public_key(key).await? {
            Some(p) => Some(self.build(p).await?),
            None => None,
        };
        let mut map = self.by_key.write();
        if map.len() > 50_000 {
            // Unknown keys are cached too; a flood of random keys must not
            // grow memory without bound.
            map.retain(|_, (c, at)| c.is_some() && at.elapsed() < TTL);
        }
        map.insert(key.to_owned(), (ctx.clone(), Instant::now()));
        Ok(ctx)
    }

    /// The context of a project by id.
    pub async fn by_id(&self, id: ProjectId) -> Result<Arc<ProjectContext>, AppError> {
        if let Some(Some(hit)) = Self::fresh(self.by_id.read().get(&id)) {
            return Ok(hit);
        }
        let project = self
            .store
            .project(id)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("project {id}")))?;
        let ctx = self.build(project).await?;
        self.by_id
            .write()
            .insert(id, (Some(ctx.clone()), Instant::now()));
        Ok(ctx)
    }

    /// Forgets a project's context (after its settings changed).
    pub fn invalidate(&self, id: ProjectId) {
        self.by_id.write().remove(&id);
        self.by_key
            .write()
            .retain(|_, (c, _)| c.as_ref().is_none_or(|c| c.project.id != id));
    }
}
