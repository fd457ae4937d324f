//! What one schedule should do at one scheduler tick, pure: which ticks to
//! enqueue, how many missed ticks `catch_up` drops, where its cursor goes.
//!
//! A tick is *on time* when it is at most `misfire_grace` old; those always
//! fire, so a slow scheduler round or a Redis blip loses nothing. Older ticks
//! were *missed* (no scheduler was running): `catch_up = "none"` drops them,
//! `"last"` enqueues the most recent one and drops the rest.

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use jobs::store::schedules::CatchUp;

use crate::cron::{self, Expr};

/// The decision for one schedule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    /// Ticks to enqueue, oldest first.
    pub fire: Vec<DateTime<Utc>>,
    /// Missed ticks dropped by `catch_up` (saturates at [`cron::COUNT_CAP`]).
    pub skipped: u64,
    /// The first tick after `now`: the schedule's new cursor (`None`: no more ticks, ever).
    pub next_run_at: Option<DateTime<Utc>>,
}

/// Plans the ticks in `(after, now]`; `after` is just before the schedule's
/// cursor (or its last edit when it has none).
pub fn plan(
    expr: &Expr,
    tz: Tz,
    catch_up: CatchUp,
    after: DateTime<Utc>,
    now: DateTime<Utc>,
    misfire_grace: Duration,
) -> Plan {
    let next_run_at = cron::next_after(expr, tz, after.max(now));
    if after >= now {
        return Plan {
            fire: Vec::new(),
            skipped: 0,
            next_run_at,
        };
    }
    // Ticks at or before `missed_until` are older than the grace: missed.
    let missed_until = now - misfire_grace - Duration::microseconds(1);
    let mut fire = Vec::new();
    let mut skipped = 0;
    if missed_until > after {
        skipped = cron::count_in(expr, tz, after, missed_until);
        if catch_up == CatchUp::Last {
            if let Some(last) = cron::last_in(expr, tz, after, missed_until) {
                fire.push(last);
                skipped -= 1;
            }
        }
    }
    fire.extend(cron::ticks_in(expr, tz, after.max(missed_until), now));
    Plan {
        fire,
        skipped,
        next_run_at,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::America::Sao_Paulo;

    fn utc(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    const GRACE: Duration = Duration::seconds(60);

    fn every_minute() -> Expr {
        cron::parse_cron("0 * * * * *").unwrap()
    }

    #[test]
    fn nothing_due_moves_nothing() {
        let p = plan(
            &every_minute(),
            Sao_Paulo,
            CatchUp::None,
            utc("2024-05-01T10:00:00Z"),
            utc("2024-05-01T10:00:30Z"),
            GRACE,
        );
        assert_eq!(
            p,
            Plan {
                fire: vec![],
                skipped: 0,
                next_run_at: Some(utc("2024-05-01T10:01:00Z"))
            }
        );
    }

    #[test]
    fn on_time_ticks_fire_whatever_catch_up_says() {
        let after = utc("2024-05-01T09:59:59Z");
        let p = plan(
            &every_minute(),
            Sao_Paulo,
            CatchUp::None,
            after,
            utc("2024-05-01T10:00:40Z"),
            GRACE,
        );
        assert_eq!(p.fire, [utc("2024-05-01T10:00:00Z")]);
        assert_eq!(p.skipped, 0);
        assert_eq!(p.next_run_at, Some(utc("2024-05-01T10:01:00Z")));
    }

    #[test]
    fn after_downtime_none_drops_missed_ticks() {
        // Down from 10:00 to 10:10:30: 10:01..10:09 are missed, 10:10 is on time.
        let after = utc("2024-05-01T10:00:00Z");
        let p = plan(
            &every_minute(),
            Sao_Paulo,
            CatchUp::None,
            after,
            utc("2024-05-01T10:10:30Z"),
            GRACE,
        );
        assert_eq!(p.fire, [utc("2024-05-01T10:10:00Z")]);
        assert_eq!(p.skipped, 9);
    }

    #[test]
    fn after_downtime_last_fires_the_most_recent_missed_tick() {
        let after = utc("2024-05-01T10:00:00Z");
        let p = plan(
            &every_minute(),
            Sao_Paulo,
            CatchUp::Last,
            after,
            utc("2024-05-01T10:10:30Z"),
            GRACE,
        );
        assert_eq!(
            p.fire,
            [utc("2024-05-01T10:09:00Z"), utc("2024-05-01T10:10:00Z")]
        );
        assert_eq!(p.skipped, 8);
    }

    #[test]
    fn a_daily_schedule_missed_for_days_catches_up_once() {
        let daily = cron::parse_cron("0 0 8 * * *").unwrap();
        let after = utc("2024-05-01T00:00:00Z");
        let now = utc("2024-05-04T15:00:00Z");
        let last = plan(&daily, Sao_Paulo, CatchUp::Last, after, now, GRACE);
        assert_eq!(last.fire, [utc("2024-05-04T11:00:00Z")]);
        assert_eq!(last.skipped, 3);
        let none = plan(&daily, Sao_Paulo, CatchUp::None, after, now, GRACE);
        assert!(none.fire.is_empty());
        assert_eq!(none.skipped, 4);
        assert_eq!(none.next_run_at, Some(utc("2024-05-05T11:00:00Z")));
    }

    #[test]
    fn a_tick_exactly_at_the_grace_edge_is_on_time() {
        let after = utc("2024-05-01T09:59:00Z");
        let p = plan(
            &every_minute(),
            Sao_Paulo,
            CatchUp::None,
            after,
            utc("2024-05-01T10:01:00Z"),
            GRACE,
        );
        assert_eq!(
            p.fire,
            [utc("2024-05-01T10:00:00Z"), utc("2024-05-01T10:01:00Z")]
        );
    }
}
