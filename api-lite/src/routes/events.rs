//! `/v1/events`: booking and tutoring events over HTTP, for products that do
//! not publish to a Redis Stream (same envelope as a stream entry). A batch
//! holds up to 1,000 events; it is checked whole first (a bad envelope is a
//! 422 naming `events[i].<field>`, and nothing is recorded), then each event
//! is recorded in its own transaction (`jobs::kinds::events::ingest`),
//! idempotent by its `id`. `GET /v1/bookings/{id}/reminders` shows what was planned,
//! `GET /v1/bookings/{id}/webhooks` the tenant webhook deliveries in order;
//! `/v1/events/dead-letters` lists the tenant's dead-lettered stream entries,
//! to retry (handle the raw entry again) or discard.

use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::Utc;
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};
use uuid::Uuid;

use jobs::kinds::events::admin::{self, RetryError};
use jobs::kinds::events::envelope::{Metadata, MAX_BATCH};
use jobs::kinds::events::sql::{self, DeadLetter, Reminder};
use jobs::kinds::events::webhook::{self, DeliveryView};
use jobs::kinds::events::{ingest, Envelope, Event, IngestError, Ingested, Source};

use crate::auth::{Scope, Tenant};
use crate::error::ApiError;
use crate::extract::AppJson;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/events", post(create))
        .route("/v1/bookings/{booking_id}/reminders", get(reminders))
        .route("/v1/bookings/{booking_id}/webhooks", get(webhooks))
        .route("/v1/events/dead-letters", get(dead_letters))
        .route("/v1/events/dead-letters/{id}/retry", post(retry))
        .route("/v1/events/dead-letters/{id}/discard", post(discard))
}

#[derive(OpenApi)]
#[openapi(
    paths(create, reminders, webhooks, dead_letters, retry, discard),
    components(schemas(EventBatch, Envelope, Metadata, Recorded, Ingested, ReminderList, Reminder,
        WebhookList, DeliveryView,
        DeadLetterList, DeadLetter)),
    tags((name = "events", description = "booking and session events; reminders planned from them"))
)]
pub struct EventsApi;

/// `POST /v1/events` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EventBatch {
    /// 1 to 1,000 envelopes; each needs its own `id`.
    pub events: Vec<Envelope>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Recorded {
    /// One per event, in request order (`outcome`: applied | stale | duplicate).
    pub results: Vec<Ingested>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReminderList {
    pub reminders: Vec<Reminder>,
}

fn invalid(field: String, message: impl Into<String>) -> ApiError {
    ApiError::new(
        axum::http::StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_event",
        message,
    )
    .with_details(serde_json::json!({ "field": field }))
}

/// Record events (idempotent by event id).
#[utoipa::path(post, path = "/v1/events", tag = "events", security(("bearer" = [])),
    request_body = EventBatch,
    responses(
        (status = 200, description = "every event recorded (or recognised as a repeat)", body = Recorded),
        (status = 400, description = "malformed JSON", body = crate::error::ErrorBody),
        (status = 422, description = "a bad envelope; `details.field` names it (`events[3].payload.start_time`); nothing recorded",
            body = crate::error::ErrorBody),
    ))]
pub async fn create(
    State(st): State<AppState>,
    tenant: Tenant,
    AppJson(batch): AppJson<EventBatch>,
) -> Result<Json<Recorded>, ApiError> {
    tenant.require(Scope::JobsWrite)?;
    if batch.events.is_empty() || batch.events.len() > MAX_BATCH {
        return Err(invalid(
            "events".into(),
            format!("give 1 to {MAX_BATCH} events"),
        ));
    }
    let mut parsed = Vec::with_capacity(batch.events.len());
    for (i, env) in batch.events.iter().enumerate() {
        if env.id.is_none() {
            return Err(invalid(
                format!("events[{i}].id"),
                "required: events are idempotent by id",
            ));
        }
        let event =
            Event::parse(env).map_err(|e| invalid(format!("events[{i}].{}", e.path), e.message))?;
        parsed.push(event);
    }
    let now = Utc::now();
    let mut results = Vec::with_capacity(parsed.len());
    for (i, (event, env)) in parsed.iter().zip(&batch.events).enumerate() {
        let raw = serde_json::to_value(env).unwrap_or_default();
        let source = Source {
            name: "http",
            entry_id: None,
        };
        match ingest(&st.pool, tenant.id, source, event, &raw, now).await {
            Ok(r) => {
                // Also for duplicates: a repeated batch repairs a webhook lost to a crash.
                jobs::kinds::events::ingest::publish(
                    &st.pool, &st.engine, tenant.id, event, &r, &raw,
                )
                .await
                .map_err(ApiError::internal)?;
                results.push(r)
            }
            Err(IngestError::Permanent(m)) => {
                return Err(
                    ApiError::new(axum::http::StatusCode::CONFLICT, "event_conflict", m)
                        .with_details(
                            serde_json::json!({ "field": format!("events[{i}]"), "recorded": i }),
                        ),
                )
            }
            Err(IngestError::Db(e)) => return Err(e.into()),
        }
    }
    Ok(Json(Recorded { results }))
}

/// Reminders planned for one booking or session (every version, with status).
#[utoipa::path(get, path = "/v1/bookings/{booking_id}/reminders", tag = "events", security(("bearer" = [])),
    params(("booking_id" = String, Path, description = "the product's booking or session id")),
    responses((status = 200, body = ReminderList)))]
pub async fn reminders(
    State(st): State<AppState>,
    tenant: Tenant,
    Path(booking_id): Path<String>,
) -> Result<Json<ReminderList>, ApiError> {
    tenant.require(Scope::JobsRead)?;
    let reminders = sql::reminders_of(&st.pool, tenant.id, &booking_id).await?;
    Ok(Json(ReminderList { reminders }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookList {
    /// In sequence order: one in flight (`released`) at a time per booking.
    pub deliveries: Vec<DeliveryView>,
}

/// Tenant webhook deliveries for one booking or session, in order, with the
/// outbox row's status, attempts and last error.
#[utoipa::path(get, path = "/v1/bookings/{booking_id}/webhooks", tag = "events", security(("bearer" = [])),
    params(("booking_id" = String, Path, description = "the product's booking or session id")),
    responses((status = 200, body = WebhookList)))]
pub async fn webhooks(
    State(st): State<AppState>,
    tenant: Tenant,
    Path(booking_id): Path<String>,
) -> Result<Json<WebhookList>, ApiError> {
    tenant.require(Scope::JobsRead)?;
    let deliveries = webhook::deliveries_of(&st.pool, tenant.id, &booking_id).await?;
    Ok(Json(WebhookList { deliveries }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeadLetterList {
    pub dead_letters: Vec<DeadLetter>,
}

fn letter_not_found(id: Uuid) -> ApiError {
    ApiError::not_found("dead_letter_not_found", format!("no open dead letter {id}"))
}

/// Open dead letters of this tenant's streams (entries naming no known tenant are in the console).
#[utoipa::path(get, path = "/v1/events/dead-letters", tag = "events", security(("bearer" = [])),
    responses((status = 200, body = DeadLetterList)))]
pub async fn dead_letters(
    State(st): State<AppState>,
    tenant: Tenant,
) -> Result<Json<DeadLetterList>, ApiError> {
    tenant.require(Scope::JobsRead)?;
    Ok(Json(DeadLetterList {
        dead_letters: admin::dead_letters(&st.pool, Some(tenant.id)).await?,
    }))
}

/// The stream's `source` (its tenant-id namespace), from `scheduler.streams`.
pub fn source_of(st: &AppState, stream: &str) -> String {
    st.settings
        .scheduler
        .streams
        .iter()
        .find(|s| s.key == stream)
        .map_or_else(
            || jobs::config::StreamSettings::default().source,
            |s| s.source.clone(),
        )
}

/// Handle the entry again; 422 (with the reason) when it still cannot be.
#[utoipa::path(post, path = "/v1/events/dead-letters/{id}/retry", tag = "events", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = Ingested), (status = 404, body = crate::error::ErrorBody),
        (status = 422, description = "still cannot be handled", body = crate::error::ErrorBody)))]
pub async fn retry(
    State(st): State<AppState>,
    tenant: Tenant,
    Path(id): Path<Uuid>,
) -> Result<Json<Ingested>, ApiError> {
    tenant.require(Scope::Admin)?;
    let stream: Option<String> =
        sqlx::query_scalar("select stream from event_dead_letters where id = $1")
            .bind(id)
            .fetch_optional(&st.pool)
            .await?;
    let source = source_of(&st, stream.as_deref().unwrap_or_default());
    match admin::retry_dead_letter(&st.pool, &st.engine, Some(tenant.id), id, &source).await {
        Ok(r) => Ok(Json(r)),
        Err(RetryError::NotFound(_)) => Err(letter_not_found(id)),
        Err(RetryError::Still(why)) => Err(ApiError::new(
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            "still_failing",
            why,
        )),
        Err(e) => Err(ApiError::internal(e)),
    }
}

/// Close it without handling.
#[utoipa::path(post, path = "/v1/events/dead-letters/{id}/discard", tag = "events", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 204), (status = 404, body = crate::error::ErrorBody)))]
pub async fn discard(
    State(st): State<AppState>,
    tenant: Tenant,
    Path(id): Path<Uuid>,
) -> Result<axum::http::StatusCode, ApiError> {
    tenant.require(Scope::Admin)?;
    if admin::discard_dead_letter(&st.pool, Some(tenant.id), id).await? {
        Ok(axum::http::StatusCode::NO_CONTENT)
    } else {
        Err(letter_not_found(id))
    }
}
