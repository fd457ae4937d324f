//! What Stripe does around every endpoint, as one middleware, in order:
//! 1. the API key (`Authorization: Bearer sk_...`), else 401;
//! 2. the parameters: form body (POST) or query string (GET), flattened;
//! 3. a scripted fault, if one matches (a `fail_next` answers here, unrun);
//! 4. the idempotency layer (POST with `Idempotency-Key`): replay, mismatch,
//!    in use, or claim the key;
//! 5. the endpoint; its answer is saved under the key if it changed state;
//! 6. the request log, then a scripted hang or cut connection.
//!
//! Handlers get their parameters parsed ([`Ctx`]) and mark the answers after
//! which state changed ([`Executed`]): the idempotency layer saves exactly those.

use std::sync::Arc;
use std::time::Duration;

use axum::body::{to_bytes, Body};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::Value;

use super::conn::Conn;
use super::idempotency::{Begin, Fingerprint, Saved};
use super::wire::{new_id, parse_form, ApiError, Params};
use super::{SeenRequest, Shared, StripeFake};

/// Stripe refuses longer idempotency keys.
const MAX_KEY_LEN: usize = 255;
/// Far above any form the payments code sends; a bound so a bad test can't eat memory.
const MAX_BODY: usize = 1 << 20;

/// What the edge hands each handler.
#[derive(Clone)]
pub struct Ctx {
    pub params: Params,
    pub idempotency_key: Option<String>,
}

/// Response extension: the endpoint ran and changed state (save the answer).
#[derive(Clone, Copy)]
pub struct Executed;

pub type Answer = Result<Response, ApiError>;

pub fn executed(status: StatusCode, body: Value) -> Response {
    let mut res = (status, Json(body)).into_response();
    res.extensions_mut().insert(Executed);
    res
}

/// A scripted fault for the next `remaining` requests matching method and path prefix.
pub struct Fault {
    /// Uppercase, or `*` for any method.
    pub method: String,
    pub prefix: String,
    pub remaining: usize,
    pub kind: FaultKind,
}

#[derive(Clone, Copy, Debug)]
pub enum FaultKind {
    /// Answer `status` with an `api_error` before the endpoint runs.
    Fail {
        status: u16,
        should_retry: Option<bool>,
    },
    /// Run, then hold the answer this long.
    Hang(Duration),
    /// Run, then cut the connection unanswered.
    Drop,
    /// Hold the key in flight this long, then run.
    Delay(Duration),
}

impl Shared {
    fn take_fault(&self, method: &str, path: &str) -> Option<FaultKind> {
        let mut faults = self.faults.lock().expect("faults");
        let i = faults.iter().position(|f| {
            f.remaining > 0
                && (f.method == "*" || f.method == method)
                && path.starts_with(&f.prefix)
        })?;
        let kind = faults[i].kind;
        faults[i].remaining -= 1;
        if faults[i].remaining == 0 {
            faults.remove(i);
        }
        Some(kind)
    }
}

pub async fn edge(State(s): State<Arc<Shared>>, req: Request, next: Next) -> Response {
    let method = req.method().as_str().to_string();
    let path = req.uri().path().to_string();
    let conn = req
        .extensions()
        .get::<ConnectInfo<Conn>>()
        .map(|c| c.0.clone());
    let idempotency_key = if method == "POST" {
        header(req.headers(), "idempotency-key")
    } else {
        None
    };
    let mut seen = SeenRequest {
        method,
        path,
        idempotency_key,
        params: Params::new(),
        replayed: false,
        status: 0,
    };
    let bearer = format!("Bearer {}", StripeFake::SECRET);
    if header(req.headers(), "authorization").as_deref() != Some(bearer.as_str()) {
        let mut res = ApiError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_request_error",
            "Invalid API Key provided",
        )
        .into_response();
        res.headers_mut().insert(
            "www-authenticate",
            HeaderValue::from_static("Bearer realm=\"Stripe\""),
        );
        return s.answer(seen, res);
    }

    let (parts, body) = req.into_parts();
    let params = match read_params(&parts, body).await {
        Ok(p) => p,
        Err(e) => return s.answer(seen, e.into_response()),
    };
    seen.params = params.clone();
    let fault = s.take_fault(&seen.method, &seen.path);
    if let Some(FaultKind::Fail {
        status,
        should_retry,
    }) = fault
    {
        return s.answer(seen, injected(status, should_retry));
    }

    let ctx = Ctx {
        params: params.clone(),
        idempotency_key: seen.idempotency_key.clone(),
    };
    let run = |delay: Option<FaultKind>| async move {
        if let Some(FaultKind::Delay(d)) = delay {
            tokio::time::sleep(d).await;
        }
        let mut req = Request::from_parts(parts, Body::empty());
        req.extensions_mut().insert(ctx);
        let res = next.run(req).await;
        let executed = res.extensions().get::<Executed>().is_some();
        let (res_parts, body) = res.into_parts();
        let bytes = to_bytes(body, usize::MAX).await.unwrap_or_default();
        (res_parts.status, bytes, executed)
    };
    let request_id = new_id("req");
    let mut res = match seen.idempotency_key.clone() {
        None => {
            let (status, body, _) = run(fault).await;
            json_response(status, body)
        }
        Some(key) if key.len() > MAX_KEY_LEN => ApiError::invalid(format!(
            "Invalid idempotency key: keys can be at most {MAX_KEY_LEN} characters long."
        ))
        .into_response(),
        Some(key) => {
            let fingerprint = Fingerprint {
                method: seen.method.clone(),
                path: seen.path.clone(),
                params,
            };
            match s.idempotency.begin(StripeFake::SECRET, &key, fingerprint) {
                Begin::Replay(saved) => {
                    seen.replayed = true;
                    let mut res = json_response(
                        StatusCode::from_u16(saved.status).expect("saved"),
                        saved.body,
                    );
                    let h = res.headers_mut();
                    h.insert("idempotent-replayed", HeaderValue::from_static("true"));
                    if let Ok(v) = HeaderValue::from_str(&saved.request_id) {
                        h.insert("original-request", v);
                    }
                    res
                }
                Begin::Mismatch => ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "idempotency_error",
                    format!(
                        "Keys for idempotent requests can only be used with the same parameters \
                         they were first used with. Try using a key other than '{key}' if you \
                         meant to execute a different request."
                    ),
                )
                .into_response(),
                Begin::InUse => ApiError::new(
                    StatusCode::CONFLICT,
                    "idempotency_error",
                    "There is currently another in-progress request using this \
                     Idempotent Key (that probably means you submitted twice, and \
                     the other request is still going through): please try again later.",
                )
                .code("idempotency_key_in_use")
                .into_response(),
                Begin::Fresh(claim) => {
                    let (status, body, executed) = run(fault).await;
                    if executed {
                        claim.save(Saved {
                            status: status.as_u16(),
                            body: body.clone(),
                            request_id: request_id.clone(),
                        });
                    }
                    json_response(status, body)
                }
            }
        }
    };
    if let Some(key) = seen.idempotency_key.as_deref() {
        if let Ok(v) = HeaderValue::from_str(key) {
            res.headers_mut().insert("idempotency-key", v);
        }
    }
    set_request_id(&mut res, &request_id);
    let res = s.answer(seen, res);
    match fault {
        Some(FaultKind::Hang(d)) => tokio::time::sleep(d).await,
        Some(FaultKind::Drop) => {
            if let Some(conn) = conn {
                conn.cut();
            }
        }
        _ => {}
    }
    res
}

impl Shared {
    /// Logs the request with the status it gets, and stamps a `Request-Id`.
    fn answer(&self, mut seen: SeenRequest, mut res: Response) -> Response {
        seen.status = res.status().as_u16();
        self.seen.lock().expect("seen").push(seen);
        if !res.headers().contains_key("request-id") {
            set_request_id(&mut res, &new_id("req"));
        }
        res
    }
}

async fn read_params(parts: &axum::http::request::Parts, body: Body) -> Result<Params, ApiError> {
    let bytes = to_bytes(body, MAX_BODY)
        .await
        .map_err(|_| ApiError::invalid("Invalid request: the body could not be read."))?;
    if parts.method == axum::http::Method::GET {
        let query = parts.uri.query().unwrap_or("");
        return parse_form(query.as_bytes())
            .map_err(|e| ApiError::invalid(format!("Invalid query string: {e}")));
    }
    let form = header(&parts.headers, "content-type")
        .is_some_and(|c| c.starts_with("application/x-www-form-urlencoded"));
    if !bytes.is_empty() && !form {
        return Err(ApiError::invalid(
            "Invalid request: Stripe's API takes application/x-www-form-urlencoded bodies.",
        ));
    }
    parse_form(&bytes).map_err(|e| ApiError::invalid(format!("Invalid request body: {e}")))
}

/// The answer of a `fail_next` fault: Stripe's generic server-side error.
fn injected(status: u16, should_retry: Option<bool>) -> Response {
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let message = match status {
        429 => "Request rate limit exceeded. Learn more about rate limits here: https://stripe.com/docs/rate-limits.",
        503 => "Stripe is temporarily unavailable. Please try again in a few moments.",
        _ => "An unknown error occurred",
    };
    let mut e = ApiError::new(code, "api_error", message);
    if status == 429 {
        e = e.code("rate_limit");
    }
    let mut res = e.into_response();
    if let Some(retry) = should_retry {
        res.headers_mut().insert(
            "stripe-should-retry",
            HeaderValue::from_static(if retry { "true" } else { "false" }),
        );
    }
    res
}

fn json_response(status: StatusCode, body: axum::body::Bytes) -> Response {
    let mut res = (status, body).into_response();
    res.headers_mut()
        .insert("content-type", HeaderValue::from_static("application/json"));
    res
}

fn set_request_id(res: &mut Response, id: &str) {
    if let Ok(v) = HeaderValue::from_str(id) {
        res.headers_mut().insert("request-id", v);
    }
}

fn header(h: &HeaderMap, name: &str) -> Option<String> {
    h.get(name).and_then(|v| v.to_str().ok()).map(String::from)
}

/// Stripe's answer to a path or method it does not serve.
pub async fn unrecognized(req: Request) -> ApiError {
    let mut e = ApiError::invalid(format!(
        "Unrecognized request URL ({}: {}). Please see https://stripe.com/docs or we can help at https://support.stripe.com/.",
        req.method(),
        req.uri().path()
    ));
    e.status = StatusCode::NOT_FOUND;
    e
}
