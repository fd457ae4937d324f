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
}
