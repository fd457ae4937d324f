//! Tenant webhooks for events against PostgreSQL, Redis (the bed's prefix),
//! an in-process notifications worker and the bed's signed webhook
//! receiver: deliveries for one booking go out in order even when the first
//! one's first attempt fails (and are listed with their attempts), and a
//! reminder's outcome reaches the tenant as `reminder.sent` or
//! `reminder.failed` — when its message fails, and when its `events.remind`
//! job gives up. The scheduler's follow-up round is run by the test, as
//! `scheduler` runs it every 500 ms.

use chrono::{Duration, Utc};
use jobs::kinds::events::{self, due, follow, ingest, sql, webhook, Envelope, Event, Source};
use jobs::kinds::notify::admin;
use jobs::testing::{eventually, Bed};
use serde_json::{json, Value};
use sqlx::PgPool;
use uuid::Uuid;

fn envelope(id: &str, event_type: &str, payload: Value, at: chrono::DateTime<Utc>) -> Envelope {
    serde_json::from_value(json!({
        "id": id, "event_type": event_type, "payload": payload,
        "metadata": {"occurred_at": at.to_rfc3339()},
    }))
    .unwrap()
}

/// The bed's tenant with a webhook channel to the receiver, subscribed to `events`.
async fn hooked(bed: &Bed, secret_env: &str, events: &[&str]) {
    Bed::set_env(secret_env, "whsec_order");
    bed.fakes.set_webhook_secret("whsec_order");
    let url = format!("{}/hook", bed.fakes.base_url());
    admin::put_channel(
        &bed.pool,
        bed.tenant,
        "webhook",
        &json!({"url": url, "secret_env": secret_env}),
        true,
    )
    .await
    .unwrap();
    let events: Vec<String> = events.iter().map(|s| s.to_string()).collect();
    sql::set_webhook_events(&bed.pool, bed.tenant, &events)
        .await
        .unwrap();
}

/// Records the event and publishes its webhook, as the consumer and the API do.
async fn record(bed: &Bed, env: Envelope) {
    let event = Event::parse(&env).unwrap();
    let raw = serde_json::to_value(&env).unwrap();
    let now = Utc::now();
    let source = Source {
        name: "http",
        entry_id: None,
    };
    let rec = ingest(&bed.pool, bed.tenant, source, &event, &raw, now)
        .await
        .unwrap();
    ingest::publish(&bed.pool, &bed.engine, bed.tenant, &event, &rec, &raw)
        .await
        .unwrap();
}

async fn rule(pool: &PgPool, tenant: Uuid, template: Option<&str>) -> Uuid {
    sql::insert_rule(
        pool,
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
            template: template.map(str::to_string),
            urgent: false,
        },
    )
    .await
    .unwrap()
}

fn hook_event(s: &jobs::testing::providers::Seen) -> (String, Value) {
    let body: Value = serde_json::from_str(&s.body).unwrap();
    (
        body["event"].as_str().unwrap_or("").to_string(),
        body["data"].clone(),
    )
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn one_bookings_webhooks_go_out_in_order_when_the_first_attempt_fails(pool: PgPool) {
    let bed = Bed::new(pool.clone()).await;
    hooked(&bed, "TEST_ORDER_WEBHOOK_SECRET", &["booking.*"]).await;
    // The receiver refuses the first request it gets: b1's `booking.created`.
    bed.fakes.fail_next(&[500]);
    let notify = bed.worker(jobs::kinds::notify::QUEUE, 4);
    let at = Utc::now();
    let start = (at + Duration::days(3)).to_rfc3339();
    record(
        &bed,
        envelope(
            "c1",
            "booking.created",
            json!({"booking_id": "b1", "start_time": start}),
            at,
        ),
    )
    .await;
    record(
        &bed,
        envelope(
            "u1",
            "booking.updated",
            json!({"booking_id": "b1", "changes": {"status": "confirmed"}}),
            at + Duration::seconds(1),
        ),
    )
    .await;
    record(
        &bed,
        envelope(
            "x1",
            "booking.cancelled",
            json!({"booking_id": "b1"}),
            at + Duration::seconds(2),
        ),
    )
    .await;
    // Only the head is released; the others wait for it.
    let listed = webhook::deliveries_of(&pool, bed.tenant, "b1")
        .await
        .unwrap();
    let states: Vec<&str> = listed.iter().map(|d| d.state.as_str()).collect();
    assert_eq!(states, ["released", "waiting", "waiting"]);
    // The scheduler's rounds advance the sequence as each becomes final.
    let seen = eventually(|| async {
        follow::round(&pool, &bed.engine, follow::BATCH_DEFAULT)
            .await
            .unwrap();
        let seen = bed.fakes.seen("webhook");
        (seen.len() >= 4).then_some(seen)
    })
    .some()
    .await;
    let order: Vec<String> = seen
        .iter()
        .map(|s| hook_event(s).1["event_id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        order,
        ["c1", "c1", "u1", "x1"],
        "retried head first, then in order"
    );
    assert!(seen.iter().all(|s| s.verified));
    let listed = eventually(|| async {
        follow::round(&pool, &bed.engine, follow::BATCH_DEFAULT)
            .await
            .unwrap();
        let l = webhook::deliveries_of(&pool, bed.tenant, "b1")
            .await
            .unwrap();
        l.iter().all(|d| d.state == "done").then_some(l)
    })
    .some()
    .await;
    let view: Vec<(i64, &str, Option<&str>, i32)> = listed
        .iter()
        .map(|d| {
            (
                d.seq,
                d.event_type.as_str(),
                d.status.as_deref(),
                d.attempts,
            )
        })
        .collect();
    assert_eq!(
        view,
        [
            (1, "booking.created", Some("sent"), 2),
            (2, "booking.updated", Some("sent"), 1),
            (3, "booking.cancelled", Some("sent"), 1)
        ]
    );
    assert_eq!(seen.len(), 4, "nothing sent twice");
    notify.stop().await;
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn another_bookings_webhooks_do_not_wait_for_a_failing_one(pool: PgPool) {
    let bed = Bed::new(pool.clone()).await;
    hooked(&bed, "TEST_ORDER2_WEBHOOK_SECRET", &["booking.created"]).await;
    let at = Utc::now();
    let start = (at + Duration::days(3)).to_rfc3339();
    for b in ["b1", "b2"] {
        record(
            &bed,
            envelope(
                &format!("c-{b}"),
                "booking.created",
                json!({"booking_id": b, "start_time": start}),
                at,
            ),
        )
        .await;
    }
    // Both heads are released at once: the order is per booking only.
    for b in ["b1", "b2"] {
        let l = webhook::deliveries_of(&pool, bed.tenant, b).await.unwrap();
        assert_eq!(l.len(), 1);
        assert_eq!(
            (l[0].state.as_str(), l[0].status.as_deref()),
            ("released", Some("queued"))
        );
    }
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn a_reminders_outcome_reaches_the_tenant_as_sent_or_failed(pool: PgPool) {
    let bed = Bed::new(pool.clone()).await;
    hooked(
        &bed,
        "TEST_OUTCOME_WEBHOOK_SECRET",
        &["reminder.sent", "reminder.failed"],
    )
    .await;
    rule(&pool, bed.tenant, None).await;
    let now = Utc::now();
    // Due in a second: one client whose email goes out, one whose email fails
    // (the tenant's email channel is disabled once the first is sent).
    let start = now + Duration::minutes(60) + Duration::seconds(1);
    for (b, email) in [("ok", "ana@example.com"), ("bad", "bia@example.com")] {
        record(
            &bed,
            envelope(
                &format!("c-{b}"),
                "booking.created",
                json!({"booking_id": b, "start_time": start.to_rfc3339(), "client": {"email": email}}),
                now,
            ),
        )
        .await;
    }
    admin::put_channel(
        &pool,
        bed.tenant,
        "email",
        &json!({"from": "agenda@alfa.com.br"}),
        true,
    )
    .await
    .unwrap();
    let events_worker = bed.worker(events::QUEUE, 2);
    // "ok" is due first; "bad" is pushed after the email channel is disabled.
    sqlx::query(
        "update reminders set due_at = due_at + interval '1 hour' where booking_id = 'bad'",
    )
    .execute(&pool)
    .await
    .unwrap();
    due::enqueue_due(&pool, &bed.engine, Utc::now(), due::HORIZON_DEFAULT, 100)
        .await
        .unwrap();
    let notify = bed.worker(jobs::kinds::notify::QUEUE, 2);
    bed.smtp.wait_for(1).await;
    admin::put_channel(
        &pool,
        bed.tenant,
        "email",
        &json!({"from": "agenda@alfa.com.br"}),
        false,
    )
    .await
    .unwrap();
    sqlx::query("update reminders set due_at = now() where booking_id = 'bad'")
        .execute(&pool)
        .await
        .unwrap();
    due::enqueue_due(&pool, &bed.engine, Utc::now(), due::HORIZON_DEFAULT, 100)
        .await
        .unwrap();
    let seen = eventually(|| async {
        follow::round(&pool, &bed.engine, follow::BATCH_DEFAULT)
            .await
            .unwrap();
        let seen = bed.fakes.seen("webhook");
        (seen.len() >= 2).then_some(seen)
    })
    .some()
    .await;
    let mut got: Vec<(String, String, String)> = seen
        .iter()
        .map(|s| {
            let (event, data) = hook_event(s);
            (
                event,
                data["booking_id"].as_str().unwrap().to_string(),
                data["messages"][0]["status"]
                    .as_str()
                    .unwrap_or("")
                    .to_string(),
            )
        })
        .collect();
    got.sort();
    assert_eq!(
        got,
        [
            ("reminder.failed".into(), "bad".into(), "failed".into()),
            ("reminder.sent".into(), "ok".into(), "sent".into())
        ]
    );
    let delivery: Vec<(String, Option<String>)> =
        sqlx::query_as("select booking_id, delivery from reminders order by booking_id")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(
        delivery,
        [
            ("bad".to_string(), Some("failed".to_string())),
            ("ok".to_string(), Some("sent".to_string()))
        ]
    );
    // Further rounds publish nothing more.
    follow::round(&pool, &bed.engine, follow::BATCH_DEFAULT)
        .await
        .unwrap();
    let rows: i64 = sqlx::query_scalar("select count(*) from event_webhooks")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(rows, 2);
    events_worker.stop().await;
    notify.stop().await;
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn a_remind_job_that_gives_up_fails_the_row_and_tells_the_tenant(pool: PgPool) {
    let bed = Bed::new(pool.clone()).await;
    hooked(&bed, "TEST_GIVEUP_WEBHOOK_SECRET", &["reminder.failed"]).await;
    // A template that cannot render (the API would refuse it; rows predating a check can).
    rule(&pool, bed.tenant, Some("Olá {{ nome | nosuchfilter }}")).await;
    let now = Utc::now();
    let start = now + Duration::minutes(60) + Duration::seconds(1);
    record(
        &bed,
        envelope(
            "c",
            "booking.created",
            json!({"booking_id": "b", "start_time": start.to_rfc3339(), "client": {"email": "ana@example.com"}}),
            now,
        ),
    )
    .await;
    let events_worker = bed.worker(events::QUEUE, 2);
    let notify = bed.worker(jobs::kinds::notify::QUEUE, 2);
    due::enqueue_due(&pool, &bed.engine, Utc::now(), due::HORIZON_DEFAULT, 100)
        .await
        .unwrap();
    let hook = eventually(|| async { bed.fakes.seen("webhook").pop() })
        .some()
        .await;
    let (event, data) = hook_event(&hook);
    assert_eq!(event, "reminder.failed");
    assert!(
        data["reason"].as_str().unwrap().contains("template"),
        "{data}"
    );
    let (status, reason): (String, Option<String>) =
        sqlx::query_as("select status, reason from reminders where booking_id = 'b'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(status, "failed");
    assert!(reason.unwrap().contains("template"));
    assert_eq!(bed.smtp.mails().len(), 0, "nothing was emailed");
    events_worker.stop().await;
    notify.stop().await;
}
