//! The review page's form posted back (`POST /console/documents/{id}/review`):
//! after the CSRF check, the fields whose value changed against the draft
//! become the JSON API's corrections (numbers compared as numbers, so `8,50`
//! is no change from `8.5`; an emptied field clears; text that is not a
//! number is passed on for the validator to name), then the same
//! `routes::document_review::run` as the API. A refusal is a 422 page
//! listing every bad field; nothing is written.

use std::collections::BTreeSet;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use uuid::Uuid;

use documents::{Extraction, SubjectResult};
use jobs::kinds::documents::review::{
    Action, Corrections, Number, ReviewError, ReviewRequest, SchoolFix, StudentFix, SubjectFix,
    TermFix,
};
use jobs::kinds::documents::sql;

use super::html::{self, esc, q};
use super::pages::unavailable;
use super::review::br_date;
use super::session::{check_csrf, field, form, Ops};
use super::tenant;
use crate::routes::document_review;
use crate::state::AppState;

/// The form's text for `name`, trimmed.
fn text<'a>(f: &'a [(String, String)], name: &str) -> Option<&'a str> {
    field(f, name).map(str::trim)
}

/// A changed text field: `None` = unchanged, `Some(None)` = cleared.
fn text_fix(f: &[(String, String)], name: &str, current: Option<&str>) -> Option<Option<String>> {
    let v = text(f, name)?;
    let cur = current.unwrap_or("").trim();
    match (v.is_empty(), v == cur) {
        (_, true) => None,
        (true, false) => Some(None),
        (false, false) => Some(Some(v.to_string())),
    }
}

/// A changed number: compared as numbers, so `8,50` is `8.5`; text that is
/// not a number is passed on for the validator to name.
fn num_fix(f: &[(String, String)], name: &str, current: Option<f64>) -> Option<Option<Number>> {
    let v = text(f, name)?;
    if v.is_empty() {
        return current.map(|_| None);
    }
    match documents::normalize::number(v) {
        Some(n) if Some(n) == current => None,
        Some(n) => Some(Some(Number::Value(n))),
        None => Some(Some(Number::Text(v.to_string()))),
    }
}

fn subject_fixes(
    f: &[(String, String)],
    t: &str,
    year: Option<i32>,
    subjects: &[SubjectResult],
) -> Vec<SubjectFix> {
    let mut out = Vec::new();
    for (i, s) in subjects.iter().enumerate() {
        let n = format!("s.{t}.{i}");
        // The code the form was drawn with; a redrawn draft is matched by it.
        let Some(code) = text(f, &format!("{n}.code")).filter(|c| !c.is_empty()) else {
            continue;
        };
        let mut fix = SubjectFix {
            code: code.to_string(),
            year,
            ..SubjectFix::default()
        };
        if text(f, &format!("{n}.remove")).is_some() {
            fix.remove = true;
            out.push(fix);
            continue;
        }
        if let Some(v) = text(f, &format!("{n}.name")) {
            if !v.is_empty() && v != s.name {
                fix.name = Some(v.to_string());
            }
        }
        let terms: BTreeSet<u8> = subjects
            .iter()
            .flat_map(|s| s.terms.iter().map(|x| x.term))
            .collect();
        for term in terms {
            let cur = s
                .terms
                .iter()
                .find(|x| x.term == term)
                .and_then(|x| x.grade);
            if let Some(g) = num_fix(f, &format!("{n}.term.{term}"), cur) {
                fix.terms.push(TermFix { term, grade: g });
            }
        }
        fix.final_grade = num_fix(f, &format!("{n}.final_grade"), s.final_grade);
        fix.attendance_pct = num_fix(f, &format!("{n}.attendance_pct"), s.attendance_pct);
        if let Some(v) = text(f, &format!("{n}.absences")) {
            let cur = s.absences.map(|a| a.to_string()).unwrap_or_default();
            if v != cur {
                fix.absences = Some(if v.is_empty() {
                    None
                } else {
                    v.parse().ok().or(Some(u32::MAX))
                });
            }
        }
        fix.status = text_fix(f, &format!("{n}.status"), s.status.as_deref());
        let changed = fix.name.is_some()
            || !fix.terms.is_empty()
            || fix.final_grade.is_some()
            || fix.attendance_pct.is_some()
            || fix.absences.is_some()
            || fix.status.is_some();
        if changed {
            out.push(fix);
        }
    }
    out
}

/// The form's changes against the draft, as the API's corrections.
pub fn corrections(f: &[(String, String)], x: &Extraction) -> Corrections {
    let student = StudentFix {
        name: text_fix(f, "student.name", x.student.name.as_deref()),
        registration: text_fix(f, "student.registration", x.student.registration.as_deref()),
        birth_date: text_fix(
            f,
            "student.birth_date",
            Some(br_date(x.student.birth_date.as_deref()).as_str()),
        ),
        class_name: text_fix(f, "student.class_name", x.student.class_name.as_deref()),
    };
    let school = SchoolFix {
        name: text_fix(f, "school.name", x.school.name.as_deref()),
        cnpj: text_fix(f, "school.cnpj", x.school.cnpj.as_deref()),
    };
    let any_student = student.name.is_some()
        || student.registration.is_some()
        || student.birth_date.is_some()
        || student.class_name.is_some();
    let any_school = school.name.is_some() || school.cnpj.is_some();
    let year = text(f, "year")
        .filter(|y| !y.is_empty() && Some(*y) != x.year.map(|y| y.to_string()).as_deref())
        .map(|y| y.parse().unwrap_or(-1));
    let mut subjects = subject_fixes(f, "b", None, &x.subjects);
    for (i, y) in x.years.iter().enumerate() {
        subjects.extend(subject_fixes(f, &i.to_string(), y.year, &y.subjects));
    }
    Corrections {
        student: any_student.then_some(student),
        school: any_school.then_some(school),
        year,
        subjects,
    }
}

pub async fn submit(
    State(st): State<AppState>,
    ops: Ops,
    Path(id): Path<Uuid>,
    body: Bytes,
) -> Response {
    let f = form(&body);
    if let Err(r) = check_csrf(&ops, &f) {
        return r.into_response();
    }
    let tenant = match tenant::posted(field(&f, "tenant")) {
        Ok(t) => t,
        Err(r) => return r.into_response(),
    };
    let action = match field(&f, "action") {
        Some("approve") => Action::Approve,
        Some("reject") => Action::Reject,
        _ => return html::error_page(StatusCode::BAD_REQUEST, "action must be approve or reject"),
    };
    let doc = match sql::get(&st.pool, tenant, id).await {
        Ok(Some(d)) => d,
        Ok(None) => return html::error_page(StatusCode::NOT_FOUND, "no such document"),
        Err(e) => return unavailable(e),
    };
    let draft: Option<Extraction> = doc
        .result
        .clone()
        .and_then(|r| serde_json::from_value(r).ok());
    let corrections = match (action, &draft) {
        (Action::Approve, Some(x)) => {
            let c = corrections(&f, x);
            let empty = c.student.is_none()
                && c.school.is_none()
                && c.year.is_none()
                && c.subjects.is_empty();
            (!empty).then_some(c)
        }
        _ => None,
    };
    let note = text(&f, "note")
        .filter(|n| !n.is_empty())
        .map(str::to_string);
    let req = ReviewRequest {
        action,
        corrections,
        note,
    };
    match document_review::run(&st, tenant, id, &req, &ops.actor(), None).await {
        Ok(done) => {
            let verb = match action {
                Action::Approve => "approved",
                Action::Reject => "rejected",
            };
            Redirect::to(&format!(
                "/console/documents/review?tenant={tenant}&done={}",
                q(&format!(
                    "{} {verb} ({} field(s) corrected)",
                    doc.filename,
                    done.changes.len()
                ))
            ))
            .into_response()
        }
        Err(ReviewError::NotFound(_)) => {
            html::error_page(StatusCode::NOT_FOUND, "no such document")
        }
        Err(ReviewError::NotHeld { status }) => html::error_page(
            StatusCode::CONFLICT,
            &format!("the document is {status}; only a needs_review document can be reviewed"),
        ),
        Err(ReviewError::Invalid(errors)) => {
            let list: String = errors
                .iter()
                .map(|e| {
                    format!(
                        "<li><code>{}</code>: {}</li>",
                        esc(&e.field),
                        esc(&e.message)
                    )
                })
                .collect();
            let body = format!(
                r#"<p class="error">Nothing was written. Fix these and try again:</p><ul id="errors">{list}</ul><p><a id="back" href="/console/documents/{id}/review?tenant={tenant}">← back to the document</a></p>"#
            );
            let mut res = html::page("Review refused", Some(&ops), &body);
            *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            res
        }
        Err(ReviewError::Db(e)) => unavailable(e),
    }
}
