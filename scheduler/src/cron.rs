//! Next-fire math for cron schedules, pure (no clock, no I/O): an expression
//! with seconds is read as wall-clock time in an IANA zone, and each matching
//! local time becomes one UTC instant. Same inputs, same instants, on every replica.
//!
//! Daylight-saving rules (one fire per local tick, never two, never none):
//! - **Skipped local time** (spring forward, e.g. 00:30 on 2018-11-04 in
//!   `America/Sao_Paulo`, 02:30 on 2024-03-10 in `America/New_York`): the tick
//!   fires once at the first instant after the gap (01:00 -02, 03:00 EDT).
//!   Several ticks inside one gap collapse into that single fire.
//! - **Repeated local time** (fall back, e.g. 23:30 on 2019-02-16 in São Paulo,
//!   01:30 on 2024-11-03 in New York): the tick fires once, at its first
//!   occurrence. A sub-hourly schedule therefore pauses during the repeated hour.
//!
//! Why not `cron::Schedule::after` in the zone: the `cron` crate iterates in
//! local time and, on such days, drops a skipped tick altogether and yields a
//! repeated one twice (and from inside a repeated hour it can yield an instant
//! *before* the one it started from). So ticks are enumerated in naive local
//! time (the crate iterating in UTC, which has no transitions) and mapped to
//! instants here. That mapping is non-decreasing in local time, which is what
//! makes "the first tick whose instant is after `t`" a forward scan.

use chrono::{DateTime, Duration, LocalResult, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;

pub use jobs::store::schedules::parse_cron;
pub use jobs::store::tenants::parse_timezone;

/// A cron expression (`cron::Schedule`), re-exported for callers of this module.
pub type Expr = ::cron::Schedule;

/// Local ticks scanned for one answer: enough to cross a repeated hour of a
/// per-second schedule many times over; a guard against a runaway loop only.
const MAX_TICKS_SCANNED: usize = 200_000;

/// Longest skipped local interval searched for its end (Samoa skipped a whole day in 2011).
const MAX_GAP_MINUTES: i64 = 48 * 60;

/// Ticks counted by [`count_in`] at most.
pub const COUNT_CAP: u64 = 100_000;

/// The first fire instant strictly after `after`, or `None` when the
/// expression has no more ticks (e.g. a year field in the past).
pub fn next_after(expr: &Expr, tz: Tz, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
    // A tick whose local time is at or before `after`'s local time fires at or
    // before `after` (the mapping is non-decreasing), so start from there.
    let local = after.with_timezone(&tz).naive_local();
    expr.after(&Utc.from_utc_datetime(&local))
        .take(MAX_TICKS_SCANNED)
        .filter_map(|tick| fire_instant(tz, tick.naive_utc()))
        .find(|fire| *fire > after)
}

/// Fire instants in `(after, until]`, in order.
pub fn ticks_in(
    expr: &Expr,
    tz: Tz,
    after: DateTime<Utc>,
    until: DateTime<Utc>,
) -> impl Iterator<Item = DateTime<Utc>> + '_ {
    let mut cursor = after;
    std::iter::from_fn(move || {
        let next = next_after(expr, tz, cursor).filter(|t| *t <= until)?;
        cursor = next;
        Some(next)
    })
}

/// How many fire instants fall in `(after, until]`, saturating at [`COUNT_CAP`].
pub fn count_in(expr: &Expr, tz: Tz, after: DateTime<Utc>, until: DateTime<Utc>) -> u64 {
    ticks_in(expr, tz, after, until)
        .take(COUNT_CAP as usize)
        .count() as u64
}

/// The latest fire instant in `(after, until]`. Looks back from `until` in
/// widening windows, so a long downtime of a per-second schedule does not
/// mean scanning every tick since `after`.
pub fn last_in(
    expr: &Expr,
    tz: Tz,
    after: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let mut window = Duration::minutes(1);
    loop {
        let start = (until - window).max(after);
        let last = ticks_in(expr, tz, start, until).last();
        if last.is_some() || start == after {
            return last;
        }
        window = window * 4;
    }
}

/// The instant a local tick fires at: the only one, the first of two (fall
/// back), or the end of the gap it fell into (spring forward).
fn fire_instant(tz: Tz, local: NaiveDateTime) -> Option<DateTime<Utc>> {
    match tz.from_local_datetime(&local) {
        LocalResult::Single(t) => Some(t.with_timezone(&Utc)),
        LocalResult::Ambiguous(first, _) => Some(first.with_timezone(&Utc)),
        LocalResult::None => gap_end(tz, local),
    }
}

/// The first instant whose local time is later than `local`, a time that
/// does not exist in `tz`: the instant the clocks jumped.
fn gap_end(tz: Tz, local: NaiveDateTime) -> Option<DateTime<Utc>> {
    let after_gap = |u: DateTime<Utc>| u.with_timezone(&tz).naive_local() > local;
    // Walk to the first existing whole minute, then bisect the minute before
    // it: the jump lies there (transitions fall on whole seconds).
    let first_valid = (1..=MAX_GAP_MINUTES)
        .find_map(|m| {
            tz.from_local_datetime(&(local + Duration::minutes(m)))
                .earliest()
        })?
        .with_timezone(&Utc);
    // Invariant: `lo` seconds before `first_valid` is before the jump, `hi` is after it.
    let (mut lo, mut hi) = (60i64, 0i64);
    debug_assert!(!after_gap(first_valid - Duration::seconds(lo)));
    while lo - hi > 1 {
        let mid = (lo + hi) / 2;
        if after_gap(first_valid - Duration::seconds(mid)) {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    Some(first_valid - Duration::seconds(hi))
}

#[cfg(test)]
#[path = "cron_tests.rs"]
mod tests;
