//! When a reminder is due (pure): a rule's trigger, the booking's start and
//! end, the tenant's zone and the clock in, a UTC instant (or "skip") out.
//!
//! Offsets before the start are exact durations (24 h before is 24 h before,
//! across a DST change too). "The day before at 18:00" is a wall-clock rule:
//! the local calendar day before the start, at 18:00 in the tenant's zone,
//! whatever the UTC offset that day. A wall time that does not exist (a DST
//! gap) moves forward by the gap; one that exists twice takes the first.

use chrono::{DateTime, Duration, NaiveDateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

/// What a rule waits for (the `reminder_rules.trigger` column).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trigger {
    /// `offset_minutes` before the start.
    BeforeStart { minutes: i64 },
    /// The local day before the start, at this local time.
    DayBeforeAt(NaiveTime),
    /// `offset_minutes` after the end (the start when there is no end): review requests.
    AfterEnd { minutes: i64 },
    /// At once, when the booking is cancelled.
    OnCancel,
    /// At once, when the booking's status becomes `confirmed`.
    OnConfirm,
    /// At once, when the product reports a no-show (`session.no_show`): the follow-up.
    OnNoShow,
}

impl Trigger {
    /// From the row's columns; `None` for a trigger this build does not know.
    pub fn from_row(
        trigger: &str,
        offset_minutes: i32,
        local_time: Option<NaiveTime>,
    ) -> Option<Trigger> {
        let minutes = i64::from(offset_minutes);
        Some(match trigger {
            "before_start" => Trigger::BeforeStart { minutes },
            "day_before_at" => Trigger::DayBeforeAt(local_time?),
            "after_end" => Trigger::AfterEnd { minutes },
            "on_cancel" => Trigger::OnCancel,
            "on_confirm" => Trigger::OnConfirm,
            "on_no_show" => Trigger::OnNoShow,
            _ => return None,
        })
    }

    /// Planned from the booking's times (and replanned when they move).
    pub fn is_timed(self) -> bool {
        !matches!(
            self,
            Trigger::OnCancel | Trigger::OnConfirm | Trigger::OnNoShow
        )
    }
}

/// Local wall time → instant: the first of two (fall back), or shifted past a gap (spring forward).
pub fn local_to_utc(tz: Tz, local: NaiveDateTime) -> DateTime<Utc> {
    let mut probe = local;
    // Gaps are at most a few hours (usually one); step a minute at a time past them.
    for _ in 0..(24 * 60) {
        if let Some(t) = tz.from_local_datetime(&probe).earliest() {
            return t.with_timezone(&Utc);
        }
        probe += Duration::minutes(1);
    }
    // No zone has a day-long gap; fall back to reading the wall time as UTC.
    Utc.from_utc_datetime(&local)
}

/// When a timed rule fires for a booking, or `None` when it should be skipped
/// (its time has passed at `now`, or the booking has no start).
pub fn due_at(
    trigger: Trigger,
    start: Option<DateTime<Utc>>,
    end: Option<DateTime<Utc>>,
    tz: Tz,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let due = match trigger {
        Trigger::OnCancel | Trigger::OnConfirm | Trigger::OnNoShow => return Some(now),
        Trigger::BeforeStart { minutes } => start? - Duration::minutes(minutes),
        Trigger::DayBeforeAt(at) => {
            let day_before = start?.with_timezone(&tz).date_naive().pred_opt()?;
            local_to_utc(tz, day_before.and_time(at))
        }
        Trigger::AfterEnd { minutes } => end.or(start)? + Duration::minutes(minutes),
    };
    // A reminder whose time passed before the booking was made is skipped;
    // the later ones still go.
    (due > now).then_some(due)
}

/// The tenant's zone; an unknown name (never stored by the API) falls back to São Paulo.
pub fn tenant_zone(name: &str) -> Tz {
    name.parse().unwrap_or(chrono_tz::America::Sao_Paulo)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Timelike;
    use proptest::prelude::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }
    fn six_pm() -> Trigger {
        Trigger::DayBeforeAt(NaiveTime::from_hms_opt(18, 0, 0).unwrap())
    }
    const LONG_AGO: &str = "2000-01-01T00:00:00Z";

    #[test]
    fn offsets_are_exact_durations_before_the_start() {
        let start = utc("2026-03-10T13:00:00Z");
        let due = due_at(
            Trigger::BeforeStart { minutes: 24 * 60 },
            Some(start),
            None,
            chrono_tz::America::Sao_Paulo,
            utc(LONG_AGO),
        );
        assert_eq!(due, Some(utc("2026-03-09T13:00:00Z")));
    }

    #[test]
    fn day_before_at_six_pm_follows_the_local_offset_across_spring_forward() {
        // New York springs forward on 2026-03-08 02:00: 18:00 that day is EDT (UTC-4).
        let ny = chrono_tz::America::New_York;
        let start = utc("2026-03-09T14:00:00Z"); // 10:00 EDT on the 9th
        assert_eq!(
            due_at(six_pm(), Some(start), None, ny, utc(LONG_AGO)),
            Some(utc("2026-03-08T22:00:00Z"))
        );
        // A week before, still EST (UTC-5).
        let start = utc("2026-03-02T15:00:00Z");
        assert_eq!(
            due_at(six_pm(), Some(start), None, ny, utc(LONG_AGO)),
            Some(utc("2026-03-01T23:00:00Z"))
        );
    }

    #[test]
    fn day_before_is_the_local_calendar_day_not_utc() {
        // 22:30 in São Paulo on 1 March is already 2 March in UTC: the day before is 28 Feb local.
        let sp = chrono_tz::America::Sao_Paulo;
        let start = utc("2026-03-02T01:30:00Z");
        assert_eq!(
            due_at(six_pm(), Some(start), None, sp, utc(LONG_AGO)),
            Some(utc("2026-02-28T21:00:00Z"))
        );
    }

    #[test]
    fn a_wall_time_in_a_dst_gap_moves_forward_and_a_repeated_one_takes_the_first() {
        // São Paulo 2018-11-04: clocks went 00:00 → 01:00 (tzdata history).
        let sp = chrono_tz::America::Sao_Paulo;
        let midnight_half = Trigger::DayBeforeAt(NaiveTime::from_hms_opt(0, 30, 0).unwrap());
        let start = utc("2018-11-05T15:00:00Z");
        assert_eq!(
            due_at(midnight_half, Some(start), None, sp, utc(LONG_AGO)),
            Some(utc("2018-11-04T03:00:00Z"))
        );
        // New York 2026-11-01 01:30 happens twice: EDT first (05:30 UTC).
        let ny = chrono_tz::America::New_York;
        let one_half = Trigger::DayBeforeAt(NaiveTime::from_hms_opt(1, 30, 0).unwrap());
        assert_eq!(
            due_at(
                one_half,
                Some(utc("2026-11-02T15:00:00Z")),
                None,
                ny,
                utc(LONG_AGO)
            ),
            Some(utc("2026-11-01T05:30:00Z"))
        );
    }

    #[test]
    fn past_reminders_are_skipped_later_ones_kept() {
        let sp = chrono_tz::America::Sao_Paulo;
        let start = utc("2026-03-10T13:00:00Z");
        let now = utc("2026-03-10T10:00:00Z"); // 3 h before
        assert_eq!(
            due_at(
                Trigger::BeforeStart { minutes: 1440 },
                Some(start),
                None,
                sp,
                now
            ),
            None
        );
        assert_eq!(due_at(six_pm(), Some(start), None, sp, now), None);
        assert_eq!(
            due_at(
                Trigger::BeforeStart { minutes: 60 },
                Some(start),
                None,
                sp,
                now
            ),
            Some(utc("2026-03-10T12:00:00Z"))
        );
    }

    #[test]
    fn after_end_counts_from_the_end_and_notices_are_now() {
        let sp = chrono_tz::America::Sao_Paulo;
        let (s, e) = (utc("2026-03-10T13:00:00Z"), utc("2026-03-10T14:00:00Z"));
        let now = utc(LONG_AGO);
        assert_eq!(
            due_at(
                Trigger::AfterEnd { minutes: 120 },
                Some(s),
                Some(e),
                sp,
                now
            ),
            Some(utc("2026-03-10T16:00:00Z"))
        );
        assert_eq!(
            due_at(Trigger::AfterEnd { minutes: 120 }, Some(s), None, sp, now),
            Some(utc("2026-03-10T15:00:00Z"))
        );
        assert_eq!(due_at(Trigger::OnCancel, None, None, sp, now), Some(now));
        assert_eq!(
            due_at(Trigger::BeforeStart { minutes: 5 }, None, None, sp, now),
            None
        );
    }

    proptest! {
        #[test]
        fn day_before_at_lands_on_the_local_day_before_at_that_time(
            secs in 1_500_000_000i64..2_200_000_000i64,
            zone in prop::sample::select(vec!["America/Sao_Paulo", "America/New_York", "Europe/Lisbon", "Australia/Sydney"]),
            hour in 0u32..24,
        ) {
            let tz: Tz = zone.parse().unwrap();
            let start = Utc.timestamp_opt(secs, 0).unwrap();
            let at = NaiveTime::from_hms_opt(hour, 0, 0).unwrap();
            let due = due_at(Trigger::DayBeforeAt(at), Some(start), None, tz, utc(LONG_AGO)).unwrap();
            let local = due.with_timezone(&tz);
            prop_assert_eq!(local.date_naive(), start.with_timezone(&tz).date_naive().pred_opt().unwrap());
            // Exactly that hour, or (in a gap) within the gap after it.
            prop_assert!(local.hour() == hour || (local.hour() + 24 - hour) % 24 <= 1, "{local}");
        }
    }
}
