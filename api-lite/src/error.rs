//! `ApiError`: every failure the intake answers, as `{error, message, details}`
//! with a stable `code()`. 5xx answers hide their cause: it travels in the
//! response extensions to [`log_server_errors`], which logs it.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use jobs::engine::EngineError;

/// An error answer; build with the helpers, return with `?`.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub details: Value,
    /// Logged, never sent (5xx only).
    cause: Option<String>,
    /// Sent as `Retry-After` (seconds): rate limits and quotas.
    retry_after: Option<u64>,
}

/// The hidden cause of a 5xx, for the logging middleware.
#[derive(Clone, Debug)]
pub struct ErrorCause(pub String);

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
            details: Value::Null,
            cause: None,
            retry_after: None,
        }
    }

    /// Adds `Retry-After: <secs>` to the answer.
    pub fn with_retry_after(mut self, secs: u64) -> ApiError {
        self.retry_after = Some(secs);
        self
    }

    pub fn with_details(mut self, details: Value) -> ApiError {
        self.details = details;
        self
    }

    pub fn status(&self) -> StatusCode {
        self.status
    }

    pub fn code(&self) -> &'static str {
        self.code
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn unauthorized(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, code, message)
    }

    pub fn not_found(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, code, message)
    }

    pub fn conflict(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::CONFLICT, code, message)
    }

    /// 422 naming the offending field (`payload.ms`, `delay_ms`).
    pub fn invalid_field(code: &'static str, field: &str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, message)
            .with_details(json!({ "field": field }))
    }

    /// The same 404 for "no such job" and "another tenant's job": ids leak nothing.
    pub fn job_not_found(id: &str) -> ApiError {
        ApiError::not_found("job_not_found", format!("no job {id}"))
    }

    /// A 5xx whose cause is logged, not shown.
    pub fn internal(cause: impl std::fmt::Display) -> ApiError {
        let mut e = ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal error",
        );
        e.cause = Some(cause.to_string());
        e
    }

    pub fn unavailable(what: &str, cause: impl std::fmt::Display) -> ApiError {
        let mut e = ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            format!("{what} is unavailable"),
        );
        e.cause = Some(cause.to_string());
        e
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.status.as_u16(),
            self.code,
            self.message
        )
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> ApiError {
        match e {
            sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) => ApiError::unavailable("postgres", e),
            e => ApiError::internal(format!("postgres: {e}")),
        }
    }
}

impl From<EngineError> for ApiError {
    fn from(e: EngineError) -> ApiError {
        match e {
            EngineError::Invalid(msg) => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_job", msg)
            }
            EngineError::Redis(e) => ApiError::unavailable("redis", e),
            // `engine.durability = "replicated"`: the write is on the master,
            // unconfirmed by any replica; the caller decides (retry with the same key).
            EngineError::NotReplicated { queue, waited_ms } => {
                let mut e = ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "not_replicated",
                    format!(
                        "no Redis replica confirmed the write to queue {queue} within {waited_ms} ms; \
                         it may not survive a failover: retry with the same Idempotency-Key"
                    ),
                )
                .with_details(json!({ "queue": queue, "waited_ms": waited_ms }));
                e.retry_after = Some(1);
                e
            }
            // A sealed kind whose tenant's data key cannot be had (database down): nothing was enqueued.
            EngineError::Cipher(e) => ApiError::unavailable("encryption keys", e),
            EngineError::WaitingLimit {
                queue,
                tenant,
                waiting,
                limit,
            } => {
                crate::limits::record_rejection(&tenant, crate::limits::Limit::Waiting);
                ApiError::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "waiting_limit",
                    format!(
                        "{waiting} of your jobs already wait in queue {queue} (limit {limit}); nothing was enqueued"
                    ),
                )
                .with_details(json!({ "queue": queue, "waiting": waiting, "limit": limit }))
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({ "error": self.code, "message": self.message, "details": self.details });
        let mut res = (self.status, Json(body)).into_response();
        if let Some(secs) = self.retry_after {
            res.headers_mut()
                .insert(axum::http::header::RETRY_AFTER, secs.into());
        }
        if let Some(cause) = self.cause {
            res.extensions_mut().insert(ErrorCause(cause));
        }
        res
    }
}

/// Middleware (`map_response`): logs the hidden cause of every 5xx.
pub async fn log_server_errors(res: Response) -> Response {
    if let Some(ErrorCause(cause)) = res.extensions().get::<ErrorCause>() {
        tracing::error!(status = res.status().as_u16(), %cause, "request failed");
    }
    res
}

/// The error body, for the OpenAPI document.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// Stable machine code: `unknown_kind`, `invalid_payload`, `token_expired`, ...
    pub error: String,
    pub message: String,
    /// Code-specific; `{"field": "payload.ms"}` for 422s.
    pub details: Value,
}
