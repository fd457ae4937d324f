//! `/v1/contacts`, `/v1/whatsapp-templates`, `/v1/campaigns`: the WhatsApp
//! campaigns feature over HTTP. The logic is `jobs::kinds::campaigns`; this
//! file maps HTTP to it. Bad input is a 422 naming the field; a move the
//! state machine does not allow is a 409 naming the current state; another
//! tenant's campaign is the same 404 as a missing one.

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRequest, Path, Request, State};
use axum::http::{header, StatusCode};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, OpenApi, ToSchema};
use uuid::Uuid;

use jobs::kinds::campaigns::audience::{self, Counts};
use jobs::kinds::campaigns::contacts::{self, RowIssue, UpsertError, UpsertReport};
use jobs::kinds::campaigns::lifecycle::{self, CampaignError};
use jobs::kinds::campaigns::metrics::{self, Cost, Metrics, Minute};
use jobs::kinds::campaigns::model::{
    render_body, render_values, Audience, Campaign, CampaignInput, Contact, ContactInput, Fields,
    Recipient, Template, TemplateInput, RECIPIENT_STATUSES, STATES,
};

use crate::auth::{Scope, Tenant};
use crate::error::ApiError;
use crate::extract::{parse_json, refuse_nul, AppJson, AppQuery};
use crate::state::AppState;

pub fn router(st: &jobs::Settings) -> Router<AppState> {
    Router::new()
        .route(
            "/v1/contacts",
            post(upsert_contacts).layer(DefaultBodyLimit::max(st.alerts.ingest_body_limit)),
        )
        .route("/v1/contacts/{external_id}", get(show_contact))
        .route(
            "/v1/whatsapp-templates",
            get(list_templates).post(put_template),
        )
        .route("/v1/campaign-settings", put(put_settings))
        .route("/v1/campaigns", get(list).post(create))
        .route("/v1/campaigns/{id}", get(show).delete(delete))
        .route("/v1/campaigns/{id}/preview", post(preview))
        .route("/v1/campaigns/{id}/recipients", get(recipients))
        .route("/v1/campaigns/{id}/series", get(series))
        .route("/v1/campaigns/{id}/{action}", post(act))
}

#[derive(OpenApi)]
#[openapi(
    paths(upsert_contacts, show_contact, put_template, list_templates, put_settings, create, list, show, delete, preview, act, recipients, series),
    components(schemas(ContactInput, Contact, UpsertReport, RowIssue, TemplateInput, Template, CampaignInput, Audience,
        Campaign, CampaignDetail, Metrics, Cost, Counts, Preview, Recipient, Minute, SettingsInput)),
    tags((name = "campaigns", description = "WhatsApp bulk campaigns: contacts, templates, audiences, sends at most once, live metrics"))
)]
pub struct CampaignsApi;

fn not_found(id: &str) -> ApiError {
    ApiError::not_found("campaign_not_found", format!("no campaign {id}"))
}

fn map_err(id: &str, e: CampaignError) -> ApiError {
    match e {
        CampaignError::Invalid(f) => {
            ApiError::invalid_field("invalid_campaign", &f.path, f.message)
        }
        CampaignError::NotFound => not_found(id),
        CampaignError::State(s) => ApiError::conflict(
            "invalid_transition",
            format!("the campaign is {s}: this move is not allowed from {s}"),
        )
        .with_details(json!({ "state": s })),
        CampaignError::Db(e) => e.into(),
        CampaignError::Engine(e) => e.into(),
    }
}

fn parse_id(id: &str) -> Result<Uuid, ApiError> {
    id.parse().map_err(|_| not_found(id))
}

/// Upsert contacts: a JSON array (up to 10,000) or a CSV upload (`text/csv`).
#[utoipa::path(post, path = "/v1/contacts", tag = "campaigns", security(("bearer" = [])),
    request_body(content(
        (Vec<ContactInput> = "application/json"),
        (String = "text/csv", example = "external_id,name,phone,tags,attr.city\nc1,Ana Souza,(11) 98765-4321,vip|sp,São Paulo\n"),
    )),
    responses(
        (status = 200, description = "created/updated counts; rows with an unusable phone are stored and listed", body = UpsertReport),
        (status = 422, description = "a bad row (field named), or more than 10,000", body = crate::error::ErrorBody),
    ))]
pub async fn upsert_contacts(
    State(st): State<AppState>,
    tenant: Tenant,
    req: Request,
) -> Result<Json<UpsertReport>, ApiError> {
    tenant.require(Scope::JobsWrite)?;
    let is_csv = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.to_ascii_lowercase().starts_with("text/csv"));
    let bytes = Bytes::from_request(req, &st).await.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "body_too_large",
                "request body is over the size limit",
            )
        } else {
            ApiError::bad_request("unreadable_body", e.body_text())
        }
    })?;
    let rows: Vec<ContactInput> = if is_csv {
        refuse_nul(&bytes, "body")?;
        let text = String::from_utf8_lossy(&bytes);
        contacts::from_csv(&text)
            .map_err(|f| ApiError::invalid_field("invalid_contacts", &f.path, f.message))?
    } else {
        parse_json(&bytes)?
    };
    let report = contacts::upsert(&st.pool, tenant.id, &rows)
        .await
        .map_err(|e| match e {
            UpsertError::Invalid(f) => {
                ApiError::invalid_field("invalid_contacts", &f.path, f.message)
            }
            UpsertError::Db(e) => e.into(),
        })?;
    Ok(Json(report))
}

#[utoipa::path(get, path = "/v1/contacts/{external_id}", tag = "campaigns", security(("bearer" = [])),
    responses((status = 200, body = Contact), (status = 404, body = crate::error::ErrorBody)))]
pub async fn show_contact(
    State(st): State<AppState>,
    tenant: Tenant,
    Path(external_id): Path<String>,
) -> Result<Json<Contact>, ApiError> {
    tenant.require(Scope::JobsRead)?;
    contacts::get(&st.pool, tenant.id, &external_id)
        .await?
        .map(Json)
        .ok_or_else(|| {
            ApiError::not_found("contact_not_found", format!("no contact {external_id}"))
        })
}

/// Register (or replace) a WhatsApp template approved at Meta.
#[utoipa::path(post, path = "/v1/whatsapp-templates", tag = "campaigns", security(("bearer" = [])),
    request_body = TemplateInput,
    responses((status = 200, body = Template), (status = 422, body = crate::error::ErrorBody)))]
pub async fn put_template(
    State(st): State<AppState>,
    tenant: Tenant,
    AppJson(t): AppJson<TemplateInput>,
) -> Result<Json<Template>, ApiError> {
    tenant.require(Scope::JobsWrite)?;
    lifecycle::put_template(&st.pool, tenant.id, &t)
        .await
        .map(Json)
        .map_err(|e| map_err("", e))
}

#[utoipa::path(get, path = "/v1/whatsapp-templates", tag = "campaigns", security(("bearer" = [])),
    responses((status = 200, body = Vec<Template>)))]
pub async fn list_templates(
    State(st): State<AppState>,
    tenant: Tenant,
) -> Result<Json<Vec<Template>>, ApiError> {
    tenant.require(Scope::JobsRead)?;
    Ok(Json(lifecycle::templates(&st.pool, tenant.id).await?))
}

/// The tenant's campaign settings.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SettingsInput {
    /// Meta's messaging-limit tier: unique contacts per rolling 24 h, shared by
    /// every campaign and number (250, 2000, 10000, 100000; null = unlimited).
    pub messaging_limit: Option<i32>,
    /// Inbound messages that opt a contact out (default SAIR, PARAR, STOP, CANCELAR, DESCADASTRAR).
    #[serde(default)]
    pub stop_words: Option<Vec<String>>,
    /// The WhatsApp Business Account id whose quality webhooks pause this tenant's campaigns.
    #[serde(default)]
    pub waba_id: Option<String>,
}

#[utoipa::path(put, path = "/v1/campaign-settings", tag = "campaigns", security(("bearer" = [])),
    request_body = SettingsInput,
    responses((status = 200, body = SettingsInput), (status = 422, body = crate::error::ErrorBody)))]
pub async fn put_settings(
    State(st): State<AppState>,
    tenant: Tenant,
    AppJson(s): AppJson<SettingsInput>,
) -> Result<Json<SettingsInput>, ApiError> {
    tenant.require(Scope::JobsWrite)?;
    if s.messaging_limit
        .is_some_and(|l| ![250, 2000, 10000, 100000].contains(&l))
    {
        return Err(ApiError::invalid_field(
            "invalid_settings",
            "messaging_limit",
            "250, 2000, 10000, 100000 or null (unlimited)",
        ));
    }
    let words = s
        .stop_words
        .clone()
        .unwrap_or_else(jobs::kinds::campaigns::inbound::default_stop_words);
    if words.iter().any(|w| w.trim().is_empty()) {
        return Err(ApiError::invalid_field(
            "invalid_settings",
            "stop_words",
            "no empty words",
        ));
    }
    sqlx::query(
        "insert into campaign_settings (tenant_id, messaging_limit, stop_words, waba_id) values ($1, $2, $3, $4) \
         on conflict (tenant_id) do update set messaging_limit = excluded.messaging_limit, \
         stop_words = excluded.stop_words, waba_id = excluded.waba_id, updated_at = now()",
    )
    .bind(tenant.id)
    .bind(s.messaging_limit)
    .bind(&words)
    .bind(&s.waba_id)
    .execute(&st.pool)
    .await?;
    Ok(Json(SettingsInput {
        stop_words: Some(words),
        ..s
    }))
}

/// Create a draft campaign (every check made before anything is sent).
#[utoipa::path(post, path = "/v1/campaigns", tag = "campaigns", security(("bearer" = [])),
    request_body = CampaignInput,
    responses(
        (status = 201, body = Campaign),
        (status = 422, description = "unregistered template, unknown or unmapped variable, empty audience, start in the past, rate over the number's throughput: `details.field` names it", body = crate::error::ErrorBody),
    ))]
pub async fn create(
    State(st): State<AppState>,
    tenant: Tenant,
    AppJson(input): AppJson<CampaignInput>,
) -> Result<(StatusCode, Json<Campaign>), ApiError> {
    tenant.require(Scope::JobsWrite)?;
    let c = lifecycle::create(&st.pool, tenant.id, &input)
        .await
        .map_err(|e| map_err("", e))?;
    Ok((StatusCode::CREATED, Json(c)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// draft | scheduled | running | paused | completed | cancelled | failed
    pub state: Option<String>,
    /// recipients: queued | dispatched | sending | sent | delivered | read | failed | skipped | deferred | cancelled | unknown
    pub status: Option<String>,
    /// 1-1000, default 100.
    pub limit: Option<i64>,
}

fn limit(l: Option<i64>) -> Result<i64, ApiError> {
    match l.unwrap_or(100) {
        n @ 1..=1000 => Ok(n),
        _ => Err(ApiError::invalid_field(
            "invalid_query",
            "limit",
            "1 to 1000",
        )),
    }
}

#[utoipa::path(get, path = "/v1/campaigns", tag = "campaigns", security(("bearer" = [])),
    params(ListQuery), responses((status = 200, body = Vec<Campaign>)))]
pub async fn list(
    State(st): State<AppState>,
    tenant: Tenant,
    AppQuery(q): AppQuery<ListQuery>,
) -> Result<Json<Vec<Campaign>>, ApiError> {
    tenant.require(Scope::JobsRead)?;
    if let Some(s) = q.state.as_deref().filter(|s| !STATES.contains(s)) {
        return Err(ApiError::invalid_field(
            "invalid_query",
            "state",
            format!("unknown state {s}"),
        ));
    }
    Ok(Json(
        lifecycle::list(&st.pool, tenant.id, q.state.as_deref(), limit(q.limit)?).await?,
    ))
}

/// A campaign with its live metrics and notices.
#[derive(Debug, Serialize, ToSchema)]
pub struct CampaignDetail {
    #[serde(flatten)]
    pub campaign: Campaign,
    pub template: Template,
    pub metrics: Metrics,
    /// Transitions, auto-pauses and rate changes, newest first: `[at, kind, message]`
    /// (three strings: an RFC 3339 time, the kind, the message).
    #[schema(value_type = Vec<Vec<String>>)]
    pub events: Vec<(chrono::DateTime<chrono::Utc>, String, String)>,
}

async fn load(st: &AppState, tenant: &Tenant, id: &str) -> Result<Campaign, ApiError> {
    lifecycle::get(&st.pool, tenant.id, parse_id(id)?)
        .await?
        .ok_or_else(|| not_found(id))
}

#[utoipa::path(get, path = "/v1/campaigns/{id}", tag = "campaigns", security(("bearer" = [])),
    responses((status = 200, body = CampaignDetail), (status = 404, body = crate::error::ErrorBody)))]
pub async fn show(
    State(st): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
) -> Result<Json<CampaignDetail>, ApiError> {
    tenant.require(Scope::JobsRead)?;
    let c = load(&st, &tenant, &id).await?;
    Ok(Json(detail(&st, c).await?))
}

pub async fn detail(st: &AppState, c: Campaign) -> Result<CampaignDetail, ApiError> {
    let template = lifecycle::template_by_id(&st.pool, c.template_id).await?;
    let m = metrics::compute(&st.pool, &st.settings.campaigns, &c, &template.category).await?;
    let events = lifecycle::events(&st.pool, c.id).await?;
    Ok(CampaignDetail {
        campaign: c,
        template,
        metrics: m,
        events,
    })
}

#[utoipa::path(delete, path = "/v1/campaigns/{id}", tag = "campaigns", security(("bearer" = [])),
    responses((status = 204), (status = 404, body = crate::error::ErrorBody), (status = 409, description = "only drafts are deleted", body = crate::error::ErrorBody)))]
pub async fn delete(
    State(st): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    tenant.require(Scope::JobsWrite)?;
    lifecycle::delete(&st.pool, tenant.id, parse_id(&id)?)
        .await
        .map_err(|e| map_err(&id, e))?;
    Ok(StatusCode::NO_CONTENT)
}

/// Who would receive it, who is excluded and why, and rendered samples.
#[derive(Debug, Serialize, ToSchema)]
pub struct Preview {
    #[serde(flatten)]
    pub counts: Counts,
    /// Up to 5 messages as the first eligible contacts would get them.
    #[schema(value_type = Vec<Object>)]
    pub samples: Vec<serde_json::Value>,
    pub estimated_cost: f64,
    pub currency: String,
}

#[utoipa::path(post, path = "/v1/campaigns/{id}/preview", tag = "campaigns", security(("bearer" = [])),
    responses((status = 200, body = Preview), (status = 404, body = crate::error::ErrorBody)))]
pub async fn preview(
    State(st): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
) -> Result<Json<Preview>, ApiError> {
    tenant.require(Scope::JobsRead)?;
    let c = load(&st, &tenant, &id).await?;
    let t = lifecycle::template_by_id(&st.pool, c.template_id).await?;
    let aud: Audience = serde_json::from_value(c.audience.clone()).map_err(ApiError::internal)?;
    let marketing = t.category == "marketing";
    let counts = audience::count(&st.pool, tenant.id, &aud, marketing).await?;
    let mapping = c.mapping();
    let samples = audience::sample(&st.pool, tenant.id, &aud, marketing, 5)
        .await?
        .into_iter()
        .map(|(name, phone, ext, attrs)| {
            let f = Fields { name: &name, phone: &phone, external_id: &ext, attributes: &attrs };
            match render_values(&t, &mapping, &f) {
                Ok(v) => json!({"external_id": ext, "phone": phone, "text": render_body(&t.body, &v), "parameters": v}),
                Err(var) => json!({"external_id": ext, "phone": phone, "skipped": format!("missing_variable:{var}")}),
            }
        })
        .collect();
    let price = st.settings.campaigns.price("BR", &t.category);
    Ok(Json(Preview {
        estimated_cost: (price * counts.eligible as f64 * 10_000.0).round() / 10_000.0,
        currency: st.settings.campaigns.prices_currency.clone(),
        counts,
        samples,
    }))
}

/// `schedule` (needs a future `start_at`), `start`, `pause`, `resume`, `cancel`.
#[utoipa::path(post, path = "/v1/campaigns/{id}/{action}", tag = "campaigns", security(("bearer" = [])),
    params(("action" = String, Path, description = "schedule | start | pause | resume | cancel")),
    responses(
        (status = 200, body = Campaign),
        (status = 404, body = crate::error::ErrorBody),
        (status = 409, description = "not allowed from the current state (`details.state`)", body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody),
    ))]
pub async fn act(
    State(st): State<AppState>,
    tenant: Tenant,
    Path((id, action)): Path<(String, String)>,
) -> Result<Json<Campaign>, ApiError> {
    tenant.require(Scope::JobsWrite)?;
    if !["schedule", "start", "pause", "resume", "cancel"].contains(&action.as_str()) {
        return Err(ApiError::not_found("no_route", "no such route"));
    }
    let c = lifecycle::act(&st.pool, &st.engine, tenant.id, parse_id(&id)?, &action)
        .await
        .map_err(|e| map_err(&id, e))?;
    Ok(Json(c))
}

#[utoipa::path(get, path = "/v1/campaigns/{id}/recipients", tag = "campaigns", security(("bearer" = [])),
    params(ListQuery), responses((status = 200, body = Vec<Recipient>), (status = 404, body = crate::error::ErrorBody)))]
pub async fn recipients(
    State(st): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
    AppQuery(q): AppQuery<ListQuery>,
) -> Result<Json<Vec<Recipient>>, ApiError> {
    tenant.require(Scope::JobsRead)?;
    let c = load(&st, &tenant, &id).await?;
    if let Some(s) = q
        .status
        .as_deref()
        .filter(|s| !RECIPIENT_STATUSES.contains(s))
    {
        return Err(ApiError::invalid_field(
            "invalid_query",
            "status",
            format!("unknown status {s}"),
        ));
    }
    Ok(Json(
        metrics::recipients(&st.pool, c.id, q.status.as_deref(), limit(q.limit)?).await?,
    ))
}

/// Sent, delivered, read and failed per minute (the last 180 minutes with activity).
#[utoipa::path(get, path = "/v1/campaigns/{id}/series", tag = "campaigns", security(("bearer" = [])),
    responses((status = 200, body = Vec<Minute>), (status = 404, body = crate::error::ErrorBody)))]
pub async fn series(
    State(st): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
) -> Result<Json<Vec<Minute>>, ApiError> {
    tenant.require(Scope::JobsRead)?;
    let c = load(&st, &tenant, &id).await?;
    Ok(Json(metrics::series(&st.pool, c.id, 180).await?))
}
