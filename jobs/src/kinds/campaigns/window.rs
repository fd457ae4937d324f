//! The send window, pure: a campaign sends only between two local minutes of
//! the tenant's day (`08:00–20:00`; `start > end` spans midnight,
//! `20:00–02:00`). Outside it the campaign waits and continues at the next
//! opening. The window is the complement of quiet hours, so this is
//! `notify::quiet` with the bounds swapped (one implementation of the
//! midnight and DST rules: an opening inside a DST gap moves to the first
//! minute that exists).

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use crate::kinds::notify::quiet;

/// `None` when `now` is inside the window `[start, end)` (local minutes);
/// otherwise when it next opens. `start == end` means always open.
pub fn opens_at(now: DateTime<Utc>, tz: Tz, start: u32, end: u32) -> Option<DateTime<Utc>> {
    quiet::quiet_until(now, tz, end % 1440, start)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SP: Tz = chrono_tz::America::Sao_Paulo;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn inside_the_day_window_sends_now() {
        // 10:00 in São Paulo (UTC-3 since 2019)
        assert_eq!(
            opens_at(utc("2026-03-10T13:00:00Z"), SP, 8 * 60, 20 * 60),
            None
        );
    }

    #[test]
    fn after_closing_waits_for_next_morning() {
        // 21:30 local → 08:00 local the next day = 11:00Z
        assert_eq!(
            opens_at(utc("2026-03-11T00:30:00Z"), SP, 8 * 60, 20 * 60),
            Some(utc("2026-03-11T11:00:00Z"))
        );
        // 06:00 local → 08:00 the same day
        assert_eq!(
            opens_at(utc("2026-03-10T09:00:00Z"), SP, 8 * 60, 20 * 60),
            Some(utc("2026-03-10T11:00:00Z"))
        );
    }

    #[test]
    fn window_across_midnight() {
        // 20:00–02:00: 23:00 local and 01:00 local are inside; 03:00 waits until 20:00.
        let (s, e) = (20 * 60, 2 * 60);
        assert_eq!(opens_at(utc("2026-03-11T02:00:00Z"), SP, s, e), None);
        assert_eq!(opens_at(utc("2026-03-11T04:00:00Z"), SP, s, e), None);
        assert_eq!(
            opens_at(utc("2026-03-11T06:00:00Z"), SP, s, e),
            Some(utc("2026-03-11T23:00:00Z"))
        );
    }

    #[test]
    fn dst_gap_moves_the_opening_to_the_first_real_minute() {
        // 2018-11-04: São Paulo jumped from 00:00 to 01:00 (UTC-3 → UTC-2).
        // A 00:30–06:00 window asked at 23:00 of the 3rd opens at 01:00 (UTC-2) = 03:00Z.
        assert_eq!(
            opens_at(utc("2018-11-04T02:00:00Z"), SP, 30, 6 * 60),
            Some(utc("2018-11-04T03:00:00Z"))
        );
    }

    #[test]
    fn dst_end_uses_the_new_offset() {
        // 2019-02-17: clocks went back from 00:00 (UTC-2) to 23:00 of the 16th (UTC-3).
        // At 21:00Z on the 17th it is 18:00 local (UTC-3): after 08:00-17:00 closes,
        // the next opening is 08:00 UTC-3 on the 18th = 11:00Z.
        assert_eq!(
            opens_at(utc("2019-02-17T21:00:00Z"), SP, 8 * 60, 17 * 60),
            Some(utc("2019-02-18T11:00:00Z"))
        );
        // Before the change (the 16th, UTC-2): 07:00 local = 09:00Z opens at 08:00 = 10:00Z.
        assert_eq!(
            opens_at(utc("2019-02-16T09:00:00Z"), SP, 8 * 60, 17 * 60),
            Some(utc("2019-02-16T10:00:00Z"))
        );
    }

    #[test]
    fn equal_bounds_mean_always_open() {
        assert_eq!(opens_at(utc("2026-03-10T03:00:00Z"), SP, 0, 0), None);
        assert_eq!(opens_at(utc("2026-03-10T03:00:00Z"), SP, 0, 1440), None);
    }
}
