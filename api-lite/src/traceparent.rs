//! The W3C `traceparent` of an intake request, stored on the jobs it enqueues
//! so the worker's job span continues the caller's trace (see
//! `jobs::engine::trace`).

use axum::http::HeaderMap;

/// The request's `traceparent` when valid, else a new root trace.
pub fn from_headers(headers: &HeaderMap) -> String {
    headers
        .get("traceparent")
        .and_then(|v| v.to_str().ok())
        .filter(|v| jobs::engine::trace::parse(v).is_some())
        .map(|v| v.trim().to_string())
        .unwrap_or_else(jobs::engine::trace::new_root)
}
