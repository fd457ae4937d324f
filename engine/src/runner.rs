//! Runs one queue in this process: an apalis `Worker` over a `RedisBackend`,
//! with a concurrency limit, the ack layer and a lease keeper.
//!
//! Shutdown (Sidekiq's quiet → stop): when `shutdown` resolves the worker
//! stops fetching, in-flight jobs get `engine.shutdown_grace_ms` to finish,
//! then whatever still runs is released back to its queue at once (attempt not
//! counted); claimed-but-unstarted jobs are released too, and every finished
//! job's outcome is written before `run_queue` returns.

use std::future::Future;
use std::sync::{Arc, Mutex};

use apalis_core::worker::builder::WorkerBuilder;
use tokio_util::sync::CancellationToken;
use tower::limit::ConcurrencyLimitLayer;

use super::ack::{Acker, Dispatch};
use super::backend::{RedisBackend, Shared};
use super::handler::Handler;
use super::keys::QueueKeys;
use super::stats::Stats;
use super::{lease, Engine, EngineError};

/// A unique id for one worker of one queue in this process.
pub fn worker_id(queue: &str) -> String {
    let host = std::fs::read_to_string("/etc/hostname")
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "host".into());
    let host: String = host
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect();
    format!(
        "{host}-{}-{queue}-{}",
        std::process::id(),
        ulid::Ulid::new()
    )
}

/// Serves `queue` until `shutdown` resolves, then drains as described above.
pub async fn run_queue(
    engine: Engine,
    queue: &str,
    concurrency: usize,
    handler: Arc<dyn Handler>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), EngineError> {
    let concurrency = concurrency.max(1);
    let id = worker_id(queue);
    let grace = engine.cfg.settings.shutdown_grace();
    let worker_alias = engine.register_worker_alias(queue, &id).await?;
    let shared = Arc::new_cyclic(|weak| Shared {
        keys: QueueKeys::new(&engine.cfg.prefix, queue),
        queue: queue.to_string(),
        worker_id: id.clone(),
        worker_alias,
        handler,
        held: Mutex::new(Default::default()),
        claims: Mutex::new(Default::default()),
        drained: tokio::sync::Notify::new(),
        consumed: tokio::sync::Notify::new(),
        waited_long: Default::default(),
        stats: Stats::default(),
        acker: Acker::start(weak.clone()),
        grace_over: CancellationToken::new(),
        closing: CancellationToken::new(),
        engine: engine.clone(),
    });
    // Announce ourselves before the first job so ops see the worker at once.
    if let Err(e) = lease::renew_once(&shared).await {
        tracing::warn!(queue, error = %e, "first heartbeat failed; will keep trying");
    }
    let keeper = tokio::spawn(lease::run(shared.clone()));
    // Listen for cancels before the first claim, so none of this worker's
    // jobs misses one (bounded: without Redis the renewal covers cancels).
    let (subscribed, ready) = tokio::sync::oneshot::channel();
    let cancels = tokio::spawn(lease::listen_cancels(shared.clone(), subscribed));
    let _ = tokio::time::timeout(std::time::Duration::from_secs(2), ready).await;
    tracing::info!(queue, worker_id = %id, concurrency, "worker started");

    let grace_over = shared.grace_over.clone();
    let signal = async move {
        shutdown.await;
        tokio::spawn(async move {
            tokio::time::sleep(grace).await;
            grace_over.cancel();
        });
        Ok::<(), std::io::Error>(())
    };
    let worker = WorkerBuilder::new(id.clone())
        .backend(RedisBackend::new(
            shared.clone(),
            concurrency,
            engine.cfg.settings.claim_batch as usize,
        ))
        .layer(ConcurrencyLimitLayer::new(concurrency))
        .build(Dispatch {
            shared: shared.clone(),
        });
    let result = worker.run_until(signal).await;
    shared.acker.flush().await;
    lease::flush_stats(&shared).await;
    keeper.abort();
    cancels.abort();
    tracing::info!(queue, worker_id = %id, "worker stopped");
    result.map_err(|e| EngineError::Invalid(format!("worker {id} failed: {e}")))
}
