//! api-lite: Tarefa's HTTP intake. Frontends and backends post jobs, read
//! their status, cancel and retry them; ops steer queues and scrape metrics.
//!
//! Layout:
//! - [`routes`]: one router per resource, merged with the shared layers in
//!   `routes/mod.rs`: jobs and queues (`jobs`, `batch`, `queues`, `schedules`),
//!   operations (`health`, `metrics`, `audit`), notifications
//!   (`notifications`, `notification_settings`, `notification_templates`,
//!   `callbacks` for provider status webhooks), `keys` (a tenant's API keys), academic records and alerts
//!   (`academic`, `alert_rules`, `alerts`), `documents`, and `events`
//!   (`POST /v1/events`, planned reminders, dead letters) with `event_rules`
//!   (reminder rules, labels, webhook subscriptions).
//! - [`auth`]: the `Tenant` extractor (API keys and product-issued JWTs) and scopes;
//!   [`key_cache`]: validated keys in memory, dropped on the Redis auth epoch.
//! - [`limits`]: per-tenant request rates, waiting jobs and upload bytes (Redis).
//! - [`enqueue`]: request → `NewJob` (kind lookup, payload validation, options).
//! - [`extract`]: `AppJson`/`AppQuery`, so bad input gets our error shape.
//! - [`error`]: `ApiError` → `{error, message, details}`.
//! - [`state`]: `AppState` (pool, engine, registry, settings, metrics handle).
//! - [`openapi`]: the OpenAPI 3.1 document and Swagger UI.
//! - [`prom`]: Prometheus text for the engine's numbers.
//! - [`keys`]: API key format and hashing; [`cli`]: the admin commands.
//! - [`console`]: the ops console at `/console` (login, queues, jobs, schedules,
//!   tenants, the notification outbox, documents and academic alerts, live numbers).
//! - [`audit`]: the audit trail of ops actions (`GET /v1/audit` is `routes/audit.rs`).
//! - [`traceparent`]: the request's W3C trace context, stored on the jobs it enqueues.

pub mod audit;
pub mod auth;
pub mod cli;
pub mod console;
pub mod db_scope;
pub mod enqueue;
pub mod error;
pub mod extract;
pub mod key_cache;
pub mod keys;
pub mod limits;
pub mod openapi;
pub mod prom;
pub mod routes;
pub mod state;
pub mod status_batch;
pub mod traceparent;

use std::future::Future;

use axum::Router;
use tokio::net::TcpListener;

pub use state::AppState;

/// The whole HTTP application over `state`.
pub fn app(state: AppState) -> Router {
    routes::router(state)
}

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Start(#[from] state::StartError),
    #[error("serving: {0}")]
    Io(#[from] std::io::Error),
}

/// Connects to PostgreSQL and Redis, then serves on `listener` until `shutdown` resolves
/// (in-flight requests finish first).
pub async fn run(
    settings: jobs::Settings,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), RunError> {
    let state = AppState::connect(settings).await?;
    tracing::info!(addr = %listener.local_addr()?, "api-lite listening");
    axum::serve(listener, app(state))
        .with_graceful_shutdown(shutdown)
        .await?;
    Ok(())
}
