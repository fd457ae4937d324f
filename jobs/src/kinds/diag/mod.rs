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
