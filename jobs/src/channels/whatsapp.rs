//! WhatsApp via the Cloud API: `POST /{version}/{phone_number_id}/messages`
//! with a bearer token. Template messages (name, language, components with
//! parameters) go any time; free text only inside the 24-hour window (Meta
//! answers error 131047 otherwise: permanent). Errors come back as
//! `{"error": {"message", "type", "code", "error_subcode", "fbtrace_id"}}`.
//!
//! Tenant settings: `phone_number_id`, `access_token_env`. Status callbacks
//! (`statuses[]`) are verified with [`verify_signature`] (`X-Hub-Signature-256`).

use hmac::{Hmac, Mac};
use serde_json::json;

use super::Traced;
use super::{
    classify, classify_transport, excerpt, http, secrets, Channel, NotificationSettings, Outgoing,
    SendError, Sent,
};

/// The WhatsApp channel.
pub struct WhatsApp<'a> {
    pub settings: &'a NotificationSettings,
}

/// Meta error codes that mean "slow down" although some come with a 400.
const THROTTLE_CODES: [i64; 4] = [4, 80007, 130429, 131056];

/// The request body: `data.template` (`{name, language, components}`) makes a
/// template message, otherwise `text` is sent as a text message.
pub fn body(msg: &Outgoing) -> serde_json::Value {
    let to = msg.recipient.trim_start_matches('+');
    match msg.data.get("template") {
        Some(t) => json!({
            "messaging_product": "whatsapp", "recipient_type": "individual", "to": to,
            "type": "template",
            "template": {
                "name": t["name"],
                "language": { "code": t.get("language").and_then(|l| l.as_str()).unwrap_or("pt_BR") },
                "components": t.get("components").cloned().unwrap_or_else(|| json!([])),
            }
        }),
        None => json!({
            "messaging_product": "whatsapp", "recipient_type": "individual", "to": to,
            "type": "text", "text": { "preview_url": false, "body": msg.text },
        }),
    }
}

impl Channel for WhatsApp<'_> {
    const NAME: &'static str = "whatsapp";

    async fn send(&self, msg: &Outgoing) -> Result<Sent, SendError> {
        let phone_id = secrets::text(&msg.settings, "phone_number_id")?;
        let token = secrets::resolve(&msg.settings, "access_token_env")?;
        let url = format!(
            "{}/{}/{phone_id}/messages",
            self.settings.whatsapp_base_url.trim_end_matches('/'),
            self.settings.whatsapp_api_version
        );
        let res = http(self.settings)
            .post(url)
            .traced()
            .bearer_auth(token)
            .json(&body(msg))
            .send()
            .await
            .map_err(|e| classify_transport(&e))?;
        let (status, headers) = (res.status(), res.headers().clone());
        let v: serde_json::Value = res.json().await.unwrap_or_default();
        let err = &v["error"];
        let code = err["code"].as_i64();
        let reason = match code {
            Some(c) => format!(
                "meta {c}: {}",
                excerpt(err["message"].as_str().unwrap_or(""))
            ),
            None => String::new(),
        };
        if !status.is_success() && code.is_some_and(|c| THROTTLE_CODES.contains(&c)) {
            return Err(SendError::Retryable {
                reason,
                retry_after: super::retry_after(&headers),
            });
        }
        classify(status, &headers, &reason)?;
        Ok(Sent {
            provider_message_id: v["messages"][0]["id"].as_str().map(String::from),
        })
    }
}

/// `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(app_secret, raw body)>`, constant-time.
pub fn verify_signature(app_secret: &str, body: &[u8], header: &str) -> bool {
    let Some(hex_sig) = header.trim().strip_prefix("sha256=") else {
        return false;
    };
    let Ok(given) = hex::decode(hex_sig) else {
        return false;
    };
    let mut mac =
        Hmac::<sha2::Sha256>::new_from_slice(app_secret.as_bytes()).expect("hmac takes any key");
    mac.update(body);
    mac.verify_slice(&given).is_ok()
}

/// The header value Meta would send (for fakes and tests).
pub fn sign(app_secret: &str, body: &[u8]) -> String {
    let mut mac =
        Hmac::<sha2::Sha256>::new_from_slice(app_secret.as_bytes()).expect("hmac takes any key");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// One `statuses[]` entry of a callback: (wamid, our status, error title).
pub fn statuses(payload: &serde_json::Value) -> Vec<(String, &'static str, Option<String>)> {
    let mut out = Vec::new();
    for entry in payload["entry"].as_array().into_iter().flatten() {
        for change in entry["changes"].as_array().into_iter().flatten() {
            for s in change["value"]["statuses"].as_array().into_iter().flatten() {
                let status = match s["status"].as_str() {
                    Some("sent") => "sent",
                    Some("delivered") => "delivered",
                    Some("read") => "read",
                    Some("failed") => "failed",
                    _ => continue,
                };
                if let Some(id) = s["id"].as_str() {
                    let err = s["errors"][0]["title"].as_str().map(String::from);
                    out.push((id.to_string(), status, err));
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hub_signature_verifies() {
        let body = br#"{"object":"whatsapp_business_account"}"#;
        let h = sign("s3cret", body);
        assert!(verify_signature("s3cret", body, &h));
        assert!(!verify_signature("other", body, &h));
        assert!(!verify_signature("s3cret", b"{}", &h));
        assert!(!verify_signature("s3cret", body, "md5=00"));
    }

    #[test]
    fn statuses_are_read_from_the_meta_payload() {
        let p = json!({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{"field": "messages",
            "value": {"messaging_product": "whatsapp", "metadata": {"phone_number_id": "9"},
              "statuses": [{"id": "wamid.A", "status": "delivered", "timestamp": "1700000000", "recipient_id": "5511"},
                           {"id": "wamid.B", "status": "failed", "errors": [{"code": 131026, "title": "Message undeliverable"}]}]}}]}]});
        let s = statuses(&p);
        assert_eq!(s[0], ("wamid.A".into(), "delivered", None));
        assert_eq!(s[1].1, "failed");
        assert_eq!(s[1].2.as_deref(), Some("Message undeliverable"));
    }
}
