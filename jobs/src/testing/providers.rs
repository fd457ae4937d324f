//! One local HTTP server on port 0 that speaks each provider's wire format,
//! error bodies included: WhatsApp Cloud API, Twilio Messages, Google's
//! OAuth2 token endpoint (checks the RS256 JWT-bearer assertion), FCM v1,
//! and a tenant webhook receiver that verifies `X-Tarefa-Signature`.
//! `fail_next(status)` scripts the next answers (429 comes with Retry-After;
//! 0 makes the WhatsApp fake accept the message and then hang).

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{json, Value};
use tokio::sync::Notify;

/// One request a fake received.
#[derive(Clone, Debug)]
pub struct Seen {
    /// `whatsapp`, `twilio`, `token`, `fcm`, `webhook`.
    pub provider: &'static str,
    pub path: String,
    pub auth: Option<String>,
    pub body: String,
    /// The request's W3C `traceparent` header, if sent.
    pub traceparent: Option<String>,
    /// Webhook only: did the signature verify with the receiver's secret?
    pub verified: bool,
    /// When the fake received it (for rate properties: spacing between requests).
    pub at: std::time::Instant,
}

#[derive(Default)]
struct Inner {
    seen: Mutex<Vec<Seen>>,
    script: Mutex<VecDeque<u16>>,
    tokens_issued: Mutex<u32>,
    token_ttl: Mutex<i64>,
    public_key_pem: Mutex<Option<String>>,
    webhook_secret: Mutex<String>,
    arrived: Notify,
    wa: Mutex<super::whatsapp::WaState>,
}

/// The running fakes; clone freely.
#[derive(Clone)]
pub struct Providers {
    pub addr: SocketAddr,
    inner: Arc<Inner>,
}

impl Providers {
    pub async fn start() -> Providers {
        let inner = Arc::new(Inner::default());
        *inner.token_ttl.lock().expect("ttl") = 3600;
        let app = Router::new()
            .route("/{version}/{phone}/messages", post(whatsapp))
            .route("/2010-04-01/Accounts/{sid}/Messages.json", post(twilio))
            .route("/token", post(token))
            .route("/v1/projects/{project}/{action}", post(fcm))
            .route("/hook", post(hook))
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind fakes");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move { axum::serve(listener, app).await.ok() });
        Providers { addr, inner }
    }

    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The next answers of any provider, in order (then back to success).
    pub fn fail_next(&self, statuses: &[u16]) {
        self.inner.script.lock().expect("script").extend(statuses);
    }

    pub fn seen(&self, provider: &str) -> Vec<Seen> {
        self.inner
            .seen
            .lock()
            .expect("seen")
            .iter()
            .filter(|s| s.provider == provider)
            .cloned()
            .collect()
    }

    pub fn tokens_issued(&self) -> u32 {
        *self.inner.tokens_issued.lock().expect("tokens")
    }

    /// `expires_in` of the tokens the OAuth fake grants.
    pub fn set_token_ttl(&self, secs: i64) {
        *self.inner.token_ttl.lock().expect("ttl") = secs;
    }

    /// The service account's public key: the token fake verifies assertions with it.
    pub fn set_public_key(&self, pem: &str) {
        *self.inner.public_key_pem.lock().expect("pk") = Some(pem.to_string());
    }

    pub fn set_webhook_secret(&self, s: &str) {
        *self.inner.webhook_secret.lock().expect("secret") = s.to_string();
    }

    /// WhatsApp: every message to `to` (digits, as sent) meets `fault`.
    pub fn whatsapp_fault(&self, to: &str, fault: super::whatsapp::PhoneFault) {
        self.inner
            .wa
            .lock()
            .expect("wa")
            .faults
            .insert(to.to_string(), fault);
    }

    /// WhatsApp: the number's throughput (messages/s, 0 = none); over it, 130429.
    pub fn whatsapp_throughput(&self, per_second: u32) {
        self.inner.wa.lock().expect("wa").throughput = per_second;
    }

    /// WhatsApp: every API call answers after `latency` (0 = at once).
    pub fn whatsapp_latency(&self, latency: std::time::Duration) {
        self.inner.wa.lock().expect("wa").latency = latency;
    }

    /// WhatsApp: post signed status webhooks for every accepted message.
    pub fn whatsapp_callbacks(&self, cb: super::whatsapp::Callbacks) {
        self.inner.wa.lock().expect("wa").callbacks = Some(cb);
    }

    /// WhatsApp: messages accepted per recipient (`to`).
    pub fn whatsapp_accepted(&self) -> std::collections::HashMap<String, u32> {
        self.inner.wa.lock().expect("wa").accepted.clone()
    }

    /// WhatsApp: how many calls the throughput limit refused (130429).
    pub fn whatsapp_throttled(&self) -> u32 {
        self.inner.wa.lock().expect("wa").throttled
    }

    /// Waits (no polling) until `provider` has seen `n` requests.
    pub async fn wait_for(&self, provider: &str, n: usize) -> Vec<Seen> {
        loop {
            let notified = self.inner.arrived.notified();
            let s = self.seen(provider);
            if s.len() >= n {
                return s;
            }
            notified.await;
        }
    }
}

fn record(
    i: &Inner,
    provider: &'static str,
    path: String,
    h: &HeaderMap,
    body: &Bytes,
    verified: bool,
) -> Option<u16> {
    let auth = h
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .map(String::from);
    let body = String::from_utf8_lossy(body).into_owned();
    let traceparent = h
        .get("traceparent")
        .and_then(|v| v.to_str().ok())
        .map(String::from);
    i.seen.lock().expect("seen").push(Seen {
        provider,
        path,
        auth,
        traceparent,
        body,
        verified,
        at: std::time::Instant::now(),
    });
    i.arrived.notify_waiters();
    i.script.lock().expect("script").pop_front()
}

fn with_retry_after(status: u16, body: Value) -> Response {
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut res = (code, Json(body)).into_response();
    if status == 429 {
        res.headers_mut()
            .insert("retry-after", "3".parse().expect("header"));
    }
    res
}

async fn whatsapp(
    State(i): State<Arc<Inner>>,
    Path((v, phone)): Path<(String, String)>,
    h: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(s) = record(
        &i,
        "whatsapp",
        format!("/{v}/{phone}/messages"),
        &h,
        &body,
        false,
    ) {
        if s == 0 {
            // Scripted 0: take the message, then never answer in time.
            tokio::time::sleep(std::time::Duration::from_secs(30)).await;
        }
        let (code, msg) = match s {
            429 => (130429, "(#130429) Rate limit hit"),
            400 => (131026, "(#131026) Message undeliverable"),
            401 => (190, "Invalid OAuth access token"),
            _ => (1, "An unknown error occurred"),
        };
        return with_retry_after(
            s,
            json!({"error": {"message": msg, "type": "OAuthException", "code": code, "fbtrace_id": "AbCdEf"}}),
        );
    }
    let v: Value = serde_json::from_slice(&body).unwrap_or_default();
    let to = v["to"].as_str().unwrap_or("").to_string();
    let (refused, cb, fault, latency) = {
        let mut wa = i.wa.lock().expect("wa");
        (
            wa.admit(&to),
            wa.callbacks.clone(),
            wa.faults.get(&to).copied(),
            wa.latency,
        )
    };
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    if let Some((status, body)) = refused {
        return (StatusCode::from_u16(status).expect("status"), Json(body)).into_response();
    }
    let n = i.seen.lock().expect("seen").len();
    let mut wamid = format!("wamid.FAKE{n}");
    if let Some(cb) = cb {
        // Concurrent sends: ids must be unique (the short form is kept for older tests).
        wamid = format!("wamid.FAKE{n}.{}", uuid::Uuid::new_v4().simple());
        super::whatsapp::spawn_statuses(cb, phone.clone(), wamid.clone(), to.clone(), fault);
    }
    Json(
        json!({"messaging_product": "whatsapp", "contacts": [{"input": v["to"], "wa_id": v["to"]}],
        "messages": [{"id": wamid}]}),
    )
    .into_response()
}

async fn twilio(
    State(i): State<Arc<Inner>>,
    Path(sid): Path<String>,
    h: HeaderMap,
    body: Bytes,
) -> Response {
    let path = format!("/2010-04-01/Accounts/{sid}/Messages.json");
    if let Some(s) = record(&i, "twilio", path, &h, &body, false) {
        let (code, msg) = match s {
            400 => (
                21211,
                "The 'To' number +5511000 is not a valid phone number.",
            ),
            429 => (20429, "Too Many Requests"),
            _ => (20500, "Internal Server Error"),
        };
        return with_retry_after(
            s,
            json!({"code": code, "message": msg, "more_info": format!("https://www.twilio.com/docs/errors/{code}"), "status": s}),
        );
    }
    let n = i.seen.lock().expect("seen").len();
    (
        StatusCode::CREATED,
        Json(json!({"sid": format!("SMFAKE{n:08}"), "status": "queued", "account_sid": sid})),
    )
        .into_response()
}

async fn token(State(i): State<Arc<Inner>>, h: HeaderMap, body: Bytes) -> Response {
    record(&i, "token", "/token".into(), &h, &body, false);
    let form: Vec<(String, String)> = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let get = |k: &str| {
        form.iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    if get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer" {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "unsupported_grant_type"})),
        )
            .into_response();
    }
    let pk = i.public_key_pem.lock().expect("pk").clone();
    if let Some(pem) = pk {
        let key = jsonwebtoken::DecodingKey::from_rsa_pem(pem.as_bytes()).expect("public key");
        let mut val = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
        val.set_audience(&[format!(
            "http://{}/token",
            h.get("host").and_then(|v| v.to_str().ok()).unwrap_or("")
        )]);
        if jsonwebtoken::decode::<Value>(&get("assertion"), &key, &val).is_err() {
            return (StatusCode::BAD_REQUEST, Json(json!({"error": "invalid_grant", "error_description": "Invalid JWT Signature."}))).into_response();
        }
    }
    let n = {
        let mut t = i.tokens_issued.lock().expect("tokens");
        *t += 1;
        *t
    };
    let ttl = *i.token_ttl.lock().expect("ttl");
    Json(json!({"access_token": format!("ya29.fake-{n}"), "expires_in": ttl, "token_type": "Bearer"})).into_response()
}

async fn fcm(
    State(i): State<Arc<Inner>>,
    Path((project, action)): Path<(String, String)>,
    h: HeaderMap,
    body: Bytes,
) -> Response {
    let scripted = record(
        &i,
        "fcm",
        format!("/v1/projects/{project}/{action}"),
        &h,
        &body,
        false,
    );
    let v: Value = serde_json::from_slice(&body).unwrap_or_default();
    let auth_ok = h
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.starts_with("Bearer ya29.fake-"));
    if !auth_ok {
        return (StatusCode::UNAUTHORIZED, Json(json!({"error": {"code": 401, "message": "Request had invalid authentication credentials.", "status": "UNAUTHENTICATED"}}))).into_response();
    }
    if v["message"]["token"] == "dead-token" {
        return (StatusCode::NOT_FOUND, Json(json!({"error": {"code": 404, "message": "Requested entity was not found.", "status": "NOT_FOUND",
            "details": [{"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": "UNREGISTERED"}]}}))).into_response();
    }
    if let Some(s) = scripted {
        return with_retry_after(
            s,
            json!({"error": {"code": s, "message": "Quota exceeded.", "status": "RESOURCE_EXHAUSTED",
            "details": [{"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": "QUOTA_EXCEEDED"}]}}),
        );
    }
    Json(json!({"name": format!("projects/{project}/messages/0:{}", i.seen.lock().expect("seen").len())})).into_response()
}

async fn hook(State(i): State<Arc<Inner>>, h: HeaderMap, body: Bytes) -> Response {
    let secret = i.webhook_secret.lock().expect("secret").clone();
    let sig = h
        .get(crate::channels::webhook::SIGNATURE_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let ok = crate::channels::webhook::verify(&secret, sig, &body, chrono::Utc::now().timestamp());
    if let Some(s) = record(&i, "webhook", "/hook".into(), &h, &body, ok) {
        return with_retry_after(s, json!({"error": "scripted"}));
    }
    if ok {
        StatusCode::OK.into_response()
    } else {
        StatusCode::UNAUTHORIZED.into_response()
    }
}
