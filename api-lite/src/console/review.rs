//! The review queue (`/console/documents/review`): one tenant's held
//! documents (`needs_review`), oldest first, each with the reasons it was
//! held for; and one document's review page (`/console/documents/{id}/review`):
//! its draft as a form — header fields and a row per subject, every field
//! the reader doubted highlighted with its reason — to correct, then approve
//! or reject. The form is turned into the same corrections as the JSON API
//! takes (only the fields whose value changed) and goes through the same
//! `routes::document_review::run` (transaction, records, `alerts.evaluate`,
//! audit row as `ops:<email>`), after the CSRF check: [`super::review_form`].

use std::collections::{BTreeMap, BTreeSet};

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use uuid::Uuid;

use documents::{Extraction, SubjectResult};
use jobs::kinds::documents::sql;

use super::html::{self, csrf_field, esc, q};
use super::pages::unavailable;
use super::session::Ops;
use super::tenant;
use crate::state::AppState;

/// Held documents per page.
pub const PAGE: i64 = 50;

#[derive(Debug, Default, Deserialize)]
pub struct QueueQuery {
    pub tenant: Option<String>,
    pub before: Option<Uuid>,
    pub done: Option<String>,
}

/// The draft's reasons, by field path.
fn reasons(x: &Extraction) -> BTreeMap<String, Vec<String>> {
    jobs::kinds::documents::review::reasons_by_field(x)
}

pub async fn queue(State(st): State<AppState>, ops: Ops, Query(f): Query<QueueQuery>) -> Response {
    let choice = match tenant::choose(&st, f.tenant.as_deref()).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let docs = match choice.chosen {
        Some(t) => {
            let filter = sql::ListFilter {
                status: Some("needs_review".into()),
                before: f.before,
                limit: PAGE,
            };
            match sql::list(&st.pool, t, &filter).await {
                Ok(d) => d,
                Err(e) => return unavailable(e),
            }
        }
        None => Vec::new(),
    };
    let tp = choice.param();
    let rows: Vec<Vec<String>> = docs
        .iter()
        .map(|d| {
            let draft: Option<Extraction> =
                d.result.clone().and_then(|r| serde_json::from_value(r).ok());
            let why = draft
                .as_ref()
                .map(|x| {
                    x.review_reasons
                        .iter()
                        .map(|w| format!("<li><code>{}</code>: {}</li>", esc(&w.field), esc(&w.message)))
                        .collect::<String>()
                })
                .unwrap_or_default();
            let student = draft
                .as_ref()
                .and_then(|x| x.student.name.clone())
                .unwrap_or_default();
            let source = d
                .result
                .as_ref()
                .and_then(|r| r.get("source"))
                .and_then(|s| s.as_str())
                .unwrap_or("rules");
            vec![
                html::utc(d.extracted_at),
                format!("{}<br>{}", esc(&d.filename), d.id),
                esc(&student),
                esc(source),
                format!(r#"<ul class="reasons">{why}</ul>"#),
                format!(
                    r#"<a id="review-{}" href="/console/documents/{}/review?tenant={}">Review →</a>"#,
                    d.id,
                    d.id,
                    q(&tp)
                ),
            ]
        })
        .collect();
    let table = if rows.is_empty() {
        choice.empty_hint("held documents")
    } else {
        html::table(
            "review-queue",
            &[
                "read at (UTC)",
                "file",
                "student",
                "source",
                "held because",
                "",
            ],
            &rows,
        )
    };
    let next = match docs.last() {
        Some(last) if docs.len() as i64 == PAGE => format!(
            r#"<p><a id="next" href="/console/documents/review?tenant={}&before={}">Next page →</a></p>"#,
            q(&tp),
            last.id
        ),
        _ => String::new(),
    };
    let body = format!(
        r#"{}<p class="hint">Documents the reader was not sure of: nothing of them is in the academic records until a person approves the draft (correcting it first if needed) or rejects it.</p><form method="get" id="filters">{} <button id="filter">Filter</button></form>{table}{next}"#,
        html::flash(f.done.as_deref()),
        choice.select()
    );
    html::page("Review queue", Some(&ops), &body)
}

#[derive(Debug, Default, Deserialize)]
pub struct DocQuery {
    pub tenant: Option<String>,
}

/// A grade or percentage as the form shows it: `8,5`.
fn num(v: Option<f64>) -> String {
    v.map(|v| {
        let s = format!("{v}");
        s.replace('.', ",")
    })
    .unwrap_or_default()
}

/// ISO → dd/mm/aaaa.
pub(super) fn br_date(iso: Option<&str>) -> String {
    iso.and_then(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
        .map(|d| d.format("%d/%m/%Y").to_string())
        .unwrap_or_default()
}

/// An input, highlighted (class `doubt`, the reasons as its title) when
/// `path` — or, for a cell, its subject — was a reason.
fn input(
    name: &str,
    value: &str,
    why: &BTreeMap<String, Vec<String>>,
    paths: &[String],
    size: u8,
) -> String {
    let msgs: Vec<&str> = paths
        .iter()
        .filter_map(|p| why.get(p))
        .flatten()
        .map(String::as_str)
        .collect();
    let (cls, title) = if msgs.is_empty() {
        ("", String::new())
    } else {
        (
            r#" class="doubt""#,
            format!(r#" title="{}""#, esc(&msgs.join("; "))),
        )
    };
    format!(
        r#"<input name="{}" id="{}" value="{}" size="{size}"{cls}{title}>"#,
        esc(name),
        esc(name),
        esc(value)
    )
}

/// The rows of one table of subjects (`t` = `b` for a boletim, else the year index).
fn subject_rows(
    t: &str,
    path: &str,
    subjects: &[SubjectResult],
    why: &BTreeMap<String, Vec<String>>,
) -> (Vec<String>, Vec<Vec<String>>) {
    let terms: BTreeSet<u8> = subjects
        .iter()
        .flat_map(|s| s.terms.iter().map(|x| x.term))
        .collect();
    let mut head = vec!["code".to_string(), "subject".to_string()];
    head.extend(terms.iter().map(|n| format!("term {n}")));
    head.extend(["média", "faltas", "frequência %", "situação", "drop"].map(String::from));
    let rows = subjects
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let at = format!("{path}[{i}]");
            let n = format!("s.{t}.{i}");
            let mut row = vec![
                format!(
                    r#"{}<input type="hidden" name="{n}.code" value="{}">"#,
                    esc(&s.code),
                    esc(&s.code)
                ),
                input(
                    &format!("{n}.name"),
                    &s.name,
                    why,
                    &[format!("{at}.name"), format!("{at}.code"), at.clone()],
                    22,
                ),
            ];
            for term in &terms {
                let k = s.terms.iter().position(|x| x.term == *term);
                let g = k.and_then(|k| s.terms[k].grade);
                let mut paths = vec![format!("{at}.terms")];
                if let Some(k) = k {
                    paths.push(format!("{at}.terms[{k}].grade"));
                }
                row.push(input(&format!("{n}.term.{term}"), &num(g), why, &paths, 4));
            }
            row.push(input(
                &format!("{n}.final_grade"),
                &num(s.final_grade),
                why,
                &[format!("{at}.final_grade"), at.clone()],
                4,
            ));
            row.push(input(
                &format!("{n}.absences"),
                &s.absences.map(|a| a.to_string()).unwrap_or_default(),
                why,
                &[format!("{at}.absences")],
                3,
            ));
            row.push(input(
                &format!("{n}.attendance_pct"),
                &num(s.attendance_pct),
                why,
                &[format!("{at}.attendance_pct")],
                4,
            ));
            row.push(input(
                &format!("{n}.status"),
                s.status.as_deref().unwrap_or(""),
                why,
                &[format!("{at}.status")],
                10,
            ));
            row.push(format!(
                r#"<input type="checkbox" name="{n}.remove" id="{n}.remove" value="1">"#
            ));
            row
        })
        .collect();
    (head, rows)
}

pub async fn page(
    State(st): State<AppState>,
    ops: Ops,
    Path(id): Path<Uuid>,
    Query(f): Query<DocQuery>,
) -> Response {
    let tenant = match tenant::posted(f.tenant.as_deref()) {
        Ok(t) => t,
        Err(r) => return r.into_response(),
    };
    let doc = match sql::get(&st.pool, tenant, id).await {
        Ok(Some(d)) => d,
        Ok(None) => return html::error_page(StatusCode::NOT_FOUND, "no such document"),
        Err(e) => return unavailable(e),
    };
    let Some(x) = doc
        .result
        .clone()
        .and_then(|r| serde_json::from_value::<Extraction>(r).ok())
    else {
        return html::error_page(
            StatusCode::CONFLICT,
            &format!("the document is {} and has no draft", doc.status),
        );
    };
    let why = reasons(&x);
    let reasons_list: String = x
        .review_reasons
        .iter()
        .map(|w| {
            format!(
                "<li><code>{}</code>: {}</li>",
                esc(&w.field),
                esc(&w.message)
            )
        })
        .collect();
    let held = doc.status == "needs_review";
    let header_rows = vec![
        vec![
            "student name".into(),
            input(
                "student.name",
                x.student.name.as_deref().unwrap_or(""),
                &why,
                &["student.name".into()],
                40,
            ),
        ],
        vec![
            "matrícula".into(),
            input(
                "student.registration",
                x.student.registration.as_deref().unwrap_or(""),
                &why,
                &["student.registration".into()],
                20,
            ),
        ],
        vec![
            "birth date (dd/mm/aaaa)".into(),
            input(
                "student.birth_date",
                &br_date(x.student.birth_date.as_deref()),
                &why,
                &["student.birth_date".into()],
                10,
            ),
        ],
        vec![
            "class".into(),
            input(
                "student.class_name",
                x.student.class_name.as_deref().unwrap_or(""),
                &why,
                &["student.class_name".into()],
                20,
            ),
        ],
        vec![
            "school".into(),
            input(
                "school.name",
                x.school.name.as_deref().unwrap_or(""),
                &why,
                &["school.name".into()],
                40,
            ),
        ],
        vec![
            "CNPJ".into(),
            input(
                "school.cnpj",
                x.school.cnpj.as_deref().unwrap_or(""),
                &why,
                &["school.cnpj".into()],
                18,
            ),
        ],
        vec![
            "year".into(),
            input(
                "year",
                &x.year.map(|y| y.to_string()).unwrap_or_default(),
                &why,
                &["year".into()],
                4,
            ),
        ],
    ];
    let mut tables = String::new();
    if !x.subjects.is_empty() {
        let (head, rows) = subject_rows("b", "subjects", &x.subjects, &why);
        let head: Vec<&str> = head.iter().map(String::as_str).collect();
        tables.push_str(&html::table("subjects", &head, &rows));
    }
    for (y, year) in x.years.iter().enumerate() {
        let (head, rows) = subject_rows(
            &y.to_string(),
            &format!("years[{y}].subjects"),
            &year.subjects,
            &why,
        );
        let head: Vec<&str> = head.iter().map(String::as_str).collect();
        tables.push_str(&format!(
            "<h3>{}</h3>{}",
            esc(&year
                .year
                .map(|y| y.to_string())
                .unwrap_or_else(|| "year ?".into())),
            html::table(&format!("years-{y}"), &head, &rows)
        ));
    }
    let source = doc
        .result
        .as_ref()
        .and_then(|r| r.get("source"))
        .and_then(|s| s.as_str())
        .unwrap_or("rules");
    let actions = if held {
        r#"<p><label>Note <textarea name="note" id="note" rows="2" cols="60"></textarea></label></p>
<p><button name="action" value="approve" id="approve">Approve (write the records)</button> <button name="action" value="reject" id="reject">Reject (write nothing)</button></p>"#
            .to_string()
    } else {
        format!(
            r#"<p class="hint" id="not-held">This document is {}: it can no longer be reviewed.</p>"#,
            esc(&doc.status)
        )
    };
    let body = format!(
        r#"<p><a href="/console/documents/review?tenant={tq}">← review queue</a></p>
<p>{file} · {id} · status <b id="status">{status}</b> · read by {method} ({source}), confidence {conf}</p>
<h3>Held because</h3><ul class="reasons" id="reasons">{reasons_list}</ul>
<p class="hint">Fields the reader doubted are highlighted (hover for why). Change what is wrong; an emptied field is cleared; tick "drop" to leave a subject out. Only changed fields are sent as corrections.</p>
<form method="post" action="/console/documents/{id}/review" id="review">{csrf}<input type="hidden" name="tenant" value="{tenant}">
{header}{tables}{actions}</form>"#,
        tq = q(&tenant.to_string()),
        file = esc(&doc.filename),
        status = esc(&doc.status),
        method = esc(doc.method.as_deref().unwrap_or("?")),
        conf = doc
            .confidence
            .map(|c| format!("{c:.0}"))
            .unwrap_or_default(),
        csrf = csrf_field(&ops.csrf),
        header = html::table("header", &["field", "value"], &header_rows),
    );
    html::page("Review document", Some(&ops), &body)
}
