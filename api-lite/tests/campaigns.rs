//! `/v1/contacts`, `/v1/whatsapp-templates`, `/v1/campaigns` over HTTP:
//! contacts in JSON and CSV with per-row phone problems, a 422 naming the
//! field for each bad campaign, a 409 naming the state for a refused move,
//! another tenant's campaign is a 404, preview counts and samples, live
//! metrics, and the signed WhatsApp webhook moving a recipient forward and
//! opting a contact out by stop word. Also a preview over 100,000 contacts.

mod common;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use common::*;
use serde_json::{json, Value};
use sqlx::PgPool;

const SECRET: &str = "app-secret-campaigns";

async fn ctx(pool: PgPool) -> Ctx {
    Ctx::with(pool, |s| {
        s.notifications.whatsapp_app_secret = Some(SECRET.into())
    })
    .await
}

async fn setup(c: &Ctx) {
    let (s, b) = c
        .req(
            Method::POST,
            "/v1/whatsapp-templates",
            Some(&c.a.key),
            Some(json!({
            "name": "promo", "category": "marketing", "body": "Olá {{1}}, seu cupom é {{2}}",
            "parameters": ["first_name", "coupon"]})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let (s, b) = c
        .req(Method::POST, "/v1/contacts", Some(&c.a.key), Some(json!([
            {"external_id": "c1", "name": "Ana Souza", "phone": "(11) 98765-4321", "tags": ["vip"], "attributes": {"coupon": "VIP10"}},
            {"external_id": "c2", "name": "Bruno Lima", "phone": "11 8765-4322", "tags": ["vip"]},
            {"external_id": "c3", "name": "Carla", "phone": "12345", "tags": ["vip"]},
            {"external_id": "c4", "name": "Davi", "phone": "+55 21 99999-0000", "blocked": true}
        ])))
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["created"], 4);
    assert_eq!(b["invalid_phones"][0]["external_id"], "c3");
    assert_eq!(b["invalid_phones"][0]["field"], "contacts[2].phone");
}

fn campaign(extra: Value) -> Value {
    let mut v = json!({"name": "Black Friday", "sender_phone_number_id": "1055001", "template": "promo",
        "parameters": {"first_name": {"source": "first_name"}, "coupon": {"source": "attributes.coupon", "default": "BEMVINDO"}},
        "audience": {"type": "all"}, "rate_per_second": 40});
    for (k, x) in extra.as_object().unwrap() {
        v[k] = x.clone();
    }
    v
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn campaigns_http_validates_moves_and_reports(pool: PgPool) {
    let c = ctx(pool.clone()).await;
    setup(&c).await;
    // CSV upsert: the phone with the 9th digit added, tags split on |.
    let req = Request::builder()
        .method(Method::POST)
        .uri("/v1/contacts")
        .header("authorization", format!("Bearer {}", c.a.key))
        .header("content-type", "text/csv")
        .body(Body::from(
            "external_id,name,phone,tags,attr.city\nc5,Eva Reis,(81) 8888-7777,vip|ne,Recife\n",
        ))
        .unwrap();
    let (s, b) = c.call(req).await;
    assert_eq!((s, b["created"].as_i64()), (StatusCode::OK, Some(1)), "{b}");
    let (_, e) = c
        .req(Method::GET, "/v1/contacts/c5", Some(&c.a.key), None)
        .await;
    assert_eq!(e["phone"], "+5581988887777");
    assert_eq!(e["attributes"]["city"], "Recife");

    for (extra, field) in [
        (json!({"template": "nao_existe"}), "template"),
        (
            json!({"parameters": {"first_name": {"source": "name"}, "coupon": {"source": "name"}, "cidade": {"source": "name"}}}),
            "parameters.cidade",
        ),
        (
            json!({"audience": {"type": "tags", "any_of": ["ninguem"]}}),
            "audience",
        ),
        (json!({"start_at": "2020-01-01T00:00:00Z"}), "start_at"),
        (json!({"rate_per_second": 500}), "rate_per_second"),
    ] {
        let (s, b) = c
            .req(
                Method::POST,
                "/v1/campaigns",
                Some(&c.a.key),
                Some(campaign(extra.clone())),
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{extra}: {b}");
        assert_eq!(b["details"]["field"], field, "{extra}: {b}");
    }
    let (s, camp) = c
        .req(
            Method::POST,
            "/v1/campaigns",
            Some(&c.a.key),
            Some(campaign(json!({}))),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{camp}");
    let id = camp["id"].as_str().unwrap().to_string();

    let (s, p) = c
        .req(
            Method::POST,
            &format!("/v1/campaigns/{id}/preview"),
            Some(&c.a.key),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{p}");
    assert_eq!(
        (p["matched"].as_i64(), p["eligible"].as_i64()),
        (Some(5), Some(3)),
        "{p}"
    );
    assert_eq!(p["excluded"]["invalid_phone"], 1);
    assert_eq!(p["excluded"]["blocked"], 1);
    assert_eq!(p["samples"][0]["text"], "Olá Ana, seu cupom é VIP10");
    assert_eq!(p["samples"][1]["text"], "Olá Bruno, seu cupom é BEMVINDO");

    // Another tenant sees nothing.
    for (m, path) in [
        (Method::GET, format!("/v1/campaigns/{id}")),
        (Method::POST, format!("/v1/campaigns/{id}/start")),
    ] {
        let (s, b) = c.req(m, &path, Some(&c.b.key), None).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{b}");
    }
    let (s, b) = c
        .req(
            Method::POST,
            &format!("/v1/campaigns/{id}/pause"),
            Some(&c.a.key),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert_eq!(b["details"]["state"], "draft");
    assert!(b["message"].as_str().unwrap().contains("draft"));
    let (s, b) = c
        .req(
            Method::POST,
            &format!("/v1/campaigns/{id}/start"),
            Some(&c.a.key),
            None,
        )
        .await;
    assert_eq!(
        (s, b["state"].as_str()),
        (StatusCode::OK, Some("running")),
        "{b}"
    );
    assert_eq!(b["recipients_count"], 3);

    // No worker runs here: make one recipient sent by hand, then Meta's webhooks arrive.
    sqlx::query(
        "update campaign_recipients r set status = 'sent', wamid = 'wamid.T1', sent_at = now() \
         from contacts c where c.id = r.contact_id and c.external_id = 'c1'",
    )
    .execute(&pool)
    .await
    .unwrap();
    for st in ["read", "delivered"] {
        let p = jobs::testing::whatsapp::status_payload(
            "waba",
            "1055001",
            "wamid.T1",
            "5511987654321",
            st,
            None,
        );
        let (s, b) = webhook(&c, &p, SECRET).await;
        assert_eq!(s, StatusCode::OK, "{b}");
    }
    let p = jobs::testing::whatsapp::message_payload("waba", "1055001", "5511987654321", "SAIR");
    assert_eq!(
        webhook(&c, &p, "wrong-secret").await.0,
        StatusCode::UNAUTHORIZED
    );
    let (s, b) = webhook(&c, &p, SECRET).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["campaigns"]["opted_out"], 1, "{b}");
    assert_eq!(b["campaigns"]["replies"], 1, "{b}");

    let (s, d) = c
        .req(
            Method::GET,
            &format!("/v1/campaigns/{id}"),
            Some(&c.a.key),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{d}");
    let m = &d["metrics"];
    assert_eq!(m["recipients"], 3);
    assert_eq!(m["by_status"]["read"], 1, "{m}");
    assert_eq!(
        (
            m["sent"].as_i64(),
            m["read"].as_i64(),
            m["replied"].as_i64()
        ),
        (Some(1), Some(1), Some(1))
    );
    assert_eq!(m["cost"]["price_per_message"], 0.0625);
    assert_eq!(m["cost"]["actual"], 0.0625);
    assert!(m["eta"].is_string(), "{m}");
    let (_, r) = c
        .req(
            Method::GET,
            &format!("/v1/campaigns/{id}/recipients?status=read"),
            Some(&c.a.key),
            None,
        )
        .await;
    assert_eq!(r.as_array().unwrap().len(), 1);
    let (s, _) = c
        .req(
            Method::GET,
            &format!("/v1/campaigns/{id}/recipients?status=nope"),
            Some(&c.a.key),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let (s, series) = c
        .req(
            Method::GET,
            &format!("/v1/campaigns/{id}/series"),
            Some(&c.a.key),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(series[0]["sent"], 1, "{series}");

    // Prometheus gauges while it runs.
    let (_, text) = c.req(Method::GET, "/metrics", None, None).await;
    let text = text.as_str().unwrap_or_default().to_string();
    let t = c.a.id;
    assert!(
        text.contains(&format!(
            "tarefa_campaign_recipients{{tenant=\"{t}\",campaign=\"{id}\",state=\"running\",status=\"read\"}} 1"
        )),
        "{text}"
    );
    assert!(text.contains(&format!(
        "tarefa_campaign_rate{{tenant=\"{t}\",campaign=\"{id}\"}} 40"
    )));

    let (s, b) = c
        .req(
            Method::POST,
            &format!("/v1/campaigns/{id}/cancel"),
            Some(&c.a.key),
            None,
        )
        .await;
    assert_eq!(
        (s, b["state"].as_str()),
        (StatusCode::OK, Some("cancelled"))
    );
    let (s, b) = c
        .req(
            Method::POST,
            &format!("/v1/campaigns/{id}/resume"),
            Some(&c.a.key),
            None,
        )
        .await;
    assert_eq!(
        (s, b["details"]["state"].as_str()),
        (StatusCode::CONFLICT, Some("cancelled"))
    );
    // The OpenAPI document lists the routes.
    let (_, doc) = c.req(Method::GET, "/openapi.json", None, None).await;
    assert!(doc["paths"]["/v1/campaigns/{id}/preview"].is_object());
    assert!(doc["paths"]["/v1/contacts"].is_object());
}

async fn webhook(c: &Ctx, p: &Value, secret: &str) -> (StatusCode, Value) {
    let body = serde_json::to_vec(p).unwrap();
    let sig = jobs::channels::whatsapp::sign(secret, &body);
    let req = Request::builder()
        .method(Method::POST)
        .uri("/v1/callbacks/whatsapp")
        .header("content-type", "application/json")
        .header("x-hub-signature-256", sig)
        .body(Body::from(body))
        .unwrap();
    c.call(req).await
}

/// Preview over 100,000 contacts: it answers (timing is measured by the bench, not asserted here).
#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn campaigns_preview_counts_100k_contacts(pool: PgPool) {
    let c = ctx(pool.clone()).await;
    setup(&c).await;
    sqlx::query(
        "insert into contacts (id, tenant_id, external_id, name, phone, tags, attributes, marketing_opt_out) \
         select gen_random_uuid(), $1, 'bulk' || g, 'Cliente ' || g, '+55119' || lpad((10000000 + g % 99000)::text, 8, '0'), \
           case when g % 3 = 0 then '{vip}'::text[] else '{}' end, jsonb_build_object('coupon', 'C' || g), g % 50 = 0 \
         from generate_series(1, 100000) g",
    )
    .bind(c.a.id)
    .execute(&pool)
    .await
    .unwrap();
    let (s, camp) = c
        .req(
            Method::POST,
            "/v1/campaigns",
            Some(&c.a.key),
            Some(campaign(json!({}))),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{camp}");
    let id = camp["id"].as_str().unwrap();
    let (s, p) = c
        .req(
            Method::POST,
            &format!("/v1/campaigns/{id}/preview"),
            Some(&c.a.key),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{p}");
    assert_eq!(p["matched"], 100_004);
    // 99,000 distinct phones among the bulk rows (+ the 4 of the setup): the rest are duplicates.
    assert_eq!(p["excluded"]["marketing_opt_out"], 2_000);
    assert!(
        p["excluded"]["duplicate_phone"].as_i64().unwrap() > 0,
        "{p}"
    );
    let total: i64 = p["eligible"].as_i64().unwrap()
        + p["excluded"]
            .as_object()
            .unwrap()
            .values()
            .map(|v| v.as_i64().unwrap())
            .sum::<i64>();
    assert_eq!(total, 100_004);
}

/// A Meta `phone_number_quality_update` or `account_update` webhook for `waba`.
fn account_payload(waba: &str, field: &str, event: &str) -> Value {
    json!({"object": "whatsapp_business_account", "entry": [{"id": waba,
        "time": chrono::Utc::now().timestamp(), "changes": [{"field": field,
        "value": {"display_phone_number": "5511999990000", "event": event, "current_limit": "TIER_1K"}}]}]})
}

async fn state_of(c: &Ctx, key: &str, id: &str) -> (String, String) {
    let (s, d) = c
        .req(Method::GET, &format!("/v1/campaigns/{id}"), Some(key), None)
        .await;
    assert_eq!(s, StatusCode::OK, "{d}");
    (
        d["state"].as_str().unwrap_or_default().to_string(),
        d["state_reason"].as_str().unwrap_or_default().to_string(),
    )
}

async fn start_campaign(c: &Ctx, key: &str) -> String {
    let (s, camp) = c
        .req(
            Method::POST,
            "/v1/campaigns",
            Some(key),
            Some(campaign(json!({}))),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{camp}");
    let id = camp["id"].as_str().unwrap().to_string();
    let (s, b) = c
        .req(
            Method::POST,
            &format!("/v1/campaigns/{id}/start"),
            Some(key),
            None,
        )
        .await;
    assert_eq!(
        (s, b["state"].as_str()),
        (StatusCode::OK, Some("running")),
        "{b}"
    );
    id
}

/// `PUT /v1/campaign-settings` over HTTP (422s naming the field, custom stop
/// words, the `waba_id`); 131049 and 131048 arriving as failed-status
/// webhooks; quality and account webhooks pausing only the campaigns of the
/// tenant whose WABA it is.
#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn campaigns_settings_failed_codes_and_quality_webhooks(pool: PgPool) {
    let c = ctx(pool.clone()).await;
    setup(&c).await;
    // Tenant B: its own template, contact and number's WABA.
    let (s, b) = c
        .req(
            Method::POST,
            "/v1/whatsapp-templates",
            Some(&c.b.key),
            Some(
                json!({"name": "promo", "category": "marketing", "body": "Oi {{1}} {{2}}",
                "parameters": ["first_name", "coupon"]}),
            ),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let (s, b) = c
        .req(
            Method::POST,
            "/v1/contacts",
            Some(&c.b.key),
            Some(json!([{"external_id": "b1", "name": "Beto", "phone": "+55 31 99999-1111"}])),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");

    for (body, field) in [
        (json!({"messaging_limit": 777}), "messaging_limit"),
        (json!({"stop_words": ["CHEGA", "  "]}), "stop_words"),
    ] {
        let (s, b) = c
            .req(
                Method::PUT,
                "/v1/campaign-settings",
                Some(&c.a.key),
                Some(body.clone()),
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {b}");
        assert_eq!(b["details"]["field"], field, "{body}: {b}");
    }
    let (s, b) = c
        .req(
            Method::PUT,
            "/v1/campaign-settings",
            Some(&c.a.key),
            Some(json!({"messaging_limit": 2000, "stop_words": ["CHEGA", "não quero"], "waba_id": "WABA-A"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["stop_words"], json!(["CHEGA", "não quero"]));
    let (s, b) = c
        .req(
            Method::PUT,
            "/v1/campaign-settings",
            Some(&c.b.key),
            Some(json!({"waba_id": "WABA-B"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    // B left its stop words out: it gets the defaults.
    assert_eq!(b["stop_words"][0], "SAIR", "{b}");
    // An update replaces the row (one per tenant).
    let (s, _) = c
        .req(
            Method::PUT,
            "/v1/campaign-settings",
            Some(&c.a.key),
            Some(json!({"messaging_limit": 10000, "stop_words": ["CHEGA", "não quero"], "waba_id": "WABA-A"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let (limit, waba): (Option<i32>, Option<String>) = sqlx::query_as(
        "select messaging_limit, waba_id from campaign_settings where tenant_id = $1",
    )
    .bind(c.a.id)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!((limit, waba.as_deref()), (Some(10000), Some("WABA-A")));

    let a_id = start_campaign(&c, &c.a.key).await;
    let b_id = start_campaign(&c, &c.b.key).await;
    // No worker runs here: both of A's recipients sent by hand.
    sqlx::query(
        "update campaign_recipients r set status = 'sent', wamid = 'wamid.' || c.external_id, sent_at = now() \
         from contacts c where c.id = r.contact_id and r.campaign_id = $1::uuid",
    )
    .bind(&a_id)
    .execute(&pool)
    .await
    .unwrap();

    // 131049 as a failed status: deferred 24 h, not failed; the campaign runs on.
    let p = jobs::testing::whatsapp::status_payload(
        "WABA-A",
        "1055001",
        "wamid.c1",
        "5511987654321",
        "failed",
        Some(131049),
    );
    let (s, b) = webhook(&c, &p, SECRET).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let (st, reason, hours): (String, Option<String>, f64) = sqlx::query_as(
        "select r.status, r.reason, extract(epoch from r.deferred_until - now())::float8 / 3600 \
         from campaign_recipients r join contacts c on c.id = r.contact_id \
         where r.campaign_id = $1::uuid and c.external_id = 'c1'",
    )
    .bind(&a_id)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(st, "deferred");
    assert!(reason.unwrap_or_default().contains("131049"));
    assert!((23.5..=24.0).contains(&hours), "deferred {hours} h");
    assert_eq!(state_of(&c, &c.a.key, &a_id).await.0, "running");

    // 131048 as a failed status: the campaign pauses itself with the reason.
    let p = jobs::testing::whatsapp::status_payload(
        "WABA-A",
        "1055001",
        "wamid.c2",
        "5511987654322",
        "failed",
        Some(131048),
    );
    let (s, b) = webhook(&c, &p, SECRET).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let (st, reason) = state_of(&c, &c.a.key, &a_id).await;
    assert_eq!(st, "paused");
    assert!(reason.contains("131048"), "{reason}");
    let (code, rst): (Option<i32>, String) = sqlx::query_as(
        "select error_code, status from campaign_recipients where wamid = 'wamid.c2'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!((code, rst.as_str()), (Some(131048), "failed"));
    assert_eq!(state_of(&c, &c.b.key, &b_id).await.0, "running");
    let (s, _) = c
        .req(
            Method::POST,
            &format!("/v1/campaigns/{a_id}/resume"),
            Some(&c.a.key),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK);

    // A good quality event pauses nothing; a downgrade of WABA-A pauses A only.
    let (s, b) = webhook(
        &c,
        &account_payload("WABA-A", "phone_number_quality_update", "UPGRADE"),
        SECRET,
    )
    .await;
    assert_eq!(
        (s, b["campaigns"]["paused"].as_i64()),
        (StatusCode::OK, Some(0)),
        "{b}"
    );
    assert_eq!(state_of(&c, &c.a.key, &a_id).await.0, "running");
    let (s, b) = webhook(
        &c,
        &account_payload("WABA-A", "phone_number_quality_update", "DOWNGRADE"),
        SECRET,
    )
    .await;
    assert_eq!(
        (s, b["campaigns"]["paused"].as_i64()),
        (StatusCode::OK, Some(1)),
        "{b}"
    );
    let (st, reason) = state_of(&c, &c.a.key, &a_id).await;
    assert_eq!(st, "paused");
    assert!(
        reason.contains("phone_number_quality_update") && reason.contains("DOWNGRADE"),
        "{reason}"
    );
    assert_eq!(state_of(&c, &c.b.key, &b_id).await.0, "running");
    // An account restriction of WABA-B pauses B's campaign.
    let (s, b) = webhook(
        &c,
        &account_payload("WABA-B", "account_update", "ACCOUNT_RESTRICTION"),
        SECRET,
    )
    .await;
    assert_eq!(
        (s, b["campaigns"]["paused"].as_i64()),
        (StatusCode::OK, Some(1)),
        "{b}"
    );
    let (st, reason) = state_of(&c, &c.b.key, &b_id).await;
    assert_eq!(st, "paused");
    assert!(reason.contains("account_update"), "{reason}");

    // A's own stop words replace the defaults: "SAIR" is a reply, "não quero" opts out.
    let p = jobs::testing::whatsapp::message_payload("WABA-A", "1055001", "5511987654322", "SAIR");
    let (s, b) = webhook(&c, &p, SECRET).await;
    assert_eq!(
        (s, b["campaigns"]["opted_out"].as_i64()),
        (StatusCode::OK, Some(0)),
        "{b}"
    );
    let p = jobs::testing::whatsapp::message_payload(
        "WABA-A",
        "1055001",
        "5511987654322",
        "Nao quero!",
    );
    let (s, b) = webhook(&c, &p, SECRET).await;
    assert_eq!(
        (s, b["campaigns"]["opted_out"].as_i64()),
        (StatusCode::OK, Some(1)),
        "{b}"
    );
    let (s, e) = c
        .req(Method::GET, "/v1/contacts/c2", Some(&c.a.key), None)
        .await;
    assert_eq!(s, StatusCode::OK, "{e}");
    assert!(e["opted_out_at"].is_string(), "{e}");
    // B's contact answering "SAIR" to B's number: the default words hold for B.
    let p = jobs::testing::whatsapp::message_payload("WABA-B", "1055001", "5531999991111", "sair");
    let (s, b) = webhook(&c, &p, SECRET).await;
    assert_eq!(
        (s, b["campaigns"]["opted_out"].as_i64()),
        (StatusCode::OK, Some(1)),
        "{b}"
    );
}

/// A burst of status webhooks, three per message in shuffled orders, all in
/// flight at once: each is answered 200 only once its statuses are
/// committed, they are committed together (fewer transactions than
/// webhooks), and every recipient ends `read` with both times set.
#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn a_burst_of_status_webhooks_is_committed_together_and_loses_nothing(pool: PgPool) {
    let c = ctx(pool.clone()).await;
    setup(&c).await;
    let contacts: Vec<Value> = (0..60)
        .map(|i| {
            json!({"external_id": format!("burst{i}"), "name": format!("Contato {i}"),
                        "phone": format!("+55 11 9{:04}-{:04}", 1000 + i, 2000 + i)})
        })
        .collect();
    let (s, b) = c
        .req(
            Method::POST,
            "/v1/contacts",
            Some(&c.a.key),
            Some(json!(contacts)),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let id = start_campaign(&c, &c.a.key).await;
    let sent = sqlx::query(
        "update campaign_recipients r set status = 'sent', wamid = 'wamid.' || c.external_id, sent_at = now() \
         from contacts c where c.id = r.contact_id and c.external_id like 'burst%'",
    )
    .execute(&pool)
    .await
    .unwrap()
    .rows_affected();
    assert_eq!(sent, 60);
    let orders = [
        ["sent", "delivered", "read"],
        ["read", "delivered", "sent"],
        ["delivered", "read", "sent"],
    ];
    let mut calls = Vec::new();
    let cr = &c;
    for i in 0..60 {
        for st in orders[i % 3] {
            let p = jobs::testing::whatsapp::status_payload(
                "waba",
                "1055001",
                &format!("wamid.burst{i}"),
                "5511900000000",
                st,
                None,
            );
            calls.push(async move { webhook(cr, &p, SECRET).await });
        }
    }
    let answers = futures::future::join_all(calls).await;
    assert_eq!(answers.len(), 180);
    for (s, b) in &answers {
        assert_eq!(*s, StatusCode::OK, "{b}");
    }
    let (batches, requests, statuses) = c.state.statuses.counts();
    assert_eq!((requests, statuses), (180, 180));
    assert!(batches < 180, "{batches} transactions for 180 webhooks");
    let done: Vec<(String, bool, bool)> = sqlx::query_as(
        "select status, delivered_at is not null, read_at is not null from campaign_recipients \
         where campaign_id = $1::uuid and wamid like 'wamid.burst%'",
    )
    .bind(&id)
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(done.len(), 60);
    assert!(
        done.iter().all(|r| r == &("read".to_string(), true, true)),
        "{done:?}"
    );
}
