//! Tarefa's scheduler: turns cron schedules into jobs, exactly once per tick
//! however many scheduler replicas run.
//!
//! Lifecycle of `run`:
//! 1. connect to PostgreSQL and the queue engine (Redis);
//! 2. read `config/schedules.toml` and mirror it into the `schedules` table
//!    (system schedules), beside the per-tenant rows the API manages;
//! 3. every `tick`, take the due schedules and enqueue their ticks
//!    ([`Scheduler::tick`]); rows are read fresh each round, so API edits
//!    apply at the next round;
//! 4. on shutdown, finish the round in progress and return.
//!
//! Layout:
//! - [`cron`]: next-fire math in a timezone, with the DST rules (pure).
//! - [`plan`]: which ticks one schedule fires at one round, `catch_up` (pure).
//! - [`fire`]: the round itself: claim due rows, push jobs, move cursors.
//! - [`file`]: system schedules from the TOML file.
//! - [`events`]: a consumer per configured event stream (`scheduler.streams`).
//! - [`exporter`]: `/metrics` on `scheduler.metrics_addr` (stream lag gauges).
//!
//! Each round also pushes due reminders (`jobs::kinds::events::due`) and
//! runs the events follow-up round (`jobs::kinds::events::follow`: ordered
//! tenant webhooks advance, sent reminders are settled).
//!
//! SQL lives in `jobs::store::schedules`, beside the other stores.

pub mod cron;
pub mod events;
pub mod exporter;
pub mod file;
pub mod fire;
pub mod plan;

pub use fire::{job_id, Scheduler, TickOutcome};

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;

use jobs::config::SchedulerSettings;
use jobs::engine::{Engine, EngineError};
use jobs::kinds::Registry;
use jobs::Settings;

/// Default round interval: a tick fires at most this late.
pub const TICK_DEFAULT: std::time::Duration = std::time::Duration::from_millis(500);
/// Ticks older than this when a round sees them were missed (downtime) and go
/// through `catch_up`; younger ones always fire. A minute absorbs a slow round
/// or a database failover without turning them into "downtime".
pub const MISFIRE_GRACE_DEFAULT: chrono::Duration = chrono::Duration::seconds(60);
/// Schedules taken per transaction.
pub const BATCH_DEFAULT: i64 = 500;

/// The scheduler loop's knobs.
#[derive(Clone, Debug)]
pub struct Config {
    /// Time between rounds (`scheduler.tick_ms`).
    pub tick: std::time::Duration,
    pub misfire_grace: chrono::Duration,
    pub batch: i64,
    /// `scheduler.schedules_file`.
    pub schedules_file: PathBuf,
}

impl Config {
    pub fn from_settings(s: &SchedulerSettings) -> Config {
        Config {
            tick: if s.tick_ms == 0 {
                TICK_DEFAULT
            } else {
                std::time::Duration::from_millis(s.tick_ms)
            },
            misfire_grace: MISFIRE_GRACE_DEFAULT,
            batch: BATCH_DEFAULT,
            schedules_file: PathBuf::from(&s.schedules_file),
        }
    }
}

impl Default for Config {
    fn default() -> Config {
        Config::from_settings(&SchedulerSettings::default())
    }
}

/// Why the scheduler could not start or keep going.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("postgres: {0} (has `api-lite migrate` run?)")]
    Postgres(#[from] sqlx::Error),
    #[error("redis: {0}")]
    Engine(#[from] EngineError),
    #[error(transparent)]
    File(#[from] file::FileError),
    #[error("stream {0}: {1}")]
    Stream(String, events::StreamError),
    #[error("scheduler.metrics_addr {0}: {1}")]
    Metrics(String, std::io::Error),
    /// `TAREFA_MASTER_KEYS` is set but malformed.
    #[error("encryption at rest: {0}")]
    Crypt(String),
}

/// The kinds the workers serve: the built-in ones and the forecasting
/// crate's (so tenant schedules of `forecast.retrain` fire, not shelve).
pub fn registry() -> Registry {
    let mut r = Registry::builtin();
    forecasting::kinds::register(&mut r);
    r
}

/// Runs the scheduler until `shutdown` resolves.
pub async fn run(settings: Settings, shutdown: impl Future<Output = ()>) -> Result<(), Error> {
    let pool = jobs::store::connect_system(&settings.database).await?;
    let engine = Engine::connect(settings.engine_config()).await?;
    let registry = Arc::new(registry());
    // Schedules push personal-data kinds too (reports.scheduled): sealed like any push.
    let (engine, _) =
        jobs::crypt::attach(engine, &pool, &registry, "scheduler").map_err(Error::Crypt)?;
    let config = Config::from_settings(&settings.scheduler);
    let specs = file::load(&config.schedules_file, &registry)?;
    file::sync(&pool, &specs, chrono::Utc::now()).await?;
    // One consumer task per stream; they stop with the scheduler.
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut consumers = Vec::new();
    if !settings.scheduler.metrics_addr.is_empty() {
        let addr = settings.scheduler.metrics_addr.clone();
        let listener = tokio::net::TcpListener::bind(&addr)
            .await
            .map_err(|e| Error::Metrics(addr.clone(), e))?;
        tracing::info!(addr = %addr, "scheduler /metrics listening");
        let handle = exporter::handle();
        let mut stop = stop_rx.clone();
        consumers.push(tokio::spawn(async move {
            let served = exporter::serve(listener, handle, async move {
                let _ = stop.wait_for(|v| *v).await;
            })
            .await;
            if let Err(e) = served {
                tracing::warn!(error = %e, "scheduler /metrics stopped");
            }
        }));
    }
    for s in &settings.scheduler.streams {
        let handler = Arc::new(events::Ingest {
            pool: pool.clone(),
            source: s.source.clone(),
            engine: Some(engine.clone()),
        });
        let consumer = events::Consumer::connect(
            s.clone(),
            &settings.redis.engine_url(),
            events::consumer_name(),
            pool.clone(),
            handler,
        )
        .await
        .map_err(|e| Error::Stream(s.key.clone(), e))?;
        let mut stop = stop_rx.clone();
        consumers.push(tokio::spawn(consumer.run(async move {
            let _ = stop.wait_for(|v| *v).await;
        })));
    }
    Scheduler::new(pool, engine, registry, config)
        .run(shutdown)
        .await;
    let _ = stop_tx.send(true);
    for c in consumers {
        let _ = c.await;
    }
    Ok(())
}

impl Scheduler {
    /// Rounds every `config.tick` until `shutdown`; a round in progress is
    /// finished first, so its pushes and cursor moves commit together.
    pub async fn run(&self, shutdown: impl Future<Output = ()>) {
        let mut interval = tokio::time::interval(self.config().tick);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        tokio::pin!(shutdown);
        tracing::info!(
            tick_ms = self.config().tick.as_millis() as u64,
            "scheduler started"
        );
        loop {
            tokio::select! {
                biased;
                _ = &mut shutdown => break,
                _ = interval.tick() => {}
            }
            match self.tick(chrono::Utc::now()).await {
                Ok(o) if o == TickOutcome::default() => {}
                Ok(o) => tracing::info!(
                    claimed = o.claimed,
                    fired = o.fired,
                    duplicates = o.duplicates,
                    skipped = o.skipped,
                    failed = o.failed,
                    invalid = o.invalid,
                    "scheduler round"
                ),
                Err(e) => tracing::warn!(error = %e, "scheduler round failed; retrying next round"),
            }
            // Due reminders, pushed ahead with their due time (HA: skip locked + job id).
            let due = jobs::kinds::events::due::enqueue_due(
                self.pool(),
                self.engine(),
                chrono::Utc::now(),
                jobs::kinds::events::due::HORIZON_DEFAULT,
                jobs::kinds::events::due::BATCH_DEFAULT,
            )
            .await;
            match due {
                Ok(0) => {}
                Ok(n) => tracing::info!(reminders = n, "due reminders enqueued"),
                Err(e) => {
                    tracing::warn!(error = %e, "due reminders round failed; retrying next round")
                }
            }
            // Ordered webhooks advance; sent reminders settle (reminder.sent / .failed).
            let follow = jobs::kinds::events::follow::round(
                self.pool(),
                self.engine(),
                jobs::kinds::events::follow::BATCH_DEFAULT,
            )
            .await;
            match follow {
                Ok(o) if o == jobs::kinds::events::follow::FollowOutcome::default() => {}
                Ok(o) => tracing::info!(
                    advanced = o.advanced,
                    repushed = o.repushed,
                    settled = o.settled,
                    "events follow-up round"
                ),
                Err(e) => {
                    tracing::warn!(error = %e, "events follow-up round failed; retrying next round")
                }
            }
        }
        tracing::info!("scheduler stopped");
    }
}
