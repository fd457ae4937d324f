//! Checks on the parsed result, each problem a [`Warning`] on the field's
//! JSON path (never a silent drop: out-of-range values stay, flagged):
//! grades within `0..=grade_scale_max`, attendance within 0-100, the média
//! against the mean of the terms when all are present, the CNPJ check digits,
//! and the birth date's plausibility.

use crate::{Extraction, SubjectResult, Warning};

/// How far the stated média may be from the terms' arithmetic mean before
/// we flag it: schools round to 0.5 or 0.1 and some weight terms, so a
/// quarter of a point on a 0-10 scale (scaled for 0-100).
pub const MEAN_TOLERANCE_FRACTION: f64 = 0.05;

/// How far a printed frequência may be from `1 - faltas / carga horária`
/// (schools count faltas per class, not per hour, and round): 2 points.
pub const ATTENDANCE_TOLERANCE: f64 = 2.0;

/// Each validation warning lowers the document's confidence by this much
/// (and any warning holds the document for review, [`crate::review`]).
pub const WARNING_PENALTY: f32 = 10.0;

/// Whether the 14-digit CNPJ has valid check digits.
pub fn cnpj_ok(digits: &str) -> bool {
    let d: Vec<u32> = digits.chars().filter_map(|c| c.to_digit(10)).collect();
    if d.len() != 14 || d.iter().all(|&x| x == d[0]) {
        return false;
    }
    let check = |n: usize| {
        let weights: &[u32] = if n == 12 {
            &[5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2]
        } else {
            &[6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2]
        };
        let sum: u32 = d[..n].iter().zip(weights).map(|(a, b)| a * b).sum();
        let r = sum % 11;
        if r < 2 {
            0
        } else {
            11 - r
        }
    };
    check(12) == d[12] && check(13) == d[13]
}

/// A person's name: letters (two words at least), spaces, apostrophes,
/// hyphens and dots; no digit, colon or other punctuation (a value that ran
/// into the next label, `Ana Souza Registro: 123`, is not a name).
pub fn person_name(n: &str) -> bool {
    let words = n.split_whitespace().count();
    words >= 2
        && n.chars().filter(|c| c.is_alphabetic()).count() >= 4
        && n.chars()
            .all(|c| c.is_alphabetic() || matches!(c, ' ' | '\'' | '’' | '-' | '.'))
}

/// Runs every check and appends the warnings.
pub fn validate(x: &mut Extraction, scale_max: f64) {
    let mut w = Vec::new();
    if let Some(cnpj) = &x.school.cnpj {
        if cnpj.len() != 14 {
            w.push(warn(
                "school.cnpj",
                format!("CNPJ has {} digits, not 14", cnpj.len()),
            ));
        } else if !cnpj_ok(cnpj) {
            w.push(warn("school.cnpj", "CNPJ check digits do not match"));
        }
    }
    if let Some(name) = &x.student.name {
        if !person_name(name) {
            w.push(warn(
                "student.name",
                format!(
                    "{name:?} does not look like a person's name (digits, a label or too short)"
                ),
            ));
        }
    }
    if let Some(r) = &x.student.registration {
        if !r.chars().any(|c| c.is_ascii_digit()) {
            w.push(warn("student.registration", format!("{r:?} has no digit")));
        }
    }
    for (i, s) in x.subjects.iter().enumerate() {
        subject(&format!("subjects[{i}]"), s, scale_max, &mut w);
    }
    for (y, year) in x.years.iter().enumerate() {
        for (i, s) in year.subjects.iter().enumerate() {
            subject(&format!("years[{y}].subjects[{i}]"), s, scale_max, &mut w);
        }
        if let Some(p) = year.overall_attendance_pct {
            pct(&format!("years[{y}].overall_attendance_pct"), p, &mut w);
        }
    }
    if let Some(p) = x.overall_attendance_pct {
        pct("overall_attendance_pct", p, &mut w);
    }
    x.warnings.extend(w);
}

fn subject(path: &str, s: &SubjectResult, scale_max: f64, w: &mut Vec<Warning>) {
    for (t, term) in s.terms.iter().enumerate() {
        if let Some(g) = term.grade {
            if !(0.0..=scale_max).contains(&g) {
                w.push(warn(
                    &format!("{path}.terms[{t}].grade"),
                    format!("grade {g} is outside 0-{scale_max}"),
                ));
            }
        } else if term
            .raw
            .as_deref()
            .is_some_and(|r| !r.trim().is_empty() && !is_blank_mark(r))
        {
            w.push(warn(
                &format!("{path}.terms[{t}].grade"),
                format!("unreadable grade {:?}", term.raw.as_deref().unwrap_or("")),
            ));
        }
    }
    if let Some(g) = s.final_grade {
        if !(0.0..=scale_max).contains(&g) {
            w.push(warn(
                &format!("{path}.final_grade"),
                format!("grade {g} is outside 0-{scale_max}"),
            ));
        } else {
            let grades: Vec<f64> = s.terms.iter().filter_map(|t| t.grade).collect();
            if !grades.is_empty()
                && grades.len() == s.terms.len()
                && grades.iter().all(|g| (0.0..=scale_max).contains(g))
            {
                let mean = grades.iter().sum::<f64>() / grades.len() as f64;
                // After a recovery exam the final is the exam's grade, the
                // better of the two, or their mean, as schools rule.
                let candidates: Vec<f64> = match s.recovery_grade {
                    Some(r) => vec![mean, r, mean.max(r), (mean + r) / 2.0],
                    None => vec![mean],
                };
                let tol = MEAN_TOLERANCE_FRACTION * scale_max;
                if candidates.iter().all(|c| (c - g).abs() > tol) {
                    w.push(warn(
                        &format!("{path}.final_grade"),
                        format!("média {g} differs from the terms' mean {:.2}", mean),
                    ));
                }
            }
        }
    }
    if let Some(r) = s.recovery_grade {
        if !(0.0..=scale_max).contains(&r) {
            w.push(warn(
                &format!("{path}.recovery_grade"),
                format!("grade {r} is outside 0-{scale_max}"),
            ));
        }
    }
    if let Some(p) = s.attendance_pct {
        pct(&format!("{path}.attendance_pct"), p, w);
        // Frequência against faltas over the workload, when both are printed.
        if let (Some(a), Some(h)) = (s.absences, s.workload_hours) {
            if h > 0 && (0.0..=100.0).contains(&p) {
                let expected = (1.0 - f64::from(a) / f64::from(h)) * 100.0;
                if (expected - p).abs() > ATTENDANCE_TOLERANCE {
                    w.push(warn(
                        &format!("{path}.attendance_pct"),
                        format!(
                            "frequência {p}% does not match {a} faltas in {h} h ({expected:.1}%)"
                        ),
                    ));
                }
            }
        }
        if s.absences.is_some_and(|a| a > 0) && p == 100.0 {
            w.push(warn(
                &format!("{path}.attendance_pct"),
                format!("frequência 100% with {} faltas", s.absences.unwrap_or(0)),
            ));
        }
    }
}

/// `-`, `—`, `–`, `*`: the term had no grade (not yet given, or exempt).
pub fn is_blank_mark(raw: &str) -> bool {
    let t = raw.trim();
    !t.is_empty() && t.chars().all(|c| matches!(c, '-' | '—' | '–' | '*' | '_'))
}

fn pct(path: &str, p: f64, w: &mut Vec<Warning>) {
    if !(0.0..=100.0).contains(&p) {
        w.push(warn(path, format!("attendance {p}% is outside 0-100")));
    }
}

pub(crate) fn warn(field: &str, message: impl Into<String>) -> Warning {
    Warning {
        field: field.to_string(),
        message: message.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{DocType, Method, School, Student, TermGrade};

    #[test]
    fn cnpj_check_digits() {
        assert!(cnpj_ok("11222333000181"));
        assert!(!cnpj_ok("11222333000182"));
        assert!(!cnpj_ok("11111111111111"));
        assert!(!cnpj_ok("1122233300018"));
        assert!(cnpj_ok("00000000000191"));
    }

    fn term(n: u8, g: f64) -> TermGrade {
        TermGrade {
            term: n,
            grade: Some(g),
            raw: Some(g.to_string()),
            confidence: Some(100.0),
        }
    }

    #[test]
    fn warns_on_ranges_mean_and_cnpj() {
        let subject = SubjectResult {
            name: "Matemática".into(),
            name_original: "Matemática".into(),
            code: "matematica".into(),
            terms: vec![term(1, 8.0), term(2, 85.0), term(3, 7.0), term(4, 7.0)],
            final_grade: Some(7.5),
            recovery_grade: None,
            absences: Some(2),
            attendance_pct: Some(101.0),
            status: None,
            workload_hours: None,
        };
        let mut ok = subject.clone();
        ok.terms[1] = term(2, 8.0);
        ok.attendance_pct = Some(95.0);
        let mut bad_mean = ok.clone();
        bad_mean.final_grade = Some(9.5);
        let mut x = Extraction {
            document_id: None,
            doc_type: DocType::Boletim,
            pages: 1,
            method: Method::Text,
            confidence: 100.0,
            student: Student::default(),
            school: School {
                name: None,
                cnpj: Some("11222333000182".into()),
            },
            year: Some(2024),
            subjects: vec![subject, ok, bad_mean],
            years: vec![],
            overall_attendance_pct: None,
            warnings: vec![],
            page_info: vec![],
            needs_review: false,
            review_reasons: vec![],
        };
        validate(&mut x, 10.0);
        let fields: Vec<&str> = x.warnings.iter().map(|w| w.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "school.cnpj",
                "subjects[0].terms[1].grade",
                "subjects[0].attendance_pct",
                "subjects[2].final_grade"
            ]
        );
    }

    #[test]
    fn attendance_against_absences_and_recovery_finals() {
        let base = SubjectResult {
            name: "História".into(),
            name_original: "História".into(),
            code: "historia".into(),
            terms: vec![term(1, 4.0), term(2, 5.0)],
            final_grade: Some(6.0),
            recovery_grade: Some(6.0),
            absences: Some(8),
            attendance_pct: Some(90.0),
            status: None,
            workload_hours: Some(80),
        };
        let mut wrong_freq = base.clone();
        wrong_freq.attendance_pct = Some(97.5);
        let mut no_rec = base.clone();
        no_rec.recovery_grade = None;
        let mut x = Extraction {
            document_id: None,
            doc_type: DocType::Boletim,
            pages: 1,
            method: Method::Text,
            confidence: 100.0,
            student: Student::default(),
            school: School::default(),
            year: Some(2024),
            subjects: vec![base, wrong_freq, no_rec],
            years: vec![],
            overall_attendance_pct: None,
            warnings: vec![],
            page_info: vec![],
            needs_review: false,
            review_reasons: vec![],
        };
        validate(&mut x, 10.0);
        let fields: Vec<&str> = x.warnings.iter().map(|w| w.field.as_str()).collect();
        // 8 faltas in 80 h is 90 %: the first is right; the second's 97.5 %
        // is not; the third's final 6.0 is neither the mean 4.5 nor a recovery.
        assert_eq!(
            fields,
            ["subjects[1].attendance_pct", "subjects[2].final_grade"]
        );
    }

    #[test]
    fn a_name_that_ran_into_the_next_label_is_not_a_name() {
        assert!(person_name("Heitor Augusto de Jesus"));
        assert!(person_name("Ana D'Ávila Souza-Lima"));
        assert!(!person_name("Heitor Augusto de Jesus Registro: 8998093"));
        assert!(!person_name("Número da Nota 00123"));
        assert!(!person_name("Ana"));
    }
}
