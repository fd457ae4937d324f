//! Helpers for the scheduler's tests: schedulers over the test's fresh
//! database (`#[sqlx::test]`, needs `DATABASE_URL`) and the real Redis under a
//! random key prefix `tarefa-test-<uuid>` (removed on drop, even after a
//! panic; never FLUSHDB), tenants from `fixtures/tenants.sql`, spec builders.
#![allow(dead_code)]

use std::sync::Arc;

use chrono::{DateTime, Utc};
use jobs::engine::{Engine, JobInfo};
use jobs::kinds::Registry;
use jobs::store::schedules::{self, CatchUp, Schedule, ScheduleSpec};
use jobs::testing::RedisPrefix;
use jobs::Settings;
use scheduler::{Config, Scheduler};
use sqlx::PgPool;
use uuid::Uuid;

/// "Escola Estadual São João" (America/Sao_Paulo).
pub const SCHOOL: Uuid = Uuid::from_u128(0x5c6f0a9e_1b2d_4c3e_8f40_000000000001);
/// "Agenda Nova York" (America/New_York).
pub const BOOKING: Uuid = Uuid::from_u128(0x5c6f0a9e_1b2d_4c3e_8f40_000000000002);

/// `diag.noop`'s queue.
pub const QUEUE: &str = "diag";

pub fn utc(s: &str) -> DateTime<Utc> {
    s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
}

/// A Redis namespace for one test (the test kit's `RedisPrefix`); its keys go when it drops.
pub struct Ns {
    pub settings: Settings,
    _keys: RedisPrefix,
}

impl Ns {
    pub fn new() -> Ns {
        let keys = RedisPrefix::new();
        let mut settings = Settings::default();
        settings.redis.url = keys.url.clone();
        settings.redis.prefix = keys.prefix.clone();
        Ns {
            settings,
            _keys: keys,
        }
    }

    /// A new engine connection on this namespace (one per scheduler "process").
    pub async fn engine(&self) -> Engine {
        Engine::connect(self.settings.engine_config())
            .await
            .expect("redis")
    }

    /// A scheduler with its own engine connection, sharing the test's database.
    pub async fn scheduler(&self, pool: &PgPool) -> Scheduler {
        let config = Config::from_settings(&self.settings.scheduler);
        Scheduler::new(
            pool.clone(),
            self.engine().await,
            Arc::new(Registry::builtin()),
            config,
        )
    }
}

/// A `diag.noop` schedule spec in São Paulo time.
pub fn spec(name: &str, cron: &str, catch_up: CatchUp) -> ScheduleSpec {
    ScheduleSpec {
        name: name.into(),
        cron: cron.into(),
        timezone: Some("America/Sao_Paulo".into()),
        kind: "diag.noop".into(),
        payload: serde_json::json!({}),
        enabled: true,
        catch_up,
    }
}

/// Stores `spec` for `tenant` as if created through the API at `now`.
pub async fn create(
    pool: &PgPool,
    tenant: Uuid,
    spec: &ScheduleSpec,
    now: DateTime<Utc>,
) -> Schedule {
    schedules::create(pool, tenant, spec, spec.timezone.as_deref().unwrap(), now)
        .await
        .unwrap()
}

pub async fn row(pool: &PgPool, tenant: Uuid, id: Uuid) -> Schedule {
    schedules::get(pool, tenant, id)
        .await
        .unwrap()
        .expect("schedule row")
}

/// The job of one tick, if it was enqueued.
pub async fn tick_job(engine: &Engine, schedule: Uuid, tick: &str) -> Option<JobInfo> {
    engine
        .job(QUEUE, &scheduler::job_id(schedule, utc(tick)))
        .await
        .unwrap()
}

/// Jobs waiting in the queue (queued now or scheduled for later).
pub async fn waiting(engine: &Engine) -> u64 {
    let c = engine.counts(QUEUE).await.unwrap();
    c.queued + c.scheduled
}
