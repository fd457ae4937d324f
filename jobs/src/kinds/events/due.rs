//! Due reminders → `events.remind` jobs, HA-safe: rows due within the
//! horizon are taken `for update skip locked` and marked `enqueued` in one
//! transaction, and each job's id is `rem-<reminder id>` (a replica that died
//! between push and commit leaves rows another replica pushes again: the
//! engine answers "already there"). Jobs carry `run_at = due_at`, so the
//! engine promotes them on time even though they are pushed ahead.

use chrono::{DateTime, Duration, Utc};
use sqlx::PgPool;

use super::{sql, Remind, RemindPayload, REMIND};
use crate::engine::{Engine, EngineError, NewJob};
use crate::kinds::JobKind;

/// How far ahead rows are pushed: the scheduler's rounds may be late by this
/// much and reminders still start on time.
pub const HORIZON_DEFAULT: Duration = Duration::seconds(30);
/// Rows per transaction.
pub const BATCH_DEFAULT: i64 = 1_000;

/// Why a round failed (rows stay `pending` when the transaction rolls back).
#[derive(Debug, thiserror::Error)]
pub enum DueError {
    #[error("postgres: {0}")]
    Db(#[from] sqlx::Error),
    #[error("engine: {0}")]
    Engine(#[from] EngineError),
}

/// The job for one reminder row.
pub fn remind_job(r: &sql::Reminder) -> NewJob {
    let policy = Remind::policy();
    let mut job = NewJob::new(
        policy.queue,
        REMIND,
        &r.tenant_id.to_string(),
        serde_json::to_value(RemindPayload { reminder_id: r.id }).expect("payload"),
    );
    let id = format!("rem-{}", r.id);
    job.id = Some(id.clone());
    job.idempotency_key = Some(id);
    job.run_at = Some(r.due_at);
    job.priority = policy.priority;
    job.max_attempts = policy.max_attempts;
    job
}

/// One round: pushes every row due by `now + horizon`; returns how many.
pub async fn enqueue_due(
    pg: &PgPool,
    engine: &Engine,
    now: DateTime<Utc>,
    horizon: Duration,
    batch: i64,
) -> Result<usize, DueError> {
    let mut total = 0;
    loop {
        let mut tx = pg.begin().await?;
        let rows = sql::claim_due(&mut tx, now + horizon, batch).await?;
        if rows.is_empty() {
            return Ok(total);
        }
        // Pushed before the commit: a failed push rolls the rows back to `pending`.
        engine
            .push_bulk(rows.iter().map(remind_job).collect())
            .await?;
        tx.commit().await?;
        total += rows.len();
        if (rows.len() as i64) < batch {
            return Ok(total);
        }
    }
}
