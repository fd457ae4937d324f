//! `RedisBackend`: the apalis `Backend` of one queue in one worker process.
//!
//! A feeder task claims batches on its own connection and blocks on the
//! queue's wake list (BLPOP) when there is nothing to do, so a pushed job
//! starts within milliseconds and an idle worker costs one call a second.
//! It claims only as many jobs as the local channel has room for (room =
//! the worker's concurrency), so few jobs sit claimed but unstarted; those are
//! released back at shutdown. The feeder never dies on a Redis error: it
//! reconnects with backoff. While suspects wait (jobs whose last worker
//! vanished), it claims nothing until its worker holds no job, then takes one
//! suspect alone (see `claim.lua`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use apalis_core::backend::{Backend, BackendConfig};
use apalis_core::task::task_id::TaskId;
use apalis_core::task::Task;
use apalis_core::worker::context::WorkerContext;
use futures::future::BoxFuture;
use futures::FutureExt;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::ack::{AckLayer, AckMsg, Acker, Outcome};
use super::claim::{claim, Job};
use super::keys::QueueKeys;
use super::stats::Stats;
use super::{Engine, EngineError};
use crate::kinds::{Registry, Resources};

/// Longest a feeder blocks on the wake list before it looks again (pause, due jobs).
pub const IDLE_BLOCK_MAX: Duration = Duration::from_secs(1);
/// Reconnect backoff bounds after a Redis error.
pub const RECONNECT_MIN: Duration = Duration::from_millis(100);
pub const RECONNECT_MAX: Duration = Duration::from_secs(5);

/// State shared by the feeder, the ack layer and the lease keeper of one worker.
pub(crate) struct Shared {
    pub engine: Engine,
    pub keys: QueueKeys,
    pub queue: String,
    pub worker_id: String,
    /// Short alias of `worker_id` stored on each job it runs (see `keys::field::WORKER`).
    pub worker_alias: String,
    pub registry: Arc<Registry>,
    pub resources: Resources,
    /// Jobs claimed and not yet acked: id → job (renewed by the lease keeper).
    pub held: Mutex<HashMap<String, Job>>,
    /// Notified when `held` becomes empty (the feeder waits for it before a suspect).
    pub drained: tokio::sync::Notify,
    /// Fired each time the worker takes a job from the local channel.
    pub consumed: tokio::sync::Notify,
    pub stats: Stats,
    pub acker: Acker,
    /// Fired when the shutdown grace ends: in-flight jobs are released back.
    pub grace_over: CancellationToken,
    /// Fired when the worker starts closing: the feeder stops claiming.
    pub closing: CancellationToken,
}

/// The apalis backend of one queue.
pub struct RedisBackend {
    pub(crate) shared: Arc<Shared>,
    prefetch: usize,
    batch: usize,
    rx: Option<mpsc::Receiver<Job>>,
    feeder: Option<tokio::task::JoinHandle<()>>,
    close: Option<BoxFuture<'static, Result<(), EngineError>>>,
}

impl RedisBackend {
    /// `prefetch`: jobs claimed but not started, at most (the worker's
    /// concurrency); `batch`: most jobs taken per claim (`engine.claim_batch`).
    pub(crate) fn new(shared: Arc<Shared>, prefetch: usize, batch: usize) -> RedisBackend {
        RedisBackend {
            shared,
            prefetch: prefetch.max(1),
            batch: batch.max(1),
            rx: None,
            feeder: None,
            close: None,
        }
    }
}

impl Drop for RedisBackend {
    fn drop(&mut self) {
        if let Some(f) = self.feeder.take() {
            f.abort();
        }
    }
}

impl BackendConfig for RedisBackend {
    type Args = Job;
    type Id = String;
    type Kind = apalis_core::backend::finalize::Ephemeral;
    type Config = ();
    type Layer = AckLayer;

    fn config(&self) -> &Self::Config {
        &()
    }

    fn middleware(&mut self, _worker: &mut WorkerContext) -> Self::Layer {
        AckLayer::new(self.shared.clone())
    }
}

impl Backend for RedisBackend {
    type Task = Task<Job>;
    type Error = EngineError;

    fn poll_ready(
        &mut self,
        _cx: &mut Context<'_>,
        _worker: &WorkerContext,
    ) -> Poll<Result<(), EngineError>> {
        if self.feeder.is_none() {
            let (tx, rx) = mpsc::channel(self.prefetch);
            self.rx = Some(rx);
            self.feeder = Some(tokio::spawn(feed(self.shared.clone(), tx, self.batch)));
        }
        Poll::Ready(Ok(()))
    }

    fn poll_next(
        &mut self,
        cx: &mut Context<'_>,
        _worker: &WorkerContext,
    ) -> Poll<Option<Result<Task<Job>, EngineError>>> {
        let rx = self.rx.as_mut().expect("poll_ready runs first");
        match rx.poll_recv(cx) {
            Poll::Ready(Some(job)) => {
                self.shared.consumed.notify_waiters();
                let id = TaskId::from_string(job.id.clone());
                let task = apalis_core::task::builder::TaskBuilder::new(job)
                    .task_id(id)
                    .build();
                Poll::Ready(Some(Ok(task)))
            }
            // The feeder only ends when closing; the worker then stops polling.
            Poll::Ready(None) => Poll::Pending,
            Poll::Pending => Poll::Pending,
        }
    }

    fn poll_close(
        &mut self,
        cx: &mut Context<'_>,
        _worker: &WorkerContext,
    ) -> Poll<Result<(), EngineError>> {
        if self.close.is_none() {
            let shared = self.shared.clone();
            let feeder = self.feeder.take();
            let rx = self.rx.take();
            self.close = Some(
                async move {
                    shared.closing.cancel();
                    if let Some(f) = feeder {
                        let _ = f.await;
                    }
                    // Claimed but never started: back to the front of their lists.
                    if let Some(mut rx) = rx {
                        rx.close();
                        while let Ok(job) = rx.try_recv() {
                            shared.acker.send(AckMsg::new(&job, Outcome::Release)).await;
                        }
                    }
                    shared.acker.flush().await;
                    Ok(())
                }
                .boxed(),
            );
        }
        self.close.as_mut().expect("set above").poll_unpin(cx)
    }
}

/// Claims jobs while the channel has room; blocks on the wake list otherwise.
async fn feed(shared: Arc<Shared>, tx: mpsc::Sender<Job>, batch: usize) {
    let mut delay = RECONNECT_MIN;
    while !shared.closing.is_cancelled() {
        match feed_connected(&shared, &tx, batch).await {
            Ok(()) => return,
            Err(e) => {
                tracing::warn!(queue = %shared.queue, error = %e, retry_in_ms = delay.as_millis() as u64, "feeder lost Redis; reconnecting");
                tokio::select! {
                    _ = tokio::time::sleep(delay) => {}
                    _ = shared.closing.cancelled() => return,
                }
                delay = (delay * 2).min(RECONNECT_MAX);
            }
        }
    }
}

async fn feed_connected(
    shared: &Arc<Shared>,
    tx: &mpsc::Sender<Job>,
    batch: usize,
) -> Result<(), EngineError> {
    let cfg = redis::AsyncConnectionConfig::new()
        .set_connection_timeout(Some(Duration::from_secs(5)))
        .set_response_timeout(Some(IDLE_BLOCK_MAX + Duration::from_secs(5)));
    let mut conn = shared
        .engine
        .client
        .get_multiplexed_async_connection_with_config(&cfg)
        .await?;
    let lease_ms = shared.engine.cfg.settings.lease_ttl_ms;
    loop {
        // Claim in batches: wait until half a batch of room is free (or the
        // channel ran dry) instead of claiming one job per freed slot.
        let cap = tx.max_capacity();
        let low_water = (batch.min(cap) / 2).max(1);
        loop {
            if tx.is_closed() {
                return Ok(());
            }
            let consumed = shared.consumed.notified();
            let free = tx.capacity();
            if free >= low_water || free == cap {
                break;
            }
            tokio::select! {
                _ = consumed => {}
                _ = shared.closing.cancelled() => return Ok(()),
            }
        }
        let room = tx.capacity().min(batch).max(1);
        // Only the feeder adds to `held`, so an idle worker stays idle until the claim returns.
        let idle = shared.held.lock().expect("held lock").is_empty();
        let claimed = claim(
            &mut conn,
            &shared.keys,
            &shared.queue,
            &shared.worker_id,
            room,
            lease_ms,
            idle,
            &shared.worker_alias,
        )
        .await?;
        let isolated = claimed.isolated;
        if claimed.jobs.is_empty() && !isolated {
            let wait = if claimed.paused {
                IDLE_BLOCK_MAX
            } else {
                claimed
                    .next_due_ms
                    .map(|ms| {
                        Duration::from_millis(ms).clamp(Duration::from_millis(2), IDLE_BLOCK_MAX)
                    })
                    .unwrap_or(IDLE_BLOCK_MAX)
            };
            let mut blpop = redis::cmd("BLPOP");
            blpop.arg(shared.keys.wake()).arg(wait.as_secs_f64());
            let _woke: Option<(String, String)> = tokio::select! {
                r = blpop.query_async(&mut conn) => r?,
                _ = shared.closing.cancelled() => return Ok(()),
            };
            continue;
        }
        {
            let mut held = shared.held.lock().expect("held lock");
            for job in &claimed.jobs {
                held.insert(job.id.clone(), job.clone());
            }
        }
        let mut jobs = claimed.jobs.into_iter();
        while let Some(job) = jobs.next() {
            shared.stats.outcome(&job.kind, &job.tenant, "started");
            let wait_secs = (job.claimed_ms - job.due_ms.max(job.created_ms)) as f64 / 1000.0;
            shared.stats.observe("wait", &job.kind, wait_secs);
            if let Err(e) = tx.send(job).await {
                // Closing: this one and the rest go back.
                shared.acker.send(AckMsg::new(&e.0, Outcome::Release)).await;
                for rest in jobs.by_ref() {
                    shared
                        .acker
                        .send(AckMsg::new(&rest, Outcome::Release))
                        .await;
                }
                return Ok(());
            }
        }
        if isolated {
            // Suspects wait: take nothing more until this worker holds no
            // job, so the next suspect (or the one just handed over) runs alone.
            tokio::select! {
                _ = drained(shared) => {}
                _ = shared.closing.cancelled() => return Ok(()),
            }
        }
    }
}

/// Resolves once the worker holds no job (every outcome written).
async fn drained(shared: &Shared) {
    loop {
        // Created before the check: `notify_waiters` reaches it from then on.
        let notified = shared.drained.notified();
        if shared.held.lock().expect("held lock").is_empty() {
            return;
        }
        notified.await;
    }
}
