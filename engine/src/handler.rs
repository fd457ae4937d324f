//! What the engine needs from the code that runs jobs, and nothing more.
//!
//! The engine knows no job kind. A worker hands [`run_queue`](crate::run_queue)
//! one [`Handler`]: it tells the engine each kind's [`KindPolicy`] (queue,
//! priority, timeout, retries) and runs a job's payload, answering with a
//! value or a [`JobError`] that decides what happens next (retry, dead,
//! cancelled, snoozed). Tarefa's job kinds, their registry and the resources
//! handlers share (database pool, settings) live in the `jobs` crate, which
//! implements this trait.

use std::time::Duration;

use futures::future::BoxFuture;
use tokio_util::sync::CancellationToken;

use crate::job::Priority;

/// How a kind runs: where it queues, how long it may take, how it retries.
#[derive(Clone, Debug)]
pub struct KindPolicy {
    pub queue: &'static str,
    pub priority: Priority,
    /// The handler is stopped after this long; that counts as a retryable `timeout`.
    pub timeout: Duration,
    /// Default attempts (a job may set its own).
    pub max_attempts: u32,
    /// Exponential backoff with full jitter: `random(0, min(cap, base * 2^(attempt-1)))`.
    pub backoff_base: Duration,
    pub backoff_cap: Duration,
    /// The kind carries personal data: its payload and result are sealed in
    /// Redis when the engine has a [`PayloadCipher`](crate::PayloadCipher).
    pub encrypt: bool,
}

impl KindPolicy {
    pub fn new(queue: &'static str) -> KindPolicy {
        KindPolicy {
            queue,
            priority: Priority::Normal,
            timeout: Duration::from_secs(60),
            max_attempts: 5,
            backoff_base: Duration::from_secs(1),
            backoff_cap: Duration::from_secs(600),
            encrypt: false,
        }
    }
}

/// How a handler failed; decides what the engine does next.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum JobError {
    /// Try again later (network, 5xx, 429, lock timeout); `retry_after` overrides the backoff.
    #[error("retryable: {reason}")]
    Retryable {
        reason: String,
        retry_after: Option<Duration>,
    },
    /// Never retry (bad payload, 4xx, unreadable file); the job goes to `dead` with this reason.
    #[error("permanent: {reason}")]
    Permanent { reason: String },
    /// The handler saw its cancellation token and stopped.
    #[error("cancelled")]
    Cancelled,
    /// Not a failure: run again after `delay` without spending an attempt
    /// (quiet hours, a resource not ready yet).
    #[error("snoozed for {delay:?}")]
    Snooze { delay: Duration },
}

impl JobError {
    pub fn retryable(reason: impl Into<String>) -> JobError {
        JobError::Retryable {
            reason: reason.into(),
            retry_after: None,
        }
    }
    pub fn permanent(reason: impl Into<String>) -> JobError {
        JobError::Permanent {
            reason: reason.into(),
        }
    }
}

/// One delivery of a job, as a handler gets it.
#[derive(Clone, Debug)]
pub struct Delivery {
    pub id: String,
    pub queue: String,
    pub kind: String,
    pub tenant: String,
    /// 1 on the first run.
    pub attempt: u32,
    pub max_attempts: u32,
    /// This run's W3C `traceparent`: the job's trace id, the job span's id as
    /// parent. `None` when the job was pushed without a trace.
    pub trace: Option<String>,
    /// Fires when someone cancels this running job (or the worker must give it up).
    pub cancel: CancellationToken,
    pub payload: serde_json::Value,
}

/// Runs the jobs of the queues a worker serves.
pub trait Handler: Send + Sync + 'static {
    /// The policy of `kind`; `None` when this build does not know the kind
    /// (the job then goes to `dead` as permanent, without running).
    fn policy(&self, kind: &str) -> Option<KindPolicy>;

    /// Runs one delivery. Runs inside the job's tracing span, under the
    /// kind's timeout, with panics caught by the engine.
    fn run(&self, job: Delivery) -> BoxFuture<'static, Result<serde_json::Value, JobError>>;

    /// Called once per delivery with the job's new span and its stored
    /// `traceparent`, before the run: a tracing exporter may attach the span
    /// to the remote parent and return the span id it exports, which then
    /// names the job span in follow-up jobs and outgoing calls. Default: none.
    fn continue_trace(&self, _span: &tracing::Span, _traceparent: Option<&str>) -> Option<String> {
        None
    }
}
