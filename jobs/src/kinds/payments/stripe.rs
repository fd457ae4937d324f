//! The provider client: Stripe's HTTP API (or any service speaking it),
//! form-encoded requests with a bearer secret, JSON answers. Hand-written
//! over reqwest rather than a Stripe SDK crate: the job needs four calls and
//! full control of timeouts, idempotency keys and error classification, and
//! the SDK crates pull a large generated API surface into every build.
//!
//! Every answer becomes a [`Reply`]: the PaymentIntent or Refund object, a
//! decline (card_error: final), an idempotency mismatch (ops must look), or
//! a retryable failure (connection error, timeout, 409 key in use, 429,
//! 5xx — unless `Stripe-Should-Retry: false`). A timeout or dropped
//! connection after the request left is `Unknown`: the provider may have
//! acted, so the caller repeats the same request with the same key (the
//! provider replays its first answer) instead of making a new one.

use std::collections::BTreeMap;
use std::time::Duration;

use reqwest::StatusCode;
use serde::Deserialize;

use super::PaymentsSettings;

/// The subset of a PaymentIntent the job reads.
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct Intent {
    pub id: String,
    pub status: String,
    pub amount: i64,
    #[serde(default)]
    pub amount_received: i64,
    #[serde(default)]
    pub currency: String,
    #[serde(default)]
    pub latest_charge: Option<serde_json::Value>,
    #[serde(default)]
    pub metadata: BTreeMap<String, String>,
    #[serde(default)]
    pub last_payment_error: Option<ProviderError>,
}

impl Intent {
    /// The charge id, whether `latest_charge` is expanded or not.
    pub fn charge_id(&self) -> Option<String> {
        match self.latest_charge.as_ref()? {
            serde_json::Value::String(s) => Some(s.clone()),
            serde_json::Value::Object(o) => o.get("id")?.as_str().map(str::to_string),
            _ => None,
        }
    }
}

/// The subset of a Refund the job reads.
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct RefundObject {
    pub id: String,
    pub status: String,
    pub amount: i64,
}

/// Stripe's `{"error": {...}}`.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
pub struct ProviderError {
    #[serde(default, rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub decline_code: Option<String>,
    #[serde(default)]
    pub message: Option<String>,
}

impl ProviderError {
    pub fn describe(&self) -> String {
        let mut s = self.kind.clone();
        for part in [&self.code, &self.decline_code].into_iter().flatten() {
            s.push(':');
            s.push_str(part);
        }
        if let Some(m) = &self.message {
            s.push_str(" — ");
            s.push_str(m);
        }
        s
    }
}

#[derive(Deserialize)]
struct ErrorEnvelope {
    error: ProviderError,
}

#[derive(Deserialize)]
struct SearchResult<T> {
    data: Vec<T>,
}

/// What one provider call came to.
#[derive(Debug)]
pub enum Reply<T> {
    Ok(T),
    /// A card error: the customer's bank said no. Final.
    Declined {
        status: u16,
        error: ProviderError,
    },
    /// The key was used with other parameters, or the provider says never to
    /// retry: only ops can settle it.
    Refused {
        status: u16,
        error: ProviderError,
    },
    /// Nothing happened at the provider (or it will replay): try again.
    Retry {
        status: Option<u16>,
        reason: String,
        retry_after: Option<Duration>,
    },
    /// The request may have been acted on (timeout, connection lost after it
    /// left): repeat it with the same key.
    Unknown {
        reason: String,
    },
    /// 404: no such object.
    NotFound,
}

/// A client for one provider account.
pub struct Provider {
    http: reqwest::Client,
    base: String,
    secret: String,
}

impl Provider {
    /// The account in settings; the secret is read from the env var they name.
    pub fn from_settings(s: &PaymentsSettings) -> Result<Provider, String> {
        let secret = std::env::var(&s.secret_key_env).map_err(|_| {
            format!(
                "environment variable {} (payments.secret_key_env) is not set",
                s.secret_key_env
            )
        })?;
        let http = reqwest::Client::builder()
            .timeout(Duration::from_millis(s.request_timeout_ms))
            .connect_timeout(Duration::from_secs(5))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Provider {
            http,
            base: s.base_url.trim_end_matches('/').to_string(),
            secret,
        })
    }

    /// `POST /v1/payment_intents` (create and confirm).
    pub async fn create_intent(&self, key: &str, form: &[(String, String)]) -> Reply<Intent> {
        self.send(
            self.http.post(format!("{}/v1/payment_intents", self.base)),
            Some(key),
            Some(form),
        )
        .await
    }

    /// `GET /v1/payment_intents/{id}`.
    pub async fn retrieve_intent(&self, id: &str) -> Reply<Intent> {
        self.send(
            self.http
                .get(format!("{}/v1/payment_intents/{id}", self.base)),
            None,
            None,
        )
        .await
    }

    /// The intents whose `metadata[key]` is `value` (search API).
    pub async fn search_intents(&self, key: &str, value: &str) -> Reply<Vec<Intent>> {
        let query = format!("metadata['{key}']:'{value}'");
        let req = self
            .http
            .get(format!("{}/v1/payment_intents/search", self.base))
            .query(&[("query", query)]);
        match self.send::<SearchResult<Intent>>(req, None, None).await {
            Reply::Ok(r) => Reply::Ok(r.data),
            Reply::Declined { status, error } => Reply::Declined { status, error },
            Reply::Refused { status, error } => Reply::Refused { status, error },
            Reply::Retry {
                status,
                reason,
                retry_after,
            } => Reply::Retry {
                status,
                reason,
                retry_after,
            },
            Reply::Unknown { reason } => Reply::Unknown { reason },
            Reply::NotFound => Reply::NotFound,
        }
    }

    /// `POST /v1/refunds`.
    pub async fn create_refund(&self, key: &str, form: &[(String, String)]) -> Reply<RefundObject> {
        self.send(
            self.http.post(format!("{}/v1/refunds", self.base)),
            Some(key),
            Some(form),
        )
        .await
    }

    async fn send<T: for<'de> Deserialize<'de>>(
        &self,
        req: reqwest::RequestBuilder,
        key: Option<&str>,
        form: Option<&[(String, String)]>,
    ) -> Reply<T> {
        let mut req = req.bearer_auth(&self.secret);
        if let Some(k) = key {
            req = req.header("Idempotency-Key", k);
        }
        if let Some(f) = form {
            let body = serde_urlencoded::to_string(f).unwrap_or_default();
            req = req
                .header(
                    reqwest::header::CONTENT_TYPE,
                    "application/x-www-form-urlencoded",
                )
                .body(body);
        }
        // Outgoing calls of a job carry its trace, like the notification channels.
        if let Some(tp) = crate::engine::trace::current() {
            req = req.header("traceparent", tp);
        }
        let resp = match req.send().await {
            Ok(r) => r,
            Err(e) if e.is_connect() => {
                // Never reached the provider: nothing happened there.
                return Reply::Retry {
                    status: None,
                    reason: format!("connect: {e}"),
                    retry_after: None,
                };
            }
            Err(e) => {
                return Reply::Unknown {
                    reason: if e.is_timeout() {
                        "timed out waiting for the provider".into()
                    } else {
                        format!("connection lost: {e}")
                    },
                }
            }
        };
        let status = resp.status();
        let should_retry = resp
            .headers()
            .get("stripe-should-retry")
            .and_then(|v| v.to_str().ok())
            .map(|v| v == "true");
        let retry_after = resp
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let bytes = match resp.bytes().await {
            Ok(b) => b,
            Err(e) => {
                return Reply::Unknown {
                    reason: format!("answer cut: {e}"),
                }
            }
        };
        classify(status, should_retry, retry_after, &bytes)
    }
}

/// Maps an answer to a [`Reply`] (pure, unit-tested).
pub fn classify<T: for<'de> Deserialize<'de>>(
    status: StatusCode,
    should_retry: Option<bool>,
    retry_after: Option<Duration>,
    body: &[u8],
) -> Reply<T> {
    let code = status.as_u16();
    if status.is_success() {
        return match serde_json::from_slice(body) {
            Ok(v) => Reply::Ok(v),
            // A 200 we cannot read: the call happened, its result is unknown.
            Err(e) => Reply::Unknown {
                reason: format!("unreadable {code} answer: {e}"),
            },
        };
    }
    let error = serde_json::from_slice::<ErrorEnvelope>(body)
        .map(|e| e.error)
        .unwrap_or_else(|_| ProviderError {
            kind: "api_error".into(),
            message: Some(String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned()),
            ..ProviderError::default()
        });
    if code == 404 {
        return Reply::NotFound;
    }
    if error.kind == "card_error" {
        return Reply::Declined {
            status: code,
            error,
        };
    }
    if error.kind == "idempotency_error" {
        if error.code.as_deref() == Some("idempotency_key_in_use") || code == 409 {
            // The first request with this key is still being processed.
            return Reply::Retry {
                status: Some(code),
                reason: error.describe(),
                retry_after: Some(Duration::from_secs(1)),
            };
        }
        return Reply::Refused {
            status: code,
            error,
        };
    }
    let retryable = match should_retry {
        Some(v) => v,
        None => code == 429 || code >= 500 || code == 409,
    };
    if retryable {
        Reply::Retry {
            status: Some(code),
            reason: format!("{code}: {}", error.describe()),
            retry_after,
        }
    } else {
        Reply::Refused {
            status: code,
            error,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(status: u16, retry: Option<bool>, body: &str) -> Reply<Intent> {
        classify(
            StatusCode::from_u16(status).unwrap(),
            retry,
            None,
            body.as_bytes(),
        )
    }

    #[test]
    fn answers_map_to_what_the_job_does() {
        let ok = r#"{"id":"pi_1","status":"succeeded","amount":100,"amount_received":100,"currency":"brl","latest_charge":"ch_1"}"#;
        match c(200, None, ok) {
            Reply::Ok(i) => assert_eq!(
                (i.id.as_str(), i.charge_id().as_deref()),
                ("pi_1", Some("ch_1"))
            ),
            r => panic!("{r:?}"),
        }
        let decline = r#"{"error":{"type":"card_error","code":"card_declined","decline_code":"insufficient_funds","message":"no"}}"#;
        assert!(
            matches!(c(402, None, decline), Reply::Declined { error, .. } if error.decline_code.as_deref() == Some("insufficient_funds"))
        );
        let mismatch = r#"{"error":{"type":"idempotency_error","message":"Keys for idempotent requests can only be used with the same parameters"}}"#;
        assert!(matches!(c(400, None, mismatch), Reply::Refused { .. }));
        let in_use = r#"{"error":{"type":"idempotency_error","code":"idempotency_key_in_use"}}"#;
        assert!(matches!(c(409, None, in_use), Reply::Retry { .. }));
        let api = r#"{"error":{"type":"api_error","message":"boom"}}"#;
        assert!(matches!(c(500, None, api), Reply::Retry { .. }));
        assert!(matches!(c(429, None, api), Reply::Retry { .. }));
        // The provider's own advice wins over the status.
        assert!(matches!(c(500, Some(false), api), Reply::Refused { .. }));
        assert!(matches!(c(400, Some(true), api), Reply::Retry { .. }));
        assert!(matches!(c(400, None, api), Reply::Refused { .. }));
        assert!(matches!(c(404, None, api), Reply::NotFound));
        assert!(matches!(c(200, None, "not json"), Reply::Unknown { .. }));
        assert!(matches!(
            c(502, None, "<html>bad gateway</html>"),
            Reply::Retry { .. }
        ));
    }
}
