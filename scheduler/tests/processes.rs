//! Two real `scheduler` processes side by side, reading the same per-second
//! system schedule from a schedules file, enqueue every tick exactly once:
//! the jobs' ticks are distinct and consecutive (no tick twice, none skipped).

mod common;

use std::collections::BTreeSet;
use std::process::{Child, Command};
use std::time::Duration;

use common::{Ns, QUEUE};
use jobs::engine::JobStatus;
use sqlx::PgPool;

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

fn spawn(ns: &Ns, db_url: &str, schedules: &std::path::Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_scheduler"))
        .env("TAREFA__DATABASE__URL", db_url)
        .env("TAREFA__REDIS__URL", &ns.settings.redis.url)
        .env("TAREFA__REDIS__PREFIX", &ns.settings.redis.prefix)
        .env("TAREFA__SCHEDULER__SCHEDULES_FILE", schedules)
        .env("TAREFA__SCHEDULER__TICK_MS", "100")
        .env(
            "TAREFA_CONFIG_DIR",
            concat!(env!("CARGO_MANIFEST_DIR"), "/../config"),
        )
        .env("RUST_LOG", "warn")
        .spawn()
        .expect("scheduler binary")
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn two_scheduler_processes_enqueue_each_tick_once(pool: PgPool) {
    let ns = Ns::new();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("schedules.toml");
    std::fs::write(
        &file,
        "[[schedule]]\nname = \"every-second\"\ncron = \"* * * * * *\"\nkind = \"diag.noop\"\n",
    )
    .unwrap();
    let db = database_url(&pool);
    let mut a = spawn(&ns, &db, &file);
    let mut b = spawn(&ns, &db, &file);
    let engine = ns.engine().await;
    // Let both run over several ticks.
    loop {
        let c = engine.counts(QUEUE).await.unwrap();
        if c.queued >= 5 {
            break;
        }
        assert!(a.try_wait().unwrap().is_none(), "scheduler a exited");
        assert!(b.try_wait().unwrap().is_none(), "scheduler b exited");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for p in [&mut a, &mut b] {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(p.id().to_string())
            .status();
        assert!(
            p.wait().unwrap().success(),
            "scheduler did not stop cleanly"
        );
    }
    let page = engine
        .list(QUEUE, JobStatus::Queued, None, 500, None)
        .await
        .unwrap();
    let ticks: Vec<i64> = page
        .jobs
        .iter()
        .map(|j| j.id.rsplit('-').next().unwrap().parse::<i64>().unwrap())
        .collect();
    let distinct: BTreeSet<i64> = ticks.iter().copied().collect();
    assert_eq!(
        distinct.len(),
        ticks.len(),
        "a tick was enqueued twice: {ticks:?}"
    );
    let ordered: Vec<i64> = distinct.into_iter().collect();
    assert!(ordered.len() >= 5);
    for w in ordered.windows(2) {
        assert_eq!(w[1] - w[0], 1000, "ticks skipped or doubled: {ordered:?}");
    }
    assert_eq!(
        engine.counts(QUEUE).await.unwrap().queued as usize,
        ordered.len()
    );
}
