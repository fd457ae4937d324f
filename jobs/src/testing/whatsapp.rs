//! The WhatsApp Cloud API side of [`super::Providers`], beyond the scripted
//! answers: errors injected per phone (Meta's codes and messages, answered
//! synchronously, or accepted and then reported by a `failed` status
//! webhook), the number's own throughput limit (over it: 130429), and signed
//! status webhooks (`sent`, `delivered`, `read`, in a chosen order) posted to
//! a callback URL with `X-Hub-Signature-256`, as Meta does.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// How the fake treats one phone (digits, as in the request's `to`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum PhoneFault {
    /// The API call answers this Meta error code.
    Sync(i64),
    /// The API call succeeds; a `failed` status with this code follows by webhook.
    Async(i64),
}

/// Where and how status webhooks go.
#[derive(Clone, Debug)]
pub struct Callbacks {
    pub url: String,
    pub app_secret: String,
    /// The statuses sent after each accepted message, in this order (e.g. read before delivered).
    pub statuses: Vec<&'static str>,
    pub waba_id: String,
}

#[derive(Default)]
pub(crate) struct WaState {
    pub faults: HashMap<String, PhoneFault>,
    /// Messages per second the fake number accepts (0 = no limit).
    pub throughput: u32,
    pub recent: VecDeque<Instant>,
    pub callbacks: Option<Callbacks>,
    /// Accepted messages per recipient (`to`).
    pub accepted: HashMap<String, u32>,
    pub throttled: u32,
    /// How long each API call takes to answer (a slow provider makes the worker the bottleneck).
    pub latency: Duration,
}

/// Meta's message and details for the codes campaigns care about.
pub fn meta_error(code: i64) -> (u16, Value) {
    let (msg, details) = match code {
        130429 => ("(#130429) Rate limit hit", "Cloud API message throughput has been reached."),
        131048 => ("(#131048) Spam rate limit hit", "Message failed to send because there are restrictions on how many messages can be sent from this phone number."),
        131049 => ("(#131049) This message was not delivered to maintain healthy ecosystem engagement.", "In order to maintain a healthy ecosystem engagement, the message failed to be delivered."),
        131026 => ("(#131026) Message undeliverable", "Message Undeliverable."),
        131050 => ("(#131050) User has stopped marketing messages", "Unable to deliver the marketing message. The user has chosen to stop receiving marketing messages from this business."),
        _ => ("(#131000) Something went wrong", "Message failed to send due to an unknown error."),
    };
    let status = if code == 131000 { 500 } else { 400 };
    (
        status,
        json!({"error": {"message": msg, "type": "OAuthException", "code": code,
            "error_data": {"messaging_product": "whatsapp", "details": details},
            "fbtrace_id": "AbCdEfGhIjKl"}}),
    )
}

impl WaState {
    /// `Some(error)` when this message must be refused; otherwise records it.
    pub fn admit(&mut self, to: &str) -> Option<(u16, Value)> {
        if let Some(PhoneFault::Sync(code)) = self.faults.get(to) {
            return Some(meta_error(*code));
        }
        if self.throughput > 0 {
            let now = Instant::now();
            while self
                .recent
                .front()
                .is_some_and(|t| now.duration_since(*t) > Duration::from_secs(1))
            {
                self.recent.pop_front();
            }
            if self.recent.len() as u32 >= self.throughput {
                self.throttled += 1;
                return Some(meta_error(130429));
            }
            self.recent.push_back(now);
        }
        *self.accepted.entry(to.to_string()).or_default() += 1;
        None
    }
}

/// A Meta webhook body with one status.
pub fn status_payload(
    waba: &str,
    phone_number_id: &str,
    wamid: &str,
    to: &str,
    status: &str,
    code: Option<i64>,
) -> Value {
    let mut s = json!({"id": wamid, "status": status, "timestamp": chrono::Utc::now().timestamp().to_string(),
        "recipient_id": to, "pricing": {"billable": true, "pricing_model": "PMP", "category": "marketing"}});
    if let Some(c) = code {
        let (_, e) = meta_error(c);
        s["errors"] = json!([{"code": c, "title": e["error"]["message"], "message": e["error"]["message"],
            "error_data": {"details": e["error"]["error_data"]["details"]}}]);
    }
    json!({"object": "whatsapp_business_account", "entry": [{"id": waba, "changes": [{"field": "messages",
        "value": {"messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "5511999990000", "phone_number_id": phone_number_id},
            "statuses": [s]}}]}]})
}

/// An inbound text message from `from` (digits) to the number.
pub fn message_payload(waba: &str, phone_number_id: &str, from: &str, text: &str) -> Value {
    json!({"object": "whatsapp_business_account", "entry": [{"id": waba, "changes": [{"field": "messages",
        "value": {"messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "5511999990000", "phone_number_id": phone_number_id},
            "contacts": [{"profile": {"name": "Cliente"}, "wa_id": from}],
            "messages": [{"from": from, "id": format!("wamid.IN{}", uuid::Uuid::new_v4().simple()),
                "timestamp": chrono::Utc::now().timestamp().to_string(), "type": "text", "text": {"body": text}}]}}]}]})
}

/// Posts `payload` signed with `secret` to `url`; returns the HTTP status.
pub async fn post_signed(url: &str, secret: &str, payload: &Value) -> u16 {
    let body = serde_json::to_vec(payload).expect("json");
    let sig = crate::channels::whatsapp::sign(secret, &body);
    match reqwest::Client::new()
        .post(url)
        .header("content-type", "application/json")
        .header("x-hub-signature-256", sig)
        .body(body)
        .send()
        .await
    {
        Ok(r) => r.status().as_u16(),
        Err(_) => 0,
    }
}

/// After an accepted message: its statuses, by webhook, in the configured order.
pub(crate) fn spawn_statuses(
    cb: Callbacks,
    phone_number_id: String,
    wamid: String,
    to: String,
    fault: Option<PhoneFault>,
) {
    tokio::spawn(async move {
        // Meta answers the API call first; statuses follow shortly.
        tokio::time::sleep(Duration::from_millis(20)).await;
        let list: Vec<(&str, Option<i64>)> = match fault {
            Some(PhoneFault::Async(code)) => vec![("failed", Some(code))],
            _ => cb.statuses.iter().map(|s| (*s, None)).collect(),
        };
        for (st, code) in list {
            let p = status_payload(&cb.waba_id, &phone_number_id, &wamid, &to, st, code);
            post_signed(&cb.url, &cb.app_secret, &p).await;
        }
    });
}

/// A stand-in for `POST /v1/callbacks/whatsapp` on port 0: checks
/// `X-Hub-Signature-256` with `secret` and applies the payload to campaign
/// recipients (`campaigns::inbound::handle`). Returns the callback URL.
pub async fn callback_receiver(pool: sqlx::PgPool, secret: &str) -> String {
    use axum::body::Bytes;
    use axum::http::{HeaderMap, StatusCode};
    let secret = secret.to_string();
    let app = axum::Router::new().route(
        "/callbacks",
        axum::routing::post(move |h: HeaderMap, body: Bytes| {
            let (pool, secret) = (pool.clone(), secret.clone());
            async move {
                let sig = h
                    .get("x-hub-signature-256")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("");
                if !crate::channels::whatsapp::verify_signature(&secret, &body, sig) {
                    return StatusCode::UNAUTHORIZED;
                }
                let Ok(v) = serde_json::from_slice::<Value>(&body) else {
                    return StatusCode::BAD_REQUEST;
                };
                match crate::kinds::campaigns::inbound::handle(&pool, &v).await {
                    Ok(_) => StatusCode::OK,
                    Err(_) => StatusCode::INTERNAL_SERVER_ERROR,
                }
            }
        }),
    );
    let l = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind receiver");
    let addr = l.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(l, app).await.ok() });
    format!("http://{addr}/callbacks")
}
