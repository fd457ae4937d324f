//! `/v1/notifications`, the notification settings routes and the provider
//! callbacks, over the real PostgreSQL and Redis: sent-once by dedup key,
//! 422s naming fields, templates refused at save time, secrets refused in
//! plain text, tenant isolation, signed callbacks moving rows forward.

mod common;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use common::*;
use serde_json::{json, Value};
use sqlx::PgPool;

fn email(key: &str) -> Value {
    json!({"channel": "email", "recipient": "maria@example.com", "dedup_key": key,
           "message": {"subject": "Aviso", "text": "Reunião de pais sexta às 19h"}})
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn notify_post_is_sent_once_per_dedup_key_and_readable(pool: PgPool) {
    let c = Ctx::new(pool).await;
    let (s, body) = c
        .req(
            Method::POST,
            "/v1/notifications",
            Some(&c.a.key),
            Some(email("reuniao:1")),
        )
        .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{body}");
    let row = &body["notifications"][0];
    assert_eq!(
        (row["created"].as_bool(), row["status"].as_str()),
        (Some(true), Some("queued"))
    );
    let id = row["id"].as_str().unwrap().to_string();
    let job = c
        .state
        .engine
        .job("notifications", &id)
        .await
        .unwrap()
        .expect("a notify.send job");
    assert_eq!(job.kind, "notify.send");
    assert_eq!(job.tenant, c.a.id.to_string());

    let (s, again) = c
        .req(
            Method::POST,
            "/v1/notifications",
            Some(&c.a.key),
            Some(email("reuniao:1")),
        )
        .await;
    assert_eq!(s, StatusCode::ACCEPTED);
    assert_eq!(again["notifications"][0]["id"], id.as_str());
    assert_eq!(again["notifications"][0]["created"], false);

    let (s, one) = c
        .req(
            Method::GET,
            &format!("/v1/notifications/{id}"),
            Some(&c.a.key),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        (one["channel"].as_str(), one["recipient"].as_str()),
        (Some("email"), Some("maria@example.com"))
    );
    assert!(one.get("message").is_none(), "bodies are not echoed");

    let (_, list) = c
        .req(
            Method::GET,
            "/v1/notifications?status=queued&channel=email&recipient=maria@example.com",
            Some(&c.a.key),
            None,
        )
        .await;
    assert_eq!(list["notifications"].as_array().unwrap().len(), 1);
    let (_, none) = c
        .req(
            Method::GET,
            "/v1/notifications?status=sent",
            Some(&c.a.key),
            None,
        )
        .await;
    assert!(none["notifications"].as_array().unwrap().is_empty());
    let (s, bad) = c
        .req(
            Method::GET,
            "/v1/notifications?status=lost",
            Some(&c.a.key),
            None,
        )
        .await;
    assert_eq!(
        (s, bad["details"]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("status"))
    );
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn notify_other_tenants_rows_are_404(pool: PgPool) {
    let c = Ctx::new(pool).await;
    let (_, body) = c
        .req(
            Method::POST,
            "/v1/notifications",
            Some(&c.a.key),
            Some(email("k")),
        )
        .await;
    let id = body["notifications"][0]["id"].as_str().unwrap();
    let (s, e) = c
        .req(
            Method::GET,
            &format!("/v1/notifications/{id}"),
            Some(&c.b.key),
            None,
        )
        .await;
    assert_eq!(
        (s, e["error"].as_str()),
        (StatusCode::NOT_FOUND, Some("notification_not_found"))
    );
    let (_, list) = c
        .req(Method::GET, "/v1/notifications", Some(&c.b.key), None)
        .await;
    assert!(list["notifications"].as_array().unwrap().is_empty());
    // The same dedup key in another tenant is another message.
    let (_, b) = c
        .req(
            Method::POST,
            "/v1/notifications",
            Some(&c.b.key),
            Some(email("k")),
        )
        .await;
    assert_eq!(b["notifications"][0]["created"], true);
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn notify_bad_requests_name_the_field(pool: PgPool) {
    let c = Ctx::new(pool).await;
    let cases = [
        (
            json!({"channel": "email", "recipient": "a@b.c", "message": {"text": "x"}}),
            "dedup_key",
        ),
        (
            json!({"channel": "fax", "recipient": "a", "dedup_key": "k", "message": {"text": "x"}}),
            "channel",
        ),
        (
            json!({"channel": "sms", "recipient": "+55", "dedup_key": "k", "message": {}}),
            "message",
        ),
        (
            json!({"channel": "sms", "recipients": [{"recipient": "+1", "dedup_key": "d"}, {"recipient": "+2", "dedup_key": "d"}], "message": {"text": "x"}}),
            "recipients[1].dedup_key",
        ),
    ];
    for (body, field) in cases {
        let (s, e) = c
            .req(
                Method::POST,
                "/v1/notifications",
                Some(&c.a.key),
                Some(body),
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
        assert_eq!(e["details"]["field"], field, "{e}");
    }
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn notify_template_with_unknown_variable_is_refused_when_saved(pool: PgPool) {
    let c = Ctx::new(pool).await;
    let t = |body: &str| {
        json!({"name": "grade_posted", "channel": "email", "subject": "Nota de {{ aluno }}",
        "body": body, "variables": ["aluno", "nota"]})
    };
    let (s, e) = c
        .req(
            Method::POST,
            "/v1/notification-templates",
            Some(&c.a.key),
            Some(t("{{ aluno }}: {{ nota|decimal_br }} ({{ turma }})")),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(e["details"]["field"], "body");
    assert!(e["message"].as_str().unwrap().contains("turma"), "{e}");
    let (s, e) = c
        .req(
            Method::POST,
            "/v1/notification-templates",
            Some(&c.a.key),
            Some(t("{{ aluno }: {{ nota }}")),
        )
        .await;
    assert_eq!(
        (s, e["details"]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("body"))
    );
    let (s, ok) = c
        .req(
            Method::POST,
            "/v1/notification-templates",
            Some(&c.a.key),
            Some(t("{{ aluno }} tirou {{ nota|decimal_br }}")),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{ok}");
    assert_eq!(ok["locale"], "pt-BR");
    let (s, _) = c
        .req(
            Method::POST,
            "/v1/notification-templates",
            Some(&c.a.key),
            Some(t("{{ aluno }}")),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT);
    let id = ok["id"].as_str().unwrap();
    let (s, _) = c
        .req(
            Method::GET,
            &format!("/v1/notification-templates/{id}"),
            Some(&c.b.key),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = c
        .req(
            Method::DELETE,
            &format!("/v1/notification-templates/{id}"),
            Some(&c.a.key),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn notify_channel_settings_refuse_plain_secrets_and_need_admin(pool: PgPool) {
    let c = Ctx::new(pool).await;
    let put = |v: Value| json!({"settings": v});
    let (s, e) = c
        .req(
            Method::PUT,
            "/v1/notification-channels/whatsapp",
            Some(&c.a.key),
            Some(put(
                json!({"phone_number_id": "1", "access_token": "EAAG..."}),
            )),
        )
        .await;
    assert_eq!(
        (s, e["details"]["field"].as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("settings.access_token")
        )
    );
    let (s, e) = c
        .req(
            Method::PUT,
            "/v1/notification-channels/whatsapp",
            Some(&c.a.key),
            Some(put(json!({"access_token_env": "WA_TOKEN"}))),
        )
        .await;
    assert_eq!(
        (s, e["details"]["field"].as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("settings.phone_number_id")
        )
    );
    let good = put(json!({"phone_number_id": "1098765", "access_token_env": "WA_TOKEN"}));
    let writer = c.key(c.a.id, &["jobs:write", "jobs:read"]).await;
    let (s, _) = c
        .req(
            Method::PUT,
            "/v1/notification-channels/whatsapp",
            Some(&writer),
            Some(good.clone()),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, row) = c
        .req(
            Method::PUT,
            "/v1/notification-channels/whatsapp",
            Some(&c.a.key),
            Some(good),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{row}");
    assert_eq!(row["enabled"], true);
    let (_, list) = c
        .req(
            Method::GET,
            "/v1/notification-channels",
            Some(&c.b.key),
            None,
        )
        .await;
    assert!(list.as_array().unwrap().is_empty());
    let (s, _) = c
        .req(
            Method::GET,
            "/v1/notification-channels/whatsapp",
            Some(&c.a.key),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK);
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn notify_opt_outs_and_quiet_hours_round_trip(pool: PgPool) {
    let c = Ctx::new(pool).await;
    let (s, _) = c
        .req(
            Method::POST,
            "/v1/notification-opt-outs",
            Some(&c.a.key),
            Some(json!({"channel": "whatsapp", "recipient": "+5511988887777", "reason": "STOP"})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let (_, list) = c
        .req(
            Method::GET,
            "/v1/notification-opt-outs",
            Some(&c.a.key),
            None,
        )
        .await;
    assert_eq!(list[0]["recipient"], "+5511988887777");
    let (s, _) = c
        .req(
            Method::DELETE,
            "/v1/notification-opt-outs/whatsapp/+5511988887777",
            Some(&c.b.key),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = c
        .req(
            Method::DELETE,
            "/v1/notification-opt-outs/whatsapp/+5511988887777",
            Some(&c.a.key),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);

    let (s, p) = c
        .req(
            Method::PUT,
            "/v1/notification-policy",
            Some(&c.a.key),
            Some(json!({"quiet_start": "22:00", "quiet_end": "07:00"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{p}");
    let (_, p) = c
        .req(Method::GET, "/v1/notification-policy", Some(&c.a.key), None)
        .await;
    assert_eq!(
        (p["quiet_start"].as_str(), p["quiet_end"].as_str()),
        (Some("22:00"), Some("07:00"))
    );
    let (s, e) = c
        .req(
            Method::PUT,
            "/v1/notification-policy",
            Some(&c.a.key),
            Some(json!({"quiet_start": "25:00", "quiet_end": "07:00"})),
        )
        .await;
    assert_eq!(
        (s, e["details"]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("quiet_start"))
    );
}

/// A queued row of tenant A marked sent with a provider id, as the worker would.
async fn sent_row(c: &Ctx, channel: &str, provider_id: &str) -> String {
    let body = json!({"channel": channel, "recipient": "+5511988887777", "dedup_key": provider_id, "message": {"text": "x"}});
    let (_, r) = c
        .req(
            Method::POST,
            "/v1/notifications",
            Some(&c.a.key),
            Some(body),
        )
        .await;
    let id = r["notifications"][0]["id"].as_str().unwrap().to_string();
    sqlx::query(
        "update notifications set status = 'sent', provider_message_id = $2 where id = $1::uuid",
    )
    .bind(&id)
    .bind(provider_id)
    .execute(&c.pool)
    .await
    .unwrap();
    id
}

async fn status_of(c: &Ctx, id: &str) -> String {
    let (_, r) = c
        .req(
            Method::GET,
            &format!("/v1/notifications/{id}"),
            Some(&c.a.key),
            None,
        )
        .await;
    r["status"].as_str().unwrap().to_string()
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn notify_whatsapp_callbacks_are_verified_and_move_rows_forward(pool: PgPool) {
    let c = Ctx::with(pool, |s| {
        s.notifications.whatsapp_app_secret = Some("meta-app-secret".into());
        s.notifications.whatsapp_verify_token = Some("verifica".into());
    })
    .await;
    let (s, body) = c.req(Method::GET, "/v1/callbacks/whatsapp?hub.mode=subscribe&hub.verify_token=verifica&hub.challenge=1158201444", None, None).await;
    assert_eq!((s, body), (StatusCode::OK, json!(1158201444)));
    let (s, _) = c
        .req(
            Method::GET,
            "/v1/callbacks/whatsapp?hub.mode=subscribe&hub.verify_token=nope&hub.challenge=1",
            None,
            None,
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);

    let id = sent_row(&c, "whatsapp", "wamid.HBgM1").await;
    let payload = |status: &str| {
        json!({"object": "whatsapp_business_account", "entry": [{"id": "WABA", "changes": [{"field": "messages",
        "value": {"messaging_product": "whatsapp", "metadata": {"phone_number_id": "1098765"},
        "statuses": [{"id": "wamid.HBgM1", "status": status, "timestamp": "1765800000", "recipient_id": "5511988887777"}]}}]}]}).to_string()
    };
    let post = |body: String, sig: String| {
        Request::builder()
            .method(Method::POST)
            .uri("/v1/callbacks/whatsapp")
            .header("content-type", "application/json")
            .header("x-hub-signature-256", sig)
            .body(Body::from(body))
            .unwrap()
    };

    let read = payload("read");
    let (s, _) = c
        .call(post(
            read.clone(),
            jobs::channels::whatsapp::sign("wrong-secret", read.as_bytes()),
        ))
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert_eq!(status_of(&c, &id).await, "sent");

    let delivered = payload("delivered");
    let (s, r) = c
        .call(post(
            delivered.clone(),
            jobs::channels::whatsapp::sign("meta-app-secret", delivered.as_bytes()),
        ))
        .await;
    assert_eq!((s, r["updated"].as_u64()), (StatusCode::OK, Some(1)));
    assert_eq!(status_of(&c, &id).await, "delivered");
    let (_, r) = c
        .call(post(
            read.clone(),
            jobs::channels::whatsapp::sign("meta-app-secret", read.as_bytes()),
        ))
        .await;
    assert_eq!(r["updated"], 1);
    assert_eq!(status_of(&c, &id).await, "read");
    // A late `delivered` never moves a read message back.
    let (_, r) = c
        .call(post(
            delivered.clone(),
            jobs::channels::whatsapp::sign("meta-app-secret", delivered.as_bytes()),
        ))
        .await;
    assert_eq!(r["updated"], 0);
    assert_eq!(status_of(&c, &id).await, "read");
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn notify_twilio_status_callback_checks_the_signature(pool: PgPool) {
    let c = Ctx::with(pool, |s| {
        s.notifications.public_base_url = "https://tarefa.example.com".into()
    })
    .await;
    std::env::set_var("TEST_CB_TWILIO_TOKEN", "twilio-auth");
    let (s, _) = c.req(Method::PUT, "/v1/notification-channels/sms", Some(&c.a.key),
        Some(json!({"settings": {"account_sid": "AC9", "auth_token_env": "TEST_CB_TWILIO_TOKEN", "from": "+15005550006"}}))).await;
    assert_eq!(s, StatusCode::OK);
    let id = sent_row(&c, "sms", "SM0001").await;
    let params: Vec<(String, String)> = [
        ("AccountSid", "AC9"),
        ("MessageSid", "SM0001"),
        ("MessageStatus", "delivered"),
        ("To", "+5511988887777"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let form = serde_urlencoded::to_string(&params).unwrap();
    let url = "https://tarefa.example.com/v1/callbacks/twilio";
    let post = |sig: String| {
        Request::builder()
            .method(Method::POST)
            .uri("/v1/callbacks/twilio")
            .header("content-type", "application/x-www-form-urlencoded")
            .header("x-twilio-signature", sig)
            .body(Body::from(form.clone()))
            .unwrap()
    };
    let (s, _) = c
        .call(post(jobs::channels::sms::signature("other", url, &params)))
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert_eq!(status_of(&c, &id).await, "sent");
    let (s, r) = c
        .call(post(jobs::channels::sms::signature(
            "twilio-auth",
            url,
            &params,
        )))
        .await;
    assert_eq!((s, r["updated"].as_u64()), (StatusCode::OK, Some(1)));
    assert_eq!(status_of(&c, &id).await, "delivered");
}

#[test]
fn notify_routes_are_in_the_openapi_document() {
    let doc = api_lite::openapi::spec(&jobs::kinds::Registry::builtin());
    for (path, method) in [
        ("/v1/notifications", "post"),
        ("/v1/notifications/{id}", "get"),
        ("/v1/notification-templates", "post"),
        ("/v1/notification-channels/{channel}", "put"),
        ("/v1/notification-opt-outs", "post"),
        ("/v1/callbacks/whatsapp", "post"),
    ] {
        assert!(doc["paths"][path][method].is_object(), "{method} {path}");
    }
    assert!(doc["components"]["schemas"]["notify.send"].is_object());
    assert!(
        doc["components"]["schemas"]["NotificationRequest"]["properties"]["recipients"].is_object()
    );
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn notify_send_outcomes_are_in_metrics(pool: PgPool) {
    let c = Ctx::new(pool).await;
    sent_row(&c, "sms", "SM-metrics-1").await;
    sent_row(&c, "sms", "SM-metrics-2").await;
    let (s, _) = c
        .req(
            Method::POST,
            "/v1/notifications",
            Some(&c.a.key),
            Some(email("metrics:queued")),
        )
        .await;
    assert_eq!(s, StatusCode::ACCEPTED);
    let (s, text) = c.req(Method::GET, "/metrics", None, None).await;
    assert_eq!(s, StatusCode::OK);
    let text = text.as_str().expect("prometheus text").to_string();
    let tenant = c.a.id.to_string();
    for (channel, status, n) in [("sms", "sent", 2), ("email", "queued", 1)] {
        let line = format!(
            "tarefa_notifications{{tenant=\"{tenant}\",channel=\"{channel}\",status=\"{status}\"}} {n}"
        );
        assert!(text.contains(&line), "missing {line} in:\n{text}");
    }
}
