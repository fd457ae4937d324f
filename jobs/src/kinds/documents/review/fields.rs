//! The header corrections (student, school, year) and the checks of single
//! corrected values (text, birth date, CNPJ, grade) with the change log
//! entry they leave; each problem named on its path.

use chrono::Datelike;
use serde::Serialize;
use serde_json::Value;

use documents::normalize;

use documents::Extraction;

use super::{err, Change, Corrections, FieldError, Number};

pub(super) fn text_value(
    errors: &mut Vec<FieldError>,
    path: &str,
    v: &Option<String>,
    max: usize,
) -> Option<String> {
    let t = v.as_deref().map(str::trim).unwrap_or("");
    if t.is_empty() {
        errors.push(err(path, "empty; use null to clear it"));
        None
    } else if t.chars().count() > max {
        errors.push(err(path, format!("at most {max} characters")));
        None
    } else {
        Some(t.to_string())
    }
}

/// `dd/mm/aaaa` or ISO, a real day between 1900 and today.
pub(super) fn birth_date(errors: &mut Vec<FieldError>, path: &str, raw: &str) -> Option<String> {
    let d = chrono::NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d")
        .ok()
        .or_else(|| {
            normalize::date(raw)
                .and_then(|s| chrono::NaiveDate::parse_from_str(&s, "%Y-%m-%d").ok())
        });
    let today = chrono::Utc::now().date_naive();
    match d {
        Some(d) if d.year() >= 1900 && d <= today => Some(d.to_string()),
        Some(d) => {
            errors.push(err(path, format!("{d} is not a plausible birth date")));
            None
        }
        None => {
            errors.push(err(path, format!("{raw:?} is not a date (dd/mm/aaaa)")));
            None
        }
    }
}

/// CNPJ digits with valid check digits; `.`, `/`, `-` and spaces allowed.
pub(super) fn cnpj(errors: &mut Vec<FieldError>, path: &str, raw: &str) -> Option<String> {
    if raw
        .chars()
        .any(|c| !(c.is_ascii_digit() || matches!(c, '.' | '/' | '-' | ' ')))
    {
        errors.push(err(path, "only digits and . / -"));
        return None;
    }
    let d = normalize::digits(raw);
    if d.len() != 14 {
        errors.push(err(path, format!("{} digits, not 14", d.len())));
        None
    } else if !documents::validate::cnpj_ok(&d) {
        errors.push(err(path, "CNPJ check digits do not match"));
        None
    } else {
        Some(d)
    }
}

pub(super) fn grade(
    errors: &mut Vec<FieldError>,
    path: &str,
    n: &Number,
    scale_max: f64,
) -> Option<f64> {
    match n.parse() {
        Some(g) if (0.0..=scale_max).contains(&g) => Some(g),
        Some(g) => {
            errors.push(err(
                path,
                format!("{g} is off the tenant's scale 0-{scale_max}"),
            ));
            None
        }
        None => {
            errors.push(err(path, format!("{n:?} is not a number")));
            None
        }
    }
}

/// Records a change when `to` differs from `from`.
pub(super) fn changed<T: Serialize + PartialEq>(
    changes: &mut Vec<Change>,
    field: String,
    from: &T,
    to: &T,
) {
    if from != to {
        changes.push(Change {
            field,
            from: serde_json::to_value(from).unwrap_or(Value::Null),
            to: serde_json::to_value(to).unwrap_or(Value::Null),
        });
    }
}

/// Merges `c`'s student, school and year into `x`.
pub(super) fn header(
    x: &mut Extraction,
    c: &Corrections,
    errors: &mut Vec<FieldError>,
    changes: &mut Vec<Change>,
) {
    if let Some(s) = &c.student {
        let p = "corrections.student";
        if let Some(v) = &s.name {
            let to = v
                .as_ref()
                .and_then(|_| text_value(errors, &format!("{p}.name"), v, 200));
            if v.is_none() || to.is_some() {
                changed(changes, "student.name".into(), &x.student.name, &to);
                x.student.name = to;
            }
        }
        if let Some(v) = &s.registration {
            let to = v
                .as_ref()
                .and_then(|_| text_value(errors, &format!("{p}.registration"), v, 64));
            if v.is_none() || to.is_some() {
                changed(
                    changes,
                    "student.registration".into(),
                    &x.student.registration,
                    &to,
                );
                x.student.registration = to;
            }
        }
        if let Some(v) = &s.birth_date {
            let to = v
                .as_deref()
                .and_then(|d| birth_date(errors, &format!("{p}.birth_date"), d));
            if v.is_none() || to.is_some() {
                changed(
                    changes,
                    "student.birth_date".into(),
                    &x.student.birth_date,
                    &to,
                );
                x.student.birth_date = to;
            }
        }
        if let Some(v) = &s.class_name {
            let to = v
                .as_ref()
                .and_then(|_| text_value(errors, &format!("{p}.class_name"), v, 100));
            if v.is_none() || to.is_some() {
                changed(
                    changes,
                    "student.class_name".into(),
                    &x.student.class_name,
                    &to,
                );
                x.student.class_name = to;
            }
        }
    }
    if let Some(s) = &c.school {
        if let Some(v) = &s.name {
            let to = v
                .as_ref()
                .and_then(|_| text_value(errors, "corrections.school.name", v, 200));
            if v.is_none() || to.is_some() {
                changed(changes, "school.name".into(), &x.school.name, &to);
                x.school.name = to;
            }
        }
        if let Some(v) = &s.cnpj {
            let to = v
                .as_deref()
                .and_then(|d| cnpj(errors, "corrections.school.cnpj", d));
            if v.is_none() || to.is_some() {
                changed(changes, "school.cnpj".into(), &x.school.cnpj, &to);
                x.school.cnpj = to;
            }
        }
    }
    if let Some(y) = c.year {
        if (1900..=2200).contains(&y) {
            changed(changes, "year".into(), &x.year, &Some(y));
            x.year = Some(y);
        } else {
            errors.push(err("corrections.year", "between 1900 and 2200"));
        }
    }
}
