//! Classes ingestion (`POST /v1/academic/classes`, JSON): a class by its
//! code, with its `teacher` and `coordinator` (staff, upserted by their
//! `code`) and `enrollments` (`registration`, `started_on`, `ended_on`),
//! upserted by (student, class). Enrollments are never deleted here: a
//! transfer closes one (`ended_on`) and opens another, keeping the history.

use std::collections::HashMap;

use chrono::NaiveDate;
use serde_json::Value;
use sqlx::PgPool;
use uuid::Uuid;

use super::fields::{Reader, SeenKeys};
use super::students::{person, Contact};
use super::{resolve_students, tally, unique, IngestError, Ingested, RowError, Rows};

struct Staff {
    code: String,
    name: String,
    role: &'static str,
    email: Option<String>,
    phone: Option<String>,
    preferred: Vec<String>,
}

struct Class {
    code: String,
    name: String,
    year: i32,
    teacher: Option<String>,
    coordinator: Option<String>,
    enrollments: Vec<Enrollment>,
}

/// One enrollment as read: (row, nested index, student registration, started_on, ended_on).
type Enrollment = (
    usize,
    Option<usize>,
    String,
    Option<NaiveDate>,
    Option<NaiveDate>,
);

fn read(rows: &Rows, errors: &mut Vec<RowError>) -> (Vec<Class>, Vec<Staff>) {
    let (mut classes, mut staff) = (Vec::new(), Vec::<Staff>::new());
    let mut seen = SeenKeys::default();
    for (row, line, map) in &rows.items {
        let before = errors.len();
        let mut r = Reader::new(*row, *line, "", map, errors);
        let code = r.text_req(&["code", "codigo", "turma"], 64);
        let name = r.text_req(&["name", "nome"], 200);
        let year = r.integer(&["year", "ano"], 1900, 2200);
        if year.is_none() && !r.has("year") && !r.has("ano") {
            r.error("year", "required");
        }
        let teacher = r.value(&["teacher", "professor"]);
        let coordinator = r.value(&["coordinator", "coordenador"]);
        let enrollments = r.value(&["enrollments", "matriculas", "alunos"]);
        r.finish();
        let mut people = [
            (teacher, "teacher", None),
            (coordinator, "coordinator", None),
        ];
        for (v, role, code_out) in people.iter_mut() {
            let Some(v) = v else { continue };
            let Some(m) = v.as_object() else {
                errors.push(RowError {
                    row: *row,
                    line: *line,
                    field: role.to_string(),
                    message: "must be an object".into(),
                });
                continue;
            };
            if let Some(Contact {
                code: Some(code),
                name,
                email,
                phone,
                preferred,
                ..
            }) = person(*row, *line, &format!("{role}."), m, errors, true)
            {
                match staff.iter().find(|s| s.code == code) {
                    Some(s) if s.name != name => errors.push(RowError {
                        row: *row,
                        line: *line,
                        field: format!("{role}.name"),
                        message: format!(
                            "staff {code:?} is named {:?} elsewhere in this batch",
                            s.name
                        ),
                    }),
                    Some(_) => {}
                    None => staff.push(Staff {
                        code: code.clone(),
                        name,
                        role: if *role == "teacher" {
                            "teacher"
                        } else {
                            "coordinator"
                        },
                        email,
                        phone,
                        preferred,
                    }),
                }
                *code_out = Some(code);
            }
        }
        let mut enr = Vec::new();
        match enrollments {
            None => {}
            Some(Value::Array(items)) => {
                for (i, e) in items.iter().enumerate() {
                    let prefix = format!("enrollments[{i}].");
                    let Some(m) = e.as_object() else {
                        errors.push(RowError {
                            row: *row,
                            line: *line,
                            field: format!("enrollments[{i}]"),
                            message: "must be an object".into(),
                        });
                        continue;
                    };
                    let b = errors.len();
                    let mut er = Reader::new(*row, *line, &prefix, m, errors);
                    let reg = er.text_req(&["registration", "matricula", "matrícula"], 64);
                    let started = er.date(&["started_on", "inicio", "início"]);
                    let ended = er.date(&["ended_on", "fim", "saida", "saída"]);
                    if let (Some(s), Some(e)) = (started, ended) {
                        if e < s {
                            er.error("ended_on", "before started_on");
                        }
                    }
                    er.finish();
                    if errors.len() == b {
                        if enr.iter().any(
                            |x: &(
                                usize,
                                Option<usize>,
                                String,
                                Option<NaiveDate>,
                                Option<NaiveDate>,
                            )| Some(&x.2) == reg.as_ref(),
                        ) {
                            errors.push(RowError {
                                row: *row,
                                line: *line,
                                field: format!("enrollments[{i}].registration"),
                                message: "listed twice".into(),
                            });
                        }
                        enr.push((*row, *line, reg.unwrap_or_default(), started, ended));
                    }
                }
            }
            Some(_) => errors.push(RowError {
                row: *row,
                line: *line,
                field: "enrollments".into(),
                message: "must be a list".into(),
            }),
        }
        if errors.len() > before {
            continue;
        }
        let code = code.unwrap_or_default();
        if let Some(e) = seen.repeat(code.clone(), *row, *line, "code", "code") {
            errors.push(e);
            continue;
        }
        let [(_, _, teacher), (_, _, coordinator)] = people;
        classes.push(Class {
            code,
            name: name.unwrap_or_default(),
            year: year.unwrap_or_default() as i32,
            teacher,
            coordinator,
            enrollments: enr,
        });
    }
    (classes, staff)
}

/// Checks every row, then writes staff, classes and enrollments in one transaction (or nothing).
pub async fn ingest(pool: &PgPool, tenant: Uuid, rows: &Rows) -> Result<Ingested, IngestError> {
    let mut errors = Vec::new();
    let (classes, staff) = read(rows, &mut errors);
    let regs: Vec<_> = classes
        .iter()
        .flat_map(|c| c.enrollments.iter().map(|e| (e.0, e.1, e.2.clone())))
        .collect();
    let students = resolve_students(pool, tenant, &regs, &mut errors).await?;
    // resolve_students names the field `registration`; say where it sits.
    for e in errors.iter_mut() {
        if e.field == "registration" {
            e.field = "enrollments[].registration".into();
        }
    }
    if !errors.is_empty() {
        errors.sort_by_key(|e| e.row);
        return Err(IngestError::Invalid(errors));
    }
    let mut tx = pool.begin().await?;
    let staff_ids: HashMap<String, Uuid> = if staff.is_empty() {
        HashMap::new()
    } else {
        let rows: Vec<(String, Uuid)> = sqlx::query_as(
            "insert into staff (id, tenant_id, code, name, role, email, phone, preferred_channels)
             select i, $1, c, n, r, e, p, coalesce(string_to_array(nullif(pc, ''), ','), '{}')
             from unnest($2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[])
                  as v(i, c, n, r, e, p, pc)
             on conflict (tenant_id, code) do update set name = excluded.name, email = excluded.email,
                 phone = excluded.phone, preferred_channels = excluded.preferred_channels
             returning code, id",
        )
        .bind(tenant)
        .bind(staff.iter().map(|_| Uuid::now_v7()).collect::<Vec<_>>())
        .bind(staff.iter().map(|s| s.code.clone()).collect::<Vec<_>>())
        .bind(staff.iter().map(|s| s.name.clone()).collect::<Vec<_>>())
        .bind(staff.iter().map(|s| s.role).collect::<Vec<_>>())
        .bind(staff.iter().map(|s| s.email.clone()).collect::<Vec<_>>())
        .bind(staff.iter().map(|s| s.phone.clone()).collect::<Vec<_>>())
        .bind(staff.iter().map(|s| s.preferred.join(",")).collect::<Vec<_>>())
        .fetch_all(&mut *tx)
        .await?;
        rows.into_iter().collect()
    };
    let written: Vec<(String, Uuid, bool)> = sqlx::query_as(
        "insert into classes (id, tenant_id, code, name, year, teacher_id, coordinator_id)
         select i, $1, c, n, y, t, k
         from unnest($2::uuid[], $3::text[], $4::text[], $5::int[], $6::uuid[], $7::uuid[]) as v(i, c, n, y, t, k)
         on conflict (tenant_id, code) do update set name = excluded.name, year = excluded.year,
             teacher_id = coalesce(excluded.teacher_id, classes.teacher_id),
             coordinator_id = coalesce(excluded.coordinator_id, classes.coordinator_id)
         returning code, id, (xmax = 0)",
    )
    .bind(tenant)
    .bind(classes.iter().map(|_| Uuid::now_v7()).collect::<Vec<_>>())
    .bind(classes.iter().map(|c| c.code.clone()).collect::<Vec<_>>())
    .bind(classes.iter().map(|c| c.name.clone()).collect::<Vec<_>>())
    .bind(classes.iter().map(|c| c.year).collect::<Vec<_>>())
    .bind(classes.iter().map(|c| c.teacher.as_ref().map(|t| staff_ids[t])).collect::<Vec<_>>())
    .bind(classes.iter().map(|c| c.coordinator.as_ref().map(|t| staff_ids[t])).collect::<Vec<_>>())
    .fetch_all(&mut *tx)
    .await?;
    let class_id: HashMap<&str, Uuid> = written.iter().map(|w| (w.0.as_str(), w.1)).collect();
    let enr: Vec<(Uuid, Uuid, Option<NaiveDate>, Option<NaiveDate>)> = classes
        .iter()
        .flat_map(|c| {
            let cid = class_id[c.code.as_str()];
            c.enrollments
                .iter()
                .map(move |e| (cid, e.2.clone(), e.3, e.4))
        })
        .map(|(cid, reg, s, e)| (students[&reg], cid, s, e))
        .collect();
    if !enr.is_empty() {
        sqlx::query(
            "insert into enrollments (tenant_id, student_id, class_id, started_on, ended_on)
             select $1, s, c, b, e from unnest($2::uuid[], $3::uuid[], $4::date[], $5::date[]) as v(s, c, b, e)
             on conflict (student_id, class_id) do update set started_on = excluded.started_on, ended_on = excluded.ended_on",
        )
        .bind(tenant)
        .bind(enr.iter().map(|e| e.0).collect::<Vec<_>>())
        .bind(enr.iter().map(|e| e.1).collect::<Vec<_>>())
        .bind(enr.iter().map(|e| e.2).collect::<Vec<_>>())
        .bind(enr.iter().map(|e| e.3).collect::<Vec<_>>())
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    let flags: Vec<bool> = written.iter().map(|w| w.2).collect();
    let (inserted, updated) = tally(&flags);
    Ok(Ingested {
        rows: classes.len(),
        inserted,
        updated,
        students: unique(enr.iter().map(|e| e.0).collect()),
    })
}
