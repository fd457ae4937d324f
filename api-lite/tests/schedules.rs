//! `/v1/schedules` over HTTP: CRUD happy path, then each error: validation
//! naming the field, duplicate names, another tenant's ids, scopes.

mod common;

use axum::http::{Method, StatusCode};
use common::*;
use serde_json::{json, Value};
use sqlx::PgPool;

fn body(name: &str) -> Value {
    json!({ "name": name, "cron": "0 30 7 * * Mon-Fri", "kind": "diag.noop", "payload": {}, "catch_up": "last" })
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn a_schedule_is_created_read_listed_replaced_and_deleted(pool: PgPool) {
    let ctx = Ctx::new(pool).await;
    let key = Some(ctx.a.key.as_str());
    let (status, created) = ctx
        .req(
            Method::POST,
            "/v1/schedules",
            key,
            Some(body("boletim semanal")),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(
        created["timezone"], "America/Sao_Paulo",
        "the tenant's zone by default"
    );
    assert_eq!(
        (created["enabled"].clone(), created["catch_up"].clone()),
        (json!(true), json!("last"))
    );
    let uri = format!("/v1/schedules/{}", created["id"].as_str().unwrap());

    let (status, shown) = ctx.req(Method::GET, &uri, key, None).await;
    assert_eq!(
        (status, shown["name"].clone()),
        (StatusCode::OK, json!("boletim semanal"))
    );
    let (_, list) = ctx.req(Method::GET, "/v1/schedules", key, None).await;
    assert_eq!(list["schedules"].as_array().unwrap().len(), 1);

    let edit = json!({ "name": "boletim semanal", "cron": "@daily", "timezone": "America/New_York",
                       "kind": "diag.noop", "enabled": false });
    let (status, updated) = ctx.req(Method::PUT, &uri, key, Some(edit)).await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!(
        (updated["cron"].clone(), updated["timezone"].clone()),
        (json!("@daily"), json!("America/New_York"))
    );
    assert_eq!(
        (updated["enabled"].clone(), updated["catch_up"].clone()),
        (json!(false), json!("none"))
    );

    let (status, _) = ctx.req(Method::DELETE, &uri, key, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, err) = ctx.req(Method::GET, &uri, key, None).await;
    assert_eq!(
        (status, err["error"].clone()),
        (StatusCode::NOT_FOUND, json!("schedule_not_found"))
    );
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn a_bad_field_is_a_422_naming_it(pool: PgPool) {
    let ctx = Ctx::new(pool).await;
    let cases = [
        ("cron", json!("*/5 * * * *")),
        ("cron", json!("0 99 * * * *")),
        ("timezone", json!("America/Sao_Paolo")),
        ("kind", json!("diag.nope")),
        ("payload", json!({ "unexpected": 1 })),
        ("name", json!("")),
    ];
    for (field, value) in cases {
        let mut b = body("x");
        b[field] = value;
        let (status, err) = ctx
            .req(Method::POST, "/v1/schedules", Some(&ctx.a.key), Some(b))
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{field}: {err}");
        assert!(
            err["details"]["field"].as_str().unwrap().starts_with(field),
            "{field}: {err}"
        );
    }
    let mut b = body("x");
    b["catch_up"] = json!("all");
    let (status, err) = ctx
        .req(Method::POST, "/v1/schedules", Some(&ctx.a.key), Some(b))
        .await;
    assert_eq!(
        (status, err["details"]["field"].clone()),
        (StatusCode::UNPROCESSABLE_ENTITY, json!("catch_up"))
    );
    let (_, list) = ctx
        .req(Method::GET, "/v1/schedules", Some(&ctx.a.key), None)
        .await;
    assert!(list["schedules"].as_array().unwrap().is_empty());
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn a_name_is_unique_per_tenant(pool: PgPool) {
    let ctx = Ctx::new(pool).await;
    let (status, _) = ctx
        .req(
            Method::POST,
            "/v1/schedules",
            Some(&ctx.a.key),
            Some(body("relatório")),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, err) = ctx
        .req(
            Method::POST,
            "/v1/schedules",
            Some(&ctx.a.key),
            Some(body("relatório")),
        )
        .await;
    assert_eq!(
        (status, err["error"].clone()),
        (StatusCode::CONFLICT, json!("schedule_name_taken"))
    );
    let (status, _) = ctx
        .req(
            Method::POST,
            "/v1/schedules",
            Some(&ctx.b.key),
            Some(body("relatório")),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::CREATED,
        "another tenant may use the name"
    );
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn another_tenants_schedule_is_a_404_on_every_route(pool: PgPool) {
    let ctx = Ctx::new(pool).await;
    let (_, created) = ctx
        .req(
            Method::POST,
            "/v1/schedules",
            Some(&ctx.a.key),
            Some(body("só da escola alfa")),
        )
        .await;
    let uri = format!("/v1/schedules/{}", created["id"].as_str().unwrap());
    let b = Some(ctx.b.key.as_str());
    for (method, payload) in [
        (Method::GET, None),
        (Method::PUT, Some(body("tomada"))),
        (Method::DELETE, None),
    ] {
        let (status, err) = ctx.req(method.clone(), &uri, b, payload).await;
        assert_eq!(
            (status, err["error"].clone()),
            (StatusCode::NOT_FOUND, json!("schedule_not_found")),
            "{method}"
        );
    }
    let (_, list) = ctx.req(Method::GET, "/v1/schedules", b, None).await;
    assert!(list["schedules"].as_array().unwrap().is_empty());
    let (status, still) = ctx.req(Method::GET, &uri, Some(&ctx.a.key), None).await;
    assert_eq!(
        (status, still["name"].clone()),
        (StatusCode::OK, json!("só da escola alfa"))
    );
    let (status, _) = ctx
        .req(
            Method::GET,
            "/v1/schedules/not-a-uuid",
            Some(&ctx.a.key),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn writing_needs_jobs_write_and_reading_jobs_read(pool: PgPool) {
    let ctx = Ctx::new(pool).await;
    let reader = ctx.key(ctx.a.id, &["jobs:read"]).await;
    let (status, err) = ctx
        .req(
            Method::POST,
            "/v1/schedules",
            Some(&reader),
            Some(body("x")),
        )
        .await;
    assert_eq!(
        (status, err["error"].clone()),
        (StatusCode::FORBIDDEN, json!("insufficient_scope"))
    );
    let (status, _) = ctx
        .req(Method::GET, "/v1/schedules", Some(&reader), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = ctx.req(Method::GET, "/v1/schedules", None, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}
