//! Enqueue: one job or many, in one Lua call per queue per 1,000 jobs.
//!
//! Consecutive jobs that share kind, tenant, priority, max_attempts, run_at,
//! rate key, trace and idempotency TTL form a group whose shared fields are
//! sent once; each job adds its id and payload (and idempotency key). The
//! script answers only for jobs that created nothing (duplicates); the others'
//! answers follow from Redis' clock, which it returns.

use std::collections::BTreeMap;

use super::job::{ms_to_time, JobStatus, NewJob, Priority, Pushed, DEFAULT_MAX_ATTEMPTS};
use super::keys::{valid_key, valid_token, QueueKeys};
use super::{scripts, Engine, EngineError};

/// Most jobs sent in one script call (one round trip).
pub const PUSH_CHUNK: usize = 1_000;

/// A new job id: a ULID, strictly increasing within this process (so ids
/// sort by enqueue order, which the `queued` listing relies on).
pub fn new_job_id() -> String {
    static GEN: std::sync::Mutex<Option<ulid::Generator>> = std::sync::Mutex::new(None);
    let mut g = GEN.lock().expect("ulid generator lock");
    let gen = g.get_or_insert_with(ulid::Generator::new);
    gen.generate()
        .unwrap_or_else(|_| ulid::Ulid::new())
        .to_string()
}

fn check(job: &NewJob) -> Result<(), EngineError> {
    if !valid_token(&job.queue) || !valid_token(&job.tenant) || job.kind.is_empty() {
        return Err(EngineError::Invalid(
            "queue, tenant and kind must be plain tokens [A-Za-z0-9._-]".into(),
        ));
    }
    if let Some(id) = &job.id {
        if !valid_token(id) {
            return Err(EngineError::Invalid(format!(
                "job id {id:?} must match [A-Za-z0-9._-]{{1,128}}"
            )));
        }
    }
    if let Some(k) = &job.idempotency_key {
        if k.is_empty() || k.len() > 200 {
            return Err(EngineError::Invalid(
                "idempotency key must be 1-200 bytes".into(),
            ));
        }
    }
    // Envelopes are the engine's (cipher.rs): a caller may not forge one.
    if super::cipher::holds_sealed(&job.payload) {
        return Err(EngineError::Invalid(format!(
            "`{}` in a payload (or its parent_result) is reserved for encrypted values",
            super::cipher::SEALED
        )));
    }
    // Ready-list entries separate their fields with NUL (scripts/common.lua).
    let texts = [Some(&job.kind), job.rate_key.as_ref(), job.trace.as_ref()];
    if texts
        .into_iter()
        .flatten()
        .any(|t| t.contains('\0') || t.len() > 256)
    {
        return Err(EngineError::Invalid(
            "kind, rate key and traceparent must be at most 256 bytes without NUL".into(),
        ));
    }
    if let Some(ck) = &job.concurrency_key {
        if !valid_key(ck) {
            return Err(EngineError::Invalid(
                "concurrency key must be 1-200 bytes of [A-Za-z0-9._:-]".into(),
            ));
        }
    }
    if let Some(after) = &job.after {
        if !valid_token(after) {
            return Err(EngineError::Invalid(format!(
                "after: job id {after:?} must match [A-Za-z0-9._-]{{1,128}}"
            )));
        }
        if job.run_at.is_some() {
            return Err(EngineError::Invalid(
                "a job with `after` runs when its parent succeeds: no run_at".into(),
            ));
        }
    }
    if job.max_attempts == 0 {
        return Err(EngineError::Invalid(
            "max_attempts must be at least 1".into(),
        ));
    }
    Ok(())
}

impl Engine {
    /// Enqueue one job.
    pub async fn push(&self, job: NewJob) -> Result<Pushed, EngineError> {
        let mut out = self.push_bulk(vec![job]).await?;
        Ok(out.pop().expect("one result per job"))
    }

    /// Enqueue many jobs; one round trip per queue per 1,000 jobs, atomic per
    /// round trip. Results keep the input order.
    pub async fn push_bulk(&self, jobs: Vec<NewJob>) -> Result<Vec<Pushed>, EngineError> {
        self.push_full(jobs, None, None).await
    }

    /// [`push_bulk`](Self::push_bulk) with a cap on each tenant's ready jobs
    /// per queue (every priority; scheduled and retrying jobs do not count):
    /// a round trip that would take a tenant past `max_waiting` creates
    /// nothing and fails with [`EngineError::WaitingLimit`]. Checked in the
    /// push script, so replicas racing for the last slots cannot overshoot.
    pub async fn push_bulk_capped(
        &self,
        jobs: Vec<NewJob>,
        max_waiting: Option<u64>,
    ) -> Result<Vec<Pushed>, EngineError> {
        self.push_full(jobs, max_waiting, None).await
    }

    /// [`Engine::push_bulk`], every created job joining open batch `batch`
    /// (whose queue every job must name; see flows.rs).
    pub(crate) async fn push_into(
        &self,
        jobs: Vec<NewJob>,
        batch: Option<&str>,
    ) -> Result<Vec<Pushed>, EngineError> {
        self.push_full(jobs, None, batch).await
    }

    async fn push_full(
        &self,
        jobs: Vec<NewJob>,
        max_waiting: Option<u64>,
        batch: Option<&str>,
    ) -> Result<Vec<Pushed>, EngineError> {
        for j in &jobs {
            check(j)?;
        }
        let total = jobs.len();
        // Chained jobs: the script decides their status (waiting, ready with
        // the parent's result, or cancelled); it is read back below.
        let chained: Vec<(usize, String)> = jobs
            .iter()
            .enumerate()
            .filter(|(_, j)| j.after.is_some())
            .map(|(i, j)| (i, j.queue.clone()))
            .collect();
        // Jobs pushed from a running handler continue its trace.
        let current_trace = super::trace::current();
        let mut results: Vec<Option<Pushed>> = vec![None; total];
        let mut conn = self.conn.clone();
        // Most bulk pushes name one queue: group by queue only when they do not.
        let single = jobs.windows(2).all(|w| w[0].queue == w[1].queue);
        let by_queue: Vec<(String, Vec<(usize, NewJob)>)> = if single {
            match jobs.first() {
                Some(j) => vec![(j.queue.clone(), jobs.into_iter().enumerate().collect())],
                None => Vec::new(),
            }
        } else {
            let mut m: BTreeMap<String, Vec<(usize, NewJob)>> = BTreeMap::new();
            for (i, j) in jobs.into_iter().enumerate() {
                m.entry(j.queue.clone()).or_default().push((i, j));
            }
            m.into_iter().collect()
        };
        let mut payload = Vec::with_capacity(64);
        for (queue, jobs) in by_queue {
            let keys = QueueKeys::new(&self.cfg.prefix, &queue);
            for chunk in jobs.chunks(PUSH_CHUNK) {
                let ids: Vec<String> = chunk
                    .iter()
                    .map(|(_, j)| j.id.clone().unwrap_or_else(new_job_id))
                    .collect();
                // Sealed kinds' payloads (see cipher.rs), encrypted before the script call.
                let sealed = if chunk.iter().any(|(_, j)| self.seals(&j.kind)) {
                    let mut v = Vec::with_capacity(chunk.len());
                    for ((_, j), id) in chunk.iter().zip(&ids) {
                        v.push(
                            self.payload_text(&j.kind, &j.tenant, id, &j.payload)
                                .await?,
                        );
                    }
                    Some(v)
                } else {
                    None
                };
                let groups = group(chunk, current_trace.as_deref());
                let mut inv = scripts::on(&scripts::PUSH, keys.base());
                inv.arg(chunk.len())
                    .arg(self.cfg.settings.idempotency_ttl_secs * 1000)
                    .arg(groups.len())
                    .arg(batch.unwrap_or(""));
                let mut at = 0;
                for g in &groups {
                    let h = &g.head;
                    inv.arg(g.len)
                        .arg(h.kind)
                        .arg(h.tenant)
                        .arg(h.priority.as_str())
                        .arg(if h.max_attempts == DEFAULT_MAX_ATTEMPTS {
                            String::new()
                        } else {
                            h.max_attempts.to_string()
                        })
                        .arg(h.run_at)
                        .arg(h.rate_key)
                        .arg(h.trace)
                        .arg(h.idempotency_ttl)
                        .arg(h.mode())
                        .arg(h.concurrency_key)
                        .arg(h.after);
                    let run = chunk[at..at + g.len].iter().zip(&ids[at..at + g.len]);
                    for (k, ((_, j), id)) in run.enumerate() {
                        if let Some(texts) = &sealed {
                            inv.arg(id.as_str()).arg(texts[at + k].as_str());
                        } else {
                            payload.clear();
                            // A serde_json::Value always serializes.
                            serde_json::to_writer(&mut payload, &j.payload).unwrap_or_default();
                            inv.arg(id.as_str()).arg(&payload[..]);
                        }
                        if let Some(k) = &j.idempotency_key {
                            inv.arg(k.as_str());
                        }
                    }
                    at += g.len;
                }
                if let Some(cap) = max_waiting.filter(|c| *c > 0) {
                    inv.arg(cap);
                }
                let raw: Vec<redis::Value> =
                    inv.invoke_async(&mut conn).await.map_err(script_refusal)?;
                let bad = || EngineError::Invalid("unexpected push script reply".into());
                let now: i64 = raw
                    .first()
                    .and_then(|v| redis::from_redis_value_ref(v).ok())
                    .ok_or_else(bad)?;
                if now == -1 {
                    let num = |i: usize| -> Result<u64, EngineError> {
                        raw.get(i)
                            .and_then(|v| redis::from_redis_value_ref(v).ok())
                            .ok_or_else(bad)
                    };
                    return Err(EngineError::WaitingLimit {
                        queue: queue.clone(),
                        tenant: raw
                            .get(1)
                            .and_then(|v| redis::from_redis_value_ref(v).ok())
                            .ok_or_else(bad)?,
                        waiting: num(2)?,
                        limit: num(3)?,
                    });
                }
                let mut dups = raw[1..].chunks_exact(4).peekable();
                for (pos, ((i, j), id)) in chunk.iter().zip(ids).enumerate() {
                    let dup = dups.next_if(|d| {
                        redis::from_redis_value_ref::<usize>(&d[0]).ok() == Some(pos + 1)
                    });
                    results[*i] = Some(match dup {
                        Some(d) => parse_existing(d)?,
                        None => {
                            let due = j.run_at.map(|t| t.timestamp_millis()).unwrap_or(0);
                            Pushed {
                                id,
                                created: true,
                                status: if due > now {
                                    JobStatus::Scheduled
                                } else {
                                    JobStatus::Queued
                                },
                                run_at: ms_to_time(due.max(now)),
                            }
                        }
                    });
                }
            }
            self.replicated(&mut conn, &queue, keys.base()).await?;
        }
        let mut results: Vec<Pushed> = results
            .into_iter()
            .map(|r| r.expect("every job answered"))
            .collect();
        if !chained.is_empty() {
            let mut pipe = redis::pipe();
            for (i, q) in &chained {
                pipe.hget(
                    QueueKeys::new(&self.cfg.prefix, q).job(&results[*i].id),
                    "s",
                );
            }
            let states: Vec<Option<String>> = pipe.query_async(&mut conn).await?;
            for ((i, _), s) in chained.iter().zip(states) {
                if let Some(st) = s.as_deref().and_then(JobStatus::parse) {
                    results[*i].status = st;
                }
            }
        }
        Ok(results)
    }
}

/// What the jobs of one push group share (sent once per group, see push.lua).
#[derive(PartialEq)]
struct Head<'a> {
    kind: &'a str,
    tenant: &'a str,
    priority: Priority,
    max_attempts: u32,
    run_at: i64,
    rate_key: &'a str,
    trace: &'a str,
    idempotency_ttl: u64,
    caller_ids: bool,
    keyed: bool,
    concurrency_key: &'a str,
    after: &'a str,
}

impl Head<'_> {
    fn mode(&self) -> u8 {
        u8::from(self.caller_ids) | (u8::from(self.keyed) << 1)
    }
}

/// A run of consecutive jobs with the same head.
struct Group<'a> {
    head: Head<'a>,
    len: usize,
}

/// Splits a chunk into runs of consecutive jobs that share their head, so a
/// batch of alike jobs sends kind, tenant, priority, … once.
fn group<'a>(chunk: &'a [(usize, NewJob)], current_trace: Option<&'a str>) -> Vec<Group<'a>> {
    let mut groups: Vec<Group<'a>> = Vec::new();
    for (_, j) in chunk {
        let head = Head {
            kind: &j.kind,
            tenant: &j.tenant,
            priority: j.priority,
            max_attempts: j.max_attempts,
            run_at: j.run_at.map(|t| t.timestamp_millis()).unwrap_or(0),
            rate_key: j.rate_key.as_deref().unwrap_or(""),
            trace: j.trace.as_deref().or(current_trace).unwrap_or(""),
            idempotency_ttl: j.idempotency_ttl.map(|d| d.as_millis() as u64).unwrap_or(0),
            caller_ids: j.id.is_some(),
            keyed: j.idempotency_key.is_some(),
            concurrency_key: j.concurrency_key.as_deref().unwrap_or(""),
            after: j.after.as_deref().unwrap_or(""),
        };
        match groups.last_mut() {
            Some(g) if g.head == head => g.len += 1,
            _ => groups.push(Group { head, len: 1 }),
        }
    }
    groups
}

/// The push script's refusals (`batch_not_open`, `parent_not_found <id>`)
/// become [`EngineError::Invalid`]; anything else stays a Redis error.
fn script_refusal(e: redis::RedisError) -> EngineError {
    let text = e.to_string();
    for (word, say) in [
        (
            "batch_not_open",
            "the batch is not open (sealed, done or missing)",
        ),
        (
            "parent_not_found",
            "after: no such parent job in this queue",
        ),
    ] {
        if text.contains(word) {
            return EngineError::Invalid(format!("{say} ({text})"));
        }
    }
    EngineError::Redis(e)
}

/// A duplicate's answer: `position, id, status, run_at ms` (see push.lua).
fn parse_existing(v: &[redis::Value]) -> Result<Pushed, EngineError> {
    let bad = || EngineError::Invalid("unexpected push script reply".into());
    let id: String = redis::from_redis_value_ref(&v[1]).map_err(|_| bad())?;
    let status: String = redis::from_redis_value_ref(&v[2]).map_err(|_| bad())?;
    let run_at: i64 = redis::from_redis_value_ref(&v[3]).map_err(|_| bad())?;
    Ok(Pushed {
        id,
        created: false,
        status: JobStatus::parse(&status).unwrap_or(JobStatus::Succeeded),
        run_at: ms_to_time(run_at),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_that_go_into_a_ready_list_entry_may_not_hold_nul() {
        let ok = NewJob::new("q", "k.ind", "t", serde_json::json!({ "a": "\u{0}" }));
        assert!(check(&ok).is_ok(), "a payload is JSON text: NUL is escaped");
        let mut bad = ok.clone();
        bad.kind = "k\0x".into();
        assert!(check(&bad).is_err());
        let mut bad = ok.clone();
        bad.rate_key = Some("whatsapp:\0".into());
        assert!(check(&bad).is_err());
        let mut bad = ok.clone();
        bad.trace = Some("x".repeat(300));
        assert!(check(&bad).is_err());
        let mut fine = ok;
        fine.rate_key = Some("whatsapp:tenant-1".into());
        assert!(check(&fine).is_ok());
    }
}
