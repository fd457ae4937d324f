//! Training one series: rolling-origin backtests (statsforecast's
//! `cross_validation` with `step_size = h`: the last `k` windows of `h`
//! steps, each model refitted on everything before its window), the
//! metrics per model and window, the model with the lowest mean MASE
//! chosen, and its final fit on the whole series with 80/95 % intervals.
//!
//! Never a crash: a model that cannot fit (too short, constant, the
//! optimiser fails) drops out with a warning, and the seasonal naive
//! baseline — which fits anything of two points — is the fallback.
//! [`train_all`] runs many series on a rayon pool of bounded size;
//! results are small (metrics and `h` forecasts), so memory stays the
//! dataset's plus one fit per thread.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::freq::Frequency;
use crate::metrics::{self, Metrics};
use crate::models::{self, Forecast, Method, Spec};

/// Backtest windows when the caller gives none (statsforecast's examples use 3-5).
pub const WINDOWS_DEFAULT: usize = 3;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TrainConfig {
    pub horizon: usize,
    pub methods: Vec<Method>,
    /// Season lengths in steps; `None`: the frequency's usual ones that the
    /// series is long enough for ([`Frequency::default_seasons`]).
    pub seasons: Option<Vec<usize>>,
    pub frequency: Frequency,
    pub windows: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Candidate {
    pub method: Method,
    /// One entry per backtest window, oldest first.
    pub windows: Vec<Metrics>,
    /// The mean over windows; `None` when the model could not be backtested.
    pub mean: Option<Metrics>,
    /// Share of backtest actuals inside the 80 % and 95 % intervals.
    pub coverage80: Option<f64>,
    pub coverage95: Option<f64>,
    pub error: Option<String>,
}

/// One trained series (of one target).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SeriesModel {
    pub series: String,
    pub chosen: Spec,
    pub candidates: Vec<Candidate>,
    pub warnings: Vec<String>,
    /// The forecast from the end of the series, `horizon` steps.
    pub forecast: Forecast,
}

/// Backtests every method on `y` and keeps the best by MASE.
pub fn train_series(key: &str, y: &[f64], cfg: &TrainConfig) -> SeriesModel {
    let h = cfg.horizon.max(1);
    let n = y.len();
    let seasons = &cfg
        .seasons
        .clone()
        .unwrap_or_else(|| cfg.frequency.default_seasons(n));
    let m = seasons.first().copied().unwrap_or(1);
    let mut warnings = vec![];
    // Windows: as many as asked that leave the baseline something to fit.
    let min_train = models::min_length(Method::SeasonalNaive, seasons).max(3);
    let k = (0..=cfg.windows)
        .rev()
        .find(|k| n >= min_train + k * h)
        .unwrap_or(0);
    if k < cfg.windows {
        warnings.push(format!(
            "{n} points allow {k} backtest window(s) of {h} instead of {}",
            cfg.windows
        ));
    }
    let mut candidates = vec![];
    for &method in &cfg.methods {
        let spec = Spec::new(method, seasons);
        let mut c = Candidate {
            method,
            windows: vec![],
            mean: None,
            coverage80: None,
            coverage95: None,
            error: None,
        };
        let (mut in80, mut in95, mut total) = (0usize, 0usize, 0usize);
        for w in 0..k {
            let cut = n - (k - w) * h;
            let (train, test) = (&y[..cut], &y[cut..cut + h]);
            match models::forecast(&spec, train, h) {
                Ok((_, f)) => {
                    c.windows.push(metrics::score(
                        test,
                        &f.point,
                        metrics::mase_scale(train, m),
                    ));
                    for (i, a) in test.iter().enumerate() {
                        in80 += (f.lo80[i] <= *a && *a <= f.hi80[i]) as usize;
                        in95 += (f.lo95[i] <= *a && *a <= f.hi95[i]) as usize;
                        total += 1;
                    }
                }
                Err(e) => {
                    c.error = Some(e.to_string());
                    c.windows.clear();
                    break;
                }
            }
        }
        if c.error.is_none() && k > 0 {
            c.mean = Some(metrics::mean(&c.windows));
            c.coverage80 = Some(in80 as f64 / total as f64);
            c.coverage95 = Some(in95 as f64 / total as f64);
        }
        if let Some(e) = &c.error {
            warnings.push(format!("{} dropped: {e}", method.name()));
        }
        candidates.push(c);
    }
    // Lowest mean MASE (MAE when the scale is zero: a flat training series).
    let key_of = |c: &Candidate| c.mean.map(|m| m.mase.unwrap_or(m.mae));
    let mut ranked: Vec<&Candidate> = candidates.iter().filter(|c| key_of(c).is_some()).collect();
    ranked.sort_by(|a, b| key_of(a).unwrap().total_cmp(&key_of(b).unwrap()));
    let mut chosen = None;
    for c in &ranked {
        match models::forecast(&Spec::new(c.method, seasons), y, h) {
            Ok(fit) => {
                chosen = Some(fit);
                break;
            }
            Err(e) => warnings.push(format!(
                "{} failed on the whole series: {e}",
                c.method.name()
            )),
        }
    }
    let (chosen, forecast) = chosen.unwrap_or_else(|| {
        if k == 0 {
            warnings.push("too short for a backtest: the seasonal naive baseline is used".into());
        } else {
            warnings
                .push("no model could be backtested: the seasonal naive baseline is used".into());
        }
        let spec = Spec::new(Method::SeasonalNaive, seasons);
        let f = models::seasonal_naive(y, spec.m(), h);
        (spec, f)
    });
    SeriesModel {
        series: key.to_string(),
        chosen,
        candidates,
        warnings,
        forecast,
    }
}

/// The job was cancelled between series.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("cancelled")]
pub struct Cancelled;

/// Trains every `(key, y)` on a pool of `threads`, checking `cancel` before
/// each series and counting finished ones in `done` (for progress).
pub fn train_all(
    series: &[(String, &[f64])],
    cfg: &TrainConfig,
    threads: usize,
    cancel: &AtomicBool,
    done: &AtomicUsize,
) -> Result<Vec<SeriesModel>, Cancelled> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads.max(1))
        .build()
        .map_err(|_| Cancelled)?;
    pool.install(|| {
        series
            .par_iter()
            .map(|(key, y)| {
                if cancel.load(Ordering::Relaxed) {
                    return Err(Cancelled);
                }
                let r = train_series(key, y, cfg);
                done.fetch_add(1, Ordering::Relaxed);
                Ok(r)
            })
            .collect()
    })
}
