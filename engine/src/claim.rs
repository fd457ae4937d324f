//! Claim: one Lua call promotes due jobs and takes a batch of ready jobs for
//! one worker (priority first, round-robin over tenants, rate limits applied),
//! or, while suspects wait (jobs whose last worker vanished), one suspect
//! alone for an idle worker and nothing for a busy one.

use std::time::Instant;

use tokio_util::sync::CancellationToken;

use super::job::{Priority, DEFAULT_MAX_ATTEMPTS};
use super::keys::QueueKeys;
use super::{scripts, EngineError};

/// A job handed to a worker: what the handler needs plus its lease identity.
#[derive(Clone, Debug)]
pub struct ClaimedJob {
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
    /// The worker's number of the claim that took it (its lease, see claim.lua).
    pub(crate) claim: u64,
}

impl ClaimedJob {
    /// This delivery's own traceparent: the stored trace id, [`ClaimedJob::span_id`] as
    /// the parent id. `None` when the job carries no valid trace.
    pub fn traceparent(&self) -> Option<String> {
        super::trace::child(self.trace.as_deref()?, &self.span_id)
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
    pub jobs: Vec<ClaimedJob>,
}

// One argument per ARGV of claim.lua; a struct would only rename them.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn claim(
    conn: &mut impl redis::aio::ConnectionLike,
    keys: &QueueKeys,
    queue: &str,
    worker: &str,
    want: usize,
    lease_ms: u64,
    idle: bool,
    alias: &str,
    seq: u64,
) -> Result<Claimed, EngineError> {
    let raw: Vec<redis::Value> = scripts::on(&scripts::CLAIM, keys.base())
        .arg(worker)
        .arg(want)
        .arg(lease_ms)
        .arg(if idle { "1" } else { "0" })
        .arg(alias)
        .arg(seq)
        .invoke_async(conn)
        .await?;
    parse(queue, raw, seq)
}

fn int(v: &redis::Value) -> i64 {
    redis::from_redis_value_ref::<i64>(v).unwrap_or(0)
}

fn num(b: &[u8]) -> Option<i64> {
    std::str::from_utf8(b).ok()?.parse().ok()
}

fn string(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// One ready-list entry of the reply: 11 fields joined by NUL, the payload
/// last (see common.lua): id, a, d, rk, rl, k, ma, c, r, tp, p.
fn job(
    queue: &str,
    tenant: &str,
    priority: Priority,
    raw: &[u8],
    claimed_at: Instant,
    claimed_ms: i64,
    claim: u64,
) -> Option<ClaimedJob> {
    let mut it = raw.splitn(11, |b| *b == 0);
    let mut f: [&[u8]; 11] = [&[]; 11];
    for slot in f.iter_mut() {
        *slot = it.next()?;
    }
    let created_ms = num(f[7]).unwrap_or(0);
    Some(ClaimedJob {
        id: string(f[0]),
        queue: queue.to_string(),
        kind: string(f[5]),
        tenant: tenant.to_string(),
        // Payloads are written by `push` from a serde_json::Value, so they parse.
        payload: serde_json::from_slice(f[10]).unwrap_or(serde_json::Value::Null),
        attempt: num(f[1]).unwrap_or(0).max(0) as u32 + 1,
        max_attempts: num(f[6]).map_or(DEFAULT_MAX_ATTEMPTS, |n| n.max(1) as u32),
        created_ms,
        due_ms: num(f[8]).unwrap_or(created_ms),
        priority,
        trace: (!f[9].is_empty()).then(|| string(f[9])),
        span_id: super::trace::new_span_id(),
        cancel: CancellationToken::new(),
        claimed_at,
        claimed_ms,
        claim,
    })
}

fn parse(queue: &str, raw: Vec<redis::Value>, seq: u64) -> Result<Claimed, EngineError> {
    let bad = || EngineError::Invalid("unexpected claim reply".into());
    if raw.len() < 2 {
        return Err(bad());
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
    let claimed_at = Instant::now();
    let mut jobs = Vec::with_capacity(raw.len() - 2);
    let (mut tenant, mut priority) = (String::new(), Priority::default());
    for v in &raw[2..] {
        let redis::Value::BulkString(b) = v else {
            return Err(bad());
        };
        if let Some(header) = b.strip_prefix(b"\0") {
            // "\0<tenant>\0<priority>": the run of entries that follows.
            let mut parts = header.splitn(2, |b| *b == 0);
            tenant = string(parts.next().ok_or_else(bad)?);
            priority = std::str::from_utf8(parts.next().ok_or_else(bad)?)
                .ok()
                .and_then(Priority::parse)
                .unwrap_or_default();
            continue;
        }
        jobs.push(job(queue, &tenant, priority, b, claimed_at, now, seq).ok_or_else(bad)?);
    }
    Ok(Claimed {
        paused: false,
        isolated: int(&raw[0]) == 2,
        next_due_ms: (next >= 0).then_some(next as u64),
        jobs,
    })
}
