//! `/v1/events`: booking and tutoring events over HTTP, for products that do
//! not publish to a Redis Stream (same envelope as a stream entry). A batch
//! holds up to 1,000 events; it is checked whole first (a bad envelope is a
//! 422 naming `events[i].<field>`, and nothing is recorded), then each event
//! is recorded in its own transaction (`jobs::kinds::events::ingest`),
//! idempotent by its `id`. `GET /v1/bookings/{id}/reminders` shows what was planned.

use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::Utc;
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};

use jobs::kinds::events::envelope::{Metadata, MAX_BATCH};
use jobs::kinds::events::sql::{self, Reminder};
use jobs::kinds::events::{ingest, Envelope, Event, IngestError, Ingested, Source};

use crate::auth::{Scope, Tenant};
use crate::error::ApiError;
use crate::extract::AppJson;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/events", post(create))
        .route("/v1/bookings/{booking_id}/reminders", get(reminders))
}

#[derive(OpenApi)]
#[openapi(
    paths(create, reminders),
    components(schemas(EventBatch, Envelope, Metadata, Recorded, Ingested, ReminderList, Reminder)),
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
