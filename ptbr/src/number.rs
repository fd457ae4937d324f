//! Decimal-comma numbers: `8,5`, `1.234,56`, `72,5%` in, `8,5`,
//! `1.234,56`, `R$ 1.234,56` out.

/// A pt-BR number: `8,5`, `10`, `1.234,56`, `1.234.567`, `72,5%`, `-0,5`.
/// The point is accepted as the decimal mark when there is one and no comma
/// (`8.5`, what spreadsheets and JSON clients send); a thousands point needs
/// groups of three (`1.0.0` is not a number). `None` for a dash, empty text,
/// letters, exponents, or anything not finite.
pub fn parse_decimal(s: &str) -> Option<f64> {
    let t = s.trim();
    let t = t.strip_suffix('%').unwrap_or(t).trim_end();
    let (neg, body) = match t.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, t),
    };
    if !body.bytes().any(|b| b.is_ascii_digit())
        || !body
            .bytes()
            .all(|b| b.is_ascii_digit() || b == b',' || b == b'.')
    {
        return None;
    }
    let (int, frac) = match body.split_once(',') {
        Some((_, f)) if f.contains([',', '.']) => return None,
        Some((i, f)) => (grouped(i)?, f),
        None if body.matches('.').count() > 1 => (grouped(body)?, ""),
        None => {
            let (i, f) = body.split_once('.').unwrap_or((body, ""));
            (i.to_string(), f)
        }
    };
    let x: f64 = format!("{int}.{frac}").trim_end_matches('.').parse().ok()?;
    (x.is_finite()).then_some(if neg { -x } else { x })
}

/// The integer part without its thousands points: `1.234` → `1234`;
/// `None` when the groups are not 1-3 digits then threes.
fn grouped(int: &str) -> Option<String> {
    let mut groups = int.split('.');
    let first = groups.next().unwrap_or("");
    if int.contains('.') && !(1..=3).contains(&first.len()) {
        return None;
    }
    let mut out = first.to_string();
    for g in groups {
        if g.len() != 3 {
            return None;
        }
        out.push_str(g);
    }
    Some(out)
}

/// `x` with `places` decimals, a decimal comma and thousands points:
/// `format_decimal(8.5, 1)` → `8,5`, `(1234.5, 2)` → `1.234,50`.
pub fn format_decimal(x: f64, places: usize) -> String {
    pt_br(&format!("{x:.places$}"))
}

/// `x` with the fewest decimals that give it back: `8.5` → `8,5`, `4.0` →
/// `4`, `1234567.0` → `1.234.567`.
pub fn format_number(x: f64) -> String {
    pt_br(&format!("{x}"))
}

/// Reais: `R$ 1.234,56`, always two decimals; `-R$ 10,00` below zero.
pub fn format_money(x: f64) -> String {
    let s = format_decimal(x.abs(), 2);
    if x < 0.0 && s.bytes().any(|b| (b'1'..=b'9').contains(&b)) {
        format!("-R$ {s}")
    } else {
        format!("R$ {s}")
    }
}

/// Integer cents as reais, exactly (no float on the way): `123456` →
/// `R$ 1.234,56`, `-1000` → `-R$ 10,00`. Use it for money stored as cents.
pub fn format_cents(cents: i64) -> String {
    let abs = cents.unsigned_abs();
    let s = pt_br(&format!("{}.{:02}", abs / 100, abs % 100));
    if cents < 0 {
        format!("-R$ {s}")
    } else {
        format!("R$ {s}")
    }
}

/// `-1234.50` (Rust's form) → `-1.234,50`; no sign on a zero (`-0,00`).
fn pt_br(s: &str) -> String {
    let (neg, s) = s.strip_prefix('-').map_or((false, s), |r| (true, r));
    let (int, frac) = s.split_once('.').map_or((s, None), |(i, f)| (i, Some(f)));
    let mut out = String::new();
    if neg && s.bytes().any(|b| (b'1'..=b'9').contains(&b)) {
        out.push('-');
    }
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push('.');
        }
        out.push(c);
    }
    if let Some(f) = frac {
        out.push(',');
        out.push_str(f);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn cents_format_exactly() {
        assert_eq!(format_cents(123456), "R$ 1.234,56");
        assert_eq!(format_cents(5), "R$ 0,05");
        assert_eq!(format_cents(0), "R$ 0,00");
        assert_eq!(format_cents(-1000), "-R$ 10,00");
        assert_eq!(
            format_cents(9_007_199_254_740_991),
            "R$ 90.071.992.547.409,91"
        );
        assert_eq!(format_cents(i64::MIN), "-R$ 92.233.720.368.547.758,08");
    }

    #[test]
    fn decimal_comma_and_thousands_points() {
        assert_eq!(parse_decimal("8,5"), Some(8.5));
        assert_eq!(parse_decimal(" 8,5 "), Some(8.5));
        assert_eq!(parse_decimal("10"), Some(10.0));
        assert_eq!(parse_decimal("1.234,56"), Some(1234.56));
        assert_eq!(parse_decimal("1.234.567"), Some(1_234_567.0));
        assert_eq!(parse_decimal("1.234.567,5"), Some(1_234_567.5));
        assert_eq!(parse_decimal("0,05"), Some(0.05));
        assert_eq!(parse_decimal("-0,5"), Some(-0.5));
        assert_eq!(parse_decimal("72,5%"), Some(72.5));
        assert_eq!(parse_decimal("92,5 %"), Some(92.5));
    }

    #[test]
    fn a_lone_point_is_a_decimal_point() {
        assert_eq!(parse_decimal("8.5"), Some(8.5));
        assert_eq!(parse_decimal("7.25"), Some(7.25));
        assert_eq!(parse_decimal("1.234"), Some(1.234));
        assert_eq!(parse_decimal("8,"), Some(8.0));
        assert_eq!(parse_decimal(",5"), Some(0.5));
    }

    #[test]
    fn not_numbers() {
        for s in [
            "-",
            "—",
            "",
            " ",
            ",",
            ".",
            "%",
            "8,5a",
            "oito",
            "1e3",
            "inf",
            "NaN",
            "1,2,3",
            "1.0.0",
            "12.34,5",
            "1234.567,8",
            "8,5.1",
            "+5",
            "--5",
            "5-",
        ] {
            assert_eq!(parse_decimal(s), None, "{s:?}");
        }
    }

    #[test]
    fn formats() {
        assert_eq!(format_decimal(8.5, 1), "8,5");
        assert_eq!(format_decimal(8.5, 2), "8,50");
        assert_eq!(format_decimal(1234.5, 2), "1.234,50");
        assert_eq!(format_decimal(1_234_567.0, 0), "1.234.567");
        assert_eq!(format_decimal(-1234.5, 1), "-1.234,5");
        assert_eq!(format_decimal(-0.001, 2), "0,00");
        assert_eq!(format_number(8.5), "8,5");
        assert_eq!(format_number(4.0), "4");
        assert_eq!(format_number(1_234_567.0), "1.234.567");
        assert_eq!(format_number(0.1 + 0.2), "0,30000000000000004");
        assert_eq!(format_money(1234.56), "R$ 1.234,56");
        assert_eq!(format_money(0.5), "R$ 0,50");
        assert_eq!(format_money(-10.0), "-R$ 10,00");
        assert_eq!(format_money(-0.001), "R$ 0,00");
    }

    proptest! {
        #[test]
        fn decimal_comma_round_trips(cents in -100_000_000i64..100_000_000) {
            let x = cents as f64 / 100.0;
            prop_assert_eq!(parse_decimal(&format_decimal(x, 2)), Some(x));
        }

        #[test]
        fn shortest_form_round_trips(x in -1e9f64..1e9) {
            prop_assert_eq!(parse_decimal(&format_number(x)), Some(x));
        }
    }
}
