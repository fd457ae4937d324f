//! Signed tenant webhooks: `POST` JSON to the tenant's URL with
//! `X-Tarefa-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`
//! and `X-Tarefa-Delivery: <notification id>` (receivers dedupe on it), 10 s
//! timeout, no redirects, through the [`ssrf`](super::ssrf) guard.
//!
//! Tenant settings: `url`, `secret_env`. The recipient is the event name
//! (`booking.created`); the body is `{id, event, created_at, data}`.
//! Disabling after N failures in a row is the kind's job (it owns the row).

use std::time::Duration;

use hmac::{Hmac, Mac};
use serde_json::json;

use super::Traced;
use super::{classify, secrets, ssrf, Channel, NotificationSettings, Outgoing, SendError, Sent};

/// Signature header name.
pub const SIGNATURE_HEADER: &str = "x-tarefa-signature";
/// Signatures older than this are refused by [`verify`].
pub const TOLERANCE_SECS: i64 = 300;

/// The webhook channel.
pub struct Webhook<'a> {
    pub settings: &'a NotificationSettings,
}

/// `t=<unix>,v1=<hex>` for `body` at time `t`.
pub fn sign(secret: &str, t: i64, body: &[u8]) -> String {
    let mut mac =
        Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).expect("hmac takes any key");
    mac.update(t.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("t={t},v1={}", hex::encode(mac.finalize().into_bytes()))
}

/// What a receiver does: checks the signature (constant time) and its age at `now`.
pub fn verify(secret: &str, header: &str, body: &[u8], now: i64) -> bool {
    verify_within(secret, header, body, now, TOLERANCE_SECS)
}

/// [`verify`] with another tolerance, seconds. The same scheme as Stripe's
/// `Stripe-Signature` (several `v1` values accepted during a secret rotation),
/// so the payments callback checks its provider's signatures with it too.
pub fn verify_within(secret: &str, header: &str, body: &[u8], now: i64, tolerance: i64) -> bool {
    let mut t = None;
    let mut sigs = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", v)) => t = v.parse::<i64>().ok(),
            Some(("v1", v)) => sigs.push(v.to_string()),
            _ => {}
        }
    }
    let Some(t) = t else { return false };
    if (now - t).abs() > tolerance {
        return false;
    }
    sigs.iter().any(|s| {
        let Ok(given) = hex::decode(s) else {
            return false;
        };
        let mut mac =
            Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).expect("hmac takes any key");
        mac.update(t.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        mac.verify_slice(&given).is_ok()
    })
}

impl Channel for Webhook<'_> {
    const NAME: &'static str = "webhook";

    async fn send(&self, msg: &Outgoing) -> Result<Sent, SendError> {
        let url = secrets::text(&msg.settings, "url")?;
        let secret = secrets::resolve(&msg.settings, "secret_env")?;
        let url = reqwest::Url::parse(url)
            .map_err(|_| SendError::permanent("webhook url is not a URL"))?;
        let allow = ssrf::parse_allow(&self.settings.ssrf_allow).map_err(SendError::permanent)?;
        let (host, addrs) = ssrf::resolve(&url, &allow)
            .await
            .map_err(SendError::permanent)?;
        let body = serde_json::to_vec(&json!({
            "id": msg.notification_id,
            "event": msg.recipient,
            "created_at": chrono::Utc::now(),
            "data": msg.data,
        }))
        .expect("json");
        let t = chrono::Utc::now().timestamp();
        // A client per delivery: pinned to the addresses the guard checked.
        let client = reqwest::Client::builder()
            .timeout(Duration::from_millis(self.settings.webhook_timeout_ms))
            .redirect(reqwest::redirect::Policy::none())
            .resolve_to_addrs(&host, &addrs)
            .build()
            .map_err(|_| SendError::retryable("http client"))?;
        let res = client
            .post(url)
            .traced()
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(SIGNATURE_HEADER, sign(&secret, t, &body))
            .header("x-tarefa-delivery", msg.notification_id.to_string())
            .body(body)
            .send()
            .await
            .map_err(|e| super::classify_transport(&e))?;
        classify(res.status(), res.headers(), "from tenant endpoint")?;
        Ok(Sent {
            provider_message_id: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_verifies_and_expires() {
        let h = sign("whsec", 1_700_000_000, b"{\"a\":1}");
        assert!(verify("whsec", &h, b"{\"a\":1}", 1_700_000_010));
        assert!(!verify("whsec", &h, b"{\"a\":2}", 1_700_000_010));
        assert!(!verify("other", &h, b"{\"a\":1}", 1_700_000_010));
        assert!(!verify(
            "whsec",
            &h,
            b"{\"a\":1}",
            1_700_000_000 + TOLERANCE_SECS + 1
        ));
    }
}
