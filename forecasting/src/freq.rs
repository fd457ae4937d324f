//! Time stamps and frequencies: parsing a time cell (ISO dates and
//! date-times, `dd/mm/aaaa` through `ptbr`), detecting a series' frequency
//! from the spacing of its stamps, and stepping along a frequency's grid.
//!
//! Calendar steps (months, quarters) are chrono's `Months`, not a fixed
//! number of days, so 31/01 → 28/02 → 31/03 stays on month ends.

use chrono::{Datelike, Duration, Months, NaiveDate, NaiveDateTime, NaiveTime};
use serde::{Deserialize, Serialize};

/// The frequencies a dataset can have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Frequency {
    Hourly,
    Daily,
    Weekly,
    Monthly,
    Quarterly,
    Yearly,
}

impl Frequency {
    /// The season lengths tried when the caller gives none (as statsforecast's
    /// users usually set them): a day of hours and a week of hours, a week of
    /// days (and a year when the series holds three), a year of weeks,
    /// months and quarters.
    pub fn default_seasons(self, n: usize) -> Vec<usize> {
        let fits = |m: usize| n >= 3 * m;
        let wanted: &[usize] = match self {
            Frequency::Hourly => &[24, 168],
            Frequency::Daily => &[7, 365],
            Frequency::Weekly => &[52],
            Frequency::Monthly => &[12],
            Frequency::Quarterly => &[4],
            Frequency::Yearly => &[],
        };
        wanted.iter().copied().filter(|&m| fits(m)).collect()
    }

    /// The stamp `k` steps after `t`.
    pub fn step(self, t: NaiveDateTime, k: i64) -> NaiveDateTime {
        let months = |m: i64| {
            if m >= 0 {
                t.checked_add_months(Months::new(m as u32))
            } else {
                t.checked_sub_months(Months::new((-m) as u32))
            }
            .unwrap_or(t)
        };
        match self {
            Frequency::Hourly => t + Duration::hours(k),
            Frequency::Daily => t + Duration::days(k),
            Frequency::Weekly => t + Duration::weeks(k),
            Frequency::Monthly => months(k),
            Frequency::Quarterly => months(3 * k),
            Frequency::Yearly => months(12 * k),
        }
    }

    /// How many steps from `a` to `b` (`None` when `b` is not on `a`'s grid).
    pub fn steps_between(self, a: NaiveDateTime, b: NaiveDateTime) -> Option<i64> {
        let k = match self {
            Frequency::Hourly => (b - a).num_hours(),
            Frequency::Daily => (b - a).num_days(),
            Frequency::Weekly => (b - a).num_weeks(),
            Frequency::Monthly | Frequency::Quarterly | Frequency::Yearly => {
                let months =
                    (b.year() - a.year()) as i64 * 12 + b.month() as i64 - a.month() as i64;
                let per = match self {
                    Frequency::Monthly => 1,
                    Frequency::Quarterly => 3,
                    _ => 12,
                };
                if months % per != 0 {
                    return None;
                }
                months / per
            }
        };
        (self.step(a, k) == b).then_some(k)
    }

    /// The frequency of sorted, distinct stamps: the most common spacing
    /// (robust to a few gaps). `None` with fewer than two stamps or a
    /// spacing that is none of ours (every 10 minutes, every 3 days).
    pub fn detect(stamps: &[NaiveDateTime]) -> Option<Frequency> {
        let mut counts: std::collections::BTreeMap<i64, usize> = Default::default();
        for w in stamps.windows(2) {
            *counts.entry((w[1] - w[0]).num_minutes()).or_default() += 1;
        }
        let (&mode, _) = counts.iter().max_by_key(|(d, c)| (**c, -**d))?;
        let day = 24 * 60;
        Some(match mode {
            60 => Frequency::Hourly,
            m if m == day => Frequency::Daily,
            m if m == 7 * day => Frequency::Weekly,
            m if (28 * day..=31 * day).contains(&m) => Frequency::Monthly,
            m if (89 * day..=92 * day).contains(&m) => Frequency::Quarterly,
            m if (365 * day..=366 * day).contains(&m) => Frequency::Yearly,
            _ => return None,
        })
    }
}

/// A time cell: `2026-03-15`, `2026-03-15T10:00:00`, `2026-03-15 10:00`,
/// RFC 3339 with an offset (kept as its UTC instant), `15/03/2026`,
/// `15/03/2026 10:00`, or a month `2026-03`.
pub fn parse_stamp(s: &str) -> Option<NaiveDateTime> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    if let Some(d) = ptbr::parse_date(s) {
        return Some(d.and_time(NaiveTime::MIN));
    }
    // ptbr keeps to 1900-2200 (school records); history (sunspots since 1700) may not.
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Some(d.and_time(NaiveTime::MIN));
    }
    for f in [
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, f) {
            return Some(t);
        }
    }
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
        return Some(t.naive_utc());
    }
    if let Some((date, time)) = s.split_once(' ') {
        let d = ptbr::parse_date(date)?;
        let t = NaiveTime::parse_from_str(time, "%H:%M")
            .or_else(|_| NaiveTime::parse_from_str(time, "%H:%M:%S"))
            .ok()?;
        return Some(d.and_time(t));
    }
    // A month alone (`2026-03`), as monthly exports write it.
    let (y, m) = s.split_once('-')?;
    if y.len() == 4 && m.len() <= 2 {
        let d = NaiveDate::from_ymd_opt(y.parse().ok()?, m.parse().ok()?, 1)?;
        return Some(d.and_time(NaiveTime::MIN));
    }
    None
}

/// How a stamp is written back: a date alone when it is midnight.
pub fn format_stamp(t: NaiveDateTime) -> String {
    if t.time() == NaiveTime::MIN {
        t.format("%Y-%m-%d").to_string()
    } else {
        t.format("%Y-%m-%dT%H:%M:%S").to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDateTime {
        parse_stamp(s).unwrap()
    }

    #[test]
    fn parses_iso_and_ptbr_dates() {
        assert_eq!(d("15/03/2026"), d("2026-03-15"));
        assert_eq!(d("15/03/2026 10:30"), d("2026-03-15T10:30:00"));
        assert_eq!(d("2026-03"), d("2026-03-01"));
        assert_eq!(d("2026-03-15T13:00:00Z"), d("2026-03-15 13:00"));
        assert!(parse_stamp("31/02/2026").is_none());
        assert!(parse_stamp("ontem").is_none());
    }

    #[test]
    fn detects_frequency_despite_gaps() {
        let days: Vec<_> = [1, 2, 3, 5, 6, 7, 8]
            .iter()
            .map(|k| Frequency::Daily.step(d("2026-01-01"), *k))
            .collect();
        assert_eq!(Frequency::detect(&days), Some(Frequency::Daily));
        let months: Vec<_> = (0..6)
            .map(|k| Frequency::Monthly.step(d("2025-01-31"), k))
            .collect();
        assert_eq!(Frequency::detect(&months), Some(Frequency::Monthly));
        let q: Vec<_> = (0..6)
            .map(|k| Frequency::Quarterly.step(d("2025-01-01"), k))
            .collect();
        assert_eq!(Frequency::detect(&q), Some(Frequency::Quarterly));
        assert_eq!(
            Frequency::Monthly.steps_between(months[0], months[5]),
            Some(5)
        );
    }
}
