//! A person's review of a held document (`needs_review`, issue 14): approve
//! the draft — optionally correcting fields first — or reject it.
//!
//! 1. The document is locked (`select … for update`) in one transaction: a
//!    second review of the same document waits, then finds it no longer
//!    `needs_review` ([`ReviewError::NotHeld`]) — a double approval writes once.
//! 2. The corrections ([`Corrections`]) are checked strictly and merged into
//!    the draft: header fields, and per subject (found by its code, in the
//!    histórico year given) the name (the code follows it through the
//!    lexicon), term grades, média, faltas, frequência, situação, or the whole
//!    subject dropped. Every problem names its path (`corrections.subjects[0].terms[1].grade`).
//! 3. The merged draft must be writable as it stands ([`blocking`]): no grade
//!    off the tenant's scale, no attendance outside 0-100, no bad CNPJ, no
//!    subject read twice or without a code, a student to write to and a year.
//!    The other reasons the draft was held for (a média unlike its terms, a
//!    subject outside the lexicon, a low OCR confidence...) are the
//!    reviewer's call: they are kept in the trail as `remaining_reasons`.
//! 4. Approve: [`records::upsert`] — the very function an accepted
//!    extraction uses — then `succeeded` with the corrected result, all in
//!    the transaction; the caller queues `alerts.evaluate` after the commit
//!    ([`super::queue_alerts`]). Reject: `rejected`, final, nothing written.
//!
//! The trail, in the document's `review` column: action, who, when, the
//! note, the corrections as posted, each field changed (`from`, `to`), the
//! reasons the draft was held for, and the draft as the reader left it.

use chrono::Datelike;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{json, Value};
use utoipa::ToSchema;
use uuid::Uuid;

use documents::normalize;
use documents::{DocType, Extraction, SubjectResult, TermGrade, Warning};

use super::records::{self, RecordsOutcome};
use super::sql::{self, Document};

/// Longest note kept with a review.
pub const MAX_NOTE: usize = 2_000;

/// `approve` or `reject`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Approve,
    Reject,
}

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
    fn parse(&self) -> Option<f64> {
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
    #[serde(default, deserialize_with = "patch", skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub name: Option<Option<String>>,
    /// Matrícula: the student the records are written to (when the upload had no `student_id`).
    #[serde(default, deserialize_with = "patch", skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub registration: Option<Option<String>>,
    /// `dd/mm/aaaa` or `aaaa-mm-dd`.
    #[serde(default, deserialize_with = "patch", skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub birth_date: Option<Option<String>>,
    #[serde(default, deserialize_with = "patch", skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub class_name: Option<Option<String>>,
}

/// Header fields of the school.
#[derive(Clone, Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SchoolFix {
    #[serde(default, deserialize_with = "patch", skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub name: Option<Option<String>>,
    /// 14 digits with valid check digits; `.`, `/`, `-` allowed (`98.765.432/0001-10`).
    #[serde(default, deserialize_with = "patch", skip_serializing_if = "Option::is_none")]
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
    #[serde(default, deserialize_with = "patch", skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<f64>)]
    pub final_grade: Option<Option<Number>>,
    /// Faltas.
    #[serde(default, deserialize_with = "patch", skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<u32>)]
    pub absences: Option<Option<u32>>,
    /// Frequência, 0-100.
    #[serde(default, deserialize_with = "patch", skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<f64>)]
    pub attendance_pct: Option<Option<Number>>,
    /// Situação (`aprovado`, `reprovado`, `recuperação`, `cursando`, ...).
    #[serde(default, deserialize_with = "patch", skip_serializing_if = "Option::is_none")]
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

/// Body of `POST /v1/documents/{id}/review`.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewRequest {
    pub action: Action,
    /// Only with `approve`.
    #[serde(default)]
    pub corrections: Option<Corrections>,
    /// Why (kept in the trail), at most 2,000 characters.
    #[serde(default)]
    pub note: Option<String>,
}

/// One field the reviewer changed.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct Change {
    /// Path in the result (`subjects[1].terms[0].grade`).
    pub field: String,
    pub from: Value,
    pub to: Value,
}

/// A problem with the request, on its path (`corrections.school.cnpj`, `draft.year`).
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ReviewError {
    #[error("no document {0}")]
    NotFound(Uuid),
    /// Only a `needs_review` document can be reviewed.
    #[error("the document is {status}, not needs_review")]
    NotHeld { status: String },
    #[error("{}: {}", .0[0].field, .0[0].message)]
    Invalid(Vec<FieldError>),
    #[error("postgres: {0}")]
    Db(#[from] sqlx::Error),
}

/// What a review did.
#[derive(Clone, Debug, Serialize)]
pub struct Reviewed {
    pub document: Document,
    pub changes: Vec<Change>,
    /// Approve: what was written.
    pub records: Option<RecordsOutcome>,
}

fn err(field: impl Into<String>, message: impl Into<String>) -> FieldError {
    FieldError {
        field: field.into(),
        message: message.into(),
    }
}

/// Checks the request alone (before any row is read).
pub fn check_request(r: &ReviewRequest) -> Result<(), ReviewError> {
    if r.action == Action::Reject && r.corrections.is_some() {
        return Err(ReviewError::Invalid(vec![err(
            "corrections",
            "only with action approve",
        )]));
    }
    if r.note.as_deref().is_some_and(|n| n.chars().count() > MAX_NOTE) {
        return Err(ReviewError::Invalid(vec![err(
            "note",
            format!("at most {MAX_NOTE} characters"),
        )]));
    }
    Ok(())
}

/// Reviews document `id` of `tenant` (steps in the module doc). `actor` is
/// who (`tenant:<id>`, `ops:<email>`); `scale_max` the tenant's grade scale.
pub async fn review(
    pool: &sqlx::PgPool,
    tenant: Uuid,
    id: Uuid,
    req: &ReviewRequest,
    actor: &str,
    scale_max: f64,
) -> Result<Reviewed, ReviewError> {
    check_request(req)?;
    let mut tx = pool.begin().await?;
    let doc = sql::lock(&mut tx, tenant, id)
        .await?
        .ok_or(ReviewError::NotFound(id))?;
    if doc.status != "needs_review" {
        return Err(ReviewError::NotHeld { status: doc.status });
    }
    let held: Value = doc.result.clone().unwrap_or(Value::Null);
    let mut draft: Extraction = serde_json::from_value(held.clone()).map_err(|e| {
        ReviewError::Invalid(vec![err(
            "draft",
            format!("the held draft is unreadable: {e}"),
        )])
    })?;
    let mut trail = json!({
        "action": req.action,
        "by": actor,
        "at": chrono::Utc::now(),
        "note": req.note,
        "reasons": draft.review_reasons,
        "draft": held,
    });
    let (approved, changes, outcome) = match req.action {
        Action::Reject => (None, Vec::new(), None),
        Action::Approve => {
            let changes = match &req.corrections {
                Some(c) => apply(&mut draft, c, scale_max).map_err(ReviewError::Invalid)?,
                None => Vec::new(),
            };
            let blockers = blocking(&draft, doc.student_id.is_some(), scale_max);
            if !blockers.is_empty() {
                return Err(ReviewError::Invalid(blockers));
            }
            let remaining = documents::review::assess(&draft, scale_max);
            draft.needs_review = false;
            draft.review_reasons = Vec::new();
            let outcome =
                records::upsert(&mut tx, tenant, id, doc.student_id, &draft, scale_max).await?;
            let mut result = serde_json::to_value(&draft).unwrap_or(Value::Null);
            // What the job added beside the extraction stays (`source: llm`...).
            for k in ["source", "llm", "rules_draft"] {
                if let Some(v) = held.get(k) {
                    result[k] = v.clone();
                }
            }
            trail["corrections"] = serde_json::to_value(&req.corrections).unwrap_or_default();
            trail["changes"] = serde_json::to_value(&changes).unwrap_or_default();
            trail["remaining_reasons"] = serde_json::to_value(&remaining).unwrap_or_default();
            trail["records"] = serde_json::to_value(&outcome).unwrap_or_default();
            (Some(result), changes, Some(outcome))
        }
    };
    let student = outcome.as_ref().and_then(|o| o.student_id);
    let moved = sql::reviewed(
        &mut *tx,
        id,
        approved.as_ref().map(|r| (r, student)),
        &trail,
        actor,
    )
    .await?;
    if !moved {
        // Cannot happen under the row lock; never commit a half review.
        tx.rollback().await?;
        return Err(ReviewError::NotHeld {
            status: "changed".into(),
        });
    }
    let document = sql::lock(&mut tx, tenant, id)
        .await?
        .ok_or(ReviewError::NotFound(id))?;
    tx.commit().await?;
    Ok(Reviewed {
        document,
        changes,
        records: outcome,
    })
}

/// Problems that would make the approved draft write something wrong or
/// nothing at all; paths start with `draft.`.
pub fn blocking(x: &Extraction, has_student_hint: bool, scale_max: f64) -> Vec<FieldError> {
    let mut out = Vec::new();
    if !has_student_hint
        && x.student
            .registration
            .as_deref()
            .is_none_or(|r| r.trim().is_empty())
    {
        out.push(err(
            "draft.student.registration",
            "no matrícula and the upload named no student_id: the records would belong to nobody; correct student.registration",
        ));
    }
    if !x.subjects.is_empty() && x.year.is_none() {
        out.push(err("draft.year", "no school year; correct year"));
    }
    if let Some(c) = &x.school.cnpj {
        if !documents::validate::cnpj_ok(c) {
            out.push(err(
                "draft.school.cnpj",
                format!("{c:?} is not a valid CNPJ; correct or clear school.cnpj"),
            ));
        }
    }
    let mut tables = vec![("draft.subjects".to_string(), &x.subjects)];
    for (i, y) in x.years.iter().enumerate() {
        if y.year.is_none() && !y.subjects.is_empty() {
            out.push(err(format!("draft.years[{i}].year"), "a school year without its year"));
        }
        tables.push((format!("draft.years[{i}].subjects"), &y.subjects));
    }
    for (path, subjects) in tables {
        let mut seen = std::collections::BTreeSet::new();
        for (i, s) in subjects.iter().enumerate() {
            let at = format!("{path}[{i}]");
            if !records::valid_code(&s.code) {
                out.push(err(format!("{at}.code"), format!("{:?} is not a subject code; rename or remove it", s.code)));
            } else if !seen.insert(s.code.as_str()) {
                out.push(err(format!("{at}.code"), format!("{} is in this table twice; remove one", s.code)));
            }
            for (j, t) in s.terms.iter().enumerate() {
                if let Some(g) = t.grade {
                    if !(0.0..=scale_max).contains(&g) {
                        out.push(err(format!("{at}.terms[{j}].grade"), format!("{g} is off the scale 0-{scale_max}")));
                    }
                }
            }
            if let Some(g) = s.final_grade {
                if !(0.0..=scale_max).contains(&g) {
                    out.push(err(format!("{at}.final_grade"), format!("{g} is off the scale 0-{scale_max}")));
                }
            }
            if let Some(p) = s.attendance_pct {
                if !(0.0..=100.0).contains(&p) {
                    out.push(err(format!("{at}.attendance_pct"), format!("{p} is outside 0-100")));
                }
            }
        }
    }
    out
}

fn text_value(
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
fn birth_date(errors: &mut Vec<FieldError>, path: &str, raw: &str) -> Option<String> {
    let d = chrono::NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d")
        .ok()
        .or_else(|| {
            normalize::date(raw).and_then(|s| chrono::NaiveDate::parse_from_str(&s, "%Y-%m-%d").ok())
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
fn cnpj(errors: &mut Vec<FieldError>, path: &str, raw: &str) -> Option<String> {
    if raw.chars().any(|c| !(c.is_ascii_digit() || matches!(c, '.' | '/' | '-' | ' '))) {
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

fn grade(errors: &mut Vec<FieldError>, path: &str, n: &Number, scale_max: f64) -> Option<f64> {
    match n.parse() {
        Some(g) if (0.0..=scale_max).contains(&g) => Some(g),
        Some(g) => {
            errors.push(err(path, format!("{g} is off the tenant's scale 0-{scale_max}")));
            None
        }
        None => {
            errors.push(err(path, format!("{n:?} is not a number")));
            None
        }
    }
}

/// Records a change when `to` differs from `from`.
fn changed<T: Serialize + PartialEq>(changes: &mut Vec<Change>, field: String, from: &T, to: &T) {
    if from != to {
        changes.push(Change {
            field,
            from: serde_json::to_value(from).unwrap_or(Value::Null),
            to: serde_json::to_value(to).unwrap_or(Value::Null),
        });
    }
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
        _ => Err(format!("{:?} is in several years of the draft; give year", f.code)),
    }
}

/// Merges `c` into `x`; `Err` lists every problem, `Ok` every change.
pub fn apply(x: &mut Extraction, c: &Corrections, scale_max: f64) -> Result<Vec<Change>, Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut changes = Vec::new();
    if let Some(s) = &c.student {
        let p = "corrections.student";
        if let Some(v) = &s.name {
            let to = v.as_ref().and_then(|_| text_value(&mut errors, &format!("{p}.name"), v, 200));
            if v.is_none() || to.is_some() {
                changed(&mut changes, "student.name".into(), &x.student.name, &to);
                x.student.name = to;
            }
        }
        if let Some(v) = &s.registration {
            let to = v.as_ref().and_then(|_| text_value(&mut errors, &format!("{p}.registration"), v, 64));
            if v.is_none() || to.is_some() {
                changed(&mut changes, "student.registration".into(), &x.student.registration, &to);
                x.student.registration = to;
            }
        }
        if let Some(v) = &s.birth_date {
            let to = v.as_deref().and_then(|d| birth_date(&mut errors, &format!("{p}.birth_date"), d));
            if v.is_none() || to.is_some() {
                changed(&mut changes, "student.birth_date".into(), &x.student.birth_date, &to);
                x.student.birth_date = to;
            }
        }
        if let Some(v) = &s.class_name {
            let to = v.as_ref().and_then(|_| text_value(&mut errors, &format!("{p}.class_name"), v, 100));
            if v.is_none() || to.is_some() {
                changed(&mut changes, "student.class_name".into(), &x.student.class_name, &to);
                x.student.class_name = to;
            }
        }
    }
    if let Some(s) = &c.school {
        if let Some(v) = &s.name {
            let to = v.as_ref().and_then(|_| text_value(&mut errors, "corrections.school.name", v, 200));
            if v.is_none() || to.is_some() {
                changed(&mut changes, "school.name".into(), &x.school.name, &to);
                x.school.name = to;
            }
        }
        if let Some(v) = &s.cnpj {
            let to = v.as_deref().and_then(|d| cnpj(&mut errors, "corrections.school.cnpj", d));
            if v.is_none() || to.is_some() {
                changed(&mut changes, "school.cnpj".into(), &x.school.cnpj, &to);
                x.school.cnpj = to;
            }
        }
    }
    if let Some(y) = c.year {
        if (1900..=2200).contains(&y) {
            changed(&mut changes, "year".into(), &x.year, &Some(y));
            x.year = Some(y);
        } else {
            errors.push(err("corrections.year", "between 1900 and 2200"));
        }
    }
    // Locate every fix against the draft as it was, then apply; drops last
    // so indexes stay valid while merging.
    let mut targets = Vec::new();
    for (i, f) in c.subjects.iter().enumerate() {
        let p = format!("corrections.subjects[{i}]");
        match locate(x, f) {
            Ok(t) if targets.iter().any(|(_, u)| *u == t) => {
                errors.push(err(format!("{p}.code"), format!("{:?} is corrected twice", f.code)))
            }
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
                    errors.push(err(format!("{p}.name"), format!("{n:?} gives no subject code")));
                } else if siblings.contains(&code) {
                    errors.push(err(format!("{p}.name"), format!("{code} is already in this table")));
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
                errors.push(err(format!("{tp}.term"), format!("term {} given twice", t.term)));
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
                    s.terms.push(TermGrade { term: t.term, grade: None, raw: None, confidence: None });
                    s.terms.sort_by_key(|x| x.term);
                    s.terms.iter().position(|x| x.term == t.term).expect("just added")
                }
            };
            changed(&mut changes, format!("{path}.terms[term {}].grade", t.term), &s.terms[k].grade, &g);
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
                changed(&mut changes, format!("{path}.final_grade"), &s.final_grade, &to);
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
                        errors.push(err(format!("{p}.attendance_pct"), format!("{n:?} is not a percentage 0-100")));
                        None
                    }
                },
                None => None,
            };
            if v.is_none() || to.is_some() {
                changed(&mut changes, format!("{path}.attendance_pct"), &s.attendance_pct, &to);
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
    drops.sort_by(|a, b| b.1.cmp(&a.1));
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
        x.doc_type = if x.subjects.is_empty() { DocType::Historico } else { DocType::Boletim };
    }
    Ok(changes)
}

/// The reasons of the draft, for a reviewer's page: field → messages.
pub fn reasons_by_field(x: &Extraction) -> std::collections::BTreeMap<String, Vec<String>> {
    let mut m: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for Warning { field, message } in &x.review_reasons {
        m.entry(field.clone()).or_default().push(message.clone());
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;
    use documents::{Method, School, Student};

    fn subject(name: &str, code: &str, grades: &[f64]) -> SubjectResult {
        SubjectResult {
            name: name.into(),
            name_original: name.into(),
            code: code.into(),
            terms: grades
                .iter()
                .enumerate()
                .map(|(i, g)| TermGrade {
                    term: i as u8 + 1,
                    grade: Some(*g),
                    raw: None,
                    confidence: None,
                })
                .collect(),
            final_grade: None,
            absences: None,
            attendance_pct: None,
            status: None,
            workload_hours: None,
        }
    }

    fn historico() -> Extraction {
        let year = |y: i32, g: f64| documents::YearRecord {
            year: Some(y),
            grade_level: None,
            school_name: None,
            subjects: vec![subject("Matemática", "matematica", &[g]), subject("História", "historia", &[g])],
            overall_attendance_pct: None,
            status: None,
        };
        Extraction {
            document_id: None,
            doc_type: DocType::Historico,
            pages: 1,
            method: Method::Text,
            confidence: 100.0,
            student: Student {
                name: Some("Ana".into()),
                registration: Some("1".into()),
                ..Student::default()
            },
            school: School::default(),
            year: Some(2023),
            subjects: vec![],
            years: vec![year(2022, 7.0), year(2023, 8.0)],
            overall_attendance_pct: None,
            warnings: vec![],
            page_info: vec![],
            needs_review: true,
            review_reasons: vec![],
        }
    }

    fn fix(v: serde_json::Value) -> Corrections {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn historico_fixes_need_the_year_and_land_in_it() {
        let mut x = historico();
        let e = apply(&mut x, &fix(json!({"subjects": [{"code": "historia", "final_grade": 6}]})), 10.0).unwrap_err();
        assert_eq!(e[0].field, "corrections.subjects[0].code");
        assert!(e[0].message.contains("give year"));
        let changes = apply(
            &mut x,
            &fix(json!({"subjects": [{"code": "historia", "year": 2022, "terms": [{"term": 1, "grade": "6,5"}, {"term": 2, "grade": 7}]},
                                      {"code": "matematica", "year": 2023, "remove": true}]})),
            10.0,
        )
        .unwrap();
        assert_eq!(x.years[0].subjects[1].terms.iter().map(|t| t.grade).collect::<Vec<_>>(), [Some(6.5), Some(7.0)]);
        assert_eq!(x.years[1].subjects.len(), 1);
        assert_eq!(x.years[1].subjects[0].code, "historia");
        let fields: Vec<&str> = changes.iter().map(|c| c.field.as_str()).collect();
        assert_eq!(
            fields,
            ["years[0].subjects[1].terms[term 1].grade", "years[0].subjects[1].terms[term 2].grade", "years[1].subjects[0]"]
        );
        assert_eq!(changes[1].from, Value::Null);
    }

    #[test]
    fn absent_keeps_null_clears_and_errors_list_every_field() {
        let mut x = historico();
        x.school.cnpj = Some("11222333000181".into());
        apply(&mut x, &fix(json!({"school": {"cnpj": null}, "student": {"class_name": "7º A"}})), 10.0).unwrap();
        assert_eq!(x.school.cnpj, None);
        assert_eq!(x.student.name.as_deref(), Some("Ana"));
        assert_eq!(x.student.class_name.as_deref(), Some("7º A"));
        let before = x.clone();
        let e = apply(
            &mut x,
            &fix(json!({"student": {"birth_date": "2031-01-01"}, "school": {"cnpj": "12.ABC"},
                        "subjects": [{"code": "historia", "year": 2022, "final_grade": -1}]})),
            10.0,
        )
        .unwrap_err();
        let fields: Vec<&str> = e.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["corrections.student.birth_date", "corrections.school.cnpj", "corrections.subjects[0].final_grade"]);
        // A refused correction changes nothing the caller keeps: the route
        // rolls back; here the values that failed were not applied.
        assert_eq!(x.years[0].subjects[1].final_grade, before.years[0].subjects[1].final_grade);
    }

    #[test]
    fn blocking_problems_are_what_would_write_wrong_or_nothing() {
        let mut x = historico();
        assert_eq!(blocking(&x, false, 10.0), vec![]);
        x.student.registration = None;
        assert_eq!(blocking(&x, true, 10.0), vec![]);
        x.years[1].subjects[0].terms[0].grade = Some(80.0);
        x.years[0].subjects[1].code = "matematica".into();
        x.school.cnpj = Some("11222333000182".into());
        let fields: Vec<String> = blocking(&x, false, 10.0).into_iter().map(|e| e.field).collect();
        assert_eq!(
            fields,
            [
                "draft.student.registration",
                "draft.school.cnpj",
                "draft.years[0].subjects[1].code",
                "draft.years[1].subjects[0].terms[0].grade"
            ]
        );
    }
}
