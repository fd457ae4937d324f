//! The queue engine: Tarefa's own Redis data model for apalis.
//!
//! A job's life: `push` (HSET + ready list, or the scheduled ZSET) → `claim`
//! (one Lua call takes a batch round-robin over tenants, highest priority first,
//! and leases each job) → the apalis worker runs it → `ack` (batched Lua:
//! succeeded | retry with backoff | dead | released). Leases are renewed while
//! jobs run; `rescue` re-queues jobs whose lease expired (a killed worker) and
//! dead-letters the ones that keep crashing their worker.
//!
//! Layout: `keys` (every key name), `scripts/*.lua` (every multi-key move),
//! `push`, `claim` + `backend` (the apalis `Backend`), `ack` (the outcome
//! layer), `lease` (renew + rescue), `retry` (backoff, pure), `control`
//! (cancel, retry, delete, pause), `inspect` (job, counts, pages, workers),
//! `retention`, `ratelimit`.

pub mod job;
pub mod keys;

pub use job::*;

use std::sync::Arc;
use std::time::Duration;

use redis::aio::ConnectionManager;

use crate::config::EngineSettings;

/// Engine errors: Redis trouble or a request the engine refuses.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
    #[error("invalid job: {0}")]
    Invalid(String),
}

/// Static engine configuration (from `[engine]` and `[redis]` settings).
#[derive(Clone, Debug)]
pub struct EngineConfig {
    pub redis_url: String,
    pub prefix: String,
    pub settings: EngineSettings,
}

/// A cheap, clonable handle on the engine: push, inspect and control jobs.
#[derive(Clone)]
pub struct Engine {
    pub(crate) conn: ConnectionManager,
    pub(crate) client: redis::Client,
    pub(crate) cfg: Arc<EngineConfig>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine").field("prefix", &self.cfg.prefix).finish()
    }
}

impl Engine {
    /// Connects (with reconnecting connection manager) and loads the scripts.
    pub async fn connect(cfg: EngineConfig) -> Result<Engine, EngineError> {
        todo!("{cfg:?}")
    }

    pub fn config(&self) -> &EngineConfig {
        &self.cfg
    }

    /// Enqueue one job.
    pub async fn push(&self, job: NewJob) -> Result<Pushed, EngineError> {
        todo!("{job:?}")
    }

    /// Enqueue many jobs; one Redis round trip per queue per 1,000 jobs. Results keep the input order.
    pub async fn push_bulk(&self, jobs: Vec<NewJob>) -> Result<Vec<Pushed>, EngineError> {
        todo!("{jobs:?}")
    }

    /// A job by id in one of `queues` (one pipelined round trip).
    pub async fn find(&self, queues: &[String], id: &str) -> Result<Option<JobInfo>, EngineError> {
        todo!("{queues:?} {id}")
    }

    /// A job by id in a known queue.
    pub async fn job(&self, queue: &str, id: &str) -> Result<Option<JobInfo>, EngineError> {
        todo!("{queue} {id}")
    }

    /// Jobs per state.
    pub async fn counts(&self, queue: &str) -> Result<QueueCounts, EngineError> {
        todo!("{queue}")
    }

    /// A page of jobs in one state, newest first; `tenant` filters (None = all tenants).
    pub async fn list(
        &self,
        queue: &str,
        status: JobStatus,
        tenant: Option<&str>,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<JobPage, EngineError> {
        todo!("{queue} {status:?} {tenant:?} {limit} {cursor:?}")
    }

    /// Cancel: a job that has not started becomes `cancelled`; a running one gets its token fired.
    pub async fn cancel(&self, queue: &str, id: &str) -> Result<CancelOutcome, EngineError> {
        todo!("{queue} {id}")
    }

    /// Dead (or cancelled) → queued again with a fresh attempt budget. `false` if it was not dead/cancelled.
    pub async fn retry(&self, queue: &str, id: &str) -> Result<bool, EngineError> {
        todo!("{queue} {id}")
    }

    /// Removes a job that is not running. `false` if missing or running.
    pub async fn delete(&self, queue: &str, id: &str) -> Result<bool, EngineError> {
        todo!("{queue} {id}")
    }

    /// Pause/resume fetching for every worker of `queue` (pushes are still accepted).
    pub async fn set_paused(&self, queue: &str, paused: bool) -> Result<(), EngineError> {
        todo!("{queue} {paused}")
    }

    /// A shared rate limit: `key` is `*` (the whole queue) or a job's `rate_key`
    /// (or its part before the first `:`, e.g. `whatsapp` for `whatsapp:<tenant>`).
    pub async fn set_rate_limit(&self, queue: &str, key: &str, count: u32, per: Duration) -> Result<(), EngineError> {
        todo!("{queue} {key} {count} {per:?}")
    }

    /// Workers that heartbeated recently, with the jobs they hold.
    pub async fn workers(&self, queue: &str) -> Result<Vec<WorkerInfo>, EngineError> {
        todo!("{queue}")
    }

    /// PING, for readiness checks.
    pub async fn ping(&self) -> Result<(), EngineError> {
        todo!()
    }
}

impl Engine {
    /// Records handler progress on a job (0-100 and a message).
    pub async fn set_progress(&self, queue: &str, id: &str, percent: u8, message: &str) -> Result<(), EngineError> {
        todo!("{queue} {id} {percent} {message}")
    }
}
