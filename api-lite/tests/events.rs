//! `POST /v1/events` and `GET /v1/bookings/{id}/reminders` over the real
//! PostgreSQL and Redis: a batch recorded once (a repeat is `duplicate`),
//! bad envelopes answered 422 naming the field with nothing recorded, the
//! batch cap, another tenant's bookings invisible, and the tenant webhook
//! deliveries of a booking listed in order (`GET /v1/bookings/{id}/webhooks`).

mod common;

use axum::http::{Method, StatusCode};
use chrono::NaiveTime;
use common::*;
use jobs::kinds::events::sql;
use serde_json::{json, Value};
use sqlx::PgPool;
use uuid::Uuid;

fn created(id: &str, booking: &str) -> Value {
    json!({"id": id, "event_type": "session.scheduled",
        "payload": {"session_id": booking, "start_time": "2099-03-10T13:00:00-03:00",
                    "end_time": "2099-03-10T14:00:00-03:00", "student": {"email": "bia@example.com"}}})
}

async fn one_hour_rule(pool: &PgPool, tenant: Uuid) {
    sql::insert_rule(
        pool,
        &sql::Rule {
            id: Uuid::now_v7(),
            tenant_id: tenant,
            family: "session".into(),
            name: "1h".into(),
            trigger: "before_start".into(),
            offset_minutes: 60,
            local_time: None::<NaiveTime>,
            audience: "client".into(),
            channels: vec!["email".into()],
            template: None,
            urgent: false,
        },
    )
    .await
    .unwrap();
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn events_are_recorded_once_and_plan_reminders(pool: PgPool) {
    let ctx = Ctx::new(pool.clone()).await;
    one_hour_rule(&pool, ctx.a.id).await;
    let body = json!({"events": [created("e1", "s1"),
        {"id": "e2", "event_type": "session.rescheduled",
         "payload": {"session_id": "s1", "changes": {"start_time": "2099-03-11T13:00:00-03:00"}},
         "metadata": {"occurred_at": "2099-01-01T00:00:00Z"}}]});
    let (status, out) = ctx
        .req(
            Method::POST,
            "/v1/events",
            Some(&ctx.a.key),
            Some(body.clone()),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{out}");
    assert_eq!(out["results"][0]["outcome"], "applied");
    assert_eq!(out["results"][1]["version"], 2);
    let (_, again) = ctx
        .req(Method::POST, "/v1/events", Some(&ctx.a.key), Some(body))
        .await;
    assert_eq!(again["results"][0]["outcome"], "duplicate");
    assert_eq!(again["results"][1]["outcome"], "duplicate");
    let (status, list) = ctx
        .req(
            Method::GET,
            "/v1/bookings/s1/reminders",
            Some(&ctx.a.key),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let rows = list["reminders"].as_array().unwrap();
    let live: Vec<_> = rows.iter().filter(|r| r["status"] == "pending").collect();
    assert_eq!(live.len(), 1);
    assert_eq!(live[0]["due_at"], "2099-03-11T15:00:00Z");
    // Tenant B sees nothing of A's session.
    let (_, other) = ctx
        .req(
            Method::GET,
            "/v1/bookings/s1/reminders",
            Some(&ctx.b.key),
            None,
        )
        .await;
    assert_eq!(other["reminders"], json!([]));
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn bad_envelopes_are_422_naming_the_field_and_record_nothing(pool: PgPool) {
    let ctx = Ctx::new(pool.clone()).await;
    let mut no_id = created("x", "s9");
    no_id.as_object_mut().unwrap().remove("id");
    let cases = [
        (
            json!({"events": [created("ok", "s2"), {"id": "b", "event_type": "session.scheduled",
            "payload": {"session_id": "s3", "start_time": "10/03/2099 13:00"}}]}),
            "events[1].payload.start_time",
        ),
        (
            json!({"events": [{"id": "b", "event_type": "session.teleported", "payload": {}}]}),
            "events[0].event_type",
        ),
        (
            json!({"events": [{"id": "b", "event_type": "booking.created", "payload": {"start_time": "2099-03-10T13:00:00Z"}}]}),
            "events[0].payload.booking_id",
        ),
        (json!({"events": [no_id]}), "events[0].id"),
        (json!({"events": []}), "events"),
    ];
    for (body, field) in cases {
        let (status, out) = ctx
            .req(Method::POST, "/v1/events", Some(&ctx.a.key), Some(body))
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{field}: {out}");
        assert_eq!(out["details"]["field"], field, "{out}");
        assert!(out["error"].is_string() && out["message"].is_string());
    }
    let too_many: Vec<Value> = (0..1001).map(|i| created(&format!("e{i}"), "s4")).collect();
    let (status, out) = ctx
        .req(
            Method::POST,
            "/v1/events",
            Some(&ctx.a.key),
            Some(json!({"events": too_many})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(out["details"]["field"], "events");
    let (status, _) = ctx
        .req(
            Method::POST,
            "/v1/events",
            Some(&ctx.a.key),
            Some(json!({"evnts": []})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let n: i64 = sqlx::query_scalar("select count(*) from events")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(n, 0, "a bad batch records nothing");
    let (status, _) = ctx
        .req(
            Method::POST,
            "/v1/events",
            None,
            Some(json!({"events": [created("e", "s")]})),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn rules_and_settings_are_checked_then_used(pool: PgPool) {
    let ctx = Ctx::new(pool.clone()).await;
    let key = Some(ctx.a.key.as_str());
    let bad = [
        (
            json!({"family": "session", "name": "véspera", "trigger": "day_before_at", "channels": ["email"]}),
            "local_time",
        ),
        (
            json!({"family": "session", "name": "x", "trigger": "day_before_at", "local_time": "6pm", "channels": ["email"]}),
            "local_time",
        ),
        (
            json!({"family": "session", "name": "x", "trigger": "before_start", "channels": ["fax"]}),
            "channels[0]",
        ),
        (
            json!({"family": "session", "name": "x", "trigger": "before_start", "channels": ["sms"], "template": "{{ nope }}"}),
            "template",
        ),
        (
            json!({"family": "party", "name": "x", "trigger": "before_start", "channels": ["sms"]}),
            "family",
        ),
    ];
    for (body, field) in bad {
        let (status, out) = ctx
            .req(Method::POST, "/v1/reminder-rules", key, Some(body))
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{out}");
        assert_eq!(out["details"]["field"], field, "{out}");
    }
    let (status, rule) = ctx.req(Method::POST, "/v1/reminder-rules", key, Some(json!({
        "family": "session", "name": "véspera às 18h", "trigger": "day_before_at", "local_time": "18:00",
        "channels": ["email"], "template": "{{ booking_label }} amanhã às {{ time }}"}))).await;
    assert_eq!(status, StatusCode::CREATED, "{rule}");
    let (status, _) = ctx
        .req(
            Method::PUT,
            "/v1/events/settings",
            key,
            Some(json!({"labels": {"booking": "Aula"}, "webhook_events": ["session.*"]})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, out) = ctx
        .req(
            Method::PUT,
            "/v1/events/settings",
            key,
            Some(json!({"labels": {"sala": "x"}})),
        )
        .await;
    assert_eq!(
        (status, out["details"]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("labels.sala"))
    );
    let (_, out) = ctx
        .req(
            Method::POST,
            "/v1/events",
            key,
            Some(json!({"events": [created("e1", "s1")]})),
        )
        .await;
    assert_eq!(out["results"][0]["planned"], 1);
    let (_, list) = ctx
        .req(Method::GET, "/v1/bookings/s1/reminders", key, None)
        .await;
    // 18:00 in São Paulo on 9 March = 21:00 UTC.
    assert_eq!(list["reminders"][0]["due_at"], "2099-03-09T21:00:00Z");
    let (status, _) = ctx
        .req(
            Method::DELETE,
            &format!("/v1/reminder-rules/{}", rule["id"].as_str().unwrap()),
            Some(&ctx.b.key),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "another tenant's rule");
    let (status, _) = ctx
        .req(
            Method::DELETE,
            &format!("/v1/reminder-rules/{}", rule["id"].as_str().unwrap()),
            key,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, rules) = ctx.req(Method::GET, "/v1/reminder-rules", key, None).await;
    assert_eq!(rules["rules"], json!([]));
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn dead_letters_are_listed_retried_and_discarded_per_tenant(pool: PgPool) {
    let ctx = Ctx::new(pool.clone()).await;
    sql::map_external(&pool, "booking", "acme", ctx.a.id)
        .await
        .unwrap();
    let good = json!({"event_type": "booking.created", "metadata": "{\"tenant_id\": \"acme\"}",
        "payload": "{\"booking_id\": \"b1\", \"start_time\": \"2099-03-10T13:00:00Z\"}"});
    let bad = json!({"event_type": "booking.created", "metadata": "{\"tenant_id\": \"acme\"}", "payload": "{\"booking_id\": \"b2\"}"});
    sql::insert_dead_letter(
        &pool,
        "booking-events",
        "1-1",
        Some(ctx.a.id),
        &good,
        "postgres: timeout",
        5,
    )
    .await
    .unwrap();
    sql::insert_dead_letter(
        &pool,
        "booking-events",
        "1-2",
        Some(ctx.a.id),
        &bad,
        "malformed",
        1,
    )
    .await
    .unwrap();
    let (_, other) = ctx
        .req(
            Method::GET,
            "/v1/events/dead-letters",
            Some(&ctx.b.key),
            None,
        )
        .await;
    assert_eq!(other["dead_letters"], json!([]));
    let (_, list) = ctx
        .req(
            Method::GET,
            "/v1/events/dead-letters",
            Some(&ctx.a.key),
            None,
        )
        .await;
    let rows = list["dead_letters"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    let id = |entry: &str| {
        rows.iter().find(|r| r["entry_id"] == entry).unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let (good_id, bad_id) = (id("1-1"), id("1-2"));
    let (status, _) = ctx
        .req(
            Method::POST,
            &format!("/v1/events/dead-letters/{good_id}/retry"),
            Some(&ctx.b.key),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, out) = ctx
        .req(
            Method::POST,
            &format!("/v1/events/dead-letters/{good_id}/retry"),
            Some(&ctx.a.key),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{out}");
    assert_eq!(
        (out["outcome"].as_str(), out["event_id"].as_str()),
        (Some("applied"), Some("booking-events:1-1"))
    );
    let (status, _) = ctx
        .req(
            Method::POST,
            &format!("/v1/events/dead-letters/{good_id}/retry"),
            Some(&ctx.a.key),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "closed");
    let (status, out) = ctx
        .req(
            Method::POST,
            &format!("/v1/events/dead-letters/{bad_id}/retry"),
            Some(&ctx.a.key),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        out["message"]
            .as_str()
            .unwrap()
            .contains("payload.start_time"),
        "{out}"
    );
    let (status, _) = ctx
        .req(
            Method::POST,
            &format!("/v1/events/dead-letters/{bad_id}/discard"),
            Some(&ctx.a.key),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, list) = ctx
        .req(
            Method::GET,
            "/v1/events/dead-letters",
            Some(&ctx.a.key),
            None,
        )
        .await;
    assert_eq!(list["dead_letters"], json!([]));
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn webhook_deliveries_are_listed_in_order_per_booking_and_tenant(pool: PgPool) {
    let ctx = Ctx::new(pool.clone()).await;
    sql::set_webhook_events(&pool, ctx.a.id, &["session.*".to_string()])
        .await
        .unwrap();
    let body = json!({"events": [created("e1", "s1"),
        {"id": "e2", "event_type": "session.cancelled", "payload": {"session_id": "s1"},
         "metadata": {"occurred_at": "2099-01-01T00:00:00Z"}}]});
    let (status, out) = ctx
        .req(Method::POST, "/v1/events", Some(&ctx.a.key), Some(body))
        .await;
    assert_eq!(status, StatusCode::OK, "{out}");
    let (status, list) = ctx
        .req(
            Method::GET,
            "/v1/bookings/s1/webhooks",
            Some(&ctx.a.key),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{list}");
    let view: Vec<(i64, &str, &str, Option<&str>)> = list["deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["seq"].as_i64().unwrap(),
                d["event_type"].as_str().unwrap(),
                d["state"].as_str().unwrap(),
                d["status"].as_str(),
            )
        })
        .collect();
    // No worker runs here: the head waits in the outbox, the cancel behind it.
    assert_eq!(
        view,
        [
            (1, "session.scheduled", "released", Some("queued")),
            (2, "session.cancelled", "waiting", None)
        ]
    );
    assert_eq!(list["deliveries"][0]["attempts"], 0);
    let (_, other) = ctx
        .req(
            Method::GET,
            "/v1/bookings/s1/webhooks",
            Some(&ctx.b.key),
            None,
        )
        .await;
    assert_eq!(other["deliveries"], json!([]));
}
