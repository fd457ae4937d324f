//! `jobs::store::schedules` over a fresh database: tenant scoping on every
//! call, the unique name per tenant, and that edits clear the cursor.

mod common;

use chrono::Duration;
use common::*;
use jobs::store::schedules::{self, CatchUp};
use sqlx::PgPool;

#[sqlx::test(migrator = "jobs::store::MIGRATOR", fixtures("tenants"))]
async fn another_tenants_schedule_is_invisible(pool: PgPool) {
    let t0 = utc("2024-05-06T13:00:00Z");
    let s = create(&pool, SCHOOL, &spec("boletim", "@daily", CatchUp::None), t0).await;
    assert_eq!(schedules::get(&pool, BOOKING, s.id).await.unwrap(), None);
    assert!(schedules::list(&pool, BOOKING).await.unwrap().is_empty());
    let other = spec("sequestro", "@hourly", CatchUp::Last);
    assert_eq!(
        schedules::update(&pool, BOOKING, s.id, &other, "UTC", t0)
            .await
            .unwrap(),
        None
    );
    assert!(!schedules::delete(&pool, BOOKING, s.id).await.unwrap());
    assert_eq!(row(&pool, SCHOOL, s.id).await.name, "boletim");
    assert!(schedules::delete(&pool, SCHOOL, s.id).await.unwrap());
    assert!(schedules::list(&pool, SCHOOL).await.unwrap().is_empty());
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR", fixtures("tenants"))]
async fn names_are_unique_per_tenant(pool: PgPool) {
    let t0 = utc("2024-05-06T13:00:00Z");
    let s = spec("relatório semanal", "0 0 8 * * Mon", CatchUp::None);
    create(&pool, SCHOOL, &s, t0).await;
    let err = schedules::create(&pool, SCHOOL, &s, "America/Sao_Paulo", t0)
        .await
        .unwrap_err();
    let constraint = err
        .as_database_error()
        .and_then(|e| e.constraint())
        .map(str::to_string);
    assert_eq!(constraint.as_deref(), Some(schedules::UNIQUE_NAME));
    create(&pool, BOOKING, &s, t0).await; // same name, other tenant: fine
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR", fixtures("tenants"))]
async fn an_update_replaces_the_definition_and_clears_the_cursor(pool: PgPool) {
    let t0 = utc("2024-05-06T13:00:00Z");
    let s = create(
        &pool,
        SCHOOL,
        &spec("frequência", "0 0 7 * * *", CatchUp::None),
        t0,
    )
    .await;
    schedules::record_tick(&pool, s.id, Some(t0 + Duration::hours(1)), Some(t0))
        .await
        .unwrap();
    let mut edit = spec("frequência", "0 30 7 * * Mon-Fri", CatchUp::Last);
    edit.payload = serde_json::json!({});
    let later = t0 + Duration::minutes(5);
    let u = schedules::update(&pool, SCHOOL, s.id, &edit, "America/Sao_Paulo", later)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (u.cron.as_str(), u.catch_up, u.next_run_at),
        ("0 30 7 * * Mon-Fri", CatchUp::Last, None)
    );
    assert_eq!(
        (u.last_fired_at, u.updated_at, u.created_at),
        (Some(t0), later, t0)
    );
}
