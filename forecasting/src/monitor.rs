//! Monitoring: actuals that arrive after training scored against the
//! forecast the model stored for that series. The error is a MASE (the
//! training data's seasonal naive MAE as the scale, as in the backtests),
//! so it compares with the backtest's: drift is an actual MASE above
//! [`DRIFT_FACTOR`] × the chosen model's backtest MASE (at least
//! [`DRIFT_FLOOR`]) over at least [`MIN_POINTS`] forecast steps.
//!
//! A drift raises (or refreshes) its `forecast_drift_alerts` row and
//! publishes a [`DRIFT_EVENT`] to the tenant's webhook through the
//! notifications outbox, as events' tenant webhooks do (the tenant
//! subscribes with `webhook_events` `forecast.*` or `*`); the dedup key is
//! the model, the series and the forecast's first stamp, so one window of
//! one model's forecast notifies once however often actuals arrive.

use chrono::NaiveDateTime;
use serde::Serialize;

use crate::freq::Frequency;
use crate::metrics;
use crate::models::Forecast;

/// How much worse than in the backtest the live error may get.
pub const DRIFT_FACTOR: f64 = 2.0;
/// A threshold never below this MASE (a near-perfect backtest would alert on noise).
pub const DRIFT_FLOOR: f64 = 1.0;
/// The webhook event type of a drift.
pub const DRIFT_EVENT: &str = "forecast.drift";

/// Fewer scored steps than this (or the whole horizon, if shorter) is no verdict yet.
pub const MIN_POINTS: usize = 3;

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct DriftCheck {
    /// Forecast steps that have an actual.
    pub points: usize,
    pub mase: f64,
    pub backtest_mase: Option<f64>,
    pub threshold: f64,
    pub drifted: bool,
}

/// Scores `actuals` against `forecast`, which starts the step after the
/// training data (`start` + `n` steps). `None` while too few steps have actuals.
pub fn check(
    forecast: &Forecast,
    train: &[f64],
    start: NaiveDateTime,
    freq: Frequency,
    m: usize,
    backtest_mase: Option<f64>,
    actuals: &[(NaiveDateTime, f64)],
) -> Option<DriftCheck> {
    let n = train.len() as i64;
    let (mut a, mut p) = (vec![], vec![]);
    for (at, v) in actuals {
        let Some(k) = freq.steps_between(start, *at) else {
            continue;
        };
        let step = k - n;
        if (0..forecast.point.len() as i64).contains(&step) {
            a.push(*v);
            p.push(forecast.point[step as usize]);
        }
    }
    if a.len() < MIN_POINTS.min(forecast.point.len()) || a.is_empty() {
        return None;
    }
    let mase = metrics::score(&a, &p, metrics::mase_scale(train, m)).mase?;
    let threshold = backtest_mase.map_or(DRIFT_FLOOR, |b| (DRIFT_FACTOR * b).max(DRIFT_FLOOR));
    Some(DriftCheck {
        points: a.len(),
        mase,
        backtest_mase,
        threshold,
        drifted: mase > threshold,
    })
}

/// One model's verdict on one series, as `POST /v1/datasets/{id}/rows` answers.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ModelCheck {
    pub model_id: uuid::Uuid,
    pub series: String,
    #[serde(flatten)]
    pub check: DriftCheck,
}

/// Stores actuals, then scores every ready model of the dataset's target on
/// the series they touch; a drifted series raises (or refreshes) its alert.
pub async fn record_actuals(
    pool: &sqlx::PgPool,
    engine: &jobs::engine::Engine,
    tenant: uuid::Uuid,
    dataset: uuid::Uuid,
    target: &str,
    rows: &[(String, NaiveDateTime, f64)],
) -> sqlx::Result<Vec<ModelCheck>> {
    use crate::sql;
    sql::upsert_actuals(pool, dataset, target, rows).await?;
    let mut keys: Vec<String> = rows.iter().map(|r| r.0.clone()).collect();
    keys.sort();
    keys.dedup();
    let actuals = sql::actuals(pool, dataset, target, &keys).await?;
    let mut out = vec![];
    for (model, freq) in sql::ready_models(pool, dataset, target).await? {
        let Some(freq) = sql::parse_freq(&freq) else {
            continue;
        };
        for s in sql::model_series(pool, model, Some(&keys), i64::MAX, 0).await? {
            let mine: Vec<(NaiveDateTime, f64)> = actuals
                .iter()
                .filter(|a| a.0 == s.key)
                .map(|a| (a.1, a.2))
                .collect();
            let backtest = s
                .candidates
                .iter()
                .find(|c| c.method == s.spec.method)
                .and_then(|c| c.mean.and_then(|m| m.mase));
            let Some(c) = check(
                &s.forecast,
                &s.values,
                s.start,
                freq,
                s.spec.m(),
                backtest,
                &mine,
            ) else {
                continue;
            };
            if c.drifted {
                sql::upsert_drift(pool, tenant, model, &s.key, &c).await?;
                tracing::warn!(tenant_id = %tenant, model_id = %model, series = %s.key, mase = c.mase, threshold = c.threshold, "forecast drift");
                let window = freq.step(s.start, s.values.len() as i64);
                let window = crate::freq::format_stamp(window);
                let data = serde_json::json!({
                    "model_id": model,
                    "dataset_id": dataset,
                    "target": target,
                    "series": s.key,
                    "window_start": window,
                    "points": c.points,
                    "mase": c.mase,
                    "backtest_mase": c.backtest_mase,
                    "threshold": c.threshold,
                });
                let key = format!("{DRIFT_EVENT}:{model}:{}:{window}", s.key);
                // The alert row is stored; a failed enqueue is logged, not the caller's error.
                // Ordered per model (the events feature's per-key sequence), like bookings.
                let delivery = jobs::kinds::events::webhook::Delivery {
                    tenant,
                    ordering_key: format!("model:{model}"),
                    event_type: DRIFT_EVENT.to_string(),
                    dedup_key: key,
                    data,
                };
                if let Err(e) = jobs::kinds::events::webhook::publish(pool, engine, delivery).await
                {
                    tracing::error!(tenant_id = %tenant, model_id = %model, error = %e, "forecast drift webhook not queued");
                }
            }
            out.push(ModelCheck {
                model_id: model,
                series: s.key.clone(),
                check: c,
            });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::freq::parse_stamp;

    #[test]
    fn flags_actuals_far_from_the_forecast() {
        let start = parse_stamp("2026-01-01").unwrap();
        let train: Vec<f64> = (0..28)
            .map(|t| 10.0 + 0.1 * t as f64 + (t % 7) as f64)
            .collect();
        let f = Forecast {
            point: vec![10.0, 11.0, 12.0, 13.0],
            ..Forecast::default()
        };
        let day = |k: i64| Frequency::Daily.step(start, 28 + k);
        let close = [(day(0), 10.5), (day(1), 11.0), (day(2), 12.5)];
        let c = check(&f, &train, start, Frequency::Daily, 7, Some(0.4), &close).unwrap();
        assert!(!c.drifted, "{c:?}");
        let far = [
            (day(0), 30.0),
            (day(1), 31.0),
            (day(2), 29.0),
            (day(9), 0.0),
        ];
        let c = check(&f, &train, start, Frequency::Daily, 7, Some(0.4), &far).unwrap();
        assert!(c.drifted && c.points == 3, "{c:?}");
        assert_eq!(
            check(&f, &train, start, Frequency::Daily, 7, None, &far[..2]),
            None
        );
    }
}
