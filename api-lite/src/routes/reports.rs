//! `/v1/reports`: request a report (202, rendered by the worker's
//! `reports.render` job; an identical request within the dedup window
//! returns the same report, 200), read it (status, progress, pages, size,
//! error), list, cancel, delete, download its file with the tenant's key or
//! through a signed, expiring link. The model, checks and SQL are
//! `jobs::kinds::reports`; rendering is the `reports` crate, not linked here.
//! Another tenant's report is the same 404 as a missing one.
//! `/v1/report-branding`: the tenant's colours and logo on every report.

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};
use uuid::Uuid;

use jobs::blobs::BlobStore;
use jobs::engine::CancelOutcome;
use jobs::kinds::reports::branding::{self, BrandingRequest, BrandingView};
use jobs::kinds::reports::{self, link, sql, Report, ReportRequest};
use jobs::store::scope;

use crate::auth::{Scope, Tenant};
use crate::error::ApiError;
use crate::extract::{AppJson, AppQuery};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/reports", get(list).post(create))
        .route("/v1/reports/{id}", get(show).delete(remove))
        .route("/v1/reports/{id}/cancel", post(cancel))
        .route("/v1/reports/{id}/file", get(file))
        .route("/v1/reports/{id}/link", post(make_link))
        .route("/v1/reports/{id}/download", get(download))
        .route(
            "/v1/report-branding",
            get(get_branding).put(put_branding).delete(delete_branding),
        )
}

#[derive(OpenApi)]
#[openapi(
    paths(create, show, list, remove, cancel, file, make_link, download, get_branding, put_branding, delete_branding),
    components(schemas(ReportRequest, Report, ReportList, SignedLink, BrandingRequest, BrandingView)),
    tags((name = "reports", description = "report cards, class, campaign and occupancy reports as PDF, XLSX, CSV or ZIP, rendered by a job"))
)]
pub struct ReportsApi;

#[derive(Debug, Serialize, ToSchema)]
pub struct ReportList {
    pub reports: Vec<Report>,
    /// Pass as `before` for the next (older) page; absent at the end.
    pub next_before: Option<Uuid>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SignedLink {
    /// Absolute URL (`reports.public_base_url` + path); no API key needed.
    pub url: String,
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// queued | running | done | failed | cancelled
    pub status: Option<String>,
    /// The `next_before` of the previous page.
    pub before: Option<Uuid>,
    /// 1-500, default 50.
    pub limit: Option<i64>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LinkQuery {
    /// Unix seconds.
    pub expires: i64,
    /// Hex HMAC-SHA256.
    pub sig: String,
}

const STATUSES: [&str; 5] = ["queued", "running", "done", "failed", "cancelled"];

fn not_found(id: &str) -> ApiError {
    ApiError::not_found("report_not_found", format!("no report {id}"))
}

async fn find(st: &AppState, tenant: Uuid, id: &str) -> Result<Report, ApiError> {
    let uuid: Uuid = id.parse().map_err(|_| not_found(id))?;
    sql::get(&st.pool, tenant, uuid)
        .await?
        .ok_or_else(|| not_found(id))
}

/// Request a report: checked (422 naming the field), written, its render queued.
#[utoipa::path(post, path = "/v1/reports", tag = "reports", security(("bearer" = [])),
    request_body = ReportRequest,
    responses(
        (status = 202, description = "accepted: the report, queued, with its render job id", body = Report),
        (status = 200, description = "the same request was made within the dedup window: that report", body = Report),
        (status = 422, description = "bad field; `details.field` names it (`type`, `format`, `params.year`, …)", body = crate::error::ErrorBody),
    ))]
pub async fn create(
    State(st): State<AppState>,
    tenant: Tenant,
    headers: HeaderMap,
    AppJson(req): AppJson<ReportRequest>,
) -> Result<(StatusCode, Json<Report>), ApiError> {
    tenant.require(Scope::JobsWrite)?;
    let trace = crate::traceparent::from_headers(&headers);
    let (r, new) = reports::submit(
        &st.pool,
        &st.engine,
        &st.settings.reports,
        tenant.id,
        &req,
        &[],
        Some(trace),
    )
    .await
    .map_err(|e| match e {
        reports::SubmitError::Invalid(f) => {
            ApiError::invalid_field("invalid_report", &f.path, f.message)
        }
        reports::SubmitError::Db(e) => e.into(),
        reports::SubmitError::Engine(e) => e.into(),
    })?;
    if new {
        tracing::info!(tenant_id = %tenant.id, report_id = %r.id, report_type = %r.report_type, format = %r.format, "report requested");
    }
    Ok((
        if new {
            StatusCode::ACCEPTED
        } else {
            StatusCode::OK
        },
        Json(r),
    ))
}

/// One report: status, progress (done/total), pages, size, error.
#[utoipa::path(get, path = "/v1/reports/{id}", tag = "reports", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = Report), (status = 404, body = crate::error::ErrorBody)))]
pub async fn show(
    State(st): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
) -> Result<Json<Report>, ApiError> {
    tenant.require(Scope::JobsRead)?;
    Ok(Json(find(&st, tenant.id, &id).await?))
}

/// The caller's reports, newest first.
#[utoipa::path(get, path = "/v1/reports", tag = "reports", security(("bearer" = [])),
    params(ListQuery),
    responses((status = 200, body = ReportList), (status = 422, body = crate::error::ErrorBody)))]
pub async fn list(
    State(st): State<AppState>,
    tenant: Tenant,
    AppQuery(q): AppQuery<ListQuery>,
) -> Result<Json<ReportList>, ApiError> {
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
    let limit = q.limit.unwrap_or(50);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::invalid_field("invalid_query", "limit", "1-500"));
    }
    let reports = sql::list(&st.pool, tenant.id, q.status.as_deref(), q.before, limit).await?;
    let next_before = (reports.len() as i64 == limit)
        .then(|| reports.last().map(|r| r.id))
        .flatten();
    Ok(Json(ReportList {
        reports,
        next_before,
    }))
}

async fn stop_job(st: &AppState, r: &Report) -> Result<Option<CancelOutcome>, ApiError> {
    match &r.job_id {
        Some(job) if matches!(r.status.as_str(), "queued" | "running") => {
            Ok(Some(st.engine.cancel(reports::QUEUE, job).await?))
        }
        _ => Ok(None),
    }
}

/// Stop a queued or running render (the report ends `cancelled`).
#[utoipa::path(post, path = "/v1/reports/{id}/cancel", tag = "reports", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = Report), (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)))]
pub async fn cancel(
    State(st): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
) -> Result<Json<Report>, ApiError> {
    tenant.require(Scope::JobsWrite)?;
    let r = find(&st, tenant.id, &id).await?;
    if !matches!(r.status.as_str(), "queued" | "running") {
        return Err(ApiError::conflict(
            "report_finished",
            format!("the report is already {}", r.status),
        ));
    }
    stop_job(&st, &r).await?;
    // A running render marks itself when it sees the token; a queued one never runs.
    sql::fail(&st.pool, r.id, "cancelled", "cancelled by request").await?;
    Ok(Json(find(&st, tenant.id, &id).await?))
}

/// Delete a report (its render is cancelled if still going).
#[utoipa::path(delete, path = "/v1/reports/{id}", tag = "reports", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = crate::error::ErrorBody)))]
pub async fn remove(
    State(st): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    tenant.require(Scope::JobsWrite)?;
    let r = find(&st, tenant.id, &id).await?;
    stop_job(&st, &r).await?;
    sql::delete(&st.pool, tenant.id, r.id)
        .await?
        .ok_or_else(|| not_found(&id))?;
    Ok(StatusCode::NO_CONTENT)
}

async fn send_file(st: &AppState, r: &Report) -> Result<Response, ApiError> {
    let (Some(key), "done") = (&r.blob_key, r.status.as_str()) else {
        return Err(
            ApiError::conflict("report_not_ready", format!("the report is {}", r.status))
                .with_details(serde_json::json!({ "status": r.status })),
        );
    };
    let store = BlobStore::from_settings(&st.settings.documents)
        .map_err(|e| ApiError::unavailable("the blob store", e))?;
    let bytes = store
        .get_opened(st.engine.cipher(), key)
        .await
        .map_err(|e| ApiError::unavailable("the blob store", e))?;
    let ctype = r
        .file_format()
        .map_or("application/octet-stream", |f| f.content_type());
    let name = r
        .file_name
        .clone()
        .unwrap_or_else(|| format!("{}.{}", r.id, r.format));
    let mut res = bytes.into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(ctype));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    Ok(res)
}

/// The finished file (409 until the report is done).
#[utoipa::path(get, path = "/v1/reports/{id}/file", tag = "reports", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses(
        (status = 200, description = "the file (PDF, XLSX, CSV or ZIP)", content_type = "application/octet-stream"),
        (status = 404, body = crate::error::ErrorBody),
        (status = 409, description = "not done yet (or failed)", body = crate::error::ErrorBody)))]
pub async fn file(
    State(st): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    tenant.require(Scope::JobsRead)?;
    let r = find(&st, tenant.id, &id).await?;
    send_file(&st, &r).await
}

fn secret(st: &AppState) -> Result<Vec<u8>, ApiError> {
    st.settings.reports.url_secret().ok_or_else(|| {
        ApiError::unavailable(
            "signed links",
            format!("{} is not set", st.settings.reports.url_secret_env),
        )
    })
}

/// A signed download link valid `reports.link_ttl_secs` (for e-mails, browsers).
#[utoipa::path(post, path = "/v1/reports/{id}/link", tag = "reports", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = SignedLink), (status = 404, body = crate::error::ErrorBody), (status = 503, body = crate::error::ErrorBody)))]
pub async fn make_link(
    State(st): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
) -> Result<Json<SignedLink>, ApiError> {
    tenant.require(Scope::JobsRead)?;
    let r = find(&st, tenant.id, &id).await?;
    let key = secret(&st)?;
    let expires_at = Utc::now() + chrono::Duration::seconds(st.settings.reports.link_ttl_secs);
    let path = link::path(&key, tenant.id, r.id, expires_at.timestamp());
    Ok(Json(SignedLink {
        url: format!(
            "{}{path}",
            st.settings.reports.public_base_url.trim_end_matches('/')
        ),
        expires_at,
    }))
}

/// Download through a signed link (no API key). A link for another report or
/// tenant, or a tampered one, is 403; an expired one is 403 `link_expired`.
#[utoipa::path(get, path = "/v1/reports/{id}/download", tag = "reports",
    params(("id" = String, Path), LinkQuery),
    responses(
        (status = 200, description = "the file", content_type = "application/octet-stream"),
        (status = 403, description = "bad signature or expired", body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody)))]
pub async fn download(
    State(st): State<AppState>,
    Path(id): Path<String>,
    AppQuery(q): AppQuery<LinkQuery>,
) -> Result<Response, ApiError> {
    let key = secret(&st)?;
    let uuid: Uuid = id.parse().map_err(|_| not_found(&id))?;
    // A link carries no credential: whose report it is is looked up across
    // tenants, and once the signature holds, the rest runs as that tenant.
    let tenant = scope::as_system(sql::tenant_of(&st.pool, uuid)).await?;
    let forbidden = |code, msg: &str| ApiError::new(StatusCode::FORBIDDEN, code, msg.to_string());
    let Some(tenant) = tenant else {
        return Err(not_found(&id));
    };
    link::verify(
        &key,
        tenant,
        uuid,
        q.expires,
        &q.sig,
        Utc::now().timestamp(),
    )
    .map_err(|e| match e {
        link::LinkError::Expired => forbidden("link_expired", "the link has expired"),
        link::LinkError::BadSignature => {
            forbidden("bad_signature", "the link is not valid for this report")
        }
    })?;
    scope::as_tenant(tenant, async {
        let r = find(&st, tenant, &id).await?;
        send_file(&st, &r).await
    })
    .await
}

fn no_branding() -> ApiError {
    ApiError::not_found("branding_not_found", "this tenant has no report branding")
}

/// The tenant's report branding (colours; the logo's format and size).
#[utoipa::path(get, path = "/v1/report-branding", tag = "reports", security(("bearer" = [])),
    responses((status = 200, body = BrandingView), (status = 404, description = "no branding: reports use the defaults", body = crate::error::ErrorBody)))]
pub async fn get_branding(
    State(st): State<AppState>,
    tenant: Tenant,
) -> Result<Json<BrandingView>, ApiError> {
    tenant.require(Scope::JobsRead)?;
    Ok(Json(
        branding::view(&st.pool, tenant.id)
            .await?
            .ok_or_else(no_branding)?,
    ))
}

/// Set the colours and logo every report of the tenant is rendered with
/// (PDF header logo and colours, XLSX header row). Replaces the previous one.
#[utoipa::path(put, path = "/v1/report-branding", tag = "reports", security(("bearer" = [])),
    request_body = BrandingRequest,
    responses(
        (status = 200, body = BrandingView),
        (status = 422, description = "bad field; `details.field` is `primary_color`, `accent_color` or `logo` (not base64, not PNG/SVG, over 256 KiB)", body = crate::error::ErrorBody),
    ))]
pub async fn put_branding(
    State(st): State<AppState>,
    tenant: Tenant,
    AppJson(req): AppJson<BrandingRequest>,
) -> Result<Json<BrandingView>, ApiError> {
    tenant.require(Scope::JobsWrite)?;
    let b = req
        .validate()
        .map_err(|f| ApiError::invalid_field("invalid_branding", &f.path, f.message))?;
    branding::put(&st.pool, tenant.id, &b).await?;
    Ok(Json(
        branding::view(&st.pool, tenant.id)
            .await?
            .ok_or_else(no_branding)?,
    ))
}

/// Remove the branding: reports go back to the default colours, no logo.
#[utoipa::path(delete, path = "/v1/report-branding", tag = "reports", security(("bearer" = [])),
    responses((status = 204), (status = 404, body = crate::error::ErrorBody)))]
pub async fn delete_branding(
    State(st): State<AppState>,
    tenant: Tenant,
) -> Result<StatusCode, ApiError> {
    tenant.require(Scope::JobsWrite)?;
    if branding::delete(&st.pool, tenant.id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(no_branding())
    }
}
