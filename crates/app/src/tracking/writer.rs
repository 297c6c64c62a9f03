//! Group commit: hits queue on a bounded channel; one dedicated thread
//! drains whatever has queued into one transaction and acknowledges each hit
//! only after that transaction committed. (A thread, not a task: as a task
//! the writer would queue behind every connection's task on a busy runtime
//! between a commit and its acknowledgements, which showed as tail latency.) Under load a batch holds hundreds of hits,
//! so one disk sync serves them all; when idle a batch is one hit and
//! latency is one commit.

use crate::DynStore;
use skvoz_store::IngestWrite;
use std::thread::JoinHandle;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// Most records in one transaction.
pub const MAX_BATCH: usize = 2048;
/// Queue length before senders wait.
pub const QUEUE: usize = 65_536;

type Ack = oneshot::Sender<Result<(), String>>;

#[allow(clippy::large_enum_variant)] // moved once through the channel; boxing would add an allocation per hit
enum Msg {
    Write(IngestWrite, Ack),
    WriteMany(Vec<IngestWrite>, Ack),
}

/// Why a write was not acknowledged.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// The writer is shutting down or gone.
    #[error("the writer is stopped")]
    Stopped,
    /// The queue stayed full past the deadline.
    #[error("the write queue is full")]
    Busy,
    /// The store refused the batch.
    #[error("store error: {0}")]
    Store(String),
}

/// A queued record's acknowledgement.
pub struct Pending(oneshot::Receiver<Result<(), String>>);

impl Pending {
    /// Waits until the record's batch committed (or failed).
    pub async fn committed(self) -> Result<(), WriteError> {
        match self.0.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(WriteError::Store(e)),
            Err(_) => Err(WriteError::Stopped),
        }
    }
}

/// Handle to the writer task.
pub struct BatchWriter {
    tx: parking_lot::Mutex<Option<mpsc::Sender<Msg>>>,
    task: parking_lot::Mutex<Option<JoinHandle<()>>>,
}

impl BatchWriter {
    /// Starts the writer over a store.
    pub fn start(store: DynStore) -> BatchWriter {
        let (tx, rx) = mpsc::channel(QUEUE);
        let task = std::thread::Builder::new()
            .name("skvoz-ingest-writer".into())
            .spawn(move || run(store, rx))
            .map_err(|e| tracing::error!(error = %e, "cannot start the ingest writer thread"))
            .ok();
        BatchWriter {
            tx: parking_lot::Mutex::new(Some(tx)),
            task: parking_lot::Mutex::new(task),
        }
    }

    fn sender(&self) -> Result<mpsc::Sender<Msg>, WriteError> {
        self.tx.lock().clone().ok_or(WriteError::Stopped)
    }

    async fn submit(
        &self,
        msg: Msg,
        ack: oneshot::Receiver<Result<(), String>>,
    ) -> Result<(), WriteError> {
        let tx = self.sender()?;
        match tx.send_timeout(msg, Duration::from_secs(5)).await {
            Ok(()) => {}
            Err(mpsc::error::SendTimeoutError::Timeout(_)) => return Err(WriteError::Busy),
            Err(mpsc::error::SendTimeoutError::Closed(_)) => return Err(WriteError::Stopped),
        }
        match ack.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(WriteError::Store(e)),
            Err(_) => Err(WriteError::Stopped),
        }
    }

    /// Queues one record without waiting (for callers that must keep the
    /// order of one visitor's records: they enqueue under that visitor's
    /// lock). Fails at once with [`WriteError::Busy`] when the queue is full.
    pub fn enqueue(&self, record: IngestWrite) -> Result<Pending, WriteError> {
        let (ack_tx, ack_rx) = oneshot::channel();
        let tx = self.sender()?;
        tx.try_send(Msg::Write(record, ack_tx))
            .map_err(|e| match e {
                mpsc::error::TrySendError::Full(_) => WriteError::Busy,
                mpsc::error::TrySendError::Closed(_) => WriteError::Stopped,
            })?;
        Ok(Pending(ack_rx))
    }

    /// Queues one record and waits until it is committed.
    pub async fn write(&self, record: IngestWrite) -> Result<(), WriteError> {
        let (ack_tx, ack_rx) = oneshot::channel();
        self.submit(Msg::Write(record, ack_tx), ack_rx).await
    }

    /// Queues records that must commit together and waits for the commit.
    pub async fn write_all(&self, records: Vec<IngestWrite>) -> Result<(), WriteError> {
        if records.is_empty() {
            return Ok(());
        }
        let (ack_tx, ack_rx) = oneshot::channel();
        self.submit(Msg::WriteMany(records, ack_tx), ack_rx).await
    }

    /// Stops taking records, commits everything queued, and waits for the
    /// task to finish.
    pub async fn shutdown(&self) {
        drop(self.tx.lock().take());
        let task = self.task.lock().take();
        if let Some(task) = task {
            let _ = tokio::task::spawn_blocking(move || task.join()).await;
        }
    }
}

fn run(store: DynStore, mut rx: mpsc::Receiver<Msg>) {
    while let Some(first) = rx.blocking_recv() {
        // Records of all queued messages, and each message's slice of them.
        let mut records = Vec::with_capacity(MAX_BATCH);
        let mut groups: Vec<(std::ops::Range<usize>, Ack)> = Vec::new();
        let mut push = |msg: Msg, records: &mut Vec<IngestWrite>| {
            let start = records.len();
            let ack = match msg {
                Msg::Write(r, ack) => {
                    records.push(r);
                    ack
                }
                Msg::WriteMany(rs, ack) => {
                    records.extend(rs);
                    ack
                }
            };
            groups.push((start..records.len(), ack));
        };
        push(first, &mut records);
        while records.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(msg) => push(msg, &mut records),
                Err(_) => break,
            }
        }
        let n = records.len();
        let started = std::time::Instant::now();
        match store.write_batch_blocking(&records) {
            Ok(()) => {
                metrics::histogram!("skvoz_ingest_batch_size").record(n as f64);
                metrics::histogram!("skvoz_ingest_commit_seconds")
                    .record(started.elapsed().as_secs_f64());
                for (_, ack) in groups {
                    let _ = ack.send(Ok(()));
                }
            }
            Err(e) if groups.len() == 1 => {
                tracing::error!(error = %e, records = n, "ingest batch failed; not acknowledged");
                for (_, ack) in groups {
                    let _ = ack.send(Err(e.to_string()));
                }
            }
            Err(e) => {
                // One bad record must not fail its neighbours: retry each
                // message in a transaction of its own.
                tracing::warn!(error = %e, records = n, "ingest batch failed; retrying message by message");
                for (range, ack) in groups {
                    let result = store
                        .write_batch_blocking(&records[range])
                        .map_err(|e| e.to_string());
                    if let Err(e) = &result {
                        tracing::error!(error = %e, "ingest write failed; not acknowledged");
                    }
                    let _ = ack.send(result);
                }
            }
        }
    }
}
