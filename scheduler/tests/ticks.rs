//! The scheduler over real PostgreSQL and Redis, driven by explicit clocks:
//! replicas enqueue each tick exactly once, catch-up after downtime, disabled
//! and broken schedules, system schedules from the file.

mod common;

use chrono::Duration;
use common::*;
use jobs::store::schedules::{self, CatchUp};
use sqlx::PgPool;

#[sqlx::test(migrator = "jobs::store::MIGRATOR", fixtures("tenants"))]
async fn two_schedulers_enqueue_each_tick_exactly_once(pool: PgPool) {
    let ns = Ns::new();
    let (a, b) = (ns.scheduler(&pool).await, ns.scheduler(&pool).await);
    let t0 = utc("2024-05-06T13:00:00Z");
    let every_10s = create(
        &pool,
        SCHOOL,
        &spec("a cada 10 s", "*/10 * * * * *", CatchUp::None),
        t0,
    )
    .await;
    // 10:00 in São Paulo is 13:00Z: created a minute before, it fires once.
    let daily = create(
        &pool,
        BOOKING,
        &spec("diário", "0 0 10 * * *", CatchUp::None),
        t0 - Duration::minutes(1),
    )
    .await;

    let (mut fired, mut duplicates) = (0, 0);
    for step in 1..=40 {
        let now = t0 + Duration::seconds(3 * step);
        let (ra, rb) = tokio::join!(a.tick(now), b.tick(now));
        for r in [ra.unwrap(), rb.unwrap()] {
            assert_eq!((r.failed, r.invalid, r.skipped), (0, 0, 0), "{r:?}");
            fired += r.fired;
            duplicates += r.duplicates;
        }
    }

    // 12 ticks of the 10-second schedule in (13:00:00, 13:02:00], 1 daily tick.
    assert_eq!(fired, 13);
    assert_eq!(
        duplicates, 0,
        "row locks keep replicas off each other's schedules"
    );
    let engine = ns.engine().await;
    assert_eq!(waiting(&engine).await, 13);
    for s in (10..=120).step_by(10) {
        let tick = t0 + Duration::seconds(s);
        let job = engine
            .job(QUEUE, &scheduler::job_id(every_10s.id, tick))
            .await
            .unwrap()
            .expect("tick job");
        // (the engine runs a past `run_at` at once; the tick lives in the id)
        assert_eq!(
            (job.kind.as_str(), job.tenant.clone()),
            ("diag.noop", SCHOOL.to_string())
        );
    }
    let job = tick_job(&engine, daily.id, "2024-05-06T13:00:00Z")
        .await
        .expect("daily job");
    assert_eq!(job.tenant, BOOKING.to_string());

    let row = row(&pool, SCHOOL, every_10s.id).await;
    assert_eq!(row.last_fired_at, Some(t0 + Duration::seconds(120)));
    assert_eq!(row.next_run_at, Some(t0 + Duration::seconds(130)));
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR", fixtures("tenants"))]
async fn a_tick_enqueued_again_creates_nothing(pool: PgPool) {
    // A replica that pushed and died before committing its cursor: the next
    // one pushes the same tick again, and the job id stops it.
    let ns = Ns::new();
    let s = ns.scheduler(&pool).await;
    let t0 = utc("2024-05-06T13:00:00Z");
    let sched = create(
        &pool,
        SCHOOL,
        &spec("por minuto", "0 * * * * *", CatchUp::None),
        t0,
    )
    .await;
    let now = t0 + Duration::seconds(61);
    assert_eq!(s.tick(now).await.unwrap().fired, 1);

    sqlx::query("update schedules set next_run_at = $2 where id = $1")
        .bind(sched.id)
        .bind(t0 + Duration::seconds(60))
        .execute(&pool)
        .await
        .unwrap();
    let again = s.tick(now).await.unwrap();
    assert_eq!((again.fired, again.duplicates), (0, 1));
    assert_eq!(waiting(&ns.engine().await).await, 1);
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR", fixtures("tenants"))]
async fn after_downtime_none_drops_missed_ticks_and_last_fires_the_latest(pool: PgPool) {
    let ns = Ns::new();
    let s = ns.scheduler(&pool).await;
    let t0 = utc("2024-05-06T13:00:00Z");
    let none = create(
        &pool,
        SCHOOL,
        &spec("sem recuperação", "0 * * * * *", CatchUp::None),
        t0,
    )
    .await;
    let last = create(
        &pool,
        SCHOOL,
        &spec("recupera a última", "0 * * * * *", CatchUp::Last),
        t0,
    )
    .await;
    assert_eq!(s.tick(t0 + Duration::seconds(30)).await.unwrap().fired, 0);

    // Down until 13:10:30: 13:01-13:09 were missed, 13:10 is on time.
    let r = s.tick(utc("2024-05-06T13:10:30Z")).await.unwrap();
    assert_eq!(r.fired, 1 + 2);
    assert_eq!(r.skipped, 9 + 8);

    let engine = ns.engine().await;
    assert!(tick_job(&engine, none.id, "2024-05-06T13:10:00Z")
        .await
        .is_some());
    assert!(tick_job(&engine, none.id, "2024-05-06T13:09:00Z")
        .await
        .is_none());
    assert!(tick_job(&engine, last.id, "2024-05-06T13:09:00Z")
        .await
        .is_some());
    assert!(tick_job(&engine, last.id, "2024-05-06T13:08:00Z")
        .await
        .is_none());
    assert!(tick_job(&engine, last.id, "2024-05-06T13:10:00Z")
        .await
        .is_some());
    assert_eq!(waiting(&engine).await, 3);
    let row = row(&pool, SCHOOL, none.id).await;
    assert_eq!(row.last_fired_at, Some(utc("2024-05-06T13:10:00Z")));
    assert_eq!(row.next_run_at, Some(utc("2024-05-06T13:11:00Z")));
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR", fixtures("tenants"))]
async fn disabled_schedules_do_not_fire_and_enabling_brings_no_backlog(pool: PgPool) {
    let ns = Ns::new();
    let s = ns.scheduler(&pool).await;
    let t0 = utc("2024-05-06T13:00:00Z");
    let mut off = spec("desligado", "0 * * * * *", CatchUp::Last);
    off.enabled = false;
    let sched = create(&pool, SCHOOL, &off, t0).await;
    let r = s.tick(t0 + Duration::minutes(5)).await.unwrap();
    assert_eq!((r.claimed, r.fired), (0, 0));

    off.enabled = true;
    let enabled_at = t0 + Duration::minutes(10);
    schedules::update(
        &pool,
        SCHOOL,
        sched.id,
        &off,
        "America/Sao_Paulo",
        enabled_at,
    )
    .await
    .unwrap()
    .unwrap();
    let r = s.tick(enabled_at + Duration::seconds(61)).await.unwrap();
    assert_eq!(
        (r.fired, r.skipped),
        (1, 0),
        "only 13:11, nothing from the disabled minutes"
    );
    let engine = ns.engine().await;
    assert!(tick_job(&engine, sched.id, "2024-05-06T13:11:00Z")
        .await
        .is_some());
    assert_eq!(waiting(&engine).await, 1);
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR", fixtures("tenants"))]
async fn a_row_that_cannot_run_is_shelved_for_an_hour(pool: PgPool) {
    let ns = Ns::new();
    let s = ns.scheduler(&pool).await;
    let t0 = utc("2024-05-06T13:00:00Z");
    let sched = create(
        &pool,
        SCHOOL,
        &spec("tipo removido", "0 * * * * *", CatchUp::None),
        t0,
    )
    .await;
    // A kind this build no longer has (rows are validated when written, not after upgrades).
    sqlx::query("update schedules set kind = 'legacy.report' where id = $1")
        .bind(sched.id)
        .execute(&pool)
        .await
        .unwrap();
    let now = t0 + Duration::minutes(2);
    let r = s.tick(now).await.unwrap();
    assert_eq!((r.invalid, r.fired), (1, 0));
    assert_eq!(
        row(&pool, SCHOOL, sched.id).await.next_run_at,
        Some(now + Duration::hours(1))
    );
    assert_eq!(s.tick(now + Duration::minutes(1)).await.unwrap().claimed, 0);
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR", fixtures("tenants"))]
async fn file_schedules_run_as_system_and_keep_their_cursor_across_restarts(pool: PgPool) {
    let ns = Ns::new();
    let s = ns.scheduler(&pool).await;
    let t0 = utc("2024-05-06T05:00:00Z"); // 02:00 in São Paulo
    let daily = spec("noop-diário", "0 0 3 * * *", CatchUp::None);
    scheduler::file::sync(&pool, std::slice::from_ref(&daily), t0)
        .await
        .unwrap();
    let r = s.tick(utc("2024-05-06T06:00:05Z")).await.unwrap();
    assert_eq!(r.fired, 1);
    let all = schedules::list_enabled(&pool).await.unwrap();
    let row = all
        .iter()
        .find(|r| r.name == "noop-diário")
        .expect("system row");
    assert_eq!(row.tenant_id, None);
    let job = tick_job(&ns.engine().await, row.id, "2024-05-06T06:00:00Z")
        .await
        .expect("job");
    assert_eq!(job.tenant, schedules::SYSTEM_TENANT);

    // A restart with the same file keeps the cursor; a changed expression resets it.
    scheduler::file::sync(&pool, std::slice::from_ref(&daily), t0 + Duration::hours(2))
        .await
        .unwrap();
    let kept = schedules::list_enabled(&pool).await.unwrap().remove(0);
    assert_eq!(
        (kept.id, kept.next_run_at),
        (row.id, Some(utc("2024-05-07T06:00:00Z")))
    );
    let changed = spec("noop-diário", "0 0 4 * * *", CatchUp::None);
    scheduler::file::sync(&pool, &[changed], t0 + Duration::hours(2))
        .await
        .unwrap();
    assert_eq!(
        schedules::list_enabled(&pool).await.unwrap()[0].next_run_at,
        None
    );
    // Removed from the file: gone.
    scheduler::file::sync(&pool, &[], t0 + Duration::hours(3))
        .await
        .unwrap();
    assert!(schedules::list_enabled(&pool).await.unwrap().is_empty());
}
