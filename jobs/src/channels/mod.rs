//! Channels: how a rendered message leaves Tarefa — email (SMTP), push (FCM
//! HTTP v1), SMS (Twilio-compatible), WhatsApp (Cloud API) and signed tenant
//! webhooks. Each implements [`Channel`]; each provider answer goes through the
//! one [`classify`] (2xx sent, 429/5xx/timeout retryable, other 4xx permanent).
//!
//! Layout: `settings` (the `[notifications]` config section), `email`, `fcm`,
//! `sms`, `whatsapp`, `webhook`, `ssrf` (the webhook address guard),
//! `templates` (minijinja + pt-BR filters), `secrets` (env references).
//! The outbox and the policies live with the kind, in `kinds/notify/`.

pub mod email;
pub mod fcm;
pub mod secrets;
mod settings;
pub mod sms;
pub mod ssrf;
pub mod templates;
pub mod webhook;
pub mod whatsapp;

pub use settings::{NotificationSettings, SmtpTls};

use std::future::Future;
use std::sync::OnceLock;
use std::time::Duration;

use reqwest::header::HeaderMap;
use reqwest::StatusCode;

/// A message ready for a provider: rendered, addressed, with the tenant's
/// channel settings (addresses, ids, secret references) attached.
#[derive(Clone)]
pub struct Outgoing {
    /// Used as the idempotency / delivery id towards providers that accept one.
    pub notification_id: uuid::Uuid,
    pub tenant_id: uuid::Uuid,
    pub recipient: String,
    pub subject: Option<String>,
    pub text: String,
    pub html: Option<String>,
    /// Extra structured content (push `data`, WhatsApp template, webhook event).
    pub data: serde_json::Value,
    pub attachments: Vec<Attachment>,
    /// The tenant's settings for this channel (`notification_channels.settings`).
    pub settings: serde_json::Value,
}

impl std::fmt::Debug for Outgoing {
    // Bodies and addresses are personal data: never in logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outgoing")
            .field("notification_id", &self.notification_id)
            .field("tenant_id", &self.tenant_id)
            .finish_non_exhaustive()
    }
}

/// A file sent with an email (base64 in the API).
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Attachment {
    pub filename: String,
    pub content_type: String,
    /// Base64 of the file.
    pub content_base64: String,
}

/// The provider accepted the message.
#[derive(Clone, Debug, PartialEq)]
pub struct Sent {
    pub provider_message_id: Option<String>,
}

/// Why a send failed, and what to do about it.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum SendError {
    /// Network trouble, 5xx, 429: try again (after `retry_after` when the provider said so).
    #[error("retryable: {reason}")]
    Retryable {
        reason: String,
        retry_after: Option<Duration>,
    },
    /// 4xx, bad settings, invalid number or token: never retry.
    #[error("permanent: {reason}")]
    Permanent { reason: String },
    /// FCM `UNREGISTERED`: the device token is gone for good.
    #[error("dead token: {reason}")]
    DeadToken { reason: String },
    /// The request may have reached the provider (timed out or cut while
    /// waiting for its answer): sending again could deliver twice, so the
    /// message is marked `unknown` for ops instead of being retried.
    #[error("outcome unknown: {reason}")]
    Unknown { reason: String },
}

impl SendError {
    pub fn permanent(reason: impl Into<String>) -> SendError {
        SendError::Permanent {
            reason: reason.into(),
        }
    }
    pub fn retryable(reason: impl Into<String>) -> SendError {
        SendError::Retryable {
            reason: reason.into(),
            retry_after: None,
        }
    }
}

/// One channel: sends one message, says how it went.
pub trait Channel {
    /// `email`, `push`, `sms`, `whatsapp`, `webhook`.
    const NAME: &'static str;
    fn send(&self, msg: &Outgoing) -> impl Future<Output = Result<Sent, SendError>> + Send;
}

/// The one place HTTP outcomes become decisions. `reason` is the provider's
/// own error text (already stripped of anything secret).
pub fn classify(status: StatusCode, headers: &HeaderMap, reason: &str) -> Result<(), SendError> {
    if status.is_success() {
        return Ok(());
    }
    let reason = format!("{} {}", status.as_u16(), reason).trim().to_string();
    if status == StatusCode::TOO_MANY_REQUESTS
        || status.is_server_error()
        || status == StatusCode::REQUEST_TIMEOUT
    {
        return Err(SendError::Retryable {
            reason,
            retry_after: retry_after(headers),
        });
    }
    Err(SendError::Permanent { reason })
}

/// A transport error on a call that delivers a message (no HTTP answer).
/// Failing to connect is safe to retry: nothing reached the provider. A
/// timeout or a broken connection after the request went out is not: the
/// provider may have accepted it, so the outcome is `Unknown`.
pub fn classify_transport(e: &reqwest::Error) -> SendError {
    // reqwest errors carry the URL; keep only the kind (URLs may hold tokens).
    if e.is_connect() {
        SendError::retryable("connect error")
    } else if e.is_builder() {
        SendError::permanent("could not build the request")
    } else if e.is_timeout() {
        SendError::Unknown {
            reason: "timed out waiting for the provider's answer".into(),
        }
    } else {
        SendError::Unknown {
            reason: "connection lost before the provider answered".into(),
        }
    }
}

/// A transport error on a call that sends nothing to a recipient (e.g. an
/// OAuth token grant): always safe to retry.
pub fn classify_transport_safe(e: &reqwest::Error) -> SendError {
    SendError::retryable(if e.is_timeout() {
        "timeout"
    } else if e.is_connect() {
        "connect error"
    } else {
        "transport error"
    })
}

/// `Retry-After` as seconds or an HTTP date, capped at one day.
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let v = headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?;
    let d = if let Ok(secs) = v.trim().parse::<u64>() {
        Duration::from_secs(secs)
    } else {
        let when = chrono::DateTime::parse_from_rfc2822(v.trim()).ok()?;
        (when.with_timezone(&chrono::Utc) - chrono::Utc::now())
            .to_std()
            .unwrap_or_default()
    };
    Some(d.min(Duration::from_secs(86_400)))
}

/// Adds the running job's `traceparent` (see [`crate::engine::trace::current`])
/// to an outgoing provider request, so the provider call joins the job's trace.
pub trait Traced {
    fn traced(self) -> Self;
}

impl Traced for reqwest::RequestBuilder {
    fn traced(self) -> Self {
        match crate::engine::trace::current() {
            Some(tp) => self.header("traceparent", tp),
            None => self,
        }
    }
}

/// The process's HTTP client for provider APIs (connection pooling, rustls).
/// Process-wide because `Resources` is built by every binary and test alike;
/// a client per call would throw its pool away.
pub fn http(settings: &NotificationSettings) -> reqwest::Client {
    static CLIENT: OnceLock<reqwest::Client> = OnceLock::new();
    CLIENT
        .get_or_init(|| {
            reqwest::Client::builder()
                .timeout(Duration::from_millis(settings.http_timeout_ms))
                .connect_timeout(Duration::from_secs(5))
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("reqwest client with rustls")
        })
        .clone()
}

/// A short, log-safe excerpt of a provider's error body.
pub(crate) fn excerpt(s: &str) -> String {
    s.chars().take(300).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(retry: Option<&str>) -> HeaderMap {
        let mut m = HeaderMap::new();
        if let Some(r) = retry {
            m.insert(reqwest::header::RETRY_AFTER, r.parse().unwrap());
        }
        m
    }

    #[test]
    fn classify_maps_status_to_decision() {
        assert_eq!(classify(StatusCode::OK, &h(None), ""), Ok(()));
        assert_eq!(
            classify(StatusCode::TOO_MANY_REQUESTS, &h(Some("7")), "slow down"),
            Err(SendError::Retryable {
                reason: "429 slow down".into(),
                retry_after: Some(Duration::from_secs(7))
            })
        );
        assert!(matches!(
            classify(StatusCode::BAD_GATEWAY, &h(None), ""),
            Err(SendError::Retryable {
                retry_after: None,
                ..
            })
        ));
        assert_eq!(
            classify(StatusCode::BAD_REQUEST, &h(None), "invalid number"),
            Err(SendError::permanent("400 invalid number"))
        );
    }

    #[test]
    fn retry_after_is_capped() {
        assert_eq!(
            retry_after(&h(Some("999999"))),
            Some(Duration::from_secs(86_400))
        );
        assert_eq!(retry_after(&h(Some("soon"))), None);
    }
}
