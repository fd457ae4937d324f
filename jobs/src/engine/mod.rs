//! The queue engine: Tarefa's own Redis data model for apalis.
//!
//! A job's life: `push` (HSET + a ready-list entry carrying what a claim
//! needs, or the scheduled ZSET) → `claim` (one Lua call takes a batch
//! round-robin over tenants, highest priority first, and leases the batch)
//! → the apalis worker runs it → `ack` (batched Lua: succeeded | retry with
//! backoff | dead | released; the lease goes with the batch's last job).
//! Leases are renewed while jobs run; `rescue` re-queues the jobs of an
//! expired lease (a killed worker) that were still running as
//! suspects, each then run alone on an idle worker so a crash blames only the
//! job that caused it, and dead-letters the ones that keep crashing their worker.
//!
//! Layout: `keys` (every key name), `scripts/*.lua` (every multi-key move),
//! `push`, `claim` + `backend` (the apalis `Backend`), `ack` (the outcome
//! layer), `lease` (renew + rescue), `retry` (backoff, pure), `control`
//! (cancel, retry, delete, pause), `inspect` (job, counts, pages, workers),
//! `retention`, `ratelimit`, `trace` (W3C traceparent carried into jobs).

pub mod ack;
pub mod backend;
pub mod claim;
pub mod control;
pub mod inspect;
pub mod job;
pub mod keys;
pub mod lease;
pub mod push;
pub mod retry;
pub mod runner;
mod scripts;
pub mod stats;
pub mod trace;

pub use claim::Job;
pub use job::*;
pub use push::new_job_id;
pub use runner::run_queue;

use std::sync::Arc;
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use crate::config::{EngineSettings, Settings};

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

impl EngineConfig {
    pub fn from_settings(s: &Settings) -> EngineConfig {
        EngineConfig {
            redis_url: s.redis.url.clone(),
            prefix: s.redis.prefix.clone(),
            settings: s.engine.clone(),
        }
    }
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
        f.debug_struct("Engine")
            .field("prefix", &self.cfg.prefix)
            .finish()
    }
}

impl Engine {
    /// Connects with a reconnecting connection manager. Commands fail fast
    /// (5 s) while Redis is down and succeed again once it is back.
    pub async fn connect(cfg: EngineConfig) -> Result<Engine, EngineError> {
        let client = redis::Client::open(cfg.redis_url.as_str())?;
        let mcfg = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(2)))
            .set_response_timeout(Some(Duration::from_secs(5)))
            .set_number_of_retries(2)
            .set_max_delay(Duration::from_secs(2));
        let conn = ConnectionManager::new_with_config(client.clone(), mcfg).await?;
        Ok(Engine {
            conn,
            client,
            cfg: Arc::new(cfg),
        })
    }

    pub fn config(&self) -> &EngineConfig {
        &self.cfg
    }
}
