//! From a CSV upload to regular series and a validation report: every cell
//! parsed (ISO or `dd/mm/aaaa` stamps, `8,5` decimals through `ptbr`), rows
//! grouped by series, the frequency detected, missing stamps and values
//! found and filled by linear interpolation (said in the report), duplicated
//! stamps found (the last row wins, said too), outliers flagged (warnings
//! only), seasonal periods detected by augurs' periodogram.
//!
//! A bad cell is an error naming its line and column; the dataset is then
//! invalid and stores no series. Outliers use a robust rule written here
//! (distance from a centred rolling median over 1.4826 × MAD): augurs'
//! `outlier` module finds outlying *series* among many, not points in one.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};

use crate::freq::{format_stamp, parse_stamp, Frequency};
use crate::table::{self, Column, ReadOptions, Role, ShapeError};

/// At most this many cell errors are listed (all are counted).
pub const MAX_LISTED_ERRORS: usize = 100;
/// Fewer observations than this and a series cannot be forecast at all.
pub const MIN_LENGTH: usize = 3;

/// A regular series: `values[t][k]` is target `t` at `start` + `k` steps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Series {
    pub key: String,
    pub start: NaiveDateTime,
    pub values: Vec<Vec<f64>>,
}

impl Series {
    pub fn len(&self) -> usize {
        self.values.first().map_or(0, Vec::len)
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The parsed dataset: what training reads.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dataset {
    pub frequency: Frequency,
    pub targets: Vec<String>,
    pub series: Vec<Series>,
}

/// One bad cell or row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CellError {
    /// The file's line (the header is line 1).
    pub line: u64,
    pub column: Option<String>,
    pub value: Option<String>,
    pub message: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Outlier {
    pub at: String,
    pub value: f64,
}

/// One value column of one series.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TargetReport {
    pub target: String,
    /// Empty cells plus missing stamps, all filled.
    pub missing_values: usize,
    pub min: f64,
    pub max: f64,
    pub mean: f64,
    pub constant: bool,
    pub outliers: Vec<Outlier>,
    /// Periods augurs' periodogram finds (in steps), strongest first.
    pub seasonal_periods: Vec<u32>,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SeriesReport {
    pub series: String,
    pub length: usize,
    pub start: String,
    pub end: String,
    /// Stamps absent from the regular grid between start and end.
    pub missing_timestamps: usize,
    /// Stamps seen more than once (the last row is kept).
    pub duplicated_timestamps: usize,
    pub targets: Vec<TargetReport>,
    pub warnings: Vec<String>,
}

/// What `forecast.validate` stores and `GET /v1/datasets/{id}` shows.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
// Named apart from the same-named schema of another feature (components are one namespace).
#[schema(as = DatasetReport)]
pub struct Report {
    pub valid: bool,
    pub rows: usize,
    pub delimiter: String,
    pub columns: Vec<Column>,
    pub frequency: Option<Frequency>,
    pub series_count: usize,
    /// How gaps were filled.
    pub fill: String,
    pub errors: Vec<CellError>,
    pub errors_total: usize,
    pub warnings: Vec<String>,
    pub series: Vec<SeriesReport>,
}

/// `""`, `NA`, `NaN`, `null`, `-`: a missing value, not a bad one.
pub fn is_missing(cell: &str) -> bool {
    matches!(
        cell.trim().to_ascii_lowercase().as_str(),
        "" | "na" | "nan" | "null" | "-" | "n/a"
    )
}

/// One parsed row of one series.
struct Obs {
    at: NaiveDateTime,
    line: u64,
    values: Vec<f64>,
}

/// Reads and validates a CSV file. `Err` only for a file whose shape cannot
/// be read at all; bad cells give `Ok((None, report))` with the errors.
pub fn read(bytes: &[u8], opts: &ReadOptions) -> Result<(Option<Dataset>, Report), ShapeError> {
    let t = table::open(bytes, opts)?;
    let time = t.index_of(Role::Time)[0];
    let id = t.index_of(Role::SeriesId).first().copied();
    let values = t.index_of(Role::Value);
    let mut report = Report {
        delimiter: (t.delimiter as char).to_string(),
        columns: t.columns.clone(),
        fill: "linear interpolation between the neighbouring observations; the nearest one at the ends".into(),
        ..Report::default()
    };
    let error = |e: CellError, report: &mut Report| {
        report.errors_total += 1;
        if report.errors.len() < MAX_LISTED_ERRORS {
            report.errors.push(e);
        }
    };
    // Many rows share a stamp (one per series): parse each text once.
    let mut stamps: HashMap<String, Option<NaiveDateTime>> = HashMap::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut groups: Vec<(String, Vec<Obs>)> = vec![];
    let mut rdr = t.reader();
    let mut rec = csv::StringRecord::new();
    loop {
        match rdr.read_record(&mut rec) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                let message = match e.kind() {
                    csv::ErrorKind::UnequalLengths {
                        expected_len, len, ..
                    } => {
                        format!("{len} fields where the header has {expected_len}")
                    }
                    _ => e.to_string(),
                };
                error(
                    CellError {
                        line,
                        column: None,
                        value: None,
                        message,
                    },
                    &mut report,
                );
                // A broken row structure makes every later line suspect.
                break;
            }
        }
        report.rows += 1;
        let line = rec.position().map_or(0, |p| p.line());
        let cell = rec.get(time).unwrap_or("").trim();
        let at = match stamps.get(cell) {
            Some(at) => *at,
            None => {
                let at = parse_stamp(cell);
                stamps.insert(cell.to_string(), at);
                at
            }
        };
        let Some(at) = at else {
            error(
                CellError {
                    line,
                    column: Some(t.headers[time].clone()),
                    value: Some(cell.to_string()),
                    message: "not a date (ISO 2026-03-15, 2026-03-15T10:00:00 or 15/03/2026)"
                        .into(),
                },
                &mut report,
            );
            continue;
        };
        let mut row = Vec::with_capacity(values.len());
        for &v in &values {
            let cell = rec.get(v).unwrap_or("").trim();
            if is_missing(cell) {
                row.push(f64::NAN);
            } else if let Some(x) = ptbr::parse_decimal(cell) {
                row.push(x);
            } else {
                row.push(f64::NAN);
                error(
                    CellError {
                        line,
                        column: Some(t.headers[v].clone()),
                        value: Some(cell.to_string()),
                        message: "not a number (8,5 or 8.5; empty for a missing value)".into(),
                    },
                    &mut report,
                );
            }
        }
        let key = id.map_or("", |i| rec.get(i).unwrap_or("").trim());
        let g = match index.get(key) {
            Some(&g) => g,
            None => {
                index.insert(key.to_string(), groups.len());
                groups.push((key.to_string(), vec![]));
                groups.len() - 1
            }
        };
        groups[g].1.push(Obs {
            at,
            line,
            values: row,
        });
    }
    if report.rows == 0 {
        return Err(ShapeError::Empty);
    }
    let targets: Vec<String> = values.iter().map(|&i| t.headers[i].clone()).collect();
    // Frequency over every series' spacing.
    for (_, obs) in &mut groups {
        obs.sort_by_key(|o| o.at);
    }
    let mut spacing: Vec<NaiveDateTime> = vec![];
    for (_, obs) in &groups {
        for w in obs.windows(2) {
            if w[0].at != w[1].at {
                spacing.push(w[0].at);
                spacing.push(w[1].at);
            }
        }
    }
    let frequency = detect_pairs(&spacing);
    report.frequency = frequency;
    let Some(freq) = frequency else {
        if report.errors_total == 0 {
            error(
                CellError {
                    line: 0,
                    column: Some(t.headers[time].clone()),
                    value: None,
                    message: "no regular frequency: stamps are not hourly, daily, weekly, monthly, quarterly or yearly, or every series has a single row".into(),
                },
                &mut report,
            );
        }
        return Ok((None, report));
    };
    let mut series = Vec::with_capacity(groups.len());
    for (key, obs) in groups {
        match regularise(&key, obs, freq, &targets, &t.headers[time]) {
            Ok((s, r)) => {
                series.push(s);
                report.series.push(r);
            }
            Err(e) => error(e, &mut report),
        }
    }
    report.series_count = series.len();
    report.valid = report.errors_total == 0;
    let short = report
        .series
        .iter()
        .filter(|s| s.length < 2 * MIN_LENGTH)
        .count();
    if short > 0 {
        report
            .warnings
            .push(format!("{short} series have fewer than {} observations: only the seasonal naive baseline can be trusted on them", 2 * MIN_LENGTH));
    }
    let ds = report.valid.then_some(Dataset {
        frequency: freq,
        targets,
        series,
    });
    Ok((ds, report))
}

/// The most common spacing over consecutive pairs (flattened `a, b, a, b…`).
fn detect_pairs(pairs: &[NaiveDateTime]) -> Option<Frequency> {
    let mut counts: HashMap<i64, usize> = HashMap::new();
    for p in pairs.chunks(2) {
        *counts.entry((p[1] - p[0]).num_minutes()).or_default() += 1;
    }
    let (&mode, _) = counts.iter().max_by_key(|(d, c)| (**c, -**d))?;
    let a = NaiveDateTime::default();
    Frequency::detect(&[a, a + chrono::Duration::minutes(mode)]).or_else(|| {
        // Months and quarters vary in length: let the calendar decide.
        pairs
            .chunks(2)
            .find(|p| (p[1] - p[0]).num_minutes() == mode)
            .and_then(Frequency::detect)
    })
}

/// Puts one series on its regular grid and reports on it.
fn regularise(
    key: &str,
    obs: Vec<Obs>,
    freq: Frequency,
    targets: &[String],
    time_column: &str,
) -> Result<(Series, SeriesReport), CellError> {
    let start = obs[0].at;
    let end = obs[obs.len() - 1].at;
    let label = if key.is_empty() {
        "the series".to_string()
    } else {
        format!("series {key:?}")
    };
    let Some(steps) = freq.steps_between(start, end) else {
        return Err(off_grid(&obs, start, freq, time_column, &label));
    };
    let n = steps as usize + 1;
    if n < MIN_LENGTH {
        return Err(CellError {
            line: obs[0].line,
            column: None,
            value: None,
            message: format!(
                "{label} has {n} time step(s) ({} row(s)); a forecast needs at least {MIN_LENGTH}",
                obs.len()
            ),
        });
    }
    let mut grid: Vec<Vec<f64>> = vec![vec![f64::NAN; n]; targets.len()];
    let mut seen = vec![false; n];
    let mut duplicated = 0;
    let mut prev: Option<(NaiveDateTime, usize)> = None;
    for o in &obs {
        // Sorted: the step of `o` is the previous one's or further on.
        let k = match prev {
            Some((at, k)) if at == o.at => k,
            Some((at, k)) => {
                k + freq
                    .steps_between(at, o.at)
                    .ok_or_else(|| off_grid(&obs, start, freq, time_column, &label))?
                    as usize
            }
            None => 0,
        };
        if seen[k] {
            duplicated += 1;
        }
        seen[k] = true;
        for (t, v) in o.values.iter().enumerate() {
            if !v.is_nan() {
                grid[t][k] = *v;
            }
        }
        prev = Some((o.at, k));
    }
    let missing_timestamps = seen.iter().filter(|s| !**s).count();
    let mut warnings = vec![];
    if missing_timestamps > 0 {
        warnings.push(format!(
            "{missing_timestamps} missing time stamp(s), filled by interpolation"
        ));
    }
    if duplicated > 0 {
        warnings.push(format!(
            "{duplicated} duplicated time stamp(s): the last row of each was kept"
        ));
    }
    let mut reports = Vec::with_capacity(targets.len());
    for (t, y) in grid.iter_mut().enumerate() {
        let missing_values = y.iter().filter(|v| v.is_nan()).count();
        if missing_values == n {
            return Err(CellError {
                line: obs[0].line,
                column: Some(targets[t].clone()),
                value: None,
                message: format!("{label} has no value in column {:?}", targets[t]),
            });
        }
        fill_linear(y);
        let outliers = outliers(y)
            .into_iter()
            .map(|k| Outlier {
                at: format_stamp(freq.step(start, k as i64)),
                value: y[k],
            })
            .collect::<Vec<_>>();
        if !outliers.is_empty() {
            warnings.push(format!(
                "{} possible outlier(s) in {:?} (kept as they are)",
                outliers.len(),
                targets[t]
            ));
        }
        let (min, max) = y
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
                (a.min(v), b.max(v))
            });
        reports.push(TargetReport {
            target: targets[t].clone(),
            missing_values,
            min,
            max,
            mean: y.iter().sum::<f64>() / n as f64,
            constant: min == max,
            outliers,
            seasonal_periods: crate::models::detect_periods(y),
        });
    }
    Ok((
        Series {
            key: key.to_string(),
            start,
            values: grid,
        },
        SeriesReport {
            series: key.to_string(),
            length: n,
            start: format_stamp(start),
            end: format_stamp(end),
            missing_timestamps,
            duplicated_timestamps: duplicated,
            targets: reports,
            warnings,
        },
    ))
}

fn off_grid(
    obs: &[Obs],
    start: NaiveDateTime,
    freq: Frequency,
    column: &str,
    label: &str,
) -> CellError {
    let bad = obs
        .iter()
        .find(|o| freq.steps_between(start, o.at).is_none())
        .unwrap_or(&obs[0]);
    CellError {
        line: bad.line,
        column: Some(column.to_string()),
        value: Some(format_stamp(bad.at)),
        message: format!(
            "{label}: this stamp is not on the {freq:?} grid that starts at {}",
            format_stamp(start)
        )
        .to_lowercase(),
    }
}

/// Linear interpolation inside, the nearest observation at the ends.
pub fn fill_linear(y: &mut [f64]) {
    let known: Vec<usize> = (0..y.len()).filter(|&i| !y[i].is_nan()).collect();
    let (Some(&first), Some(&last)) = (known.first(), known.last()) else {
        return;
    };
    let firstv = y[first];
    for v in y[..first].iter_mut() {
        *v = firstv;
    }
    let lastv = y[last];
    for v in y[last + 1..].iter_mut() {
        *v = lastv;
    }
    for w in known.windows(2) {
        let (a, b) = (w[0], w[1]);
        for k in a + 1..b {
            let f = (k - a) as f64 / (b - a) as f64;
            y[k] = y[a] + f * (y[b] - y[a]);
        }
    }
}

/// Points far from a centred rolling median (window 7): |r| > 5 × 1.4826 × MAD of r.
pub fn outliers(y: &[f64]) -> Vec<usize> {
    const HALF: usize = 3;
    if y.len() < 2 * HALF + 2 {
        return vec![];
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(|a, b| a.total_cmp(b));
        v[v.len() / 2]
    };
    let resid: Vec<f64> = (0..y.len())
        .map(|i| {
            let lo = i.saturating_sub(HALF);
            let hi = (i + HALF + 1).min(y.len());
            y[i] - median(&mut y[lo..hi].to_vec())
        })
        .collect();
    let mad = median(&mut resid.iter().map(|r| r.abs()).collect());
    if mad == 0.0 {
        return vec![];
    }
    (0..y.len())
        .filter(|&i| resid[i].abs() > 5.0 * 1.4826 * mad)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_str(s: &str) -> (Option<Dataset>, Report) {
        read(s.as_bytes(), &ReadOptions::default()).unwrap()
    }

    #[test]
    fn reads_ptbr_file_with_gaps_and_duplicates() {
        let csv = "loja;data;vendas\nA;01/03/2026;8,5\nA;02/03/2026;9,5\nA;04/03/2026;11,5\nA;04/03/2026;12,5\nB;01/03/2026;1\nB;02/03/2026;\nB;03/03/2026;3\n";
        let (ds, r) = read_str(csv);
        assert!(r.valid, "{r:?}");
        let ds = ds.unwrap();
        assert_eq!(ds.frequency, Frequency::Daily);
        assert_eq!(ds.series[0].values[0], vec![8.5, 9.5, 11.0, 12.5]);
        assert_eq!(r.series[0].missing_timestamps, 1);
        assert_eq!(r.series[0].duplicated_timestamps, 1);
        assert_eq!(ds.series[1].values[0], vec![1.0, 2.0, 3.0]);
        assert_eq!(r.series[1].targets[0].missing_values, 1);
    }

    #[test]
    fn bad_cells_name_line_and_column() {
        let (ds, r) = read_str("ds,y\n2026-03-01,1\n2026-13-02,2\n2026-03-03,abc\n2026-03-04,4\n");
        assert!(ds.is_none());
        assert_eq!(r.errors_total, 2);
        assert_eq!(
            (r.errors[0].line, r.errors[0].column.as_deref()),
            (3, Some("ds"))
        );
        assert_eq!(
            (r.errors[1].line, r.errors[1].column.as_deref()),
            (4, Some("y"))
        );
        assert_eq!(r.errors[1].value.as_deref(), Some("abc"));
    }

    #[test]
    fn one_row_series_is_an_error() {
        let (ds, r) =
            read_str("id,ds,y\na,2026-03-01,1\na,2026-03-02,2\na,2026-03-03,2\nb,2026-03-01,5\n");
        assert!(ds.is_none());
        assert_eq!(r.errors[0].line, 5);
        assert!(
            r.errors[0].message.contains("series \"b\" has 1 time step"),
            "{:?}",
            r.errors
        );
    }

    #[test]
    fn flags_a_spike() {
        let mut y: Vec<f64> = (0..50).map(|i| 10.0 + (i % 7) as f64 * 0.5).collect();
        y[20] = 100.0;
        assert_eq!(outliers(&y), vec![20]);
    }
}
