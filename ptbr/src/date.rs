//! `dd/mm/aaaa` dates: [`parse_date`] for what people and systems send
//! (`15/03/2026`, `5/3/2026`, ISO `2026-03-15`), [`parse_date_loose`] for
//! what printed documents show (`15-03-11`, `15.03.2011`), [`format_date`].

use std::ops::RangeInclusive;

use chrono::NaiveDate;

/// Years a school record can have (the `year between 1900 and 2200` checks
/// of migration 0005); a date outside is a misread, not a date.
pub const YEARS: RangeInclusive<i32> = 1900..=2200;

/// `15/03/2026`, `5/3/2026` (day and month of one or two digits, a
/// four-digit year) or ISO `2026-03-15`; `None` for a day that does not
/// exist (`31/02/2025`) or a year outside [`YEARS`].
pub fn parse_date(s: &str) -> Option<NaiveDate> {
    let s = s.trim();
    let parts: Vec<&str> = s.split('/').collect();
    if let [d, m, y] = parts[..] {
        return ymd(digits(y, 4..=4)?, digits(m, 1..=2)?, digits(d, 1..=2)?);
    }
    let parts: Vec<&str> = s.split('-').collect();
    match parts[..] {
        [y, m, d] => ymd(digits(y, 4..=4)?, digits(m, 1..=2)?, digits(d, 1..=2)?),
        _ => None,
    }
}

/// [`parse_date`], or a date as printed documents and OCR give it: `-` or
/// `.` between the parts (`15-03-2011`, `15.03.2011`), a two-digit year
/// (`15/03/11`: up to 30 is 20xx, above is 19xx), punctuation after it
/// (`15/03/2011,`).
pub fn parse_date_loose(s: &str) -> Option<NaiveDate> {
    let s = s
        .trim()
        .trim_end_matches(|c: char| !c.is_ascii_alphanumeric());
    if let Some(d) = parse_date(s) {
        return Some(d);
    }
    let parts: Vec<&str> = s.split(['/', '-', '.']).collect();
    let [d, m, y] = parts[..] else {
        return None;
    };
    let year: i32 = match y.len() {
        2 => {
            let yy: i32 = digits(y, 2..=2)?;
            yy + if yy > 30 { 1900 } else { 2000 }
        }
        _ => digits(y, 4..=4)?,
    };
    ymd(year, digits(m, 1..=2)?, digits(d, 1..=2)?)
}

/// `15/12/2025`.
pub fn format_date(d: NaiveDate) -> String {
    d.format("%d/%m/%Y").to_string()
}

/// ASCII digits only, as many as `len` allows.
fn digits<T: std::str::FromStr>(s: &str, len: RangeInclusive<usize>) -> Option<T> {
    (len.contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit()))
        .then(|| s.parse().ok())
        .flatten()
}

fn ymd(y: i32, m: u32, d: u32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(y, m, d).filter(|_| YEARS.contains(&y))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn day(y: i32, m: u32, d: u32) -> Option<NaiveDate> {
        NaiveDate::from_ymd_opt(y, m, d)
    }

    #[test]
    fn dd_mm_aaaa_and_iso() {
        assert_eq!(parse_date("05/03/2025"), day(2025, 3, 5));
        assert_eq!(parse_date("5/3/2025"), day(2025, 3, 5));
        assert_eq!(parse_date(" 15/12/2025 "), day(2025, 12, 15));
        assert_eq!(parse_date("2026-03-15"), day(2026, 3, 15));
        assert_eq!(parse_date("29/02/2024"), day(2024, 2, 29));
    }

    #[test]
    fn days_that_do_not_exist_are_refused() {
        for s in [
            "31/02/2025",
            "29/02/2025",
            "31/04/2011",
            "00/01/2025",
            "15/13/2025",
            "2025-02-30",
            "15/03/1850",
            "15/03/2201",
            "15/03/25",
            "15-03-2025",
            "15/03/2025/1",
            "15/ 03/2025",
            "+1/03/2025",
            "março",
            "",
        ] {
            assert_eq!(parse_date(s), None, "{s:?}");
        }
    }

    #[test]
    fn printed_forms_are_read_loosely() {
        assert_eq!(parse_date_loose("15/03/2011"), day(2011, 3, 15));
        assert_eq!(parse_date_loose("1/2/2010"), day(2010, 2, 1));
        assert_eq!(parse_date_loose("15-03-11"), day(2011, 3, 15));
        assert_eq!(parse_date_loose("15.03.1998"), day(1998, 3, 15));
        assert_eq!(parse_date_loose("15/03/98"), day(1998, 3, 15));
        assert_eq!(parse_date_loose("15/03/2011,"), day(2011, 3, 15));
        assert_eq!(parse_date_loose("2011-03-15"), day(2011, 3, 15));
        assert_eq!(parse_date_loose("29/02/2011"), None);
        assert_eq!(parse_date_loose("31/02/2025"), None);
        assert_eq!(parse_date_loose("15/03/201"), None);
        assert_eq!(parse_date_loose("15/03/20111"), None);
        assert_eq!(parse_date_loose("março"), None);
    }

    #[test]
    fn formats_dd_mm_aaaa() {
        assert_eq!(format_date(day(2025, 12, 15).unwrap()), "15/12/2025");
        assert_eq!(format_date(day(2025, 3, 5).unwrap()), "05/03/2025");
    }

    proptest! {
        #[test]
        fn dd_mm_aaaa_round_trips(days in 0i64..100_000) {
            let d = day(1900, 1, 1).unwrap() + chrono::Duration::days(days);
            prop_assume!(YEARS.contains(&chrono::Datelike::year(&d)));
            prop_assert_eq!(parse_date(&format_date(d)), Some(d));
            prop_assert_eq!(parse_date_loose(&format_date(d)), Some(d));
        }
    }
}
