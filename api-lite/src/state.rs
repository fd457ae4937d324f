//! `AppState`: what every handler may touch — the PostgreSQL pool, the queue
//! engine, the kind registry, the settings, the Prometheus handle and the API key cache. Cheap to
//! clone (handles and `Arc`s); no globals except the metrics recorder, which
//! the `metrics` crate makes process-wide by design.

use std::sync::{Arc, OnceLock};

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use sqlx::PgPool;

use jobs::engine::{Engine, EngineError};
use jobs::kinds::Registry;
use jobs::Settings;

use crate::key_cache::KeyCache;
use crate::status_batch::StatusBatcher;

#[derive(Clone)]
pub struct AppState {
    pub pool: PgPool,
    pub engine: Engine,
    pub registry: Arc<Registry>,
    pub settings: Arc<Settings>,
    /// Renders the api-side counters (`tarefa_jobs_enqueued_total`).
    pub metrics: PrometheusHandle,
    /// Validated API keys (`auth.key_cache_ttl_ms`), dropped when the Redis auth epoch moves.
    pub key_cache: Arc<KeyCache>,
    /// Group commit of WhatsApp status webhooks (`status_batch.rs`).
    pub statuses: Arc<StatusBatcher>,
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("postgres ({url}): {source}")]
    Postgres { url: String, source: sqlx::Error },
    #[error("redis ({url}): {source}")]
    Redis { url: String, source: EngineError },
    /// `TAREFA_MASTER_KEYS` is set but malformed.
    #[error("encryption at rest: {0}")]
    Crypt(String),
}

impl AppState {
    /// A state from its parts (tests build theirs this way). The handlers get
    /// a pool under row-level security to `pool`'s database (`jobs::store::scope`),
    /// whatever kind of pool `pool` is, so tests run the same checks as production.
    pub fn new(pool: PgPool, engine: Engine, settings: Settings) -> AppState {
        AppState {
            pool: jobs::store::scoped_like(&pool),
            engine,
            registry: Arc::new(registry()),
            key_cache: Arc::new(KeyCache::new(settings.auth.key_cache_ttl_ms)),
            statuses: Arc::new(StatusBatcher::default()),
            settings: Arc::new(settings),
            metrics: metrics_handle(),
        }
    }

    /// Connects to PostgreSQL and Redis as `settings` say; fails fast naming which one is down.
    pub async fn connect(settings: Settings) -> Result<AppState, StartError> {
        let pool = jobs::store::connect_system(&settings.database)
            .await
            .map_err(|source| StartError::Postgres {
                url: jobs::config::redact_url(&settings.database.url),
                source,
            })?;
        let engine = Engine::connect(settings.engine_config())
            .await
            .map_err(|source| StartError::Redis {
                url: jobs::config::redact_url(&settings.redis.url),
                source,
            })?;
        // Encryption at rest: personal-data kinds sealed under the tenants' data keys.
        let (engine, _) = jobs::crypt::attach(engine, &pool, &registry(), "api-lite")
            .map_err(StartError::Crypt)?;
        Ok(AppState::new(pool, engine, settings))
    }
}

/// The built-in kinds plus the forecasting crate's (kept out of `jobs`).
pub fn registry() -> Registry {
    let mut r = Registry::builtin();
    forecasting::kinds::register(&mut r);
    r
}

/// The process-wide Prometheus recorder's handle, installed on first use.
pub fn metrics_handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new().build_recorder();
            let handle = recorder.handle();
            if metrics::set_global_recorder(recorder).is_err() {
                tracing::warn!("another metrics recorder is installed; api-side counters will not show on /metrics");
            }
            handle
        })
        .clone()
}
