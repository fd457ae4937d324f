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
//! A leaf crate: it knows no job kind, config file, channel or database. The
//! code that runs jobs reaches it through [`Handler`] (each kind's policy and
//! its run); the caller builds the [`EngineConfig`].
//!
//! Layout: `keys` (every key name), `scripts/*.lua` (every multi-key move,
//! GCRA rate limits and retention included), `job` (what callers push and
//! read), `push`, `claim` + `backend` (the apalis `Backend`), `ack` (the
//! outcome layer), `handler` (the trait job kinds implement), `runner`
//! (serves one queue), `lease` (renew + rescue), `retry` (backoff, pure),
//! `control` (cancel, retry, delete, pause), `inspect` (job, counts, pages,
//! workers), `limits` (intake limits: GCRA request rates, daily byte quotas), `stats` (per-minute
//! counters), `trace` (W3C traceparent carried into jobs), `concurrency` (global concurrency
//! limits held by leases), `flows` (batches with exactly-once callbacks, chains), `conn` (one
//! server, a Redis Cluster or a Sentinel-named master behind one connection type; the
//! `replicated` durability's WAIT), `servers` (feature `testing`: clusters and Sentinel sets
//! tests start on loopback ports), `cipher` (the hook that seals payloads and results of
//! personal-data kinds at rest).

pub mod ack;
pub mod backend;
pub mod cipher;
pub mod claim;
pub mod concurrency;
pub mod conn;
pub mod control;
pub mod flows;
pub mod handler;
pub mod inspect;
pub mod job;
pub mod keys;
pub mod lease;
pub mod limits;
pub mod push;
pub mod retry;
pub mod runner;
mod scripts;
#[cfg(feature = "testing")]
pub mod servers;
pub mod stats;
#[cfg(feature = "testing")]
pub mod testing;
pub mod trace;

pub use cipher::{CipherError, PayloadCipher};
pub use claim::ClaimedJob;
pub use concurrency::{ConcurrencyUse, SlotHolder};
pub use flows::{BatchInfo, BatchPushed, BatchSpec, BatchState};
pub use handler::{Delivery, Handler, JobError, KindPolicy};
pub use job::*;
pub use push::new_job_id;
pub use runner::run_queue;

use std::sync::Arc;
use std::time::Duration;

use conn::{Opener, RedisConn};
use serde::{Deserialize, Serialize};

/// Engine errors: Redis trouble or a request the engine refuses.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
    #[error("invalid job: {0}")]
    Invalid(String),
    /// A sealed kind's payload could not be encrypted (its tenant's key is unavailable).
    #[error("encryption: {0}")]
    Cipher(#[from] CipherError),
    /// `push_bulk_capped`: the tenant already has `waiting` ready jobs in `queue`.
    #[error("tenant {tenant} has {waiting} jobs waiting in queue {queue} (limit {limit})")]
    WaitingLimit {
        queue: String,
        tenant: String,
        waiting: u64,
        limit: u64,
    },
    /// `engine.durability = "replicated"`: no replica acknowledged the write in time.
    /// The write is on the master and may be lost if it fails now; retry with the
    /// same idempotency key.
    #[error(
        "not replicated: no replica acknowledged the write of queue {queue} within {waited_ms} ms"
    )]
    NotReplicated { queue: String, waited_ms: u64 },
}

/// What a push or an outcome waits for before it is acknowledged (`engine.durability`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Durability {
    /// The master has it (Redis' own asynchronous replication follows; a
    /// failover may lose the last writes the replica had not received).
    #[default]
    Async,
    /// At least one replica has it too (`WAIT 1 <engine.replica_wait_ms>`);
    /// a timeout is an error the caller sees.
    Replicated,
}

/// The engine's tunables (the `[engine]` table of Tarefa's config).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EngineSettings {
    pub lease_ttl_ms: u64,
    pub max_deliveries: u32,
    pub claim_batch: u32,
    pub retain_succeeded_secs: u64,
    pub retain_dead_secs: u64,
    pub idempotency_ttl_secs: u64,
    pub shutdown_grace_ms: u64,
    pub durability: Durability,
    /// `replicated`: longest a write waits for a replica's acknowledgement.
    pub replica_wait_ms: u64,
}

impl Default for EngineSettings {
    fn default() -> Self {
        Self {
            lease_ttl_ms: 30_000,
            max_deliveries: 3,
            claim_batch: 256,
            retain_succeeded_secs: 86_400,
            retain_dead_secs: 30 * 86_400,
            idempotency_ttl_secs: 86_400,
            shutdown_grace_ms: 20_000,
            durability: Durability::Async,
            replica_wait_ms: 1_000,
        }
    }
}

impl EngineSettings {
    pub fn lease_ttl(&self) -> Duration {
        Duration::from_millis(self.lease_ttl_ms)
    }
    pub fn shutdown_grace(&self) -> Duration {
        Duration::from_millis(self.shutdown_grace_ms)
    }
}

/// Everything the engine is configured with; the caller builds it (Tarefa
/// from its `[redis]` and `[engine]` settings).
#[derive(Clone, Debug)]
pub struct EngineConfig {
    pub redis_url: String,
    /// Every key the engine writes starts with this prefix.
    pub prefix: String,
    pub settings: EngineSettings,
}
/// A cheap, clonable handle on the engine: push, inspect and control jobs.
#[derive(Clone)]
pub struct Engine {
    pub(crate) conn: RedisConn,
    pub(crate) opener: Opener,
    pub(crate) cfg: Arc<EngineConfig>,
    /// Seals the payloads and results of the kinds it names (see cipher.rs); none = plaintext.
    pub(crate) cipher: Option<Arc<dyn PayloadCipher>>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("prefix", &self.cfg.prefix)
            .field("cipher", &self.cipher.is_some())
            .finish()
    }
}

impl Engine {
    /// Connects to one server, a cluster or a Sentinel-named master (see
    /// [`conn`]), reconnecting as needed. Commands fail fast (5 s) while
    /// Redis is down and succeed again once it (or its successor) is back.
    pub async fn connect(cfg: EngineConfig) -> Result<Engine, EngineError> {
        let (conn, opener) = Opener::connect(&cfg.redis_url).await?;
        Ok(Engine {
            conn,
            opener,
            cfg: Arc::new(cfg),
            cipher: None,
        })
    }

    /// The engine's shared connection (any topology; cross-slot pipelines work).
    pub fn redis(&self) -> RedisConn {
        self.conn.clone()
    }

    /// With `durability = "replicated"`: waits until a replica has every write
    /// made so far on `conn` to the master of `key`'s slot, or fails.
    pub(crate) async fn replicated(
        &self,
        conn: &mut RedisConn,
        queue: &str,
        key: &str,
    ) -> Result<(), EngineError> {
        let s = &self.cfg.settings;
        if s.durability != Durability::Replicated {
            return Ok(());
        }
        let timeout = Duration::from_millis(s.replica_wait_ms.max(1));
        if conn.wait_replicas(key, 1, timeout).await? < 1 {
            return Err(EngineError::NotReplicated {
                queue: queue.to_string(),
                waited_ms: s.replica_wait_ms,
            });
        }
        Ok(())
    }

    pub fn config(&self) -> &EngineConfig {
        &self.cfg
    }
}
