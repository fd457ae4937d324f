//! Generated series with a known structure (level, trend, weekly season and
//! Gaussian noise): the model chosen by backtest beats the seasonal naive
//! baseline out of sample, and the 80 %/95 % intervals cover about their
//! share of the held-out actuals. Also: short and constant series fall back
//! to the baseline with a warning instead of failing.

use std::sync::atomic::{AtomicBool, AtomicUsize};

use forecasting::freq::Frequency;
use forecasting::metrics;
use forecasting::models::{self, Method, Spec};
use forecasting::train::{train_all, train_series, TrainConfig};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

fn normal(rng: &mut StdRng) -> f64 {
    let (u1, u2): (f64, f64) = (rng.random::<f64>().max(1e-12), rng.random());
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}

/// `n` days: 100 + slope·t + a weekly pattern of amplitude `amp` + N(0, σ).
fn series(rng: &mut StdRng, n: usize, slope: f64, amp: f64, sigma: f64) -> Vec<f64> {
    let week = [0.0, 0.3, 0.5, 0.2, -0.1, -0.9, -1.0];
    let phase = rng.random_range(0..7);
    (0..n)
        .map(|t| 100.0 + slope * t as f64 + amp * week[(t + phase) % 7] + sigma * normal(rng))
        .collect()
}

fn cfg(h: usize) -> TrainConfig {
    TrainConfig {
        horizon: h,
        methods: Method::AUTO.to_vec(),
        seasons: None,
        frequency: Frequency::Daily,
        windows: 3,
    }
}

#[test]
fn chosen_model_beats_seasonal_naive_and_intervals_cover_their_share() {
    let mut rng = StdRng::seed_from_u64(19);
    let h = 14;
    let (mut chosen_mase, mut naive_mase) = (vec![], vec![]);
    let (mut in80, mut in95, mut total) = (0, 0, 0);
    for _ in 0..30 {
        let slope = rng.random_range(0.05..0.4);
        let amp = rng.random_range(10.0..30.0);
        let y = series(&mut rng, 2 * 365, slope, amp, 3.0);
        let (train, test) = y.split_at(y.len() - h);
        let m = train_series("s", train, &cfg(h));
        let scale = metrics::mase_scale(train, 7);
        let ours = metrics::score(test, &m.forecast.point, scale);
        let base = models::seasonal_naive(train, 7, h);
        let naive = metrics::score(test, &base.point, scale);
        chosen_mase.push(ours.mase.unwrap());
        naive_mase.push(naive.mase.unwrap());
        for (i, a) in test.iter().enumerate() {
            in80 += (m.forecast.lo80[i] <= *a && *a <= m.forecast.hi80[i]) as usize;
            in95 += (m.forecast.lo95[i] <= *a && *a <= m.forecast.hi95[i]) as usize;
            total += 1;
        }
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let (ours, base) = (mean(&chosen_mase), mean(&naive_mase));
    eprintln!(
        "mean MASE chosen {ours:.3} vs seasonal naive {base:.3}; coverage80 {:.3} coverage95 {:.3}",
        in80 as f64 / total as f64,
        in95 as f64 / total as f64
    );
    assert!(ours < 0.8 * base, "chosen {ours} vs seasonal naive {base}");
    let c80 = in80 as f64 / total as f64;
    let c95 = in95 as f64 / total as f64;
    assert!((0.65..=0.95).contains(&c80), "80 % interval covered {c80}");
    assert!((0.85..=1.0).contains(&c95), "95 % interval covered {c95}");
}

#[test]
fn short_and_constant_series_fall_back_to_the_baseline_with_a_warning() {
    let short = [10.0, 12.0, 11.0, 13.0];
    let m = train_series("curta", &short, &cfg(7));
    assert_eq!(m.chosen.method, Method::SeasonalNaive);
    assert!(
        m.warnings.iter().any(|w| w.contains("too short")),
        "{:?}",
        m.warnings
    );
    assert_eq!(m.forecast.point.len(), 7);

    let flat = vec![42.0; 120];
    let m = train_series("constante", &flat, &cfg(7));
    assert_eq!(m.forecast.point.len(), 7);
    assert!(
        m.forecast.point.iter().all(|p| (p - 42.0).abs() < 1e-6),
        "{:?}",
        m.forecast.point
    );

    // A spec that cannot fit the data fails as a value, never a panic.
    let e = models::forecast(&Spec::new(Method::MstlEts, &[365]), &short, 3).unwrap_err();
    assert!(e.to_string().contains("too short"), "{e}");
}

#[test]
fn many_series_train_in_parallel_and_a_cancel_stops_them() {
    let mut rng = StdRng::seed_from_u64(7);
    let ys: Vec<Vec<f64>> = (0..40)
        .map(|_| series(&mut rng, 200, 0.1, 15.0, 2.0))
        .collect();
    let input: Vec<(String, &[f64])> = ys
        .iter()
        .enumerate()
        .map(|(i, y)| (format!("s{i}"), y.as_slice()))
        .collect();
    let done = AtomicUsize::new(0);
    let out = train_all(&input, &cfg(7), 2, &AtomicBool::new(false), &done).unwrap();
    assert_eq!(out.len(), 40);
    assert_eq!(done.into_inner(), 40);
    assert!(out.iter().zip(&input).all(|(m, (k, _))| &m.series == k));
    let cancelled = train_all(
        &input,
        &cfg(7),
        2,
        &AtomicBool::new(true),
        &AtomicUsize::new(0),
    );
    assert!(cancelled.is_err());
}
