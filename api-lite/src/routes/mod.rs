//! The HTTP surface: merges each resource's router and wraps them in the
//! shared layers (CORS from `api.cors_origins`, request tracing, the body
//! limit from `api.body_limit`, per-tenant rate limits (`limits.rs`), the
//! row-level security scope of each request (`db_scope.rs`), 5xx
//! cause logging, JSON 404 and 405 fallbacks).

pub mod academic;
pub mod alert_rules;
pub mod alerts;
pub mod audit;
pub mod batch;
pub mod batches;
pub mod callbacks;
pub mod campaigns;
pub mod document_review;
pub mod documents;
pub mod event_rules;
pub mod events;
pub mod forecasting;
pub mod health;
pub mod jobs;
pub mod keys;
pub mod metrics;
pub mod notification_settings;
pub mod notification_templates;
pub mod notifications;
pub mod payments;
pub mod queues;
pub mod reports;
pub mod schedules;

use axum::extract::DefaultBodyLimit;
use axum::http::{header, HeaderName, HeaderValue, Method};
use axum::middleware::{from_fn, from_fn_with_state, map_response};
use axum::Router;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::trace::TraceLayer;

use crate::error::{log_server_errors, ApiError};
use crate::state::AppState;

pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(jobs::router())
        .merge(keys::router())
        .merge(batches::router())
        .merge(queues::router())
        .merge(schedules::router())
        .merge(health::router().layer(from_fn(crate::db_scope::system)))
        .merge(metrics::router().layer(from_fn(crate::db_scope::system)))
        .merge(notifications::router())
        .merge(notification_settings::router())
        .merge(notification_templates::router())
        .merge(callbacks::router().layer(from_fn(crate::db_scope::system)))
        .merge(audit::router())
        .merge(academic::router(&state.settings))
        .merge(alert_rules::router())
        .merge(alerts::router())
        .merge(documents::router())
        .merge(document_review::router())
        .merge(payments::router())
        .merge(campaigns::router(&state.settings))
        .merge(events::router())
        .merge(event_rules::router())
        .merge(forecasting::router())
        .merge(reports::router())
        .merge(
            crate::console::router()
                .layer(from_fn(crate::db_scope::system))
                .layer(from_fn_with_state(
                    state.clone(),
                    crate::console::harden::harden,
                )),
        )
        .merge(crate::openapi::router(&state.registry))
        .fallback(|| async { ApiError::not_found("no_route", "no such route") })
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                axum::http::StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "this route does not take that method",
            )
        })
        .layer(DefaultBodyLimit::max(state.settings.api.body_limit))
        // Row-level security: the authenticated tenant's scope (inside the limits
        // middleware, which authenticates).
        .layer(from_fn(crate::db_scope::tenant))
        .layer(from_fn_with_state(state.clone(), crate::limits::enforce))
        .layer(axum::middleware::from_fn(refuse_nul_in_uri))
        .layer(map_response(log_server_errors))
        .layer(TraceLayer::new_for_http())
        .layer(cors(&state.settings.api.cors_origins))
        .with_state(state)
}

/// A NUL (`%00`) in the path or query is a 400 before any route runs: ids and
/// filters reach PostgreSQL, whose text cannot hold NUL.
async fn refuse_nul_in_uri(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let uri = req.uri();
    let has_nul = |s: &str| s.contains("%00");
    if has_nul(uri.path()) || uri.query().is_some_and(has_nul) {
        return ApiError::bad_request("invalid_uri", "the path or query holds a NUL (%00)")
            .into_response();
    }
    next.run(req).await
}

/// Browser origins from settings; `*` allows any. Bad entries are skipped with a warning.
fn cors(origins: &[String]) -> CorsLayer {
    let allow = if origins.iter().any(|o| o == "*") {
        AllowOrigin::any()
    } else {
        let list: Vec<HeaderValue> = origins
            .iter()
            .filter_map(|o| {
                let v = HeaderValue::from_str(o.trim_end_matches('/')).ok();
                if v.is_none() {
                    tracing::warn!(origin = %o, "api.cors_origins: not a valid origin, skipped");
                }
                v
            })
            .collect();
        AllowOrigin::list(list)
    };
    CorsLayer::new()
        .allow_origin(allow)
        .allow_methods([Method::GET, Method::POST, Method::PUT, Method::DELETE])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            HeaderName::from_static("idempotency-key"),
        ])
        .max_age(std::time::Duration::from_secs(3600))
}
