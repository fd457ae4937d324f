//! Enqueue: one job or many, in one Lua call per queue per 1,000 jobs.

use std::collections::BTreeMap;

use super::job::{ms_to_time, JobStatus, NewJob, Pushed};
use super::keys::{valid_token, QueueKeys};
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
        for j in &jobs {
            check(j)?;
        }
        let mut by_queue: BTreeMap<String, Vec<(usize, NewJob)>> = BTreeMap::new();
        for (i, j) in jobs.into_iter().enumerate() {
            by_queue.entry(j.queue.clone()).or_default().push((i, j));
        }
        let total = by_queue.values().map(Vec::len).sum();
        let mut results: Vec<Option<Pushed>> = vec![None; total];
        let default_ttl = (self.cfg.settings.idempotency_ttl_secs * 1000).to_string();
        let mut conn = self.conn.clone();
        for (queue, jobs) in by_queue {
            let keys = QueueKeys::new(&self.cfg.prefix, &queue);
            for chunk in jobs.chunks(PUSH_CHUNK) {
                let mut inv = scripts::PUSH.key(keys.base());
                inv.arg(chunk.len()).arg(&default_ttl);
                for (_, j) in chunk {
                    let (id, check_dup) = match &j.id {
                        Some(id) => (id.clone(), "1"),
                        None => (new_job_id(), "0"),
                    };
                    inv.arg(id)
                        .arg(&j.kind)
                        .arg(&j.tenant)
                        .arg(serde_json::to_string(&j.payload).unwrap_or_else(|_| "null".into()))
                        .arg(j.run_at.map(|t| t.timestamp_millis()).unwrap_or(0))
                        .arg(j.priority.as_str())
                        .arg(j.max_attempts)
                        .arg(j.idempotency_key.as_deref().unwrap_or(""))
                        .arg(j.idempotency_ttl.map(|d| d.as_millis() as u64).unwrap_or(0))
                        .arg(j.rate_key.as_deref().unwrap_or(""))
                        .arg(check_dup)
                        .arg(
                            j.trace
                                .clone()
                                .or_else(super::trace::current)
                                .unwrap_or_default(),
                        );
                }
                let raw: Vec<redis::Value> = inv.invoke_async(&mut conn).await?;
                for ((i, _), quad) in chunk.iter().zip(raw.chunks(4)) {
                    results[*i] = Some(parse_pushed(quad)?);
                }
            }
        }
        Ok(results
            .into_iter()
            .map(|r| r.expect("every job answered"))
            .collect())
    }
}

fn parse_pushed(v: &[redis::Value]) -> Result<Pushed, EngineError> {
    let bad = || EngineError::Invalid("unexpected push script reply".into());
    if v.len() != 4 {
        return Err(bad());
    }
    let id: String = redis::from_redis_value_ref(&v[0]).map_err(|_| bad())?;
    let created: i64 = redis::from_redis_value_ref(&v[1]).map_err(|_| bad())?;
    let status: String = redis::from_redis_value_ref(&v[2]).map_err(|_| bad())?;
    let run_at: i64 = redis::from_redis_value_ref(&v[3]).map_err(|_| bad())?;
    Ok(Pushed {
        id,
        created: created == 1,
        status: JobStatus::parse(&status).unwrap_or(JobStatus::Succeeded),
        run_at: ms_to_time(run_at),
    })
}
