//! A reviewer's corrections: their shape (a partial result, every field
//! optional; absent = keep, `null` = clear; subjects found by code, and by
//! year in a histórico) and [`apply`], which checks each strictly — every
//! problem on its path, `corrections.subjects[0].terms[1].grade` — and
//! merges them into the draft, listing each change (field, from, to).

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{json, Value};
use utoipa::ToSchema;

use documents::normalize;
use documents::{DocType, Extraction, SubjectResult, TermGrade};

use super::fields::{changed, grade, header, text_value};
use super::{err, Change, FieldError};
use crate::kinds::documents::records;

/// Absent = keep, `null` = clear, a value = set.
fn patch<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// A grade or a percentage: `8.5` or `"8,5"`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(untagged)]
pub enum Number {
    Value(f64),
    Text(String),
}

impl Number {
    pub(super) fn parse(&self) -> Option<f64> {
        match self {
            Number::Value(v) => Some(*v),
            Number::Text(t) => normalize::number(t),
        }
        .filter(|v| v.is_finite())
    }
}

/// Header fields of the student. Absent = keep, `null` = clear.
#[derive(Clone, Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StudentFix {
    #[serde(
        default,
        deserialize_with = "patch",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>)]
    pub name: Option<Option<String>>,
    /// Matrícula: the student the records are written to (when the upload had no `student_id`).
    #[serde(
        default,
        deserialize_with = "patch",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>)]
    pub registration: Option<Option<String>>,
    /// `dd/mm/aaaa` or `aaaa-mm-dd`.
    #[serde(
        default,
        deserialize_with = "patch",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>)]
    pub birth_date: Option<Option<String>>,
    #[serde(
        default,
        deserialize_with = "patch",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>)]
    pub class_name: Option<Option<String>>,
}

/// Header fields of the school.
#[derive(Clone, Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SchoolFix {
    #[serde(
        default,
        deserialize_with = "patch",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>)]
    pub name: Option<Option<String>>,
    /// 14 digits with valid check digits; `.`, `/`, `-` allowed (`98.765.432/0001-10`).
    #[serde(
        default,
        deserialize_with = "patch",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>)]
    pub cnpj: Option<Option<String>>,
}

/// One term's grade: set it (`null` clears it).
#[derive(Clone, Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TermFix {
    /// 1-6.
    pub term: u8,
    /// On the tenant's scale; a number or `"8,5"`; `null` = no grade for this term.
    #[schema(value_type = Option<f64>)]
    pub grade: Option<Number>,
}

/// Corrections to one subject of the draft, found by its `code`.
#[derive(Clone, Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubjectFix {
    /// The subject's code in the draft (`matematica`).
    pub code: String,
    /// Histórico: the school year of the table the subject is in (needed
    /// when the code is in more than one year).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub year: Option<i32>,
    /// Drop this subject: nothing of it is written.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub remove: bool,
    /// The subject's real name (`Matemática`); its code follows (lexicon slug).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub terms: Vec<TermFix>,
    /// Média / final grade.
    #[serde(
        default,
        deserialize_with = "patch",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<f64>)]
    pub final_grade: Option<Option<Number>>,
    /// Faltas.
    #[serde(
        default,
        deserialize_with = "patch",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<u32>)]
    pub absences: Option<Option<u32>>,
    /// Frequência, 0-100.
    #[serde(
        default,
        deserialize_with = "patch",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<f64>)]
    pub attendance_pct: Option<Option<Number>>,
    /// Situação (`aprovado`, `reprovado`, `recuperação`, `cursando`, ...).
    #[serde(
        default,
        deserialize_with = "patch",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>)]
    pub status: Option<Option<String>>,
}

/// What a reviewer changes before approving: a partial result, subjects
/// merged by code. Everything is optional.
#[derive(Clone, Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Corrections {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub student: Option<StudentFix>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub school: Option<SchoolFix>,
    /// The boletim's school year.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub year: Option<i32>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subjects: Vec<SubjectFix>,
}

/// Where a subject fix lands: (`None` = `subjects`, `Some(i)` = `years[i]`), index.
fn locate(x: &Extraction, f: &SubjectFix) -> Result<(Option<usize>, usize), String> {
    let mut hits = Vec::new();
    if f.year.is_none() || (x.years.is_empty() && x.year == f.year) {
        if let Some(i) = x.subjects.iter().position(|s| s.code == f.code) {
            hits.push((None, i));
        }
    }
    for (y, year) in x.years.iter().enumerate() {
        if f.year.is_some() && year.year != f.year {
            continue;
        }
        if let Some(i) = year.subjects.iter().position(|s| s.code == f.code) {
            hits.push((Some(y), i));
        }
    }
    match hits.as_slice() {
        [one] => Ok(*one),
        [] => Err(match f.year {
            Some(y) => format!("no subject {:?} in the draft's year {y}", f.code),
            None => format!("no subject {:?} in the draft", f.code),
        }),
        _ => Err(format!(
            "{:?} is in several years of the draft; give year",
            f.code
        )),
    }
}

/// Merges `c` into `x`; `Err` lists every problem, `Ok` every change.
pub fn apply(
    x: &mut Extraction,
    c: &Corrections,
    scale_max: f64,
) -> Result<Vec<Change>, Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut changes = Vec::new();
    header(x, c, &mut errors, &mut changes);
    // Locate every fix against the draft as it was, then apply; drops last
    // so indexes stay valid while merging.
    let mut targets = Vec::new();
    for (i, f) in c.subjects.iter().enumerate() {
        let p = format!("corrections.subjects[{i}]");
        match locate(x, f) {
            Ok(t) if targets.iter().any(|(_, u)| *u == t) => errors.push(err(
                format!("{p}.code"),
                format!("{:?} is corrected twice", f.code),
            )),
            Ok(t) => targets.push((i, t)),
            Err(m) => errors.push(err(format!("{p}.code"), m)),
        }
    }
    let mut drops = Vec::new();
    for (i, (table, at)) in targets {
        let f = &c.subjects[i];
        let p = format!("corrections.subjects[{i}]");
        let path = match table {
            None => format!("subjects[{at}]"),
            Some(y) => format!("years[{y}].subjects[{at}]"),
        };
        if f.remove {
            let other = f.name.is_some()
                || !f.terms.is_empty()
                || f.final_grade.is_some()
                || f.absences.is_some()
                || f.attendance_pct.is_some()
                || f.status.is_some();
            if other {
                errors.push(err(format!("{p}.remove"), "remove with other corrections"));
            } else {
                drops.push((table, at, path));
            }
            continue;
        }
        let siblings: Vec<String> = match table {
            None => &x.subjects,
            Some(y) => &x.years[y].subjects,
        }
        .iter()
        .enumerate()
        .filter(|(k, _)| *k != at)
        .map(|(_, s)| s.code.clone())
        .collect();
        let s: &mut SubjectResult = match table {
            None => &mut x.subjects[at],
            Some(y) => &mut x.years[y].subjects[at],
        };
        if let Some(n) = &f.name {
            if let Some(n) = text_value(&mut errors, &format!("{p}.name"), &Some(n.clone()), 200) {
                let (canonical, code) = normalize::subject(&n);
                if !records::valid_code(&code) {
                    errors.push(err(
                        format!("{p}.name"),
                        format!("{n:?} gives no subject code"),
                    ));
                } else if siblings.contains(&code) {
                    errors.push(err(
                        format!("{p}.name"),
                        format!("{code} is already in this table"),
                    ));
                } else {
                    changed(&mut changes, format!("{path}.name"), &s.name, &canonical);
                    changed(&mut changes, format!("{path}.code"), &s.code, &code);
                    s.name = canonical;
                    s.name_original = n;
                    s.code = code;
                }
            }
        }
        let mut seen_terms = Vec::new();
        for (j, t) in f.terms.iter().enumerate() {
            let tp = format!("{p}.terms[{j}]");
            if !(1..=6).contains(&t.term) {
                errors.push(err(format!("{tp}.term"), "a term is 1-6"));
                continue;
            }
            if seen_terms.contains(&t.term) {
                errors.push(err(
                    format!("{tp}.term"),
                    format!("term {} given twice", t.term),
                ));
                continue;
            }
            seen_terms.push(t.term);
            let g = match &t.grade {
                Some(n) => match grade(&mut errors, &format!("{tp}.grade"), n, scale_max) {
                    Some(g) => Some(g),
                    None => continue,
                },
                None => None,
            };
            let k = match s.terms.iter().position(|x| x.term == t.term) {
                Some(k) => k,
                None => {
                    s.terms.push(TermGrade {
                        term: t.term,
                        grade: None,
                        raw: None,
                        confidence: None,
                    });
                    s.terms.sort_by_key(|x| x.term);
                    s.terms
                        .iter()
                        .position(|x| x.term == t.term)
                        .expect("just added")
                }
            };
            changed(
                &mut changes,
                format!("{path}.terms[term {}].grade", t.term),
                &s.terms[k].grade,
                &g,
            );
            let cell = &mut s.terms[k];
            cell.grade = g;
            // The reviewer's value replaces what was read.
            cell.raw = g.map(|g| g.to_string());
            cell.confidence = None;
        }
        if let Some(v) = &f.final_grade {
            let to = match v {
                Some(n) => grade(&mut errors, &format!("{p}.final_grade"), n, scale_max),
                None => None,
            };
            if v.is_none() || to.is_some() {
                changed(
                    &mut changes,
                    format!("{path}.final_grade"),
                    &s.final_grade,
                    &to,
                );
                s.final_grade = to;
            }
        }
        if let Some(v) = &f.absences {
            if v.is_some_and(|a| a > 10_000) {
                errors.push(err(format!("{p}.absences"), "at most 10000"));
            } else {
                changed(&mut changes, format!("{path}.absences"), &s.absences, v);
                s.absences = *v;
            }
        }
        if let Some(v) = &f.attendance_pct {
            let to = match v {
                Some(n) => match n.parse() {
                    Some(p) if (0.0..=100.0).contains(&p) => Some(p),
                    _ => {
                        errors.push(err(
                            format!("{p}.attendance_pct"),
                            format!("{n:?} is not a percentage 0-100"),
                        ));
                        None
                    }
                },
                None => None,
            };
            if v.is_none() || to.is_some() {
                changed(
                    &mut changes,
                    format!("{path}.attendance_pct"),
                    &s.attendance_pct,
                    &to,
                );
                s.attendance_pct = to;
            }
        }
        if let Some(v) = &f.status {
            let to = match v {
                Some(st) => match normalize::status(st) {
                    Some(c) => Some(c),
                    None => {
                        errors.push(err(format!("{p}.status"), format!("{st:?} is not a situação (aprovado, reprovado, recuperação, cursando, ...)")));
                        None
                    }
                },
                None => None,
            };
            if v.is_none() || to.is_some() {
                changed(&mut changes, format!("{path}.status"), &s.status, &to);
                s.status = to;
            }
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    // Highest index first, so the others stay where they are.
    drops.sort_by_key(|d| std::cmp::Reverse(d.1));
    for (table, at, path) in drops {
        let list = match table {
            None => &mut x.subjects,
            Some(y) => &mut x.years[y].subjects,
        };
        let gone = list.remove(at);
        changes.push(Change {
            field: path,
            from: json!(gone.code),
            to: Value::Null,
        });
    }
    // The reader's warnings described the draft as read; recompute them.
    let birth_fixed = c.student.as_ref().is_some_and(|s| s.birth_date.is_some());
    x.warnings.retain(|w| {
        !(w.field.starts_with("subjects")
            || w.field.starts_with("years")
            || w.field == "school.cnpj"
            || w.field == "overall_attendance_pct"
            || (birth_fixed && w.field == "student.birth_date"))
    });
    let mut fresh = x.clone();
    fresh.warnings.clear();
    documents::validate::validate(&mut fresh, scale_max);
    x.warnings.extend(fresh.warnings);
    if x.doc_type == DocType::Unknown && (!x.subjects.is_empty() || !x.years.is_empty()) {
        x.doc_type = if x.subjects.is_empty() {
            DocType::Historico
        } else {
            DocType::Boletim
        };
    }
    Ok(changes)
}
