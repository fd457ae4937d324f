//! Tests of `cron.rs`: fixed cases (plain days, DST days in São Paulo and New
//! York, what the `cron` crate does natively) and properties checked against a
//! minute-by-minute oracle that knows nothing of the implementation.

use super::*;
use chrono_tz::America::{New_York, Sao_Paulo};
use proptest::prelude::*;

fn utc(s: &str) -> DateTime<Utc> {
    s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
}

fn expr(s: &str) -> Expr {
    parse_cron(s).unwrap()
}

#[test]
fn plain_day_fires_at_local_wall_clock_time() {
    // São Paulo is UTC-3 since 2019: 07:30 local is 10:30Z.
    let next = next_after(
        &expr("0 30 7 * * *"),
        Sao_Paulo,
        utc("2024-05-01T12:00:00Z"),
    );
    assert_eq!(next, Some(utc("2024-05-02T10:30:00Z")));
}

#[test]
fn next_is_strictly_after_even_on_a_tick() {
    let e = expr("0 30 7 * * *");
    let at = utc("2024-05-02T10:30:00Z");
    assert_eq!(
        next_after(&e, Sao_Paulo, at),
        Some(utc("2024-05-03T10:30:00Z"))
    );
    let just_before = at - Duration::milliseconds(1);
    assert_eq!(next_after(&e, Sao_Paulo, just_before), Some(at));
}

#[test]
fn sao_paulo_skipped_midnight_fires_once_when_clocks_jump() {
    // 2018-11-04 00:00 -03 never happened: clocks went to 01:00 -02 (03:00Z).
    let midnight = expr("0 0 0 * * *");
    let fire = next_after(&midnight, Sao_Paulo, utc("2018-11-03T12:00:00Z"));
    assert_eq!(fire, Some(utc("2018-11-04T03:00:00Z")));
    assert_eq!(
        next_after(&midnight, Sao_Paulo, fire.unwrap()),
        Some(utc("2018-11-05T02:00:00Z"))
    );
    let half_past = expr("0 30 0 * * *");
    assert_eq!(
        next_after(&half_past, Sao_Paulo, utc("2018-11-03T12:00:00Z")),
        Some(utc("2018-11-04T03:00:00Z"))
    );
}

#[test]
fn ticks_inside_one_gap_collapse_into_one_fire() {
    let quarter = expr("0 */15 * * * *");
    let fires: Vec<_> = ticks_in(
        &quarter,
        Sao_Paulo,
        utc("2018-11-04T02:50:00Z"),
        utc("2018-11-04T03:30:00Z"),
    )
    .collect();
    // 00:00, 00:15, 00:30, 00:45 and 01:00 local all land on 03:00Z, once.
    assert_eq!(
        fires,
        [
            utc("2018-11-04T03:00:00Z"),
            utc("2018-11-04T03:15:00Z"),
            utc("2018-11-04T03:30:00Z")
        ]
    );
}

#[test]
fn sao_paulo_repeated_hour_fires_once_at_first_occurrence() {
    // 2019-02-17 00:00 -02 (02:00Z) went back to 2019-02-16 23:00 -03.
    let e = expr("0 30 23 * * *");
    let first = next_after(&e, Sao_Paulo, utc("2019-02-16T12:00:00Z"));
    assert_eq!(first, Some(utc("2019-02-17T01:30:00Z")));
    let tomorrow = Some(utc("2019-02-18T02:30:00Z"));
    assert_eq!(next_after(&e, Sao_Paulo, first.unwrap()), tomorrow);
    // From inside the second pass (23:10 -03) the answer is still tomorrow.
    assert_eq!(
        next_after(&e, Sao_Paulo, utc("2019-02-17T02:10:00Z")),
        tomorrow
    );
}

#[test]
fn new_york_spring_forward_and_fall_back() {
    let skipped = expr("0 30 2 * * *");
    let fire = next_after(&skipped, New_York, utc("2024-03-09T12:00:00Z"));
    assert_eq!(
        fire,
        Some(utc("2024-03-10T07:00:00Z")),
        "03:00 EDT, when 02:30 would have been"
    );
    assert_eq!(
        next_after(&skipped, New_York, fire.unwrap()),
        Some(utc("2024-03-11T06:30:00Z"))
    );

    let repeated = expr("0 30 1 * * *");
    let fire = next_after(&repeated, New_York, utc("2024-11-02T12:00:00Z"));
    assert_eq!(fire, Some(utc("2024-11-03T05:30:00Z")), "01:30 EDT");
    assert_eq!(
        next_after(&repeated, New_York, fire.unwrap()),
        Some(utc("2024-11-04T06:30:00Z"))
    );
}

#[test]
fn per_minute_schedule_pauses_during_the_repeated_hour() {
    let every_minute = expr("0 * * * * *");
    let (from, to) = (utc("2024-11-03T05:00:00Z"), utc("2024-11-03T07:00:00Z"));
    let fires: Vec<_> = ticks_in(&every_minute, New_York, from, to).collect();
    assert_eq!(fires.len(), 60, "01:01-01:59 EDT, then 02:00 EST");
    assert!(fires
        .iter()
        .all(|t| *t < utc("2024-11-03T06:00:00Z") || *t == to));
    assert_eq!(count_in(&every_minute, New_York, from, to), 60);
}

#[test]
fn the_cron_crate_alone_drops_skipped_and_doubles_repeated_ticks() {
    // Pins the behaviour `next_after` corrects; if the crate changes, revisit the module doc.
    let skipped = expr("0 30 2 * * *");
    let native = skipped
        .after(&utc("2024-03-09T12:00:00Z").with_timezone(&New_York))
        .next()
        .unwrap();
    assert_eq!(native.with_timezone(&Utc), utc("2024-03-11T06:30:00Z"));
    let repeated = expr("0 30 1 * * *");
    let native: Vec<_> = repeated
        .after(&utc("2024-11-02T12:00:00Z").with_timezone(&New_York))
        .take(2)
        .map(|t| t.with_timezone(&Utc))
        .collect();
    assert_eq!(
        native,
        [utc("2024-11-03T05:30:00Z"), utc("2024-11-03T06:30:00Z")]
    );
}

#[test]
fn last_and_count_over_a_long_window() {
    let daily = expr("0 0 3 * * *");
    let (from, to) = (utc("2024-05-01T00:00:00Z"), utc("2024-05-10T12:00:00Z"));
    assert_eq!(
        last_in(&daily, Sao_Paulo, from, to),
        Some(utc("2024-05-10T06:00:00Z"))
    );
    assert_eq!(count_in(&daily, Sao_Paulo, from, to), 10);
    assert_eq!(
        last_in(&daily, Sao_Paulo, from, utc("2024-05-01T05:59:59Z")),
        None
    );
    let every_second = expr("* * * * * *");
    let to = utc("2024-05-03T00:00:00Z");
    assert_eq!(last_in(&every_second, Sao_Paulo, from, to), Some(to));
}

#[test]
fn an_expression_with_no_future_ticks_ends() {
    assert_eq!(
        next_after(
            &expr("0 0 0 1 1 * 2020"),
            Sao_Paulo,
            utc("2024-01-01T00:00:00Z")
        ),
        None
    );
}

// ---- properties ----

const ZONES: [Tz; 6] = [
    chrono_tz::America::Sao_Paulo,
    chrono_tz::America::New_York,
    chrono_tz::Australia::Lord_Howe, // 30-minute DST shift
    chrono_tz::Europe::London,
    chrono_tz::Australia::Sydney,
    chrono_tz::UTC,
];

/// Expressions whose next tick is at most a week away (the oracle walks minutes).
fn arb_expr() -> impl Strategy<Value = String> {
    let min = prop::sample::select(vec!["0", "30", "*/7", "15,45", "*"]);
    let hour = prop::sample::select(vec!["*", "0", "1", "2", "1-3", "23", "*/5"]);
    let dow = prop::sample::select(vec!["*", "Sun", "Mon-Fri", "Sat"]);
    (min, hour, dow).prop_map(|(m, h, d)| format!("0 {m} {h} * * {d}"))
}

/// An instant in 2015-2026 (with milliseconds) and, three times in four,
/// moved to within two days before the zone's next offset change.
fn arb_after(tz: Tz) -> impl Strategy<Value = DateTime<Utc>> {
    let instant = (1_420_070_400_000i64..1_798_761_600_000)
        .prop_map(|ms| Utc.timestamp_millis_opt(ms).unwrap());
    (instant, 0i64..172_800, 0..4).prop_map(move |(t, back, pick)| {
        if pick == 0 {
            t
        } else {
            near_transition(tz, t, back)
        }
    })
}

fn near_transition(tz: Tz, t: DateTime<Utc>, back_secs: i64) -> DateTime<Utc> {
    use chrono::Offset;
    let offset = |u: DateTime<Utc>| tz.offset_from_utc_datetime(&u.naive_utc()).fix();
    let start = offset(t);
    (1..400)
        .map(|d| t + Duration::days(d))
        .find(|u| offset(*u) != start)
        .map_or(t, |u| u - Duration::seconds(back_secs))
}

fn arb_case() -> impl Strategy<Value = (String, Tz, DateTime<Utc>)> {
    (arb_expr(), prop::sample::select(ZONES.to_vec()))
        .prop_flat_map(|(e, tz)| (Just(e), Just(tz), arb_after(tz)))
}

/// Walks UTC minute by minute: a minute fires when its local time matches
/// and is that time's first occurrence, or when clocks jumped onto it over
/// a matching local time.
fn oracle_next(e: &Expr, tz: Tz, after: DateTime<Utc>) -> DateTime<Utc> {
    let local = |u: DateTime<Utc>| u.with_timezone(&tz).naive_local();
    let first_minute = after.timestamp().div_euclid(60) * 60 + 60;
    let mut u = Utc.timestamp_opt(first_minute, 0).unwrap();
    loop {
        let here = local(u);
        let first_time = tz
            .from_local_datetime(&here)
            .earliest()
            .map(|t| t.with_timezone(&Utc))
            == Some(u);
        if first_time && e.includes(Utc.from_utc_datetime(&here)) {
            return u;
        }
        let before = local(u - Duration::minutes(1));
        let mut skipped = before + Duration::minutes(1);
        while skipped < here {
            if e.includes(Utc.from_utc_datetime(&skipped)) {
                return u;
            }
            skipped += Duration::minutes(1);
        }
        u += Duration::minutes(1);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn next_after_matches_the_oracle((e, tz, after) in arb_case()) {
        let ex = expr(&e);
        let next = next_after(&ex, tz, after).unwrap();
        prop_assert!(next > after);
        prop_assert_eq!(next, oracle_next(&ex, tz, after), "{} in {}", e, tz);
    }

    #[test]
    fn ticks_are_strictly_increasing_and_match_local_fields((e, tz, after) in arb_case()) {
        let ex = expr(&e);
        let mut prev = after;
        for _ in 0..6 {
            let next = next_after(&ex, tz, prev).unwrap();
            prop_assert!(next > prev);
            let here = next.with_timezone(&tz);
            let jumped = (next - Duration::seconds(1)).with_timezone(&tz).naive_local() + Duration::seconds(1)
                != here.naive_local();
            prop_assert!(ex.includes(here) || jumped, "{} fired at {} local, not a match nor a gap end", e, here);
            prev = next;
        }
    }
}
