//! The forecasting page (`/console/forecasting`): one tenant's datasets (status, frequency,
//! series, the validation error) and models (status, training progress in series, horizon, the
//! methods chosen and their mean backtest metrics, the error of a failed training), newest first.
//! Read-only: datasets are uploaded and models trained through the API.

use axum::extract::{Query, State};
use axum::response::Response;
use serde::Deserialize;

use forecasting::sql;

use super::html::{self, esc};
use super::pages::unavailable;
use super::session::Ops;
use super::tenant;
use crate::state::AppState;

const LIMIT: i64 = 100;

#[derive(Debug, Default, Deserialize)]
pub struct ForecastingQuery {
    pub tenant: Option<String>,
}

pub async fn forecasting(
    State(st): State<AppState>,
    ops: Ops,
    Query(f): Query<ForecastingQuery>,
) -> Response {
    let choice = match tenant::choose(&st, f.tenant.as_deref()).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let (datasets, models) = match choice.chosen {
        Some(t) => {
            let d = sql::list_datasets(&st.pool, t, LIMIT).await;
            let m = sql::list_models(&st.pool, t, LIMIT).await;
            match (d, m) {
                (Ok(d), Ok(m)) => (d, m),
                (Err(e), _) | (_, Err(e)) => return unavailable(e),
            }
        }
        None => (Vec::new(), Vec::new()),
    };
    let dataset_cells: Vec<Vec<String>> = datasets
        .iter()
        .map(|d| {
            vec![
                html::utc(Some(d.created_at)),
                esc(&d.id.to_string()),
                esc(&d.name),
                esc(&d.status),
                esc(d.frequency.as_deref().unwrap_or("")),
                esc(&d.targets.join(", ")),
                d.series_count.map(|n| n.to_string()).unwrap_or_default(),
                format!(
                    "{} KB",
                    ptbr::format_decimal(d.size_bytes as f64 / 1024.0, 0)
                ),
                esc(d.error.as_deref().unwrap_or("")),
            ]
        })
        .collect();
    let model_cells: Vec<Vec<String>> = models
        .iter()
        .map(|m| {
            let progress = match m.series_total {
                Some(total) if total > 0 => format!("{}/{}", m.series_done, total),
                _ => String::new(),
            };
            vec![
                html::utc(Some(m.created_at)),
                esc(&m.id.to_string()),
                esc(&m.target),
                m.horizon.to_string(),
                esc(&m.status),
                progress,
                esc(&m.methods.join(", ")),
                esc(&m
                    .summary
                    .as_ref()
                    .map(|s| s.to_string())
                    .unwrap_or_default()),
                esc(m.error.as_deref().unwrap_or("")),
                html::utc(m.trained_at),
            ]
        })
        .collect();
    let filters = format!(
        r#"<form method="get" id="filters">{} <button id="filter">Filter</button></form>"#,
        choice.select()
    );
    let datasets_html = if dataset_cells.is_empty() {
        choice.empty_hint("datasets")
    } else {
        html::table(
            "datasets",
            &[
                "created (UTC)",
                "id",
                "name",
                "status",
                "frequency",
                "value columns",
                "series",
                "size",
                "error",
            ],
            &dataset_cells,
        )
    };
    let models_html = if model_cells.is_empty() {
        choice.empty_hint("models")
    } else {
        html::table(
            "models",
            &[
                "created (UTC)",
                "id",
                "target",
                "horizon",
                "status",
                "series trained",
                "methods",
                "chosen per method, mean backtest metrics",
                "error",
                "trained (UTC)",
            ],
            &model_cells,
        )
    };
    let body = format!(
        r#"<p class="hint">Datasets validated by <code>forecast.validate</code> and models trained by <code>forecast.train</code> (rolling-origin backtests, the best method per series by MASE). The newest {LIMIT} of each are shown.</p>
{filters}<h2>Models</h2>{models_html}<h2>Datasets</h2>{datasets_html}"#
    );
    html::page("Forecasting", Some(&ops), &body)
}
