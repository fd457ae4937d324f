//! Each provider channel against its local fake (real wire formats, error
//! bodies included): WhatsApp 429/5xx/4xx, Twilio form + basic auth, FCM
//! token caching/expiry and UNREGISTERED, signed webhooks, the SSRF guard and
//! disabling a failing webhook.

mod notify_common;

use std::time::Duration;

use jobs::kinds::notify::{admin, sql, ChannelName, MessageSpec, WhatsAppTemplate};
use jobs::kinds::JobError;
use jobs::testing::{Bed, FCM_PUBLIC_PEM};
use notify_common::*;
use serde_json::{json, Value};
use sqlx::PgPool;

async fn whatsapp(bed: &Bed) {
    Bed::set_env("TEST_WA_TOKEN", "EAAG-test-token");
    channel(
        bed,
        ChannelName::Whatsapp,
        json!({"phone_number_id": "1098765", "access_token_env": "TEST_WA_TOKEN"}),
    )
    .await;
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn notify_whatsapp_429_honours_retry_after_then_sends_once(pool: PgPool) {
    let bed = Bed::new(pool).await;
    whatsapp(&bed).await;
    let mut req = text(ChannelName::Whatsapp, "+5511988887777", "wa-1", "");
    req.message = MessageSpec {
        whatsapp_template: Some(WhatsAppTemplate {
            name: "lembrete_aula".into(),
            language: Some("pt_BR".into()),
            components: vec![
                json!({"type": "body", "parameters": [{"type": "text", "text": "Matemática"}]}),
            ],
        }),
        ..Default::default()
    };
    let id = enqueue(&bed, &req).await[0].row.id;
    bed.fakes.fail_next(&[429]);
    match run(&bed, id, 1).await {
        Err(JobError::Retryable {
            reason,
            retry_after,
        }) => {
            assert_eq!(retry_after, Some(Duration::from_secs(3)));
            assert!(reason.contains("130429"), "{reason}");
        }
        other => panic!("expected retryable, got {other:?}"),
    }
    let r = row(&bed, id).await;
    assert_eq!((r.status.as_str(), r.attempts), ("queued", 1));
    assert_eq!(run(&bed, id, 2).await.unwrap()["status"], "sent");
    let seen = bed.fakes.seen("whatsapp");
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[1].path, "/v21.0/1098765/messages");
    assert_eq!(seen[1].auth.as_deref(), Some("Bearer EAAG-test-token"));
    let body: Value = serde_json::from_str(&seen[1].body).unwrap();
    assert_eq!(body["to"], "5511988887777");
    assert_eq!(body["template"]["name"], "lembrete_aula");
    assert_eq!(
        body["template"]["components"][0]["parameters"][0]["text"],
        "Matemática"
    );
    assert_eq!(
        row(&bed, id).await.provider_message_id.as_deref(),
        Some("wamid.FAKE2")
    );
    // Re-delivered after sent: nothing more goes out.
    run(&bed, id, 3).await.unwrap();
    assert_eq!(bed.fakes.seen("whatsapp").len(), 2);
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn notify_whatsapp_5xx_retries_4xx_fails_and_last_attempt_gives_up(pool: PgPool) {
    let bed = Bed::new(pool).await;
    whatsapp(&bed).await;
    let id = enqueue(
        &bed,
        &text(ChannelName::Whatsapp, "+5511911112222", "wa-5xx", "Olá"),
    )
    .await[0]
        .row
        .id;
    bed.fakes.fail_next(&[500]);
    assert!(matches!(
        run(&bed, id, 1).await,
        Err(JobError::Retryable {
            retry_after: None,
            ..
        })
    ));
    assert_eq!(row(&bed, id).await.status, "queued");

    let id4 = enqueue(
        &bed,
        &text(ChannelName::Whatsapp, "+5511911113333", "wa-4xx", "Olá"),
    )
    .await[0]
        .row
        .id;
    bed.fakes.fail_next(&[400]);
    let err = run(&bed, id4, 1).await.unwrap_err();
    assert!(matches!(err, JobError::Permanent { .. }));
    let r = row(&bed, id4).await;
    assert_eq!(r.status, "failed");
    assert!(r.last_error.unwrap().contains("131026"));

    bed.fakes.fail_next(&[503]);
    let err = run(&bed, id, 8).await.unwrap_err();
    assert!(matches!(err, JobError::Permanent { .. }), "{err:?}");
    assert_eq!(row(&bed, id).await.status, "failed");
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn notify_sms_posts_twilio_form_with_basic_auth(pool: PgPool) {
    let bed = Bed::new(pool).await;
    Bed::set_env("TEST_TWILIO_TOKEN", "twilio-secret");
    channel(&bed, ChannelName::Sms, json!({"account_sid": "AC123", "auth_token_env": "TEST_TWILIO_TOKEN", "from": "+15017122661"})).await;
    let id = enqueue(
        &bed,
        &text(
            ChannelName::Sms,
            "+5511988887777",
            "sms-1",
            "Aula amanhã às 8h",
        ),
    )
    .await[0]
        .row
        .id;
    assert_eq!(run(&bed, id, 1).await.unwrap()["status"], "sent");
    let seen = bed.fakes.seen("twilio");
    assert_eq!(seen[0].path, "/2010-04-01/Accounts/AC123/Messages.json");
    let form: Vec<(String, String)> = serde_urlencoded::from_str(&seen[0].body).unwrap();
    assert!(form.contains(&("To".into(), "+5511988887777".into())));
    assert!(form.contains(&("Body".into(), "Aula amanhã às 8h".into())));
    use base64::Engine as _;
    let basic = base64::engine::general_purpose::STANDARD.encode("AC123:twilio-secret");
    assert_eq!(
        seen[0].auth.as_deref(),
        Some(format!("Basic {basic}").as_str())
    );
    assert!(row(&bed, id)
        .await
        .provider_message_id
        .unwrap()
        .starts_with("SMFAKE"));

    let bad = enqueue(&bed, &text(ChannelName::Sms, "+5511000", "sms-bad", "x")).await[0]
        .row
        .id;
    bed.fakes.fail_next(&[400]);
    run(&bed, bad, 1).await.unwrap_err();
    let r = row(&bed, bad).await;
    assert_eq!(r.status, "failed");
    assert!(r.last_error.unwrap().contains("21211"));
}

async fn push(bed: &Bed) {
    bed.fakes.set_public_key(FCM_PUBLIC_PEM);
    Bed::set_env("TEST_FCM_SA", &bed.service_account());
    channel(
        bed,
        ChannelName::Push,
        json!({"service_account_env": "TEST_FCM_SA"}),
    )
    .await;
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn notify_fcm_token_is_cached_until_expiry(pool: PgPool) {
    let bed = Bed::new(pool).await;
    push(&bed).await;
    for i in 0..3 {
        let id = enqueue(
            &bed,
            &text(
                ChannelName::Push,
                &format!("device-{i}"),
                &format!("p{i}"),
                "Nova nota",
            ),
        )
        .await[0]
            .row
            .id;
        assert_eq!(run(&bed, id, 1).await.unwrap()["status"], "sent");
    }
    assert_eq!(bed.fakes.tokens_issued(), 1, "one grant for three sends");
    let seen = bed.fakes.seen("fcm");
    assert_eq!(seen.len(), 3);
    assert_eq!(seen[0].path, "/v1/projects/tarefa-test/messages:send");
    let body: Value = serde_json::from_str(&seen[0].body).unwrap();
    assert_eq!(body["message"]["token"], "device-0");
    assert_eq!(body["message"]["notification"]["body"], "Nova nota");

    // Tokens that expire within the refresh margin are fetched again.
    let bed2 = Bed::new(bed.pool.clone()).await;
    bed2.fakes.set_token_ttl(30);
    push(&bed2).await;
    for i in 0..2 {
        let id = enqueue(
            &bed2,
            &text(ChannelName::Push, "device-x", &format!("q{i}"), "Oi"),
        )
        .await[0]
            .row
            .id;
        run(&bed2, id, 1).await.unwrap();
    }
    assert_eq!(bed2.fakes.tokens_issued(), 2);
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn notify_fcm_unregistered_marks_the_token_dead(pool: PgPool) {
    let bed = Bed::new(pool).await;
    push(&bed).await;
    let id = enqueue(&bed, &text(ChannelName::Push, "dead-token", "d1", "Oi")).await[0]
        .row
        .id;
    run(&bed, id, 1).await.unwrap_err();
    assert_eq!(row(&bed, id).await.status, "failed");
    assert!(sql::token_dead(&bed.pool, bed.tenant, "dead-token")
        .await
        .unwrap());
    // The next message to that token never reaches FCM.
    let before = bed.fakes.seen("fcm").len();
    let id2 = enqueue(&bed, &text(ChannelName::Push, "dead-token", "d2", "Oi")).await[0]
        .row
        .id;
    assert_eq!(run(&bed, id2, 1).await.unwrap()["status"], "failed");
    assert_eq!(bed.fakes.seen("fcm").len(), before);
}

async fn webhook(bed: &Bed, path: &str) {
    Bed::set_env("TEST_WEBHOOK_SECRET", "whsec_alfa");
    bed.fakes.set_webhook_secret("whsec_alfa");
    let url = format!("{}{path}", bed.fakes.base_url());
    channel(
        bed,
        ChannelName::Webhook,
        json!({"url": url, "secret_env": "TEST_WEBHOOK_SECRET"}),
    )
    .await;
}

fn event(key: &str) -> jobs::kinds::notify::NotificationRequest {
    let mut r = text(ChannelName::Webhook, "booking.created", key, "");
    r.message = MessageSpec {
        data: json!({"booking_id": "b-1", "starts_at": "2025-12-15T10:00:00-03:00"})
            .as_object()
            .unwrap()
            .clone(),
        ..Default::default()
    };
    r
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn notify_webhook_signature_verifies_at_the_receiver(pool: PgPool) {
    let bed = Bed::new(pool).await;
    webhook(&bed, "/hook").await;
    let id = enqueue(&bed, &event("wh-1")).await[0].row.id;
    assert_eq!(run(&bed, id, 1).await.unwrap()["status"], "sent");
    let seen = bed.fakes.seen("webhook");
    assert!(seen[0].verified, "receiver could not verify the signature");
    let body: Value = serde_json::from_str(&seen[0].body).unwrap();
    assert_eq!(body["event"], "booking.created");
    assert_eq!(body["data"]["booking_id"], "b-1");
    assert_eq!(body["id"], id.to_string());
    // A receiver with another secret refuses it (401 → permanent failure).
    bed.fakes.set_webhook_secret("other");
    let id2 = enqueue(&bed, &event("wh-2")).await[0].row.id;
    run(&bed, id2, 1).await.unwrap_err();
    assert!(!bed.fakes.seen("webhook")[1].verified);
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn notify_ssrf_guard_refuses_internal_webhook_urls(pool: PgPool) {
    let mut bed = Bed::new(pool).await;
    bed.settings.notifications.ssrf_allow.clear();
    webhook(&bed, "/hook").await;
    let id = enqueue(&bed, &event("ssrf-1")).await[0].row.id;
    let err = run(&bed, id, 1).await.unwrap_err();
    assert!(err.to_string().contains("SSRF"), "{err}");
    assert!(bed.fakes.seen("webhook").is_empty());
    // Metadata address, by name resolution or literal.
    Bed::set_env("TEST_WEBHOOK_SECRET", "x");
    channel(&bed, ChannelName::Webhook, json!({"url": "http://169.254.169.254/latest/meta-data", "secret_env": "TEST_WEBHOOK_SECRET"})).await;
    let id = enqueue(&bed, &event("ssrf-2")).await[0].row.id;
    assert!(run(&bed, id, 1)
        .await
        .unwrap_err()
        .to_string()
        .contains("link-local"));
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn notify_webhook_disabled_after_consecutive_failures_with_notice(pool: PgPool) {
    let mut bed = Bed::new(pool).await;
    bed.settings.notifications.webhook_max_failures = 2;
    webhook(&bed, "/hook").await;
    let id = enqueue(&bed, &event("wf-1")).await[0].row.id;
    bed.fakes.fail_next(&[500, 502]);
    run(&bed, id, 1).await.unwrap_err();
    let ch = admin::get_channel(&bed.pool, bed.tenant, "webhook")
        .await
        .unwrap()
        .unwrap();
    assert!(ch.enabled && ch.consecutive_failures == 1);
    run(&bed, id, 2).await.unwrap_err();
    let ch = admin::get_channel(&bed.pool, bed.tenant, "webhook")
        .await
        .unwrap()
        .unwrap();
    assert!(!ch.enabled);
    let notices = admin::list_notices(&bed.pool, bed.tenant).await.unwrap();
    assert_eq!(notices.len(), 1);
    assert!(notices[0].message.contains("2 failed deliveries"));
    // Later deliveries fail at once, without calling the endpoint.
    let err = run(&bed, id, 3).await.unwrap_err();
    assert!(err.to_string().contains("disabled"), "{err}");
    assert_eq!(bed.fakes.seen("webhook").len(), 2);
    // Saving the channel again re-enables it and a success resets the count.
    webhook(&bed, "/hook").await;
    let id2 = enqueue(&bed, &event("wf-2")).await[0].row.id;
    run(&bed, id2, 1).await.unwrap();
    let ch = admin::get_channel(&bed.pool, bed.tenant, "webhook")
        .await
        .unwrap()
        .unwrap();
    assert!(ch.enabled && ch.consecutive_failures == 0);
}

#[test]
fn notify_send_job_carries_the_tenant_rate_bucket() {
    let tenant = uuid::Uuid::new_v4();
    let n = sample(tenant);
    let job = jobs::kinds::notify::outbox::send_job(tenant, &n);
    assert_eq!(job.rate_key, Some(format!("whatsapp:{tenant}")));
    assert_eq!(job.id, Some(n.id.to_string()));
    assert_eq!(job.queue, "notifications");
}

fn sample(tenant: uuid::Uuid) -> jobs::kinds::notify::Notification {
    let now = chrono::Utc::now();
    jobs::kinds::notify::Notification {
        id: uuid::Uuid::now_v7(),
        tenant_id: tenant,
        dedup_key: "k".into(),
        channel: "whatsapp".into(),
        recipient: "+55".into(),
        message: sqlx::types::Json(MessageSpec::default()),
        urgent: false,
        status: "queued".into(),
        provider_message_id: None,
        attempts: 0,
        last_error: None,
        job_id: None,
        created_at: now,
        updated_at: now,
        sent_at: None,
        delivered_at: None,
        read_at: None,
    }
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn notify_a_provider_timeout_after_the_request_marks_unknown_and_never_resends(pool: PgPool) {
    let mut bed = Bed::new(pool).await;
    bed.settings.notifications.http_timeout_ms = 300;
    whatsapp(&bed).await;
    let id = enqueue(
        &bed,
        &text(ChannelName::Whatsapp, "+5511911114444", "wa-timeout", "Olá"),
    )
    .await[0]
        .row
        .id;
    bed.fakes.fail_next(&[0]);
    let err = run(&bed, id, 1).await.unwrap_err();
    assert!(
        matches!(&err, JobError::Permanent { reason } if reason.contains("outcome unknown")),
        "{err:?}"
    );
    assert_eq!(row(&bed, id).await.status, "unknown");
    // A re-delivered job finds the row `unknown` and does not call the provider again.
    let _ = run(&bed, id, 2).await;
    assert_eq!(bed.fakes.seen("whatsapp").len(), 1);
    assert_eq!(row(&bed, id).await.status, "unknown");
}
