//! `RedisBackend`: the apalis `Backend` of one queue in one worker process.
//!
//! A feeder task claims batches on its own connection and blocks on the
//! queue's wake list (BLPOP) when there is nothing to do, so a pushed job
//! starts within milliseconds and an idle worker costs one call a second.
//! It keeps a prefetch of claimed-but-unstarted jobs and claims again once
//! half of it is free, so the next batch is on its way while the last one
//! runs. The prefetch depth adapts: it starts at twice the worker's
//! concurrency (at most `engine.claim_batch`, never less than the
//! concurrency), doubles up to `engine.claim_batch` while the worker runs
//! through the jobs it had before the next claim lands (short jobs over a
//! backlog: fewer, larger claims), and halves back as soon as a claimed job
//! waited more than [`PREFETCH_HORIZON`] to start, so slow jobs never sit
//! claimed behind each other. Unstarted jobs are released back at shutdown. A batch goes
//! to the worker round-robin over its tenants (per priority), so another
//! tenant's job never waits behind a whole share of a big tenant's. The feeder never dies on a Redis error: it
//! reconnects with backoff. While suspects wait (jobs whose last worker
//! vanished), it claims nothing until its worker holds no job, then takes one
//! suspect alone (see `claim.lua`).

use std::collections::HashMap;
use std::sync::atomic::Ordering;
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

use super::ack::{AckLayer, AckMsg, Acker, RunOutcome};
use super::claim::{claim, ClaimedJob};
use super::handler::Handler;
use super::keys::QueueKeys;
use super::stats::Stats;
use super::{Engine, EngineError};

/// Longest a feeder blocks on the wake list before it looks again (pause, due jobs).
pub const IDLE_BLOCK_MAX: Duration = Duration::from_secs(1);
/// Longest a claimed job should wait in this worker before it starts; the
/// prefetch only stays deeper than its floor while jobs start within this.
pub const PREFETCH_HORIZON: Duration = Duration::from_millis(20);
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
    /// Runs the jobs and knows each kind's policy.
    pub handler: Arc<dyn Handler>,
    /// Jobs claimed and not yet acked (renewed by the lease keeper).
    pub held: Mutex<HashMap<String, Held>>,
    /// Per claim (its seq, which names its lease): how many of its jobs are not yet acked.
    pub claims: Mutex<HashMap<u64, usize>>,
    /// Notified when `held` becomes empty (the feeder waits for it before a suspect).
    pub drained: tokio::sync::Notify,
    /// Fired each time the worker takes a job from the local channel.
    pub consumed: tokio::sync::Notify,
    /// Set when a job waited longer than [`PREFETCH_HORIZON`] between its
    /// claim and its start (the feeder then makes its prefetch shallower).
    pub waited_long: std::sync::atomic::AtomicBool,
    pub stats: Stats,
    pub acker: Acker,
    /// Fired when the shutdown grace ends: in-flight jobs are released back.
    pub grace_over: CancellationToken,
    /// Fired when the worker starts closing: the feeder stops claiming.
    pub closing: CancellationToken,
}

/// What the lease keeper needs of a job this worker holds (keyed by job id).
pub(crate) struct Held {
    /// The claim that took it (its lease).
    pub claim: u64,
    pub cancel: CancellationToken,
}

/// The apalis backend of one queue.
pub struct RedisBackend {
    pub(crate) shared: Arc<Shared>,
    /// Prefetch depth the feeder starts from and never goes below.
    prefetch: usize,
    /// Most jobs one claim takes (`engine.claim_batch`).
    claim_max: usize,
    rx: Option<mpsc::Receiver<ClaimedJob>>,
    feeder: Option<tokio::task::JoinHandle<()>>,
    close: Option<BoxFuture<'static, Result<(), EngineError>>>,
}

impl RedisBackend {
    /// `concurrency`: the worker's; `batch`: most jobs taken per claim and
    /// deepest prefetch (`engine.claim_batch`). Jobs claimed but not started
    /// are [`prefetch`] of them, more only while jobs start within
    /// [`PREFETCH_HORIZON`] (see the module doc).
    pub(crate) fn new(shared: Arc<Shared>, concurrency: usize, claim_max: usize) -> RedisBackend {
        RedisBackend {
            shared,
            prefetch: prefetch(concurrency, claim_max),
            claim_max: claim_max.max(1),
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
    type Args = ClaimedJob;
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
    type Task = Task<ClaimedJob>;
    type Error = EngineError;

    fn poll_ready(
        &mut self,
        _cx: &mut Context<'_>,
        _worker: &WorkerContext,
    ) -> Poll<Result<(), EngineError>> {
        if self.feeder.is_none() {
            let (tx, rx) = mpsc::channel(self.claim_max.max(self.prefetch));
            self.rx = Some(rx);
            self.feeder = Some(tokio::spawn(feed(
                self.shared.clone(),
                tx,
                self.claim_max,
                self.prefetch,
            )));
        }
        Poll::Ready(Ok(()))
    }

    fn poll_next(
        &mut self,
        cx: &mut Context<'_>,
        _worker: &WorkerContext,
    ) -> Poll<Option<Result<Task<ClaimedJob>, EngineError>>> {
        let rx = self.rx.as_mut().expect("poll_ready runs first");
        match rx.poll_recv(cx) {
            Poll::Ready(Some(job)) => {
                self.shared.consumed.notify_waiters();
                if job.claimed_at.elapsed() > PREFETCH_HORIZON {
                    self.shared.waited_long.store(true, Ordering::Relaxed);
                }
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
                            shared.acker.queue(AckMsg::new(&job, RunOutcome::Release));
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
async fn feed(shared: Arc<Shared>, tx: mpsc::Sender<ClaimedJob>, claim_max: usize, floor: usize) {
    let mut delay = RECONNECT_MIN;
    let mut depth = Depth::new(floor, tx.max_capacity());
    let mut seq = 0;
    while !shared.closing.is_cancelled() {
        match feed_connected(&shared, &tx, claim_max, &mut depth, &mut seq).await {
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
    tx: &mpsc::Sender<ClaimedJob>,
    claim_max: usize,
    depth: &mut Depth,
    seq: &mut u64,
) -> Result<(), EngineError> {
    // Its own connection: a BLPOP blocks whatever shares it.
    let mut conn = shared
        .engine
        .opener
        .dedicated(IDLE_BLOCK_MAX + Duration::from_secs(5))
        .await?;
    let lease_ms = shared.engine.cfg.settings.lease_ttl_ms;
    loop {
        // Claim in batches: wait until half the prefetch is free (or the
        // channel ran dry) instead of claiming one job per freed slot.
        let cap = tx.max_capacity();
        loop {
            if tx.is_closed() {
                return Ok(());
            }
            let consumed = shared.consumed.notified();
            let waiting = cap - tx.capacity();
            if waiting == 0 || depth.room(waiting) >= (depth.get() / 2).max(1) {
                break;
            }
            tokio::select! {
                _ = consumed => {}
                _ = shared.closing.cancelled() => return Ok(()),
            }
        }
        let waiting = cap - tx.capacity();
        let room = depth.room(waiting).min(claim_max).max(1);
        // Only the feeder adds to `held`, so an idle worker stays idle until the claim returns.
        let idle = shared.held.lock().expect("held lock").is_empty();
        *seq += 1;
        let claimed = claim(
            &mut conn,
            &shared.keys,
            &shared.queue,
            &shared.worker_id,
            room,
            lease_ms,
            idle,
            &shared.worker_alias,
            *seq,
        )
        .await?;
        // Starved: the worker ran through what it had while this claim was
        // on its way, and there is more (the claim was full).
        depth.adjust(
            waiting > 0 && claimed.jobs.len() == room && tx.capacity() == cap,
            shared.waited_long.swap(false, Ordering::Relaxed),
        );
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
        if !claimed.jobs.is_empty() {
            shared
                .claims
                .lock()
                .expect("claims lock")
                .insert(*seq, claimed.jobs.len());
        }
        {
            let mut held = shared.held.lock().expect("held lock");
            for job in &claimed.jobs {
                held.insert(
                    job.id.clone(),
                    Held {
                        claim: *seq,
                        cancel: job.cancel.clone(),
                    },
                );
            }
        }
        let mut jobs = interleave(claimed.jobs).into_iter();
        while let Some(job) = jobs.next() {
            if let Err(e) = tx.send(job).await {
                // Closing: this one and the rest go back (the close flushes them).
                shared.acker.queue(AckMsg::new(&e.0, RunOutcome::Release));
                for rest in jobs.by_ref() {
                    shared.acker.queue(AckMsg::new(&rest, RunOutcome::Release));
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

/// Most jobs a worker holds claimed but unstarted: twice its concurrency (the
/// next batch arrives while the last one runs), at most `batch`, never less
/// than the concurrency.
pub(crate) fn prefetch(concurrency: usize, claim_max: usize) -> usize {
    let concurrency = concurrency.max(1);
    (2 * concurrency).min(claim_max).max(concurrency)
}

/// The feeder's prefetch depth (see the module doc): between `floor` and `max`.
#[derive(Debug)]
pub(crate) struct Depth {
    depth: usize,
    floor: usize,
    max: usize,
}

impl Depth {
    pub fn new(floor: usize, max: usize) -> Depth {
        let floor = floor.clamp(1, max.max(1));
        Depth {
            depth: floor,
            floor,
            max: max.max(floor),
        }
    }

    pub fn get(&self) -> usize {
        self.depth
    }

    /// How many more jobs to claim with `waiting` unstarted ones in hand.
    pub fn room(&self, waiting: usize) -> usize {
        self.depth.saturating_sub(waiting)
    }

    /// After a claim: deeper when it got all it asked for (a backlog) and
    /// the worker ran dry meanwhile (`starved`); shallower when a job waited
    /// too long to start.
    pub fn adjust(&mut self, starved: bool, waited_long: bool) {
        if waited_long {
            self.depth = (self.depth / 2).max(self.floor);
        } else if starved {
            self.depth = (self.depth * 2).min(self.max);
        }
    }
}

/// Orders a claimed batch round-robin over its tenants within each priority:
/// the script returns each tenant's share together, and a small tenant's job
/// should not wait behind a big tenant's whole share in this worker.
pub(crate) fn interleave(jobs: Vec<ClaimedJob>) -> Vec<ClaimedJob> {
    fn flush(runs: &mut Vec<Vec<ClaimedJob>>, out: &mut Vec<ClaimedJob>) {
        if runs.len() == 1 {
            out.append(&mut runs[0]);
            runs.clear();
            return;
        }
        let mut iters: Vec<_> = runs.drain(..).map(Vec::into_iter).collect();
        loop {
            let before = out.len();
            for it in iters.iter_mut() {
                out.extend(it.next());
            }
            if out.len() == before {
                return;
            }
        }
    }
    let mut out = Vec::with_capacity(jobs.len());
    let mut runs: Vec<Vec<ClaimedJob>> = Vec::new();
    for job in jobs {
        match runs.last_mut() {
            Some(run) if run[0].tenant == job.tenant && run[0].priority == job.priority => {
                run.push(job)
            }
            Some(run) if run[0].priority != job.priority => {
                flush(&mut runs, &mut out);
                runs.push(vec![job]);
            }
            _ => runs.push(vec![job]),
        }
    }
    flush(&mut runs, &mut out);
    out
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

#[cfg(test)]
mod tests {
    use super::*;

    fn job(tenant: &str, priority: super::super::Priority, n: usize) -> ClaimedJob {
        ClaimedJob {
            id: format!("{tenant}-{n}"),
            queue: "q".into(),
            kind: "k".into(),
            tenant: tenant.into(),
            payload: serde_json::Value::Null,
            attempt: 1,
            max_attempts: 5,
            created_ms: 0,
            due_ms: 0,
            priority,
            trace: None,
            span_id: String::new(),
            cancel: CancellationToken::new(),
            claimed_at: std::time::Instant::now(),
            claimed_ms: 0,
            claim: 1,
        }
    }

    #[test]
    fn a_batch_alternates_tenants_within_each_priority() {
        use super::super::Priority::{High, Normal};
        let jobs = vec![
            job("a", High, 1),
            job("b", High, 1),
            job("b", High, 2),
            job("big", Normal, 1),
            job("big", Normal, 2),
            job("big", Normal, 3),
            job("small", Normal, 1),
            job("big", Normal, 4),
        ];
        let ids: Vec<String> = interleave(jobs).into_iter().map(|j| j.id).collect();
        assert_eq!(
            ids,
            ["a-1", "b-1", "b-2", "big-1", "small-1", "big-4", "big-2", "big-3"]
        );
        let one: Vec<ClaimedJob> = (1..=3).map(|n| job("t", Normal, n)).collect();
        let ids: Vec<String> = interleave(one).into_iter().map(|j| j.id).collect();
        assert_eq!(ids, ["t-1", "t-2", "t-3"]);
        assert!(interleave(Vec::new()).is_empty());
    }

    #[test]
    fn prefetch_deepens_while_the_worker_runs_dry_and_backs_off_when_jobs_wait() {
        let mut d = Depth::new(64, 256);
        assert_eq!((d.get(), d.room(10)), (64, 54));
        d.adjust(false, false);
        assert_eq!(d.get(), 64);
        d.adjust(true, false);
        assert_eq!(d.get(), 128);
        d.adjust(true, false);
        d.adjust(true, false);
        assert_eq!(d.get(), 256, "capped at the claim batch");
        // Not dry: unchanged.
        d.adjust(false, false);
        assert_eq!(d.get(), 256);
        // A job waited too long: halves, never below the floor.
        d.adjust(true, true);
        assert_eq!(d.get(), 128);
        for _ in 0..5 {
            d.adjust(false, true);
        }
        assert_eq!(d.get(), 64);
        assert_eq!(d.room(100), 0);
        // A floor above the channel is clamped to it.
        assert_eq!(Depth::new(500, 256).get(), 256);
    }

    #[test]
    fn prefetch_is_twice_the_concurrency_within_the_claim_batch() {
        assert_eq!(prefetch(32, 64), 64);
        assert_eq!(prefetch(8, 64), 16);
        assert_eq!(prefetch(100, 64), 100);
        assert_eq!(prefetch(0, 64), 2);
    }
}
