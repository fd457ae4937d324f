//! Precision first (issue 14): whether an extraction may go into the
//! academic records as it is, or must wait for a person (`needs_review`).
//! A wrong record is worse than no record, so anything that makes a value
//! doubtful holds the whole document: a missing student or year, a subject
//! name outside the curriculum lexicon, a grade outside the scale or
//! unreadable, a média that does not match its terms, a gap in the middle of
//! a subject's terms, a duplicated subject, a term count unlike the other
//! subjects', an OCR'd grade or page read with low confidence, a bad CNPJ,
//! a histórico whose subjects belong to no school year.
//! Every validation warning is a reason too. Pure, no features: the job
//! re-checks the subprocess's result with the same function.

use std::collections::BTreeMap;

use crate::normalize::is_known_subject;
use crate::{DocType, Extraction, SubjectResult, Warning};

/// An OCR'd grade cell read with less confidence than this is doubtful.
pub const MIN_CELL_CONFIDENCE: f32 = 60.0;
/// An OCR'd page read with less mean confidence than this is doubtful.
pub const MIN_PAGE_CONFIDENCE: f32 = 55.0;

fn reason(field: impl Into<String>, message: impl Into<String>) -> Warning {
    Warning {
        field: field.into(),
        message: message.into(),
    }
}

/// The reasons `x` must be reviewed before it is written; empty = it may be.
pub fn assess(x: &Extraction, scale_max: f64) -> Vec<Warning> {
    let mut out = Vec::new();
    if x.doc_type == DocType::Unknown {
        out.push(reason(
            "doc_type",
            "neither a boletim nor a histórico could be told",
        ));
    }
    if x.student
        .name
        .as_deref()
        .is_none_or(|n| n.trim().is_empty())
    {
        out.push(reason("student.name", "no student name was found"));
    }
    if x.doc_type != DocType::Historico && x.year.is_none() {
        out.push(reason("year", "no school year was found"));
    }
    for p in &x.page_info {
        if p.confidence < MIN_PAGE_CONFIDENCE {
            out.push(reason(
                format!("page_info[{}]", p.page),
                format!("page read by OCR with confidence {:.0}", p.confidence),
            ));
        }
    }
    part(&mut out, "subjects", &x.subjects, scale_max);
    for (i, y) in x.years.iter().enumerate() {
        if y.year.is_none() {
            out.push(reason(
                format!("years[{i}].year"),
                "a school year without its year",
            ));
        }
        part(
            &mut out,
            &format!("years[{i}].subjects"),
            &y.subjects,
            scale_max,
        );
    }
    if x.subjects.is_empty() && x.years.iter().all(|y| y.subjects.is_empty()) {
        out.push(reason("subjects", "no subject was read"));
    }
    // A histórico's grades belong to school years: subjects read without
    // any year (its year columns or headings not understood) may hold one
    // year's grades, or a mix, under no year at all.
    if x.doc_type == DocType::Historico && !x.subjects.is_empty() {
        out.push(reason(
            "subjects",
            "a histórico with subjects under no school year (its year columns or headings were not understood)",
        ));
    }
    if x.years.iter().any(|y| !y.subjects.is_empty()) {
        for (i, y) in x.years.iter().enumerate() {
            if y.subjects.is_empty() {
                out.push(reason(
                    format!("years[{i}].subjects"),
                    "a school year without any subject read",
                ));
            }
        }
    } else if x.doc_type == DocType::Historico && !x.years.is_empty() && !x.subjects.is_empty() {
        out.push(reason("years", "no school year has a subject"));
    }
    for w in &x.warnings {
        out.push(w.clone());
    }
    out
}

/// Whether a subject has a value.
type Has = fn(&SubjectResult) -> bool;

/// One table's subjects (a boletim, or one year of a histórico).
fn part(out: &mut Vec<Warning>, path: &str, subjects: &[SubjectResult], scale_max: f64) {
    // The term numbers most subjects have: the table's term columns.
    let mut shapes: BTreeMap<Vec<u8>, usize> = BTreeMap::new();
    for s in subjects {
        if !s.terms.is_empty() {
            *shapes
                .entry(s.terms.iter().map(|t| t.term).collect())
                .or_default() += 1;
        }
    }
    let usual = shapes
        .iter()
        .max_by_key(|(_, n)| **n)
        .map(|(k, _)| k.clone());
    // A value most subjects have and this one lacks: a cell was not read.
    let has = |f: Has| subjects.iter().filter(|s| f(s)).count();
    let columns: [(&str, Has); 3] = [
        ("final_grade", |s| s.final_grade.is_some()),
        ("absences", |s| s.absences.is_some()),
        ("attendance_pct", |s| s.attendance_pct.is_some()),
    ];
    for (field, f) in columns {
        let n = has(f);
        if subjects.len() >= 3 && n * 2 > subjects.len() && n < subjects.len() {
            for (i, s) in subjects.iter().enumerate().filter(|(_, s)| !f(s)) {
                out.push(reason(
                    format!("{path}[{i}].{field}"),
                    format!(
                        "{} has no {field} where the other subjects have one",
                        s.name
                    ),
                ));
            }
        }
    }
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, s) in subjects.iter().enumerate() {
        let at = format!("{path}[{i}]");
        if let Some(prev) = seen.insert(s.code.as_str(), i) {
            out.push(reason(
                format!("{at}.code"),
                format!("{} read twice (also {path}[{prev}])", s.code),
            ));
        }
        if !is_known_subject(&s.name_original) {
            out.push(reason(
                format!("{at}.name"),
                format!(
                    "{:?} is not a curriculum component the reader knows",
                    s.name_original
                ),
            ));
        }
        let terms: Vec<u8> = s.terms.iter().map(|t| t.term).collect();
        if let Some(u) = &usual {
            if !s.terms.is_empty() && &terms != u {
                out.push(reason(
                    format!("{at}.terms"),
                    format!("terms {terms:?} unlike the table's {u:?}"),
                ));
            }
        }
        // A final grade printed while a term's cell is empty (not `-`): the
        // columns were likely read one off (the last term's value taken
        // for the final).
        if s.final_grade.is_some()
            && s.terms
                .iter()
                .any(|t| t.grade.is_none() && t.raw.as_deref().is_none_or(|r| r.trim().is_empty()))
        {
            out.push(reason(
                format!("{at}.terms"),
                "a final grade beside a term whose cell was read empty",
            ));
        }
        // Grades present then missing then present: a misread cell.
        let present: Vec<bool> = s.terms.iter().map(|t| t.grade.is_some()).collect();
        if let Some(last) = present.iter().rposition(|p| *p) {
            if present[..last].iter().any(|p| !p) {
                out.push(reason(
                    format!("{at}.terms"),
                    "a term without a grade between terms with grades",
                ));
            }
        }
        if s.terms.iter().all(|t| t.grade.is_none()) && s.final_grade.is_none() {
            out.push(reason(at.clone(), "a subject without any grade"));
        }
        if let Some(st) = &s.status {
            if crate::normalize::status(st).is_none() {
                out.push(reason(
                    format!("{at}.status"),
                    format!("{st:?} is not a result the reader knows"),
                ));
            }
        }
        for (j, t) in s.terms.iter().enumerate() {
            if t.confidence.is_some_and(|c| c < MIN_CELL_CONFIDENCE) && t.grade.is_some() {
                out.push(reason(
                    format!("{at}.terms[{j}].grade"),
                    format!(
                        "read {:?} with OCR confidence {:.0}",
                        t.raw.as_deref().unwrap_or(""),
                        t.confidence.unwrap_or(0.0)
                    ),
                ));
            }
        }
        let grades = s.terms.iter().filter_map(|t| t.grade).chain(s.final_grade);
        for g in grades {
            if !(0.0..=scale_max).contains(&g) {
                out.push(reason(
                    at.clone(),
                    format!("grade {g} outside the scale 0-{scale_max}"),
                ));
                break;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Method, School, Student, TermGrade};

    fn subject(name: &str, grades: &[Option<f64>]) -> SubjectResult {
        let (canonical, code) = crate::normalize::subject(name);
        SubjectResult {
            name: canonical,
            name_original: name.into(),
            code,
            terms: grades
                .iter()
                .enumerate()
                .map(|(i, g)| TermGrade {
                    term: i as u8 + 1,
                    grade: *g,
                    raw: g.map(|g| g.to_string()),
                    confidence: Some(100.0),
                })
                .collect(),
            final_grade: None,
            recovery_grade: None,
            absences: None,
            attendance_pct: None,
            status: None,
            workload_hours: None,
        }
    }

    fn boletim(subjects: Vec<SubjectResult>) -> Extraction {
        Extraction {
            document_id: None,
            doc_type: DocType::Boletim,
            pages: 1,
            method: Method::Text,
            confidence: 100.0,
            student: Student {
                name: Some("Ana Lima".into()),
                ..Student::default()
            },
            school: School::default(),
            year: Some(2024),
            subjects,
            years: vec![],
            overall_attendance_pct: None,
            warnings: vec![],
            page_info: vec![],
            needs_review: false,
            review_reasons: vec![],
        }
    }

    #[test]
    fn a_clean_boletim_passes_and_doubts_hold_it() {
        let good = boletim(vec![
            subject("Matemática", &[Some(8.0), Some(7.5), None]),
            subject("História", &[Some(6.0), Some(7.0), Some(8.0)]),
        ]);
        assert_eq!(assess(&good, 10.0), vec![]);
        let fields = |x: &Extraction| -> Vec<String> {
            assess(x, 10.0).into_iter().map(|w| w.field).collect()
        };
        let mut x = good.clone();
        x.student.name = None;
        x.year = None;
        assert_eq!(fields(&x), ["student.name", "year"]);
        let x = boletim(vec![
            subject("Matemática", &[Some(8.0), None, Some(7.0)]),
            subject("Número da Nota", &[Some(85.0), Some(7.0), Some(7.0)]),
            subject("Matemática", &[Some(8.0), Some(7.0)]),
        ]);
        assert_eq!(
            fields(&x),
            [
                "subjects[0].terms",
                "subjects[1].name",
                "subjects[1]",
                "subjects[2].code",
                "subjects[2].terms"
            ]
        );
        // A histórico whose grades came out under no school year is held.
        let mut h = good.clone();
        h.doc_type = DocType::Historico;
        assert_eq!(fields(&h), ["subjects"]);
        h.years.push(crate::YearRecord {
            year: Some(2021),
            grade_level: None,
            school_name: None,
            subjects: Vec::new(),
            overall_attendance_pct: None,
            status: None,
        });
        assert_eq!(fields(&h), ["subjects", "years"]);
    }

    #[test]
    fn a_final_grade_beside_an_empty_term_cell_is_held() {
        let with_final = |raw: Option<&str>| {
            let mut s = subject("Matemática", &[Some(8.0), Some(7.0), None]);
            s.terms[2].raw = raw.map(str::to_string);
            s.final_grade = Some(7.5);
            boletim(vec![
                s,
                subject("História", &[Some(6.0), Some(7.0), Some(8.0)]),
            ])
        };
        // Nothing in the third term's cell: the final may be its value.
        let held: Vec<String> = assess(&with_final(None), 10.0)
            .into_iter()
            .map(|w| w.field)
            .collect();
        assert_eq!(held, ["subjects[0].terms"]);
        // A printed `—`: a term without a grade, on purpose.
        assert_eq!(assess(&with_final(Some("—")), 10.0), vec![]);
    }
}
