//! Row-level security from the application's side: whom the current task's
//! queries act for (migrations/0024 has the policies).
//!
//! A tokio task-local holds the tenant (or "the system") for the duration of
//! a request or a job: api-lite's tenant routes run under [`as_tenant`], the
//! worker runs each job of a tenant under it, and code that must cross tenants
//! (API key lookup, webhook intake, the console, the scheduler, migrations)
//! says so with [`as_system`]. Each time a connection leaves the pool, the
//! pool's hooks ([`pool_options`]) set it to match in one round trip (which
//! replaces the ping sqlx would otherwise send): `role` and `tarefa.tenant`.
//!
//! | acting for | role | what a query sees |
//! |---|---|---|
//! | a tenant | `tarefa_app` | that tenant's rows only |
//! | nobody (no scope) | `tarefa_app` | no row of any tenant table |
//! | the system | the login role (owner) | everything |
//!
//! So a query that forgets its tenant filter reads and writes only the right
//! tenant's rows, and one that runs outside any scope by mistake finds nothing
//! rather than everything. A task spawned with `tokio::spawn` does not inherit
//! the scope: wrap its future again.
//!
//! Written by hand: sqlx has no notion of a per-task session setting, and the
//! task-local keeps every query site unchanged (`&PgPool` stays the handle).

use std::future::Future;

use futures::future::BoxFuture;
use sqlx::postgres::{PgConnection, PgPoolOptions};
use sqlx::Executor;
use uuid::Uuid;

/// The database role tenant queries run as (created by migrations/0024).
pub const APP_ROLE: &str = "tarefa_app";

/// For whom the current task's queries run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Acting {
    Tenant(Uuid),
    System,
}

tokio::task_local! {
    static ACTING: Acting;
}

/// Runs `f` with its queries limited to `tenant`'s rows.
pub async fn as_tenant<F: Future>(tenant: Uuid, f: F) -> F::Output {
    ACTING.scope(Acting::Tenant(tenant), f).await
}

/// Runs `f` with its queries seeing every tenant's rows: for code that acts
/// across tenants by design. Say why at each call.
pub async fn as_system<F: Future>(f: F) -> F::Output {
    ACTING.scope(Acting::System, f).await
}

/// Runs `f` as `acting` says (`None`: no tenant, no rows).
pub async fn acting_as<F: Future>(acting: Option<Acting>, f: F) -> F::Output {
    match acting {
        Some(a) => ACTING.scope(a, f).await,
        None => f.await,
    }
}

/// Whom the current task acts for, if anyone (to carry into a spawned task
/// with [`acting_as`]).
pub fn current() -> Option<Acting> {
    ACTING.try_with(|a| *a).ok()
}

/// Sets `role` and `tarefa.tenant` on `conn` to match the current task.
pub async fn apply(conn: &mut PgConnection) -> Result<(), sqlx::Error> {
    let (role, tenant) = match current() {
        Some(Acting::Tenant(id)) => (APP_ROLE, id.to_string()),
        // `none` is SET ROLE NONE: back to the login role.
        Some(Acting::System) => ("none", String::new()),
        None => (APP_ROLE, String::new()),
    };
    conn.execute(
        sqlx::query("select set_config('role', $1, false), set_config('tarefa.tenant', $2, false)")
            .bind(role)
            .bind(tenant),
    )
    .await?;
    Ok(())
}

/// `options` with the hooks that apply the current task's scope to every
/// connection it hands out (new or reused).
pub fn pool_options(options: PgPoolOptions) -> PgPoolOptions {
    fn hook(conn: &mut PgConnection) -> BoxFuture<'_, Result<(), sqlx::Error>> {
        Box::pin(apply(conn))
    }
    options
        // `apply` is a round trip that fails on a dead connection: the ping is redundant.
        .test_before_acquire(false)
        .after_connect(|conn, _| hook(conn))
        .before_acquire(|conn, _| {
            Box::pin(async move {
                hook(conn).await?;
                Ok(true)
            })
        })
}
