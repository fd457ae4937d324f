//! `/v1/payments`: charge (one `payments.charge` job per payment, exactly one
//! charge at the provider), read with its provider calls and refunds, list,
//! refund; and `POST /v1/callbacks/stripe`, the provider's signed events.
//! The logic is `jobs::kinds::payments`; this file maps HTTP to it. Another
//! tenant's payment is the same 404 as a missing one.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, OpenApi, ToSchema};
use uuid::Uuid;

use jobs::kinds::payments::events::{self, Handled};
use jobs::kinds::payments::{
    self, sql, Payment, PaymentAttempt, PaymentRefund, PaymentRequest, RefundRequest,
};
use jobs::store::scope;

use crate::auth::{Scope, Tenant};
use crate::enqueue::check_idempotency_key;
use crate::error::ApiError;
use crate::extract::{AppJson, AppQuery};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/payments", get(list).post(create))
        .route("/v1/payments/{id}", get(show))
        .route("/v1/payments/{id}/refunds", post(refund))
        .route("/v1/callbacks/stripe", post(stripe_event))
}

#[derive(OpenApi)]
#[openapi(
    paths(create, show, list, refund, stripe_event),
    components(schemas(PaymentRequest, RefundRequest, Payment, PaymentAttempt, PaymentRefund, PaymentDetail, PaymentList)),
    tags((name = "payments", description = "charges and refunds through a Stripe-compatible provider, exactly once"))
)]
pub struct PaymentsApi;

/// A payment with its provider calls and refunds.
#[derive(Debug, Serialize, ToSchema)]
pub struct PaymentDetail {
    #[serde(flatten)]
    pub payment: Payment,
    pub provider_calls: Vec<PaymentAttempt>,
    pub refunds: Vec<PaymentRefund>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PaymentList {
    pub payments: Vec<Payment>,
    /// Pass as `before` for the next (older) page; absent at the end.
    pub next_before: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// pending | requires_action | processing | succeeded | failed | partially_refunded | refunded | needs_review
    pub status: Option<String>,
    /// The product's reference (e.g. a session id).
    pub reference: Option<String>,
    /// RFC 3339; payments created at or after.
    pub since: Option<DateTime<Utc>>,
    /// The `next_before` of the previous page.
    pub before: Option<String>,
    /// 1-500, default 100.
    pub limit: Option<i64>,
}

const STATUSES: [&str; 8] = [
    "pending",
    "requires_action",
    "processing",
    "succeeded",
    "failed",
    "partially_refunded",
    "refunded",
    "needs_review",
];

fn not_found(id: &str) -> ApiError {
    ApiError::not_found("payment_not_found", format!("no payment {id}"))
}

fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(v) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    let key = v
        .to_str()
        .map_err(|_| {
            ApiError::bad_request(
                "invalid_idempotency_key",
                "idempotency key must be printable ASCII",
            )
        })?
        .to_string();
    check_idempotency_key(&key)?;
    Ok(Some(key))
}

/// Charge: writes the payment (`pending`) and queues its charge.
#[utoipa::path(post, path = "/v1/payments", tag = "payments", security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "the same key with the same request returns the first payment (200); with another request, 409")),
    request_body = PaymentRequest,
    responses(
        (status = 202, description = "accepted: the payment, pending, with its charge job", body = Payment),
        (status = 200, description = "idempotent replay: the first payment as it is now", body = Payment),
        (status = 400, description = "malformed JSON or key", body = crate::error::ErrorBody),
        (status = 409, description = "the idempotency key was used with another request", body = crate::error::ErrorBody),
        (status = 422, description = "bad field (amount not integer cents, over the maximum, …); `details.field` names it", body = crate::error::ErrorBody),
    ))]
pub async fn create(
    State(st): State<AppState>,
    tenant: Tenant,
    headers: HeaderMap,
    AppJson(req): AppJson<PaymentRequest>,
) -> Result<(StatusCode, Json<Payment>), ApiError> {
    tenant.require(Scope::JobsWrite)?;
    let key = idempotency_key(&headers)?;
    let trace = crate::traceparent::from_headers(&headers);
    let r = payments::submit(
        &st.pool,
        &st.engine,
        &st.settings.payments,
        tenant.id,
        key.as_deref(),
        &req,
        Some(trace),
    )
    .await
    .map_err(|e| match e {
        payments::SubmitError::Invalid(f) => {
            ApiError::invalid_field("invalid_payment", &f.path, f.message)
        }
        payments::SubmitError::KeyReused(first) => ApiError::conflict(
            "idempotency_key_reused",
            "this Idempotency-Key was used with another request",
        )
        .with_details(json!({ "payment_id": first })),
        payments::SubmitError::Db(e) => e.into(),
        payments::SubmitError::Engine(e) => e.into(),
    })?;
    Ok(match r {
        payments::Submitted::Created(p) => {
            tracing::info!(tenant_id = %tenant.id, payment_id = %p.id, amount_cents = p.amount_cents, "payment accepted");
            (StatusCode::ACCEPTED, Json(p))
        }
        payments::Submitted::Replayed(p) => (StatusCode::OK, Json(p)),
    })
}

/// One payment with its provider calls and refunds.
#[utoipa::path(get, path = "/v1/payments/{id}", tag = "payments", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = PaymentDetail), (status = 404, body = crate::error::ErrorBody)))]
pub async fn show(
    State(st): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
) -> Result<Json<PaymentDetail>, ApiError> {
    tenant.require(Scope::JobsRead)?;
    let uuid: Uuid = id.parse().map_err(|_| not_found(&id))?;
    let payment = sql::get(&st.pool, tenant.id, uuid)
        .await?
        .ok_or_else(|| not_found(&id))?;
    let provider_calls = sql::attempts(&st.pool, uuid).await?;
    let refunds = sql::refunds(&st.pool, uuid).await?;
    Ok(Json(PaymentDetail {
        payment,
        provider_calls,
        refunds,
    }))
}

/// The caller's payments, newest first.
#[utoipa::path(get, path = "/v1/payments", tag = "payments", security(("bearer" = [])),
    params(ListQuery),
    responses((status = 200, body = PaymentList), (status = 422, body = crate::error::ErrorBody)))]
pub async fn list(
    State(st): State<AppState>,
    tenant: Tenant,
    AppQuery(q): AppQuery<ListQuery>,
) -> Result<Json<PaymentList>, ApiError> {
    tenant.require(Scope::JobsRead)?;
    if let Some(s) = &q.status {
        if !STATUSES.contains(&s.as_str()) {
            return Err(ApiError::invalid_field(
                "invalid_query",
                "status",
                format!("one of {}", STATUSES.join(", ")),
            ));
        }
    }
    let limit = q.limit.unwrap_or(100);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::invalid_field(
            "invalid_query",
            "limit",
            "between 1 and 500",
        ));
    }
    let before = match &q.before {
        None => None,
        Some(c) => Some(decode_cursor(c).ok_or_else(|| {
            ApiError::invalid_field("invalid_query", "before", "not a cursor from next_before")
        })?),
    };
    let f = sql::ListFilter {
        status: q.status,
        reference: q.reference,
        since: q.since,
        before,
        limit,
    };
    let payments = sql::list(&st.pool, tenant.id, &f).await?;
    let next_before = (payments.len() as i64 == limit)
        .then(|| {
            payments
                .last()
                .map(|p| format!("{}_{}", p.created_at.timestamp_micros(), p.id))
        })
        .flatten();
    Ok(Json(PaymentList {
        payments,
        next_before,
    }))
}

fn decode_cursor(c: &str) -> Option<(DateTime<Utc>, Uuid)> {
    let (micros, id) = c.split_once('_')?;
    Some((
        DateTime::from_timestamp_micros(micros.parse().ok()?)?,
        id.parse().ok()?,
    ))
}

/// Refund all or part of a succeeded payment (never more than is left).
#[utoipa::path(post, path = "/v1/payments/{id}/refunds", tag = "payments", security(("bearer" = [])),
    params(("id" = String, Path),
        ("Idempotency-Key" = Option<String>, Header, description = "the same key returns the first refund")),
    request_body = RefundRequest,
    responses(
        (status = 202, description = "the refund, pending, with its job", body = PaymentRefund),
        (status = 200, description = "idempotent replay", body = PaymentRefund),
        (status = 404, body = crate::error::ErrorBody),
        (status = 409, description = "the payment has not succeeded, or the key was used for another refund", body = crate::error::ErrorBody),
        (status = 422, description = "bad amount or reason, or more than is left (`details.left`)", body = crate::error::ErrorBody),
    ))]
pub async fn refund(
    State(st): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
    headers: HeaderMap,
    AppJson(req): AppJson<RefundRequest>,
) -> Result<(StatusCode, Json<PaymentRefund>), ApiError> {
    tenant.require(Scope::JobsWrite)?;
    let key = idempotency_key(&headers)?;
    let uuid: Uuid = id.parse().map_err(|_| not_found(&id))?;
    let r = payments::submit_refund(
        &st.pool,
        &st.engine,
        &st.settings.payments,
        tenant.id,
        uuid,
        key.as_deref(),
        &req,
    )
    .await
    .map_err(|e| match e {
        payments::RefundError::Invalid(f) => {
            ApiError::invalid_field("invalid_refund", &f.path, f.message)
        }
        payments::RefundError::NotFound => not_found(&id),
        payments::RefundError::Refused(sql::RefundRefused::TooMuch { left }) => {
            ApiError::invalid_field(
                "refund_exceeds_payment",
                "amount",
                format!("at most {left} cents are left to refund"),
            )
            .with_details(json!({ "field": "amount", "left": left }))
        }
        payments::RefundError::Refused(sql::RefundRefused::NotPaid(status)) => ApiError::conflict(
            "payment_not_refundable",
            format!("the payment is {status}; only a succeeded payment can be refunded"),
        ),
        payments::RefundError::Refused(sql::RefundRefused::KeyMismatch) => ApiError::conflict(
            "idempotency_key_reused",
            "this Idempotency-Key was used for another refund",
        ),
        payments::RefundError::Refused(sql::RefundRefused::Db(e))
        | payments::RefundError::Db(e) => e.into(),
        payments::RefundError::Engine(e) => e.into(),
    })?;
    let status = if r.1 {
        StatusCode::ACCEPTED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(r.0)))
}

/// The provider's signed events (`Stripe-Signature`). Each is applied once,
/// moving its payment forward only.
#[utoipa::path(post, path = "/v1/callbacks/stripe", tag = "callbacks",
    request_body(content = Object, content_type = "application/json", description = "a Stripe Event"),
    responses((status = 200, description = "recorded (or a duplicate)"), (status = 400, body = crate::error::ErrorBody),
        (status = 401, description = "missing, forged or stale signature", body = crate::error::ErrorBody)))]
pub async fn stripe_event(
    State(st): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<serde_json::Value>, ApiError> {
    let sig = headers
        .get("stripe-signature")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| ApiError::unauthorized("invalid_signature", "no Stripe-Signature header"))?;
    events::verify(&st.settings.payments, sig, &body, Utc::now().timestamp()).map_err(|why| {
        tracing::warn!(reason = %why, "stripe event refused");
        ApiError::unauthorized("invalid_signature", "signature does not match, or is stale")
    })?;
    // Stripe's events name their payment, not a tenant: matched across tenants.
    let handled = scope::as_system(events::handle(&st.pool, &st.engine, &body))
        .await
        .map_err(|e| match e {
            events::EventError::Malformed(m) => ApiError::bad_request("invalid_event", m),
            other => ApiError::internal(other),
        })?;
    Ok(Json(match handled {
        Handled::Duplicate => json!({ "received": true, "duplicate": true }),
        Handled::Applied {
            payment,
            status,
            moved,
        } => {
            json!({ "received": true, "payment_id": payment, "status": status, "moved": moved })
        }
        Handled::Ignored(why) => json!({ "received": true, "ignored": why }),
    }))
}
