//! The trail writer: one task per replica owns the chain and the sink. Requests send their
//! events and wait for the answer; the task writes whatever has queued up meanwhile as one batch
//! (one `INSERT`, or one `write` and one `fdatasync`), so concurrent requests share a commit.
//! A request whose events were not stored gets an error, and the caller then refuses to answer
//! with plaintext: nothing leaves unaudited.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use fieldcrypt_audit::file::FileSink;
use fieldcrypt_audit::postgres::PgSink;
use fieldcrypt_audit::{AuditError, Chain, Event, Record, SigningKey};
use tokio::sync::{mpsc, oneshot};

use crate::metrics::Metrics;

/// Where the writer puts records.
#[derive(Debug)]
pub enum Sink {
    /// A local file.
    File(FileSink),
    /// A shared table.
    Postgres(PgSink),
}

impl Sink {
    async fn append(&mut self, records: &[Record]) -> Result<(), AuditError> {
        match self {
            // fdatasync blocks: let the runtime move other tasks off this thread.
            Sink::File(f) => tokio::task::block_in_place(|| f.append(records)),
            Sink::Postgres(p) => p.append(records).await,
        }
    }
}

/// The events were not stored: the request must fail.
#[derive(Debug, Clone, thiserror::Error)]
#[error("the audit trail could not be written")]
pub struct AuditUnavailable;

struct Job {
    events: Vec<Event>,
    done: oneshot::Sender<Result<(), AuditUnavailable>>,
}

/// The handle requests use.
#[derive(Debug, Clone)]
pub struct AuditLog {
    tx: mpsc::Sender<Job>,
    healthy: Arc<AtomicBool>,
    pending: Arc<AtomicU64>,
    stop: Arc<tokio::sync::Notify>,
}

/// How often checkpoints are written.
#[derive(Debug, Clone, Copy)]
pub struct CheckpointPolicy {
    /// After this many entries.
    pub every: u64,
    /// Or this long after the first unsigned entry.
    pub interval: Duration,
}

impl AuditLog {
    /// Starts the writer for `chain` (resumed from the sink) on the current runtime. The
    /// returned handle's [`AuditLog::shutdown`] signs a last checkpoint.
    pub fn start(
        chain: Chain,
        sink: Sink,
        key: SigningKey,
        policy: CheckpointPolicy,
        metrics: Arc<Metrics>,
    ) -> (Self, tokio::task::JoinHandle<()>) {
        let (tx, rx) = mpsc::channel(4096);
        let healthy = Arc::new(AtomicBool::new(true));
        let pending = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(tokio::sync::Notify::new());
        let writer = Writer {
            stop: Arc::clone(&stop),
            chain,
            sink,
            key,
            policy,
            metrics,
            healthy: Arc::clone(&healthy),
            pending: Arc::clone(&pending),
            first_unsigned: None,
        };
        let task = tokio::spawn(writer.run(rx));
        (
            Self {
                tx,
                healthy,
                pending,
                stop,
            },
            task,
        )
    }

    /// Appends `events`; `Ok` once they are stored.
    pub async fn record(&self, events: Vec<Event>) -> Result<(), AuditUnavailable> {
        if events.is_empty() {
            return Ok(());
        }
        let (done, wait) = oneshot::channel();
        self.pending
            .fetch_add(events.len() as u64, Ordering::Relaxed);
        self.tx
            .send(Job { events, done })
            .await
            .map_err(|_| AuditUnavailable)?;
        wait.await.map_err(|_| AuditUnavailable)?
    }

    /// Whether the last write succeeded (for `/readyz`).
    pub fn healthy(&self) -> bool {
        self.healthy.load(Ordering::Relaxed)
    }

    /// Entries queued and not yet stored (the audit lag).
    pub fn pending(&self) -> u64 {
        self.pending.load(Ordering::Relaxed)
    }

    /// Tells the writer to store what is queued, sign a last checkpoint and end.
    pub fn shutdown(&self) {
        self.stop.notify_one();
    }
}

struct Writer {
    chain: Chain,
    sink: Sink,
    key: SigningKey,
    policy: CheckpointPolicy,
    metrics: Arc<Metrics>,
    healthy: Arc<AtomicBool>,
    pending: Arc<AtomicU64>,
    first_unsigned: Option<Instant>,
    stop: Arc<tokio::sync::Notify>,
}

fn now() -> String {
    fieldcrypt::Timestamp::now().to_string()
}

impl Writer {
    async fn run(mut self, mut rx: mpsc::Receiver<Job>) {
        let mut tick = tokio::time::interval(Duration::from_millis(250));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                job = rx.recv() => {
                    let Some(job) = job else { break };
                    let mut jobs = vec![job];
                    // Group commit: everything queued meanwhile, up to a bound.
                    while jobs.len() < 512 {
                        match rx.try_recv() {
                            Ok(j) => jobs.push(j),
                            Err(_) => break,
                        }
                    }
                    self.write(jobs).await;
                }
                () = self.stop.notified() => {
                    let mut jobs = Vec::new();
                    while let Ok(j) = rx.try_recv() {
                        jobs.push(j);
                    }
                    if !jobs.is_empty() {
                        self.write(jobs).await;
                    }
                    break;
                }
                _ = tick.tick() => {
                    if self.first_unsigned.is_some_and(|t| t.elapsed() >= self.policy.interval) {
                        self.checkpoint().await;
                    }
                }
            }
        }
        self.checkpoint().await;
    }

    async fn write(&mut self, jobs: Vec<Job>) {
        let started = Instant::now();
        let before = self.chain.clone();
        let time = now();
        let mut records = Vec::new();
        let mut count = 0u64;
        for job in &jobs {
            for event in &job.events {
                records.push(Record::Entry(self.chain.append(event.clone(), &time)));
                count += 1;
                if self.chain.unsigned() >= self.policy.every {
                    records.push(Record::Checkpoint(self.chain.sign(&self.key, &time)));
                }
            }
        }
        let result = self.sink.append(&records).await;
        self.pending.fetch_sub(count, Ordering::Relaxed);
        self.metrics
            .audit_write_seconds
            .observe(started.elapsed().as_secs_f64());
        match result {
            Ok(()) => {
                self.healthy.store(true, Ordering::Relaxed);
                self.metrics.audit_entries.inc_by(count);
                if self.chain.unsigned() == 0 {
                    self.first_unsigned = None;
                } else if self.first_unsigned.is_none() {
                    self.first_unsigned = Some(Instant::now());
                }
                for job in jobs {
                    let _ = job.done.send(Ok(()));
                }
            }
            Err(e) => {
                tracing::error!(error = %e, entries = count, "audit sink refused a batch; the requests fail");
                self.metrics.audit_failures.inc();
                self.healthy.store(false, Ordering::Relaxed);
                self.chain = before;
                for job in jobs {
                    let _ = job.done.send(Err(AuditUnavailable));
                }
            }
        }
    }

    async fn checkpoint(&mut self) {
        let before = self.chain.clone();
        let Some(c) = self.chain.checkpoint(&self.key, &now()) else {
            return;
        };
        match self.sink.append(&[Record::Checkpoint(c)]).await {
            Ok(()) => {
                self.first_unsigned = None;
                self.healthy.store(true, Ordering::Relaxed);
            }
            Err(e) => {
                tracing::error!(error = %e, "audit sink refused a checkpoint; retrying");
                self.healthy.store(false, Ordering::Relaxed);
                self.chain = before;
            }
        }
    }
}
