//! Starts and outcomes: the backend's layer runs each job (on its own tokio
//! task, under the kind's timeout, with panics caught), tells the `Acker` the
//! moment its handler starts, turns the result into an outcome and queues it
//! on the `Acker`, which writes starts and outcomes in batches (one Lua call
//! per batch) and never drops one: on a Redis error it retries the same batch
//! until Redis answers.
//!
//! A start alone does not trigger a write: the acker waits up to
//! [`START_LINGER`] for an outcome to travel with it. A job that ends within
//! that time costs no extra write (its `running` state and `started_at` are
//! written with its outcome); a longer one shows as `running` after at most
//! that delay. `started_at` is the handler's start either way (sent as an
//! age, so the worker's clock does not matter). A job's concurrency slot frees as soon as its handler
//! is done (the write does not hold it); the job stays in the worker's `held`
//! set, its lease renewed, until the write lands. The worker flushes the
//! acker before it stops (`run_queue`, the backend's close), so a graceful
//! shutdown never loses the ack of a finished job.

use std::collections::HashMap;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use apalis_core::error::BoxDynError;
use apalis_core::task::Task;
use futures::future::BoxFuture;
use futures::FutureExt;
use rand::Rng;
use tokio::sync::{mpsc, oneshot};
use tower::{Layer, Service};
use tracing::Instrument;

use super::backend::{Shared, RECONNECT_MAX, RECONNECT_MIN};
use super::claim::ClaimedJob;
use super::handler::{Delivery, JobError, KindPolicy};
use super::retry::backoff;
use super::scripts;

/// Most outcomes written in one script call.
pub const ACK_BATCH_MAX: usize = 256;
/// Longest a start waits for company before it is written alone.
pub const START_LINGER: Duration = Duration::from_millis(50);

/// What happened to one delivery.
#[derive(Clone, Debug, PartialEq)]
pub enum RunOutcome {
    Succeeded(serde_json::Value),
    Retry {
        error: String,
        reason: &'static str,
        delay: Duration,
    },
    Dead {
        error: String,
        reason: &'static str,
    },
    Cancelled,
    /// Asked to wait (quiet hours): scheduled again, the attempt not counted.
    Snooze(Duration),
    /// Given back unrun (shutdown); the attempt is not counted.
    Release,
}

impl RunOutcome {
    fn wire(&self) -> (&'static str, String, &'static str, u64) {
        match self {
            RunOutcome::Succeeded(v) => ("ok", serde_json::to_string(v).unwrap_or_default(), "", 0),
            RunOutcome::Retry {
                error,
                reason,
                delay,
            } => ("retry", error.clone(), reason, delay.as_millis() as u64),
            RunOutcome::Dead { error, reason } => ("dead", error.clone(), reason, 0),
            RunOutcome::Cancelled => ("cancelled", String::new(), "cancelled", 0),
            RunOutcome::Snooze(d) => ("snooze", String::new(), "", d.as_millis() as u64),
            RunOutcome::Release => ("release", String::new(), "", 0),
        }
    }

    fn stat(&self) -> Option<&'static str> {
        match self {
            RunOutcome::Succeeded(_) => Some("succeeded"),
            RunOutcome::Retry { .. } => Some("retried"),
            RunOutcome::Dead { .. } => Some("dead"),
            RunOutcome::Cancelled => Some("cancelled"),
            RunOutcome::Snooze(_) | RunOutcome::Release => None,
        }
    }
}

/// One outcome on its way to Redis.
pub(crate) struct AckMsg {
    id: String,
    attempt: u32,
    /// The claim that took the job (its lease).
    claim: u64,
    outcome: RunOutcome,
}

/// A handler's start on its way to Redis.
pub(crate) struct StartMsg {
    id: String,
    attempt: u32,
    at: std::time::Instant,
}

/// What an outcome tells ack.lua of its job's start (see the script).
#[derive(Debug, PartialEq)]
enum Start {
    /// Written by an earlier batch: the job counts as `running`.
    Written,
    /// Started this long ago; written with the outcome.
    Ago(u64),
    /// Never started (released from the prefetch).
    Never,
}

impl Start {
    fn wire(&self) -> String {
        match self {
            Start::Written => "r".into(),
            Start::Ago(ms) => ms.to_string(),
            Start::Never => String::new(),
        }
    }
}

impl AckMsg {
    pub fn new(job: &ClaimedJob, outcome: RunOutcome) -> AckMsg {
        AckMsg {
            id: job.id.clone(),
            attempt: job.attempt,
            claim: job.claim,
            outcome,
        }
    }
}

enum Msg {
    Start(StartMsg),
    Ack(AckMsg),
    Flush(oneshot::Sender<()>),
}

/// Handle on the batching ack writer of one worker.
pub(crate) struct Acker {
    tx: mpsc::UnboundedSender<Msg>,
}

impl Acker {
    /// Starts the writer task. It needs the shared state only once running.
    pub fn start(shared: std::sync::Weak<Shared>) -> Acker {
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(write_loop(shared, rx));
        Acker { tx }
    }

    /// Queues an outcome; `flush` waits until it is written. (Only a
    /// worker that is gone drops it: its lease then expires and the job is
    /// re-delivered.)
    pub fn queue(&self, msg: AckMsg) {
        let _ = self.tx.send(Msg::Ack(msg));
    }

    /// Records that `job`'s handler starts now.
    pub fn started(&self, job: &ClaimedJob) {
        let _ = self.tx.send(Msg::Start(StartMsg {
            id: job.id.clone(),
            attempt: job.attempt,
            at: std::time::Instant::now(),
        }));
    }

    /// Waits until everything queued before it is written.
    pub async fn flush(&self) {
        let (done, wait) = oneshot::channel();
        if self.tx.send(Msg::Flush(done)).is_ok() {
            let _ = wait.await;
        }
    }
}

async fn write_loop(shared: std::sync::Weak<Shared>, mut rx: mpsc::UnboundedReceiver<Msg>) {
    let mut conn = None;
    // Jobs whose start is in Redis and whose outcome is not yet.
    let mut written: std::collections::HashSet<String> = Default::default();
    let mut open = true;
    while open {
        let Some(first) = rx.recv().await else { return };
        let mut starts: HashMap<String, StartMsg> = HashMap::new();
        let mut batch = Vec::new();
        let mut flushes = Vec::new();
        let take = |m: Msg,
                    starts: &mut HashMap<String, StartMsg>,
                    batch: &mut Vec<AckMsg>,
                    flushes: &mut Vec<oneshot::Sender<()>>| match m {
            Msg::Start(s) => {
                starts.insert(s.id.clone(), s);
            }
            Msg::Ack(a) => batch.push(a),
            Msg::Flush(f) => flushes.push(f),
        };
        take(first, &mut starts, &mut batch, &mut flushes);
        let linger = tokio::time::Instant::now() + START_LINGER;
        loop {
            while batch.len() + starts.len() < 2 * ACK_BATCH_MAX {
                match rx.try_recv() {
                    Ok(m) => take(m, &mut starts, &mut batch, &mut flushes),
                    Err(_) => break,
                }
            }
            // Outcomes and flushes go at once; starts alone wait a little for company.
            if !batch.is_empty() || !flushes.is_empty() || starts.len() >= ACK_BATCH_MAX {
                break;
            }
            match tokio::time::timeout_at(linger, rx.recv()).await {
                Ok(Some(m)) => take(m, &mut starts, &mut batch, &mut flushes),
                Ok(None) => {
                    open = false;
                    break;
                }
                Err(_) => break,
            }
        }
        let Some(sh) = shared.upgrade() else { return };
        if conn.is_none() {
            conn = Some(sh.engine.conn.clone());
        }
        // Each outcome carries its job's start (see ack.lua).
        let now = std::time::Instant::now();
        let ended: Vec<Start> = batch
            .iter()
            .map(|a| match starts.remove(&a.id) {
                Some(s) => Start::Ago(now.duration_since(s.at).as_millis() as u64),
                None if written.remove(&a.id) => Start::Written,
                None => Start::Never,
            })
            .collect();
        let running: Vec<(StartMsg, u64)> = starts
            .into_values()
            .map(|s| {
                let age = now.duration_since(s.at).as_millis() as u64;
                (s, age)
            })
            .collect();
        let mut delay = RECONNECT_MIN;
        let results = loop {
            if batch.is_empty() && running.is_empty() {
                break Vec::new();
            }
            match write_batch(&sh, conn.as_mut().expect("set"), &running, &batch, &ended).await {
                Ok(r) => break r,
                Err(e) => {
                    tracing::warn!(queue = %sh.queue, error = %e, pending = batch.len(), "ack write failed; retrying");
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(RECONNECT_MAX);
                }
            }
        };
        for (s, _) in running {
            written.insert(s.id);
        }
        {
            let mut claims = sh.claims.lock().expect("claims lock");
            for a in &batch {
                if let Some(left) = claims.get_mut(&a.claim) {
                    *left = left.saturating_sub(1);
                    if *left == 0 {
                        claims.remove(&a.claim);
                    }
                }
            }
        }
        let drained = {
            let mut held = sh.held.lock().expect("held lock");
            for a in &batch {
                held.remove(&a.id);
            }
            held.is_empty()
        };
        if drained {
            sh.drained.notify_waiters();
        }
        for (a, applied) in batch.iter().zip(results) {
            if !applied {
                tracing::warn!(queue = %sh.queue, job_id = %a.id, attempt = a.attempt,
                    "outcome ignored: this delivery no longer holds the lease");
            }
        }
        for f in flushes {
            let _ = f.send(());
        }
    }
}

/// Per claim touched by an ack batch: its seq and whether the batch acks its
/// last jobs here (the claim's lease is then dropped with them).
fn touched_claims(batch: &[AckMsg], left: &HashMap<u64, usize>) -> Vec<(u64, bool)> {
    let mut here: HashMap<u64, usize> = HashMap::new();
    for a in batch {
        *here.entry(a.claim).or_default() += 1;
    }
    let mut out: Vec<(u64, bool)> = here
        .into_iter()
        .map(|(seq, n)| (seq, left.get(&seq).is_none_or(|l| *l <= n)))
        .collect();
    out.sort_unstable();
    out
}

/// Writes one batch: the starts of jobs still running, then the outcomes
/// (each with its start, `ended[i]` for `batch[i]`); returns, per outcome,
/// whether it was applied (false: stale, its lease was lost). Plain successes
/// (no result to keep, the common case) go first with 3 fields each, the rest
/// with 7 (see ack.lua).
async fn write_batch(
    sh: &Shared,
    conn: &mut crate::conn::RedisConn,
    running: &[(StartMsg, u64)],
    batch: &[AckMsg],
    ended: &[Start],
) -> Result<Vec<bool>, crate::EngineError> {
    let plain = |a: &AckMsg| matches!(a.outcome, RunOutcome::Succeeded(serde_json::Value::Null));
    let n = batch.iter().filter(|a| plain(a)).count();
    let claims = touched_claims(batch, &sh.claims.lock().expect("claims lock"));
    let mut inv = scripts::on(&scripts::ACK, sh.keys.base());
    inv.arg(&sh.worker_id)
        .arg(&sh.worker_alias)
        .arg(claims.len());
    for (seq, last) in &claims {
        inv.arg(seq).arg(if *last { "1" } else { "0" });
    }
    inv.arg(running.len());
    for (s, age) in running {
        inv.arg(&s.id).arg(s.attempt).arg(age);
    }
    inv.arg(n);
    // order[p] = index in `batch` of the script's position p + 1.
    let mut order = Vec::with_capacity(batch.len());
    for (i, a) in batch.iter().enumerate().filter(|(_, a)| plain(a)) {
        inv.arg(&a.id).arg(a.attempt).arg(ended[i].wire());
        order.push(i);
    }
    inv.arg(batch.len() - n);
    for (i, a) in batch.iter().enumerate().filter(|(_, a)| !plain(a)) {
        let (outcome, text, reason, delay) = a.outcome.wire();
        inv.arg(&a.id)
            .arg(a.attempt)
            .arg(outcome)
            .arg(text)
            .arg(reason)
            .arg(delay)
            .arg(ended[i].wire());
        order.push(i);
    }
    let stale: Vec<usize> = inv.invoke_async(conn).await?;
    // `replicated`: on a timeout the batch is written again (its outcomes
    // then find their leases gone and change nothing) until a replica has it.
    sh.engine
        .replicated(conn, &sh.queue, sh.keys.base())
        .await?;
    let mut applied = vec![true; batch.len()];
    for p in stale {
        if let Some(&i) = p.checked_sub(1).and_then(|p| order.get(p)) {
            applied[i] = false;
        }
    }
    Ok(applied)
}

/// The backend's layer (outermost after apalis' Data): runs and acks every job.
#[derive(Clone)]
pub struct AckLayer {
    shared: Arc<Shared>,
}

impl AckLayer {
    pub(crate) fn new(shared: Arc<Shared>) -> AckLayer {
        AckLayer { shared }
    }
}

impl<S> Layer<S> for AckLayer {
    type Service = AckService<S>;
    fn layer(&self, inner: S) -> AckService<S> {
        AckService {
            inner,
            shared: self.shared.clone(),
        }
    }
}

/// See [`AckLayer`].
#[derive(Clone)]
pub struct AckService<S> {
    inner: S,
    shared: Arc<Shared>,
}

impl<S> Service<Task<ClaimedJob>> for AckService<S>
where
    S: Service<Task<ClaimedJob>, Response = serde_json::Value> + Send + 'static,
    S::Error: Into<BoxDynError> + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = ();
    type Error = BoxDynError;
    type Future = BoxFuture<'static, Result<(), BoxDynError>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, mut task: Task<ClaimedJob>) -> Self::Future {
        let shared = self.shared.clone();
        // The job's span continues the enqueuer's trace (W3C traceparent stored at push).
        let span = {
            let job = &task.args;
            let (trace_id, parent_span_id) = job
                .trace
                .as_deref()
                .and_then(super::trace::parse)
                .map_or(("", ""), |(t, s, _)| (t, s));
            tracing::info_span!("job", job_id = %job.id, tenant_id = %job.tenant, kind = %job.kind, attempt = job.attempt,
                trace_id, parent_span_id, span_id = tracing::field::Empty)
        };
        // Exported (OTLP) span ids are the exporter's: follow-ups and provider calls name that one.
        if let Some(id) = shared
            .handler
            .continue_trace(&span, task.args.trace.as_deref())
        {
            task.args.span_id = id;
        }
        span.record("span_id", task.args.span_id.as_str());
        let job = Ran::of(&task.args);
        let policy = shared.handler.policy(&job.kind);
        // The handler starts now (its concurrency slot is held): `running`
        // from here, unless it was cancelled while claimed (`Dispatch` then
        // never runs it).
        if policy.is_some() && !task.args.cancel.is_cancelled() {
            shared.acker.started(&task.args);
            shared.stats.started(&task.args);
        }
        let fut = self.inner.call(task);
        async move {
            let outcome = match &policy {
                None => RunOutcome::Dead { error: format!("unknown job kind {:?}", job.kind), reason: "permanent" },
                Some(policy) => {
                    let timeout = policy.timeout;
                    let mut handle = tokio::spawn(tokio::time::timeout(timeout, fut).instrument(span.clone()));
                    let joined = tokio::select! {
                        j = &mut handle => Some(j),
                        _ = shared.grace_over.cancelled() => None,
                    };
                    match joined {
                        None => {
                            job.cancel.cancel();
                            handle.abort();
                            RunOutcome::Release
                        }
                        Some(Err(join)) if join.is_panic() => {
                            let msg = panic_message(join.into_panic());
                            classify_retryable(&job, policy, format!("handler panicked: {msg}"), "panic", None)
                        }
                        Some(Err(join)) => classify_retryable(&job, policy, format!("handler aborted: {join}"), "error", None),
                        Some(Ok(Err(_elapsed))) => {
                            job.cancel.cancel();
                            classify_retryable(&job, policy, format!("timed out after {} ms", timeout.as_millis()), "timeout", None)
                        }
                        Some(Ok(Ok(Ok(value)))) => RunOutcome::Succeeded(value),
                        Some(Ok(Ok(Err(e)))) => classify_error(&job, policy, e.into()),
                    }
                }
            };
            // A sealed kind's result is encrypted before it leaves the worker.
            let outcome = match outcome {
                RunOutcome::Succeeded(v) if shared.engine.seals(&job.kind) => {
                    match shared.engine.seal_result(&job.kind, &job.tenant, &job.id, v).await {
                        Ok(sealed) => RunOutcome::Succeeded(sealed),
                        Err(e) => match policy.as_ref() {
                            Some(p) => classify_retryable(&job, p, format!("result not stored: {e}"), "error", None),
                            None => RunOutcome::Dead { error: format!("result not stored: {e}"), reason: "permanent" },
                        },
                    }
                }
                other => other,
            };
            let run_secs = job.started_at.elapsed().as_secs_f64();
            if let Some(stat) = outcome.stat() {
                shared.stats.finished(&job.kind, &job.tenant, stat, run_secs);
            }
            match &outcome {
                RunOutcome::Succeeded(_) => tracing::info!(parent: &span, run_ms = (run_secs * 1000.0) as u64, "job succeeded"),
                RunOutcome::Release => tracing::info!(parent: &span, "job released back to its queue"),
                other => tracing::warn!(parent: &span, outcome = ?other, "job did not succeed"),
            }
            shared.acker.queue(AckMsg {
                id: job.id,
                attempt: job.attempt,
                claim: job.claim,
                outcome,
            });
            Ok(())
        }
        .boxed()
    }
}

/// What the outcome of a run needs of its job (the job itself goes to the handler).
struct Ran {
    id: String,
    kind: String,
    tenant: String,
    attempt: u32,
    max_attempts: u32,
    claim: u64,
    cancel: tokio_util::sync::CancellationToken,
    started_at: std::time::Instant,
}

impl Ran {
    fn of(job: &ClaimedJob) -> Ran {
        Ran {
            id: job.id.clone(),
            kind: job.kind.clone(),
            tenant: job.tenant.clone(),
            attempt: job.attempt,
            max_attempts: job.max_attempts,
            claim: job.claim,
            cancel: job.cancel.clone(),
            started_at: std::time::Instant::now(),
        }
    }
}

fn panic_message(p: Box<dyn std::any::Any + Send>) -> String {
    p.downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into())
}

fn classify_error(job: &Ran, policy: &KindPolicy, e: BoxDynError) -> RunOutcome {
    match e.downcast::<JobError>() {
        Ok(je) => match *je {
            JobError::Permanent { reason } => RunOutcome::Dead {
                error: reason,
                reason: "permanent",
            },
            JobError::Cancelled => RunOutcome::Cancelled,
            JobError::Snooze { delay } => RunOutcome::Snooze(delay),
            JobError::Retryable {
                reason,
                retry_after,
            } => classify_retryable(job, policy, reason, "error", retry_after),
        },
        Err(other) => classify_retryable(job, policy, other.to_string(), "error", None),
    }
}

fn classify_retryable(
    job: &Ran,
    policy: &KindPolicy,
    error: String,
    reason: &'static str,
    retry_after: Option<Duration>,
) -> RunOutcome {
    if job.attempt >= job.max_attempts {
        return RunOutcome::Dead {
            error,
            reason: if reason == "error" {
                "attempts_exhausted"
            } else {
                reason
            },
        };
    }
    let delay = retry_after.unwrap_or_else(|| {
        let unit: f64 = rand::rng().random();
        backoff(policy.backoff_base, policy.backoff_cap, job.attempt, unit)
    });
    RunOutcome::Retry {
        error,
        reason,
        delay,
    }
}

/// The handler service under apalis' lifecycle: dispatches a job to its kind.
#[derive(Clone)]
pub struct Dispatch {
    pub(crate) shared: Arc<Shared>,
}

impl Service<Task<ClaimedJob>> for Dispatch {
    type Response = serde_json::Value;
    type Error = JobError;
    type Future = BoxFuture<'static, Result<serde_json::Value, JobError>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), JobError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, task: Task<ClaimedJob>) -> Self::Future {
        let job = task.args;
        if job.cancel.is_cancelled() {
            // Cancelled while it waited in the prefetch: it never starts.
            return futures::future::ready(Err(JobError::Cancelled)).boxed();
        }
        let trace = job.traceparent();
        let mut run = Delivery {
            trace: trace.clone(),
            id: job.id,
            queue: job.queue,
            kind: job.kind,
            tenant: job.tenant,
            attempt: job.attempt,
            max_attempts: job.max_attempts,
            cancel: job.cancel,
            payload: job.payload,
        };
        if !super::cipher::holds_sealed(&run.payload) {
            // Follow-up jobs and provider calls made by the handler carry its trace.
            return super::trace::scope(trace, self.shared.handler.run(run)).boxed();
        }
        // A sealed payload is opened first; one that does not open (tampered,
        // another tenant's, no key) fails the job for good, never runs.
        let shared = self.shared.clone();
        async move {
            let payload = std::mem::take(&mut run.payload);
            run.payload = match shared
                .engine
                .open_payload(&run.tenant, &run.id, payload)
                .await
            {
                Ok(p) => p,
                // The key may come back (database up again, a process restarted with it).
                Err(e @ (super::CipherError::Unavailable(_) | super::CipherError::NoCipher)) => {
                    return Err(JobError::retryable(format!("payload not opened: {e}")))
                }
                Err(e) => return Err(JobError::permanent(format!("payload rejected: {e}"))),
            };
            super::trace::scope(trace, shared.handler.run(run)).await
        }
        .boxed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(id: &str, claim: u64) -> AckMsg {
        AckMsg {
            id: id.into(),
            attempt: 1,
            claim,
            outcome: RunOutcome::Succeeded(serde_json::Value::Null),
        }
    }

    #[test]
    fn a_claims_lease_is_dropped_with_the_ack_of_its_last_jobs() {
        let left = HashMap::from([(1, 3), (2, 2), (3, 1)]);
        let batch = [
            msg("a", 1),
            msg("b", 2),
            msg("c", 2),
            msg("d", 3),
            msg("e", 1),
        ];
        // Claim 1 keeps a job running, claims 2 and 3 end here; an unknown claim ends too.
        assert_eq!(
            touched_claims(&batch, &left),
            vec![(1, false), (2, true), (3, true)]
        );
        assert_eq!(touched_claims(&[msg("x", 9)], &left), vec![(9, true)]);
        assert!(touched_claims(&[], &left).is_empty());
    }
}
