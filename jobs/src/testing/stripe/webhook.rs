//! Stripe's side of webhooks: Event objects, the `Stripe-Signature` header
//! (`t=<unix ts>,v1=<hex HMAC-SHA256 of "<ts>.<raw body>">`, keyed with the
//! whole `whsec_...` string) and delivery as Stripe does it (POST, JSON body).

use std::time::Duration;

use hmac::{Hmac, Mac};
use serde_json::{json, Value};

/// The API version stamped on events (the payments code pins the same).
pub const API_VERSION: &str = "2024-06-20";
/// Stripe waits up to this long for an endpoint's 2xx.
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(10);

pub fn sign(payload: &str, timestamp: i64, secret: &str) -> String {
    let mut mac =
        Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).expect("hmac takes any key");
    mac.update(format!("{timestamp}.{payload}").as_bytes());
    format!(
        "t={timestamp},v1={}",
        hex::encode(mac.finalize().into_bytes())
    )
}

/// An Event; an empty `id` gets a fresh `evt_...`.
pub fn event_json(id: &str, event_type: &str, object: Value, created: i64) -> String {
    let id = if id.is_empty() {
        super::wire::new_id("evt")
    } else {
        id.to_string()
    };
    json!({
        "id": id, "object": "event", "type": event_type, "created": created,
        "livemode": false, "api_version": API_VERSION, "pending_webhooks": 1,
        "data": {"object": object},
        "request": {"id": null, "idempotency_key": null},
    })
    .to_string()
}

pub async fn deliver(url: &str, body: &str, signature: &str) -> reqwest::Response {
    reqwest::Client::new()
        .post(url)
        .timeout(DELIVERY_TIMEOUT)
        .header("content-type", "application/json; charset=utf-8")
        .header(
            "user-agent",
            "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
        )
        .header("stripe-signature", signature)
        .body(body.to_string())
        .send()
        .await
        .unwrap_or_else(|e| panic!("delivering a Stripe event to {url}: {e}"))
}
