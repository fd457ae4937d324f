//! Workflows: batches (a set of jobs with progress counts and `on_complete` /
//! `on_success` callback jobs pushed exactly once when the last member ends)
//! and chains (`NewJob::after`: a job that runs when its parent succeeds).
//!
//! A batch lives in ONE queue: its members and callbacks are jobs of that
//! queue, so the batch's counters share the queue's hash tag and the script
//! that records a member's final outcome (ack, rescue, cancel) also counts it
//! and, when the count reaches zero on a sealed batch, pushes the callbacks
//! — one atomic step, exactly once whatever crashes (a member whose worker
//! dies is re-run or dead-lettered by the rescuer, which counts it then). On a
//! Redis Cluster this keeps every batch in its queue's slot; members spread
//! over several queues would need a relay (an outbox per slot), which this
//! design avoids by refusing them. Chains are same-queue for the same reason.
//!
//! Lifecycle: `open` → `add` (any number of times) → `seal` → `done`.
//! [`Engine::batch_push`] does all three. A batch opened but never sealed
//! (the pusher crashed) never completes; its members still run.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use redis::AsyncCommands;
use serde::{Deserialize, Serialize};

use super::job::{ms_to_time, NewJob, Pushed, DEFAULT_MAX_ATTEMPTS};
use super::keys::valid_token;
use super::push::new_job_id;
use super::{scripts, Engine, EngineError};

/// A batch to push in one call: its jobs (all on `queue`) and callbacks.
#[derive(Clone, Debug)]
pub struct BatchSpec {
    /// Chosen by the caller, or generated (a ULID).
    pub id: Option<String>,
    pub queue: String,
    pub tenant: String,
    pub jobs: Vec<NewJob>,
    /// Pushed once when every member is final (succeeded, dead or cancelled).
    pub on_complete: Option<NewJob>,
    /// Pushed once with `on_complete`, only when every member succeeded.
    pub on_success: Option<NewJob>,
}

/// Where a batch is: taking members, waiting for them, or finished.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum BatchState {
    /// Members may still be added.
    Open,
    /// No more members; waiting for the pending ones.
    Sealed,
    /// Every member is final; the callbacks were pushed.
    Done,
}

/// A batch's progress.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BatchInfo {
    pub id: String,
    pub queue: String,
    pub tenant: String,
    pub state: BatchState,
    pub total: u64,
    /// Members not final yet.
    pub pending: u64,
    pub succeeded: u64,
    pub dead: u64,
    pub cancelled: u64,
    /// Someone cancelled the batch (its waiting members were cancelled).
    pub cancel_requested: bool,
    /// Id of the `on_complete` job (it exists once the batch is done).
    pub on_complete: Option<String>,
    /// Id of the `on_success` job (pushed only if every member succeeded).
    pub on_success: Option<String>,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

impl BatchInfo {
    fn from_fields(id: &str, queue: &str, h: &HashMap<String, String>) -> Option<BatchInfo> {
        let num = |k: &str| h.get(k).and_then(|v| v.parse::<i64>().ok());
        let count = |k: &str| num(k).unwrap_or(0).max(0) as u64;
        Some(BatchInfo {
            id: id.to_string(),
            queue: queue.to_string(),
            tenant: h.get("tenant")?.clone(),
            state: match h.get("state")?.as_str() {
                "open" => BatchState::Open,
                "sealed" => BatchState::Sealed,
                _ => BatchState::Done,
            },
            total: count("total"),
            pending: count("pending"),
            succeeded: count("succeeded"),
            dead: count("dead"),
            cancelled: count("cancelled"),
            cancel_requested: h.get("cancel").is_some(),
            on_complete: h.get("oci").cloned(),
            on_success: h.get("osi").cloned(),
            created_at: ms_to_time(num("c").unwrap_or(0)),
            finished_at: num("f").map(ms_to_time),
        })
    }
}

/// What [`Engine::batch_push`] created.
#[derive(Clone, Debug)]
pub struct BatchPushed {
    pub id: String,
    /// One per job, in order (an idempotency-key duplicate is not a member).
    pub jobs: Vec<Pushed>,
    pub on_complete: Option<String>,
    pub on_success: Option<String>,
}

/// A callback job as the batch stores it (see common.lua `push_callback`):
/// its id, the hash fields it gets besides payload/created/status, and its
/// payload text (the batch's counts are spliced in as `batch`; an envelope for a
/// sealed kind, see cipher.rs).
fn callback_spec(
    queue: &str,
    job: &NewJob,
    what: &str,
    payload: String,
) -> Result<(String, String), EngineError> {
    let bad = |why: &str| EngineError::Invalid(format!("{what}: {why}"));
    if job.queue != queue {
        return Err(bad("a callback runs on its batch's queue"));
    }
    if !valid_token(&job.tenant) || job.kind.is_empty() || job.kind.contains('\0') {
        return Err(bad("tenant and kind must be plain tokens"));
    }
    if job.run_at.is_some() || job.after.is_some() || job.idempotency_key.is_some() {
        return Err(bad("no run_at, after or idempotency key"));
    }
    let Some(obj) = job.payload.as_object() else {
        return Err(bad("the payload must be a JSON object"));
    };
    if super::cipher::holds_sealed(&job.payload) {
        return Err(bad(
            "`$enc` in the payload is reserved for encrypted values",
        ));
    }
    if obj.contains_key("batch") {
        return Err(bad("`batch` in the payload is the engine's"));
    }
    let id = match &job.id {
        Some(id) if valid_token(id) => id.clone(),
        Some(_) => return Err(bad("id must match [A-Za-z0-9._-]{1,128}")),
        None => new_job_id(),
    };
    let mut fields = vec![
        "k".to_string(),
        job.kind.clone(),
        "t".into(),
        job.tenant.clone(),
    ];
    let mut opt = |k: &str, v: Option<String>| {
        if let Some(v) = v {
            fields.push(k.into());
            fields.push(v);
        }
    };
    opt(
        "pr",
        (job.priority != super::Priority::Normal).then(|| job.priority.as_str().into()),
    );
    opt(
        "ma",
        (job.max_attempts != DEFAULT_MAX_ATTEMPTS).then(|| job.max_attempts.max(1).to_string()),
    );
    opt("tp", job.trace.clone());
    opt("rk", job.rate_key.clone());
    opt("ck", job.concurrency_key.clone());
    let spec = serde_json::json!({
        "id": id,
        "fields": fields,
        "p": payload,
    });
    Ok((id, spec.to_string()))
}

impl Engine {
    /// [`callback_spec`] with the payload sealed when its kind is.
    async fn callback(
        &self,
        queue: &str,
        j: &NewJob,
        what: &str,
    ) -> Result<(String, String), EngineError> {
        if !self.seals(&j.kind) {
            let plain = serde_json::to_string(&j.payload).unwrap_or_else(|_| "{}".into());
            return callback_spec(queue, j, what, plain);
        }
        let id = match &j.id {
            Some(id) => id.clone(),
            None => new_job_id(),
        };
        let text = self
            .payload_text(&j.kind, &j.tenant, &id, &j.payload)
            .await?;
        let j = NewJob {
            id: Some(id),
            ..j.clone()
        };
        callback_spec(queue, &j, what, text)
    }

    async fn flows(&self, queue: &str, args: &[&str]) -> Result<redis::Value, EngineError> {
        let mut conn = self.conn.clone();
        let mut inv = scripts::on(&scripts::FLOWS, self.keys(queue).base());
        for a in args {
            inv.arg(*a);
        }
        Ok(inv.invoke_async(&mut conn).await?)
    }

    /// Opens a batch on `queue` for `tenant`; members are added with
    /// [`Engine::add_to_batch`] until [`Engine::seal_batch`]. Returns its id.
    pub async fn open_batch(
        &self,
        queue: &str,
        tenant: &str,
        id: Option<String>,
        on_complete: Option<&NewJob>,
        on_success: Option<&NewJob>,
    ) -> Result<(String, Option<String>, Option<String>), EngineError> {
        if !valid_token(queue) || !valid_token(tenant) {
            return Err(EngineError::Invalid(
                "queue and tenant must be plain tokens".into(),
            ));
        }
        let id = match id {
            Some(id) if valid_token(&id) => id,
            Some(id) => {
                return Err(EngineError::Invalid(format!(
                    "batch id {id:?} must match [A-Za-z0-9._-]{{1,128}}"
                )))
            }
            None => new_job_id(),
        };
        // A sealed callback kind's payload is sealed now, under the callback's id.
        let oc = match on_complete {
            Some(j) => Some(self.callback(queue, j, "on_complete").await?),
            None => None,
        };
        let os = match on_success {
            Some(j) => Some(self.callback(queue, j, "on_success").await?),
            None => None,
        };
        let spec =
            |c: &Option<(String, String)>| c.as_ref().map(|c| c.1.clone()).unwrap_or_default();
        let (ocs, oss) = (spec(&oc), spec(&os));
        let r = self
            .flows(queue, &["open", &id, tenant, &ocs, &oss])
            .await?;
        if redis::from_redis_value_ref::<String>(&r).ok().as_deref() != Some("ok") {
            return Err(EngineError::Invalid(format!("batch {id} already exists")));
        }
        Ok((id, oc.map(|c| c.0), os.map(|c| c.0)))
    }

    /// Pushes jobs (all on `queue`) into open batch `id`; atomic per 1,000 jobs.
    pub async fn add_to_batch(
        &self,
        queue: &str,
        id: &str,
        jobs: Vec<NewJob>,
    ) -> Result<Vec<Pushed>, EngineError> {
        if let Some(j) = jobs.iter().find(|j| j.queue != queue) {
            return Err(EngineError::Invalid(format!(
                "batch members share the batch's queue {queue:?}; got {:?}",
                j.queue
            )));
        }
        self.push_into(jobs, Some(id)).await
    }

    /// No more members: the batch completes when its pending members end
    /// (at once when none is pending).
    pub async fn seal_batch(&self, queue: &str, id: &str) -> Result<(), EngineError> {
        let r = self.flows(queue, &["seal", id]).await?;
        match redis::from_redis_value_ref::<String>(&r).ok().as_deref() {
            Some("ok") => Ok(()),
            Some("not_found") => Err(EngineError::Invalid(format!("no batch {id}"))),
            _ => Err(EngineError::Invalid(format!("batch {id} is not open"))),
        }
    }

    /// Open, add every job, seal: one call for a batch known up front.
    pub async fn batch_push(&self, spec: BatchSpec) -> Result<BatchPushed, EngineError> {
        let (id, on_complete, on_success) = self
            .open_batch(
                &spec.queue,
                &spec.tenant,
                spec.id,
                spec.on_complete.as_ref(),
                spec.on_success.as_ref(),
            )
            .await?;
        let jobs = self.add_to_batch(&spec.queue, &id, spec.jobs).await?;
        self.seal_batch(&spec.queue, &id).await?;
        Ok(BatchPushed {
            id,
            jobs,
            on_complete,
            on_success,
        })
    }

    /// Cancels a batch: seals it and cancels its members that have not
    /// started (running ones finish). `None` when there is no such batch;
    /// else how many members were cancelled.
    pub async fn cancel_batch(&self, queue: &str, id: &str) -> Result<Option<u64>, EngineError> {
        if !valid_token(id) {
            return Ok(None);
        }
        let r = self.flows(queue, &["cancel", id]).await?;
        let n: i64 = redis::from_redis_value_ref(&r).unwrap_or(-1);
        Ok((n >= 0).then_some(n as u64))
    }

    /// A batch's progress.
    pub async fn batch(&self, queue: &str, id: &str) -> Result<Option<BatchInfo>, EngineError> {
        if !valid_token(id) {
            return Ok(None);
        }
        let mut conn = self.conn.clone();
        let h: HashMap<String, String> = conn.hgetall(self.keys(queue).batch(id)).await?;
        Ok(BatchInfo::from_fields(id, queue, &h))
    }

    /// A batch by id in one of `queues` (one pipelined round trip).
    pub async fn find_batch(
        &self,
        queues: &[String],
        id: &str,
    ) -> Result<Option<BatchInfo>, EngineError> {
        if !valid_token(id) || queues.is_empty() {
            return Ok(None);
        }
        let mut pipe = redis::pipe();
        for q in queues {
            pipe.hgetall(self.keys(q).batch(id));
        }
        let mut conn = self.conn.clone();
        let all: Vec<HashMap<String, String>> = pipe.query_async(&mut conn).await?;
        Ok(queues
            .iter()
            .zip(all)
            .find_map(|(q, h)| BatchInfo::from_fields(id, q, &h)))
    }

    /// The newest `limit` batches of `queue`, newest first.
    pub async fn batches(&self, queue: &str, limit: usize) -> Result<Vec<BatchInfo>, EngineError> {
        let keys = self.keys(queue);
        let mut conn = self.conn.clone();
        let ids: Vec<String> = conn
            .zrevrange(keys.batches(), 0, limit.max(1) as isize - 1)
            .await?;
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut pipe = redis::pipe();
        for id in &ids {
            pipe.hgetall(keys.batch(id));
        }
        let all: Vec<HashMap<String, String>> = pipe.query_async(&mut conn).await?;
        Ok(ids
            .iter()
            .zip(all)
            .filter_map(|(id, h)| BatchInfo::from_fields(id, queue, &h))
            .collect())
    }

    /// Member ids of a batch, in the order they were added.
    pub async fn batch_members(&self, queue: &str, id: &str) -> Result<Vec<String>, EngineError> {
        let mut conn = self.conn.clone();
        Ok(conn
            .lrange(self.keys(queue).batch_members(id), 0, -1)
            .await?)
    }
}
