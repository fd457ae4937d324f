//! Forecasting: `/v1/datasets` (CSV upload → `forecast.validate`, the
//! report, a preview), `/v1/models` (training by backtests →
//! `forecast.train`, the registry row with per-series fits), real-time
//! `POST /v1/models/{id}/predict` answered here from the stored specs, and
//! batch predictions (`forecast.predict`, rows as JSON or CSV). The logic is
//! the `forecasting` crate; this file maps HTTP to it. Another tenant's
//! dataset, model or prediction is the same 404 as a missing one.

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRequest, Multipart, Path, Request, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, OpenApi, ToSchema};
use uuid::Uuid;

use forecasting::freq::format_stamp;
use forecasting::kinds;
use forecasting::models::Method;
use forecasting::sql::{self, DatasetRow, ModelRow, ModelSeriesRow, PointRow, PredictionRow};
use forecasting::table::{self, Column, ReadOptions};

use crate::auth::{Scope, Tenant};
use crate::error::ApiError;
use crate::extract::{AppJson, AppQuery};
use crate::state::AppState;

/// Largest CSV upload (1,000 daily series × 2 years is ~20 MB).
pub const MAX_UPLOAD_BYTES: usize = 64 * 1024 * 1024;
/// Largest horizon of a real-time prediction, and the most series it may cover.
pub const REALTIME_MAX_HORIZON: usize = 366;
pub const REALTIME_MAX_SERIES: usize = 50;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/datasets", get(list_datasets).post(upload))
        .layer(DefaultBodyLimit::max(MAX_UPLOAD_BYTES))
        .route("/v1/datasets/{id}", get(show_dataset))
        .route("/v1/datasets/{id}/preview", get(preview))
        .route("/v1/datasets/{id}/rows", post(add_rows))
        .route("/v1/models/{id}/drift", get(drift))
        .route("/v1/models", get(list_models).post(create_model))
        .route("/v1/models/{id}", get(show_model))
        .route("/v1/models/{id}/predict", post(predict_now))
        .route("/v1/models/{id}/predictions", post(create_prediction))
        .route("/v1/models/{id}/schedule", post(schedule_retrain))
        .route("/v1/predictions/{id}", get(show_prediction))
        .route("/v1/predictions/{id}/csv", get(prediction_csv))
        .route("/v1/predictions/{id}/xlsx", get(prediction_xlsx))
}

#[derive(OpenApi)]
#[openapi(
    paths(upload, list_datasets, show_dataset, preview, add_rows, drift, create_model, list_models, show_model, predict_now, create_prediction, show_prediction, prediction_csv, prediction_xlsx, schedule_retrain),
    components(schemas(RetrainSchedule, ActualsRequest, ActualRow, ActualsAnswer, DriftList, sql::DriftAlert, forecasting::monitor::ModelCheck, forecasting::monitor::DriftCheck, UploadForm, DatasetRow, DatasetList, Preview, Column, table::Role, ModelRequest, ModelRow, ModelDetail, ModelSeriesRow, ModelList, PredictNow, PredictNowAnswer, PredictionRequest, PredictionDetail, PredictionRow, PointRow,
        forecasting::dataset::Report, forecasting::dataset::SeriesReport, forecasting::dataset::TargetReport, forecasting::dataset::CellError, forecasting::dataset::Outlier, forecasting::freq::Frequency)),
    tags((name = "forecasting", description = "CSV datasets, models chosen by backtests, batch and real-time forecasts"))
)]
pub struct ForecastingApi;

fn dataset_not_found(id: &str) -> ApiError {
    ApiError::not_found("dataset_not_found", format!("no dataset {id}"))
}
fn model_not_found(id: &str) -> ApiError {
    ApiError::not_found("model_not_found", format!("no model {id}"))
}
fn prediction_not_found(id: &str) -> ApiError {
    ApiError::not_found("prediction_not_found", format!("no prediction {id}"))
}

// ---- datasets ----

/// `multipart/form-data` body of `POST /v1/datasets` (or send the CSV itself
/// as `text/csv` with the same fields as query parameters).
#[derive(ToSchema)]
#[allow(dead_code)]
// Named apart from the same-named schema of another feature (components are one namespace).
#[schema(as = DatasetUploadForm)]
pub struct UploadForm {
    #[schema(value_type = String, format = Binary)]
    pub file: Vec<u8>,
    /// Defaults to the file's name.
    pub name: Option<String>,
    /// The time column; detected when absent.
    pub time_column: Option<String>,
    /// The series-id column (many series in one file); detected when absent.
    pub id_column: Option<String>,
    /// Comma-separated value columns; every numeric column when absent.
    pub value_columns: Option<String>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UploadQuery {
    pub name: Option<String>,
    pub time_column: Option<String>,
    pub id_column: Option<String>,
    /// Comma-separated.
    pub value_columns: Option<String>,
}

fn options(q: &UploadQuery) -> ReadOptions {
    let clean = |s: &Option<String>| {
        s.as_ref()
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
    };
    ReadOptions {
        time_column: clean(&q.time_column),
        id_column: clean(&q.id_column),
        value_columns: clean(&q.value_columns).map(|v| {
            v.split(',')
                .map(|c| c.trim().to_string())
                .filter(|c| !c.is_empty())
                .collect()
        }),
    }
}

async fn read_upload(req: Request, q: &mut UploadQuery) -> Result<Vec<u8>, ApiError> {
    let ctype = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let too_large = |_| {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "file_too_large",
            format!("the upload is over {MAX_UPLOAD_BYTES} bytes"),
        )
    };
    if ctype.starts_with("multipart/form-data") {
        let mut mp = Multipart::from_request(req, &())
            .await
            .map_err(|e| ApiError::bad_request("malformed_multipart", e.body_text()))?;
        let mut file = None;
        while let Some(field) = mp
            .next_field()
            .await
            .map_err(|e| ApiError::bad_request("malformed_multipart", e.body_text()))?
        {
            let name = field.name().unwrap_or("").to_string();
            let filename = field.file_name().map(str::to_string);
            let bytes = field.bytes().await.map_err(|e| {
                if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    too_large(())
                } else {
                    ApiError::bad_request("malformed_multipart", e.body_text())
                }
            })?;
            crate::extract::refuse_nul(&bytes, &name)?;
            let text = || String::from_utf8_lossy(&bytes).trim().to_string();
            match name.as_str() {
                "file" => {
                    if q.name.is_none() {
                        q.name = filename;
                    }
                    file = Some(bytes.to_vec());
                }
                "name" => q.name = Some(text()),
                "time_column" => q.time_column = Some(text()),
                "id_column" => q.id_column = Some(text()),
                "value_columns" => q.value_columns = Some(text()),
                other => {
                    return Err(ApiError::invalid_field(
                        "unknown_field",
                        other,
                        "expected file, name, time_column, id_column, value_columns",
                    ))
                }
            }
        }
        file.ok_or_else(|| {
            ApiError::invalid_field(
                "missing_file",
                "file",
                "a `file` part with the CSV is required",
            )
        })
    } else if ctype.starts_with("text/csv")
        || ctype.starts_with("text/plain")
        || ctype.starts_with("application/csv")
    {
        let bytes = Bytes::from_request(req, &()).await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                too_large(())
            } else {
                ApiError::bad_request("unreadable_body", e.body_text())
            }
        })?;
        crate::extract::refuse_nul(&bytes, "body")?;
        Ok(bytes.to_vec())
    } else {
        Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send the CSV as multipart/form-data (part `file`) or as text/csv",
        ))
    }
}

/// Upload a CSV; its validation runs as a `forecast.validate` job.
///
/// The file's shape (header, a time column, a value column, the columns
/// named) is checked now (422 with `details.line` or `details.field`);
/// every cell is checked by the job, whose report `GET /v1/datasets/{id}` shows.
#[utoipa::path(post, path = "/v1/datasets", tag = "forecasting", security(("bearer" = [])),
    params(UploadQuery),
    request_body(content = UploadForm, content_type = "multipart/form-data"),
    responses(
        (status = 202, description = "stored, validation queued", body = DatasetRow),
        (status = 413, description = "over 64 MiB", body = crate::error::ErrorBody),
        (status = 415, description = "neither multipart nor text/csv", body = crate::error::ErrorBody),
        (status = 422, description = "empty file, no time or value column, a named column missing, a malformed line", body = crate::error::ErrorBody),
        (status = 429, description = "`upload_quota_exceeded`: over the tenant's `limits.upload_bytes_per_day` (Retry-After: until midnight UTC), or `rate_limited`", body = crate::error::ErrorBody),
    ))]
pub async fn upload(
    State(st): State<AppState>,
    tenant: Tenant,
    AppQuery(mut q): AppQuery<UploadQuery>,
    req: Request,
) -> Result<(StatusCode, Json<DatasetRow>), ApiError> {
    tenant.require(Scope::JobsWrite)?;
    let bytes = read_upload(req, &mut q).await?;
    let opts = options(&q);
    if let Err(e) = table::open(&bytes, &opts) {
        return Err(shape_error(&e));
    }
    crate::limits::charge_upload(&st, &tenant, bytes.len() as u64).await?;
    let name = q
        .name
        .clone()
        .filter(|n| !n.trim().is_empty())
        .unwrap_or_else(|| "dataset.csv".into());
    if name.chars().count() > 200 {
        return Err(ApiError::invalid_field(
            "invalid_field",
            "name",
            "at most 200 characters",
        ));
    }
    let id = Uuid::now_v7();
    sql::insert_dataset(&st.pool, tenant.id, id, &name, &opts, &bytes).await?;
    let job = kinds::push_validate(&st.engine, tenant.id, id).await?;
    sql::set_dataset_job(&st.pool, id, &job).await?;
    let row = sql::get_dataset(&st.pool, tenant.id, id)
        .await?
        .ok_or_else(|| dataset_not_found(&id.to_string()))?;
    tracing::info!(tenant_id = %tenant.id, dataset_id = %id, bytes = bytes.len(), "dataset accepted");
    Ok((StatusCode::ACCEPTED, Json(row)))
}

fn shape_error(e: &table::ShapeError) -> ApiError {
    use table::ShapeError as S;
    let (code, details) = match e {
        S::Empty => ("empty_file", json!({ "field": "file" })),
        S::Malformed { line, .. } => ("malformed_csv", json!({ "field": "file", "line": line })),
        S::NoTimeColumn => ("no_time_column", json!({ "field": "time_column" })),
        S::NoValueColumn => ("no_value_column", json!({ "field": "value_columns" })),
        S::UnknownColumn(c) => ("unknown_column", json!({ "field": "columns", "column": c })),
    };
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, e.to_string()).with_details(details)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DatasetList {
    pub datasets: Vec<DatasetRow>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// 1-200, default 50.
    pub limit: Option<i64>,
}

fn limit(q: Option<i64>, default: i64, max: i64) -> Result<i64, ApiError> {
    let l = q.unwrap_or(default);
    if !(1..=max).contains(&l) {
        return Err(ApiError::invalid_field(
            "invalid_query",
            "limit",
            format!("between 1 and {max}"),
        ));
    }
    Ok(l)
}

/// The caller's datasets, newest first (reports included).
#[utoipa::path(get, path = "/v1/datasets", tag = "forecasting", security(("bearer" = [])),
    params(ListQuery), responses((status = 200, body = DatasetList)))]
pub async fn list_datasets(
    State(st): State<AppState>,
    tenant: Tenant,
    AppQuery(q): AppQuery<ListQuery>,
) -> Result<Json<DatasetList>, ApiError> {
    tenant.require(Scope::JobsRead)?;
    let datasets = sql::list_datasets(&st.pool, tenant.id, limit(q.limit, 50, 200)?).await?;
    Ok(Json(DatasetList { datasets }))
}

/// One dataset with its validation report.
#[utoipa::path(get, path = "/v1/datasets/{id}", tag = "forecasting", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = DatasetRow), (status = 404, body = crate::error::ErrorBody)))]
pub async fn show_dataset(
    State(st): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
) -> Result<Json<DatasetRow>, ApiError> {
    tenant.require(Scope::JobsRead)?;
    let uuid: Uuid = id.parse().map_err(|_| dataset_not_found(&id))?;
    let row = sql::get_dataset(&st.pool, tenant.id, uuid)
        .await?
        .ok_or_else(|| dataset_not_found(&id))?;
    Ok(Json(row))
}

#[derive(Debug, Serialize, ToSchema)]
// Named apart from the same-named schema of another feature (components are one namespace).
#[schema(as = DatasetPreview)]
pub struct Preview {
    pub delimiter: String,
    /// Each column's detected (or given) role.
    pub columns: Vec<Column>,
    /// The first rows as written in the file.
    pub rows: Vec<Vec<String>>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PreviewQuery {
    /// 1-100, default 20.
    pub rows: Option<i64>,
}

/// The first rows of the file and the role of each column.
#[utoipa::path(get, path = "/v1/datasets/{id}/preview", tag = "forecasting", security(("bearer" = [])),
    params(("id" = String, Path), PreviewQuery),
    responses((status = 200, body = Preview), (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn preview(
    State(st): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
    AppQuery(q): AppQuery<PreviewQuery>,
) -> Result<Json<Preview>, ApiError> {
    tenant.require(Scope::JobsRead)?;
    let rows = q.rows.unwrap_or(20);
    if !(1..=100).contains(&rows) {
        return Err(ApiError::invalid_field(
            "invalid_query",
            "rows",
            "between 1 and 100",
        ));
    }
    let uuid: Uuid = id.parse().map_err(|_| dataset_not_found(&id))?;
    let (csv, opts) = sql::dataset_file(&st.pool, tenant.id, uuid)
        .await?
        .ok_or_else(|| dataset_not_found(&id))?;
    let t = table::open(&csv, &opts).map_err(|e| shape_error(&e))?;
    Ok(Json(Preview {
        delimiter: (t.delimiter as char).to_string(),
        rows: table::preview(&t, rows as usize),
        columns: t.columns,
    }))
}

/// `POST /v1/datasets/{id}/rows`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActualsRequest {
    /// The value column; may be left out when the dataset has one.
    pub target: Option<String>,
    /// 1-100,000 observations.
    pub rows: Vec<ActualRow>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActualRow {
    /// The series id (left out for a one-series dataset).
    #[serde(default)]
    pub series: Option<String>,
    /// `2026-05-01`, `01/05/2026`, `2026-05-01T10:00:00`.
    pub at: String,
    /// A number, or text as `8,5`.
    #[schema(value_type = Object)]
    pub value: serde_json::Value,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ActualsAnswer {
    pub accepted: usize,
    /// Per ready model and touched series with enough actuals: the live MASE against the threshold.
    pub checks: Vec<forecasting::monitor::ModelCheck>,
}

/// Actuals for monitoring: stored, then every ready model of the dataset is
/// scored on them; a drifted series raises an alert (`GET /v1/models/{id}/drift`).
#[utoipa::path(post, path = "/v1/datasets/{id}/rows", tag = "forecasting", security(("bearer" = [])),
    params(("id" = String, Path)),
    request_body = ActualsRequest,
    responses(
        (status = 200, body = ActualsAnswer),
        (status = 404, body = crate::error::ErrorBody),
        (status = 409, description = "the dataset is not validated", body = crate::error::ErrorBody),
        (status = 422, description = "bad row; `details.field` = `rows[i].at` …", body = crate::error::ErrorBody),
    ))]
pub async fn add_rows(
    State(st): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
    AppJson(req): AppJson<ActualsRequest>,
) -> Result<Json<ActualsAnswer>, ApiError> {
    tenant.require(Scope::JobsWrite)?;
    let uuid: Uuid = id.parse().map_err(|_| dataset_not_found(&id))?;
    let ds = sql::get_dataset(&st.pool, tenant.id, uuid)
        .await?
        .ok_or_else(|| dataset_not_found(&id))?;
    if ds.status != "ready" {
        return Err(ApiError::conflict(
            "dataset_not_ready",
            format!("the dataset is {}, not ready", ds.status),
        ));
    }
    let target = match (&req.target, ds.targets.as_slice()) {
        (Some(t), ts) if ts.contains(t) => t.clone(),
        (None, [only]) => only.clone(),
        (_, ts) => {
            return Err(ApiError::invalid_field(
                "invalid_field",
                "target",
                format!("one of {}", ts.join(", ")),
            ))
        }
    };
    if req.rows.is_empty() || req.rows.len() > 100_000 {
        return Err(ApiError::invalid_field(
            "invalid_field",
            "rows",
            "1 to 100000 rows",
        ));
    }
    let known = sql::series_keys(&st.pool, uuid, &target).await?;
    let mut rows = Vec::with_capacity(req.rows.len());
    for (i, r) in req.rows.iter().enumerate() {
        let key = r.series.clone().unwrap_or_default();
        if known.binary_search(&key).is_err() {
            return Err(ApiError::invalid_field(
                "invalid_field",
                &format!("rows[{i}].series"),
                format!("no series {key:?} in the dataset"),
            ));
        }
        let at = forecasting::freq::parse_stamp(&r.at).ok_or_else(|| {
            ApiError::invalid_field(
                "invalid_field",
                &format!("rows[{i}].at"),
                "not a date (2026-05-01, 01/05/2026)",
            )
        })?;
        let value = match &r.value {
            serde_json::Value::Number(n) => n.as_f64(),
            serde_json::Value::String(s) => ptbr::parse_decimal(s),
            _ => None,
        }
        .filter(|v| v.is_finite())
        .ok_or_else(|| {
            ApiError::invalid_field(
                "invalid_field",
                &format!("rows[{i}].value"),
                "a number (8.5 or \"8,5\")",
            )
        })?;
        rows.push((key, at, value));
    }
    let checks =
        forecasting::monitor::record_actuals(&st.pool, &st.engine, tenant.id, uuid, &target, &rows)
            .await?;
    Ok(Json(ActualsAnswer {
        accepted: rows.len(),
        checks,
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DriftList {
    pub alerts: Vec<sql::DriftAlert>,
}

/// The model's drift alerts, one per drifted series.
#[utoipa::path(get, path = "/v1/models/{id}/drift", tag = "forecasting", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = DriftList), (status = 404, body = crate::error::ErrorBody)))]
pub async fn drift(
    State(st): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
) -> Result<Json<DriftList>, ApiError> {
    tenant.require(Scope::JobsRead)?;
    let uuid: Uuid = id.parse().map_err(|_| model_not_found(&id))?;
    sql::get_model(&st.pool, tenant.id, uuid)
        .await?
        .ok_or_else(|| model_not_found(&id))?;
    Ok(Json(DriftList {
        alerts: sql::drift_alerts(&st.pool, tenant.id, uuid).await?,
    }))
}

// ---- models ----

/// `POST /v1/models`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ModelRequest {
    /// A dataset of this tenant, validated (`ready`).
    pub dataset: Uuid,
    /// The value column to forecast; may be left out when the dataset has one.
    pub target: Option<String>,
    /// Only these series (ids from the series column); all when absent.
    pub series: Option<Vec<String>>,
    /// Steps ahead (1-1000), also the length of each backtest window.
    pub horizon: i64,
    /// `"auto"` (seasonal_naive, ets, mstl_ets) or a list of them (and `naive`).
    #[schema(value_type = Object)]
    pub models: Option<serde_json::Value>,
    /// Season lengths in steps (e.g. `[7]` for daily data); from the frequency when absent.
    pub season_lengths: Option<Vec<i64>>,
    /// Backtest windows (0-20, default 3).
    pub windows: Option<i64>,
}

fn parse_methods(v: &Option<serde_json::Value>) -> Result<Vec<Method>, ApiError> {
    let bad = |field: &str| {
        ApiError::invalid_field(
            "invalid_field",
            field,
            "\"auto\" or a list of seasonal_naive, naive, ets, mstl_ets",
        )
    };
    match v {
        None => Ok(Method::AUTO.to_vec()),
        Some(serde_json::Value::String(s)) if s == "auto" => Ok(Method::AUTO.to_vec()),
        Some(serde_json::Value::Array(items)) if !items.is_empty() => {
            let mut out = vec![];
            for (i, it) in items.iter().enumerate() {
                let m = it
                    .as_str()
                    .and_then(Method::parse)
                    .ok_or_else(|| bad(&format!("models[{i}]")))?;
                if !out.contains(&m) {
                    out.push(m);
                }
            }
            Ok(out)
        }
        _ => Err(bad("models")),
    }
}

/// Train: backtests every candidate on every series, keeps the best by MASE.
#[utoipa::path(post, path = "/v1/models", tag = "forecasting", security(("bearer" = [])),
    request_body = ModelRequest,
    responses(
        (status = 202, description = "the model row (pending) and its `forecast.train` job", body = ModelRow),
        (status = 404, description = "no such dataset", body = crate::error::ErrorBody),
        (status = 409, description = "the dataset is not validated (`details.status`)", body = crate::error::ErrorBody),
        (status = 422, description = "bad field; `details.field` names it", body = crate::error::ErrorBody),
    ))]
pub async fn create_model(
    State(st): State<AppState>,
    tenant: Tenant,
    AppJson(req): AppJson<ModelRequest>,
) -> Result<(StatusCode, Json<ModelRow>), ApiError> {
    tenant.require(Scope::JobsWrite)?;
    if !(1..=1000).contains(&req.horizon) {
        return Err(ApiError::invalid_field(
            "invalid_field",
            "horizon",
            "between 1 and 1000",
        ));
    }
    let methods = parse_methods(&req.models)?;
    let windows = req
        .windows
        .unwrap_or(forecasting::train::WINDOWS_DEFAULT as i64);
    if !(0..=20).contains(&windows) {
        return Err(ApiError::invalid_field(
            "invalid_field",
            "windows",
            "between 0 and 20",
        ));
    }
    if let Some(s) = &req.season_lengths {
        if let Some(i) = s.iter().position(|m| !(2..=10_000).contains(m)) {
            return Err(ApiError::invalid_field(
                "invalid_field",
                &format!("season_lengths[{i}]"),
                "between 2 and 10000",
            ));
        }
    }
    let ds = sql::get_dataset(&st.pool, tenant.id, req.dataset)
        .await?
        .ok_or_else(|| dataset_not_found(&req.dataset.to_string()))?;
    if ds.status != "ready" {
        return Err(ApiError::conflict(
            "dataset_not_ready",
            format!("the dataset is {}, not ready", ds.status),
        )
        .with_details(json!({ "field": "dataset", "status": ds.status })));
    }
    let target = match (&req.target, ds.targets.as_slice()) {
        (Some(t), ts) if ts.contains(t) => t.clone(),
        (None, [only]) => only.clone(),
        (_, ts) => {
            return Err(ApiError::invalid_field(
                "invalid_field",
                "target",
                format!("one of the dataset's value columns: {}", ts.join(", ")),
            ))
        }
    };
    if let Some(series) = &req.series {
        if series.is_empty() {
            return Err(ApiError::invalid_field(
                "invalid_field",
                "series",
                "leave it out for every series",
            ));
        }
        let known = sql::series_keys(&st.pool, ds.id, &target).await?;
        if let Some(i) = series.iter().position(|s| known.binary_search(s).is_err()) {
            return Err(ApiError::invalid_field(
                "invalid_field",
                &format!("series[{i}]"),
                format!("no series {:?} in the dataset", series[i]),
            ));
        }
    }
    let id = Uuid::now_v7();
    sql::insert_model(
        &st.pool,
        &sql::NewModel {
            id,
            tenant: tenant.id,
            dataset: ds.id,
            target: &target,
            series: req.series.as_deref(),
            horizon: req.horizon as i32,
            methods: methods.iter().map(|m| m.name().to_string()).collect(),
            season_lengths: req
                .season_lengths
                .as_ref()
                .map(|s| s.iter().map(|&m| m as i32).collect()),
            windows: windows as i32,
        },
    )
    .await?;
    let job = kinds::push_train(&st.engine, tenant.id, id).await?;
    sql::set_model_job(&st.pool, id, &job).await?;
    let row = sql::get_model(&st.pool, tenant.id, id)
        .await?
        .ok_or_else(|| model_not_found(&id.to_string()))?;
    Ok((StatusCode::ACCEPTED, Json(row)))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ModelList {
    pub models: Vec<ModelRow>,
}

/// The caller's models, newest first.
#[utoipa::path(get, path = "/v1/models", tag = "forecasting", security(("bearer" = [])),
    params(ListQuery), responses((status = 200, body = ModelList)))]
pub async fn list_models(
    State(st): State<AppState>,
    tenant: Tenant,
    AppQuery(q): AppQuery<ListQuery>,
) -> Result<Json<ModelList>, ApiError> {
    tenant.require(Scope::JobsRead)?;
    let models = sql::list_models(&st.pool, tenant.id, limit(q.limit, 50, 200)?).await?;
    Ok(Json(ModelList { models }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ModelDetail {
    #[serde(flatten)]
    pub model: ModelRow,
    /// A page of trained series: chosen spec, every candidate's backtest
    /// metrics per window, warnings, the forecast from the end of the data.
    pub series: Vec<ModelSeriesRow>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SeriesPage {
    /// 0-500 trained series to include, default 20.
    pub limit: Option<i64>,
    pub offset: Option<i64>,
}

/// One model: status, progress, summary, and a page of its series.
#[utoipa::path(get, path = "/v1/models/{id}", tag = "forecasting", security(("bearer" = [])),
    params(("id" = String, Path), SeriesPage),
    responses((status = 200, body = ModelDetail), (status = 404, body = crate::error::ErrorBody)))]
pub async fn show_model(
    State(st): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
    AppQuery(q): AppQuery<SeriesPage>,
) -> Result<Json<ModelDetail>, ApiError> {
    tenant.require(Scope::JobsRead)?;
    let uuid: Uuid = id.parse().map_err(|_| model_not_found(&id))?;
    let model = sql::get_model(&st.pool, tenant.id, uuid)
        .await?
        .ok_or_else(|| model_not_found(&id))?;
    let lim = q.limit.unwrap_or(20);
    if !(0..=500).contains(&lim) {
        return Err(ApiError::invalid_field(
            "invalid_query",
            "limit",
            "between 0 and 500",
        ));
    }
    let offset = q.offset.unwrap_or(0).max(0);
    let series = sql::model_series(&st.pool, uuid, None, lim, offset).await?;
    Ok(Json(ModelDetail { model, series }))
}

/// `POST /v1/models/{id}/predict`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PredictNow {
    /// Steps ahead, 1-366; the model's horizon when absent.
    pub horizon: Option<i64>,
    /// Which series (at most 50); may be left out when the model has at most 50.
    pub series: Option<Vec<String>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PredictNowAnswer {
    pub model_id: Uuid,
    pub horizon: usize,
    pub rows: Vec<PointRow>,
}

/// Real-time forecast from the stored model (re-fits each chosen spec on its
/// stored series: milliseconds a series).
#[utoipa::path(post, path = "/v1/models/{id}/predict", tag = "forecasting", security(("bearer" = [])),
    params(("id" = String, Path)),
    request_body = PredictNow,
    responses(
        (status = 200, body = PredictNowAnswer),
        (status = 404, body = crate::error::ErrorBody),
        (status = 409, description = "the model is not ready", body = crate::error::ErrorBody),
        (status = 422, description = "bad horizon or series; `details.field`", body = crate::error::ErrorBody),
    ))]
pub async fn predict_now(
    State(st): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
    AppJson(req): AppJson<PredictNow>,
) -> Result<Json<PredictNowAnswer>, ApiError> {
    tenant.require(Scope::JobsRead)?;
    let uuid: Uuid = id.parse().map_err(|_| model_not_found(&id))?;
    let model = sql::get_model(&st.pool, tenant.id, uuid)
        .await?
        .ok_or_else(|| model_not_found(&id))?;
    let horizon = req.horizon.unwrap_or(model.horizon as i64);
    if !(1..=REALTIME_MAX_HORIZON as i64).contains(&horizon) {
        return Err(ApiError::invalid_field(
            "invalid_field",
            "horizon",
            format!("between 1 and {REALTIME_MAX_HORIZON}"),
        ));
    }
    let (Some(freq), "ready") = (
        model.frequency.as_deref().and_then(sql::parse_freq),
        model.status.as_str(),
    ) else {
        return Err(ApiError::conflict(
            "model_not_ready",
            format!("the model is {}", model.status),
        )
        .with_details(json!({ "status": model.status })));
    };
    if let Some(s) = &req.series {
        if s.is_empty() || s.len() > REALTIME_MAX_SERIES {
            return Err(ApiError::invalid_field(
                "invalid_field",
                "series",
                format!("1 to {REALTIME_MAX_SERIES} series"),
            ));
        }
    }
    let rows = sql::model_series(
        &st.pool,
        uuid,
        req.series.as_deref(),
        REALTIME_MAX_SERIES as i64 + 1,
        0,
    )
    .await?;
    if req.series.is_none() && rows.len() > REALTIME_MAX_SERIES {
        return Err(ApiError::invalid_field("invalid_field", "series", format!("the model has more than {REALTIME_MAX_SERIES} series: name up to {REALTIME_MAX_SERIES}, or use POST /v1/models/{{id}}/predictions")));
    }
    if let Some(s) = &req.series {
        if let Some(i) = s.iter().position(|k| !rows.iter().any(|r| &r.key == k)) {
            return Err(ApiError::invalid_field(
                "invalid_field",
                &format!("series[{i}]"),
                format!("no series {:?} in the model", s[i]),
            ));
        }
    }
    let h = horizon as usize;
    let points = tokio::task::spawn_blocking(move || {
        rows.iter()
            .map(|r| kinds::predict_series(r, freq, h))
            .collect::<Result<Vec<_>, _>>()
    })
    .await
    .map_err(ApiError::internal)?
    .map_err(ApiError::internal)?;
    Ok(Json(PredictNowAnswer {
        model_id: uuid,
        horizon: h,
        rows: points.into_iter().flatten().collect(),
    }))
}

/// `POST /v1/models/{id}/schedule`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RetrainSchedule {
    /// `sec min hour day-of-month month day-of-week`, e.g. `0 0 3 * * Mon`, or `@weekly`.
    pub cron: String,
    /// IANA zone; default: the tenant's.
    pub timezone: Option<String>,
    #[serde(default)]
    pub catch_up: jobs::store::schedules::CatchUp,
}

/// Re-train this model on a cron: a tenant schedule (named
/// `retrain-{model id}`, managed under `/v1/schedules`) whose ticks enqueue
/// `forecast.retrain`, each training a new model with this model's spec.
#[utoipa::path(post, path = "/v1/models/{id}/schedule", tag = "forecasting", security(("bearer" = [])),
    params(("id" = String, Path)),
    request_body = RetrainSchedule,
    responses(
        (status = 201, body = crate::routes::schedules::ScheduleOut),
        (status = 404, body = crate::error::ErrorBody),
        (status = 409, description = "this model already has a retraining schedule", body = crate::error::ErrorBody),
        (status = 422, description = "bad cron or timezone; `details.field`", body = crate::error::ErrorBody),
    ))]
pub async fn schedule_retrain(
    State(st): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
    AppJson(req): AppJson<RetrainSchedule>,
) -> Result<(StatusCode, Json<crate::routes::schedules::ScheduleOut>), ApiError> {
    use jobs::store::schedules::{self, ScheduleSpec};
    tenant.require(Scope::JobsWrite)?;
    let uuid: Uuid = id.parse().map_err(|_| model_not_found(&id))?;
    sql::get_model(&st.pool, tenant.id, uuid)
        .await?
        .ok_or_else(|| model_not_found(&id))?;
    let spec = ScheduleSpec {
        name: format!("retrain-{uuid}"),
        cron: req.cron,
        timezone: req.timezone,
        kind: kinds::RETRAIN.into(),
        payload: json!({ "model_id": uuid }),
        enabled: true,
        catch_up: req.catch_up,
    };
    // The registry this process serves (built-in + forecast.*).
    spec.validate(&st.registry).map_err(|e| {
        let field = e
            .path
            .strip_prefix("payload.")
            .unwrap_or(&e.path)
            .to_string();
        ApiError::invalid_field("invalid_schedule", &field, e.message)
    })?;
    let tz = match &spec.timezone {
        Some(tz) => tz.clone(),
        None => jobs::store::tenants::get(&st.pool, tenant.id)
            .await?
            .map_or_else(
                || jobs::store::tenants::DEFAULT_TIMEZONE.to_string(),
                |t| t.timezone,
            ),
    };
    let row = schedules::create(&st.pool, tenant.id, &spec, &tz, chrono::Utc::now())
        .await
        .map_err(
            |e| match e.as_database_error().and_then(|d| d.constraint()) {
                Some(schedules::UNIQUE_NAME) => ApiError::conflict(
                    "schedule_exists",
                    format!(
                        "model {uuid} already has a retraining schedule ({})",
                        spec.name
                    ),
                ),
                _ => e.into(),
            },
        )?;
    tracing::info!(tenant_id = %tenant.id, model_id = %uuid, schedule_id = %row.id, "retraining scheduled");
    Ok((StatusCode::CREATED, Json(row.into())))
}

/// `POST /v1/models/{id}/predictions`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PredictionRequest {
    /// Steps ahead (1-1000); the model's horizon when absent.
    pub horizon: Option<i64>,
}

/// Batch forecast of every series of a model, as a `forecast.predict` job.
#[utoipa::path(post, path = "/v1/models/{id}/predictions", tag = "forecasting", security(("bearer" = [])),
    params(("id" = String, Path)),
    request_body = PredictionRequest,
    responses(
        (status = 202, body = PredictionRow),
        (status = 404, body = crate::error::ErrorBody),
        (status = 409, description = "the model is not ready", body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody),
    ))]
pub async fn create_prediction(
    State(st): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
    AppJson(req): AppJson<PredictionRequest>,
) -> Result<(StatusCode, Json<PredictionRow>), ApiError> {
    tenant.require(Scope::JobsWrite)?;
    let uuid: Uuid = id.parse().map_err(|_| model_not_found(&id))?;
    let model = sql::get_model(&st.pool, tenant.id, uuid)
        .await?
        .ok_or_else(|| model_not_found(&id))?;
    let horizon = req.horizon.unwrap_or(model.horizon as i64);
    if !(1..=1000).contains(&horizon) {
        return Err(ApiError::invalid_field(
            "invalid_field",
            "horizon",
            "between 1 and 1000",
        ));
    }
    if model.status != "ready" {
        return Err(ApiError::conflict(
            "model_not_ready",
            format!("the model is {}", model.status),
        )
        .with_details(json!({ "status": model.status })));
    }
    let pid = Uuid::now_v7();
    sql::insert_prediction(&st.pool, tenant.id, pid, uuid, horizon as i32).await?;
    let job = kinds::push_predict(&st.engine, tenant.id, pid).await?;
    sql::set_prediction_job(&st.pool, pid, &job).await?;
    let row = sql::get_prediction(&st.pool, tenant.id, pid)
        .await?
        .ok_or_else(|| prediction_not_found(&pid.to_string()))?;
    Ok((StatusCode::ACCEPTED, Json(row)))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PredictionDetail {
    #[serde(flatten)]
    pub prediction: PredictionRow,
    /// A page of rows, by series then step.
    pub rows: Vec<PointRow>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RowsPage {
    /// 0-10000 rows, default 1000.
    pub limit: Option<i64>,
    pub offset: Option<i64>,
}

/// A batch prediction and a page of its rows.
#[utoipa::path(get, path = "/v1/predictions/{id}", tag = "forecasting", security(("bearer" = [])),
    params(("id" = String, Path), RowsPage),
    responses((status = 200, body = PredictionDetail), (status = 404, body = crate::error::ErrorBody)))]
pub async fn show_prediction(
    State(st): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
    AppQuery(q): AppQuery<RowsPage>,
) -> Result<Json<PredictionDetail>, ApiError> {
    tenant.require(Scope::JobsRead)?;
    let uuid: Uuid = id.parse().map_err(|_| prediction_not_found(&id))?;
    let prediction = sql::get_prediction(&st.pool, tenant.id, uuid)
        .await?
        .ok_or_else(|| prediction_not_found(&id))?;
    let lim = q.limit.unwrap_or(1000);
    if !(0..=10_000).contains(&lim) {
        return Err(ApiError::invalid_field(
            "invalid_query",
            "limit",
            "between 0 and 10000",
        ));
    }
    let rows = sql::prediction_rows(&st.pool, uuid, lim, q.offset.unwrap_or(0).max(0)).await?;
    Ok(Json(PredictionDetail { prediction, rows }))
}

/// Every row of a ready prediction as CSV (`series,ds,step,yhat,lo80,hi80,lo95,hi95`).
#[utoipa::path(get, path = "/v1/predictions/{id}/csv", tag = "forecasting", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, content_type = "text/csv", body = String), (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)))]
pub async fn prediction_csv(
    State(st): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    tenant.require(Scope::JobsRead)?;
    let uuid: Uuid = id.parse().map_err(|_| prediction_not_found(&id))?;
    let p = sql::get_prediction(&st.pool, tenant.id, uuid)
        .await?
        .ok_or_else(|| prediction_not_found(&id))?;
    if p.status != "ready" {
        return Err(ApiError::conflict(
            "prediction_not_ready",
            format!("the prediction is {}", p.status),
        ));
    }
    let rows = sql::prediction_rows(&st.pool, uuid, i64::MAX, 0).await?;
    let mut w = csv::Writer::from_writer(Vec::with_capacity(rows.len() * 80));
    let _ = w.write_record([
        "series", "ds", "step", "yhat", "lo80", "hi80", "lo95", "hi95",
    ]);
    for r in &rows {
        let f = |x: f64| format!("{x}");
        let _ = w.write_record([
            r.key.clone(),
            format_stamp(r.at),
            r.step.to_string(),
            f(r.point),
            f(r.lo80),
            f(r.hi80),
            f(r.lo95),
            f(r.hi95),
        ]);
    }
    let body = w.into_inner().map_err(ApiError::internal)?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"prediction-{uuid}.csv\""),
            ),
        ],
        body,
    )
        .into_response())
}

/// Every row of a ready prediction as an XLSX workbook: sheet `Previsões`,
/// header frozen, dates as dates, numbers in the pt-BR format (`1.234,56`).
#[utoipa::path(get, path = "/v1/predictions/{id}/xlsx", tag = "forecasting", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", body = Vec<u8>), (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)))]
pub async fn prediction_xlsx(
    State(st): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    tenant.require(Scope::JobsRead)?;
    let uuid: Uuid = id.parse().map_err(|_| prediction_not_found(&id))?;
    let p = sql::get_prediction(&st.pool, tenant.id, uuid)
        .await?
        .ok_or_else(|| prediction_not_found(&id))?;
    if p.status != "ready" {
        return Err(ApiError::conflict(
            "prediction_not_ready",
            format!("the prediction is {}", p.status),
        ));
    }
    let rows = sql::prediction_rows(&st.pool, uuid, i64::MAX, 0).await?;
    let body = tokio::task::spawn_blocking(move || forecasting::export::prediction_xlsx(&rows))
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_string(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"prediction-{uuid}.xlsx\""),
            ),
        ],
        body,
    )
        .into_response())
}
