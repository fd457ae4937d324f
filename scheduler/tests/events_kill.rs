//! A real `scheduler` process consuming a booking stream is SIGKILLed while
//! entries it read are still unacknowledged; a second process reclaims them
//! (XAUTOCLAIM after `min_idle_ms`). In effect every entry is handled once
//! (one event row each, one live reminder per booking) and nothing is left
//! pending; the survivor then stops cleanly on SIGTERM.

mod common;

use std::process::{Child, Command};
use std::time::Duration;

use common::Ns;
use jobs::kinds::events::sql;
use jobs::testing::{create_tenant, eventually};
use redis::AsyncCommands;
use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;

// Enough that a batched consumer (100 per transaction) is still mid-stream when killed.
const ENTRIES: usize = 3_000;

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

fn spawn(ns: &Ns, db_url: &str, stream: &str, schedules: &std::path::Path, name: &str) -> Child {
    let streams = format!(
        r#"[{{key="{stream}", start_id="0", batch=100, block_ms=100, min_idle_ms=300, max_deliveries=5}}]"#
    );
    Command::new(env!("CARGO_BIN_EXE_scheduler"))
        .env("TAREFA__DATABASE__URL", db_url)
        .env("TAREFA__REDIS__URL", &ns.settings.redis.url)
        .env("TAREFA__REDIS__PREFIX", &ns.settings.redis.prefix)
        .env("TAREFA__SCHEDULER__SCHEDULES_FILE", schedules)
        .env("TAREFA__SCHEDULER__STREAMS", streams)
        .env(
            "TAREFA_CONFIG_DIR",
            concat!(env!("CARGO_MANIFEST_DIR"), "/../config"),
        )
        .env("HOSTNAME", name)
        .env("RUST_LOG", "warn")
        .spawn()
        .expect("scheduler binary")
}

async fn count(pool: &PgPool, tenant: Uuid) -> i64 {
    sqlx::query_scalar("select count(*) from events where tenant_id = $1")
        .bind(tenant)
        .fetch_one(pool)
        .await
        .unwrap()
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn a_consumer_killed_mid_batch_loses_and_doubles_nothing(pool: PgPool) {
    let ns = Ns::new();
    let stream = format!("{}:booking-events", ns.settings.redis.prefix);
    let tenant = create_tenant(&pool, "Agenda Alfa").await.id;
    sql::map_external(&pool, "booking", "acme", tenant)
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
    let mut redis = redis::Client::open(ns.settings.redis.url.as_str())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let mut pipe = redis::pipe();
    for i in 0..ENTRIES {
        let payload = json!({"booking_id": format!("b{i}"), "start_time": "2099-03-10T13:00:00Z"})
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
    let schedules = dir.path().join("schedules.toml");
    std::fs::write(&schedules, "").unwrap();
    let db = database_url(&pool);

    let mut victim = spawn(&ns, &db, &stream, &schedules, "victim");
    // Kill it while it holds read-but-unacknowledged entries, after some commits.
    let pending_at_kill = eventually(|| async {
        let n = count(&pool, tenant).await;
        let mut c = redis.clone();
        let p: redis::streams::StreamPendingReply = c.xpending(&stream, "tarefa").await.ok()?;
        Some((n, p.count()))
    })
    .every(Duration::from_millis(2))
    .until(|(n, p)| *n > 0 && *p > 0)
    .await;
    victim.kill().unwrap();
    victim.wait().unwrap();
    let recorded_at_kill = count(&pool, tenant).await;
    assert!(
        (recorded_at_kill as usize) < ENTRIES,
        "killed too late to prove anything"
    );

    let mut survivor = spawn(&ns, &db, &stream, &schedules, "survivor");
    eventually(|| async {
        let mut c = redis.clone();
        let p: redis::streams::StreamPendingReply = c.xpending(&stream, "tarefa").await.ok()?;
        let info: redis::streams::StreamInfoGroupsReply = c.xinfo_groups(&stream).await.ok()?;
        Some((count(&pool, tenant).await, p.count(), info.groups[0].lag))
    })
    .every(Duration::from_millis(20))
    .until(|(n, p, lag)| *n as usize == ENTRIES && *p == 0 && *lag == Some(0))
    .await;
    Command::new("kill")
        .arg("-TERM")
        .arg(survivor.id().to_string())
        .status()
        .unwrap();
    assert!(
        survivor.wait().unwrap().success(),
        "survivor did not stop cleanly"
    );

    assert!(pending_at_kill.1 > 0);
    assert_eq!(
        count(&pool, tenant).await as usize,
        ENTRIES,
        "one event per entry"
    );
    let live: i64 = sqlx::query_scalar(
        "select count(*) from reminders where tenant_id = $1 and status = 'pending'",
    )
    .bind(tenant)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(live as usize, ENTRIES, "one live reminder per booking");
    let dead = sql::dead_letters(&pool, &stream).await.unwrap();
    assert!(dead.is_empty(), "{dead:?}");
}
