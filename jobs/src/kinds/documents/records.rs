//! From an extraction to the tenant's academic records (migration 0005), in
//! the caller's transaction: the student (the upload's `student_id` hint, else
//! by matrícula, created when new), the subjects by canonical code, grades
//! (terms 1..n, term 0 = the final grade) and attendance per period (term 0 =
//! the year; subject `''` = overall). Every row says `source =
//! 'document:<id>'`; re-running overwrites the same keys, so it is idempotent.
//! The rows go through the `store::academic` upserts, the ones ingestion
//! uses: one statement and conflict key per table, and subject codes are
//! the documents crate's `ptbr::slug`, as ingestion's are.
//! Whatever cannot be written (no student, no year, a grade above the scale)
//! is listed in [`RecordsOutcome::skipped`], never dropped silently.

use std::collections::BTreeMap;

use documents::{DocType, Extraction, SubjectResult};
use serde::Serialize;
use uuid::Uuid;

use crate::store::academic::{
    self,
    attendance::PeriodRow,
    grades::GradeRow,
    students::{self, StudentRow, Write},
};

/// What was written, for the job's result and the logs.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct RecordsOutcome {
    /// The student the records belong to; `None` = nothing was written.
    pub student_id: Option<Uuid>,
    /// true when the student row was created from this document.
    pub student_created: bool,
    pub subjects: usize,
    pub grades: usize,
    pub attendance_periods: usize,
    /// Why some data was not written (`subjects[2].terms[0]: 11.5 is above the scale 10`).
    pub skipped: Vec<String>,
}

/// Canonical subject codes as 0005 checks them: `^[a-z0-9][a-z0-9-]{0,62}$`.
pub fn valid_code(code: &str) -> bool {
    let b = code.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && (b[0].is_ascii_lowercase() || b[0].is_ascii_digit())
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
}

/// One school year's worth of subjects (a boletim, or one year of a histórico).
struct YearPart<'a> {
    year: i32,
    /// JSON path prefix of these subjects in the result (`subjects`, `years[1].subjects`).
    path: String,
    subjects: &'a [SubjectResult],
    overall_pct: Option<f64>,
}

fn year_parts<'a>(ex: &'a Extraction, skipped: &mut Vec<String>) -> Vec<YearPart<'a>> {
    let mut parts = Vec::new();
    let valid_year = |y: Option<i32>| y.filter(|y| (1900..=2200).contains(y));
    if !ex.subjects.is_empty() || (ex.doc_type != DocType::Historico && ex.years.is_empty()) {
        match valid_year(ex.year) {
            Some(year) => parts.push(YearPart {
                year,
                path: "subjects".into(),
                subjects: &ex.subjects,
                overall_pct: ex.overall_attendance_pct,
            }),
            None if !ex.subjects.is_empty() || ex.overall_attendance_pct.is_some() => {
                skipped.push("year: no school year found; grades and attendance not written".into())
            }
            None => {}
        }
    }
    for (i, y) in ex.years.iter().enumerate() {
        match valid_year(y.year) {
            Some(year) => parts.push(YearPart {
                year,
                path: format!("years[{i}].subjects"),
                subjects: &y.subjects,
                overall_pct: y.overall_attendance_pct,
            }),
            None => skipped.push(format!("years[{i}].year: missing; that year not written")),
        }
    }
    parts
}

fn birth_date(s: Option<&str>) -> Option<chrono::NaiveDate> {
    s.and_then(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
}

/// Finds or creates the student; `None` (with a reason) when the document names nobody.
async fn student(
    tx: &mut sqlx::PgConnection,
    tenant: Uuid,
    hint: Option<Uuid>,
    ex: &Extraction,
    skipped: &mut Vec<String>,
) -> Result<Option<(Uuid, bool)>, sqlx::Error> {
    if let Some(id) = hint {
        if students::exists(&mut *tx, tenant, id).await? {
            return Ok(Some((id, false)));
        }
        skipped.push(format!(
            "student_id: {id} no longer exists; matching by registration"
        ));
    }
    let registration = ex
        .student
        .registration
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty() && r.chars().count() <= 64);
    let Some(registration) = registration else {
        skipped.push(
            "student.registration: no matrícula and no student_id hint; records not written".into(),
        );
        return Ok(None);
    };
    let name = ex
        .student
        .name
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(|n| n.chars().take(200).collect::<String>());
    let row = StudentRow {
        registration: registration.to_string(),
        name,
        birth_date: birth_date(ex.student.birth_date.as_deref()),
        active: true,
        left_on: None,
    };
    let written = students::upsert(&mut *tx, tenant, &[row], Write::Sighting).await?;
    Ok(written.first().map(|(id, _, created)| (*id, *created)))
}

/// Writes `ex` into the tenant's records. `scale_max` is the tenant's grade scale.
pub async fn upsert(
    tx: &mut sqlx::PgConnection,
    tenant: Uuid,
    document_id: Uuid,
    student_hint: Option<Uuid>,
    ex: &Extraction,
    scale_max: f64,
) -> Result<RecordsOutcome, sqlx::Error> {
    let mut out = RecordsOutcome::default();
    let Some((student_id, created)) =
        student(tx, tenant, student_hint, ex, &mut out.skipped).await?
    else {
        return Ok(out);
    };
    out.student_id = Some(student_id);
    out.student_created = created;
    let source = format!("document:{document_id}");

    let mut subjects: BTreeMap<String, String> = BTreeMap::new();
    // (code, year, term) -> grade; the last one read wins.
    let mut grades: BTreeMap<(String, i32, i16), f64> = BTreeMap::new();
    // (code, year) -> (absences, pct); code '' = overall.
    let mut attendance: BTreeMap<(String, i32), (Option<i32>, Option<f64>)> = BTreeMap::new();

    for part in year_parts(ex, &mut out.skipped) {
        if let Some(pct) = part.overall_pct {
            if (0.0..=100.0).contains(&pct) {
                attendance.insert((String::new(), part.year), (None, Some(pct)));
            } else {
                out.skipped.push(format!(
                    "{}: overall attendance {pct} outside 0-100",
                    part.path
                ));
            }
        }
        for (i, s) in part.subjects.iter().enumerate() {
            let at = format!("{}[{i}]", part.path);
            if !valid_code(&s.code) {
                out.skipped.push(format!(
                    "{at}.code: {:?} is not a subject code; not written",
                    s.code
                ));
                continue;
            }
            let name: String = if s.name.trim().is_empty() {
                s.code.clone()
            } else {
                s.name.trim().chars().take(200).collect()
            };
            subjects.entry(s.code.clone()).or_insert(name);
            let mut read: Vec<(i16, f64, String)> = Vec::new();
            for (j, t) in s.terms.iter().enumerate() {
                match (t.grade, t.term) {
                    (Some(g), 1..=6) => read.push((t.term as i16, g, format!("{at}.terms[{j}]"))),
                    (Some(_), n) => out
                        .skipped
                        .push(format!("{at}.terms[{j}]: term {n} is not 1-6; not written")),
                    (None, _) => {}
                }
            }
            if let Some(g) = s.final_grade {
                read.push((0, g, format!("{at}.final_grade")));
            }
            for (term, g, field) in read {
                if g.is_finite() && (0.0..=scale_max).contains(&g) {
                    grades.insert((s.code.clone(), part.year, term), g);
                } else {
                    out.skipped.push(format!(
                        "{field}: {g} is outside the scale 0-{scale_max}; not written"
                    ));
                }
            }
            let pct = s.attendance_pct.filter(|p| {
                let ok = (0.0..=100.0).contains(p);
                if !ok {
                    out.skipped.push(format!(
                        "{at}.attendance_pct: {p} outside 0-100; not written"
                    ));
                }
                ok
            });
            let absences = s.absences.and_then(|a| i32::try_from(a).ok());
            if absences.is_some() || pct.is_some() {
                attendance.insert((s.code.clone(), part.year), (absences, pct));
            }
        }
    }

    // The tenant's own names win over what a document spelled.
    academic::upsert_subjects(
        &mut *tx,
        tenant,
        subjects.iter().map(|(c, n)| (c.as_str(), n.as_str())),
    )
    .await?;
    out.subjects = subjects.len();
    let grades: Vec<GradeRow> = grades
        .into_iter()
        .map(|((code, year, term), grade)| GradeRow {
            student_id,
            subject_code: code,
            year,
            term,
            assessment: String::new(),
            grade,
            scale_max,
            assessed_on: None,
        })
        .collect();
    out.grades = academic::grades::upsert(&mut *tx, tenant, &source, &grades)
        .await?
        .len();
    let periods: Vec<PeriodRow> = attendance
        .into_iter()
        .map(|((code, year), (absences, pct))| PeriodRow {
            student_id,
            subject_code: code,
            year,
            term: 0,
            classes_given: None,
            absences,
            attendance_pct: pct,
        })
        .collect();
    out.attendance_periods =
        academic::attendance::upsert_periods(&mut *tx, tenant, &source, &periods)
            .await?
            .len();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_follow_the_migration_check() {
        assert!(valid_code("matematica"));
        assert!(valid_code("lingua-portuguesa"));
        assert!(valid_code("9ano"));
        assert!(!valid_code(""));
        assert!(!valid_code("-x"));
        assert!(!valid_code("Matemática"));
        assert!(!valid_code(&"a".repeat(64)));
    }
}
