//! Students ingestion (`POST /v1/academic/students`, JSON): upserted by
//! registration (matrícula) with their guardians. When a row carries
//! `guardians`, that list becomes the student's guardians (upserted by name;
//! guardians no longer listed are removed); without it they are left as they are.
//!
//! A student who left (transferred, graduated) is sent with `active: false`
//! and/or `left_on`; their alerts resolve at the next evaluation. Phones are
//! stored as E.164: `(11) 99999-0000` becomes `+5511999990000`.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use serde_json::Value;
use sqlx::{PgExecutor, PgPool};
use uuid::Uuid;

use super::fields::{Reader, SeenKeys};
use super::{tally, IngestError, Ingested, RowError, Rows};

struct Student {
    registration: String,
    name: String,
    birth_date: Option<NaiveDate>,
    active: bool,
    left_on: Option<NaiveDate>,
    guardians: Option<Vec<Guardian>>,
}

struct Guardian {
    name: String,
    relationship: String,
    email: Option<String>,
    phone: Option<String>,
    push_token: Option<String>,
    preferred: Vec<String>,
}

/// `(11) 99999-0000` → `+5511999990000`; `None` when it is not a phone number.
pub fn normalize_phone(s: &str) -> Option<String> {
    let plus = s.trim().starts_with('+');
    if s.chars()
        .any(|c| !(c.is_ascii_digit() || " +-().".contains(c)))
    {
        return None;
    }
    let digits: String = s.chars().filter(char::is_ascii_digit).collect();
    let e164 = if plus {
        digits
    } else if digits.len() == 10 || digits.len() == 11 {
        format!("55{digits}")
    } else {
        digits
    };
    (10..=15).contains(&e164.len()).then(|| format!("+{e164}"))
}

fn channels(r: &mut Reader<'_, '_>, v: Option<&Value>) -> Vec<String> {
    let Some(v) = v else { return Vec::new() };
    let list: Vec<String> = match v {
        Value::Array(a) => a
            .iter()
            .filter_map(|x| x.as_str().map(str::to_string))
            .collect(),
        Value::String(s) => s
            .split([',', ' '])
            .filter(|x| !x.is_empty())
            .map(str::to_string)
            .collect(),
        _ => {
            r.error("preferred_channels", "must be a list");
            return Vec::new();
        }
    };
    let mut out = Vec::new();
    for c in list {
        let c = c.trim().to_lowercase();
        if !["email", "sms", "whatsapp", "push"].contains(&c.as_str()) {
            r.error(
                "preferred_channels",
                format!("unknown channel {c:?} (email, sms, whatsapp, push)"),
            );
        } else if !out.contains(&c) {
            out.push(c);
        }
    }
    out
}

/// A guardian's or staff member's contact fields, read and checked.
pub(crate) struct Contact {
    pub code: Option<String>,
    pub name: String,
    pub relationship: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub push_token: Option<String>,
    pub preferred: Vec<String>,
}

/// Reads a contact person (guardian or staff) at `prefix` (`guardians[0].`).
pub(crate) fn person(
    row: usize,
    line: Option<usize>,
    prefix: &str,
    map: &serde_json::Map<String, Value>,
    errors: &mut Vec<RowError>,
    staff: bool,
) -> Option<Contact> {
    let before = errors.len();
    let mut r = Reader::new(row, line, prefix, map, errors);
    let code = if staff {
        r.text_req(&["code", "codigo"], 64)
    } else {
        None
    };
    let name = r.text_req(&["name", "nome"], 200);
    let relationship = if staff {
        None
    } else {
        r.text(&["relationship", "parentesco"], 60)
    };
    let email = r.text(&["email"], 254);
    if email
        .as_deref()
        .is_some_and(|e| !e.contains('@') || e.contains(' '))
    {
        r.error("email", "not an e-mail address");
    }
    let phone = r.text(&["phone", "telefone", "celular"], 40).and_then(|p| {
        let n = normalize_phone(&p);
        if n.is_none() {
            r.error(
                "phone",
                "not a phone number (E.164 like +5511999990000, or (11) 99999-0000)",
            );
        }
        n
    });
    let push = if staff {
        None
    } else {
        r.text(&["push_token"], 4096)
    };
    let pref = r.value(&["preferred_channels", "canais"]);
    let preferred = channels(&mut r, pref);
    r.finish();
    (errors.len() == before).then(|| Contact {
        code,
        name: name.unwrap_or_default(),
        relationship: relationship.unwrap_or_default(),
        email,
        phone,
        push_token: push,
        preferred,
    })
}

fn read(rows: &Rows, errors: &mut Vec<RowError>) -> Vec<Student> {
    let mut out = Vec::new();
    let mut seen = SeenKeys::default();
    for (row, line, map) in &rows.items {
        let before = errors.len();
        let mut r = Reader::new(*row, *line, "", map, errors);
        let registration = r.text_req(&["registration", "matricula", "matrícula"], 64);
        let name = r.text_req(&["name", "nome"], 200);
        let birth_date = r.date(&["birth_date", "nascimento", "data_nascimento"]);
        let left_on = r.date(&["left_on", "saida", "saída"]);
        let active = r.boolean(&["active", "ativo"]).unwrap_or(left_on.is_none());
        let list = r.value(&["guardians", "responsaveis", "responsáveis"]);
        r.finish();
        let guardians = match list {
            None => None,
            Some(Value::Array(items)) => {
                let mut gs = Vec::new();
                let mut names = HashSet::new();
                for (i, g) in items.iter().enumerate() {
                    let prefix = format!("guardians[{i}].");
                    let Some(m) = g.as_object() else {
                        errors.push(RowError {
                            row: *row,
                            line: *line,
                            field: format!("guardians[{i}]"),
                            message: "must be an object".into(),
                        });
                        continue;
                    };
                    if let Some(Contact {
                        name,
                        relationship,
                        email,
                        phone,
                        push_token,
                        preferred,
                        ..
                    }) = person(*row, *line, &prefix, m, errors, false)
                    {
                        if !names.insert(name.clone()) {
                            errors.push(RowError {
                                row: *row,
                                line: *line,
                                field: format!("guardians[{i}].name"),
                                message: "two guardians with the same name".into(),
                            });
                        }
                        gs.push(Guardian {
                            name,
                            relationship,
                            email,
                            phone,
                            push_token,
                            preferred,
                        });
                    }
                }
                Some(gs)
            }
            Some(_) => {
                errors.push(RowError {
                    row: *row,
                    line: *line,
                    field: "guardians".into(),
                    message: "must be a list".into(),
                });
                None
            }
        };
        if errors.len() > before {
            continue;
        }
        let registration = registration.unwrap_or_default();
        if let Some(e) = seen.repeat(
            registration.clone(),
            *row,
            *line,
            "registration",
            "registration",
        ) {
            errors.push(e);
            continue;
        }
        out.push(Student {
            registration,
            name: name.unwrap_or_default(),
            birth_date,
            active,
            left_on,
            guardians,
        });
    }
    out
}

/// One student to write, by registration (matrícula).
#[derive(Clone, Debug)]
pub struct StudentRow {
    pub registration: String,
    /// `None`: a new student is named by the registration until a name comes.
    pub name: Option<String>,
    /// `None` keeps a birth date already known.
    pub birth_date: Option<NaiveDate>,
    pub active: bool,
    pub left_on: Option<NaiveDate>,
}

/// How [`upsert`] treats a student already on file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Write {
    /// The school's roster (ingestion): name, `active` and `left_on` replace
    /// what is stored.
    Roster,
    /// A document saw the student: a new one is created (active); a known
    /// one takes the document's name when it gave one, and keeps whether
    /// they are still enrolled.
    Sighting,
}

/// Upserts students on (tenant, registration); returns `(id, registration,
/// inserted)` per row. Ingestion and document extraction both write
/// students through here.
pub async fn upsert(
    ex: impl PgExecutor<'_>,
    tenant: Uuid,
    rows: &[StudentRow],
    write: Write,
) -> Result<Vec<(Uuid, String, bool)>, sqlx::Error> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    // A row without a name is inserted named by its registration. In a
    // sighting that stand-in never replaces a stored name: `excluded` only
    // carries the inserted values, so the stand-in is how the row says "no name".
    sqlx::query_as(
        "insert into students (id, tenant_id, registration, name, birth_date, active, left_on)
         select i, $1, r, coalesce(n, r), b, a, l
         from unnest($2::uuid[], $3::text[], $4::text[], $5::date[], $6::bool[], $7::date[]) as v(i, r, n, b, a, l)
         on conflict (tenant_id, registration) do update set
             name = case when $8 or excluded.name <> excluded.registration then excluded.name
                         else students.name end,
             birth_date = coalesce(excluded.birth_date, students.birth_date),
             active = case when $8 then excluded.active else students.active end,
             left_on = case when $8 then excluded.left_on else students.left_on end,
             updated_at = now()
         returning id, registration, (xmax = 0)",
    )
    .bind(tenant)
    .bind(rows.iter().map(|_| Uuid::now_v7()).collect::<Vec<_>>())
    .bind(rows.iter().map(|s| s.registration.as_str()).collect::<Vec<_>>())
    .bind(rows.iter().map(|s| s.name.as_deref()).collect::<Vec<_>>())
    .bind(rows.iter().map(|s| s.birth_date).collect::<Vec<_>>())
    .bind(rows.iter().map(|s| s.active).collect::<Vec<_>>())
    .bind(rows.iter().map(|s| s.left_on).collect::<Vec<_>>())
    .bind(write == Write::Roster)
    .fetch_all(ex)
    .await
}

/// Whether `id` is one of `tenant`'s students.
pub async fn exists(ex: impl PgExecutor<'_>, tenant: Uuid, id: Uuid) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("select exists (select 1 from students where tenant_id = $1 and id = $2)")
        .bind(tenant)
        .bind(id)
        .fetch_one(ex)
        .await
}

/// Checks every row, then writes students and guardians in one transaction (or nothing).
pub async fn ingest(pool: &PgPool, tenant: Uuid, rows: &Rows) -> Result<Ingested, IngestError> {
    let mut errors = Vec::new();
    let students = read(rows, &mut errors);
    if !errors.is_empty() {
        errors.sort_by_key(|e| e.row);
        return Err(IngestError::Invalid(errors));
    }
    let rows: Vec<StudentRow> = students
        .iter()
        .map(|s| StudentRow {
            registration: s.registration.clone(),
            name: Some(s.name.clone()),
            birth_date: s.birth_date,
            active: s.active,
            left_on: s.left_on,
        })
        .collect();
    let mut tx = pool.begin().await?;
    let written = upsert(&mut *tx, tenant, &rows, Write::Roster).await?;
    let id_of: HashMap<&str, Uuid> = written.iter().map(|w| (w.1.as_str(), w.0)).collect();

    // Guardians of the students that listed them: the list replaces what was there.
    let listed: Vec<Uuid> = students
        .iter()
        .filter(|s| s.guardians.is_some())
        .map(|s| id_of[s.registration.as_str()])
        .collect();
    let gs: Vec<(Uuid, &Guardian)> = students
        .iter()
        .filter_map(|s| {
            s.guardians
                .as_ref()
                .map(|g| (id_of[s.registration.as_str()], g))
        })
        .flat_map(|(id, g)| g.iter().map(move |g| (id, g)))
        .collect();
    if !listed.is_empty() {
        sqlx::query(
            "delete from guardians g
             where g.tenant_id = $1 and g.student_id = any($2)
               and not exists (select 1 from unnest($3::uuid[], $4::text[]) as v(s, n) where v.s = g.student_id and v.n = g.name)",
        )
        .bind(tenant)
        .bind(&listed)
        .bind(gs.iter().map(|g| g.0).collect::<Vec<_>>())
        .bind(gs.iter().map(|g| g.1.name.clone()).collect::<Vec<_>>())
        .execute(&mut *tx)
        .await?;
    }
    if !gs.is_empty() {
        sqlx::query(
            "insert into guardians (id, tenant_id, student_id, name, relationship, email, phone, push_token, preferred_channels)
             select i, $1, s, n, r, e, p, t, coalesce(string_to_array(nullif(c, ''), ','), '{}')
             from unnest($2::uuid[], $3::uuid[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[])
                  as v(i, s, n, r, e, p, t, c)
             on conflict (tenant_id, student_id, name) do update set
                 relationship = excluded.relationship, email = excluded.email, phone = excluded.phone,
                 push_token = excluded.push_token, preferred_channels = excluded.preferred_channels, updated_at = now()",
        )
        .bind(tenant)
        .bind(gs.iter().map(|_| Uuid::now_v7()).collect::<Vec<_>>())
        .bind(gs.iter().map(|g| g.0).collect::<Vec<_>>())
        .bind(gs.iter().map(|g| g.1.name.clone()).collect::<Vec<_>>())
        .bind(gs.iter().map(|g| g.1.relationship.clone()).collect::<Vec<_>>())
        .bind(gs.iter().map(|g| g.1.email.clone()).collect::<Vec<_>>())
        .bind(gs.iter().map(|g| g.1.phone.clone()).collect::<Vec<_>>())
        .bind(gs.iter().map(|g| g.1.push_token.clone()).collect::<Vec<_>>())
        .bind(gs.iter().map(|g| g.1.preferred.join(",")).collect::<Vec<_>>())
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    let flags: Vec<bool> = written.iter().map(|w| w.2).collect();
    let (inserted, updated) = tally(&flags);
    Ok(Ingested {
        rows: students.len(),
        inserted,
        updated,
        students: super::unique(written.iter().map(|w| w.0).collect()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn brazilian_phones_become_e164() {
        assert_eq!(
            normalize_phone("(11) 99999-0000").as_deref(),
            Some("+5511999990000")
        );
        assert_eq!(
            normalize_phone("+55 11 3333-4444").as_deref(),
            Some("+551133334444")
        );
        assert_eq!(normalize_phone("123"), None);
        assert_eq!(normalize_phone("ana@x"), None);
    }
}
