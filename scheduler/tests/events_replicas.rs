//! Two real `scheduler` processes (same database, same Redis, one consumer
//! group) consume a booking stream and run their due-reminder rounds side by
//! side; an in-process worker sends the reminders to a real SMTP sink. Every
//! reminder is sent once (one mail per booking, one outbox row each, every
//! row `sent` and settled), and each replica's `/metrics` shows the group's
//! lag and pending count at 0 once the stream is drained — the values Redis
//! reports for the group.

mod common;

use std::collections::HashMap;
use std::process::{Child, Command};

use chrono::{Duration, Utc};
use jobs::kinds::events::{self, sql};
use jobs::kinds::notify::admin;
use jobs::testing::{eventually, Bed};
use redis::AsyncCommands;
use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;

const BOOKINGS: usize = 200;

fn database_url(pool: &PgPool) -> String {
    let base = std::env::var("DATABASE_URL").expect("DATABASE_URL");
    let db = pool
        .connect_options()
        .get_database()
        .expect("test database name")
        .to_string();
    let (server, _) = base.rsplit_once('/').expect("DATABASE_URL has a database");
    format!("{server}/{db}")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn spawn(
    bed: &Bed,
    db_url: &str,
    stream: &str,
    dir: &std::path::Path,
    name: &str,
    port: u16,
) -> Child {
    let schedules = dir.join("schedules.toml");
    std::fs::write(&schedules, "").unwrap();
    let streams = format!(
        r#"[{{key="{stream}", start_id="0", batch=50, block_ms=100, min_idle_ms=60000, max_deliveries=5}}]"#
    );
    Command::new(env!("CARGO_BIN_EXE_scheduler"))
        .env("TAREFA__DATABASE__URL", db_url)
        .env("TAREFA__REDIS__URL", &bed.settings.redis.url)
        .env("TAREFA__REDIS__PREFIX", &bed.settings.redis.prefix)
        .env("TAREFA__SCHEDULER__SCHEDULES_FILE", &schedules)
        .env("TAREFA__SCHEDULER__STREAMS", streams)
        .env(
            "TAREFA__SCHEDULER__METRICS_ADDR",
            format!("127.0.0.1:{port}"),
        )
        .env(
            "TAREFA_CONFIG_DIR",
            concat!(env!("CARGO_MANIFEST_DIR"), "/../config"),
        )
        .env("HOSTNAME", name)
        .env("RUST_LOG", "warn")
        .spawn()
        .expect("scheduler binary")
}

fn stop(mut child: Child) {
    Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert!(
        child.wait().unwrap().success(),
        "replica did not stop cleanly"
    );
}

/// The gauges of `stream` on one replica's `/metrics`.
async fn gauges(port: u16, stream: &str) -> Option<HashMap<String, f64>> {
    let text = reqwest::get(format!("http://127.0.0.1:{port}/metrics"))
        .await
        .ok()?
        .text()
        .await
        .ok()?;
    let mut out = HashMap::new();
    for line in text.lines() {
        if line.contains(&format!("stream=\"{stream}\"")) && line.contains("group=\"tarefa\"") {
            let name = line.split('{').next()?.to_string();
            out.insert(name, line.rsplit(' ').next()?.parse().ok()?);
        }
    }
    Some(out)
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn two_scheduler_replicas_send_every_reminder_once(pool: PgPool) {
    let bed = Bed::new(pool.clone()).await;
    let tenant = bed.tenant;
    sql::map_external(&pool, "booking", "acme", tenant)
        .await
        .unwrap();
    admin::put_channel(
        &pool,
        tenant,
        "email",
        &json!({"from": "agenda@alfa.com.br", "from_name": "Agenda Alfa"}),
        true,
    )
    .await
    .unwrap();
    sql::insert_rule(
        &pool,
        &sql::Rule {
            id: Uuid::now_v7(),
            tenant_id: tenant,
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
    .await
    .unwrap();
    let stream = format!("{}:booking-events", bed.settings.redis.prefix);
    let mut redis = redis::Client::open(bed.settings.redis.url.as_str())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let start = (Utc::now() + Duration::days(2)).to_rfc3339();
    let mut pipe = redis::pipe();
    for i in 0..BOOKINGS {
        let payload = json!({"booking_id": format!("b{i}"), "start_time": start,
            "client": {"name": "Ana", "email": format!("c{i}@example.com")}})
        .to_string();
        let metadata = json!({"tenant_id": "acme"}).to_string();
        pipe.xadd(
            &stream,
            "*",
            &[
                ("event_type", "booking.created"),
                ("payload", &payload),
                ("metadata", &metadata),
            ],
        )
        .ignore();
    }
    let _: () = pipe.query_async(&mut redis).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let db = database_url(&pool);
    let (port_a, port_b) = (free_port(), free_port());
    let a = spawn(&bed, &db, &stream, dir.path(), "replica-a", port_a);
    let b = spawn(&bed, &db, &stream, dir.path(), "replica-b", port_b);

    // Both consume the stream: one event and one planned reminder per booking.
    eventually(|| async {
        let n: i64 = sqlx::query_scalar("select count(*) from reminders where status = 'pending'")
            .fetch_one(&pool)
            .await
            .ok()?;
        Some(n)
    })
    .until(|n| *n as usize == BOOKINGS)
    .await;
    // All due now: both replicas' due rounds race for them.
    sqlx::query("update reminders set due_at = now()")
        .execute(&pool)
        .await
        .unwrap();
    let events_worker = bed.worker(events::QUEUE, 8);
    let notify_worker = bed.worker(jobs::kinds::notify::QUEUE, 8);
    let mails = bed.smtp.wait_for(BOOKINGS).await;
    // Sent and settled by the replicas' follow-up rounds.
    eventually(|| async {
        let n: i64 = sqlx::query_scalar(
            "select count(*) from reminders where status = 'sent' and delivery = 'sent'",
        )
        .fetch_one(&pool)
        .await
        .ok()?;
        Some(n)
    })
    .until(|n| *n as usize == BOOKINGS)
    .await;
    // Each replica's /metrics matches Redis: nothing undelivered, nothing pending.
    for port in [port_a, port_b] {
        let g = eventually(|| async { gauges(port, &stream).await })
            .until(|g| {
                g.get("tarefa_stream_lag") == Some(&0.0)
                    && g.get("tarefa_stream_pending") == Some(&0.0)
            })
            .await;
        assert_eq!(g.get("tarefa_stream_oldest_pending_seconds"), Some(&0.0));
    }
    let info: redis::streams::StreamInfoGroupsReply = redis.xinfo_groups(&stream).await.unwrap();
    assert_eq!((info.groups[0].lag, info.groups[0].pending), (Some(0), 0));
    stop(a);
    stop(b);
    events_worker.stop().await;
    notify_worker.stop().await;

    let mut to: Vec<String> = mails.iter().flat_map(|m| m.to.clone()).collect();
    to.sort();
    to.dedup();
    assert_eq!(to.len(), BOOKINGS, "one mail per booking");
    assert_eq!(bed.smtp.mails().len(), BOOKINGS, "no mail twice");
    let rows: i64 = sqlx::query_scalar("select count(*) from notifications where status = 'sent'")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(rows as usize, BOOKINGS);
    let events: i64 = sqlx::query_scalar("select count(*) from events")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(events as usize, BOOKINGS);
}
