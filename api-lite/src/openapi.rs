//! The OpenAPI 3.1 document, generated from the handlers' `#[utoipa::path]`
//! attributes, plus each job kind's payload schema from the registry (as
//! `components.schemas["<kind>"]`). Served at `/openapi.json`, browsed at
//! `/docs` with Swagger UI's files compiled into the binary (no CDN).

use serde_json::{json, Value};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_swagger_ui::SwaggerUi;

use jobs::kinds::Registry;

use crate::routes;
use crate::state::AppState;

#[derive(OpenApi)]
#[openapi(
    info(title = "Tarefa API", description = "Post background jobs, watch them finish, steer queues. \
        Errors are `{error, message, details}`. Authenticate with `Authorization: Bearer <API key or JWT>`."),
    paths(
        routes::jobs::enqueue, routes::batch::enqueue_batch, routes::jobs::show, routes::jobs::list,
        routes::jobs::cancel, routes::jobs::retry,
        routes::queues::list, routes::queues::pause, routes::queues::resume,
        routes::health::healthz, routes::health::readyz, routes::metrics::metrics,
        routes::audit::list,
    ),
    components(schemas(crate::error::ErrorBody)),
    modifiers(&BearerAuth),
    tags((name = "jobs"), (name = "queues"), (name = "health"), (name = "audit")),
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let scheme = HttpBuilder::new()
            .scheme(HttpAuthScheme::Bearer)
            .description(Some("An API key (`tfk_…`, scopes jobs:write, jobs:read, admin) or a JWT signed by your backend"))
            .build();
        components.add_security_scheme("bearer", SecurityScheme::Http(scheme));
    }
}

/// The document as JSON, with every kind's payload schema and policy added.
pub fn spec(registry: &Registry) -> Value {
    let mut api = ApiDoc::openapi();
    api.merge(routes::schedules::SchedulesApi::openapi());
    api.merge(routes::batches::BatchesApi::openapi());
    api.merge(routes::notifications::NotificationsApi::openapi());
    api.merge(routes::notification_settings::NotificationSettingsApi::openapi());
    api.merge(routes::notification_templates::NotificationTemplatesApi::openapi());
    api.merge(routes::callbacks::CallbacksApi::openapi());
    api.merge(routes::academic::AcademicApi::openapi());
    api.merge(routes::alert_rules::AlertRulesApi::openapi());
    api.merge(routes::alerts::AlertsApi::openapi());
    api.merge(routes::documents::DocumentsApi::openapi());
    api.merge(routes::document_review::DocumentReviewApi::openapi());
    api.merge(routes::payments::PaymentsApi::openapi());
    api.merge(routes::campaigns::CampaignsApi::openapi());
    api.merge(routes::reports::ReportsApi::openapi());
    api.merge(routes::events::EventsApi::openapi());
    api.merge(routes::event_rules::EventRulesApi::openapi());
    api.merge(routes::forecasting::ForecastingApi::openapi());
    api.merge(routes::keys::KeysApi::openapi());
    let mut doc = serde_json::to_value(api).unwrap_or_else(|_| json!({}));
    document_not_replicated(&mut doc);
    let mut kinds = Vec::new();
    for k in registry.kinds() {
        let policy = k.policy();
        if let Some(schemas) = doc
            .pointer_mut("/components/schemas")
            .and_then(Value::as_object_mut)
        {
            schemas.insert(k.name().to_string(), k.schema());
        }
        kinds.push(json!({
            "kind": k.name(),
            "queue": policy.queue,
            "priority": policy.priority,
            "max_attempts": policy.max_attempts,
            "payload": { "$ref": format!("#/components/schemas/{}", k.name()) },
        }));
    }
    doc["x-tarefa-kinds"] = Value::Array(kinds);
    doc
}

/// The operations that push jobs (directly, or through the outbox, intake or
/// submit function of their product), so with `engine.durability =
/// "replicated"` may answer 503 `not_replicated` (`EngineError::NotReplicated`
/// through `ApiError::from`). Routes that push but answer another status on an
/// engine error are not listed: document review (200, the follow-up's error in
/// the body), `POST /v1/events`, its dead-letter retry and the Stripe callback
/// (500). A new route that pushes belongs here.
pub const PUSHING_OPERATIONS: &[(&str, &str)] = &[
    ("post", "/v1/jobs/{kind}"),
    ("post", "/v1/jobs"),
    ("post", "/v1/batches"),
    ("post", "/v1/notifications"),
    ("post", "/v1/reports"),
    ("post", "/v1/payments"),
    ("post", "/v1/payments/{id}/refunds"),
    ("post", "/v1/documents"),
    ("post", "/v1/campaigns/{id}/{action}"),
    ("post", "/v1/datasets"),
    ("post", "/v1/models"),
    ("post", "/v1/models/{id}/predictions"),
];

const NOT_REPLICATED: &str = "`not_replicated` (`Retry-After: 1`): with `engine.durability = \"replicated\"`, \
    no Redis replica confirmed the push within `engine.replica_wait_ms`; the job may still be on the \
    master and run. Retry: the same Idempotency-Key (or dedup key) finds the first job instead of \
    pushing another. Also `unavailable` when Redis or PostgreSQL does not answer.";

/// Adds the 503 response to every [`PUSHING_OPERATIONS`] entry (one text for
/// all, kept beside the error it documents rather than on each handler).
fn document_not_replicated(doc: &mut Value) {
    let response = json!({
        "description": NOT_REPLICATED,
        "headers": { "Retry-After": {
            "description": "seconds to wait before retrying",
            "schema": { "type": "integer" },
        } },
        "content": { "application/json": {
            "schema": { "$ref": "#/components/schemas/ErrorBody" },
        } },
    });
    for (method, path) in PUSHING_OPERATIONS {
        if let Some(responses) = doc
            .pointer_mut(&format!(
                "/paths/{}/{method}/responses",
                pointer_token(path)
            ))
            .and_then(Value::as_object_mut)
        {
            responses.insert("503".into(), response.clone());
        }
    }
}

/// A JSON-pointer token: `~` and `/` escaped (RFC 6901).
fn pointer_token(s: &str) -> String {
    s.replace('~', "~0").replace('/', "~1")
}

/// `/openapi.json` and `/docs`.
pub fn router(registry: &Registry) -> axum::Router<AppState> {
    SwaggerUi::new("/docs")
        .external_url_unchecked("/openapi.json", spec(registry))
        .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_is_openapi_31_with_kind_schemas() {
        let doc = spec(&Registry::builtin());
        assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
        assert!(doc["paths"]["/v1/jobs/{kind}"]["post"].is_object());
        assert!(doc["components"]["schemas"]["diag.sleep"]["properties"]["ms"].is_object());
        assert!(doc["paths"]["/v1/schedules"]["post"].is_object());
        assert!(
            doc["paths"]["/v1/documents"]["post"]["requestBody"]["content"]["multipart/form-data"]
                .is_object()
        );
        assert!(doc["paths"]["/v1/documents/{id}"]["get"].is_object());
        assert!(
            doc["components"]["schemas"]["documents.extract"]["properties"]["document_id"]
                .is_object()
        );
    }

    #[test]
    fn every_pushing_operation_documents_503_not_replicated() {
        let doc = spec(&Registry::builtin());
        for (method, path) in PUSHING_OPERATIONS {
            let op = &doc["paths"][path][method];
            assert!(op.is_object(), "{method} {path} is not in the spec");
            let r = &op["responses"]["503"];
            assert!(
                r["description"]
                    .as_str()
                    .is_some_and(|d| d.contains("not_replicated")),
                "{method} {path}: {r}"
            );
            assert_eq!(
                r["content"]["application/json"]["schema"]["$ref"],
                "#/components/schemas/ErrorBody"
            );
        }
        // Reads do not push: no such response there.
        assert!(doc["paths"]["/v1/jobs/{id}"]["get"]["responses"]["503"].is_null());
    }
}
