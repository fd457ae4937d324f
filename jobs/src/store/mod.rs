//! PostgreSQL: the pool, the migrations, and the queries other modules share
//! (tenants, API keys, schedules). Job kinds keep their own SQL beside them.

use sqlx::postgres::{PgPool, PgPoolOptions};

use crate::config::DatabaseSettings;

pub mod academic;
pub mod api_keys;
pub mod schedules;
pub mod tenants;

/// The migrations in `migrations/`, for binaries (`api-lite migrate`) and `#[sqlx::test]`.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations");

/// Opens a pool; fails fast when the database is unreachable.
pub async fn connect(settings: &DatabaseSettings) -> Result<PgPool, sqlx::Error> {
    PgPoolOptions::new()
        .max_connections(settings.max_connections)
        .acquire_timeout(std::time::Duration::from_secs(5))
        .connect(&settings.url)
        .await
}

/// A pool that connects on first use: processes that only sometimes need
/// PostgreSQL (the worker) start at once even when it is down.
pub fn connect_lazy(settings: &DatabaseSettings) -> Result<PgPool, sqlx::Error> {
    PgPoolOptions::new()
        .max_connections(settings.max_connections)
        .acquire_timeout(std::time::Duration::from_secs(5))
        .connect_lazy(&settings.url)
}
