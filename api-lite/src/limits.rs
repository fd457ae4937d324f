//! Per-tenant intake limits (`[limits]`, README "Security"), enforced in Redis
//! so every replica counts the same:
//! - [`enforce`], a middleware on every route: authenticates a request that
//!   carries `Authorization: Bearer` (leaving the `Tenant` for the handler),
//!   takes one request from its key's and its tenant's GCRA buckets, and
//!   answers 429 `rate_limited` with `Retry-After` when either is empty.
//!   Every authenticated answer carries `RateLimit-Limit`, `RateLimit-Remaining`
//!   and `RateLimit-Reset` (draft-ietf-httpapi-ratelimit-headers-06: the
//!   bucket's burst, what is left, seconds until it is full again) of the
//!   tighter bucket. Requests without a valid credential pass through
//!   untouched (the handler answers 401).
//! - [`waiting_cap`]: the `max_waiting_per_queue` the enqueue routes hand to
//!   the engine's push script (over it: 429 `waiting_limit`, see `error.rs`).
//! - [`charge_upload`]: the daily upload bytes (over it: 429 `upload_quota_exceeded`).
//!
//! Rejections count in `tarefa_api_rejections_total{tenant,limit}`. When Redis
//! cannot answer the rate check the request goes through (logged): the limit
//! protects other tenants, it must not take the intake down with Redis.

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use chrono::{Duration, Utc};
use serde_json::json;

use jobs::engine::limits::{Rate, RateState};

use crate::auth::{authenticate, Tenant};
use crate::error::ApiError;
use crate::state::AppState;

/// Which limit refused a request (the `limit` label of the rejection counter).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Limit {
    KeyRate,
    TenantRate,
    Waiting,
    UploadBytes,
}

impl Limit {
    pub fn as_str(self) -> &'static str {
        match self {
            Limit::KeyRate => "key_rate",
            Limit::TenantRate => "tenant_rate",
            Limit::Waiting => "waiting_jobs",
            Limit::UploadBytes => "upload_bytes",
        }
    }
}

/// Counts one rejection in `tarefa_api_rejections_total{tenant,limit}`.
pub fn record_rejection(tenant: &str, limit: Limit) {
    metrics::counter!(
        "tarefa_api_rejections_total",
        "tenant" => tenant.to_string(),
        "limit" => limit.as_str()
    )
    .increment(1);
}

const RATELIMIT_LIMIT: HeaderName = HeaderName::from_static("ratelimit-limit");
const RATELIMIT_REMAINING: HeaderName = HeaderName::from_static("ratelimit-remaining");
const RATELIMIT_RESET: HeaderName = HeaderName::from_static("ratelimit-reset");

fn secs_ceil(ms: u64) -> u64 {
    ms.div_ceil(1000)
}

fn set_headers(headers: &mut HeaderMap, s: &RateState) {
    headers.insert(RATELIMIT_LIMIT, HeaderValue::from(s.burst));
    headers.insert(RATELIMIT_REMAINING, HeaderValue::from(s.remaining));
    headers.insert(RATELIMIT_RESET, HeaderValue::from(secs_ceil(s.reset_ms)));
}

/// The rate buckets of `tenant`'s credential (none when both rates are 0).
fn rates(st: &AppState, tenant: &Tenant) -> Vec<Rate> {
    let l = st.settings.limits.for_tenant(tenant.id);
    let mut out = Vec::with_capacity(2);
    if l.key_per_second > 0.0 {
        out.push(Rate {
            bucket: tenant.bucket(),
            per_second: l.key_per_second,
            burst: l.key_burst,
        });
    }
    if l.tenant_per_second > 0.0 {
        out.push(Rate {
            bucket: "t".into(),
            per_second: l.tenant_per_second,
            burst: l.tenant_burst,
        });
    }
    out
}

/// Middleware: rate limits per API key and per tenant (see the module doc).
pub async fn enforce(State(st): State<AppState>, req: Request, next: Next) -> Response {
    if !req.headers().contains_key(header::AUTHORIZATION) {
        return next.run(req).await;
    }
    let (mut parts, body) = req.into_parts();
    let Ok(tenant) = authenticate(&parts, &st).await else {
        return next.run(Request::from_parts(parts, body)).await;
    };
    parts.extensions.insert(tenant.clone());
    let req = Request::from_parts(parts, body);
    let rates = rates(&st, &tenant);
    if rates.is_empty() {
        return next.run(req).await;
    }
    let decision = match st.engine.rate(&tenant.key(), &rates).await {
        Ok(d) => d,
        Err(e) => {
            tracing::warn!(error = %e, tenant_id = %tenant.id, "rate limit unavailable; request let through");
            return next.run(req).await;
        }
    };
    let Some((bucket, state)) = decision.tightest().cloned() else {
        return next.run(req).await;
    };
    if !decision.allowed() {
        let (limit, who) = if bucket == "t" {
            (Limit::TenantRate, "this tenant")
        } else {
            (Limit::KeyRate, "this API key")
        };
        record_rejection(&tenant.key(), limit);
        let retry = secs_ceil(state.retry_after_ms).max(1);
        let mut res = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            format!(
                "{who} sent more than {} requests at once; retry in {retry} s",
                state.burst
            ),
        )
        .with_details(json!({ "limit": limit.as_str(), "retry_after_secs": retry }))
        .with_retry_after(retry)
        .into_response();
        set_headers(res.headers_mut(), &state);
        return res;
    }
    let mut res = next.run(req).await;
    set_headers(res.headers_mut(), &state);
    res
}

/// The ready jobs `tenant` may have waiting per queue (`None` = unlimited).
pub fn waiting_cap(st: &AppState, tenant: &Tenant) -> Option<u64> {
    Some(
        st.settings
            .limits
            .for_tenant(tenant.id)
            .max_waiting_per_queue,
    )
    .filter(|c| *c > 0)
}

/// Counts `bytes` against `tenant`'s uploads of the current UTC day; 429
/// `upload_quota_exceeded` (with `Retry-After` until midnight UTC) when they
/// would pass `upload_bytes_per_day`, and then nothing is counted.
pub async fn charge_upload(st: &AppState, tenant: &Tenant, bytes: u64) -> Result<(), ApiError> {
    let max = st
        .settings
        .limits
        .for_tenant(tenant.id)
        .upload_bytes_per_day;
    if max == 0 {
        return Ok(());
    }
    let now = Utc::now();
    let day = now.format("%Y%m%d").to_string();
    let q = st
        .engine
        .charge_quota(&tenant.key(), &day, bytes, max)
        .await?;
    if q.charged {
        return Ok(());
    }
    record_rejection(&tenant.key(), Limit::UploadBytes);
    let midnight = (now.date_naive() + Duration::days(1))
        .and_hms_opt(0, 0, 0)
        .map(|t| t.and_utc())
        .unwrap_or(now + Duration::days(1));
    let retry = (midnight - now).num_seconds().max(1) as u64;
    Err(ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "upload_quota_exceeded",
        format!(
            "this upload ({bytes} bytes) would pass the tenant's {max} bytes per day ({} used today, UTC); nothing was stored",
            q.used
        ),
    )
    .with_details(json!({ "limit": "upload_bytes_per_day", "max": max, "used": q.used, "requested": bytes }))
    .with_retry_after(retry))
}
