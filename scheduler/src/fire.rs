//! One scheduler round: take the due schedules, enqueue their ticks, move
//! their cursors. Replica-safe twice over:
//!
//! 1. due rows are taken `for update skip locked`, so while one replica
//!    handles a schedule the others pass over it, and once it commits the
//!    cursor has moved past the ticks it enqueued;
//! 2. each tick's job has a deterministic id and idempotency key,
//!    `cron-<schedule id>-<tick unix ms>`, so a tick enqueued again (a replica
//!    died between push and commit, or a cursor was wound back) creates nothing.
//!
//! No Redis lease is needed on top: the row lock orders replicas, the id dedupes.

use std::sync::Arc;

use chrono::{DateTime, Duration, TimeZone, Utc};
use jobs::engine::{Engine, NewJob};
use jobs::kinds::{KindPolicy, Registry};
use jobs::store::schedules::{self, Schedule};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::plan::plan;
use crate::{cron, Config};

/// What one round did, for logs and tests.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TickOutcome {
    /// Schedules taken because they were due (or new).
    pub claimed: usize,
    /// Jobs created.
    pub fired: usize,
    /// Pushes the engine answered "already there" (the tick was enqueued before).
    pub duplicates: usize,
    /// Missed ticks dropped by `catch_up`.
    pub skipped: u64,
    /// Pushes that failed; the schedule retries from that tick next round.
    pub failed: usize,
    /// Schedules that cannot run (unknown kind, bad cron or zone in the row).
    pub invalid: usize,
}

impl TickOutcome {
    fn add(&mut self, other: &TickOutcome) {
        self.claimed += other.claimed;
        self.fired += other.fired;
        self.duplicates += other.duplicates;
        self.skipped += other.skipped;
        self.failed += other.failed;
        self.invalid += other.invalid;
    }
}

/// Cursor of a schedule with no tick left (a year field in the past).
/// `next_run_at` null would mean "count from `updated_at`" and fire old ticks.
fn never() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(9999, 12, 31, 0, 0, 0).unwrap()
}

/// A bad row is looked at again this much later, not every round.
const INVALID_RETRY: Duration = Duration::hours(1);

/// The id (and idempotency key) of the job for one tick of one schedule.
pub fn job_id(schedule: Uuid, tick: DateTime<Utc>) -> String {
    format!("cron-{schedule}-{}", tick.timestamp_millis())
}

/// Fires due schedules; cheap to clone, one per process (or two in tests).
#[derive(Clone)]
pub struct Scheduler {
    pool: PgPool,
    engine: Engine,
    registry: Arc<Registry>,
    config: Config,
}

impl Scheduler {
    pub fn new(pool: PgPool, engine: Engine, registry: Arc<Registry>, config: Config) -> Scheduler {
        Scheduler {
            pool,
            engine,
            registry,
            config,
        }
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// One round at `now`: every due schedule, in batches of `config.batch`,
    /// each batch in its own transaction.
    pub async fn tick(&self, now: DateTime<Utc>) -> Result<TickOutcome, sqlx::Error> {
        let mut total = TickOutcome::default();
        loop {
            let mut tx = self.pool.begin().await?;
            let due = schedules::claim_due(&mut *tx, now, self.config.batch).await?;
            let mut round = TickOutcome {
                claimed: due.len(),
                ..Default::default()
            };
            for row in &due {
                self.handle(&mut tx, row, now, &mut round).await?;
            }
            tx.commit().await?;
            total.add(&round);
            // A full batch means more may be due, unless pushes are failing
            // (those rows stay due and would be taken again at once).
            if (round.claimed as i64) < self.config.batch || round.failed > 0 {
                return Ok(total);
            }
        }
    }

    #[tracing::instrument(skip_all, fields(schedule_id = %row.id, tenant_id = %row.job_tenant(), kind = %row.kind))]
    async fn handle(
        &self,
        tx: &mut PgConnection,
        row: &Schedule,
        now: DateTime<Utc>,
        out: &mut TickOutcome,
    ) -> Result<(), sqlx::Error> {
        let parsed =
            cron::parse_cron(&row.cron).and_then(|e| Ok((e, cron::parse_timezone(&row.timezone)?)));
        let policy = self.registry.get(&row.kind).map(|k| k.policy());
        let ((expr, tz), policy) = match (parsed, policy) {
            (Ok(p), Some(policy)) => (p, policy),
            (Err(why), _) => return self.shelve(tx, row, now, out, &why).await,
            (_, None) => return self.shelve(tx, row, now, out, "unknown job kind").await,
        };
        // The cursor is the first unhandled tick; with none, count from the last edit.
        let after = row
            .next_run_at
            .map_or(row.updated_at, |n| n - Duration::microseconds(1));
        let plan = plan(
            &expr,
            tz,
            row.catch_up,
            after,
            now,
            self.config.misfire_grace,
        );
        out.skipped += plan.skipped;
        if plan.skipped > 0 {
            tracing::info!(
                skipped = plan.skipped,
                catch_up = row.catch_up.as_str(),
                "missed ticks dropped"
            );
        }
        let mut cursor = plan.next_run_at.unwrap_or_else(never);
        let mut last_fired = None;
        for tick in plan.fire {
            match self.engine.push(new_job(row, &policy, tick)).await {
                Ok(pushed) => {
                    if pushed.created {
                        out.fired += 1;
                    } else {
                        out.duplicates += 1;
                    }
                    tracing::debug!(job_id = %pushed.id, created = pushed.created, %tick, "tick enqueued");
                    last_fired = Some(tick);
                }
                Err(e) => {
                    tracing::warn!(error = %e, %tick, "enqueue failed; retrying from this tick next round");
                    out.failed += 1;
                    cursor = tick;
                    break;
                }
            }
        }
        schedules::record_tick(&mut *tx, row.id, Some(cursor), last_fired).await
    }

    /// A row that cannot fire: logged, and its cursor pushed an hour ahead.
    async fn shelve(
        &self,
        tx: &mut PgConnection,
        row: &Schedule,
        now: DateTime<Utc>,
        out: &mut TickOutcome,
        why: &str,
    ) -> Result<(), sqlx::Error> {
        tracing::error!(why, cron = %row.cron, timezone = %row.timezone, "schedule cannot run");
        out.invalid += 1;
        schedules::record_tick(&mut *tx, row.id, Some(now + INVALID_RETRY), None).await
    }
}

/// The job for one tick: the kind's queue, priority and attempts; due at the tick.
pub fn new_job(row: &Schedule, policy: &KindPolicy, tick: DateTime<Utc>) -> NewJob {
    let id = job_id(row.id, tick);
    let mut job = NewJob::new(
        policy.queue,
        &row.kind,
        &row.job_tenant(),
        row.payload.clone(),
    );
    job.id = Some(id.clone());
    job.idempotency_key = Some(id);
    job.run_at = Some(tick);
    job.priority = policy.priority;
    job.max_attempts = policy.max_attempts;
    job
}
