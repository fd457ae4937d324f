//! Events → booking state → reminders, against PostgreSQL (fresh database per
//! test) and Redis (the bed's prefix): create/update/cancel sequences in and
//! out of order, repeats, a 1,000-update reschedule storm, a DST "day before
//! at 18:00", stale reminders, review requests, tenant isolation, and a due
//! reminder sent through the outbox to a real SMTP server.

use chrono::{DateTime, Duration, NaiveTime, Utc};
use jobs::kinds::events::{self, due, ingest, remind, sql, Envelope, Event, Source};
use jobs::kinds::notify::admin;
use jobs::testing::{create_tenant, eventually, Bed};
use serde_json::{json, Value};
use sqlx::PgPool;
use uuid::Uuid;

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn envelope(id: &str, event_type: &str, payload: Value, occurred_at: DateTime<Utc>) -> Envelope {
    serde_json::from_value(json!({
        "id": id, "event_type": event_type, "payload": payload,
        "metadata": {"occurred_at": occurred_at.to_rfc3339()},
    }))
    .unwrap()
}

async fn send(pool: &PgPool, tenant: Uuid, env: &Envelope, now: DateTime<Utc>) -> events::Ingested {
    let event = Event::parse(env).expect("valid event");
    let raw = serde_json::to_value(env).unwrap();
    ingest(
        pool,
        tenant,
        Source {
            name: "http",
            entry_id: None,
        },
        &event,
        &raw,
        now,
    )
    .await
    .expect("recorded")
}

async fn rule(
    pool: &PgPool,
    tenant: Uuid,
    family: &str,
    trigger: &str,
    minutes: i32,
    at: Option<(u32, u32)>,
) -> Uuid {
    sql::insert_rule(
        pool,
        &sql::Rule {
            id: Uuid::now_v7(),
            tenant_id: tenant,
            family: family.into(),
            name: format!("{trigger}-{minutes}"),
            trigger: trigger.into(),
            offset_minutes: minutes,
            local_time: at.map(|(h, m)| NaiveTime::from_hms_opt(h, m, 0).unwrap()),
            audience: "client".into(),
            channels: vec!["email".into()],
            template: None,
            urgent: false,
        },
    )
    .await
    .unwrap()
}

async fn by_status(pool: &PgPool, tenant: Uuid, booking: &str, status: &str) -> Vec<sql::Reminder> {
    sql::reminders_of(pool, tenant, booking)
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.status == status)
        .collect()
}

fn booking(id: &str, start: &str) -> Value {
    json!({"booking_id": id, "user_id": "u1", "resource_id": "12", "status": "pending",
        "start_time": start, "client": {"name": "Ana", "email": "ana@example.com"}})
}

const NOW: &str = "2026-03-01T12:00:00Z";

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn create_update_repeat_cancel_keeps_one_live_set(pool: PgPool) {
    let tenant = create_tenant(&pool, "Agenda Alfa").await.id;
    let r24 = rule(&pool, tenant, "booking", "before_start", 24 * 60, None).await;
    rule(&pool, tenant, "booking", "before_start", 60, None).await;
    rule(&pool, tenant, "booking", "day_before_at", 0, Some((18, 0))).await;
    let on_cancel = rule(&pool, tenant, "booking", "on_cancel", 0, None).await;
    let now = t(NOW);
    let created = envelope(
        "e1",
        "booking.created",
        booking("b1", "2026-03-10T13:00:00Z"),
        now,
    );
    let r = send(&pool, tenant, &created, now).await;
    assert_eq!(
        (r.outcome.as_str(), r.version, r.planned),
        ("applied", 1, 3)
    );
    let pending = by_status(&pool, tenant, "b1", "pending").await;
    let r24_row = pending.iter().find(|r| r.rule_id == r24).unwrap();
    assert_eq!(r24_row.due_at, t("2026-03-09T13:00:00Z"));

    // The same event again (a re-delivery): nothing changes.
    let again = send(&pool, tenant, &created, now).await;
    assert_eq!(again.outcome, "duplicate");
    assert_eq!(
        sql::reminders_of(&pool, tenant, "b1").await.unwrap().len(),
        3
    );

    let moved = envelope(
        "e2",
        "booking.updated",
        json!({"booking_id": "b1", "changes": {"start_time": "2026-03-12T13:00:00Z"}}),
        now + Duration::minutes(1),
    );
    let r = send(&pool, tenant, &moved, now).await;
    assert_eq!((r.version, r.planned), (2, 3));
    assert_eq!(by_status(&pool, tenant, "b1", "superseded").await.len(), 3);
    let live = by_status(&pool, tenant, "b1", "pending").await;
    assert_eq!(live.len(), 3);
    assert!(live.iter().all(|r| r.version == 2));
    assert_eq!(
        live.iter().find(|r| r.rule_id == r24).unwrap().due_at,
        t("2026-03-11T13:00:00Z")
    );

    let cancel = envelope(
        "e3",
        "booking.cancelled",
        json!({"booking_id": "b1"}),
        now + Duration::minutes(2),
    );
    let r = send(&pool, tenant, &cancel, now).await;
    assert_eq!((r.version, r.planned), (3, 1));
    assert_eq!(by_status(&pool, tenant, "b1", "cancelled").await.len(), 3);
    let live = by_status(&pool, tenant, "b1", "pending").await;
    assert_eq!(live.len(), 1, "only the cancellation notice");
    assert_eq!((live[0].rule_id, live[0].due_at), (on_cancel, now));
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn update_and_cancel_before_the_create_win(pool: PgPool) {
    let tenant = create_tenant(&pool, "Agenda Alfa").await.id;
    rule(&pool, tenant, "booking", "before_start", 60, None).await;
    let now = t(NOW);
    // Update (newer) before its create: the update's time stays.
    let upd = envelope(
        "u",
        "booking.updated",
        json!({"booking_id": "b2", "changes": {"start_time": "2026-03-12T13:00:00Z"}}),
        now + Duration::minutes(5),
    );
    send(&pool, tenant, &upd, now).await;
    let cre = envelope(
        "c",
        "booking.created",
        booking("b2", "2026-03-10T13:00:00Z"),
        now,
    );
    let r = send(&pool, tenant, &cre, now).await;
    assert_eq!(r.planned, 0);
    let live = by_status(&pool, tenant, "b2", "pending").await;
    assert_eq!(live.len(), 1);
    assert_eq!(live[0].due_at, t("2026-03-12T12:00:00Z"));

    // Cancel before its create: nothing is ever live.
    let can = envelope(
        "x",
        "booking.cancelled",
        json!({"booking_id": "b3"}),
        now + Duration::minutes(5),
    );
    send(&pool, tenant, &can, now).await;
    let cre = envelope(
        "y",
        "booking.created",
        booking("b3", "2026-03-10T13:00:00Z"),
        now,
    );
    assert_eq!(send(&pool, tenant, &cre, now).await.planned, 0);
    assert!(by_status(&pool, tenant, "b3", "pending").await.is_empty());
    let b = sql::booking(&pool, tenant, "b3", false)
        .await
        .unwrap()
        .unwrap();
    assert!(b.cancelled && b.created_seen);
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn a_reschedule_storm_leaves_one_live_set(pool: PgPool) {
    let tenant = create_tenant(&pool, "Agenda Alfa").await.id;
    rule(&pool, tenant, "booking", "before_start", 24 * 60, None).await;
    rule(&pool, tenant, "booking", "before_start", 60, None).await;
    let now = t(NOW);
    send(
        &pool,
        tenant,
        &envelope(
            "c",
            "booking.created",
            booking("b", "2026-03-10T13:00:00Z"),
            now,
        ),
        now,
    )
    .await;
    // 1,000 updates from 8 tasks at once, in scrambled arrival order; each
    // carries its own occurred_at: the newest (i = 999) must win.
    let start = |i: i64| t("2026-04-01T13:00:00Z") + Duration::minutes(i);
    let mut tasks = Vec::new();
    for lane in 0..8i64 {
        let pool = pool.clone();
        tasks.push(tokio::spawn(async move {
            for i in (0..1000i64).rev().filter(|i| i % 8 == lane) {
                let e = envelope(
                    &format!("u{i}"),
                    "booking.updated",
                    json!({"booking_id": "b", "changes": {"start_time": start(i).to_rfc3339()}}),
                    now + Duration::seconds(i + 1),
                );
                send(&pool, tenant, &e, now).await;
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let all = sql::reminders_of(&pool, tenant, "b").await.unwrap();
    let live: Vec<_> = all.iter().filter(|r| r.status == "pending").collect();
    assert_eq!(live.len(), 2, "one live set");
    let b = sql::booking(&pool, tenant, "b", false)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(b.start_time, Some(start(999)));
    assert!(live.iter().all(|r| r.version == b.version));
    let mut dues: Vec<_> = live.iter().map(|r| r.due_at).collect();
    dues.sort();
    assert_eq!(
        dues,
        vec![
            start(999) - Duration::hours(24),
            start(999) - Duration::hours(1)
        ]
    );
    assert!(all
        .iter()
        .all(|r| r.status == "pending" || r.status == "superseded"));
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn day_before_at_six_pm_follows_the_tenant_zone_across_dst(pool: PgPool) {
    let tenant = create_tenant(&pool, "Agenda NY").await.id;
    sqlx::query("update tenants set timezone = 'America/New_York' where id = $1")
        .bind(tenant)
        .execute(&pool)
        .await
        .unwrap();
    rule(&pool, tenant, "booking", "day_before_at", 0, Some((18, 0))).await;
    let now = t("2026-02-01T12:00:00Z");
    // 10:00 EDT on 9 March; clocks sprang forward on the 8th at 02:00.
    send(
        &pool,
        tenant,
        &envelope(
            "a",
            "booking.created",
            booking("after", "2026-03-09T14:00:00Z"),
            now,
        ),
        now,
    )
    .await;
    // 10:00 EST on 8 March (before the change that day): the day before is still EST.
    send(
        &pool,
        tenant,
        &envelope(
            "b",
            "booking.created",
            booking("before", "2026-03-07T15:00:00Z"),
            now,
        ),
        now,
    )
    .await;
    let after = by_status(&pool, tenant, "after", "pending").await;
    let before = by_status(&pool, tenant, "before", "pending").await;
    assert_eq!(after[0].due_at, t("2026-03-08T22:00:00Z"), "18:00 EDT");
    assert_eq!(before[0].due_at, t("2026-03-06T23:00:00Z"), "18:00 EST");
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn another_tenants_booking_with_the_same_id_is_its_own(pool: PgPool) {
    let a = create_tenant(&pool, "Agenda Alfa").await.id;
    let b = create_tenant(&pool, "Agenda Beta").await.id;
    rule(&pool, a, "booking", "before_start", 60, None).await;
    rule(&pool, b, "booking", "before_start", 60, None).await;
    let now = t(NOW);
    send(
        &pool,
        a,
        &envelope(
            "e1",
            "booking.created",
            booking("b1", "2026-03-10T13:00:00Z"),
            now,
        ),
        now,
    )
    .await;
    // Same event id and booking id at tenant B: recorded for B, A untouched.
    let r = send(
        &pool,
        b,
        &envelope("e1", "booking.cancelled", json!({"booking_id": "b1"}), now),
        now,
    )
    .await;
    assert_eq!(r.outcome, "applied");
    assert_eq!(by_status(&pool, a, "b1", "pending").await.len(), 1);
    assert!(
        !sql::booking(&pool, a, "b1", false)
            .await
            .unwrap()
            .unwrap()
            .cancelled
    );
    assert!(
        sql::booking(&pool, b, "b1", false)
            .await
            .unwrap()
            .unwrap()
            .cancelled
    );
    assert!(sql::reminders_of(&pool, b, "b1")
        .await
        .unwrap()
        .iter()
        .all(|r| r.tenant_id == b));
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn a_stale_reminder_never_sends_and_review_requests_wait_for_no_review(pool: PgPool) {
    let bed = Bed::new(pool.clone()).await;
    let tenant = bed.tenant;
    rule(&pool, tenant, "booking", "before_start", 60, None).await;
    rule(&pool, tenant, "session", "after_end", 120, None).await;
    let now = Utc::now();
    let start = now + Duration::hours(2);
    send(
        &pool,
        tenant,
        &envelope(
            "c",
            "booking.created",
            booking("b", &start.to_rfc3339()),
            now,
        ),
        now,
    )
    .await;
    let old = by_status(&pool, tenant, "b", "pending").await.remove(0);
    // The row is claimed and its job pushed, then the booking moves.
    assert_eq!(
        due::enqueue_due(
            &pool,
            &bed.engine,
            now + Duration::hours(2),
            Duration::zero(),
            100
        )
        .await
        .unwrap(),
        1
    );
    let moved = envelope(
        "u",
        "booking.updated",
        json!({"booking_id": "b", "changes": {"start_time": (start + Duration::hours(1)).to_rfc3339()}}),
        now + Duration::seconds(1),
    );
    send(&pool, tenant, &moved, now).await;
    let out = remind::send(&pool, &bed.engine, tenant, old.id)
        .await
        .unwrap();
    assert_ne!(out.status, "sent");
    // Even if the row were still `enqueued`, the version check stops it.
    sqlx::query("update reminders set status = 'enqueued' where id = $1")
        .bind(old.id)
        .execute(&pool)
        .await
        .unwrap();
    let out = remind::send(&pool, &bed.engine, tenant, old.id)
        .await
        .unwrap();
    assert_eq!(out.status, "skipped");
    assert!(out.reason.unwrap().starts_with("stale"));
    let outbox: i64 = sqlx::query_scalar("select count(*) from notifications where tenant_id = $1")
        .bind(tenant)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(outbox, 0);

    // Tutoring: the review request is skipped once review.created arrived.
    let s = json!({"session_id": "s1", "start_time": "2026-03-10T13:00:00Z", "end_time": "2026-03-10T14:00:00Z",
        "student": {"email": "bia@example.com"}});
    let t0 = t(NOW);
    send(
        &pool,
        tenant,
        &envelope("s", "session.scheduled", s, t0),
        t0,
    )
    .await;
    let req = by_status(&pool, tenant, "s1", "pending").await.remove(0);
    assert_eq!(req.due_at, t("2026-03-10T16:00:00Z"));
    send(
        &pool,
        tenant,
        &envelope("r", "review.created", json!({"session_id": "s1"}), t0),
        t0,
    )
    .await;
    let out = remind::send(&pool, &bed.engine, tenant, req.id)
        .await
        .unwrap();
    assert_eq!(
        (out.status.as_str(), out.reason.as_deref()),
        ("skipped", Some("review already received"))
    );
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn a_due_reminder_is_emailed_once_through_the_outbox(pool: PgPool) {
    let bed = Bed::new(pool.clone()).await;
    let tenant = bed.tenant;
    admin::put_channel(
        &pool,
        tenant,
        "email",
        &json!({"from": "agenda@alfa.com.br", "from_name": "Agenda Alfa"}),
        true,
    )
    .await
    .unwrap();
    sql::set_labels(
        &pool,
        tenant,
        &json!({"booking": "Aula", "resource": "Sala"}),
    )
    .await
    .unwrap();
    // The tenant also hears `reminder.sent` on its webhook.
    Bed::set_env("TEST_REMINDER_WEBHOOK_SECRET", "whsec_r");
    bed.fakes.set_webhook_secret("whsec_r");
    let url = format!("{}/hook", bed.fakes.base_url());
    admin::put_channel(
        &pool,
        tenant,
        "webhook",
        &json!({"url": url, "secret_env": "TEST_REMINDER_WEBHOOK_SECRET"}),
        true,
    )
    .await
    .unwrap();
    sql::set_webhook_events(&pool, tenant, &["reminder.sent".to_string()])
        .await
        .unwrap();
    rule(&pool, tenant, "booking", "before_start", 60, None).await;
    let now = Utc::now();
    // Due in a second.
    let start = now + Duration::minutes(60) + Duration::seconds(1);
    send(
        &pool,
        tenant,
        &envelope(
            "c",
            "booking.created",
            booking("b", &start.to_rfc3339()),
            now,
        ),
        now,
    )
    .await;
    let events_worker = bed.worker(events::QUEUE, 4);
    let notify_worker = bed.worker(jobs::kinds::notify::QUEUE, 4);
    // Two scheduler rounds (as two replicas would): the row is pushed once.
    let first = due::enqueue_due(&pool, &bed.engine, Utc::now(), due::HORIZON_DEFAULT, 100)
        .await
        .unwrap();
    let second = due::enqueue_due(&pool, &bed.engine, Utc::now(), due::HORIZON_DEFAULT, 100)
        .await
        .unwrap();
    assert_eq!((first, second), (1, 0));
    let mails = bed.smtp.wait_for(1).await;
    let body = format!("{mails:?}");
    assert!(body.contains("ana@example.com"), "{body}");
    assert!(body.contains("Lembrete: Aula em"), "{body}");
    let row = eventually(|| async { by_status(&pool, tenant, "b", "sent").await.pop() })
        .some()
        .await;
    // The scheduler's follow-up round settles it once the email is sent: `reminder.sent`.
    let hook = eventually(|| async {
        events::follow::round(&pool, &bed.engine, events::follow::BATCH_DEFAULT)
            .await
            .unwrap();
        bed.fakes.seen("webhook").pop()
    })
    .some()
    .await;
    // Running the job again (a re-delivery) sends nothing new.
    let again = remind::send(&pool, &bed.engine, tenant, row.id)
        .await
        .unwrap();
    assert_eq!(again.status, "already_sent");
    let outbox: Vec<(String, String)> = sqlx::query_as(
        "select channel, recipient from notifications where tenant_id = $1 order by channel",
    )
    .bind(tenant)
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(
        outbox,
        vec![
            ("email".into(), "ana@example.com".into()),
            ("webhook".into(), "reminder.sent".into())
        ]
    );
    let body: Value = serde_json::from_str(&hook.body).unwrap();
    assert_eq!(
        (body["event"].as_str(), body["data"]["reminder_id"].as_str()),
        (Some("reminder.sent"), Some(row.id.to_string().as_str()))
    );
    assert_eq!(body["data"]["messages"][0]["status"], "sent");
    assert!(hook.verified);
    events_worker.stop().await;
    notify_worker.stop().await;
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn subscribed_events_reach_the_tenant_webhook_signed_and_once(pool: PgPool) {
    let bed = Bed::new(pool.clone()).await;
    let tenant = bed.tenant;
    Bed::set_env("TEST_EVENTS_WEBHOOK_SECRET", "whsec_agenda");
    bed.fakes.set_webhook_secret("whsec_agenda");
    let url = format!("{}/hook", bed.fakes.base_url());
    admin::put_channel(
        &pool,
        tenant,
        "webhook",
        &json!({"url": url, "secret_env": "TEST_EVENTS_WEBHOOK_SECRET"}),
        true,
    )
    .await
    .unwrap();
    sql::set_webhook_events(&pool, tenant, &["booking.*".to_string()])
        .await
        .unwrap();
    let notify_worker = bed.worker(jobs::kinds::notify::QUEUE, 2);
    let now = t(NOW);
    let publish = |env: Envelope| {
        let (pool, engine) = (pool.clone(), bed.engine.clone());
        async move {
            let event = Event::parse(&env).unwrap();
            let raw = serde_json::to_value(&env).unwrap();
            let rec = ingest(
                &pool,
                tenant,
                Source {
                    name: "http",
                    entry_id: None,
                },
                &event,
                &raw,
                now,
            )
            .await
            .unwrap();
            events::ingest::publish(&pool, &engine, tenant, &event, &rec, &raw)
                .await
                .unwrap()
        }
    };
    let created = envelope(
        "evt-1",
        "booking.created",
        booking("b1", "2026-03-10T13:00:00Z"),
        now,
    );
    assert!(publish(created.clone()).await);
    // Re-delivered: the same outbox row, no second message.
    assert!(publish(created).await);
    // Not subscribed.
    let session = envelope(
        "evt-2",
        "session.scheduled",
        json!({"session_id": "s1", "start_time": "2026-03-10T13:00:00Z"}),
        now,
    );
    assert!(!publish(session).await);
    let rows: Vec<(String, String)> = sqlx::query_as("select recipient, dedup_key from notifications where tenant_id = $1 and channel = 'webhook'")
        .bind(tenant).fetch_all(&pool).await.unwrap();
    assert_eq!(
        rows,
        vec![("booking.created".to_string(), "evt:evt-1".to_string())]
    );
    let seen = eventually(|| async { bed.fakes.seen("webhook").pop() })
        .some()
        .await;
    assert!(seen.verified, "signature did not verify");
    let body: Value = serde_json::from_str(&seen.body).unwrap();
    assert_eq!(body["event"], "booking.created");
    assert_eq!(body["data"]["booking_id"], "b1");
    assert_eq!(
        body["data"]["payload"]["start_time"],
        "2026-03-10T13:00:00Z"
    );
    notify_worker.stop().await;
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn a_reported_no_show_sends_one_follow_up(pool: PgPool) {
    let bed = Bed::new(pool.clone()).await;
    let tenant = bed.tenant;
    let follow_up = rule(&pool, tenant, "session", "on_no_show", 0, None).await;
    // At PostgreSQL's precision (microseconds), so the stored due time compares equal.
    let now = chrono::DurationRound::duration_trunc(Utc::now(), Duration::microseconds(1)).unwrap();
    let s = json!({"session_id": "s1", "start_time": (now - Duration::hours(2)).to_rfc3339(),
        "student": {"name": "Bia", "email": "bia@example.com"}});
    send(
        &pool,
        tenant,
        &envelope("s", "session.scheduled", s, now),
        now,
    )
    .await;
    assert!(sql::reminders_of(&pool, tenant, "s1")
        .await
        .unwrap()
        .is_empty());
    let ns = envelope("n", "session.no_show", json!({"session_id": "s1"}), now);
    assert_eq!(send(&pool, tenant, &ns, now).await.planned, 1);
    // Reported again (another id): still one follow-up.
    let again = envelope(
        "n2",
        "session.no_show",
        json!({"session_id": "s1"}),
        now + Duration::seconds(1),
    );
    assert_eq!(send(&pool, tenant, &again, now).await.planned, 0);
    let row = by_status(&pool, tenant, "s1", "pending").await.remove(0);
    assert_eq!((row.rule_id, row.due_at), (follow_up, now));
    let out = remind::send(&pool, &bed.engine, tenant, row.id)
        .await
        .unwrap();
    assert_eq!((out.status.as_str(), out.messages), ("sent", 1));
    let text: String =
        sqlx::query_scalar("select message->>'text' from notifications where tenant_id = $1")
            .bind(tenant)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert!(
        text.starts_with("Olá, Bia. Sentimos sua falta na aula de "),
        "{text}"
    );
}
