//! `/v1/payments` and `/v1/callbacks/stripe` over HTTP: bad amounts are a
//! 422 naming the field, the Idempotency-Key replays or conflicts, another
//! tenant's payment is a 404, a refund above what is left is refused, and a
//! provider event needs a valid, fresh signature (any of several secrets
//! while one rotates) and counts once.

mod common;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use common::*;
use jobs::testing::stripe::StripeFake;
use serde_json::{json, Value};
use sqlx::PgPool;

async fn ctx(pool: PgPool) -> Ctx {
    jobs::testing::Bed::set_env("TAREFA_STRIPE_SECRET_KEY", StripeFake::SECRET);
    jobs::testing::Bed::set_env("TAREFA_STRIPE_WEBHOOK_SECRET", "whsec_old, whsec_new");
    Ctx::with(pool, |s| s.payments.max_amount_cents = 1_000_000).await
}

fn body(amount: Value) -> Value {
    json!({"amount": amount, "payment_method": "pm_card_visa", "customer": "cus_1",
           "description": "Aula", "reference": "sessao-1"})
}

async fn post(c: &Ctx, key: &str, idem: Option<&str>, b: Value) -> (StatusCode, Value) {
    let mut req = request(Method::POST, "/v1/payments", Some(key), Some(b));
    if let Some(k) = idem {
        req.headers_mut()
            .insert("idempotency-key", k.parse().unwrap());
    }
    c.call(req).await
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn amounts_must_be_integer_cents_within_the_maximum(pool: PgPool) {
    let c = ctx(pool).await;
    for bad in [
        json!(10.5),
        json!(-100),
        json!(0),
        json!("1000"),
        json!(1_000_001),
        json!(10.0),
    ] {
        let (status, b) = post(&c, &c.a.key, None, body(bad.clone())).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {b}");
        assert_eq!(b["details"]["field"], "amount", "{bad}: {b}");
    }
    let mut unknown = body(json!(100));
    unknown["amount_decimal"] = json!("1.00");
    let (status, b) = post(&c, &c.a.key, None, unknown).await;
    assert!(status.is_client_error(), "{b}");
    let mut cur = body(json!(100));
    cur["currency"] = json!("btc");
    let (status, b) = post(&c, &c.a.key, None, cur).await;
    assert_eq!(
        (status, b["details"]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("currency"))
    );
    // Nothing was written by the refused requests.
    let (_, list) = c
        .req(Method::GET, "/v1/payments", Some(&c.a.key), None)
        .await;
    assert_eq!(list["payments"].as_array().unwrap().len(), 0);
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn the_idempotency_key_replays_the_payment_or_conflicts(pool: PgPool) {
    let c = ctx(pool).await;
    let (s1, p1) = post(&c, &c.a.key, Some("sess-1-charge"), body(json!(12_345))).await;
    assert_eq!(s1, StatusCode::ACCEPTED, "{p1}");
    assert_eq!(p1["status"], "pending");
    assert_eq!(p1["amount_cents"], 12_345);
    assert_eq!(p1["job_id"], p1["id"]);
    let (s2, p2) = post(&c, &c.a.key, Some("sess-1-charge"), body(json!(12_345))).await;
    assert_eq!((s2, &p2["id"]), (StatusCode::OK, &p1["id"]));
    let (s3, p3) = post(&c, &c.a.key, Some("sess-1-charge"), body(json!(99))).await;
    assert_eq!(s3, StatusCode::CONFLICT, "{p3}");
    assert_eq!(p3["error"], "idempotency_key_reused");
    // The same key is another tenant's own key space.
    let (s4, p4) = post(&c, &c.b.key, Some("sess-1-charge"), body(json!(99))).await;
    assert_eq!(s4, StatusCode::ACCEPTED, "{p4}");
    // One job per payment in the queue.
    let counts = c.state.engine.counts("payments").await.unwrap();
    assert_eq!(counts.queued, 2);
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn another_tenants_payment_is_not_found(pool: PgPool) {
    let c = ctx(pool).await;
    let (_, p) = post(&c, &c.a.key, None, body(json!(500))).await;
    let id = p["id"].as_str().unwrap();
    let (s, _) = c
        .req(
            Method::GET,
            &format!("/v1/payments/{id}"),
            Some(&c.a.key),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let (s, e) = c
        .req(
            Method::GET,
            &format!("/v1/payments/{id}"),
            Some(&c.b.key),
            None,
        )
        .await;
    assert_eq!(
        (s, e["error"].as_str()),
        (StatusCode::NOT_FOUND, Some("payment_not_found"))
    );
    let (s, _) = c
        .req(
            Method::POST,
            &format!("/v1/payments/{id}/refunds"),
            Some(&c.b.key),
            Some(json!({})),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (_, list) = c
        .req(Method::GET, "/v1/payments", Some(&c.b.key), None)
        .await;
    assert_eq!(list["payments"].as_array().unwrap().len(), 0);
    // A pending payment cannot be refunded yet.
    let (s, e) = c
        .req(
            Method::POST,
            &format!("/v1/payments/{id}/refunds"),
            Some(&c.a.key),
            Some(json!({"amount": 100})),
        )
        .await;
    assert_eq!(
        (s, e["error"].as_str()),
        (StatusCode::CONFLICT, Some("payment_not_refundable"))
    );
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn refunds_above_what_is_left_are_refused(pool: PgPool) {
    let c = ctx(pool).await;
    let (_, p) = post(&c, &c.a.key, None, body(json!(10_000))).await;
    let id: uuid::Uuid = p["id"].as_str().unwrap().parse().unwrap();
    sqlx::query("update payments set status = 'succeeded', amount_received_cents = 10000, provider_payment_id = 'pi_x' where id = $1")
        .bind(id)
        .execute(&c.pool)
        .await
        .unwrap();
    let url = format!("/v1/payments/{id}/refunds");
    let (s, r) = c
        .req(
            Method::POST,
            &url,
            Some(&c.a.key),
            Some(json!({"amount": 6_000})),
        )
        .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{r}");
    assert_eq!(r["status"], "pending");
    let (s, e) = c
        .req(
            Method::POST,
            &url,
            Some(&c.a.key),
            Some(json!({"amount": 4_001})),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert_eq!(
        (e["error"].as_str(), e["details"]["left"].as_i64()),
        (Some("refund_exceeds_payment"), Some(4_000))
    );
    for bad in [
        json!({"amount": 1.5}),
        json!({"amount": -1}),
        json!({"reason": "because"}),
    ] {
        let (s, e) = c
            .req(Method::POST, &url, Some(&c.a.key), Some(bad.clone()))
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {e}");
    }
    let (_, detail) = c
        .req(
            Method::GET,
            &format!("/v1/payments/{id}"),
            Some(&c.a.key),
            None,
        )
        .await;
    assert_eq!(detail["refunds"].as_array().unwrap().len(), 1);
}

fn event(id: &str, payment: &str) -> String {
    StripeFake::event_json(
        id,
        "payment_intent.succeeded",
        json!({"id": "pi_evt_1", "object": "payment_intent", "status": "succeeded", "amount": 700,
               "amount_received": 700, "currency": "brl", "latest_charge": "ch_1",
               "metadata": {"tarefa_payment_id": payment}}),
        chrono::Utc::now().timestamp(),
    )
}

async fn deliver(c: &Ctx, body: &str, sig: Option<String>) -> (StatusCode, Value) {
    let mut req = Request::builder()
        .method(Method::POST)
        .uri("/v1/callbacks/stripe")
        .header("content-type", "application/json");
    if let Some(s) = sig {
        req = req.header("stripe-signature", s);
    }
    c.call(req.body(Body::from(body.to_string())).unwrap())
        .await
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn provider_events_need_a_valid_fresh_signature_and_count_once(pool: PgPool) {
    let c = ctx(pool).await;
    let (_, p) = post(&c, &c.a.key, None, body(json!(700))).await;
    let id = p["id"].as_str().unwrap().to_string();
    let ev = event("evt_a", &id);
    let now = chrono::Utc::now().timestamp();

    // Forged, stale, missing: refused, and the payment does not move.
    let (s, _) = deliver(&c, &ev, Some(StripeFake::sign(&ev, now, "whsec_attacker"))).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, _) = deliver(&c, &ev, Some(StripeFake::sign(&ev, now - 400, "whsec_new"))).await;
    assert_eq!(
        s,
        StatusCode::UNAUTHORIZED,
        "older than the 5 min tolerance"
    );
    let (s, _) = deliver(&c, &ev, None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let tampered = ev.replace("700", "7");
    let (s, _) = deliver(&c, &tampered, Some(StripeFake::sign(&ev, now, "whsec_new"))).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "the body is what is signed");
    let (_, now_p) = c
        .req(
            Method::GET,
            &format!("/v1/payments/{id}"),
            Some(&c.a.key),
            None,
        )
        .await;
    assert_eq!(now_p["status"], "pending");

    // Signed with the old secret during a rotation: accepted, applied once.
    let (s, r) = deliver(&c, &ev, Some(StripeFake::sign(&ev, now, "whsec_old"))).await;
    assert_eq!(s, StatusCode::OK, "{r}");
    assert_eq!(
        (r["status"].as_str(), r["moved"].as_bool()),
        (Some("succeeded"), Some(true))
    );
    let (s, r) = deliver(&c, &ev, Some(StripeFake::sign(&ev, now, "whsec_new"))).await;
    assert_eq!((s, r["duplicate"].as_bool()), (StatusCode::OK, Some(true)));
    let (_, after) = c
        .req(
            Method::GET,
            &format!("/v1/payments/{id}"),
            Some(&c.a.key),
            None,
        )
        .await;
    assert_eq!(
        (
            after["status"].as_str(),
            after["amount_received_cents"].as_i64()
        ),
        (Some("succeeded"), Some(700))
    );
    // Not JSON, with a valid signature: a 400.
    let (s, _) = deliver(
        &c,
        "not json",
        Some(StripeFake::sign("not json", now, "whsec_new")),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
}

#[sqlx::test(migrator = "jobs::store::MIGRATOR")]
async fn payments_are_listed_newest_first_with_filters_and_pages(pool: PgPool) {
    let c = ctx(pool).await;
    for i in 0..5 {
        let mut b = body(json!(100 + i));
        b["reference"] = json!(if i % 2 == 0 { "par" } else { "impar" });
        post(&c, &c.a.key, None, b).await;
    }
    let (_, page) = c
        .req(Method::GET, "/v1/payments?limit=2", Some(&c.a.key), None)
        .await;
    let first: Vec<i64> = page["payments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["amount_cents"].as_i64().unwrap())
        .collect();
    assert_eq!(first, [104, 103]);
    let next = page["next_before"].as_str().unwrap();
    let (_, page2) = c
        .req(
            Method::GET,
            &format!("/v1/payments?limit=2&before={next}"),
            Some(&c.a.key),
            None,
        )
        .await;
    let second: Vec<i64> = page2["payments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["amount_cents"].as_i64().unwrap())
        .collect();
    assert_eq!(second, [102, 101]);
    let (_, par) = c
        .req(
            Method::GET,
            "/v1/payments?reference=par",
            Some(&c.a.key),
            None,
        )
        .await;
    assert_eq!(par["payments"].as_array().unwrap().len(), 3);
    let (s, e) = c
        .req(
            Method::GET,
            "/v1/payments?status=paid",
            Some(&c.a.key),
            None,
        )
        .await;
    assert_eq!(
        (s, e["details"]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("status"))
    );
}
