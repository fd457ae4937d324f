//! The worker process: one apalis worker per queue it serves (all queues of
//! the kind registry, or those named with `--queues`), each with its
//! configured concurrency, all stopping together on SIGTERM with the engine's
//! graceful drain (see `jobs::engine::runner`).

use std::future::Future;
use std::sync::Arc;

use anyhow::{bail, Context};
use jobs::engine::{run_queue, Engine};
use jobs::kinds::{KindHandler, Registry, Resources};
use jobs::Settings;
use tokio::sync::watch;

/// Which queues to serve: `only` (from `--queues`), else `worker.queues`, else all.
pub fn select_queues(
    registry: &Registry,
    settings: &Settings,
    only: &[String],
) -> anyhow::Result<Vec<String>> {
    let all = registry.queues();
    let wanted: Vec<String> = if !only.is_empty() {
        only.to_vec()
    } else {
        settings.worker.queues.clone()
    };
    if wanted.is_empty() {
        return Ok(all);
    }
    for q in &wanted {
        if !all.contains(q) {
            bail!("unknown queue {q:?}; known queues: {}", all.join(", "));
        }
    }
    Ok(wanted)
}

/// Runs the worker until `shutdown` resolves, then drains.
pub async fn run(
    settings: Settings,
    only: Vec<String>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    // The builtin kinds plus `reports.render` with its renderer (the reports crate), and the
    // forecasting kinds (augurs and typst stay out of `jobs`).
    let mut registry = reports::registry();
    forecasting::kinds::register(&mut registry);
    let registry = Arc::new(registry);
    let queues = select_queues(&registry, &settings, &only)?;
    let engine = Engine::connect(settings.engine_config())
        .await
        .with_context(|| format!("connecting to Redis at {}", settings.redis.url))?;
    // Shared per-tenant provider limits (WhatsApp, SMS) for the notifications queue.
    jobs::kinds::notify::configure(&engine, &settings)
        .await
        .context("notification rate limits")?;
    // Lazy: the diag kinds never touch PostgreSQL, and kinds that do fail
    // their jobs with a retryable error while it is down.
    let pool = jobs::store::connect_lazy(&settings.database).context("database.url")?;
    // Encryption at rest: personal-data kinds sealed under the tenants' data keys.
    let (engine, _keyring) =
        jobs::crypt::attach(engine, &pool, &registry, "worker").map_err(anyhow::Error::msg)?;
    let pg = Some(pool);
    let resources = Resources {
        engine: engine.clone(),
        pg,
        settings: Arc::new(settings.clone()),
    };
    let handler: Arc<dyn jobs::engine::Handler> = KindHandler::new(registry, resources);
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut tasks = tokio::task::JoinSet::new();
    for q in queues {
        let concurrency = settings.worker.concurrency_for(&q);
        let mut rx = stop_rx.clone();
        let (engine, handler) = (engine.clone(), handler.clone());
        tasks.spawn(async move {
            let stop = async move {
                let _ = rx.wait_for(|s| *s).await;
            };
            let r = run_queue(engine, &q, concurrency, handler, stop).await;
            (q, r)
        });
    }
    tokio::spawn(async move {
        shutdown.await;
        let _ = stop_tx.send(true);
    });
    let mut failed = false;
    while let Some(done) = tasks.join_next().await {
        match done {
            Ok((q, Err(e))) => {
                failed = true;
                tracing::error!(queue = %q, error = %e, "queue worker failed");
            }
            Ok((_, Ok(()))) => {}
            Err(e) => {
                failed = true;
                tracing::error!(error = %e, "queue worker panicked");
            }
        }
    }
    if failed {
        bail!("one or more queue workers failed");
    }
    Ok(())
}
