//! Quiet hours, pure: given the clock, the tenant's zone and a window of
//! local minutes (`start > end` spans midnight, e.g. 22:00–07:00), is now
//! quiet, and when is the next allowed minute? Non-urgent messages snooze
//! until then (`JobError::Snooze`, no attempt spent).

use chrono::{DateTime, Duration, NaiveTime, TimeZone, Timelike, Utc};
use chrono_tz::Tz;

/// Is local minute-of-day `m` inside `[start, end)` (wrapping past midnight)?
pub fn is_quiet_minute(m: u32, start: u32, end: u32) -> bool {
    match start.cmp(&end) {
        std::cmp::Ordering::Less => m >= start && m < end,
        std::cmp::Ordering::Greater => m >= start || m < end,
        std::cmp::Ordering::Equal => false,
    }
}

/// `None` when `now` is outside quiet hours; otherwise the first instant at
/// which they end (local `end`, on the right day; a DST gap moves it later).
pub fn quiet_until(now: DateTime<Utc>, tz: Tz, start: u32, end: u32) -> Option<DateTime<Utc>> {
    let local = now.with_timezone(&tz);
    let m = local.hour() * 60 + local.minute();
    if !is_quiet_minute(m, start, end) {
        return None;
    }
    let mut day = local.date_naive();
    if start > end && m >= start {
        day = day.succ_opt()?;
    }
    let mut naive = day.and_time(NaiveTime::from_hms_opt(end / 60, end % 60, 0)?);
    // In a DST gap the end minute does not exist: the next minute that does.
    for _ in 0..180 {
        if let Some(t) = tz.from_local_datetime(&naive).earliest() {
            return Some(t.with_timezone(&Utc));
        }
        naive += Duration::minutes(1);
    }
    None
}

/// Parses `"22:00"` into minutes after midnight.
pub fn parse_hhmm(s: &str) -> Option<u32> {
    let t = NaiveTime::parse_from_str(s, "%H:%M").ok()?;
    Some(t.hour() * 60 + t.minute())
}

/// Minutes after midnight → `"22:00"`.
pub fn fmt_hhmm(m: u32) -> String {
    format!("{:02}:{:02}", m / 60, m % 60)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const SP: Tz = chrono_tz::America::Sao_Paulo;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn across_midnight_in_sao_paulo() {
        let (start, end) = (22 * 60, 7 * 60);
        // 23:30 local on the 14th (-03:00) → 07:00 local on the 15th = 10:00 UTC.
        assert_eq!(
            quiet_until(utc("2025-12-15T02:30:00Z"), SP, start, end),
            Some(utc("2025-12-15T10:00:00Z"))
        );
        // 01:00 local → 07:00 the same local day.
        assert_eq!(
            quiet_until(utc("2025-12-16T04:00:00Z"), SP, start, end),
            Some(utc("2025-12-16T10:00:00Z"))
        );
        // 21:59 and 07:00 local are allowed.
        assert_eq!(
            quiet_until(utc("2025-12-16T00:59:00Z"), SP, start, end),
            None
        );
        assert_eq!(
            quiet_until(utc("2025-12-16T10:00:00Z"), SP, start, end),
            None
        );
        // 22:00 sharp is quiet.
        assert!(quiet_until(utc("2025-12-16T01:00:00Z"), SP, start, end).is_some());
    }

    #[test]
    fn same_day_window_and_empty_window() {
        assert_eq!(
            quiet_until(utc("2025-12-15T15:30:00Z"), SP, 12 * 60, 14 * 60),
            Some(utc("2025-12-15T17:00:00Z"))
        );
        assert_eq!(quiet_until(utc("2025-12-15T15:30:00Z"), SP, 600, 600), None);
    }

    #[test]
    fn dst_gap_moves_to_the_next_real_minute() {
        // São Paulo sprang forward on 2018-11-04: 00:00 → 01:00 local did not exist.
        let t = quiet_until(utc("2018-11-04T01:30:00Z"), SP, 22 * 60, 0).unwrap();
        assert_eq!(t, utc("2018-11-04T03:00:00Z"));
    }

    proptest! {
        #[test]
        fn the_answer_is_the_first_allowed_minute(secs in 1_600_000_000i64..1_900_000_000, start in 0u32..1440, end in 0u32..1440) {
            let now = DateTime::from_timestamp(secs, 0).unwrap();
            match quiet_until(now, SP, start, end) {
                None => {
                    let l = now.with_timezone(&SP);
                    prop_assert!(!is_quiet_minute(l.hour() * 60 + l.minute(), start, end));
                }
                Some(t) => {
                    prop_assert!(t > now);
                    prop_assert!(t - now <= Duration::hours(24));
                    let l = t.with_timezone(&SP);
                    prop_assert!(!is_quiet_minute(l.hour() * 60 + l.minute(), start, end));
                    // the minute before is still quiet
                    let b = (t - Duration::minutes(1)).with_timezone(&SP);
                    prop_assert!(t - Duration::minutes(1) < now || is_quiet_minute(b.hour() * 60 + b.minute(), start, end));
                }
            }
        }
    }
}
