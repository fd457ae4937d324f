//! From an HTTP enqueue request to the engine's `NewJob`: find the kind, check
//! the payload against it, settle run time, priority and attempts. Shared by
//! the single and the batch routes so both refuse the same things the same way.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use utoipa::ToSchema;

use jobs::engine::{JobStatus, NewJob, Priority, Pushed};
use jobs::kinds::Registry;

use crate::error::ApiError;

/// Longest accepted `delay_ms`: one year.
pub const MAX_DELAY_MS: u64 = 365 * 24 * 3_600_000;
/// Highest accepted `max_attempts`.
pub const MAX_ATTEMPTS: u32 = 100;
/// Longest accepted idempotency key.
pub const MAX_IDEMPOTENCY_KEY: usize = 200;

/// Body of `POST /v1/jobs/{kind}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EnqueueRequest {
    /// The kind's payload; its schema is `components.schemas["<kind>"]`.
    pub payload: Value,
    /// Run at this instant (RFC 3339); not together with `delay_ms`.
    pub run_at: Option<DateTime<Utc>>,
    /// Run this many milliseconds from now (at most one year).
    pub delay_ms: Option<u64>,
    /// Default: the kind's.
    pub priority: Option<Priority>,
    /// 1-100; default: the kind's.
    pub max_attempts: Option<u32>,
}

impl EnqueueRequest {
    pub fn options(&self) -> JobOptions {
        JobOptions {
            run_at: self.run_at,
            delay_ms: self.delay_ms,
            priority: self.priority,
            max_attempts: self.max_attempts,
        }
    }
}

/// When and how to run a job, as the single and batch bodies give it.
#[derive(Debug, Default)]
pub struct JobOptions {
    pub run_at: Option<DateTime<Utc>>,
    pub delay_ms: Option<u64>,
    pub priority: Option<Priority>,
    pub max_attempts: Option<u32>,
}

/// One element of `POST /v1/jobs`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchItem {
    pub kind: String,
    pub payload: Value,
    pub run_at: Option<DateTime<Utc>>,
    pub delay_ms: Option<u64>,
    pub priority: Option<Priority>,
    pub max_attempts: Option<u32>,
    /// Same meaning as the `Idempotency-Key` header of the single route.
    pub idempotency_key: Option<String>,
}

impl BatchItem {
    pub fn options(&self) -> JobOptions {
        JobOptions {
            run_at: self.run_at,
            delay_ms: self.delay_ms,
            priority: self.priority,
            max_attempts: self.max_attempts,
        }
    }
}

/// The answer to an accepted job.
#[derive(Debug, Serialize, ToSchema)]
pub struct EnqueuedJob {
    pub id: String,
    pub kind: String,
    pub status: JobStatus,
    pub run_at: DateTime<Utc>,
}

impl EnqueuedJob {
    pub fn new(kind: &str, p: &Pushed) -> EnqueuedJob {
        EnqueuedJob {
            id: p.id.clone(),
            kind: kind.to_string(),
            status: p.status,
            run_at: p.run_at,
        }
    }
}

/// Checks everything the engine should never see wrong and builds the job.
pub fn build(
    registry: &Registry,
    tenant: &str,
    kind: &str,
    payload: Value,
    opts: &JobOptions,
    idempotency_key: Option<String>,
    now: DateTime<Utc>,
) -> Result<NewJob, ApiError> {
    let k = registry.get(kind).ok_or_else(|| {
        ApiError::not_found("unknown_kind", format!("no job kind {kind:?}"))
            .with_details(json!({ "kind": kind }))
    })?;
    if let Err(e) = k.validate(&payload) {
        return Err(ApiError::invalid_field(
            "invalid_payload",
            &e.path,
            format!("{kind} payload: {}", e.message),
        ));
    }
    let policy = k.policy();
    let run_at = match (opts.run_at, opts.delay_ms) {
        (Some(_), Some(_)) => {
            return Err(ApiError::invalid_field(
                "invalid_body",
                "delay_ms",
                "give run_at or delay_ms, not both",
            ))
        }
        (Some(at), None) => Some(at),
        (None, Some(ms)) if ms > MAX_DELAY_MS => {
            return Err(ApiError::invalid_field(
                "invalid_body",
                "delay_ms",
                format!("must be at most {MAX_DELAY_MS}"),
            ))
        }
        (None, Some(0)) | (None, None) => None,
        (None, Some(ms)) => Some(now + Duration::milliseconds(ms as i64)),
    };
    let max_attempts = opts.max_attempts.unwrap_or(policy.max_attempts);
    if !(1..=MAX_ATTEMPTS).contains(&max_attempts) {
        return Err(ApiError::invalid_field(
            "invalid_body",
            "max_attempts",
            format!("must be between 1 and {MAX_ATTEMPTS}"),
        ));
    }
    if let Some(key) = &idempotency_key {
        check_idempotency_key(key)?;
    }
    let mut job = NewJob::new(policy.queue, kind, tenant, payload);
    job.run_at = run_at;
    job.priority = opts.priority.unwrap_or(policy.priority);
    job.max_attempts = max_attempts;
    job.idempotency_key = idempotency_key;
    Ok(job)
}

/// Printable ASCII, 1-200 characters.
pub fn check_idempotency_key(key: &str) -> Result<(), ApiError> {
    if key.is_empty()
        || key.len() > MAX_IDEMPOTENCY_KEY
        || !key.bytes().all(|b| b.is_ascii_graphic())
    {
        return Err(ApiError::bad_request(
            "invalid_idempotency_key",
            format!("idempotency key must be 1-{MAX_IDEMPOTENCY_KEY} printable ASCII characters"),
        ));
    }
    Ok(())
}

/// Counts accepted jobs for `/metrics` (replays are not new jobs).
pub fn record_enqueued(kind: &str, tenant: &str) {
    metrics::counter!("tarefa_jobs_enqueued_total", "kind" => kind.to_string(), "tenant" => tenant.to_string()).increment(1);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn build_sleep(payload: Value, opts: JobOptions) -> Result<NewJob, ApiError> {
        build(
            &Registry::builtin(),
            "t1",
            "diag.sleep",
            payload,
            &opts,
            None,
            Utc::now(),
        )
    }

    #[test]
    fn delay_sets_run_at_and_policy_fills_defaults() {
        let now = Utc::now();
        let opts = JobOptions {
            delay_ms: Some(1_500),
            ..Default::default()
        };
        let job = build(
            &Registry::builtin(),
            "t1",
            "diag.noop",
            json!({}),
            &opts,
            None,
            now,
        )
        .unwrap();
        assert_eq!(job.run_at, Some(now + Duration::milliseconds(1_500)));
        assert_eq!((job.queue.as_str(), job.tenant.as_str()), ("diag", "t1"));
    }

    #[test]
    fn bad_payload_names_its_field() {
        let e = build_sleep(json!({ "ms": "soon" }), JobOptions::default()).unwrap_err();
        assert_eq!((e.status().as_u16(), e.code()), (422, "invalid_payload"));
        assert_eq!(e.details["field"], "payload.ms");
    }

    #[test]
    fn run_at_and_delay_together_are_refused() {
        let opts = JobOptions {
            run_at: Some(Utc::now()),
            delay_ms: Some(5),
            ..Default::default()
        };
        assert_eq!(
            build_sleep(json!({}), opts).unwrap_err().details["field"],
            "delay_ms"
        );
    }
}
