//! Claim: one Lua call promotes due jobs and takes a batch of ready jobs for
//! one worker (priority first, round-robin over tenants, rate limits applied),
//! or, while suspects wait (jobs whose last worker vanished), one suspect
//! alone for an idle worker and nothing for a busy one.

use std::time::Instant;

use tokio_util::sync::CancellationToken;

use super::job::Priority;
use super::keys::QueueKeys;
use super::{scripts, EngineError};

/// A job handed to a worker: what the handler needs plus its lease identity.
#[derive(Clone, Debug)]
pub struct Job {
    pub id: String,
    pub queue: String,
    pub kind: String,
    pub tenant: String,
    pub payload: serde_json::Value,
    /// 1 on the first delivery; crashes and retries count.
    pub attempt: u32,
    pub max_attempts: u32,
    pub created_ms: i64,
    /// When the job became due (enqueue time, schedule or retry time).
    pub due_ms: i64,
    pub priority: Priority,
    /// W3C `traceparent` of the request that enqueued the job, if any.
    pub trace: Option<String>,
    /// Id of this delivery's span (16 hex digits), the parent of what the run causes.
    pub span_id: String,
    /// Fired by a cancel request, a lost lease or the end of the shutdown grace.
    pub cancel: CancellationToken,
    pub(crate) claimed_at: Instant,
    pub(crate) claimed_ms: i64,
}

impl Job {
    /// This delivery's own traceparent: the stored trace id, [`Job::span_id`] as
    /// the parent id. `None` when the job carries no valid trace.
    pub fn traceparent(&self) -> Option<String> {
        super::trace::child(self.trace.as_deref()?, &self.span_id)
    }

    /// The lease member that fences this delivery's outcome.
    pub(crate) fn lease_member(&self, worker: &str) -> String {
        format!("{}|{worker}|{}", self.id, self.attempt)
    }
}

/// What one claim call returned.
#[derive(Debug, Default)]
pub struct Claimed {
    pub paused: bool,
    /// Suspects are waiting: `jobs` is one suspect to run alone, or empty
    /// when this worker must first finish what it holds.
    pub isolated: bool,
    /// ms until the next scheduled job or retry is due, when the batch was not filled.
    pub next_due_ms: Option<u64>,
    pub jobs: Vec<Job>,
}

// One argument per ARGV of claim.lua; a struct would only rename them.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn claim(
    conn: &mut impl redis::aio::ConnectionLike,
    keys: &QueueKeys,
    queue: &str,
    worker: &str,
    batch: usize,
    lease_ms: u64,
    idle: bool,
    alias: &str,
) -> Result<Claimed, EngineError> {
    let raw: Vec<redis::Value> = scripts::CLAIM
        .key(keys.base())
        .arg(worker)
        .arg(batch)
        .arg(lease_ms)
        .arg(if idle { "1" } else { "0" })
        .arg(alias)
        .invoke_async(conn)
        .await?;
    parse(queue, raw)
}

fn int(v: &redis::Value) -> i64 {
    redis::from_redis_value_ref::<i64>(v).unwrap_or(0)
}

fn text(v: &redis::Value) -> String {
    redis::from_redis_value_ref::<String>(v).unwrap_or_default()
}

fn parse(queue: &str, raw: Vec<redis::Value>) -> Result<Claimed, EngineError> {
    if raw.len() < 2 {
        return Err(EngineError::Invalid("unexpected claim reply".into()));
    }
    if int(&raw[0]) == -1 {
        return Ok(Claimed {
            paused: true,
            ..Claimed::default()
        });
    }
    let next = int(&raw[1]);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    let jobs = raw[2..]
        .chunks(10)
        .filter(|c| c.len() == 10)
        .map(|c| Job {
            id: text(&c[0]),
            queue: queue.to_string(),
            kind: text(&c[1]),
            tenant: text(&c[2]),
            // Payloads are written by `push` from a serde_json::Value, so they parse.
            payload: serde_json::from_str(&text(&c[3])).unwrap_or(serde_json::Value::Null),
            attempt: int(&c[4]) as u32,
            max_attempts: int(&c[5]).max(1) as u32,
            created_ms: int(&c[6]),
            due_ms: int(&c[7]),
            priority: Priority::parse(&text(&c[8])).unwrap_or_default(),
            trace: Some(text(&c[9])).filter(|t| !t.is_empty()),
            span_id: super::trace::new_span_id(),
            cancel: CancellationToken::new(),
            claimed_at: Instant::now(),
            claimed_ms: now,
        })
        .collect();
    Ok(Claimed {
        paused: false,
        isolated: int(&raw[0]) == 2,
        next_due_ms: (next >= 0).then_some(next as u64),
        jobs,
    })
}
