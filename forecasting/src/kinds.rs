//! The `forecast.*` job kinds, on their own `forecasting` queue:
//!
//! 1. `forecast.validate {dataset_id}`: reads the stored CSV, writes the
//!    report and (when valid) the series; dataset → `ready` or `invalid`.
//! 2. `forecast.train {model_id}`: backtests and fits every series on a
//!    rayon pool (`threads`), in a blocking task so the worker's runtime
//!    stays free; progress (percent, series done) goes to the job and the
//!    model row every second; a cancel stops it between series.
//! 3. `forecast.predict {prediction_id}`: re-fits every stored spec and
//!    writes `horizon` steps per series with 80/95 % intervals.
//! 4. `forecast.retrain {model_id}`: what a retraining schedule fires — a
//!    new model row (a new version) with the given model's spec, trained in
//!    the same job; its id is derived from the job id, so a retry reuses it.
//!
//! Bad input (no such row, an invalid dataset) fails for good; a database
//! error is retried. Every handler may run again (at-least-once): each
//! writes its outcome in one transaction that replaces the previous one.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use chrono::NaiveDateTime;
use jobs::engine::{Engine, EngineError, NewJob};
use jobs::kinds::{JobContext, JobError, JobKind, KindPolicy, Registry};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::dataset::{self, CellError, Report};
use crate::freq::Frequency;
use crate::models::{self, Method, ModelError, Spec};
use crate::sql::{self, ModelSeriesRow, PointRow};
use crate::train::{self, Cancelled, SeriesModel, TrainConfig};

pub const QUEUE: &str = "forecasting";
pub const VALIDATE: &str = "forecast.validate";
pub const TRAIN: &str = "forecast.train";
pub const PREDICT: &str = "forecast.predict";
pub const RETRAIN: &str = "forecast.retrain";

/// Adds the four kinds to a registry (the worker's and api-lite's).
pub fn register(r: &mut Registry) {
    r.register::<Validate>();
    r.register::<Train>();
    r.register::<Predict>();
    r.register::<Retrain>();
}

/// Threads for one training or batch prediction: every core (jobs of this
/// queue are few and long; `worker.concurrency` bounds how many run).
fn threads() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

fn pg(ctx: &JobContext) -> Result<PgPool, JobError> {
    ctx.resources
        .pg
        .clone()
        .ok_or_else(|| JobError::permanent("no database configured"))
}

fn tenant(ctx: &JobContext) -> Result<Uuid, JobError> {
    ctx.tenant
        .parse()
        .map_err(|_| JobError::permanent(format!("tenant {:?} is not a uuid", ctx.tenant)))
}

fn db(e: sqlx::Error) -> JobError {
    JobError::retryable(format!("postgres: {e}"))
}

fn policy(timeout: Duration) -> KindPolicy {
    KindPolicy {
        timeout,
        max_attempts: 3,
        backoff_base: Duration::from_secs(5),
        backoff_cap: Duration::from_secs(300),
        ..KindPolicy::new(QUEUE)
    }
}

async fn push(
    engine: &Engine,
    tenant: Uuid,
    kind: &str,
    id: Uuid,
    payload: serde_json::Value,
) -> Result<String, EngineError> {
    let mut job = NewJob::new(QUEUE, kind, &tenant.to_string(), payload);
    job.id = Some(id.to_string());
    Ok(engine.push(job).await?.id)
}

// ---- forecast.validate ----

pub struct Validate;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ValidatePayload {
    pub dataset_id: Uuid,
}

/// Pushes the validation of a stored dataset (job id = dataset id).
pub async fn push_validate(
    engine: &Engine,
    tenant: Uuid,
    dataset: Uuid,
) -> Result<String, EngineError> {
    push(
        engine,
        tenant,
        VALIDATE,
        dataset,
        serde_json::json!({ "dataset_id": dataset }),
    )
    .await
}

impl JobKind for Validate {
    const NAME: &'static str = VALIDATE;
    type Payload = ValidatePayload;

    fn policy() -> KindPolicy {
        policy(Duration::from_secs(600))
    }

    async fn run(p: ValidatePayload, ctx: JobContext) -> Result<serde_json::Value, JobError> {
        let pool = pg(&ctx)?;
        let tenant = tenant(&ctx)?;
        let (csv, opts) = sql::dataset_file(&pool, tenant, p.dataset_id)
            .await
            .map_err(db)?
            .ok_or_else(|| JobError::permanent(format!("no dataset {}", p.dataset_id)))?;
        sql::set_dataset_status(&pool, p.dataset_id, "validating", None)
            .await
            .map_err(db)?;
        ctx.progress(10, "reading the file").await;
        let started = std::time::Instant::now();
        let (ds, report) = tokio::task::spawn_blocking(move || match dataset::read(&csv, &opts) {
            Ok(r) => r,
            Err(e) => (None, shape_report(&e)),
        })
        .await
        .map_err(|e| JobError::permanent(format!("validation panicked: {e}")))?;
        ctx.progress(80, "storing the series").await;
        sql::store_validation(&pool, p.dataset_id, ds.as_ref(), &report)
            .await
            .map_err(db)?;
        Ok(serde_json::json!({
            "dataset_id": p.dataset_id,
            "valid": report.valid,
            "series": report.series_count,
            "errors": report.errors_total,
            "validate_ms": started.elapsed().as_millis() as u64,
        }))
    }
}

/// A report for a file whose shape could not be read.
pub fn shape_report(e: &crate::table::ShapeError) -> Report {
    let line = match e {
        crate::table::ShapeError::Malformed { line, .. } => *line,
        _ => 1,
    };
    Report {
        errors: vec![CellError {
            line,
            column: None,
            value: None,
            message: e.to_string(),
        }],
        errors_total: 1,
        ..Report::default()
    }
}

// ---- forecast.train ----

pub struct Train;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TrainPayload {
    pub model_id: Uuid,
}

pub async fn push_train(engine: &Engine, tenant: Uuid, model: Uuid) -> Result<String, EngineError> {
    push(
        engine,
        tenant,
        TRAIN,
        model,
        serde_json::json!({ "model_id": model }),
    )
    .await
}

impl JobKind for Train {
    const NAME: &'static str = TRAIN;
    type Payload = TrainPayload;

    fn policy() -> KindPolicy {
        policy(Duration::from_secs(3 * 3600))
    }

    async fn run(p: TrainPayload, ctx: JobContext) -> Result<serde_json::Value, JobError> {
        run_train(p.model_id, &ctx).await
    }
}

async fn run_train(id: Uuid, ctx: &JobContext) -> Result<serde_json::Value, JobError> {
    let pool = pg(ctx)?;
    let tenant = tenant(ctx)?;
    let model = sql::get_model(&pool, tenant, id)
        .await
        .map_err(db)?
        .ok_or_else(|| JobError::permanent(format!("no model {id}")))?;
    let ds = sql::get_dataset(&pool, tenant, model.dataset_id)
        .await
        .map_err(db)?
        .ok_or_else(|| JobError::permanent("the dataset is gone"))?;
    let Some(freq) = ds.frequency.as_deref().and_then(sql::parse_freq) else {
        return Err(JobError::permanent("the dataset is not validated"));
    };
    let series = sql::load_series(
        &pool,
        model.dataset_id,
        &model.target,
        model.series.as_deref(),
    )
    .await
    .map_err(db)?;
    if series.is_empty() {
        let msg = "no series to train";
        sql::model_finished(&pool, id, "failed", Some(msg))
            .await
            .map_err(db)?;
        return Err(JobError::permanent(msg));
    }
    let cfg = TrainConfig {
        horizon: model.horizon as usize,
        methods: model
            .methods
            .iter()
            .filter_map(|m| Method::parse(m))
            .collect(),
        seasons: model
            .season_lengths
            .as_ref()
            .map(|s| s.iter().map(|&m| m as usize).collect()),
        frequency: freq,
        windows: model.windows as usize,
    };
    let total = series.len();
    sql::model_started(&pool, id, total, freq)
        .await
        .map_err(db)?;
    let cancel = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicUsize::new(0));
    let series = Arc::new(series);
    let started = std::time::Instant::now();
    let mut task = {
        let (cancel, done, series) = (cancel.clone(), done.clone(), series.clone());
        tokio::task::spawn_blocking(move || {
            let input: Vec<(String, &[f64])> = series
                .iter()
                .map(|s| (s.key.clone(), s.values[0].as_slice()))
                .collect();
            train::train_all(&input, &cfg, threads(), &cancel, &done)
        })
    };
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    let trained = loop {
        tokio::select! {
            r = &mut task => break r.map_err(|e| JobError::permanent(format!("training panicked: {e}")))?,
            _ = ctx.cancel.cancelled(), if !cancel.load(Ordering::Relaxed) => cancel.store(true, Ordering::Relaxed),
            _ = tick.tick() => {
                let n = done.load(Ordering::Relaxed);
                let pct = (n * 99 / total) as u8;
                ctx.progress(pct, &format!("{n} of {total} series trained")).await;
                let _ = sql::model_progress(&pool, id, n, pct).await;
            }
        }
    };
    let trained = match trained {
        Ok(t) => t,
        Err(Cancelled) => {
            sql::model_finished(&pool, id, "cancelled", Some("cancelled while training"))
                .await
                .map_err(db)?;
            return Err(JobError::Cancelled);
        }
    };
    let summary = summarise(&trained);
    let rows: Vec<(SeriesModel, NaiveDateTime, &[f64])> = trained
        .into_iter()
        .zip(series.iter())
        .map(|(m, s)| (m, s.start, s.values[0].as_slice()))
        .collect();
    let data_start = series.iter().map(|s| s.start).min();
    let data_end = series
        .iter()
        .map(|s| freq.step(s.start, s.len() as i64 - 1))
        .max();
    sql::store_model(&pool, id, &rows, data_start, data_end, &summary)
        .await
        .map_err(db)?;
    Ok(serde_json::json!({
        "model_id": id,
        "series": total,
        "train_ms": started.elapsed().as_millis() as u64,
        "summary": summary,
    }))
}

// ---- forecast.retrain ----

pub struct Retrain;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RetrainPayload {
    /// The model whose spec (dataset, target, series, horizon, candidates,
    /// season lengths, windows) the new version is trained with.
    pub model_id: Uuid,
}

impl JobKind for Retrain {
    const NAME: &'static str = RETRAIN;
    type Payload = RetrainPayload;

    fn policy() -> KindPolicy {
        policy(Duration::from_secs(3 * 3600))
    }

    async fn run(p: RetrainPayload, ctx: JobContext) -> Result<serde_json::Value, JobError> {
        let pool = pg(&ctx)?;
        let tenant = tenant(&ctx)?;
        let from = sql::get_model(&pool, tenant, p.model_id)
            .await
            .map_err(db)?
            .ok_or_else(|| JobError::permanent(format!("no model {}", p.model_id)))?;
        // One new version per job, whatever the attempt.
        let id = Uuid::new_v5(&Uuid::NAMESPACE_OID, ctx.id.as_bytes());
        let new = sql::NewModel {
            id,
            tenant,
            dataset: from.dataset_id,
            target: &from.target,
            series: from.series.as_deref(),
            horizon: from.horizon,
            methods: from.methods.clone(),
            season_lengths: from.season_lengths.clone(),
            windows: from.windows,
        };
        sql::insert_model_once(&pool, &new).await.map_err(db)?;
        sql::set_model_job(&pool, id, &ctx.id).await.map_err(db)?;
        tracing::info!(tenant_id = %tenant, from = %from.id, model_id = %id, "forecast retrain");
        let mut out = run_train(id, &ctx).await?;
        out["retrained_from"] = serde_json::json!(from.id);
        Ok(out)
    }
}

/// Per method: how many series chose it; over the series where it was
/// backtested, its mean MASE and sMAPE and its interval coverage.
pub fn summarise(trained: &[SeriesModel]) -> serde_json::Value {
    let mut out = serde_json::Map::new();
    for method in Method::ALL {
        let cands: Vec<_> = trained
            .iter()
            .flat_map(|t| t.candidates.iter().filter(|c| c.method == method))
            .collect();
        let chosen = trained.iter().filter(|t| t.chosen.method == method).count();
        if cands.is_empty() && chosen == 0 {
            continue;
        }
        let mean = |f: &dyn Fn(&train::Candidate) -> Option<f64>| {
            let v: Vec<f64> = cands
                .iter()
                .filter_map(|c| f(c))
                .filter(|x| x.is_finite())
                .collect();
            (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
        };
        out.insert(
            method.name().into(),
            serde_json::json!({
                "chosen": chosen,
                "backtested": cands.iter().filter(|c| c.mean.is_some()).count(),
                "mase": mean(&|c| c.mean.and_then(|m| m.mase)),
                "smape": mean(&|c| c.mean.map(|m| m.smape)),
                "coverage80": mean(&|c| c.coverage80),
                "coverage95": mean(&|c| c.coverage95),
            }),
        );
    }
    let warned = trained.iter().filter(|t| !t.warnings.is_empty()).count();
    serde_json::json!({ "methods": out, "series_with_warnings": warned })
}

// ---- forecast.predict ----

pub struct Predict;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PredictPayload {
    pub prediction_id: Uuid,
}

pub async fn push_predict(
    engine: &Engine,
    tenant: Uuid,
    prediction: Uuid,
) -> Result<String, EngineError> {
    push(
        engine,
        tenant,
        PREDICT,
        prediction,
        serde_json::json!({ "prediction_id": prediction }),
    )
    .await
}

impl JobKind for Predict {
    const NAME: &'static str = PREDICT;
    type Payload = PredictPayload;

    fn policy() -> KindPolicy {
        policy(Duration::from_secs(3600))
    }

    async fn run(p: PredictPayload, ctx: JobContext) -> Result<serde_json::Value, JobError> {
        let pool = pg(&ctx)?;
        let tenant = tenant(&ctx)?;
        let pred = sql::get_prediction(&pool, tenant, p.prediction_id)
            .await
            .map_err(db)?
            .ok_or_else(|| JobError::permanent(format!("no prediction {}", p.prediction_id)))?;
        let model = sql::get_model(&pool, tenant, pred.model_id)
            .await
            .map_err(db)?
            .ok_or_else(|| JobError::permanent("the model is gone"))?;
        let Some(freq) = model.frequency.as_deref().and_then(sql::parse_freq) else {
            return Err(JobError::permanent("the model is not trained"));
        };
        sql::set_prediction_status(&pool, pred.id, "running", None)
            .await
            .map_err(db)?;
        let series = sql::model_series(&pool, model.id, None, i64::MAX, 0)
            .await
            .map_err(db)?;
        let h = pred.horizon as usize;
        let started = std::time::Instant::now();
        let rows = tokio::task::spawn_blocking(move || predict_many(&series, freq, h))
            .await
            .map_err(|e| JobError::permanent(format!("prediction panicked: {e}")))?;
        let rows = match rows {
            Ok(r) => r,
            Err(e) => {
                sql::set_prediction_status(&pool, pred.id, "failed", Some(&e.to_string()))
                    .await
                    .map_err(db)?;
                return Err(JobError::permanent(e.to_string()));
            }
        };
        sql::store_prediction(&pool, pred.id, &rows)
            .await
            .map_err(db)?;
        Ok(serde_json::json!({
            "prediction_id": pred.id,
            "rows": rows.len(),
            "predict_ms": started.elapsed().as_millis() as u64,
        }))
    }
}

/// Every series' forecast, in parallel.
pub fn predict_many(
    series: &[ModelSeriesRow],
    freq: Frequency,
    h: usize,
) -> Result<Vec<PointRow>, ModelError> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads())
        .build()
        .map_err(|e| ModelError::Fit {
            method: "pool",
            message: e.to_string(),
        })?;
    let per: Vec<Vec<PointRow>> = pool.install(|| {
        series
            .par_iter()
            .map(|s| predict_series(s, freq, h))
            .collect::<Result<_, _>>()
    })?;
    Ok(per.into_iter().flatten().collect())
}

/// One series' forecast: the stored spec re-fitted on the stored values;
/// the baseline when the spec no longer fits (it did at training).
pub fn predict_series(
    s: &ModelSeriesRow,
    freq: Frequency,
    h: usize,
) -> Result<Vec<PointRow>, ModelError> {
    let spec: &Spec = &s.spec;
    let f = match models::forecast(spec, &s.values, h) {
        Ok((_, f)) => f,
        Err(_) => models::seasonal_naive(&s.values, spec.m(), h),
    };
    let n = s.values.len() as i64;
    Ok((0..h)
        .map(|k| PointRow {
            key: s.key.clone(),
            step: k as i32 + 1,
            at: freq.step(s.start, n + k as i64),
            point: f.point[k],
            lo80: f.lo80[k],
            hi80: f.hi80[k],
            lo95: f.lo95[k],
            hi95: f.hi95[k],
        })
        .collect())
}
