//! SMS via a Twilio-compatible API: `POST /2010-04-01/Accounts/{sid}/Messages.json`,
//! form-encoded, HTTP basic auth (account sid : auth token). Errors come back
//! as `{"code": 21211, "message": ..., "status": 400}`.
//!
//! Tenant settings: `account_sid`, `auth_token_env`, and `from` or
//! `messaging_service_sid`. Status callbacks (`X-Twilio-Signature`, checked by
//! [`verify_signature`]) go to `{public_base_url}/v1/callbacks/twilio`.

use base64::Engine as _;
use hmac::{Hmac, Mac};

use super::Traced;
use super::{
    classify, classify_transport, excerpt, http, secrets, Channel, NotificationSettings, Outgoing,
    SendError, Sent,
};

/// The SMS channel.
pub struct Sms<'a> {
    pub settings: &'a NotificationSettings,
}

/// Where Twilio posts status callbacks, relative to `public_base_url`.
pub const CALLBACK_PATH: &str = "/v1/callbacks/twilio";

impl Channel for Sms<'_> {
    const NAME: &'static str = "sms";

    async fn send(&self, msg: &Outgoing) -> Result<Sent, SendError> {
        let s = &msg.settings;
        let sid = secrets::text(s, "account_sid")?;
        let token = secrets::resolve(s, "auth_token_env")?;
        let mut form: Vec<(&str, String)> =
            vec![("To", msg.recipient.clone()), ("Body", msg.text.clone())];
        match (
            s.get("messaging_service_sid").and_then(|v| v.as_str()),
            s.get("from").and_then(|v| v.as_str()),
        ) {
            (Some(ms), _) => form.push(("MessagingServiceSid", ms.to_string())),
            (None, Some(from)) => form.push(("From", from.to_string())),
            (None, None) => {
                return Err(SendError::permanent(
                    "channel settings lack from or messaging_service_sid",
                ))
            }
        }
        if !self.settings.public_base_url.is_empty() {
            let cb = format!(
                "{}{CALLBACK_PATH}",
                self.settings.public_base_url.trim_end_matches('/')
            );
            form.push(("StatusCallback", cb));
        }
        let url = format!(
            "{}/2010-04-01/Accounts/{sid}/Messages.json",
            self.settings.twilio_base_url.trim_end_matches('/')
        );
        let res = http(self.settings)
            .post(url)
            .traced()
            .basic_auth(sid, Some(token))
            .form(&form)
            .send()
            .await
            .map_err(|e| classify_transport(&e))?;
        let (status, headers) = (res.status(), res.headers().clone());
        let v: serde_json::Value = res.json().await.unwrap_or_default();
        let reason = match v["code"].as_i64() {
            Some(code) => format!(
                "twilio {code}: {}",
                excerpt(v["message"].as_str().unwrap_or(""))
            ),
            None => String::new(),
        };
        classify(status, &headers, &reason)?;
        Ok(Sent {
            provider_message_id: v["sid"].as_str().map(String::from),
        })
    }
}

/// Twilio's request signature: base64(HMAC-SHA1(auth_token, url + every POST
/// param, sorted by name, as name+value)). Compared in constant time.
pub fn signature(auth_token: &str, url: &str, params: &[(String, String)]) -> String {
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    sorted.sort();
    let mut data = url.to_string();
    for (k, v) in sorted {
        data.push_str(k);
        data.push_str(v);
    }
    let mut mac =
        Hmac::<sha1::Sha1>::new_from_slice(auth_token.as_bytes()).expect("hmac takes any key");
    mac.update(data.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// Checks `X-Twilio-Signature` for a form POST to `url`.
pub fn verify_signature(
    auth_token: &str,
    url: &str,
    params: &[(String, String)],
    header: &str,
) -> bool {
    let Ok(given) = base64::engine::general_purpose::STANDARD.decode(header.trim()) else {
        return false;
    };
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    sorted.sort();
    let mut mac =
        Hmac::<sha1::Sha1>::new_from_slice(auth_token.as_bytes()).expect("hmac takes any key");
    mac.update(url.as_bytes());
    for (k, v) in sorted {
        mac.update(k.as_bytes());
        mac.update(v.as_bytes());
    }
    mac.verify_slice(&given).is_ok()
}

/// Twilio's `MessageStatus` → our outbox status (None: not a state we track).
pub fn map_status(s: &str) -> Option<&'static str> {
    match s {
        "sent" => Some("sent"),
        "delivered" => Some("delivered"),
        "read" => Some("read"),
        "failed" | "undelivered" => Some("failed"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_round_trips_and_rejects_tampering() {
        let p = vec![
            ("MessageSid".to_string(), "SM1".to_string()),
            ("MessageStatus".to_string(), "delivered".to_string()),
        ];
        let sig = signature("tok", "https://x.test/v1/callbacks/twilio", &p);
        assert!(verify_signature(
            "tok",
            "https://x.test/v1/callbacks/twilio",
            &p,
            &sig
        ));
        let mut bad = p.clone();
        bad[1].1 = "read".into();
        assert!(!verify_signature(
            "tok",
            "https://x.test/v1/callbacks/twilio",
            &bad,
            &sig
        ));
        assert!(!verify_signature(
            "other",
            "https://x.test/v1/callbacks/twilio",
            &p,
            &sig
        ));
    }
}
