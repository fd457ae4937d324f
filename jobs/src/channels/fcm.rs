//! Push via FCM HTTP v1 (`POST /v1/projects/{project}/messages:send`).
//! The OAuth2 access token comes from the service account's key with the
//! JWT-bearer grant (RS256 JWT → `token_uri`) and is cached until a minute
//! before it expires. The legacy server-key API is shut down and not used.
//!
//! Tenant settings: `service_account_env` (env var holding the service
//! account JSON), optional `project_id` (default: the JSON's).
//! `404 UNREGISTERED` (or `INVALID_ARGUMENT` on the token) → [`SendError::DeadToken`].

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::json;

use super::Traced;
use super::{
    classify, classify_transport, excerpt, http, secrets, Channel, NotificationSettings, Outgoing,
    SendError, Sent,
};

pub const SCOPE: &str = "https://www.googleapis.com/auth/firebase.messaging";
/// A cached token is renewed this long before it expires.
pub const REFRESH_MARGIN: Duration = Duration::from_secs(60);

/// The fields of a service-account JSON we use.
#[derive(Clone, Deserialize)]
pub struct ServiceAccount {
    pub client_email: String,
    pub private_key: String,
    pub token_uri: String,
    pub project_id: Option<String>,
}

/// A cached access token.
#[derive(Clone)]
pub struct CachedToken {
    pub token: String,
    pub expires_at: DateTime<Utc>,
}

impl CachedToken {
    /// Still usable at `now` (with the refresh margin)?
    pub fn fresh(&self, now: DateTime<Utc>) -> bool {
        now + REFRESH_MARGIN < self.expires_at
    }
}

/// Access tokens per (token_uri, client_email), process-wide.
fn cache() -> &'static Mutex<HashMap<(String, String), CachedToken>> {
    static C: OnceLock<Mutex<HashMap<(String, String), CachedToken>>> = OnceLock::new();
    C.get_or_init(Default::default)
}

/// A token for `sa`, from the cache or freshly granted.
pub async fn access_token(
    client: &reqwest::Client,
    sa: &ServiceAccount,
    now: DateTime<Utc>,
) -> Result<String, SendError> {
    let key = (sa.token_uri.clone(), sa.client_email.clone());
    if let Some(t) = cache().lock().expect("fcm token cache").get(&key) {
        if t.fresh(now) {
            return Ok(t.token.clone());
        }
    }
    let claims = json!({
        "iss": sa.client_email, "scope": SCOPE, "aud": sa.token_uri,
        "iat": now.timestamp(), "exp": now.timestamp() + 3600,
    });
    let enc = jsonwebtoken::EncodingKey::from_rsa_pem(sa.private_key.as_bytes())
        .map_err(|_| SendError::permanent("service account private_key is not an RSA PEM key"))?;
    let jwt = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256),
        &claims,
        &enc,
    )
    .map_err(|_| SendError::permanent("could not sign the service-account JWT"))?;
    let res = client
        .post(&sa.token_uri)
        .form(&[
            ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
            ("assertion", jwt.as_str()),
        ])
        .send()
        .await
        .map_err(|e| super::classify_transport_safe(&e))?;
    let (status, headers) = (res.status(), res.headers().clone());
    let body: serde_json::Value = res.json().await.unwrap_or_default();
    classify(
        status,
        &headers,
        &format!("token grant: {}", body["error"].as_str().unwrap_or("")),
    )?;
    let token = body["access_token"]
        .as_str()
        .ok_or_else(|| SendError::retryable("token grant without access_token"))?
        .to_string();
    let expires_in = body["expires_in"].as_i64().unwrap_or(3600);
    let t = CachedToken {
        token: token.clone(),
        expires_at: now + chrono::Duration::seconds(expires_in),
    };
    cache().lock().expect("fcm token cache").insert(key, t);
    Ok(token)
}

/// The push channel.
pub struct Fcm<'a> {
    pub settings: &'a NotificationSettings,
}

impl Channel for Fcm<'_> {
    const NAME: &'static str = "push";

    async fn send(&self, msg: &Outgoing) -> Result<Sent, SendError> {
        let raw = secrets::resolve(&msg.settings, "service_account_env")?;
        let sa: ServiceAccount = serde_json::from_str(&raw)
            .map_err(|_| SendError::permanent("service account JSON is malformed"))?;
        let project = msg
            .settings
            .get("project_id")
            .and_then(|v| v.as_str())
            .map(String::from)
            .or_else(|| sa.project_id.clone())
            .ok_or_else(|| SendError::permanent("no project_id"))?;
        let client = http(self.settings);
        let token = access_token(&client, &sa, Utc::now()).await?;
        let data: serde_json::Map<String, serde_json::Value> = msg
            .data
            .as_object()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            // FCM `data` values must be strings.
            .map(|(k, v)| {
                (
                    k,
                    serde_json::Value::String(
                        v.as_str()
                            .map(String::from)
                            .unwrap_or_else(|| v.to_string()),
                    ),
                )
            })
            .collect();
        let body = json!({ "message": {
            "token": msg.recipient,
            "notification": { "title": msg.subject.clone().unwrap_or_default(), "body": msg.text },
            "data": data,
        }});
        let url = format!(
            "{}/v1/projects/{project}/messages:send",
            self.settings.fcm_base_url.trim_end_matches('/')
        );
        let res = client
            .post(url)
            .traced()
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .map_err(|e| classify_transport(&e))?;
        let (status, headers) = (res.status(), res.headers().clone());
        let v: serde_json::Value = res.json().await.unwrap_or_default();
        let code = fcm_error_code(&v);
        if code.as_deref() == Some("UNREGISTERED") {
            return Err(SendError::DeadToken {
                reason: "UNREGISTERED".into(),
            });
        }
        let reason = format!(
            "{} {}",
            code.unwrap_or_default(),
            excerpt(v["error"]["message"].as_str().unwrap_or(""))
        );
        classify(status, &headers, reason.trim())?;
        Ok(Sent {
            provider_message_id: v["name"].as_str().map(String::from),
        })
    }
}

/// `error.details[].errorCode` of an FCM v1 error body (`UNREGISTERED`, `QUOTA_EXCEEDED`, ...).
pub fn fcm_error_code(v: &serde_json::Value) -> Option<String> {
    v["error"]["details"]
        .as_array()?
        .iter()
        .find_map(|d| d["errorCode"].as_str().map(String::from))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_is_fresh_until_the_margin() {
        let now = Utc::now();
        let t = CachedToken {
            token: "t".into(),
            expires_at: now + chrono::Duration::seconds(3600),
        };
        assert!(t.fresh(now));
        assert!(t.fresh(now + chrono::Duration::seconds(3600 - 61)));
        assert!(!t.fresh(now + chrono::Duration::seconds(3600 - 60)));
    }

    #[test]
    fn unregistered_is_found_in_details() {
        let v = json!({"error": {"code": 404, "status": "NOT_FOUND", "details": [
            {"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": "UNREGISTERED"}]}});
        assert_eq!(fcm_error_code(&v).as_deref(), Some("UNREGISTERED"));
    }
}
