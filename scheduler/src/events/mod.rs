//! The event-stream consumer: one per configured stream, several replicas
//! sharing a consumer group. Lifecycle of one [`Consumer::tick`]:
//!
//! 1. **Reclaim.** `XAUTOCLAIM` takes entries another consumer (or this one)
//!    left pending longer than `min_idle` — its process died mid-batch, or
//!    handling failed — and counts their deliveries. One delivered more than
//!    `max_deliveries` times is dead-lettered (raw fields + last error) and
//!    acknowledged, so a poison entry never blocks the ones behind it.
//! 2. **Read.** `XREADGROUP … BLOCK block_ms … >` takes new entries.
//! 3. **Handle** the read batch (up to `batch` entries) in stream order, in
//!    one transaction: parse each envelope, map the product's tenant id
//!    (`tenant_external_ids`), record the events
//!    (`jobs::kinds::events::batch`). `XACK` (one call for the batch) only
//!    after that commits: a crash before it re-delivers the entries, and
//!    recording them again changes nothing (the event row is unique per
//!    tenant and event id, or `<stream>:<entry id>`). A malformed entry or an
//!    unknown tenant is dead-lettered at once (it can never succeed). When
//!    the batch fails as a whole (a database error), its entries are handled
//!    again one at a time (`jobs::kinds::events::ingest`, a transaction
//!    each): the good ones are recorded, a failing one stays pending for
//!    step 1, where reclaimed entries are always handled one at a time.
//!
//! The last error of a pending entry is kept in the product's Redis under
//! `<stream>:tarefa-errors:<group>` (a hash, field = entry id), removed on ack:
//! the dead letter says why. Trimming the stream is the producer's business.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use futures::future::BoxFuture;
use jobs::config::StreamSettings;
use jobs::engine::conn::RedisConn;
use jobs::kinds::events::sql;
use redis::streams::{StreamAutoClaimOptions, StreamId, StreamReadOptions, StreamReadReply};
use redis::AsyncCommands;
use sqlx::PgPool;
use uuid::Uuid;

mod ingest;
pub use ingest::Ingest;

/// Why handling one entry failed.
#[derive(Debug, thiserror::Error)]
pub enum HandleError {
    /// Can never succeed: dead-letter now.
    #[error("{reason}")]
    Permanent {
        reason: String,
        tenant: Option<Uuid>,
    },
    /// Try again after `min_idle` (counts a delivery).
    #[error("{0}")]
    Retryable(String),
}

/// One stream entry: its id and fields (sorted by name).
pub type Entry = (String, Vec<(String, String)>);

/// What a consumer does with entries; [`Ingest`] in production, wrapped in tests.
pub trait EntryHandler: Send + Sync + 'static {
    /// One entry, alone (re-deliveries, and a failed batch's entries).
    fn handle(
        &self,
        stream: &str,
        entry_id: &str,
        fields: &[(String, String)],
    ) -> BoxFuture<'_, Result<(), HandleError>>;

    /// A read batch, all or nothing: one result per entry (`Ok` or
    /// `Permanent`), or `Err` when the batch as a whole failed and nothing of
    /// it was recorded — the consumer then handles its entries one by one.
    /// The default handles them one by one.
    fn handle_batch<'a>(
        &'a self,
        stream: &'a str,
        entries: &'a [Entry],
    ) -> BoxFuture<'a, Result<Vec<Result<(), HandleError>>, HandleError>> {
        Box::pin(async move {
            let mut out = Vec::with_capacity(entries.len());
            for (id, fields) in entries {
                out.push(self.handle(stream, id, fields).await);
            }
            Ok(out)
        })
    }
}

/// What one tick did, for logs and tests.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StreamOutcome {
    /// Entries handled and acknowledged.
    pub acked: usize,
    /// Entries dead-lettered (and acknowledged).
    pub dead: usize,
    /// Entries that failed and stay pending.
    pub failed: usize,
    /// Entries taken back from idle consumers.
    pub reclaimed: usize,
}

/// Where the group stands (the lag gauges).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Lag {
    /// Entries not yet delivered to the group (XINFO GROUPS `lag`).
    pub undelivered: u64,
    /// Delivered, not acknowledged.
    pub pending: u64,
    /// Age of the oldest pending entry (by its id's time), seconds.
    pub oldest_pending_secs: f64,
}

#[derive(Debug, thiserror::Error)]
pub enum StreamError {
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
    #[error("postgres: {0}")]
    Postgres(#[from] sqlx::Error),
    /// Connecting: a bad URL or no server (any topology, see `engine::conn`).
    #[error("{0}")]
    Connect(#[from] jobs::engine::EngineError),
}

/// One stream's consumer (one per replica and stream).
pub struct Consumer {
    pub settings: StreamSettings,
    /// This replica's name in the group.
    pub name: String,
    conn: RedisConn,
    pool: PgPool,
    handler: Arc<dyn EntryHandler>,
}

fn fields_of(id: &StreamId) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = id
        .map
        .iter()
        .map(|(k, v)| {
            (
                k.clone(),
                redis::from_redis_value_ref::<String>(v).unwrap_or_default(),
            )
        })
        .collect();
    out.sort();
    out
}

impl Consumer {
    /// Connects to the stream's Redis (`redis_url`, else `default_url`) and
    /// creates the group when missing.
    pub async fn connect(
        settings: StreamSettings,
        default_url: &str,
        name: String,
        pool: PgPool,
        handler: Arc<dyn EntryHandler>,
    ) -> Result<Consumer, StreamError> {
        let url = if settings.redis_url.is_empty() {
            default_url
        } else {
            &settings.redis_url
        };
        // One server, a cluster or a Sentinel-named master (engine::conn); its
        // response timeout is longer than the BLOCK, or every idle read would time out.
        let mut conn = jobs::engine::conn::dedicated(
            url,
            Duration::from_millis(settings.block_ms) + Duration::from_secs(5),
        )
        .await?;
        let created: redis::RedisResult<()> = conn
            .xgroup_create_mkstream(&settings.key, &settings.group, &settings.start_id)
            .await;
        match created {
            Err(e) if e.code() == Some("BUSYGROUP") => {}
            other => other?,
        }
        Ok(Consumer {
            settings,
            name,
            conn,
            pool,
            handler,
        })
    }

    fn errors_key(&self) -> String {
        format!(
            "{}:tarefa-errors:{}",
            self.settings.key, self.settings.group
        )
    }

    /// One round (see the module doc).
    pub async fn tick(&mut self) -> Result<StreamOutcome, StreamError> {
        let mut out = StreamOutcome::default();
        let s = self.settings.clone();
        // 1. Reclaim entries idle too long, whoever holds them.
        let claimed: redis::streams::StreamAutoClaimReply = self
            .conn
            .xautoclaim_options(
                &s.key,
                &s.group,
                &self.name,
                s.min_idle_ms,
                "0-0",
                StreamAutoClaimOptions::default().count(s.batch),
            )
            .await?;
        out.reclaimed = claimed.claimed.len();
        for entry in &claimed.claimed {
            let pending: redis::streams::StreamPendingCountReply = self
                .conn
                .xpending_count(&s.key, &s.group, &entry.id, &entry.id, 1)
                .await?;
            let deliveries = pending.ids.first().map_or(1, |p| p.times_delivered);
            if deliveries > s.max_deliveries as usize {
                let last: Option<String> = self.conn.hget(self.errors_key(), &entry.id).await?;
                let reason = format!(
                    "delivered {} times without success; last error: {}",
                    deliveries - 1,
                    last.as_deref()
                        .unwrap_or("none recorded (the consumer died)")
                );
                self.dead_letter(entry, None, &reason, deliveries as i32 - 1, &mut out)
                    .await?;
            } else {
                self.handle(entry, deliveries as i32, &mut out).await?;
            }
        }
        // 2. New entries; block only when there was nothing to reclaim.
        let block = if claimed.claimed.is_empty() {
            s.block_ms as usize
        } else {
            1
        };
        let opts = StreamReadOptions::default()
            .group(&s.group, &self.name)
            .count(s.batch)
            .block(block);
        let read: Option<StreamReadReply> =
            self.conn.xread_options(&[&s.key], &[">"], &opts).await?;
        for key in read.map(|r| r.keys).unwrap_or_default() {
            self.handle_batch(&key.ids, &mut out).await?;
        }
        Ok(out)
    }

    /// New entries: one batch (one transaction); acknowledged together
    /// after it commits. A batch that fails as a whole is handled again one
    /// entry at a time, so a poison entry fails alone (and is reclaimed,
    /// then dead-lettered after `max_deliveries`).
    async fn handle_batch(
        &mut self,
        entries: &[StreamId],
        out: &mut StreamOutcome,
    ) -> Result<(), StreamError> {
        if entries.is_empty() {
            return Ok(());
        }
        let batch: Vec<Entry> = entries
            .iter()
            .map(|e| (e.id.clone(), fields_of(e)))
            .collect();
        let results = match self.handler.handle_batch(&self.settings.key, &batch).await {
            Ok(r) if r.len() == entries.len() => r,
            Ok(_) | Err(_) => {
                tracing::warn!(stream = %self.settings.key, entries = entries.len(),
                    "batch failed; handling its entries one by one");
                for entry in entries {
                    self.handle(entry, 1, out).await?;
                }
                return Ok(());
            }
        };
        let mut acks = Vec::new();
        for (entry, r) in entries.iter().zip(results) {
            match r {
                Ok(()) => acks.push(entry.id.clone()),
                Err(HandleError::Permanent { reason, tenant }) => {
                    self.dead_letter(entry, tenant, &reason, 1, out).await?;
                }
                Err(HandleError::Retryable(why)) => {
                    let _: () = self.conn.hset(self.errors_key(), &entry.id, &why).await?;
                    out.failed += 1;
                }
            }
        }
        self.ack_all(&acks).await?;
        out.acked += acks.len();
        Ok(())
    }

    async fn handle(
        &mut self,
        entry: &StreamId,
        deliveries: i32,
        out: &mut StreamOutcome,
    ) -> Result<(), StreamError> {
        let fields = fields_of(entry);
        match self
            .handler
            .handle(&self.settings.key, &entry.id, &fields)
            .await
        {
            Ok(()) => {
                self.ack(&entry.id).await?;
                out.acked += 1;
            }
            Err(HandleError::Permanent { reason, tenant }) => {
                self.dead_letter(entry, tenant, &reason, deliveries, out)
                    .await?;
            }
            Err(HandleError::Retryable(why)) => {
                tracing::warn!(stream = %self.settings.key, entry_id = %entry.id, deliveries, error = %why,
                    "entry failed; it stays pending and is reclaimed after min_idle_ms");
                let _: () = self.conn.hset(self.errors_key(), &entry.id, &why).await?;
                out.failed += 1;
            }
        }
        Ok(())
    }

    async fn dead_letter(
        &mut self,
        entry: &StreamId,
        tenant: Option<Uuid>,
        reason: &str,
        deliveries: i32,
        out: &mut StreamOutcome,
    ) -> Result<(), StreamError> {
        let fields: serde_json::Map<String, serde_json::Value> = fields_of(entry)
            .into_iter()
            .map(|(k, v)| (k, serde_json::Value::String(v)))
            .collect();
        // Recorded before the ack: if this fails the entry stays pending.
        sql::insert_dead_letter(
            &self.pool,
            &self.settings.key,
            &entry.id,
            tenant,
            &serde_json::Value::Object(fields),
            reason,
            deliveries.max(1),
        )
        .await?;
        tracing::warn!(stream = %self.settings.key, entry_id = %entry.id, reason, "entry dead-lettered");
        self.ack(&entry.id).await?;
        out.dead += 1;
        Ok(())
    }

    /// XACK (and forget the last errors of) these entries, one round trip.
    async fn ack_all(&mut self, ids: &[String]) -> Result<(), StreamError> {
        if ids.is_empty() {
            return Ok(());
        }
        let s = &self.settings;
        let mut pipe = redis::pipe();
        pipe.xack(&s.key, &s.group, ids)
            .ignore()
            .hdel(self.errors_key(), ids)
            .ignore();
        let _: () = pipe.query_async(&mut self.conn).await?;
        Ok(())
    }

    async fn ack(&mut self, id: &str) -> Result<(), StreamError> {
        let s = &self.settings;
        let mut pipe = redis::pipe();
        pipe.xack(&s.key, &s.group, &[id])
            .ignore()
            .hdel(self.errors_key(), id)
            .ignore();
        let _: () = pipe.query_async(&mut self.conn).await?;
        Ok(())
    }

    /// The group's lag, pending count and oldest pending age.
    pub async fn lag(&mut self) -> Result<Lag, StreamError> {
        let s = &self.settings;
        let groups: redis::streams::StreamInfoGroupsReply = self.conn.xinfo_groups(&s.key).await?;
        let g = groups.groups.iter().find(|g| g.name == s.group);
        let pending: redis::streams::StreamPendingReply =
            self.conn.xpending(&s.key, &s.group).await?;
        let oldest_pending_secs = match &pending {
            redis::streams::StreamPendingReply::Data(d) => {
                let ms: i64 = d
                    .start_id
                    .split('-')
                    .next()
                    .and_then(|m| m.parse().ok())
                    .unwrap_or(0);
                ((Utc::now().timestamp_millis() - ms).max(0) as f64) / 1000.0
            }
            _ => 0.0,
        };
        Ok(Lag {
            undelivered: g.and_then(|g| g.lag).unwrap_or(0) as u64,
            pending: pending.count() as u64,
            oldest_pending_secs,
        })
    }

    /// Ticks until `shutdown`; errors are logged and retried after a pause.
    /// A tick in progress finishes first (its acks follow its commits).
    pub async fn run(mut self, shutdown: impl Future<Output = ()>) {
        tokio::pin!(shutdown);
        let mut last_lag = std::time::Instant::now() - LAG_EVERY;
        tracing::info!(stream = %self.settings.key, group = %self.settings.group, consumer = %self.name, "stream consumer started");
        loop {
            let round = tokio::select! {
                biased;
                _ = &mut shutdown => break,
                r = self.tick() => r,
            };
            match round {
                Ok(o) if o == StreamOutcome::default() => {}
                Ok(o) => {
                    tracing::info!(stream = %self.settings.key, acked = o.acked, dead = o.dead,
                    failed = o.failed, reclaimed = o.reclaimed, "stream round")
                }
                Err(e) => {
                    tracing::warn!(stream = %self.settings.key, error = %e, "stream round failed; retrying");
                    tokio::select! {
                        _ = &mut shutdown => break,
                        _ = tokio::time::sleep(RETRY_PAUSE) => {}
                    }
                }
            }
            if last_lag.elapsed() >= LAG_EVERY {
                last_lag = std::time::Instant::now();
                match self.lag().await {
                    Ok(l) => crate::exporter::set_lag(&self.settings.key, &self.settings.group, &l),
                    Err(e) => {
                        tracing::warn!(stream = %self.settings.key, error = %e, "lag unavailable")
                    }
                }
            }
        }
        tracing::info!(stream = %self.settings.key, "stream consumer stopped");
    }
}

/// Pause after a failed round (Redis or PostgreSQL away).
const RETRY_PAUSE: Duration = Duration::from_secs(1);
/// Lag gauges are refreshed this often.
pub const LAG_EVERY: Duration = Duration::from_secs(10);

/// This replica's consumer name: `$HOSTNAME-<pid>`, unique per process.
pub fn consumer_name() -> String {
    let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "scheduler".into());
    format!("{host}-{}", std::process::id())
}

/// Fields as the map tests and tools use.
pub fn field_map(fields: &[(String, String)]) -> HashMap<&str, &str> {
    fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect()
}
