//! Forecast accuracy: MAE, RMSE, MAPE, sMAPE and MASE, as statsforecast /
//! utilsforecast define them (MAPE and sMAPE in percent; MAPE skips zero
//! actuals; MASE scales by the in-sample MAE of the seasonal naive). A few
//! lines each; written here because augurs provides none.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
// Named apart from the same-named schema of another feature (components are one namespace).
#[schema(as = ForecastMetrics)]
pub struct Metrics {
    pub mae: f64,
    pub rmse: f64,
    /// Percent; `None` when every actual is zero.
    pub mape: Option<f64>,
    /// Percent, 0-200.
    pub smape: f64,
    /// `None` when the training series has no seasonal variation to scale by.
    pub mase: Option<f64>,
}

/// The in-sample MAE of the seasonal naive on `train` (MASE's denominator).
pub fn mase_scale(train: &[f64], m: usize) -> Option<f64> {
    let m = if train.len() > m { m.max(1) } else { 1 };
    if train.len() <= m {
        return None;
    }
    let s = (m..train.len())
        .map(|t| (train[t] - train[t - m]).abs())
        .sum::<f64>()
        / (train.len() - m) as f64;
    (s > 0.0).then_some(s)
}

pub fn score(actual: &[f64], predicted: &[f64], scale: Option<f64>) -> Metrics {
    let n = actual.len().min(predicted.len()).max(1) as f64;
    let pairs = || actual.iter().zip(predicted);
    let mae = pairs().map(|(a, p)| (a - p).abs()).sum::<f64>() / n;
    let rmse = (pairs().map(|(a, p)| (a - p).powi(2)).sum::<f64>() / n).sqrt();
    let nonzero: Vec<f64> = pairs()
        .filter(|(a, _)| **a != 0.0)
        .map(|(a, p)| ((a - p) / a).abs())
        .collect();
    let mape =
        (!nonzero.is_empty()).then(|| 100.0 * nonzero.iter().sum::<f64>() / nonzero.len() as f64);
    let smape = 100.0
        * pairs()
            .map(|(a, p)| {
                let d = a.abs() + p.abs();
                if d == 0.0 {
                    0.0
                } else {
                    2.0 * (a - p).abs() / d
                }
            })
            .sum::<f64>()
        / n;
    Metrics {
        mae,
        rmse,
        mape,
        smape,
        mase: scale.map(|s| mae / s),
    }
}

/// The mean of each metric over windows (a `None` in any window makes it `None`).
pub fn mean(ms: &[Metrics]) -> Metrics {
    let n = ms.len().max(1) as f64;
    let opt = |f: fn(&Metrics) -> Option<f64>| {
        ms.iter()
            .map(f)
            .collect::<Option<Vec<f64>>>()
            .map(|v| v.iter().sum::<f64>() / n)
    };
    Metrics {
        mae: ms.iter().map(|m| m.mae).sum::<f64>() / n,
        rmse: ms.iter().map(|m| m.rmse).sum::<f64>() / n,
        mape: opt(|m| m.mape),
        smape: ms.iter().map(|m| m.smape).sum::<f64>() / n,
        mase: opt(|m| m.mase),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values() {
        let m = score(&[1.0, 2.0, 4.0], &[2.0, 2.0, 2.0], Some(0.5));
        assert!((m.mae - 1.0).abs() < 1e-12);
        assert!((m.rmse - (5.0f64 / 3.0).sqrt()).abs() < 1e-12);
        assert!((m.mape.unwrap() - 100.0 * (1.0 + 0.0 + 0.5) / 3.0).abs() < 1e-9);
        assert!((m.mase.unwrap() - 2.0).abs() < 1e-12);
        assert_eq!(mase_scale(&[1.0, 2.0, 3.0, 2.0, 3.0, 4.0], 3), Some(1.0));
        assert_eq!(mase_scale(&[5.0; 10], 1), None);
    }
}
