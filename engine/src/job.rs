//! The job as callers see it: what they push (`NewJob`), what they read back
//! (`JobInfo`), its states and priorities. Redis field names live in `keys.rs`.

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};

use super::keys::field;

/// Fetch order inside a queue: every waiting `high` job goes before any `normal`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Priority {
    High,
    #[default]
    Normal,
    Low,
}

impl Priority {
    pub const ALL: [Priority; 3] = [Priority::High, Priority::Normal, Priority::Low];

    pub fn as_str(self) -> &'static str {
        match self {
            Priority::High => "high",
            Priority::Normal => "normal",
            Priority::Low => "low",
        }
    }

    pub fn parse(s: &str) -> Option<Priority> {
        match s {
            "high" => Some(Priority::High),
            "normal" => Some(Priority::Normal),
            "low" => Some(Priority::Low),
            _ => None,
        }
    }
}

/// Where a job is in its life.
///
/// `scheduled` (waits for `run_at`) → `queued` → `claimed` (taken by a
/// worker, waiting in its prefetch for a free slot) → `running` (its handler
/// started; `started_at` is that moment) → `succeeded`;
/// a retryable failure makes it `retrying` (waiting for its next attempt, not
/// final) and then `queued` again; a permanent failure, exhausted attempts or
/// repeated crashes make it `dead`; `cancelled` before it ran. Only
/// `succeeded`, `dead` and `cancelled` are final.
///
/// `retrying` was called `failed` before; [`JobStatus::parse`] still accepts
/// `failed` (from callers and from jobs an older engine wrote).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum JobStatus {
    Scheduled,
    Queued,
    Claimed,
    Running,
    Succeeded,
    /// Accepted as `failed` too (its old name) for one release.
    #[serde(alias = "failed")]
    Retrying,
    Dead,
    Cancelled,
}

impl JobStatus {
    pub const ALL: [JobStatus; 8] = [
        JobStatus::Scheduled,
        JobStatus::Queued,
        JobStatus::Claimed,
        JobStatus::Running,
        JobStatus::Succeeded,
        JobStatus::Retrying,
        JobStatus::Dead,
        JobStatus::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Scheduled => "scheduled",
            JobStatus::Queued => "queued",
            JobStatus::Claimed => "claimed",
            JobStatus::Running => "running",
            JobStatus::Succeeded => "succeeded",
            JobStatus::Retrying => "retrying",
            JobStatus::Dead => "dead",
            JobStatus::Cancelled => "cancelled",
        }
    }

    /// The status named `s`; `failed` is the old name of `retrying`.
    pub fn parse(s: &str) -> Option<JobStatus> {
        if s == "failed" {
            return Some(JobStatus::Retrying);
        }
        JobStatus::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// Final states: nothing more will happen to the job.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            JobStatus::Succeeded | JobStatus::Dead | JobStatus::Cancelled
        )
    }
}

/// `max_attempts` of a job that does not say (the job hash then stores no `ma`).
pub const DEFAULT_MAX_ATTEMPTS: u32 = 5;

/// A job to enqueue. `id` is chosen by the caller (ULID or UUIDv7) or generated.
#[derive(Clone, Debug)]
pub struct NewJob {
    pub id: Option<String>,
    pub queue: String,
    pub kind: String,
    pub tenant: String,
    pub payload: serde_json::Value,
    /// When to run; `None` = now. Millisecond resolution.
    pub run_at: Option<DateTime<Utc>>,
    pub priority: Priority,
    pub max_attempts: u32,
    /// A duplicate key (same queue, same tenant) returns the first job's id and creates nothing.
    pub idempotency_key: Option<String>,
    /// How long the key is remembered; `None` = the engine default.
    pub idempotency_ttl: Option<Duration>,
    /// Shared rate-limit bucket this job draws from (e.g. `whatsapp:<tenant>`), if any.
    pub rate_key: Option<String>,
    /// W3C `traceparent` (`00-<trace id>-<parent span id>-<flags>`) to continue the caller's trace.
    pub trace: Option<String>,
    /// Global concurrency key (e.g. `ocr:<tenant>`): with a limit set for it
    /// (or its part before the first `:`) by `Engine::set_concurrency_limit`,
    /// at most that many such jobs are claimed or running across all workers.
    pub concurrency_key: Option<String>,
    /// A chain: run only after this job (same queue) succeeds, with its result
    /// in the payload as `parent_result`; cancelled if it dies or is cancelled.
    pub after: Option<String>,
}

impl NewJob {
    /// A job with defaults: now, normal priority, 5 attempts, no key.
    pub fn new(queue: &str, kind: &str, tenant: &str, payload: serde_json::Value) -> NewJob {
        NewJob {
            id: None,
            queue: queue.into(),
            kind: kind.into(),
            tenant: tenant.into(),
            payload,
            run_at: None,
            priority: Priority::Normal,
            max_attempts: DEFAULT_MAX_ATTEMPTS,
            idempotency_key: None,
            idempotency_ttl: None,
            rate_key: None,
            trace: None,
            concurrency_key: None,
            after: None,
        }
    }
}

/// The answer to a push.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Pushed {
    pub id: String,
    /// `false` when an idempotency key matched an earlier job: nothing was created.
    pub created: bool,
    pub status: JobStatus,
    /// When the job becomes due.
    pub run_at: DateTime<Utc>,
}

/// A job as stored, for the API and the console.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct JobInfo {
    pub id: String,
    pub queue: String,
    pub kind: String,
    pub tenant: String,
    pub status: JobStatus,
    pub priority: Priority,
    /// Times the job was handed to a worker.
    pub attempts: u32,
    pub max_attempts: u32,
    pub payload: serde_json::Value,
    pub created_at: DateTime<Utc>,
    pub run_at: DateTime<Utc>,
    /// When this attempt's handler started (not when a worker claimed it);
    /// `None` while `claimed`.
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    /// Why a job is dead or retrying: `error`, `permanent`, `timeout`, `crashed`, `attempts_exhausted`, `cancelled`.
    pub reason: Option<String>,
    pub result: Option<serde_json::Value>,
    /// 0-100, set by the handler.
    pub progress: Option<u8>,
    pub progress_message: Option<String>,
    /// Worker holding the job while it runs (from its lease).
    pub worker: Option<String>,
    /// A cancel was asked while it was running.
    pub cancel_requested: bool,
    /// Each failed attempt (the last 20), oldest first.
    pub attempt_errors: Vec<AttemptError>,
    /// W3C `traceparent` the job continues, if its enqueuer sent one.
    pub trace: Option<String>,
    /// Global concurrency key, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub concurrency_key: Option<String>,
    /// The batch this job belongs to, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch: Option<String>,
    /// The job this one runs after (a chain), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
    /// Still waiting for `after` to succeed (status `scheduled` meanwhile).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub awaiting_parent: bool,
}

pub(crate) fn ms_to_time(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms).single().unwrap_or_default()
}

impl JobInfo {
    /// Builds a `JobInfo` from the job hash's fields (HGETALL). Fields at
    /// their default are not stored: no `pr` = normal, no `ma` = 5, no `r` =
    /// due when created.
    pub(crate) fn from_fields(
        id: &str,
        queue: &str,
        h: &HashMap<String, String>,
    ) -> Option<JobInfo> {
        let get = |k: &str| h.get(k).filter(|v| !v.is_empty());
        let num = |k: &str| get(k).and_then(|v| v.parse::<i64>().ok());
        let status = JobStatus::parse(get(field::STATUS)?)?;
        Some(JobInfo {
            id: id.to_string(),
            queue: queue.to_string(),
            kind: get(field::KIND)?.clone(),
            tenant: get(field::TENANT).cloned().unwrap_or_default(),
            status,
            priority: get(field::PRIORITY)
                .and_then(|p| Priority::parse(p))
                .unwrap_or_default(),
            attempts: num(field::ATTEMPTS).unwrap_or(0) as u32,
            max_attempts: num(field::MAX_ATTEMPTS).map_or(DEFAULT_MAX_ATTEMPTS, |n| n as u32),
            payload: get(field::PAYLOAD)
                .and_then(|p| serde_json::from_str(p).ok())
                .unwrap_or(serde_json::Value::Null),
            created_at: ms_to_time(num(field::CREATED).unwrap_or(0)),
            run_at: ms_to_time(num(field::RUN_AT).or(num(field::CREATED)).unwrap_or(0)),
            started_at: num(field::STARTED).map(ms_to_time),
            finished_at: num(field::FINISHED).map(ms_to_time),
            last_error: get(field::ERROR).cloned(),
            reason: get(field::REASON).cloned(),
            result: get(field::RESULT).and_then(|r| serde_json::from_str(r).ok()),
            progress: num(field::PROGRESS).map(|p| p.clamp(0, 100) as u8),
            progress_message: get(field::PROGRESS_MSG).cloned(),
            worker: get(field::WORKER).cloned(),
            cancel_requested: get(field::CANCEL).is_some(),
            attempt_errors: get(field::ERROR_HISTORY)
                .and_then(|h| serde_json::from_str(h).ok())
                .unwrap_or_default(),
            trace: get(field::TRACE).cloned(),
            concurrency_key: get(field::CONCURRENCY_KEY).cloned(),
            batch: get(field::BATCH).cloned(),
            after: get(field::AFTER).cloned(),
            awaiting_parent: get(field::AWAITING).is_some(),
        })
    }
}

/// One failed attempt of a job.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AttemptError {
    pub attempt: u32,
    /// When it failed (unix ms).
    pub at: i64,
    /// `error`, `timeout`, `panic`, `permanent`, `attempts_exhausted`, `crashed`.
    pub reason: String,
    pub error: String,
}

/// Jobs per state in one queue, for `GET /v1/queues` and the console.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct QueueCounts {
    pub queue: String,
    pub scheduled: u64,
    pub queued: u64,
    /// Taken by a worker, waiting in its prefetch for a free slot.
    pub claimed: u64,
    /// Their handler is running.
    pub running: u64,
    /// Waiting for their next attempt after a retryable failure (not final).
    pub retrying: u64,
    pub succeeded: u64,
    pub dead: u64,
    pub cancelled: u64,
    pub paused: bool,
    /// Age of the oldest due job that no worker has taken yet, in ms.
    pub oldest_waiting_ms: Option<u64>,
}

impl QueueCounts {
    /// How many jobs are in `status`.
    pub fn count(&self, status: JobStatus) -> u64 {
        match status {
            JobStatus::Scheduled => self.scheduled,
            JobStatus::Queued => self.queued,
            JobStatus::Claimed => self.claimed,
            JobStatus::Running => self.running,
            JobStatus::Succeeded => self.succeeded,
            JobStatus::Retrying => self.retrying,
            JobStatus::Dead => self.dead,
            JobStatus::Cancelled => self.cancelled,
        }
    }
}

/// One page of jobs in one state, newest first.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct JobPage {
    pub jobs: Vec<JobInfo>,
    /// Pass back to get the next page; `None` at the end.
    pub next_cursor: Option<String>,
}

/// A live worker process/queue pair, from its heartbeat.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WorkerInfo {
    pub id: String,
    pub queue: String,
    pub last_seen: DateTime<Utc>,
    pub running: Vec<String>,
}

/// What a cancel did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CancelOutcome {
    /// It had not started: it is `cancelled` now.
    Cancelled,
    /// It is running: its handler's cancellation token fired.
    CancelRequested,
    /// It already finished (`succeeded`, `dead`, `cancelled`).
    AlreadyFinal,
    NotFound,
}

/// Cumulative outcome counters and latency histograms of one queue, shared by
/// every worker process (flushed to Redis each second), for `/metrics`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct QueueStats {
    pub queue: String,
    /// `outcome` is `started | succeeded | retried | dead | cancelled`
    /// (`retried`: a run failed and the job will run again).
    pub outcomes: Vec<OutcomeCount>,
    /// Enqueue (or due time) → start, per kind.
    pub wait: Vec<KindHistogram>,
    /// Start → finish, per kind.
    pub run: Vec<KindHistogram>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OutcomeCount {
    pub kind: String,
    pub tenant: String,
    pub outcome: String,
    pub count: u64,
}

/// A Prometheus-style histogram: `counts[i]` jobs took ≤ `bounds_secs[i]` (not cumulative; the last bucket is +Inf).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct KindHistogram {
    pub kind: String,
    pub bounds_secs: Vec<f64>,
    pub counts: Vec<u64>,
    pub sum_secs: f64,
    pub count: u64,
}
