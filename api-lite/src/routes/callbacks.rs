//! Provider status callbacks, authenticated by the provider's signature (not
//! by a tenant credential): they move outbox rows forward (sent → delivered →
//! read, or failed), found by the provider's message id.
//!
//! - `GET /v1/callbacks/whatsapp`: Meta's subscription handshake
//!   (`hub.mode=subscribe`, `hub.verify_token`, echo `hub.challenge`).
//! - `POST /v1/callbacks/whatsapp`: `statuses[]`, `X-Hub-Signature-256` over
//!   the raw body with `notifications.whatsapp_app_secret`.
//! - `POST /v1/callbacks/twilio`: form `MessageSid`/`MessageStatus`,
//!   `X-Twilio-Signature` over `public_base_url` + path + sorted params, with
//!   the auth token of the tenant channel using that `AccountSid`.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::json;
use utoipa::OpenApi;

use jobs::channels::{sms, whatsapp};
use jobs::kinds::campaigns::inbound;
use jobs::kinds::notify::sql;

use crate::error::ApiError;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/v1/callbacks/whatsapp",
            get(whatsapp_handshake).post(whatsapp_statuses),
        )
        .route("/v1/callbacks/twilio", post(twilio_status))
}

#[derive(OpenApi)]
#[openapi(paths(whatsapp_handshake, whatsapp_statuses, twilio_status), tags((name = "callbacks", description = "provider delivery receipts")))]
pub struct CallbacksApi;

fn bad_signature() -> ApiError {
    ApiError::unauthorized("invalid_signature", "signature does not match")
}

/// Meta's `hub.challenge` handshake.
#[utoipa::path(get, path = "/v1/callbacks/whatsapp", tag = "callbacks",
    responses((status = 200, description = "the challenge, echoed"), (status = 403, body = crate::error::ErrorBody)))]
pub async fn whatsapp_handshake(
    State(st): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<String, ApiError> {
    let expected = st.settings.notifications.whatsapp_verify_token.as_deref();
    let given = q.get("hub.verify_token").map(String::as_str);
    if q.get("hub.mode").map(String::as_str) != Some("subscribe")
        || expected.is_none()
        || given != expected
    {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "verification_failed",
            "bad hub.mode or hub.verify_token",
        ));
    }
    Ok(q.get("hub.challenge").cloned().unwrap_or_default())
}

/// Delivery statuses from the WhatsApp Cloud API.
#[utoipa::path(post, path = "/v1/callbacks/whatsapp", tag = "callbacks",
    request_body(content = Object, content_type = "application/json", description = "Meta webhook payload with `statuses[]`"),
    responses((status = 200, description = "rows updated"), (status = 401, body = crate::error::ErrorBody)))]
pub async fn whatsapp_statuses(
    State(st): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<serde_json::Value>, ApiError> {
    let secret = st
        .settings
        .notifications
        .whatsapp_app_secret
        .as_deref()
        .ok_or_else(|| {
            ApiError::not_found(
                "callbacks_not_configured",
                "notifications.whatsapp_app_secret is not set",
            )
        })?;
    let sig = headers
        .get("x-hub-signature-256")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !whatsapp::verify_signature(secret, &body, sig) {
        return Err(bad_signature());
    }
    let payload: serde_json::Value = serde_json::from_slice(&body)
        .map_err(|_| ApiError::bad_request("malformed_json", "callback body is not JSON"))?;
    // Outbox rows and campaign recipients (one statement a status, committed
    // together with other webhooks' statuses: `status_batch.rs`), then inbound
    // replies and stop words, quality webhooks.
    let items = inbound::status_items(&payload);
    let results = st
        .statuses
        .apply(&st.pool, items)
        .await
        .map_err(ApiError::internal)?;
    let applied = inbound::Applied::from_statuses(&results);
    let campaigns = inbound::handle_events(&st.pool, &payload, applied).await?;
    Ok(Json(
        json!({ "updated": campaigns.outbox, "campaigns": campaigns }),
    ))
}

/// Twilio message status callbacks.
#[utoipa::path(post, path = "/v1/callbacks/twilio", tag = "callbacks",
    request_body(content = String, content_type = "application/x-www-form-urlencoded", description = "Twilio status callback form"),
    responses((status = 200, description = "row updated"), (status = 401, body = crate::error::ErrorBody)))]
pub async fn twilio_status(
    State(st): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<serde_json::Value>, ApiError> {
    let params: Vec<(String, String)> = serde_urlencoded::from_bytes(&body)
        .map_err(|_| ApiError::bad_request("malformed_form", "callback body is not a form"))?;
    let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let sid = get("AccountSid").ok_or_else(bad_signature)?;
    let env = sql::sms_auth_env(&st.pool, sid)
        .await?
        .ok_or_else(bad_signature)?;
    let token = std::env::var(&env).map_err(|_| bad_signature())?;
    let url = format!(
        "{}{}",
        st.settings
            .notifications
            .public_base_url
            .trim_end_matches('/'),
        sms::CALLBACK_PATH
    );
    let sig = headers
        .get("x-twilio-signature")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !sms::verify_signature(&token, &url, &params, sig) {
        return Err(bad_signature());
    }
    let mut updated = 0;
    if let (Some(msg), Some(status)) = (
        get("MessageSid"),
        get("MessageStatus").and_then(sms::map_status),
    ) {
        let err = get("ErrorCode").map(|c| format!("twilio {c}"));
        updated = sql::provider_status(&st.pool, "sms", msg, status, err.as_deref()).await?;
    }
    Ok(Json(json!({ "updated": updated })))
}
