//! `/v1/notifications`: send one message or a fan-out (each recipient with its
//! own dedup key: repeating a request never sends twice), read one, list with
//! filters. Rows are the outbox (`jobs::kinds::notify`); another tenant's id is
//! the same 404 as a missing one. Settings, templates and opt-outs are in
//! `notification_settings.rs`; provider callbacks in `callbacks.rs`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};
use uuid::Uuid;

use jobs::kinds::notify::model::{RecipientSpec, WhatsAppTemplate};
use jobs::kinds::notify::outbox::{self, EnqueueError};
use jobs::kinds::notify::{sql, ChannelName, MessageSpec, Notification, NotificationRequest};

use crate::auth::{Scope, Tenant};
use crate::error::ApiError;
use crate::extract::{AppJson, AppQuery};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/notifications", get(list).post(create))
        .route("/v1/notifications/{id}", get(show))
}

/// This file's part of the OpenAPI document, with the settings and callbacks parts.
#[derive(OpenApi)]
#[openapi(
    paths(create, show, list),
    components(schemas(NotificationRequest, MessageSpec, RecipientSpec, WhatsAppTemplate, ChannelName,
        Notification, Accepted, AcceptedRow, NotificationList, jobs::channels::Attachment)),
    tags((name = "notifications", description = "email, push, SMS, WhatsApp and webhooks, sent once"))
)]
pub struct NotificationsApi;

/// One row of a `POST` answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct AcceptedRow {
    pub id: Uuid,
    pub dedup_key: String,
    pub recipient: String,
    pub status: String,
    /// false: this dedup key was seen before; nothing new was queued.
    pub created: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Accepted {
    pub notifications: Vec<AcceptedRow>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NotificationList {
    pub notifications: Vec<Notification>,
}

/// Filters of the listing.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// queued | sending | sent | delivered | read | failed | suppressed | unknown
    pub status: Option<String>,
    pub channel: Option<String>,
    pub recipient: Option<String>,
    /// RFC 3339; rows created at or after.
    pub since: Option<DateTime<Utc>>,
    /// 1-500, default 100.
    pub limit: Option<i64>,
}

const STATUSES: [&str; 8] = [
    "queued",
    "sending",
    "sent",
    "delivered",
    "read",
    "failed",
    "suppressed",
    "unknown",
];

fn not_found(id: &str) -> ApiError {
    ApiError::not_found("notification_not_found", format!("no notification {id}"))
}

/// Queue one message, or a fan-out to `recipients`.
#[utoipa::path(post, path = "/v1/notifications", tag = "notifications", security(("bearer" = [])),
    request_body = NotificationRequest,
    responses(
        (status = 202, description = "rows (new or already known by dedup key)", body = Accepted),
        (status = 400, description = "malformed JSON", body = crate::error::ErrorBody),
        (status = 422, description = "bad field; `details.field` names it", body = crate::error::ErrorBody),
    ))]
pub async fn create(
    State(st): State<AppState>,
    tenant: Tenant,
    headers: axum::http::HeaderMap,
    AppJson(req): AppJson<NotificationRequest>,
) -> Result<(StatusCode, Json<Accepted>), ApiError> {
    tenant.require(Scope::JobsWrite)?;
    // The send jobs continue the request's trace, like `POST /v1/jobs/{kind}`.
    let trace = crate::traceparent::from_headers(&headers);
    let rows = jobs::engine::trace::scope(
        Some(trace),
        outbox::enqueue(&st.pool, &st.engine, tenant.id, &req),
    )
    .await
    .map_err(|e| match e {
        EnqueueError::Invalid(f) => {
            ApiError::invalid_field("invalid_notification", &f.path, f.message)
        }
        EnqueueError::Db(e) => e.into(),
        EnqueueError::Engine(e) => e.into(),
    })?;
    let created = rows.iter().filter(|r| r.created).count();
    tracing::info!(tenant_id = %tenant.id, channel = req.channel.as_str(), rows = rows.len(), created, "notifications queued");
    let notifications = rows
        .into_iter()
        .map(|e| AcceptedRow {
            id: e.row.id,
            dedup_key: e.row.dedup_key,
            recipient: e.row.recipient,
            status: e.row.status,
            created: e.created,
        })
        .collect();
    Ok((StatusCode::ACCEPTED, Json(Accepted { notifications })))
}

/// One notification and where it is (status, provider id, attempts, last error).
#[utoipa::path(get, path = "/v1/notifications/{id}", tag = "notifications", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = Notification), (status = 404, body = crate::error::ErrorBody)))]
pub async fn show(
    State(st): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
) -> Result<Json<Notification>, ApiError> {
    tenant.require(Scope::JobsRead)?;
    let uuid: Uuid = id.parse().map_err(|_| not_found(&id))?;
    let row = sql::get(&st.pool, tenant.id, uuid)
        .await?
        .ok_or_else(|| not_found(&id))?;
    Ok(Json(row))
}

/// The caller's notifications, newest first.
#[utoipa::path(get, path = "/v1/notifications", tag = "notifications", security(("bearer" = [])),
    params(ListQuery),
    responses((status = 200, body = NotificationList), (status = 422, body = crate::error::ErrorBody)))]
pub async fn list(
    State(st): State<AppState>,
    tenant: Tenant,
    AppQuery(q): AppQuery<ListQuery>,
) -> Result<Json<NotificationList>, ApiError> {
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
    if let Some(c) = &q.channel {
        if ChannelName::parse(c).is_none() {
            return Err(ApiError::invalid_field(
                "invalid_query",
                "channel",
                "one of email, push, sms, whatsapp, webhook",
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
    let f = sql::ListFilter {
        status: q.status,
        channel: q.channel,
        recipient: q.recipient,
        since: q.since,
        limit,
    };
    let notifications = sql::list(&st.pool, tenant.id, &f).await?;
    Ok(Json(NotificationList { notifications }))
}
