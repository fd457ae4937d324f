//! PostgreSQL: the pool, the migrations, and the queries other modules share
//! (tenants, API keys, schedules). Job kinds keep their own SQL beside them.

use sqlx::postgres::{PgPool, PgPoolOptions};

use crate::config::DatabaseSettings;

pub mod academic;
pub mod api_keys;
pub mod schedules;
pub mod scope;
pub mod tenants;

/// The migrations in `migrations/`, for binaries (`api-lite migrate`) and `#[sqlx::test]`.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations");

fn options(settings: &DatabaseSettings) -> PgPoolOptions {
    PgPoolOptions::new()
        .max_connections(settings.max_connections)
        .acquire_timeout(std::time::Duration::from_secs(5))
}

/// Opens the application's pool, under row-level security: each query acts
/// for the current task's tenant ([`scope`]). Fails fast when the database is
/// unreachable.
pub async fn connect(settings: &DatabaseSettings) -> Result<PgPool, sqlx::Error> {
    scope::pool_options(options(settings))
        .connect(&settings.url)
        .await
}

/// Opens a pool of the login role, outside row-level security: for processes
/// that act across tenants by design (migrations, the CLI, the scheduler).
pub async fn connect_system(settings: &DatabaseSettings) -> Result<PgPool, sqlx::Error> {
    options(settings).connect(&settings.url).await
}

/// The application's pool (as [`connect`]), connecting on first use:
/// processes that only sometimes need PostgreSQL (the worker) start at once
/// even when it is down.
pub fn connect_lazy(settings: &DatabaseSettings) -> Result<PgPool, sqlx::Error> {
    scope::pool_options(options(settings)).connect_lazy(&settings.url)
}

/// A pool under row-level security (as [`connect`]) to the same database as
/// `pool`: tests hand it to the code under test and keep `pool` for fixtures.
pub fn scoped_like(pool: &PgPool) -> PgPool {
    let size = pool.options().get_max_connections();
    scope::pool_options(
        PgPoolOptions::new()
            .max_connections(size)
            .acquire_timeout(std::time::Duration::from_secs(5)),
    )
    .connect_lazy_with((*pool.connect_options()).clone())
}
