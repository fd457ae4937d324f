//! The outbox: at-least-once jobs, at-most-once messages.
//!
//! 1. [`enqueue`] writes one row per recipient (unique `(tenant, dedup_key)`;
//!    a repeated key returns the existing row) and pushes one `notify.send`
//!    job per still-`queued` row, with the row's id as the job id (so a
//!    repeated request never makes a second job).
//! 2. `notify.send` reads the row: `sent` or later, `failed`, `suppressed` →
//!    done, nothing sent. `sending` → a worker died during the provider call:
//!    the provider may or may not have the message, so the row becomes
//!    `unknown` for ops and is never silently re-sent.
//! 3. Otherwise `queued → sending` (a guarded update: one winner), then the
//!    provider call, then `sent` (+ provider id), back to `queued` (retryable:
//!    the provider did not take it), or `failed` with the reason.

use sqlx::PgPool;
use uuid::Uuid;

use super::model::{ChannelName, Notification, NotificationRequest};
use super::sql;
use super::SEND;
use crate::engine::{Engine, NewJob, Priority};

/// Why a request could not be queued.
#[derive(Debug, thiserror::Error)]
pub enum EnqueueError {
    #[error("{0}")]
    Invalid(#[from] crate::kinds::FieldError),
    #[error("postgres: {0}")]
    Db(#[from] sqlx::Error),
    #[error("engine: {0}")]
    Engine(#[from] crate::engine::EngineError),
}

/// A row and whether this call created it.
#[derive(Clone, Debug)]
pub struct Enqueued {
    pub row: Notification,
    pub created: bool,
}

/// Writes the rows, then pushes their jobs. Safe to repeat with the same keys:
/// rows are found, not duplicated, and only `queued` rows get a (deduplicated) job.
pub async fn enqueue(
    pg: &PgPool,
    engine: &Engine,
    tenant: Uuid,
    req: &NotificationRequest,
) -> Result<Vec<Enqueued>, EnqueueError> {
    let mut conn = pg.acquire().await?;
    let out = write_rows(&mut conn, tenant, req).await?;
    drop(conn);
    push_jobs(engine, tenant, &out).await?;
    Ok(out)
}

/// The first half of [`enqueue`] on the caller's connection (or transaction):
/// a caller that must write its own rows atomically with the outbox's (a
/// reminder marked sent) uses it, then [`push_jobs`] after its commit.
pub async fn write_rows(
    conn: &mut sqlx::PgConnection,
    tenant: Uuid,
    req: &NotificationRequest,
) -> Result<Vec<Enqueued>, EnqueueError> {
    req.validate()?;
    let recipients = req.expand();
    let mut rows = Vec::with_capacity(recipients.len());
    for r in &recipients {
        let mut msg = req.message.clone();
        msg.data.extend(r.data.clone());
        let json = serde_json::to_value(&msg).expect("message serialises");
        rows.push((
            Uuid::now_v7(),
            r.dedup_key.clone(),
            r.recipient.trim().to_string(),
            json,
        ));
    }
    let found = sql::insert_many(conn, tenant, req.channel.as_str(), req.urgent, &rows).await?;
    let new_ids: std::collections::HashSet<Uuid> = rows.iter().map(|r| r.0).collect();
    let by_key: std::collections::HashMap<&str, &Notification> =
        found.iter().map(|n| (n.dedup_key.as_str(), n)).collect();
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        let Some(n) = by_key.get(r.1.as_str()) else {
            continue;
        };
        out.push(Enqueued {
            row: (*n).clone(),
            created: new_ids.contains(&n.id),
        });
    }
    Ok(out)
}

/// The second half of [`enqueue`]: one `notify.send` job per still-`queued`
/// row (job id = row id, so pushing again creates nothing).
pub async fn push_jobs(
    engine: &Engine,
    tenant: Uuid,
    rows: &[Enqueued],
) -> Result<(), EnqueueError> {
    let jobs: Vec<NewJob> = rows
        .iter()
        .filter(|e| e.row.status == "queued")
        .map(|e| send_job(tenant, &e.row))
        .collect();
    if !jobs.is_empty() {
        engine.push_bulk(jobs).await?;
    }
    Ok(())
}

/// The `notify.send` job for a row: id = row id, rate bucket per tenant account.
pub fn send_job(tenant: Uuid, n: &Notification) -> NewJob {
    let policy = <super::SendNotification as crate::kinds::JobKind>::policy();
    let mut job = NewJob::new(
        policy.queue,
        SEND,
        &tenant.to_string(),
        serde_json::json!({ "notification_id": n.id }),
    );
    job.id = Some(n.id.to_string());
    job.max_attempts = policy.max_attempts;
    if n.urgent {
        job.priority = Priority::High;
    }
    job.rate_key = ChannelName::parse(&n.channel)
        .and_then(ChannelName::rate_family)
        .map(|f| format!("{f}:{tenant}"));
    job
}
