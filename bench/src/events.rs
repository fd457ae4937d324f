//! `bench events`: booking events and reminders (issue 16). In a fresh
//! database (`tarefa_bench_events`, created, migrated and dropped by the run)
//! and under a run-unique Redis prefix (deleted at the end):
//!
//! 1. a backlog of N `booking.created` entries (default 100,000) on a stream,
//!    consumed (a) by a plain `XREADGROUP COUNT 100` + `XACK` loop that does
//!    nothing else (the baseline), then (b) by Tarefa's consumer
//!    (`scheduler::events::Consumer` with the production `Ingest` handler:
//!    one PostgreSQL transaction per read batch, which records the events,
//!    saves the bookings and plans one reminder each), once per `--batches`
//!    size from a fresh group and empty tables — events/s, and cost per event: bench
//!    process CPU (consumer + handler; PostgreSQL and Redis are other
//!    processes), Redis commands and PostgreSQL commits per event;
//! 2. R reminders (default 10,000) due within the same minute: rows written
//!    directly, then the scheduler's due round (`enqueue_due` every 500 ms,
//!    as `scheduler` runs it) and an in-process `events.remind` worker
//!    (concurrency 32) hand them to the notifications outbox; lateness =
//!    the reminder's `sent` time − its due time, p50 / p99 / max. The
//!    outbox's own `notify.send` jobs are not run (providers are out of scope).

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Result;
use chrono::Utc;
use redis::AsyncCommands;
use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;

use jobs::config::{EngineSettings, StreamSettings};
use jobs::engine::{Engine, EngineConfig};
use jobs::kinds::events::{due, sql};
use jobs::kinds::{KindHandler, Registry, Resources};
use jobs::store::tenants;
use scheduler::events::{Consumer, Ingest};

use crate::{rx, stats};

#[derive(clap::Parser, Clone)]
pub struct EventsArgs {
    #[arg(
        long,
        env = "TAREFA__REDIS__URL",
        default_value = "redis://127.0.0.1:6379"
    )]
    pub redis_url: String,
    /// A database the run may connect to, to create (and drop) `tarefa_bench_events`.
    #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432/postgres")]
    pub admin_url: String,
    #[arg(long, default_value_t = 100_000)]
    pub events: usize,
    #[arg(long, default_value_t = 10_000)]
    pub reminders: usize,
    /// Read batch sizes (`scheduler.streams[].batch`) to consume the backlog
    /// with, each from a fresh group and empty tables.
    #[arg(long, value_delimiter = ',', default_value = "100,500")]
    pub batches: Vec<usize>,
}

const DB: &str = "tarefa_bench_events";

pub(crate) fn self_cpu_secs() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return f64::NAN;
    };
    let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else {
        return f64::NAN;
    };
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    (ticks(11) + ticks(12)) / hz
}

pub(crate) async fn commits(pool: &PgPool) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "select xact_commit from pg_stat_database where datname = current_database()",
    )
    .fetch_one(pool)
    .await?)
}

pub(crate) async fn redis_commands(conn: &mut redis::aio::MultiplexedConnection) -> Result<u64> {
    let info: String = redis::cmd("INFO").arg("stats").query_async(conn).await?;
    let n = info
        .lines()
        .find_map(|l| l.strip_prefix("total_commands_processed:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    Ok(n)
}

pub async fn run(args: EventsArgs) -> Result<()> {
    let db = crate::db::BenchDb::create(&args.admin_url, DB, 16).await?;
    let pool = db.pool.clone();
    let prefix = format!("tbev{}", std::process::id());
    let result = measure(&args, &pool, &prefix).await;
    let mut conn = rx::connect(&args.redis_url).await?;
    rx::delete_matching(&mut conn, &format!("*{prefix}*")).await?;
    db.drop().await?;
    result
}

async fn measure(args: &EventsArgs, pool: &PgPool, prefix: &str) -> Result<()> {
    let t = tenants::create(
        pool,
        &tenants::NewTenant {
            name: "Agenda Bench".into(),
            slug: "agenda-bench".into(),
            timezone: "America/Sao_Paulo".into(),
            plan: "standard".into(),
        },
    )
    .await?;
    sql::map_external(pool, "booking", "bench", t.id).await?;
    let rule = sql::insert_rule(
        pool,
        &sql::Rule {
            id: Uuid::now_v7(),
            tenant_id: t.id,
            family: "booking".into(),
            name: "1h".into(),
            trigger: "before_start".into(),
            offset_minutes: 60,
            local_time: None,
            audience: "client".into(),
            channels: vec!["email".into()],
            template: None,
            urgent: false,
        },
    )
    .await?;
    let mut conn = rx::connect(&args.redis_url).await?;
    let stream = format!("{prefix}:booking-events");
    let n = args.events;
    eprintln!("bench events: writing {n} entries…");
    for chunk in (0..n).collect::<Vec<_>>().chunks(1_000) {
        let mut pipe = redis::pipe();
        for i in chunk {
            let payload =
                json!({"booking_id": format!("b{i}"), "user_id": "u1", "resource_id": "12",
                "start_time": "2099-03-10T13:00:00-03:00", "client": {"email": "ana@example.com"}})
                .to_string();
            let meta = json!({"tenant_id": "bench"}).to_string();
            pipe.xadd(
                &stream,
                "*",
                &[
                    ("event_type", "booking.created"),
                    ("payload", &payload),
                    ("metadata", &meta),
                ],
            )
            .ignore();
        }
        let _: () = pipe.query_async(&mut conn).await?;
    }

    // (a) baseline: XREADGROUP + XACK, nothing else.
    let _: () = conn.xgroup_create(&stream, "raw", "0").await?;
    let started = Instant::now();
    let mut read = 0;
    let opts = redis::streams::StreamReadOptions::default()
        .group("raw", "r1")
        .count(100);
    while read < n {
        let r: redis::streams::StreamReadReply =
            conn.xread_options(&[&stream], &[">"], &opts).await?;
        let ids: Vec<String> = r
            .keys
            .into_iter()
            .flat_map(|k| k.ids)
            .map(|i| i.id)
            .collect();
        read += ids.len();
        let _: () = conn.xack(&stream, "raw", &ids).await?;
    }
    let raw_secs = started.elapsed().as_secs_f64();

    // (b) Tarefa's consumer, once per batch size.
    let mut runs = Vec::new();
    for (round, &batch) in args.batches.iter().enumerate() {
        eprintln!("bench events: consuming with Tarefa, batch {batch}…");
        sqlx::query("truncate events, event_bookings, reminders")
            .execute(pool)
            .await?;
        let settings = StreamSettings {
            key: stream.clone(),
            redis_url: args.redis_url.clone(),
            group: format!("tarefa{round}"),
            start_id: "0".into(),
            batch,
            block_ms: 100,
            ..StreamSettings::default()
        };
        let handler = Arc::new(Ingest {
            pool: pool.clone(),
            source: "booking".into(),
            engine: None,
        });
        let mut consumer = Consumer::connect(
            settings,
            &args.redis_url,
            "bench-1".into(),
            pool.clone(),
            handler,
        )
        .await?;
        let (cpu0, commits0, cmds0) = (
            self_cpu_secs(),
            commits(pool).await?,
            redis_commands(&mut conn).await?,
        );
        let started = Instant::now();
        let mut acked = 0;
        let mut dead = 0;
        while acked + dead < n {
            let o = consumer.tick().await?;
            acked += o.acked;
            dead += o.dead;
        }
        let secs = started.elapsed().as_secs_f64();
        let (cpu1, commits1, cmds1) = (
            self_cpu_secs(),
            commits(pool).await?,
            redis_commands(&mut conn).await?,
        );
        let events: i64 = sqlx::query_scalar("select count(*) from events")
            .fetch_one(pool)
            .await?;
        let planned: i64 = sqlx::query_scalar("select count(*) from reminders")
            .fetch_one(pool)
            .await?;
        runs.push(Run {
            batch,
            secs,
            cpu: cpu1 - cpu0,
            commits: commits1 - commits0,
            cmds: cmds1 - cmds0,
            events,
            planned,
            dead,
        });
    }

    // (2) reminders due in one minute.
    let r = args.reminders as i64;
    eprintln!("bench events: {r} reminders due within one minute…");
    let base = Utc::now() + chrono::Duration::seconds(15);
    sqlx::query(
        "insert into event_bookings (tenant_id, booking_id, family, version, start_time, contacts, created_seen) \
         select $1, 'r' || i, 'booking', 1, $2 + interval '1 hour', '{\"client\": {\"email\": \"ana@example.com\"}}', true \
         from generate_series(0, $3 - 1) i",
    )
    .bind(t.id).bind(base).bind(r).execute(pool).await?;
    sqlx::query(
        "insert into reminders (id, tenant_id, booking_id, rule_id, version, due_at) \
         select gen_random_uuid(), $1, 'r' || i, $2, 1, $3 + (i * interval '60 seconds') / $4 \
         from generate_series(0, $4 - 1) i",
    )
    .bind(t.id)
    .bind(rule)
    .bind(base)
    .bind(r)
    .execute(pool)
    .await?;
    let engine = Engine::connect(EngineConfig {
        redis_url: args.redis_url.clone(),
        prefix: prefix.to_string(),
        settings: EngineSettings::default(),
    })
    .await?;
    let mut settings = jobs::Settings::default();
    settings.redis.prefix = prefix.to_string();
    let resources = Resources {
        engine: engine.clone(),
        pg: Some(pool.clone()),
        settings: Arc::new(settings),
    };
    let handler = KindHandler::new(Arc::new(Registry::builtin()), resources);
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let worker = tokio::spawn(jobs::engine::run_queue(
        engine.clone(),
        "events",
        32,
        handler,
        async move {
            let _ = stop_rx.await;
        },
    ));
    let (pool2, engine2) = (pool.clone(), engine.clone());
    let rounds = tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_millis(500));
        loop {
            tick.tick().await;
            if let Err(e) = due::enqueue_due(
                &pool2,
                &engine2,
                Utc::now(),
                due::HORIZON_DEFAULT,
                due::BATCH_DEFAULT,
            )
            .await
            {
                eprintln!("due round failed: {e}");
            }
        }
    });
    loop {
        let left: i64 = sqlx::query_scalar(
            "select count(*) from reminders where booking_id like 'r%' and status <> 'sent'",
        )
        .fetch_one(pool)
        .await?;
        if left == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    rounds.abort();
    let _ = stop_tx.send(());
    let _ = worker.await;
    let late: Vec<f64> = sqlx::query_scalar(
        "select extract(epoch from (updated_at - due_at))::float8 * 1000 from reminders where booking_id like 'r%'",
    )
    .fetch_all(pool)
    .await?;
    let s = stats::summarize(late);

    println!(
        "## {} — events and reminders (issue 16)\n",
        Utc::now().format("%Y-%m-%d %H:%M UTC")
    );
    println!(
        "- command: `bench events --events {n} --reminders {r} --batches {}`; machine: {} CPUs (shared)\n",
        args.batches.iter().map(|b| b.to_string()).collect::<Vec<_>>().join(","),
        crate::load::cpus()
    );
    println!("| measure | Tarefa | baseline (same run) | ratio |\n|---|---|---|---|");
    for run in &runs {
        println!(
            "| backlog of {n} `booking.created` consumed, events/s, batch {} | {} (1 consumer; {} events recorded, {} reminders planned, {} dead) | {} (XREADGROUP 100 + XACK, no work) | {:.3}× |",
            run.batch,
            stats::thousands(n as f64 / run.secs),
            run.events,
            run.planned,
            run.dead,
            stats::thousands(n as f64 / raw_secs),
            raw_secs / run.secs
        );
        println!(
            "| cost per event, batch {} | {:.0} µs bench-process CPU; {:.3} PostgreSQL commits; {:.3} Redis commands (INFO total, shared server) | | |",
            run.batch,
            run.cpu * 1e6 / n as f64,
            run.commits as f64 / n as f64,
            run.cmds as f64 / n as f64
        );
    }
    println!(
        "| {r} reminders due within one minute, handed to the outbox: lateness p50 / p99 / max ms | {:.0} / {:.0} / {:.0} | | |",
        s.p50, s.p99, s.max
    );
    Ok(())
}

/// One consumption of the backlog.
struct Run {
    batch: usize,
    secs: f64,
    cpu: f64,
    commits: i64,
    cmds: u64,
    events: i64,
    planned: i64,
    dead: usize,
}
