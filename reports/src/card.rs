//! The boletim's numbers, computed once and shared by every format: per
//! subject the term grades, média, faltas, frequência and situação; the
//! student's term averages beside the class's. Pure (no I/O).
//!
//! Rules (a demanding coordinator's defaults, on a 0–10 scale): the média is
//! the final grade (term 0) when there is one, else the mean of the term
//! grades present; situação is *Aprovado* with média ≥ 6,0 and frequência ≥
//! 75 %, *Reprovado por faltas* below 75 %, *Recuperação* with média in
//! [4,0; 6,0), *Reprovado* below 4,0, and *Em curso* while a term of the
//! year has no grade yet (and there is no final grade).

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use crate::data::academic::{AttendanceSum, ClassInfo, StudentInfo, StudentRecords};

pub const PASS_GRADE: f64 = 6.0;
pub const RECOVERY_GRADE: f64 = 4.0;
pub const MIN_ATTENDANCE_PCT: f64 = 75.0;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Situation {
    Approved,
    Recovery,
    Failed,
    FailedAttendance,
    InProgress,
}

impl Situation {
    pub fn label(self) -> &'static str {
        match self {
            Situation::Approved => "Aprovado",
            Situation::Recovery => "Recuperação",
            Situation::Failed => "Reprovado",
            Situation::FailedAttendance => "Reprovado por faltas",
            Situation::InProgress => "Em curso",
        }
    }
    pub fn is_bad(self) -> bool {
        matches!(
            self,
            Situation::Recovery | Situation::Failed | Situation::FailedAttendance
        )
    }
}

/// One subject's line of the boletim.
#[derive(Debug, Clone, Serialize)]
pub struct SubjectLine {
    pub code: String,
    pub name: String,
    /// Index i = term i+1; `None` = no grade yet.
    pub terms: Vec<Option<f64>>,
    pub final_grade: Option<f64>,
    pub average: Option<f64>,
    pub absences: Option<i64>,
    pub attendance_pct: Option<f64>,
    pub situation: Situation,
}

/// One student's boletim.
#[derive(Debug, Clone, Serialize)]
pub struct ReportCard {
    pub student: StudentInfo,
    pub class: Option<ClassInfo>,
    pub year: i32,
    pub n_terms: usize,
    pub lines: Vec<SubjectLine>,
    /// The student's mean over subjects, per term.
    pub term_means: Vec<Option<f64>>,
    /// The class's mean, per term (same subjects, all its students).
    pub class_term_means: Vec<Option<f64>>,
    pub overall_average: Option<f64>,
    pub overall_attendance_pct: Option<f64>,
    pub total_absences: i64,
    pub situation: Situation,
}

fn mean(xs: impl IntoIterator<Item = f64>) -> Option<f64> {
    let (mut s, mut n) = (0.0, 0usize);
    for x in xs {
        s += x;
        n += 1;
    }
    (n > 0).then(|| s / n as f64)
}

/// Attendance % from a period sum: counts when there are, else the given %.
pub fn attendance_pct(a: &AttendanceSum) -> Option<f64> {
    if a.classes_given > 0 {
        Some(100.0 * (a.classes_given - a.absences).max(0) as f64 / a.classes_given as f64)
    } else {
        a.pct_given
    }
}

fn situation(average: Option<f64>, pct: Option<f64>, complete: bool) -> Situation {
    if let Some(p) = pct {
        if p < MIN_ATTENDANCE_PCT && complete {
            return Situation::FailedAttendance;
        }
    }
    match average {
        _ if !complete => Situation::InProgress,
        None => Situation::InProgress,
        Some(a) if a >= PASS_GRADE => Situation::Approved,
        Some(a) if a >= RECOVERY_GRADE => Situation::Recovery,
        Some(_) => Situation::Failed,
    }
}

/// The number of terms of the year: the highest term any student of the class has.
pub fn terms_in_year<'a>(records: impl IntoIterator<Item = &'a StudentRecords>) -> usize {
    records
        .into_iter()
        .flat_map(|r| r.grades.values().flat_map(|t| t.keys().copied()))
        .max()
        .unwrap_or(0)
        .max(1) as usize
}

/// Builds one boletim. `subjects` is code → name; `class_means` is the class's
/// (subject, term) → mean grade.
pub fn build(
    student: &StudentInfo,
    class: Option<&ClassInfo>,
    year: i32,
    n_terms: usize,
    rec: &StudentRecords,
    subjects: &HashMap<String, String>,
    class_means: &BTreeMap<(String, i16), f64>,
) -> ReportCard {
    let mut lines: Vec<SubjectLine> = rec
        .grades
        .iter()
        .map(|(code, terms)| {
            let term_grades: Vec<Option<f64>> = (1..=n_terms)
                .map(|t| terms.get(&(t as i16)).copied())
                .collect();
            let final_grade = terms.get(&0).copied();
            let average = final_grade.or_else(|| mean(term_grades.iter().flatten().copied()));
            let att = rec.attendance.get(code);
            let attendance_pct = att.and_then(attendance_pct);
            let complete = final_grade.is_some() || term_grades.iter().all(Option::is_some);
            SubjectLine {
                code: code.clone(),
                name: subjects.get(code).cloned().unwrap_or_else(|| code.clone()),
                terms: term_grades,
                final_grade,
                average,
                absences: att.map(|a| a.absences),
                attendance_pct,
                situation: situation(average, attendance_pct, complete),
            }
        })
        .collect();
    // Subjects with attendance but no grade yet still get a line.
    for (code, a) in &rec.attendance {
        if !code.is_empty() && !rec.grades.contains_key(code) {
            lines.push(SubjectLine {
                code: code.clone(),
                name: subjects.get(code).cloned().unwrap_or_else(|| code.clone()),
                terms: vec![None; n_terms],
                final_grade: None,
                average: None,
                absences: Some(a.absences),
                attendance_pct: attendance_pct(a),
                situation: Situation::InProgress,
            });
        }
    }
    lines.sort_by_key(|l| ptbr::fold(&l.name));
    let term_means = (0..n_terms)
        .map(|i| mean(lines.iter().filter_map(|l| l.terms[i])))
        .collect();
    let codes: Vec<&str> = lines.iter().map(|l| l.code.as_str()).collect();
    let class_term_means = (1..=n_terms as i16)
        .map(|t| {
            mean(
                codes
                    .iter()
                    .filter_map(|c| class_means.get(&(c.to_string(), t)).copied()),
            )
        })
        .collect();
    let overall_average = mean(lines.iter().filter_map(|l| l.average));
    // The school-day attendance ('' subject) when given, else all subjects' counts.
    let overall = rec.attendance.get("").cloned().unwrap_or_else(|| {
        rec.attendance
            .values()
            .fold(AttendanceSum::default(), |mut s, a| {
                s.classes_given += a.classes_given;
                s.absences += a.absences;
                s.pct_given = match (s.pct_given, a.pct_given) {
                    (Some(x), Some(y)) => Some(x.min(y)),
                    (x, y) => x.or(y),
                };
                s
            })
    });
    let overall_attendance_pct = attendance_pct(&overall);
    let total_absences = overall.absences;
    let situation = if lines
        .iter()
        .any(|l| l.situation == Situation::FailedAttendance)
    {
        Situation::FailedAttendance
    } else if lines.iter().any(|l| l.situation == Situation::Failed) {
        Situation::Failed
    } else if lines.iter().any(|l| l.situation == Situation::Recovery) {
        Situation::Recovery
    } else if lines.is_empty() || lines.iter().any(|l| l.situation == Situation::InProgress) {
        Situation::InProgress
    } else {
        Situation::Approved
    };
    ReportCard {
        student: student.clone(),
        class: class.cloned(),
        year,
        n_terms,
        lines,
        term_means,
        class_term_means,
        overall_average,
        overall_attendance_pct,
        total_absences,
        situation,
    }
}

/// `8,5`, or `—` for nothing.
pub fn grade(x: Option<f64>) -> String {
    x.map(|g| ptbr::format_decimal(g, 1))
        .unwrap_or_else(|| "—".into())
}

/// `92,5%`, or `—`.
pub fn pct(x: Option<f64>) -> String {
    x.map(|p| format!("{}%", ptbr::format_decimal(p, 1)))
        .unwrap_or_else(|| "—".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    fn student() -> StudentInfo {
        StudentInfo {
            id: Uuid::nil(),
            registration: "1".into(),
            name: "Ana".into(),
        }
    }

    #[test]
    fn average_frequency_and_situation() {
        let mut rec = StudentRecords::default();
        let m = rec.grades.entry("matematica".into()).or_default();
        m.insert(1, 8.0);
        m.insert(2, 9.0);
        let p = rec.grades.entry("portugues".into()).or_default();
        p.insert(1, 5.0);
        p.insert(2, 4.0);
        rec.attendance.insert(
            "matematica".into(),
            AttendanceSum {
                classes_given: 40,
                absences: 12,
                pct_given: None,
            },
        );
        let subjects = HashMap::from([("matematica".to_string(), "Matemática".to_string())]);
        let class_means = BTreeMap::from([(("matematica".to_string(), 1), 7.0)]);
        let c = build(&student(), None, 2026, 2, &rec, &subjects, &class_means);
        assert_eq!(c.lines[0].name, "Matemática");
        assert_eq!(c.lines[0].average, Some(8.5));
        assert_eq!(c.lines[0].attendance_pct, Some(70.0));
        assert_eq!(c.lines[0].situation, Situation::FailedAttendance);
        assert_eq!(c.lines[1].average, Some(4.5));
        assert_eq!(c.lines[1].situation, Situation::Recovery);
        assert_eq!(c.term_means, vec![Some(6.5), Some(6.5)]);
        assert_eq!(c.class_term_means, vec![Some(7.0), None]);
        assert_eq!(c.situation, Situation::FailedAttendance);
        assert_eq!(grade(c.lines[0].average), "8,5");
    }

    #[test]
    fn a_missing_term_means_in_progress() {
        let mut rec = StudentRecords::default();
        rec.grades.entry("artes".into()).or_default().insert(1, 9.0);
        let c = build(
            &student(),
            None,
            2026,
            4,
            &rec,
            &HashMap::new(),
            &BTreeMap::new(),
        );
        assert_eq!(c.lines[0].terms, vec![Some(9.0), None, None, None]);
        assert_eq!(c.lines[0].situation, Situation::InProgress);
        assert_eq!(grade(c.lines[0].terms[1]), "—");
    }
}
