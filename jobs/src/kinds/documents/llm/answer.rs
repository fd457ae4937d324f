//! An LLM's answer is untrusted input: it is parsed against the result
//! schema (unknown fields refused, sizes capped), turned into an
//! [`Extraction`] with the reader's own normalisation (subject lexicon and
//! codes, dates, CNPJ digits), checked by the same validation as the rules'
//! result (`documents::validate`, `documents::review::assess`), held to the
//! same positive evidence (at least three curriculum subjects with grades),
//! and cross-checked against the page text it was given: a grade or a name
//! that does not appear there is a review reason (an LLM may invent values).

use serde::Deserialize;

use documents::normalize::{self, fold, is_known_subject};
use documents::{
    DocType, Extraction, School, Student, SubjectResult, TermGrade, Warning, YearRecord,
};

/// Subjects in one table (a boletim, or one year of a histórico).
pub const MAX_SUBJECTS: usize = 80;
/// Years of a histórico.
pub const MAX_YEARS: usize = 20;
/// Characters of any text value.
pub const MAX_TEXT: usize = 200;
/// Distinct curriculum subjects with grades needed (the rules' own gate).
pub const MIN_KNOWN_SUBJECTS: usize = 3;

/// A number as an LLM may write it: `8.5` or `"8,5"`.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Num {
    Number(f64),
    Text(String),
}

impl Num {
    fn value(&self) -> Option<f64> {
        match self {
            Num::Number(n) => Some(*n),
            Num::Text(t) => normalize::number(t),
        }
        .filter(|n| n.is_finite())
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Answer {
    #[serde(default)]
    pub doc_type: Option<String>,
    #[serde(default)]
    pub student: Option<AnswerStudent>,
    #[serde(default)]
    pub school: Option<AnswerSchool>,
    #[serde(default)]
    pub year: Option<i32>,
    #[serde(default)]
    pub subjects: Vec<AnswerSubject>,
    #[serde(default)]
    pub years: Vec<AnswerYear>,
    #[serde(default)]
    pub overall_attendance_pct: Option<Num>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnswerStudent {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub registration: Option<String>,
    #[serde(default)]
    pub birth_date: Option<String>,
    #[serde(default)]
    pub class_name: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnswerSchool {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub cnpj: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnswerTerm {
    pub term: u8,
    #[serde(default)]
    pub grade: Option<Num>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnswerSubject {
    pub name: String,
    #[serde(default)]
    pub terms: Vec<AnswerTerm>,
    #[serde(default)]
    pub final_grade: Option<Num>,
    #[serde(default)]
    pub absences: Option<u32>,
    #[serde(default)]
    pub attendance_pct: Option<Num>,
    #[serde(default)]
    pub status: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnswerYear {
    #[serde(default)]
    pub year: Option<i32>,
    #[serde(default)]
    pub grade_level: Option<String>,
    #[serde(default)]
    pub subjects: Vec<AnswerSubject>,
}

/// The JSON shape asked of the model (in the prompt), matching [`Answer`].
pub const SCHEMA_HINT: &str = r#"{"doc_type": "boletim" | "historico", "student": {"name": str, "registration": str, "birth_date": "dd/mm/aaaa", "class_name": str}, "school": {"name": str, "cnpj": str}, "year": int, "subjects": [{"name": str, "terms": [{"term": int 1-6, "grade": number | null}], "final_grade": number | null, "absences": int | null, "attendance_pct": number | null, "status": str | null}], "years": [{"year": int, "grade_level": str, "subjects": [same as subjects]}], "overall_attendance_pct": number | null}"#;

fn text(field: &str, v: Option<String>) -> Result<Option<String>, String> {
    match v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty()) {
        Some(s) if s.chars().count() > MAX_TEXT => {
            Err(format!("{field}: longer than {MAX_TEXT} characters"))
        }
        other => Ok(other),
    }
}

fn subjects(path: &str, list: Vec<AnswerSubject>) -> Result<Vec<SubjectResult>, String> {
    if list.len() > MAX_SUBJECTS {
        return Err(format!("{path}: more than {MAX_SUBJECTS} subjects"));
    }
    let mut out = Vec::with_capacity(list.len());
    for (i, s) in list.into_iter().enumerate() {
        let at = format!("{path}[{i}]");
        let original = text(&format!("{at}.name"), Some(s.name))?
            .ok_or_else(|| format!("{at}.name: empty"))?;
        let (name, code) = normalize::subject(&original);
        if s.terms.len() > 6 {
            return Err(format!("{at}.terms: more than 6 terms"));
        }
        let mut terms = Vec::with_capacity(s.terms.len());
        for (j, t) in s.terms.into_iter().enumerate() {
            if !(1..=6).contains(&t.term) {
                return Err(format!("{at}.terms[{j}].term: not 1-6"));
            }
            terms.push(TermGrade {
                term: t.term,
                grade: t.grade.as_ref().and_then(Num::value),
                raw: None,
                confidence: None,
            });
        }
        terms.sort_by_key(|t| t.term);
        terms.dedup_by_key(|t| t.term);
        out.push(SubjectResult {
            name,
            name_original: original,
            code,
            terms,
            final_grade: s.final_grade.as_ref().and_then(Num::value),
            absences: s.absences,
            attendance_pct: s.attendance_pct.as_ref().and_then(Num::value),
            status: text(&format!("{at}.status"), s.status)?
                .map(|st| normalize::status(&st).unwrap_or(st)),
            workload_hours: None,
            recovery_grade: None,
        });
    }
    Ok(out)
}

fn birth_date(raw: Option<String>, warnings: &mut Vec<Warning>) -> Option<String> {
    let raw = raw?;
    if let Ok(d) = chrono::NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d") {
        return Some(d.to_string());
    }
    let d = normalize::date(&raw);
    if d.is_none() {
        warnings.push(Warning {
            field: "student.birth_date".into(),
            message: format!("not a dd/mm/aaaa date: {raw:?}"),
        });
    }
    d
}

fn known_graded(subjects: &[SubjectResult]) -> usize {
    let mut codes: Vec<&str> = subjects
        .iter()
        .filter(|s| is_known_subject(&s.name_original))
        .filter(|s| s.final_grade.is_some() || s.terms.iter().any(|t| t.grade.is_some()))
        .map(|s| s.code.as_str())
        .collect();
    codes.sort();
    codes.dedup();
    codes.len()
}

/// `content` (the model's JSON text) to a draft, reading page facts from
/// `rules` (the rules' result for the same pages). `Err` says why the answer
/// is unusable; the draft's `review_reasons` are filled in.
pub fn to_extraction(
    content: &str,
    rules: &Extraction,
    page_text: &[String],
    scale_max: f64,
) -> Result<Extraction, String> {
    let a: Answer = serde_json::from_str(content.trim())
        .map_err(|e| format!("the answer is not the result schema: {e}"))?;
    if a.years.len() > MAX_YEARS {
        return Err(format!("years: more than {MAX_YEARS}"));
    }
    let mut warnings = Vec::new();
    let st = a.student.unwrap_or(AnswerStudent {
        name: None,
        registration: None,
        birth_date: None,
        class_name: None,
    });
    let student = Student {
        name: text("student.name", st.name)?,
        registration: text("student.registration", st.registration)?,
        birth_date: birth_date(text("student.birth_date", st.birth_date)?, &mut warnings),
        class_name: text("student.class_name", st.class_name)?,
    };
    let sc = a.school.unwrap_or(AnswerSchool {
        name: None,
        cnpj: None,
    });
    let school = School {
        name: text("school.name", sc.name)?,
        cnpj: text("school.cnpj", sc.cnpj)?
            .map(|c| normalize::digits(&c))
            .filter(|c| !c.is_empty()),
    };
    let mut years = Vec::with_capacity(a.years.len());
    for (i, y) in a.years.into_iter().enumerate() {
        years.push(YearRecord {
            year: y.year.filter(|y| (1900..=2200).contains(y)),
            grade_level: text(&format!("years[{i}].grade_level"), y.grade_level)?,
            school_name: None,
            subjects: subjects(&format!("years[{i}].subjects"), y.subjects)?,
            overall_attendance_pct: None,
            status: None,
        });
    }
    let subjects = subjects("subjects", a.subjects)?;
    let doc_type = match a.doc_type.as_deref() {
        Some("boletim") => DocType::Boletim,
        Some("historico") => DocType::Historico,
        _ if !years.is_empty() && subjects.is_empty() => DocType::Historico,
        _ => DocType::Boletim,
    };
    let best = std::iter::once(known_graded(&subjects))
        .chain(years.iter().map(|y| known_graded(&y.subjects)))
        .max()
        .unwrap_or(0);
    if best < MIN_KNOWN_SUBJECTS {
        return Err(format!(
            "the answer has {best} curriculum subject(s) with grades; at least {MIN_KNOWN_SUBJECTS} are needed"
        ));
    }
    let mut x = Extraction {
        document_id: None,
        doc_type,
        pages: rules.pages,
        method: rules.method,
        confidence: rules.confidence,
        student,
        school,
        year: a.year.filter(|y| (1900..=2200).contains(y)),
        subjects,
        years,
        overall_attendance_pct: a.overall_attendance_pct.as_ref().and_then(Num::value),
        warnings,
        page_info: rules.page_info.clone(),
        needs_review: true,
        review_reasons: Vec::new(),
    };
    documents::validate::validate(&mut x, scale_max);
    let mut reasons = documents::review::assess(&x, scale_max);
    reasons.extend(not_in_text(&x, page_text));
    x.review_reasons = reasons;
    Ok(x)
}

/// The ways a grade may be printed: `8,5`, `8.5`, `8` for 8.0, `8,50`.
fn spellings(g: f64) -> Vec<String> {
    let mut out = vec![format!("{g:.1}").replace('.', ","), format!("{g:.1}")];
    out.push(format!("{g:.2}").replace('.', ","));
    out.push(format!("{g:.2}"));
    if g.fract() == 0.0 {
        out.push(format!("{g:.0}"));
    }
    out
}

/// Values of the draft the page text does not contain: each a review reason.
fn not_in_text(x: &Extraction, page_text: &[String]) -> Vec<Warning> {
    let folded = fold(&page_text.join("\n"));
    let numbers: std::collections::BTreeSet<&str> = folded
        .split(|c: char| !(c.is_ascii_digit() || c == ',' || c == '.'))
        .map(|t| t.trim_matches(|c| c == ',' || c == '.'))
        .filter(|t| !t.is_empty())
        .collect();
    let has_number = |g: f64| spellings(g).iter().any(|s| numbers.contains(s.as_str()));
    let mut out = Vec::new();
    let mut reason = |field: String, message: String| out.push(Warning { field, message });
    if let Some(n) = &x.student.name {
        if !folded.contains(&fold(n)) {
            reason(
                "student.name".into(),
                format!("{n:?} does not appear in the page text"),
            );
        }
    }
    let parts = std::iter::once(("subjects".to_string(), &x.subjects)).chain(
        x.years
            .iter()
            .enumerate()
            .map(|(i, y)| (format!("years[{i}].subjects"), &y.subjects)),
    );
    for (path, subjects) in parts {
        for (i, s) in subjects.iter().enumerate() {
            let at = format!("{path}[{i}]");
            if !folded.contains(&fold(&s.name_original)) {
                reason(
                    format!("{at}.name"),
                    format!("{:?} does not appear in the page text", s.name_original),
                );
            }
            for (j, t) in s.terms.iter().enumerate() {
                if let Some(g) = t.grade.filter(|g| !has_number(*g)) {
                    reason(
                        format!("{at}.terms[{j}].grade"),
                        format!("{g} does not appear in the page text"),
                    );
                }
            }
            if let Some(g) = s.final_grade.filter(|g| !has_number(*g)) {
                reason(
                    format!("{at}.final_grade"),
                    format!("{g} does not appear in the page text"),
                );
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use documents::Method;

    fn rules() -> Extraction {
        Extraction {
            document_id: None,
            doc_type: DocType::Unknown,
            pages: 1,
            method: Method::Text,
            confidence: 100.0,
            student: Student::default(),
            school: School::default(),
            year: None,
            subjects: vec![],
            years: vec![],
            overall_attendance_pct: None,
            warnings: vec![],
            page_info: vec![],
            needs_review: true,
            review_reasons: vec![],
        }
    }

    const TEXT: &str = "Aluno: Ana Lima Ano 2024\nMatemática 7,5 8,0 Média 7,8\nHistória 6,0 6,5\nGeografia 9,0 9,0";

    #[test]
    fn a_valid_answer_becomes_a_draft_and_invented_values_are_reasons() {
        let answer = r#"{"doc_type":"boletim","student":{"name":"Ana Lima","birth_date":"10/05/2012"},
            "year":2024,"subjects":[
              {"name":"Matemática","terms":[{"term":1,"grade":7.5},{"term":2,"grade":"8,0"}],"final_grade":7.8},
              {"name":"História","terms":[{"term":1,"grade":6.0},{"term":2,"grade":6.5}]},
              {"name":"Geografia","terms":[{"term":1,"grade":9.0},{"term":2,"grade":4.0}]}]}"#;
        let x = to_extraction(answer, &rules(), &[TEXT.into()], 10.0).unwrap();
        assert_eq!(x.student.birth_date.as_deref(), Some("2012-05-10"));
        assert_eq!(x.subjects[0].code, "matematica");
        assert_eq!(x.subjects[0].terms[1].grade, Some(8.0));
        let fields: Vec<&str> = x.review_reasons.iter().map(|w| w.field.as_str()).collect();
        assert_eq!(fields, ["subjects[2].terms[1].grade"]);
    }

    #[test]
    fn wrong_shapes_and_thin_answers_are_refused() {
        let r = rules();
        let t = [TEXT.to_string()];
        assert!(to_extraction("not json", &r, &t, 10.0).is_err());
        let unknown = r#"{"subjects":[],"grades":{}}"#;
        assert!(to_extraction(unknown, &r, &t, 10.0)
            .unwrap_err()
            .contains("unknown field"));
        let two = r#"{"subjects":[{"name":"Matemática","terms":[{"term":1,"grade":7}]},
            {"name":"História","terms":[{"term":1,"grade":6}]}]}"#;
        assert!(to_extraction(two, &r, &t, 10.0)
            .unwrap_err()
            .contains("at least 3"));
        let bad_term = r#"{"subjects":[{"name":"Matemática","terms":[{"term":9,"grade":7}]}]}"#;
        assert!(to_extraction(bad_term, &r, &t, 10.0)
            .unwrap_err()
            .contains("terms[0].term"));
        let long = format!(r#"{{"student":{{"name":"{}"}}}}"#, "a".repeat(300));
        assert!(to_extraction(&long, &r, &t, 10.0)
            .unwrap_err()
            .contains("student.name"));
    }
}
