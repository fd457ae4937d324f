//! Migration 0015's tables: datasets and their series, the model registry
//! with its per-series fits, batch predictions and their rows. Every read a
//! route makes takes the tenant, so another tenant's object is not found.

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::Serialize;
use sqlx::{PgExecutor, PgPool};
use uuid::Uuid;

use crate::dataset::{Dataset, Report, Series};
use crate::freq::Frequency;
use crate::models::{Forecast, Spec};
use crate::table::ReadOptions;
use crate::train::{Candidate, SeriesModel};

fn freq_text(f: Frequency) -> String {
    serde_json::to_value(f)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

pub fn parse_freq(s: &str) -> Option<Frequency> {
    serde_json::from_value(serde_json::Value::String(s.to_string())).ok()
}

// ---- datasets ----

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct DatasetRow {
    pub id: Uuid,
    pub name: String,
    /// pending | validating | ready | invalid | failed
    pub status: String,
    #[schema(value_type = Object)]
    pub options: serde_json::Value,
    pub size_bytes: i32,
    pub frequency: Option<String>,
    pub targets: Vec<String>,
    pub series_count: Option<i32>,
    /// The validation report (`forecasting::dataset::Report`).
    #[schema(value_type = Option<Object>)]
    pub report: Option<serde_json::Value>,
    pub error: Option<String>,
    pub job_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub validated_at: Option<DateTime<Utc>>,
}

const DATASET_COLS: &str = "id, name, status, options, size_bytes, frequency, targets, series_count, report, error, job_id, created_at, validated_at";

pub async fn insert_dataset(
    db: impl PgExecutor<'_>,
    tenant: Uuid,
    id: Uuid,
    name: &str,
    options: &ReadOptions,
    csv: &[u8],
) -> sqlx::Result<()> {
    sqlx::query(
        "insert into forecast_datasets (id, tenant_id, name, options, csv, size_bytes) values ($1, $2, $3, $4, $5, $6)",
    )
    .bind(id)
    .bind(tenant)
    .bind(name)
    .bind(sqlx::types::Json(options))
    .bind(csv)
    .bind(csv.len() as i32)
    .execute(db)
    .await?;
    Ok(())
}

pub async fn set_dataset_job(db: impl PgExecutor<'_>, id: Uuid, job: &str) -> sqlx::Result<()> {
    sqlx::query("update forecast_datasets set job_id = $2 where id = $1")
        .bind(id)
        .bind(job)
        .execute(db)
        .await?;
    Ok(())
}

pub async fn get_dataset(
    db: impl PgExecutor<'_>,
    tenant: Uuid,
    id: Uuid,
) -> sqlx::Result<Option<DatasetRow>> {
    sqlx::query_as(&format!(
        "select {DATASET_COLS} from forecast_datasets where tenant_id = $1 and id = $2"
    ))
    .bind(tenant)
    .bind(id)
    .fetch_optional(db)
    .await
}

pub async fn list_datasets(
    db: impl PgExecutor<'_>,
    tenant: Uuid,
    limit: i64,
) -> sqlx::Result<Vec<DatasetRow>> {
    sqlx::query_as(&format!(
        "select {DATASET_COLS} from forecast_datasets where tenant_id = $1 order by created_at desc, id desc limit $2"
    ))
    .bind(tenant)
    .bind(limit)
    .fetch_all(db)
    .await
}

/// The file and its options, for the validate job and the preview.
pub async fn dataset_file(
    db: impl PgExecutor<'_>,
    tenant: Uuid,
    id: Uuid,
) -> sqlx::Result<Option<(Vec<u8>, ReadOptions)>> {
    let row: Option<(Vec<u8>, sqlx::types::Json<ReadOptions>)> = sqlx::query_as(
        "select csv, options from forecast_datasets where tenant_id = $1 and id = $2",
    )
    .bind(tenant)
    .bind(id)
    .fetch_optional(db)
    .await?;
    Ok(row.map(|(csv, o)| (csv, o.0)))
}

pub async fn set_dataset_status(
    db: impl PgExecutor<'_>,
    id: Uuid,
    status: &str,
    error: Option<&str>,
) -> sqlx::Result<()> {
    sqlx::query(
        "update forecast_datasets set status = $2, error = $3, updated_at = now() where id = $1",
    )
    .bind(id)
    .bind(status)
    .bind(error)
    .execute(db)
    .await?;
    Ok(())
}

/// Stores the outcome of a validation: the report, and the series when valid
/// (replacing any earlier ones), in one transaction.
pub async fn store_validation(
    pool: &PgPool,
    id: Uuid,
    ds: Option<&Dataset>,
    report: &Report,
) -> sqlx::Result<()> {
    let mut tx = pool.begin().await?;
    sqlx::query("delete from forecast_series where dataset_id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    if let Some(ds) = ds {
        for (t, target) in ds.targets.iter().enumerate() {
            // One multi-row insert per chunk (UNNEST of arrays would need 2-D
            // arrays of unequal lengths, which PostgreSQL has not).
            for chunk in ds.series.chunks(200) {
                let mut q = sqlx::QueryBuilder::new(
                    "insert into forecast_series (dataset_id, target, key, start, \"values\") ",
                );
                q.push_values(chunk, |mut b, s| {
                    b.push_bind(id)
                        .push_bind(target)
                        .push_bind(&s.key)
                        .push_bind(s.start)
                        .push_bind(&s.values[t]);
                });
                q.build().execute(&mut *tx).await?;
            }
        }
    }
    sqlx::query(
        "update forecast_datasets set status = $2, frequency = $3, targets = $4, series_count = $5, report = $6, error = null, validated_at = now(), updated_at = now() where id = $1",
    )
    .bind(id)
    .bind(if report.valid { "ready" } else { "invalid" })
    .bind(report.frequency.map(freq_text))
    .bind(ds.map(|d| d.targets.clone()).unwrap_or_default())
    .bind(report.series_count as i32)
    .bind(sqlx::types::Json(report))
    .execute(&mut *tx)
    .await?;
    tx.commit().await
}

/// The series of one target (all, or those named).
pub async fn load_series(
    db: impl PgExecutor<'_>,
    dataset: Uuid,
    target: &str,
    keys: Option<&[String]>,
) -> sqlx::Result<Vec<Series>> {
    let rows: Vec<(String, NaiveDateTime, Vec<f64>)> = sqlx::query_as(
        "select key, start, \"values\" from forecast_series where dataset_id = $1 and target = $2 and ($3::text[] is null or key = any($3)) order by key",
    )
    .bind(dataset)
    .bind(target)
    .bind(keys)
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(key, start, values)| Series {
            key,
            start,
            values: vec![values],
        })
        .collect())
}

pub async fn series_keys(
    db: impl PgExecutor<'_>,
    dataset: Uuid,
    target: &str,
) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar(
        "select key from forecast_series where dataset_id = $1 and target = $2 order by key",
    )
    .bind(dataset)
    .bind(target)
    .fetch_all(db)
    .await
}

// ---- models ----

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct ModelRow {
    pub id: Uuid,
    pub dataset_id: Uuid,
    pub target: String,
    pub series: Option<Vec<String>>,
    pub horizon: i32,
    pub methods: Vec<String>,
    pub season_lengths: Option<Vec<i32>>,
    pub windows: i32,
    /// pending | training | ready | failed | cancelled
    pub status: String,
    pub progress: i32,
    pub series_total: Option<i32>,
    pub series_done: i32,
    pub frequency: Option<String>,
    /// The data's first time stamp, local (no zone): `2026-01-01T00:00:00`.
    #[schema(value_type = Option<String>)]
    pub data_start: Option<NaiveDateTime>,
    /// The data's last time stamp, local (no zone).
    #[schema(value_type = Option<String>)]
    pub data_end: Option<NaiveDateTime>,
    /// Per method: series that chose it, mean backtest metrics.
    #[schema(value_type = Option<Object>)]
    pub summary: Option<serde_json::Value>,
    pub error: Option<String>,
    pub job_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub trained_at: Option<DateTime<Utc>>,
}

const MODEL_COLS: &str = "id, dataset_id, target, series, horizon, methods, season_lengths, windows, status, progress, series_total, series_done, frequency, data_start, data_end, summary, error, job_id, created_at, trained_at";

pub struct NewModel<'a> {
    pub id: Uuid,
    pub tenant: Uuid,
    pub dataset: Uuid,
    pub target: &'a str,
    pub series: Option<&'a [String]>,
    pub horizon: i32,
    pub methods: Vec<String>,
    pub season_lengths: Option<Vec<i32>>,
    pub windows: i32,
}

pub async fn insert_model(db: impl PgExecutor<'_>, m: &NewModel<'_>) -> sqlx::Result<()> {
    sqlx::query(
        "insert into forecast_models (id, tenant_id, dataset_id, target, series, horizon, methods, season_lengths, windows) values ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(m.id)
    .bind(m.tenant)
    .bind(m.dataset)
    .bind(m.target)
    .bind(m.series)
    .bind(m.horizon)
    .bind(&m.methods)
    .bind(&m.season_lengths)
    .bind(m.windows)
    .execute(db)
    .await?;
    Ok(())
}

/// [`insert_model`] that keeps an existing row with that id (a retried retrain).
pub async fn insert_model_once(db: impl PgExecutor<'_>, m: &NewModel<'_>) -> sqlx::Result<()> {
    sqlx::query(
        "insert into forecast_models (id, tenant_id, dataset_id, target, series, horizon, methods, season_lengths, windows) values ($1, $2, $3, $4, $5, $6, $7, $8, $9) on conflict (id) do nothing",
    )
    .bind(m.id)
    .bind(m.tenant)
    .bind(m.dataset)
    .bind(m.target)
    .bind(m.series)
    .bind(m.horizon)
    .bind(&m.methods)
    .bind(&m.season_lengths)
    .bind(m.windows)
    .execute(db)
    .await?;
    Ok(())
}

pub async fn set_model_job(db: impl PgExecutor<'_>, id: Uuid, job: &str) -> sqlx::Result<()> {
    sqlx::query("update forecast_models set job_id = $2 where id = $1")
        .bind(id)
        .bind(job)
        .execute(db)
        .await?;
    Ok(())
}

pub async fn get_model(
    db: impl PgExecutor<'_>,
    tenant: Uuid,
    id: Uuid,
) -> sqlx::Result<Option<ModelRow>> {
    sqlx::query_as(&format!(
        "select {MODEL_COLS} from forecast_models where tenant_id = $1 and id = $2"
    ))
    .bind(tenant)
    .bind(id)
    .fetch_optional(db)
    .await
}

pub async fn list_models(
    db: impl PgExecutor<'_>,
    tenant: Uuid,
    limit: i64,
) -> sqlx::Result<Vec<ModelRow>> {
    sqlx::query_as(&format!(
        "select {MODEL_COLS} from forecast_models where tenant_id = $1 order by created_at desc, id desc limit $2"
    ))
    .bind(tenant)
    .bind(limit)
    .fetch_all(db)
    .await
}

pub async fn model_started(
    db: impl PgExecutor<'_>,
    id: Uuid,
    total: usize,
    freq: Frequency,
) -> sqlx::Result<()> {
    sqlx::query(
        "update forecast_models set status = 'training', series_total = $2, series_done = 0, progress = 0, frequency = $3, error = null, updated_at = now() where id = $1",
    )
    .bind(id)
    .bind(total as i32)
    .bind(freq_text(freq))
    .execute(db)
    .await?;
    Ok(())
}

pub async fn model_progress(
    db: impl PgExecutor<'_>,
    id: Uuid,
    done: usize,
    percent: u8,
) -> sqlx::Result<()> {
    sqlx::query("update forecast_models set series_done = $2, progress = $3, updated_at = now() where id = $1 and status = 'training'")
        .bind(id)
        .bind(done as i32)
        .bind(percent as i32)
        .execute(db)
        .await?;
    Ok(())
}

pub async fn model_finished(
    db: impl PgExecutor<'_>,
    id: Uuid,
    status: &str,
    error: Option<&str>,
) -> sqlx::Result<()> {
    sqlx::query(
        "update forecast_models set status = $2, error = $3, updated_at = now() where id = $1",
    )
    .bind(id)
    .bind(status)
    .bind(error)
    .execute(db)
    .await?;
    Ok(())
}

/// Stores every trained series and marks the model ready, in one transaction.
#[allow(clippy::too_many_arguments)]
pub async fn store_model(
    pool: &PgPool,
    id: Uuid,
    trained: &[(SeriesModel, NaiveDateTime, &[f64])],
    data_start: Option<NaiveDateTime>,
    data_end: Option<NaiveDateTime>,
    summary: &serde_json::Value,
) -> sqlx::Result<()> {
    let mut tx = pool.begin().await?;
    sqlx::query("delete from forecast_model_series where model_id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    for chunk in trained.chunks(200) {
        let mut q = sqlx::QueryBuilder::new(
            "insert into forecast_model_series (model_id, key, method, spec, candidates, warnings, start, \"values\", forecast) ",
        );
        q.push_values(chunk, |mut b, (m, start, values)| {
            b.push_bind(id)
                .push_bind(&m.series)
                .push_bind(m.chosen.method.name())
                .push_bind(sqlx::types::Json(&m.chosen))
                .push_bind(sqlx::types::Json(&m.candidates))
                .push_bind(sqlx::types::Json(&m.warnings))
                .push_bind(*start)
                .push_bind(*values)
                .push_bind(sqlx::types::Json(&m.forecast));
        });
        q.build().execute(&mut *tx).await?;
    }
    sqlx::query(
        "update forecast_models set status = 'ready', progress = 100, series_done = series_total, data_start = $2, data_end = $3, summary = $4, trained_at = now(), updated_at = now() where id = $1",
    )
    .bind(id)
    .bind(data_start)
    .bind(data_end)
    .bind(summary)
    .execute(&mut *tx)
    .await?;
    tx.commit().await
}

/// One trained series as the API shows it.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct ModelSeriesRow {
    pub key: String,
    pub method: String,
    #[schema(value_type = Object)]
    pub spec: sqlx::types::Json<Spec>,
    #[schema(value_type = Vec<Object>)]
    pub candidates: sqlx::types::Json<Vec<Candidate>>,
    #[schema(value_type = Vec<String>)]
    pub warnings: sqlx::types::Json<Vec<String>>,
    #[serde(skip)]
    pub start: NaiveDateTime,
    #[serde(skip)]
    pub values: Vec<f64>,
    #[schema(value_type = Object)]
    pub forecast: sqlx::types::Json<Forecast>,
}

/// Trained series of a model (all, or those named; `limit`/`offset` for paging).
pub async fn model_series(
    db: impl PgExecutor<'_>,
    model: Uuid,
    keys: Option<&[String]>,
    limit: i64,
    offset: i64,
) -> sqlx::Result<Vec<ModelSeriesRow>> {
    sqlx::query_as(
        "select key, method, spec, candidates, warnings, start, \"values\", forecast from forecast_model_series where model_id = $1 and ($2::text[] is null or key = any($2)) order by key limit $3 offset $4",
    )
    .bind(model)
    .bind(keys)
    .bind(limit)
    .bind(offset)
    .fetch_all(db)
    .await
}

// ---- predictions ----

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct PredictionRow {
    pub id: Uuid,
    pub model_id: Uuid,
    pub horizon: i32,
    /// pending | running | ready | failed
    pub status: String,
    pub row_count: Option<i32>,
    pub error: Option<String>,
    pub job_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

pub async fn insert_prediction(
    db: impl PgExecutor<'_>,
    tenant: Uuid,
    id: Uuid,
    model: Uuid,
    horizon: i32,
) -> sqlx::Result<()> {
    sqlx::query("insert into forecast_predictions (id, tenant_id, model_id, horizon) values ($1, $2, $3, $4)")
        .bind(id)
        .bind(tenant)
        .bind(model)
        .bind(horizon)
        .execute(db)
        .await?;
    Ok(())
}

pub async fn set_prediction_job(db: impl PgExecutor<'_>, id: Uuid, job: &str) -> sqlx::Result<()> {
    sqlx::query("update forecast_predictions set job_id = $2 where id = $1")
        .bind(id)
        .bind(job)
        .execute(db)
        .await?;
    Ok(())
}

pub async fn get_prediction(
    db: impl PgExecutor<'_>,
    tenant: Uuid,
    id: Uuid,
) -> sqlx::Result<Option<PredictionRow>> {
    sqlx::query_as(
        "select id, model_id, horizon, status, row_count, error, job_id, created_at, finished_at from forecast_predictions where tenant_id = $1 and id = $2",
    )
    .bind(tenant)
    .bind(id)
    .fetch_optional(db)
    .await
}

pub async fn set_prediction_status(
    db: impl PgExecutor<'_>,
    id: Uuid,
    status: &str,
    error: Option<&str>,
) -> sqlx::Result<()> {
    sqlx::query(
        "update forecast_predictions set status = $2, error = $3, finished_at = case when $2 in ('ready', 'failed') then now() end where id = $1",
    )
    .bind(id)
    .bind(status)
    .bind(error)
    .execute(db)
    .await?;
    Ok(())
}

/// One predicted step.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct PointRow {
    pub key: String,
    pub step: i32,
    /// Local time stamp of the step, no zone: `2026-03-02T00:00:00`.
    #[schema(value_type = String)]
    pub at: NaiveDateTime,
    pub point: f64,
    pub lo80: f64,
    pub hi80: f64,
    pub lo95: f64,
    pub hi95: f64,
}

/// Replaces the prediction's rows and marks it ready, in one transaction.
pub async fn store_prediction(pool: &PgPool, id: Uuid, rows: &[PointRow]) -> sqlx::Result<()> {
    let mut tx = pool.begin().await?;
    sqlx::query("delete from forecast_prediction_rows where prediction_id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    // 9 binds a row: 5,000 rows stay under PostgreSQL's 65,535 parameters.
    for chunk in rows.chunks(5000) {
        let mut q = sqlx::QueryBuilder::new(
            "insert into forecast_prediction_rows (prediction_id, key, step, at, point, lo80, hi80, lo95, hi95) ",
        );
        q.push_values(chunk, |mut b, r| {
            b.push_bind(id)
                .push_bind(&r.key)
                .push_bind(r.step)
                .push_bind(r.at)
                .push_bind(r.point)
                .push_bind(r.lo80)
                .push_bind(r.hi80)
                .push_bind(r.lo95)
                .push_bind(r.hi95);
        });
        q.build().execute(&mut *tx).await?;
    }
    sqlx::query("update forecast_predictions set status = 'ready', row_count = $2, error = null, finished_at = now() where id = $1")
        .bind(id)
        .bind(rows.len() as i32)
        .execute(&mut *tx)
        .await?;
    tx.commit().await
}

pub async fn prediction_rows(
    db: impl PgExecutor<'_>,
    id: Uuid,
    limit: i64,
    offset: i64,
) -> sqlx::Result<Vec<PointRow>> {
    sqlx::query_as(
        "select key, step, at, point, lo80, hi80, lo95, hi95 from forecast_prediction_rows where prediction_id = $1 order by key, step limit $2 offset $3",
    )
    .bind(id)
    .bind(limit)
    .bind(offset)
    .fetch_all(db)
    .await
}

// ---- monitoring ----

/// Stores actuals (a later value for the same stamp replaces the earlier one).
pub async fn upsert_actuals(
    pool: &PgPool,
    dataset: Uuid,
    target: &str,
    rows: &[(String, NaiveDateTime, f64)],
) -> sqlx::Result<()> {
    let mut tx = pool.begin().await?;
    for chunk in rows.chunks(5000) {
        let mut q = sqlx::QueryBuilder::new(
            "insert into forecast_actuals (dataset_id, target, key, at, value) ",
        );
        q.push_values(chunk, |mut b, (k, at, v)| {
            b.push_bind(dataset)
                .push_bind(target)
                .push_bind(k)
                .push_bind(*at)
                .push_bind(*v);
        });
        q.push(" on conflict (dataset_id, target, key, at) do update set value = excluded.value, received_at = now()");
        q.build().execute(&mut *tx).await?;
    }
    tx.commit().await
}

pub async fn actuals(
    db: impl PgExecutor<'_>,
    dataset: Uuid,
    target: &str,
    keys: &[String],
) -> sqlx::Result<Vec<(String, NaiveDateTime, f64)>> {
    sqlx::query_as("select key, at, value from forecast_actuals where dataset_id = $1 and target = $2 and key = any($3) order by key, at")
        .bind(dataset)
        .bind(target)
        .bind(keys)
        .fetch_all(db)
        .await
}

/// Ready models trained on this dataset's `target`.
pub async fn ready_models(
    db: impl PgExecutor<'_>,
    dataset: Uuid,
    target: &str,
) -> sqlx::Result<Vec<(Uuid, String)>> {
    sqlx::query_as("select id, frequency from forecast_models where dataset_id = $1 and target = $2 and status = 'ready' and frequency is not null")
        .bind(dataset)
        .bind(target)
        .fetch_all(db)
        .await
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct DriftAlert {
    pub id: Uuid,
    pub model_id: Uuid,
    pub key: String,
    pub points: i32,
    pub mase: f64,
    pub backtest_mase: Option<f64>,
    pub threshold: f64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Raises (or refreshes) the alert of one model and series.
pub async fn upsert_drift(
    db: impl PgExecutor<'_>,
    tenant: Uuid,
    model: Uuid,
    key: &str,
    c: &crate::monitor::DriftCheck,
) -> sqlx::Result<()> {
    sqlx::query(
        "insert into forecast_drift_alerts (id, tenant_id, model_id, key, points, mase, backtest_mase, threshold) values ($1, $2, $3, $4, $5, $6, $7, $8)
         on conflict (model_id, key) do update set points = excluded.points, mase = excluded.mase, threshold = excluded.threshold, updated_at = now()",
    )
    .bind(Uuid::now_v7())
    .bind(tenant)
    .bind(model)
    .bind(key)
    .bind(c.points as i32)
    .bind(c.mase)
    .bind(c.backtest_mase)
    .bind(c.threshold)
    .execute(db)
    .await?;
    Ok(())
}

pub async fn drift_alerts(
    db: impl PgExecutor<'_>,
    tenant: Uuid,
    model: Uuid,
) -> sqlx::Result<Vec<DriftAlert>> {
    sqlx::query_as(
        "select id, model_id, key, points, mase, backtest_mase, threshold, created_at, updated_at from forecast_drift_alerts where tenant_id = $1 and model_id = $2 order by key",
    )
    .bind(tenant)
    .bind(model)
    .fetch_all(db)
    .await
}
