//! A local fake of the two LLM wire formats the documents' structuring
//! fallback speaks (`kinds::documents::llm::wire`), for the tests:
//! - OpenAI-compatible `POST /v1/chat/completions` (`Authorization: Bearer`),
//!   answering `{"choices": [{"message": {"role": "assistant", "content": …}}]}`;
//! - Gemini `POST /v1beta/models/{model}:generateContent` (`x-goog-api-key`),
//!   answering `{"candidates": [{"content": {"parts": [{"text": …}]}}]}`.
//!
//! What it answers is scripted ([`LlmBehaviour`]): a given JSON result,
//! garbage text, a JSON of the wrong schema, an HTTP error (429 with
//! `Retry-After`, 500) in each provider's error shape, or no answer at all
//! (a hang the client's timeout must cut). Every request is counted and kept
//! (path, auth header, body), so a test can assert that none was made.

use std::sync::{Arc, Mutex};

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{json, Value};

/// What the fake answers.
#[derive(Clone, Debug)]
pub enum LlmBehaviour {
    /// This JSON, as the model's message content.
    Valid(Value),
    /// Content that is not JSON at all.
    Garbage,
    /// JSON, but not the result schema (unknown fields, wrong types).
    WrongSchema,
    /// An HTTP error status in the provider's error shape (429, 500...).
    Status(u16),
    /// Never answers (until the fake is dropped): the client must time out.
    Hang,
}

/// One request as the fake saw it.
#[derive(Clone, Debug)]
pub struct LlmRequest {
    pub path: String,
    /// `Authorization` (OpenAI) or `x-goog-api-key` (Gemini).
    pub auth: Option<String>,
    pub body: Value,
}

struct Inner {
    behaviour: LlmBehaviour,
    requests: Vec<LlmRequest>,
}

#[derive(Clone)]
pub struct LlmFake {
    /// `http://127.0.0.1:<port>`; OpenAI base URL is `{url}/v1`, Gemini's `{url}`.
    pub url: String,
    inner: Arc<Mutex<Inner>>,
}

impl LlmFake {
    pub async fn start(behaviour: LlmBehaviour) -> LlmFake {
        let inner = Arc::new(Mutex::new(Inner {
            behaviour,
            requests: Vec::new(),
        }));
        let app = Router::new()
            .route("/v1/chat/completions", post(openai))
            .route("/v1beta/models/{call}", post(gemini))
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the LLM fake");
        let url = format!("http://{}", listener.local_addr().expect("local addr"));
        tokio::spawn(async move { axum::serve(listener, app).await.ok() });
        LlmFake { url, inner }
    }

    /// The base URL to configure for `openai`.
    pub fn openai_base(&self) -> String {
        format!("{}/v1", self.url)
    }

    /// The base URL to configure for `gemini`.
    pub fn gemini_base(&self) -> String {
        self.url.clone()
    }

    pub fn set(&self, behaviour: LlmBehaviour) {
        self.inner.lock().unwrap().behaviour = behaviour;
    }

    /// Requests received so far.
    pub fn requests(&self) -> Vec<LlmRequest> {
        self.inner.lock().unwrap().requests.clone()
    }

    pub fn count(&self) -> usize {
        self.inner.lock().unwrap().requests.len()
    }
}

/// Records the request; returns what to answer.
fn take(inner: &Mutex<Inner>, path: String, auth: Option<String>, body: Value) -> LlmBehaviour {
    let mut g = inner.lock().unwrap();
    g.requests.push(LlmRequest { path, auth, body });
    g.behaviour.clone()
}

/// The model's content for a non-error behaviour.
fn content(b: &LlmBehaviour) -> String {
    match b {
        LlmBehaviour::Valid(v) => v.to_string(),
        LlmBehaviour::Garbage => "Claro! Aqui está o boletim: Matemática 8,5 ... (sem JSON)".into(),
        LlmBehaviour::WrongSchema => json!({
            "aluno": "Maria", "notas": {"Matemática": "8,5"},
            "subjects": "Matemática, História"
        })
        .to_string(),
        LlmBehaviour::Status(_) | LlmBehaviour::Hang => String::new(),
    }
}

async fn hang() -> Response {
    std::future::pending::<()>().await;
    StatusCode::GATEWAY_TIMEOUT.into_response()
}

fn status_of(code: u16) -> StatusCode {
    StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

async fn openai(
    State(inner): State<Arc<Mutex<Inner>>>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let auth = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let b = take(&inner, "/v1/chat/completions".into(), auth, body.clone());
    match b {
        LlmBehaviour::Hang => hang().await,
        LlmBehaviour::Status(code) => {
            let kind = if code == 429 {
                "rate_limit_exceeded"
            } else {
                "server_error"
            };
            let mut res = (
                status_of(code),
                Json(json!({"error": {"message": "fake provider error", "type": kind, "code": kind}})),
            )
                .into_response();
            if code == 429 {
                res.headers_mut()
                    .insert("retry-after", axum::http::HeaderValue::from_static("20"));
            }
            res
        }
        b => Json(json!({
            "id": "chatcmpl-fake",
            "object": "chat.completion",
            "model": body["model"],
            "choices": [{"index": 0, "finish_reason": "stop",
                "message": {"role": "assistant", "content": content(&b)}}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}
        }))
        .into_response(),
    }
}

async fn gemini(
    State(inner): State<Arc<Mutex<Inner>>>,
    Path(call): Path<String>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let auth = headers
        .get("x-goog-api-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let path = format!("/v1beta/models/{call}");
    let b = take(&inner, path, auth, body);
    if !call.ends_with(":generateContent") {
        return (
            StatusCode::NOT_FOUND,
            Json(json!({"error": {"code": 404, "message": "method not found", "status": "NOT_FOUND"}})),
        )
            .into_response();
    }
    match b {
        LlmBehaviour::Hang => hang().await,
        LlmBehaviour::Status(code) => {
            let status = if code == 429 { "RESOURCE_EXHAUSTED" } else { "INTERNAL" };
            (
                status_of(code),
                Json(json!({"error": {"code": code, "message": "fake provider error", "status": status}})),
            )
                .into_response()
        }
        b => Json(json!({
            "candidates": [{"content": {"role": "model", "parts": [{"text": content(&b)}]},
                "finishReason": "STOP", "index": 0}],
            "usageMetadata": {"promptTokenCount": 1, "candidatesTokenCount": 1, "totalTokenCount": 2}
        }))
        .into_response(),
    }
}
