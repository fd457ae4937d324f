//! The Stripe fake over real HTTP (reqwest, as the payments code talks to it):
//! charges and declines, the idempotency layer (replay, mismatch, in flight,
//! the 24 h window), scripted faults (503, hang after the charge, cut
//! connection), search by metadata, refunds, webhook signatures and the API key.

use std::time::Duration;

use hmac::{Hmac, Mac};
use jobs::testing::StripeFake;
use reqwest::header::HeaderMap;
use reqwest::StatusCode;
use serde_json::{json, Value};

/// One answer, kept whole: status, headers, and the exact body text.
struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    text: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.text).expect("json body")
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::new()
}

async fn post_with(
    http: &reqwest::Client,
    fake: &StripeFake,
    path: &str,
    key: Option<&str>,
    form: &[(&str, &str)],
) -> reqwest::Result<Answer> {
    let mut req = http
        .post(format!("{}{path}", fake.base_url()))
        .bearer_auth(StripeFake::SECRET)
        .form(form);
    if let Some(k) = key {
        req = req.header("Idempotency-Key", k);
    }
    let res = req.send().await?;
    Ok(Answer {
        status: res.status(),
        headers: res.headers().clone(),
        text: res.text().await?,
    })
}

async fn post(fake: &StripeFake, path: &str, key: Option<&str>, form: &[(&str, &str)]) -> Answer {
    post_with(&client(), fake, path, key, form)
        .await
        .expect("fake answers")
}

async fn get(fake: &StripeFake, path_and_query: &str) -> Answer {
    let res = client()
        .get(format!("{}{path_and_query}", fake.base_url()))
        .bearer_auth(StripeFake::SECRET)
        .send()
        .await
        .expect("fake answers");
    Answer {
        status: res.status(),
        headers: res.headers().clone(),
        text: res.text().await.expect("body"),
    }
}

/// A confirmed R$ 150,00 charge for payment `payment_id` with `pm`.
fn charge_form<'a>(payment_id: &'a str, pm: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("amount", "15000"),
        ("currency", "brl"),
        ("customer", "cus_Aluno123"),
        ("payment_method", pm),
        ("confirm", "true"),
        ("description", "Aula de matemática"),
        ("metadata[payment_id]", payment_id),
        ("payment_method_types[]", "card"),
    ]
}

#[tokio::test]
async fn confirmed_intent_with_visa_succeeds_and_charges_once() {
    let fake = StripeFake::start().await;
    let a = post(
        &fake,
        "/v1/payment_intents",
        Some("k-1"),
        &charge_form("pay-1", "pm_card_visa"),
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.text);
    let pi = a.json();
    assert!(pi["id"].as_str().unwrap().starts_with("pi_"), "{pi}");
    assert_eq!(pi["object"], "payment_intent");
    assert_eq!(pi["status"], "succeeded");
    assert_eq!(
        (pi["amount"].as_i64(), pi["amount_received"].as_i64()),
        (Some(15000), Some(15000))
    );
    assert_eq!(pi["currency"], "brl");
    assert_eq!(pi["customer"], "cus_Aluno123");
    assert_eq!(pi["payment_method"], "pm_card_visa");
    assert_eq!(pi["description"], "Aula de matemática");
    assert_eq!(pi["metadata"], json!({"payment_id": "pay-1"}));
    assert!(pi["latest_charge"].as_str().unwrap().starts_with("ch_"));
    assert_eq!(pi["last_payment_error"], Value::Null);
    assert!(pi["created"].as_i64().unwrap() > 1_700_000_000);
    assert!(a.header("request-id").unwrap().starts_with("req_"));
    assert_eq!(a.header("idempotent-replayed"), None);

    let charges = fake.wait_for_charges(1).await;
    assert_eq!(charges.len(), 1);
    let c = &charges[0];
    assert_eq!(
        (c.payment_intent.as_str(), c.amount, c.currency.as_str()),
        (pi["id"].as_str().unwrap(), 15000, "brl")
    );
    assert_eq!(c.id, pi["latest_charge"].as_str().unwrap());
    assert_eq!(c.idempotency_key.as_deref(), Some("k-1"));
    assert_eq!(
        c.metadata.get("payment_id").map(String::as_str),
        Some("pay-1")
    );

    let got = get(
        &fake,
        &format!("/v1/payment_intents/{}", pi["id"].as_str().unwrap()),
    )
    .await;
    assert_eq!((got.status, got.json()), (StatusCode::OK, pi.clone()));
    let seen = fake.requests();
    assert_eq!(seen[0].params["metadata[payment_id]"], "pay-1");
    assert_eq!(seen[0].params["payment_method_types[0]"], "card");
    assert_eq!(
        (
            seen[0].method.as_str(),
            seen[0].path.as_str(),
            seen[0].status
        ),
        ("POST", "/v1/payment_intents", 200)
    );
}

#[tokio::test]
async fn unconfirmed_intent_waits_and_confirm_charges_it() {
    let fake = StripeFake::start().await;
    let a = post(
        &fake,
        "/v1/payment_intents",
        None,
        &[
            ("amount", "2500"),
            ("currency", "BRL"),
            ("payment_method", "pm_card_visa"),
        ],
    )
    .await;
    let pi = a.json();
    assert_eq!(
        (pi["status"].as_str(), pi["currency"].as_str()),
        (Some("requires_confirmation"), Some("brl"))
    );
    assert_eq!(pi["latest_charge"], Value::Null);
    assert!(fake.charges().is_empty());
    let id = pi["id"].as_str().unwrap();
    let c = post(
        &fake,
        &format!("/v1/payment_intents/{id}/confirm"),
        Some("confirm-1"),
        &[],
    )
    .await;
    assert_eq!(
        (c.status, c.json()["status"].as_str()),
        (StatusCode::OK, Some("succeeded"))
    );
    assert_eq!(
        fake.charges()[0].idempotency_key.as_deref(),
        Some("confirm-1")
    );
    let again = post(
        &fake,
        &format!("/v1/payment_intents/{id}/confirm"),
        None,
        &[],
    )
    .await;
    assert_eq!(again.status, 400);
    assert_eq!(
        again.json()["error"]["code"],
        "payment_intent_unexpected_state"
    );
    assert_eq!(fake.charges().len(), 1);
    let missing = get(&fake, "/v1/payment_intents/pi_nope").await;
    assert_eq!(missing.status, 404);
    assert_eq!(missing.json()["error"]["code"], "resource_missing");
    assert_eq!(missing.json()["error"]["type"], "invalid_request_error");
}

#[tokio::test]
async fn declined_cards_answer_402_with_their_decline_codes() {
    let fake = StripeFake::start().await;
    for (pm, decline_code, message) in [
        (
            "pm_card_chargeDeclined",
            "generic_decline",
            "Your card was declined.",
        ),
        (
            "pm_card_chargeDeclinedInsufficientFunds",
            "insufficient_funds",
            "Your card has insufficient funds.",
        ),
    ] {
        let a = post(
            &fake,
            "/v1/payment_intents",
            None,
            &charge_form("pay-d", pm),
        )
        .await;
        assert_eq!(a.status, 402, "{pm}: {}", a.text);
        let e = &a.json()["error"];
        assert_eq!(e["type"], "card_error");
        assert_eq!(e["code"], "card_declined");
        assert_eq!(e["decline_code"], decline_code);
        assert_eq!(e["message"], message);
        let pi = &e["payment_intent"];
        assert_eq!(pi["status"], "requires_payment_method");
        assert_eq!(pi["amount_received"], 0);
        assert_eq!(pi["last_payment_error"]["decline_code"], decline_code);
        let stored = fake
            .payment_intent(pi["id"].as_str().unwrap())
            .expect("declined intent is kept");
        assert_eq!(stored["status"], "requires_payment_method");
    }
    let a = post(
        &fake,
        "/v1/payment_intents",
        None,
        &charge_form("pay-3ds", "pm_card_authenticationRequired"),
    )
    .await;
    assert_eq!(a.status, 200);
    assert_eq!(a.json()["status"], "requires_action");
    assert_eq!(a.json()["next_action"]["type"], "use_stripe_sdk");
    assert!(
        fake.charges().is_empty(),
        "declines and 3DS challenges move no money"
    );
}

#[tokio::test]
async fn amounts_must_be_positive_integers() {
    let fake = StripeFake::start().await;
    for bad in ["150.00", "-100", "abc"] {
        let a = post(
            &fake,
            "/v1/payment_intents",
            None,
            &[("amount", bad), ("currency", "brl")],
        )
        .await;
        assert_eq!(a.status, 400, "{bad}");
        let e = &a.json()["error"];
        assert_eq!(
            (e["type"].as_str(), e["code"].as_str(), e["param"].as_str()),
            (
                Some("invalid_request_error"),
                Some("parameter_invalid_integer"),
                Some("amount")
            ),
            "{bad}"
        );
    }
    let a = post(&fake, "/v1/payment_intents", None, &[("currency", "brl")]).await;
    assert_eq!(a.json()["error"]["code"], "parameter_missing");
    let a = post(
        &fake,
        "/v1/payment_intents",
        None,
        &[("amount", "100"), ("currency", "brl"), ("amout", "1")],
    )
    .await;
    assert_eq!(a.json()["error"]["code"], "parameter_unknown");
    assert!(fake.charges().is_empty());
}

#[tokio::test]
async fn idempotent_replay_returns_the_identical_body_and_charges_once() {
    let fake = StripeFake::start().await;
    let form = charge_form("pay-2", "pm_card_visa");
    let first = post(&fake, "/v1/payment_intents", Some("pay-2-charge"), &form).await;
    let second = post(&fake, "/v1/payment_intents", Some("pay-2-charge"), &form).await;
    assert_eq!(
        (first.status, second.status),
        (StatusCode::OK, StatusCode::OK)
    );
    assert_eq!(
        second.text, first.text,
        "a replay is byte-for-byte the first answer"
    );
    assert_eq!(second.header("idempotent-replayed"), Some("true"));
    assert_eq!(
        second.header("original-request"),
        first.header("request-id")
    );
    assert_eq!(first.header("idempotent-replayed"), None);
    assert_eq!(fake.charges().len(), 1);
    let seen = fake.requests();
    assert_eq!(
        seen.iter().map(|r| r.replayed).collect::<Vec<_>>(),
        vec![false, true]
    );

    // A decline is an outcome too: saved and replayed, not retried.
    let d = charge_form("pay-2d", "pm_card_chargeDeclined");
    let d1 = post(&fake, "/v1/payment_intents", Some("pay-2d"), &d).await;
    let d2 = post(&fake, "/v1/payment_intents", Some("pay-2d"), &d).await;
    assert_eq!(
        (d2.status, d2.text == d1.text),
        (StatusCode::PAYMENT_REQUIRED, true)
    );
    assert_eq!(d2.header("idempotent-replayed"), Some("true"));

    // After the 24 h window the key is free again: a new intent, a second charge.
    fake.forget_idempotency_keys();
    let third = post(&fake, "/v1/payment_intents", Some("pay-2-charge"), &form).await;
    assert_eq!(third.header("idempotent-replayed"), None);
    assert_ne!(third.json()["id"], first.json()["id"]);
    assert_eq!(fake.charges().len(), 2);
}

#[tokio::test]
async fn same_key_with_other_params_is_an_idempotency_error() {
    let fake = StripeFake::start().await;
    post(
        &fake,
        "/v1/payment_intents",
        Some("pay-3"),
        &charge_form("pay-3", "pm_card_visa"),
    )
    .await;
    let mut other = charge_form("pay-3", "pm_card_visa");
    other[0] = ("amount", "99900");
    let a = post(&fake, "/v1/payment_intents", Some("pay-3"), &other).await;
    assert_eq!(a.status, 400);
    let e = &a.json()["error"];
    assert_eq!(e["type"], "idempotency_error");
    assert!(e["message"].as_str().unwrap().starts_with("Keys for idempotent requests can only be used with the same parameters they were first used with"), "{e}");
    assert_eq!(fake.charges().len(), 1);
    assert_eq!(fake.charges()[0].amount, 15000);
}

#[tokio::test]
async fn a_key_still_in_flight_answers_409() {
    let fake = StripeFake::start().await;
    fake.delay_next(1, Duration::from_millis(800));
    let first = tokio::spawn({
        let fake = fake.clone();
        async move {
            post(
                &fake,
                "/v1/payment_intents",
                Some("pay-4"),
                &charge_form("pay-4", "pm_card_visa"),
            )
            .await
        }
    });
    jobs::testing::eventually(|| {
        let fake = fake.clone();
        async move { (!fake.idempotency_keys_in_flight().is_empty()).then_some(()) }
    })
    .until(|_| true)
    .await;
    let second = post(
        &fake,
        "/v1/payment_intents",
        Some("pay-4"),
        &charge_form("pay-4", "pm_card_visa"),
    )
    .await;
    assert_eq!(second.status, 409);
    assert_eq!(second.json()["error"]["type"], "idempotency_error");
    assert_eq!(second.json()["error"]["code"], "idempotency_key_in_use");
    assert_eq!(first.await.unwrap().status, 200);
    assert_eq!(fake.charges().len(), 1);
}

#[tokio::test]
async fn fail_next_503_runs_nothing_then_the_retry_charges() {
    let fake = StripeFake::start().await;
    fake.fail_next(1, 503, Some(true));
    let form = charge_form("pay-5", "pm_card_visa");
    let a = post(&fake, "/v1/payment_intents", Some("pay-5"), &form).await;
    assert_eq!(a.status, 503);
    assert_eq!(a.json()["error"]["type"], "api_error");
    assert_eq!(a.header("stripe-should-retry"), Some("true"));
    assert!(fake.charges().is_empty());
    let b = post(&fake, "/v1/payment_intents", Some("pay-5"), &form).await;
    assert_eq!(
        (b.status, b.header("idempotent-replayed")),
        (StatusCode::OK, None)
    );
    assert_eq!(fake.charges().len(), 1);

    // Without should_retry there is no header; scoped faults leave other paths alone.
    fake.on("POST", "/v1/refunds").fail_next(1, 500, None);
    let c = post(
        &fake,
        "/v1/payment_intents",
        None,
        &charge_form("pay-5b", "pm_card_visa"),
    )
    .await;
    assert_eq!(c.status, 200);
    let pi = b.json()["id"].as_str().unwrap().to_string();
    let r = post(&fake, "/v1/refunds", None, &[("payment_intent", &pi)]).await;
    assert_eq!(
        (r.status, r.header("stripe-should-retry")),
        (StatusCode::INTERNAL_SERVER_ERROR, None)
    );
    assert!(fake.refunds().is_empty());
}

#[tokio::test]
async fn charge_then_hang_times_out_the_client_after_the_charge_and_the_retry_replays() {
    let fake = StripeFake::start().await;
    fake.charge_then_hang_next(1, Duration::from_secs(5));
    let impatient = reqwest::Client::builder()
        .timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    let form = charge_form("pay-6", "pm_card_visa");
    let err = post_with(
        &impatient,
        &fake,
        "/v1/payment_intents",
        Some("pay-6"),
        &form,
    )
    .await
    .err()
    .expect("the client gives up first");
    assert!(err.is_timeout(), "{err}");
    // Charged before the hang began, not when it ends (5 s from now).
    let charges = fake.charges();
    assert_eq!(charges.len(), 1);
    let retry = post(&fake, "/v1/payment_intents", Some("pay-6"), &form).await;
    assert_eq!(
        (retry.status, retry.header("idempotent-replayed")),
        (StatusCode::OK, Some("true"))
    );
    assert_eq!(
        retry.json()["id"].as_str(),
        Some(charges[0].payment_intent.as_str())
    );
    assert_eq!(retry.json()["status"], "succeeded");
    assert_eq!(fake.charges().len(), 1);
}

#[tokio::test]
async fn charge_then_drop_closes_the_connection_after_the_charge() {
    let fake = StripeFake::start().await;
    fake.charge_then_drop_next(1);
    let form = charge_form("pay-7", "pm_card_visa");
    let err = post_with(
        &client(),
        &fake,
        "/v1/payment_intents",
        Some("pay-7"),
        &form,
    )
    .await
    .err()
    .expect("no answer");
    assert!(!err.is_timeout() && err.status().is_none(), "{err:?}");
    assert_eq!(fake.charges().len(), 1);
    let retry = post(&fake, "/v1/payment_intents", Some("pay-7"), &form).await;
    assert_eq!(retry.header("idempotent-replayed"), Some("true"));
    assert_eq!(
        retry.json()["id"].as_str(),
        Some(fake.charges()[0].payment_intent.as_str())
    );
    assert_eq!(fake.charges().len(), 1);
}

#[tokio::test]
async fn search_finds_intents_by_metadata() {
    let fake = StripeFake::start().await;
    let a = post(
        &fake,
        "/v1/payment_intents",
        None,
        &charge_form("pay-8", "pm_card_visa"),
    )
    .await
    .json();
    post(
        &fake,
        "/v1/payment_intents",
        None,
        &charge_form("pay-9", "pm_card_visa"),
    )
    .await;
    let b = post(
        &fake,
        "/v1/payment_intents",
        None,
        &charge_form("pay-8", "pm_card_chargeDeclined"),
    )
    .await
    .json();
    let b = &b["error"]["payment_intent"];

    let q = |query: &str| {
        format!(
            "/v1/payment_intents/search?{}",
            serde_urlencoded::to_string([("query", query)]).unwrap()
        )
    };
    let r = get(&fake, &q("metadata['payment_id']:'pay-8'")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = r.json();
    assert_eq!(
        (r["object"].as_str(), r["has_more"].as_bool()),
        (Some("search_result"), Some(false))
    );
    let ids: Vec<&str> = r["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        vec![b["id"].as_str().unwrap(), a["id"].as_str().unwrap()],
        "newest first"
    );

    let r = get(
        &fake,
        &q("metadata['payment_id']:'pay-8' AND status:'succeeded'"),
    )
    .await
    .json();
    assert_eq!(r["data"].as_array().unwrap().len(), 1);
    assert_eq!(r["data"][0]["id"], a["id"]);
    let r = get(&fake, &q("metadata['payment_id']:'nada'")).await.json();
    assert_eq!(r["data"], json!([]));
    let bad = get(&fake, &q("metadata['payment_id']='pay-8'")).await;
    assert_eq!(
        (bad.status, bad.json()["error"]["param"].as_str()),
        (StatusCode::BAD_REQUEST, Some("query"))
    );
}

#[tokio::test]
async fn refunds_take_what_is_left_and_over_refunds_are_refused() {
    let fake = StripeFake::start().await;
    let pi = post(
        &fake,
        "/v1/payment_intents",
        None,
        &charge_form("pay-10", "pm_card_visa"),
    )
    .await
    .json();
    let id = pi["id"].as_str().unwrap();
    let r1 = post(
        &fake,
        "/v1/refunds",
        Some("re-1"),
        &[
            ("payment_intent", id),
            ("amount", "5000"),
            ("metadata[payment_id]", "pay-10"),
        ],
    )
    .await;
    assert_eq!(r1.status, 200, "{}", r1.text);
    let r1 = r1.json();
    assert!(r1["id"].as_str().unwrap().starts_with("re_"));
    assert_eq!(
        (
            r1["object"].as_str(),
            r1["amount"].as_i64(),
            r1["status"].as_str()
        ),
        (Some("refund"), Some(5000), Some("succeeded"))
    );
    assert_eq!(
        (r1["payment_intent"].as_str(), r1["currency"].as_str()),
        (Some(id), Some("brl"))
    );
    assert_eq!(r1["metadata"], json!({"payment_id": "pay-10"}));

    let over = post(
        &fake,
        "/v1/refunds",
        None,
        &[("payment_intent", id), ("amount", "10001")],
    )
    .await;
    assert_eq!(over.status, 400);
    assert_eq!(
        (
            over.json()["error"]["type"].as_str(),
            over.json()["error"]["code"].as_str()
        ),
        (Some("invalid_request_error"), Some("amount_too_large"))
    );

    let rest = post(&fake, "/v1/refunds", None, &[("payment_intent", id)])
        .await
        .json();
    assert_eq!(rest["amount"], 10000, "no amount refunds all that is left");
    let again = post(&fake, "/v1/refunds", None, &[("payment_intent", id)]).await;
    assert_eq!(
        (again.status, again.json()["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("charge_already_refunded"))
    );

    let refunds = fake.refunds();
    assert_eq!(
        refunds.iter().map(|r| r.amount).collect::<Vec<_>>(),
        vec![5000, 10000]
    );
    assert_eq!(refunds[0].idempotency_key.as_deref(), Some("re-1"));
    assert_eq!(refunds[0].charge, pi["latest_charge"].as_str().unwrap());
}

#[tokio::test]
async fn webhook_signature_is_hmac_sha256_of_timestamp_dot_payload() {
    let payload = r#"{"id":"evt_1","object":"event"}"#;
    let header = StripeFake::sign(payload, 1_718_000_000, StripeFake::WEBHOOK_SECRET);
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(b"whsec_tarefa").unwrap();
    mac.update(format!("1718000000.{payload}").as_bytes());
    let expected = format!(
        "t=1718000000,v1={}",
        hex::encode(mac.finalize().into_bytes())
    );
    assert_eq!(header, expected);
    assert_ne!(
        StripeFake::sign(payload, 1_718_000_001, StripeFake::WEBHOOK_SECRET),
        expected
    );

    let pi = json!({"id": "pi_1", "object": "payment_intent", "status": "succeeded"});
    let ev: Value = serde_json::from_str(&StripeFake::event_json(
        "evt_1",
        "payment_intent.succeeded",
        pi.clone(),
        1_718_000_000,
    ))
    .unwrap();
    assert_eq!(
        ev,
        json!({
            "id": "evt_1", "object": "event", "type": "payment_intent.succeeded",
            "created": 1_718_000_000, "livemode": false, "data": {"object": pi},
            "api_version": "2024-06-20", "pending_webhooks": 1,
            "request": {"id": null, "idempotency_key": null},
        })
    );

    // Delivery: the receiver gets the exact bytes and a signature that verifies now.
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(String, String)>();
    let app = axum::Router::new().route(
        "/stripe/webhook",
        axum::routing::post(move |h: axum::http::HeaderMap, body: String| {
            let sig = h["stripe-signature"].to_str().unwrap().to_string();
            tx.send((sig, body)).unwrap();
            async { "ok" }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/stripe/webhook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.ok() });
    let fake = StripeFake::start().await;
    let body = StripeFake::event_json("evt_2", "payment_intent.succeeded", json!({}), 1);
    assert_eq!(fake.send_event(&url, &body).await.status(), 200);
    let (sig, got) = rx.recv().await.unwrap();
    assert_eq!(got, body);
    let ts: i64 = sig
        .strip_prefix("t=")
        .unwrap()
        .split(',')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        (chrono::Utc::now().timestamp() - ts).abs() < 60,
        "signed now: {sig}"
    );
    assert_eq!(sig, StripeFake::sign(&body, ts, StripeFake::WEBHOOK_SECRET));
    fake.send_event_with(&url, &body, "t=1,v1=forged").await;
    assert_eq!(rx.recv().await.unwrap().0, "t=1,v1=forged");
}

#[tokio::test]
async fn requests_without_the_secret_key_get_401() {
    let fake = StripeFake::start().await;
    let url = format!("{}/v1/payment_intents", fake.base_url());
    let form = charge_form("pay-11", "pm_card_visa");
    for auth in [None, Some("Bearer sk_test_outra"), Some("sk_test_tarefa")] {
        let mut req = client().post(&url).form(&form);
        if let Some(a) = auth {
            req = req.header("authorization", a);
        }
        let res = req.send().await.unwrap();
        assert_eq!(res.status(), 401, "{auth:?}");
        let body: Value = res.json().await.unwrap();
        assert_eq!(
            body,
            json!({"error": {"type": "invalid_request_error", "message": "Invalid API Key provided"}})
        );
    }
    assert!(fake.charges().is_empty());
    assert_eq!(
        post(&fake, "/v1/payment_intents", None, &form).await.status,
        200
    );
}
