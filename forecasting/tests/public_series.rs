//! Real public series shipped inside the statsmodels PyPI package (installed
//! in the test tools venv by `scripts/lib.sh`; read from disk, nothing is
//! downloaded): Mauna Loa CO₂ (weekly, with gaps), US real GDP (quarterly),
//! yearly sunspots. Each goes through the CSV reader and validation, then
//! training on all but the last `h` points; MASE on the held-out part is
//! printed per series beside the seasonal naive's, and on CO₂ (trend +
//! yearly season) the chosen model must beat the baseline.

use std::path::PathBuf;
use std::process::Command;

use forecasting::dataset;
use forecasting::freq::Frequency;
use forecasting::metrics;
use forecasting::models::{self, Method};
use forecasting::table::ReadOptions;
use forecasting::train::{train_series, TrainConfig};

/// statsmodels' `datasets` folder, found through the test tools' python.
fn statsmodels_datasets() -> PathBuf {
    let python = std::env::var("TAREFA_PYTHON")
        .ok()
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| {
            let venv = format!(
                "{}/.cache/tarefa/pytools/bin/python",
                std::env::var("HOME").unwrap_or_default()
            );
            if std::path::Path::new(&venv).exists() {
                venv
            } else {
                "python3".into()
            }
        });
    let out = Command::new(&python)
        .args([
            "-c",
            "import os, statsmodels.datasets as d; print(os.path.dirname(d.__file__))",
        ])
        .output()
        .unwrap_or_else(|e| panic!("running {python}: {e}"));
    assert!(
        out.status.success(),
        "statsmodels is not installed for {python}: run scripts/test.sh (it installs it into the test tools venv)\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    PathBuf::from(String::from_utf8(out.stdout).unwrap().trim())
}

fn read(dir: &str, file: &str) -> String {
    std::fs::read_to_string(statsmodels_datasets().join(dir).join(file)).unwrap()
}

/// Validates `csv`, trains on all but the last `h` points, returns (ours, seasonal naive) MASE.
fn holdout(name: &str, csv: &str, freq: Frequency, m: usize, h: usize) -> (f64, f64) {
    let (ds, report) = dataset::read(csv.as_bytes(), &ReadOptions::default()).unwrap();
    assert!(report.valid, "{name}: {:?}", report.errors);
    let ds = ds.unwrap();
    assert_eq!(ds.frequency, freq, "{name}");
    let y = &ds.series[0].values[0];
    let (train, test) = y.split_at(y.len() - h);
    let seasons = if m > 1 { Some(vec![m]) } else { Some(vec![]) };
    let cfg = TrainConfig {
        horizon: h,
        methods: Method::AUTO.to_vec(),
        seasons,
        frequency: freq,
        windows: 3,
    };
    let fit = train_series(name, train, &cfg);
    let scale = metrics::mase_scale(train, m);
    let ours = metrics::score(test, &fit.forecast.point, scale)
        .mase
        .unwrap();
    let base = metrics::score(test, &models::seasonal_naive(train, m, h).point, scale)
        .mase
        .unwrap();
    eprintln!(
        "{name}: n={} h={h} chose {} (warnings {:?}); holdout MASE {ours:.3} vs seasonal naive {base:.3}; missing filled {}",
        y.len(),
        fit.chosen.method.name(),
        fit.warnings,
        report.series[0].targets[0].missing_values
    );
    assert!(ours.is_finite());
    (ours, base)
}

#[test]
fn co2_weekly_with_gaps_beats_the_seasonal_naive() {
    // `19580329,316.1` → ISO dates; empty cells stay missing (the report fills them).
    let raw = read("co2", "co2.csv");
    let mut csv = String::from("ds,co2\n");
    for line in raw.lines().skip(1) {
        let (d, v) = line.split_once(',').unwrap();
        csv.push_str(&format!("{}-{}-{},{v}\n", &d[..4], &d[4..6], &d[6..8]));
    }
    let (ours, base) = holdout("co2", &csv, Frequency::Weekly, 52, 52);
    assert!(ours < base, "co2: chosen {ours} vs seasonal naive {base}");
}

#[test]
fn macrodata_quarterly_gdp_and_yearly_sunspots_train() {
    let raw = read("macrodata", "macrodata.csv");
    let mut csv = String::from("ds,realgdp\n");
    for line in raw.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let month = (f[1].parse::<u32>().unwrap() - 1) * 3 + 1;
        csv.push_str(&format!("{}-{month:02}-01,{}\n", f[0], f[2]));
    }
    holdout("macrodata realgdp", &csv, Frequency::Quarterly, 4, 8);

    let raw = read("sunspots", "sunspots.csv");
    let mut csv = String::from("ds,sunactivity\n");
    for line in raw.lines().skip(1) {
        let (y, v) = line.split_once(',').unwrap();
        csv.push_str(&format!(
            "{}-01-01,{v}\n",
            y.trim_matches('"').trim_end_matches(".0")
        ));
    }
    holdout("sunspots", &csv, Frequency::Yearly, 11, 11);
}
