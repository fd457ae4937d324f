//! `diag.noop` and `diag.sleep`: kinds for health checks, tests and benchmarks.
//! `diag.sleep` can fail its first attempts or abort the whole worker process,
//! which is how the crash-recovery tests kill a worker mid-job.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{FieldError, JobContext, JobError, JobKind, KindPolicy};

/// `diag.noop`: does nothing, succeeds.
pub struct Noop;

/// Payload of `diag.noop`: an empty object.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoopPayload {}

impl JobKind for Noop {
    const NAME: &'static str = "diag.noop";
    type Payload = NoopPayload;

    fn policy() -> KindPolicy {
        KindPolicy::new("diag")
    }

    async fn run(_payload: NoopPayload, _ctx: JobContext) -> Result<serde_json::Value, JobError> {
        Ok(serde_json::Value::Null)
    }
}

/// `diag.sleep`: sleeps, optionally fails first attempts or aborts the process.
pub struct Sleep;

/// Payload of `diag.sleep`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SleepPayload {
    /// How long to sleep, ms (at most 1 hour).
    #[serde(default)]
    pub ms: u64,
    /// Fail the first `fail_times` attempts with a retryable error.
    #[serde(default)]
    pub fail_times: u32,
    /// Abort the worker process (simulates a crash) instead of finishing.
    #[serde(default)]
    pub abort: bool,
    /// Fail permanently (no retry).
    #[serde(default)]
    pub permanent: bool,
}

impl JobKind for Sleep {
    const NAME: &'static str = "diag.sleep";
    type Payload = SleepPayload;

    fn policy() -> KindPolicy {
        KindPolicy {
            backoff_base: Duration::from_millis(100),
            backoff_cap: Duration::from_secs(5),
            ..KindPolicy::new("diag")
        }
    }

    fn validate(p: &SleepPayload) -> Result<(), FieldError> {
        if p.ms > 3_600_000 {
            return Err(FieldError::new("ms", "must be at most 3600000"));
        }
        Ok(())
    }

    async fn run(p: SleepPayload, ctx: JobContext) -> Result<serde_json::Value, JobError> {
        if p.abort {
            tracing::warn!(job_id = %ctx.id, "diag.sleep aborting the worker process as asked");
            std::process::abort();
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(p.ms)) => {}
            _ = ctx.cancel.cancelled() => return Err(JobError::Cancelled),
        }
        if p.permanent {
            return Err(JobError::permanent("diag.sleep asked to fail permanently"));
        }
        if ctx.attempt <= p.fail_times {
            return Err(JobError::retryable(format!(
                "diag.sleep failing attempt {} of {}",
                ctx.attempt, p.fail_times
            )));
        }
        Ok(serde_json::json!({ "slept_ms": p.ms, "attempt": ctx.attempt }))
    }
}

/// `diag.batch_done`: a batch callback for health checks and tests; its
/// result is the batch's counts as the engine spliced them in.
pub struct BatchDone;

/// The `batch` object the engine adds to a batch callback's payload.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchCounts {
    pub id: String,
    pub total: u64,
    pub succeeded: u64,
    pub dead: u64,
    pub cancelled: u64,
}

/// Payload of `diag.batch_done`: the batch counts (added by the engine) and a free note.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchDonePayload {
    pub batch: BatchCounts,
    #[serde(default)]
    pub note: Option<String>,
}

impl JobKind for BatchDone {
    const NAME: &'static str = "diag.batch_done";
    type Payload = BatchDonePayload;

    fn policy() -> KindPolicy {
        KindPolicy::new("diag")
    }

    async fn run(p: BatchDonePayload, _ctx: JobContext) -> Result<serde_json::Value, JobError> {
        tracing::info!(batch = %p.batch.id, total = p.batch.total, succeeded = p.batch.succeeded,
            dead = p.batch.dead, cancelled = p.batch.cancelled, "batch done");
        Ok(serde_json::to_value(&p).unwrap_or_default())
    }
}
