//! When a campaign should finish, pure: a minute-by-minute projection of the
//! sends that remain at the campaign's rate, only while its send window is
//! open (in the tenant's timezone, DST included, via [`super::window`]) and
//! only as far as the tenant's messaging-limit tier allows (unique contacts
//! per rolling 24 h, shared by all of the tenant's campaigns: the sends the
//! tenant already made in the last 24 h count, and each frees its slot 24 h
//! after it was made). Other running campaigns' future sends are not
//! predicted; their past sends count.

use std::collections::VecDeque;

use chrono::{DateTime, Duration, DurationRound, Utc};
use chrono_tz::Tz;

use super::window;

/// What the projection needs to know.
#[derive(Debug, Clone)]
pub struct EtaInput {
    pub now: DateTime<Utc>,
    /// Recipients still to send.
    pub remaining: i64,
    /// Messages per second (the effective rate, bounded by the minimum delay).
    pub per_second: f64,
    /// The send window: the tenant's timezone and local minutes `[start, end)`.
    pub window: Option<(Tz, u32, u32)>,
    /// Unique contacts per rolling 24 h; `None` = unlimited.
    pub limit: Option<i64>,
    /// The tenant's sends of the last 24 h: (minute, unique contacts).
    pub used: Vec<(DateTime<Utc>, i64)>,
}

/// Projections stop here: past it, the ETA is unknown (`None`).
pub const HORIZON_DAYS: i64 = 400;

/// When the last remaining message should be sent; `None` when nothing can
/// be sent (a zero rate or limit) or it lies past [`HORIZON_DAYS`].
pub fn eta(i: &EtaInput) -> Option<DateTime<Utc>> {
    if i.remaining <= 0 {
        return Some(i.now);
    }
    if i.per_second <= 0.0 || i.limit == Some(0) {
        return None;
    }
    let per_minute = i.per_second * 60.0;
    let horizon = i.now + Duration::days(HORIZON_DAYS);
    // Sends still inside the rolling 24 h, oldest first: (minute, count).
    let mut used: VecDeque<(DateTime<Utc>, i64)> = {
        let mut u: Vec<_> = i
            .used
            .iter()
            .filter(|(m, n)| *n > 0 && *m > i.now - Duration::hours(24))
            .copied()
            .collect();
        u.sort_by_key(|(m, _)| *m);
        u.into()
    };
    let mut in_24h: i64 = used.iter().map(|(_, n)| n).sum();
    let mut left = i.remaining as f64;
    let mut t = i.now;
    while t < horizon {
        while let Some(&(m, n)) = used.front() {
            if m + Duration::hours(24) <= t {
                used.pop_front();
                in_24h -= n;
            } else {
                break;
            }
        }
        if let Some((tz, s, e)) = i.window {
            if let Some(open) = window::opens_at(t, tz, s, e) {
                t = open;
                continue;
            }
        }
        let room = i.limit.map(|l| (l - in_24h).max(0) as f64);
        if room == Some(0.0) {
            // Wait until the oldest send leaves the 24 h.
            match used.front() {
                Some(&(m, _)) => t = m + Duration::hours(24),
                None => return None,
            }
            continue;
        }
        // One minute (or what is left of the current one) of sending.
        let minute_end = t
            .duration_trunc(Duration::minutes(1))
            .map(|m| m + Duration::minutes(1))
            .unwrap_or(t + Duration::minutes(1));
        let span = (minute_end - t).num_milliseconds() as f64 / 60_000.0;
        let can = (per_minute * span).min(room.unwrap_or(f64::INFINITY));
        if can >= left {
            let secs = left / i.per_second;
            return Some(t + Duration::milliseconds((secs * 1000.0).ceil() as i64));
        }
        let sent = can.floor().max(0.0);
        left -= sent;
        if sent > 0.0 {
            used.push_back((t, sent as i64));
            in_24h += sent as i64;
        }
        t = minute_end;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const SP: Tz = chrono_tz::America::Sao_Paulo;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn input(now: &str, remaining: i64, per_second: f64) -> EtaInput {
        EtaInput {
            now: utc(now),
            remaining,
            per_second,
            window: None,
            limit: None,
            used: vec![],
        }
    }

    #[test]
    fn without_window_or_limit_it_is_remaining_over_rate() {
        let i = input("2026-03-10T13:00:00Z", 48_000, 80.0);
        assert_eq!(eta(&i), Some(utc("2026-03-10T13:10:00Z")));
        assert_eq!(
            eta(&input("2026-03-10T13:00:00Z", 0, 80.0)),
            Some(utc("2026-03-10T13:00:00Z"))
        );
        assert_eq!(eta(&input("2026-03-10T13:00:00Z", 10, 0.0)), None);
    }

    #[test]
    fn closed_window_waits_for_the_opening() {
        // 21:30 local; the 08:00–20:00 window opens at 11:00Z; 4,800 at 80/s = 1 min.
        let mut i = input("2026-03-11T00:30:00Z", 4_800, 80.0);
        i.window = Some((SP, 8 * 60, 20 * 60));
        assert_eq!(eta(&i), Some(utc("2026-03-11T11:01:00Z")));
    }

    #[test]
    fn sends_that_outlast_the_window_continue_the_next_day() {
        // 19:00 local (22:00Z), 1 h of window left: 2 h of sends at 1/s finish at 09:00 local.
        let mut i = input("2026-03-10T22:00:00Z", 7_200, 1.0);
        i.window = Some((SP, 8 * 60, 20 * 60));
        assert_eq!(eta(&i), Some(utc("2026-03-11T12:00:00Z")));
    }

    #[test]
    fn messaging_limit_spreads_sends_over_rolling_days() {
        // Tier 250, nothing sent yet: 600 contacts = 250 now, 250 in 24 h, 100 in 48 h.
        let mut i = input("2026-03-10T13:00:00Z", 600, 80.0);
        i.limit = Some(250);
        let e = eta(&i).unwrap();
        assert!(
            e > utc("2026-03-12T13:00:00Z") && e < utc("2026-03-12T13:00:05Z"),
            "{e}"
        );
    }

    #[test]
    fn the_tenants_recent_sends_use_the_shared_limit() {
        // Tier 2,000; another campaign of the tenant sent 2,000 contacts 20 h ago:
        // nothing can go until they leave the 24 h, 4 h from now.
        let mut i = input("2026-03-10T13:00:00Z", 100, 80.0);
        i.limit = Some(2_000);
        i.used = vec![(utc("2026-03-09T17:00:00Z"), 2_000)];
        let e = eta(&i).unwrap();
        assert!(
            e >= utc("2026-03-10T17:00:00Z") && e < utc("2026-03-10T17:00:03Z"),
            "{e}"
        );
        // Half of them: 1,000 can go at once.
        i.used = vec![(utc("2026-03-09T17:00:00Z"), 1_000)];
        let e = eta(&i).unwrap();
        assert!(e < utc("2026-03-10T13:00:03Z"), "{e}");
    }

    #[test]
    fn limit_and_window_together() {
        // Tier 250 and a 08:00–20:00 window, at 21:30 local: 500 contacts go 250 at
        // 08:00 local on the 11th and 250 at 08:00 on the 12th (24 h later, inside the window).
        let mut i = input("2026-03-11T00:30:00Z", 500, 80.0);
        i.limit = Some(250);
        i.window = Some((SP, 8 * 60, 20 * 60));
        let e = eta(&i).unwrap();
        assert!(
            e > utc("2026-03-12T11:00:00Z") && e < utc("2026-03-12T11:00:05Z"),
            "{e}"
        );
    }

    #[test]
    fn window_across_a_dst_change() {
        // 2018-11-04 São Paulo jumped 00:00 → 01:00 (UTC-3 → UTC-2). At 21:00 local
        // on the 3rd (00:00Z) a 08:00–20:00 window opens at 08:00 UTC-2 = 10:00Z.
        let mut i = input("2018-11-04T00:00:00Z", 60, 1.0);
        i.window = Some((SP, 8 * 60, 20 * 60));
        assert_eq!(eta(&i), Some(utc("2018-11-04T10:01:00Z")));
    }

    #[test]
    fn a_zero_limit_or_beyond_the_horizon_is_unknown() {
        let mut i = input("2026-03-10T13:00:00Z", 10, 80.0);
        i.limit = Some(0);
        assert_eq!(eta(&i), None);
        // 250 a day for 1,000,000 contacts: 4,000 days.
        let mut i = input("2026-03-10T13:00:00Z", 1_000_000, 80.0);
        i.limit = Some(250);
        assert_eq!(eta(&i), None);
    }
}
