//! `bench forecasting` (issue 19), in-process, with the functions the
//! `forecast.*` jobs call (no PostgreSQL or queue in the timings):
//!
//! 1. N daily series × D days (default 1,000 × 730: level, trend, weekly
//!    season, Gaussian noise; seeded), written as one CSV (`unique_id,ds,y`);
//! 2. validate: `dataset::read` on the CSV bytes (parse, grid, report);
//! 3. train: `train::train_all` (3 backtest windows of 14 days, auto =
//!    seasonal naive + AutoETS + MSTL(7)+AutoETS, choice by MASE) on all
//!    but the last 14 days, on a pool of `--threads`;
//! 4. predict: every stored spec re-fitted and 14 days forecast
//!    (`kinds::predict_many`, as `forecast.predict` does);
//! 5. the same train/hold-out split through statsforecast's AutoETS and
//!    SeasonalNaive (`bench/forecasting_statsforecast.py`, PyPI 2.x),
//!    MASE on the held-out 14 days and seconds side by side.
//!
//! Peak memory is this process's VmHWM after each phase.

use std::sync::atomic::{AtomicBool, AtomicUsize};
use std::time::Instant;

use anyhow::{Context, Result};
use chrono::NaiveDate;

use forecasting::freq::Frequency;
use forecasting::kinds::predict_many;
use forecasting::metrics;
use forecasting::models::{seasonal_naive, Method};
use forecasting::sql::ModelSeriesRow;
use forecasting::table::ReadOptions;
use forecasting::train::{train_all, TrainConfig};

#[derive(clap::Parser, Clone)]
pub struct ForecastingArgs {
    #[arg(long, default_value_t = 1000)]
    pub series: usize,
    #[arg(long, default_value_t = 730)]
    pub days: usize,
    #[arg(long, default_value_t = 14)]
    pub horizon: usize,
    #[arg(long, default_value_t = 2)]
    pub threads: usize,
    /// Python with statsforecast (default: the test tools venv).
    #[arg(long)]
    pub python: Option<String>,
}

fn vm_hwm_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| {
                l.split_whitespace()
                    .nth(1)
                    .and_then(|k| k.parse::<f64>().ok())
            })
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

/// A small seeded generator (xorshift64*) so the bench needs no rand feature.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545F4914F6CDD1D) >> 11) as f64 / (1u64 << 53) as f64
    }
    fn normal(&mut self) -> f64 {
        let (u1, u2) = (self.next().max(1e-12), self.next());
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }
}

fn make_csv(n: usize, days: usize) -> String {
    let mut rng = Rng(0x9E3779B97F4A7C15);
    let start = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
    let week = [0.0, 0.3, 0.5, 0.2, -0.1, -0.9, -1.0];
    let mut s = String::with_capacity(n * days * 32);
    s.push_str("unique_id,ds,y\n");
    for i in 0..n {
        let level = 50.0 + 200.0 * rng.next();
        let slope = 0.2 * rng.next() - 0.05;
        let amp = level * (0.05 + 0.25 * rng.next());
        let sigma = level * (0.01 + 0.05 * rng.next());
        let phase = (rng.next() * 7.0) as usize;
        for t in 0..days {
            let y = level + slope * t as f64 + amp * week[(t + phase) % 7] + sigma * rng.normal();
            let d = start + chrono::Duration::days(t as i64);
            s.push_str(&format!("s{i:04},{d},{y:.3}\n"));
        }
    }
    s
}

pub async fn run(a: ForecastingArgs) -> Result<()> {
    let h = a.horizon;
    let csv = make_csv(a.series, a.days);
    let path = std::env::temp_dir().join(format!(
        "tarefa-bench-forecasting-{}.csv",
        std::process::id()
    ));
    std::fs::write(&path, &csv)?;
    let mib = csv.len() as f64 / (1024.0 * 1024.0);
    let base_mem = vm_hwm_mib();

    let t = Instant::now();
    let (ds, report) = forecasting::dataset::read(csv.as_bytes(), &ReadOptions::default())?;
    let validate = t.elapsed().as_secs_f64();
    let ds = ds.context("generated dataset invalid")?;
    anyhow::ensure!(
        report.valid && ds.series.len() == a.series,
        "validation: {:?}",
        report.errors
    );
    let mem_validate = vm_hwm_mib();
    drop(csv);

    let trains: Vec<(String, &[f64])> = ds
        .series
        .iter()
        .map(|s| (s.key.clone(), &s.values[0][..s.len() - h]))
        .collect();
    let cfg = TrainConfig {
        horizon: h,
        methods: Method::AUTO.to_vec(),
        seasons: None,
        frequency: Frequency::Daily,
        windows: 3,
    };
    let t = Instant::now();
    let trained = tokio::task::block_in_place(|| {
        train_all(
            &trains,
            &cfg,
            a.threads,
            &AtomicBool::new(false),
            &AtomicUsize::new(0),
        )
    })
    .map_err(|_| anyhow::anyhow!("cancelled"))?;
    let train = t.elapsed().as_secs_f64();
    let mem_train = vm_hwm_mib();

    // Hold-out MASE of the chosen models and of the seasonal naive.
    let (mut ours, mut snaive) = (vec![], vec![]);
    let mut chosen = std::collections::BTreeMap::<&str, usize>::new();
    for (m, s) in trained.iter().zip(&ds.series) {
        let y = &s.values[0];
        let (tr, te) = y.split_at(y.len() - h);
        let scale = metrics::mase_scale(tr, 7);
        ours.push(
            metrics::score(te, &m.forecast.point, scale)
                .mase
                .unwrap_or(f64::NAN),
        );
        snaive.push(
            metrics::score(te, &seasonal_naive(tr, 7, h).point, scale)
                .mase
                .unwrap_or(f64::NAN),
        );
        *chosen.entry(m.chosen.method.name()).or_default() += 1;
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;

    let rows: Vec<ModelSeriesRow> = trained
        .iter()
        .zip(&ds.series)
        .map(|(m, s)| ModelSeriesRow {
            key: m.series.clone(),
            method: m.chosen.method.name().into(),
            spec: sqlx::types::Json(m.chosen.clone()),
            candidates: sqlx::types::Json(vec![]),
            warnings: sqlx::types::Json(vec![]),
            start: s.start,
            values: s.values[0].clone(),
            forecast: sqlx::types::Json(Default::default()),
        })
        .collect();
    let t = Instant::now();
    let points = tokio::task::block_in_place(|| predict_many(&rows, Frequency::Daily, h))?;
    let predict = t.elapsed().as_secs_f64();
    let mem_predict = vm_hwm_mib();

    let python = a.python.clone().unwrap_or_else(|| {
        format!(
            "{}/.cache/tarefa/pytools/bin/python",
            std::env::var("HOME").unwrap_or_default()
        )
    });
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/forecasting_statsforecast.py");
    let t = Instant::now();
    let out = std::process::Command::new(&python)
        .args([
            script,
            path.to_str().unwrap(),
            &h.to_string(),
            "7",
            &a.threads.to_string(),
        ])
        .output()
        .with_context(|| format!("running {python}"))?;
    let sf_wall = t.elapsed().as_secs_f64();
    let _ = std::fs::remove_file(&path);
    let sf: serde_json::Value = if out.status.success() {
        serde_json::from_slice(out.stdout.trim_ascii()).unwrap_or_default()
    } else {
        serde_json::json!({ "error": String::from_utf8_lossy(&out.stderr).lines().last().unwrap_or("") })
    };

    println!(
        "## bench forecasting — {}",
        chrono::Utc::now().format("%Y-%m-%d %H:%M UTC")
    );
    println!();
    println!("- data: {} daily series × {} days (trend + weekly season + Gaussian noise, seeded), CSV {mib:.1} MiB; horizon {h}; {} threads", a.series, a.days, a.threads);
    println!("- Tarefa: in-process, the functions the jobs call (no PostgreSQL/queue in the timings); auto = seasonal naive, AutoETS, MSTL(7)+AutoETS (augurs 0.10), 3 backtest windows of {h}, choice by MASE");
    println!("- statsforecast {}: AutoETS(season_length=7) and SeasonalNaive(7), `forecast` with n_jobs={} (python process: {sf_wall:.1} s wall incl. import and CSV)", sf["version"].as_str().unwrap_or("?"), a.threads);
    println!();
    println!("| phase | Tarefa | statsforecast (same run) |");
    println!("|---|---|---|");
    println!("| validate (parse, grid, gaps, outliers, periods, report) | {validate:.2} s | — |");
    println!("| train: backtests + final fit, all series | {train:.1} s | — |");
    println!(
        "| predict {h} days, all series (re-fit stored specs) | {predict:.1} s ({} rows) | — |",
        points.len()
    );
    println!(
        "| fit + forecast (AutoETS, seasonal naive) | — | {:.1} s |",
        sf["secs"].as_f64().unwrap_or(f64::NAN)
    );
    println!(
        "| hold-out MASE (last {h} days), mean over series: chosen model | {:.3} | AutoETS {:.3} |",
        mean(&ours),
        sf["mase_autoets"].as_f64().unwrap_or(f64::NAN)
    );
    println!(
        "| hold-out MASE: seasonal naive | {:.3} | {:.3} |",
        mean(&snaive),
        sf["mase_seasonal_naive"].as_f64().unwrap_or(f64::NAN)
    );
    println!("| peak RSS (VmHWM) after start / validate / train / predict | {base_mem:.0} / {mem_validate:.0} / {mem_train:.0} / {mem_predict:.0} MiB | — |");
    println!();
    println!("- chosen per series: {chosen:?}");
    if let Some(e) = sf.get("error") {
        println!("- statsforecast failed: {e}");
    }
    Ok(())
}
