//! Per-project context for the hot path: the project, its typed settings,
//! compiled channel rules and time zone, cached by public key and by id.
//!
//! Entries are dropped at once when this node changes the project's
//! settings. Past [`TTL`] an entry is revalidated in the background while
//! requests keep using it (stale-while-revalidate): the settings version is
//! read, and the context is rebuilt only when it changed, so a change made
//! on another node shows within about [`TTL`], and no request ever waits
//! for (or piles onto) a rebuild.

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
    /// WhatsApp prefill texts and Telegram payloads, compiled.
    pub messenger_links: skvoz_domain::messengers::MessengerLinks,
}

type Slot = (Option<Arc<ProjectContext>>, Instant);

/// Keys and ids whose revalidation is in flight.
#[derive(Default)]
struct Refreshing {
    keys: std::collections::HashSet<String>,
}

/// The cache.
pub struct ContextCache {
    store: DynStore,
    by_key: RwLock<HashMap<String, Slot>>,
    by_id: RwLock<HashMap<ProjectId, Slot>>,
    refreshing: parking_lot::Mutex<Refreshing>,
}

impl ContextCache {
    /// An empty cache over a store.
    pub fn new(store: DynStore) -> Self {
        ContextCache {
            store,
            by_key: RwLock::new(HashMap::new()),
            by_id: RwLock::new(HashMap::new()),
            refreshing: parking_lot::Mutex::new(Refreshing::default()),
        }
    }

    async fn build(&self, project: Project) -> Result<Arc<ProjectContext>, AppError> {
        let scope = Scope::new(project.id);
        let (version, settings) = crate::settings::load_typed(&self.store, scope).await?;
        let channels = ChannelClassifier::new(&settings.channels).map_err(|e| {
            AppError::Internal(format!(
                "channel rules invalid at {}: {}",
                e.field, e.message
            ))
        })?;
        Ok(Arc::new(ProjectContext {
            scope,
            version,
            tz: settings.general.timezone.0,
            session_timeout: chrono::Duration::minutes(i64::from(
                settings.general.session_timeout_minutes,
            )),
            channels,
            messenger_links: skvoz_domain::messengers::MessengerLinks::new(&settings.messengers),
            settings,
            project,
        }))
    }

    fn fresh(slot: Option<&Slot>) -> Option<Option<Arc<ProjectContext>>> {
        slot.filter(|(_, at)| at.elapsed() < TTL)
            .map(|(c, _)| c.clone())
    }

    /// Rebuilds a known project's context only if its settings changed.
    async fn revalidate(
        &self,
        current: &Arc<ProjectContext>,
    ) -> Result<Arc<ProjectContext>, AppError> {
        let stored = self.store.settings(current.scope).await?;
        if stored.version == current.version {
            return Ok(current.clone());
        }
        match self.store.project(current.project.id).await? {
            Some(p) => self.build(p).await,
            None => Ok(current.clone()),
        }
    }

    /// The context of the project with this public tracker key.
    pub async fn by_public_key(
        self: &Arc<Self>,
        key: &str,
    ) -> Result<Option<Arc<ProjectContext>>, AppError> {
        let cached = self.by_key.read().get(key).cloned();
        match cached {
            Some((ctx, at)) if at.elapsed() < TTL => return Ok(ctx),
            Some((Some(ctx), _)) => {
                // Stale but known: answer with it, revalidate once in the
                // background.
                if self.refreshing.lock().keys.insert(key.to_owned()) {
                    let (this, key, ctx) = (self.clone(), key.to_owned(), ctx.clone());
                    tokio::spawn(async move {
                        match this.revalidate(&ctx).await {
                            Ok(fresh) => {
                                this.by_key
                                    .write()
                                    .insert(key.clone(), (Some(fresh), Instant::now()));
                            }
                            Err(e) => {
                                tracing::warn!(error = %e, "project context revalidation failed")
                            }
                        }
                        this.refreshing.lock().keys.remove(&key);
                    });
                }
                return Ok(Some(ctx));
            }
            _ => {}
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
