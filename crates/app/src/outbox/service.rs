//! `OutboxService`: starts and stops the relay and the worker, wakes them
//! when something committed, and serves the outbox API (listing, retrying
//! dead letters, the event log).

use super::backoff::Backoff;
use super::destinations::{EsputnikDeliverer, Ga4Deliverer, MetrikaDeliverer, WebhookDeliverer};
use super::ratelimit::RateLimiter;
use super::worker::Worker;
use super::{relay, Deliverer};
use crate::{AppError, DynStore};
use parking_lot::Mutex;
use skvoz_connectors::outbound::OutboundClient;
use skvoz_store::{OutboxFilter, OutboxMessage, Scope, StoredEvent};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{watch, Notify};
use tokio::task::JoinHandle;

/// Outbox knobs.
#[derive(Debug, Clone)]
pub struct OutboxOptions {
    /// How long a claim holds a message; a crashed worker's messages go out
    /// again after this.
    pub lease: Duration,
    /// How often the relay and the worker look without being woken.
    pub poll: Duration,
    /// The retry schedule.
    pub backoff: Backoff,
    /// Messages claimed per cycle.
    pub claim_limit: usize,
    /// Timeout of one HTTP request.
    pub http_timeout: Duration,
    /// Delivered and skipped messages are deleted once this old (checked
    /// hourly); `None` keeps them forever. Pending and dead ones are kept.
    pub retention: Option<Duration>,
}

/// Messages deleted per store call when pruning.
const PRUNE_CHUNK: usize = 5_000;
/// How often the outbox is pruned while running.
const PRUNE_EVERY: Duration = Duration::from_secs(3_600);

impl Default for OutboxOptions {
    fn default() -> Self {
        OutboxOptions {
            lease: Duration::from_secs(30),
            poll: Duration::from_millis(500),
            backoff: Backoff::default(),
            claim_limit: 200,
            http_timeout: Duration::from_secs(10),
            retention: Some(Duration::from_secs(90 * 86_400)),
        }
    }
}

struct Running {
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

/// The outbox: relay, worker, API.
#[derive(Clone)]
pub struct OutboxService {
    store: DynStore,
    options: OutboxOptions,
    deliverers: Arc<Mutex<HashMap<&'static str, Arc<dyn Deliverer>>>>,
    wake: Arc<Notify>,
    running: Arc<Mutex<Option<Running>>>,
}

impl OutboxService {
    /// The service with the built-in deliverers (webhook, ga4, metrika,
    /// metrika_calls, esputnik).
    pub fn new(store: DynStore, options: OutboxOptions) -> OutboxService {
        let service = OutboxService {
            store,
            deliverers: Arc::new(Mutex::new(HashMap::new())),
            wake: Arc::new(Notify::new()),
            running: Arc::new(Mutex::new(None)),
            options,
        };
        match OutboundClient::new(service.options.http_timeout) {
            Ok(client) => {
                service.register(Arc::new(WebhookDeliverer {
                    client: client.clone(),
                }));
                service.register(Arc::new(EsputnikDeliverer {
                    client: client.clone(),
                }));
                service.register(Arc::new(Ga4Deliverer {
                    client: client.clone(),
                }));
                service.register(Arc::new(MetrikaDeliverer {
                    client: client.clone(),
                    calls: false,
                }));
                service.register(Arc::new(MetrikaDeliverer {
                    client,
                    calls: true,
                }));
            }
            Err(e) => tracing::error!(error = %e, "no HTTP client: outbound delivery is off"),
        }
        service
    }

    /// Adds (or replaces) the deliverer of a destination kind; takes
    /// effect at the next [`OutboxService::start`].
    pub fn register(&self, deliverer: Arc<dyn Deliverer>) {
        self.deliverers.lock().insert(deliverer.kind(), deliverer);
    }

    /// Tells the relay and the worker that something committed.
    pub fn wake(&self) {
        self.wake.notify_waiters();
    }

    fn worker(&self) -> Arc<Worker> {
        Arc::new(Worker {
            store: self.store.clone(),
            deliverers: self.deliverers.lock().clone(),
            limiter: RateLimiter::default(),
            backoff: self.options.backoff,
            lease: self.options.lease,
            claim_limit: self.options.claim_limit,
        })
    }

    /// Relays one batch of events (tests and the CLI; the running relay
    /// does this on its own).
    pub async fn relay_once(&self) -> Result<(usize, usize), AppError> {
        Ok(relay::relay_once(&self.store).await?)
    }

    /// Relays every pending event and delivers every due message once,
    /// until nothing is left that is due now (tests).
    pub async fn drain(&self) -> Result<usize, AppError> {
        while self.relay_once().await?.0 > 0 {}
        let worker = self.worker();
        let mut total = 0;
        loop {
            let n = worker.run_once().await?;
            if n == 0 {
                return Ok(total);
            }
            total += n;
        }
    }

    /// Starts the relay, the worker and the queue gauge (once).
    pub fn start(&self) {
        let mut running = self.running.lock();
        if running.is_some() {
            return;
        }
        let (stop, stopped) = watch::channel(false);
        let poll = self.options.poll;
        let mut tasks = Vec::new();

        let (store, wake, mut halt) = (self.store.clone(), self.wake.clone(), stopped.clone());
        tasks.push(tokio::spawn(async move {
            loop {
                if *halt.borrow() {
                    return;
                }
                let idle = match relay::relay_once(&store).await {
                    Ok((n, _)) => n == 0,
                    Err(e) => {
                        tracing::warn!(error = %e, "outbox relay failed; retrying");
                        true
                    }
                };
                if idle {
                    pause(&wake, poll, &mut halt).await;
                } else {
                    // New messages are there: let the worker know.
                    wake.notify_waiters();
                }
            }
        }));

        let worker = self.worker();
        let (wake, mut halt) = (self.wake.clone(), stopped.clone());
        tasks.push(tokio::spawn(async move {
            loop {
                if *halt.borrow() {
                    return;
                }
                let idle = match worker.run_once().await {
                    Ok(n) => n == 0,
                    Err(e) => {
                        tracing::warn!(error = %e, "outbox worker cycle failed; retrying");
                        true
                    }
                };
                if idle {
                    pause(&wake, poll, &mut halt).await;
                }
            }
        }));

        let gauge = self.worker();
        let pruner = self.clone();
        let mut halt = stopped;
        tasks.push(tokio::spawn(async move {
            let mut next_prune = tokio::time::Instant::now();
            loop {
                if let Err(e) = gauge.publish_depth().await {
                    tracing::debug!(error = %e, "outbox depth unavailable");
                }
                if tokio::time::Instant::now() >= next_prune {
                    next_prune += PRUNE_EVERY;
                    match pruner.prune(chrono::Utc::now()).await {
                        Ok(0) => {}
                        Ok(n) => tracing::info!(
                            messages = n,
                            "outbox: pruned old delivered and skipped messages"
                        ),
                        Err(e) => {
                            tracing::warn!(error = %e, "outbox pruning failed; trying again later")
                        }
                    }
                }
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_secs(5)) => {}
                    _ = halt.changed() => return,
                }
            }
        }));
        *running = Some(Running { stop, tasks });
    }

    /// Deletes delivered and skipped messages older than the retention (as
    /// of `now`), a chunk per store call; returns how many. Nothing with no
    /// retention set.
    pub async fn prune(&self, now: chrono::DateTime<chrono::Utc>) -> Result<u64, AppError> {
        let Some(keep) = self.options.retention else {
            return Ok(0);
        };
        let keep = chrono::Duration::from_std(keep)
            .map_err(|_| AppError::Internal("outbox retention out of range".into()))?;
        let before = now - keep;
        let mut total = 0;
        loop {
            let n = self.store.prune_outbox(before, PRUNE_CHUNK).await?;
            total += n;
            if n < PRUNE_CHUNK as u64 {
                return Ok(total);
            }
        }
    }

    /// Stops taking new work and waits (up to `grace`) for the deliveries
    /// in flight; anything unfinished keeps its lease and goes out after a
    /// restart.
    pub async fn shutdown(&self, grace: Duration) {
        let Some(running) = self.running.lock().take() else {
            return;
        };
        let _ = running.stop.send(true);
        let all = futures_join(running.tasks);
        if tokio::time::timeout(grace, all).await.is_err() {
            tracing::warn!(
                "outbox deliveries still in flight at shutdown; they resume after restart"
            );
        }
    }

    /// The project's messages, newest first.
    pub async fn list(
        &self,
        scope: Scope,
        filter: OutboxFilter,
    ) -> Result<Vec<OutboxMessage>, AppError> {
        if let Some(s) = &filter.status {
            if !["pending", "delivered", "dead", "skipped"].contains(&s.as_str()) {
                return Err(AppError::invalid(
                    "status",
                    "use pending, delivered, dead or skipped",
                ));
            }
        }
        if filter.kind.as_ref().is_some_and(|k| k.len() > 40) {
            return Err(AppError::invalid("kind", "at most 40 characters"));
        }
        let filter = OutboxFilter {
            limit: filter.limit.clamp(1, 1000),
            ..filter
        };
        Ok(self.store.list_outbox(scope, filter).await?)
    }

    /// Counts by status.
    pub async fn counts(&self, scope: Scope) -> Result<Vec<(String, i64)>, AppError> {
        Ok(self.store.outbox_counts(scope).await?)
    }

    /// Retries one dead message of the project.
    pub async fn retry(&self, scope: Scope, id: i64) -> Result<(), AppError> {
        if !self.store.retry_outbox(scope, id).await? {
            return Err(AppError::NotFound(format!("dead outbox message {id}")));
        }
        self.wake();
        Ok(())
    }

    /// Retries every dead message of the project; returns how many.
    pub async fn retry_dead(&self, scope: Scope) -> Result<u64, AppError> {
        let n = self.store.retry_dead_outbox(scope).await?;
        self.wake();
        Ok(n)
    }

    /// The project's event log after `after`.
    pub async fn events(
        &self,
        scope: Scope,
        after: i64,
        limit: usize,
    ) -> Result<Vec<StoredEvent>, AppError> {
        Ok(self
            .store
            .project_events(scope, after, limit.clamp(1, 1000))
            .await?)
    }
}

async fn futures_join(tasks: Vec<JoinHandle<()>>) {
    for t in tasks {
        let _ = t.await;
    }
}

/// An idle relay or worker waits for a wake-up, the poll interval or the
/// stop signal, whichever comes first.
async fn pause(wake: &Notify, poll: Duration, halt: &mut watch::Receiver<bool>) {
    tokio::select! {
        _ = wake.notified() => {}
        _ = tokio::time::sleep(poll) => {}
        _ = halt.changed() => {}
    }
}
