//! The models, all fitted by augurs except the baselines: seasonal naive
//! and naive are one line of indexing each (augurs has none), with
//! statsforecast's interval rule (residual σ × √(⌊h/m⌋+1)).
//!
//! - `ets`: augurs' AutoETS over non-seasonal specs (error A/M, trend N/A,
//!   damped or not, chosen by AICc). augurs-ets 0.10 has no seasonal ETS,
//!   so seasonality comes from MSTL:
//! - `mstl_ets`: augurs' MSTL decomposition with the season lengths, the
//!   AutoETS above on the deseasonalised series, the last season added back.
//!
//! Every fit runs under `catch_unwind` and every output is checked finite:
//! a model that cannot fit a series returns [`ModelError`], and the caller
//! falls back to the baseline. augurs' fitted models are not serialisable,
//! so a [`Spec`] records what was chosen (method, seasons, ETS components)
//! and [`forecast`] re-fits exactly that spec on the stored series.

use std::panic::{catch_unwind, AssertUnwindSafe};

use augurs::ets::{trend::AutoETSTrendModel, AutoETS};
use augurs::mstl::MSTLModel;
use augurs::seasons::{Detector, PeriodogramDetector};
use augurs::{Fit, Predict};
use serde::{Deserialize, Serialize};

/// Normal quantiles of the two interval levels.
const Z80: f64 = 1.281_551_565_544_600_4;
const Z95: f64 = 1.959_963_984_540_054;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    SeasonalNaive,
    Naive,
    Ets,
    MstlEts,
}

impl Method {
    pub const ALL: [Method; 4] = [
        Method::SeasonalNaive,
        Method::Naive,
        Method::Ets,
        Method::MstlEts,
    ];
    /// What `models: "auto"` tries.
    pub const AUTO: [Method; 3] = [Method::SeasonalNaive, Method::Ets, Method::MstlEts];

    pub fn name(self) -> &'static str {
        match self {
            Method::SeasonalNaive => "seasonal_naive",
            Method::Naive => "naive",
            Method::Ets => "ets",
            Method::MstlEts => "mstl_ets",
        }
    }

    pub fn parse(s: &str) -> Option<Method> {
        Method::ALL.into_iter().find(|m| m.name() == s)
    }
}

/// A fitted model as the registry stores it: enough to fit it again.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Spec {
    pub method: Method,
    /// Season lengths (steps): the baseline's `m` is the first; MSTL uses all.
    pub seasons: Vec<usize>,
    /// The ETS components AutoETS chose (`AAN`: additive error, additive
    /// trend, no season), for `ets` only; `None` lets AutoETS search again.
    pub ets: Option<String>,
    pub damped: Option<bool>,
}

impl Spec {
    pub fn new(method: Method, seasons: &[usize]) -> Spec {
        Spec {
            method,
            seasons: seasons.to_vec(),
            ets: None,
            damped: None,
        }
    }

    /// The baseline's season length (1 when there is none).
    pub fn m(&self) -> usize {
        self.seasons.first().copied().unwrap_or(1).max(1)
    }
}

/// Point forecasts with 80 % and 95 % intervals.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Forecast {
    pub point: Vec<f64>,
    pub lo80: Vec<f64>,
    pub hi80: Vec<f64>,
    pub lo95: Vec<f64>,
    pub hi95: Vec<f64>,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ModelError {
    #[error("{method}: series too short ({n} points, needs {needs})")]
    TooShort {
        method: &'static str,
        n: usize,
        needs: usize,
    },
    #[error("{method}: {message}")]
    Fit {
        method: &'static str,
        message: String,
    },
}

/// The fewest points each method fits on.
pub fn min_length(method: Method, seasons: &[usize]) -> usize {
    let m = seasons.first().copied().unwrap_or(1).max(1);
    match method {
        Method::Naive => 2,
        Method::SeasonalNaive => m + 1,
        // AutoETS refuses n <= params + 4 (up to 4 parameters non-seasonal).
        Method::Ets => 10,
        // stl needs two full cycles of the longest season.
        Method::MstlEts => 2 * seasons.iter().copied().max().unwrap_or(0) + 10,
    }
}

/// Fits `spec` on `y` and forecasts `h` steps; returns the spec as fitted
/// (with the ETS components AutoETS chose).
pub fn forecast(spec: &Spec, y: &[f64], h: usize) -> Result<(Spec, Forecast), ModelError> {
    let method = spec.method.name();
    let needs = min_length(spec.method, &spec.seasons);
    if y.len() < needs {
        return Err(ModelError::TooShort {
            method,
            n: y.len(),
            needs,
        });
    }
    if spec.method == Method::MstlEts && spec.seasons.is_empty() {
        return Err(ModelError::Fit {
            method,
            message: "no season length".into(),
        });
    }
    let out = catch_unwind(AssertUnwindSafe(|| match spec.method {
        Method::SeasonalNaive => Ok((spec.clone(), seasonal_naive(y, spec.m(), h))),
        Method::Naive => Ok((spec.clone(), seasonal_naive(y, 1, h))),
        Method::Ets => ets(spec, y, h),
        Method::MstlEts => mstl_ets(spec, y, h),
    }))
    .unwrap_or_else(|_| {
        Err(ModelError::Fit {
            method,
            message: "the model panicked".into(),
        })
    })?;
    let f = &out.1;
    let finite = [&f.point, &f.lo80, &f.hi80, &f.lo95, &f.hi95]
        .iter()
        .all(|v| v.len() == h && v.iter().all(|x| x.is_finite()));
    if !finite {
        return Err(ModelError::Fit {
            method,
            message: "non-finite forecast".into(),
        });
    }
    Ok(out)
}

fn fit_err(method: Method) -> impl Fn(String) -> ModelError {
    move |message| ModelError::Fit {
        method: method.name(),
        message,
    }
}

fn ets(spec: &Spec, y: &[f64], h: usize) -> Result<(Spec, Forecast), ModelError> {
    let err = fit_err(Method::Ets);
    let auto = match &spec.ets {
        Some(s) => {
            let a = AutoETS::new(1, s.as_str()).map_err(|e| err(e.to_string()))?;
            match spec.damped {
                Some(d) => a.damped(d).map_err(|e| err(e.to_string()))?,
                None => a,
            }
        }
        None => AutoETS::non_seasonal(),
    };
    let fit = auto.fit(y).map_err(|e| err(e.to_string()))?;
    let model = fit.model();
    let t = model.model_type();
    let fitted = Spec {
        ets: Some(format!("{}{}{}", t.error, t.trend, t.season)),
        damped: Some(model.damped()),
        ..spec.clone()
    };
    let f80 = fit.predict(h, 0.8).map_err(|e| err(e.to_string()))?;
    let f95 = fit.predict(h, 0.95).map_err(|e| err(e.to_string()))?;
    Ok((fitted, join(f80, f95)))
}

fn mstl_ets(spec: &Spec, y: &[f64], h: usize) -> Result<(Spec, Forecast), ModelError> {
    let err = fit_err(Method::MstlEts);
    let trend = AutoETSTrendModel::from(AutoETS::non_seasonal());
    let fit = MSTLModel::new(spec.seasons.clone(), trend)
        .fit(y)
        .map_err(|e| err(e.to_string()))?;
    let f80 = fit.predict(h, 0.8).map_err(|e| err(e.to_string()))?;
    let f95 = fit.predict(h, 0.95).map_err(|e| err(e.to_string()))?;
    Ok((spec.clone(), join(f80, f95)))
}

fn join(f80: augurs::Forecast, f95: augurs::Forecast) -> Forecast {
    let (lo80, hi80) = f80
        .intervals
        .map(|i| (i.lower, i.upper))
        .unwrap_or_default();
    let (lo95, hi95) = f95
        .intervals
        .map(|i| (i.lower, i.upper))
        .unwrap_or_default();
    Forecast {
        point: f80.point,
        lo80,
        hi80,
        lo95,
        hi95,
    }
}

/// The last season repeated; σ from the in-sample seasonal differences.
pub fn seasonal_naive(y: &[f64], m: usize, h: usize) -> Forecast {
    let n = y.len();
    let m = m.min(n).max(1);
    let resid: Vec<f64> = (m..n).map(|t| y[t] - y[t - m]).collect();
    let sigma = if resid.is_empty() {
        0.0
    } else {
        (resid.iter().map(|e| e * e).sum::<f64>() / resid.len() as f64).sqrt()
    };
    let mut f = Forecast::default();
    for k in 0..h {
        let p = y[n - m + k % m];
        let s = sigma * (((k / m) + 1) as f64).sqrt();
        f.point.push(p);
        f.lo80.push(p - Z80 * s);
        f.hi80.push(p + Z80 * s);
        f.lo95.push(p - Z95 * s);
        f.hi95.push(p + Z95 * s);
    }
    f
}

/// Seasonal periods augurs' periodogram finds, strongest first (none for
/// short or constant series). It looks at the first differences: a trend's
/// power at low frequencies would otherwise drown the seasons.
pub fn detect_periods(y: &[f64]) -> Vec<u32> {
    if y.len() < 16 || y.iter().all(|v| *v == y[0]) {
        return vec![];
    }
    let d: Vec<f64> = y.windows(2).map(|w| w[1] - w[0]).collect();
    catch_unwind(AssertUnwindSafe(|| {
        PeriodogramDetector::default().detect(&d)
    }))
    .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seasonal_naive_repeats_the_last_season_with_widening_intervals() {
        let y = [1.0, 2.0, 3.0, 1.5, 2.5, 3.5];
        let f = seasonal_naive(&y, 3, 6);
        assert_eq!(f.point, vec![1.5, 2.5, 3.5, 1.5, 2.5, 3.5]);
        let w0 = f.hi95[0] - f.lo95[0];
        let w3 = f.hi95[3] - f.lo95[3];
        assert!((w3 / w0 - 2f64.sqrt()).abs() < 1e-9);
    }

    #[test]
    fn constant_and_short_series_do_not_crash() {
        let flat = vec![5.0; 40];
        for m in Method::ALL {
            let _ = forecast(&Spec::new(m, &[7]), &flat, 7);
        }
        let short = [1.0, 2.0];
        assert!(matches!(
            forecast(&Spec::new(Method::Ets, &[]), &short, 3),
            Err(ModelError::TooShort { .. })
        ));
    }

    #[test]
    fn finds_a_weekly_season_under_a_trend() {
        let week = [0.0, 3.0, 5.0, 2.0, -1.0, -9.0, -10.0];
        // Two years: augurs' periodogram bins are 2^k-point FFTs of half the
        // series, too coarse to tell 7 from 6 or 8 below ~200 points.
        let y: Vec<f64> = (0..730)
            .map(|t| 50.0 + 0.2 * t as f64 + week[t % 7] + ((t * 31) % 11) as f64 * 0.3)
            .collect();
        assert_eq!(
            detect_periods(&y).first(),
            Some(&7),
            "{:?}",
            detect_periods(&y)
        );
    }

    #[test]
    fn ets_spec_refits_to_the_same_forecast() {
        let y: Vec<f64> = (0..60)
            .map(|i| 10.0 + 0.5 * i as f64 + ((i * 7919) % 13) as f64 * 0.1)
            .collect();
        let (spec, f) = forecast(&Spec::new(Method::Ets, &[]), &y, 5).unwrap();
        assert!(spec.ets.is_some());
        let (_, again) = forecast(&spec, &y, 5).unwrap();
        for (a, b) in f.point.iter().zip(&again.point) {
            assert!((a - b).abs() < 1e-6 * a.abs().max(1.0), "{a} vs {b}");
        }
    }
}
