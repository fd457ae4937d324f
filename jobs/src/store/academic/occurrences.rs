//! Occurrences ingestion (`POST /v1/academic/occurrences`): disciplinary or
//! pedagogical events, keyed by the school's own id (`external_id`, CSV
//! `id`/`codigo`). Fields: `registration` (matricula), `external_id`, `kind`
//! (tipo), `severity` (gravidade, 1-5), `description` (descricao), `date` (data).

use chrono::NaiveDate;
use sqlx::PgPool;
use uuid::Uuid;

use super::fields::{Reader, SeenKeys};
use super::{resolve_students, tally, unique, IngestError, Ingested, RowError, Rows};

struct Occurrence {
    row: usize,
    line: Option<usize>,
    registration: String,
    external_id: String,
    kind: String,
    severity: i16,
    description: String,
    date: NaiveDate,
}

fn read(rows: &Rows, errors: &mut Vec<RowError>) -> Vec<Occurrence> {
    let mut out = Vec::new();
    for (row, line, map) in &rows.items {
        let before = errors.len();
        let mut r = Reader::new(*row, *line, "", map, errors);
        let registration = r.text_req(&["registration", "matricula", "matrícula"], 64);
        let external_id = r.text_req(&["external_id", "id", "codigo", "código"], 128);
        let kind = r.text_req(&["kind", "tipo"], 64);
        let severity = r.integer(&["severity", "gravidade"], 1, 5);
        let description = r
            .text(&["description", "descricao", "descrição"], 4000)
            .unwrap_or_default();
        let date = r.date(&["date", "data", "occurred_on"]);
        if severity.is_none() && !r.has("severity") && !r.has("gravidade") {
            r.error("severity", "required");
        }
        if date.is_none() && !["date", "data", "occurred_on"].iter().any(|n| r.has(n)) {
            r.error("date", "required");
        }
        r.finish();
        if errors.len() > before {
            continue;
        }
        out.push(Occurrence {
            row: *row,
            line: *line,
            registration: registration.unwrap_or_default(),
            external_id: external_id.unwrap_or_default(),
            kind: kind.unwrap_or_default(),
            severity: severity.unwrap_or_default() as i16,
            description,
            date: date.unwrap_or_default(),
        });
    }
    let mut seen = SeenKeys::default();
    for o in &out {
        let key = o.external_id.clone();
        errors.extend(seen.repeat(key, o.row, o.line, "external_id", "external_id"));
    }
    out
}

/// Checks every row, then writes them all in one transaction (or none).
pub async fn ingest(pool: &PgPool, tenant: Uuid, rows: &Rows) -> Result<Ingested, IngestError> {
    let mut errors = Vec::new();
    let occ = read(rows, &mut errors);
    let regs: Vec<_> = occ
        .iter()
        .map(|o| (o.row, o.line, o.registration.clone()))
        .collect();
    let ids = resolve_students(pool, tenant, &regs, &mut errors).await?;
    if !errors.is_empty() {
        errors.sort_by_key(|e| e.row);
        return Err(IngestError::Invalid(errors));
    }
    let students: Vec<Uuid> = occ.iter().map(|o| ids[&o.registration]).collect();
    let new_ids: Vec<Uuid> = occ.iter().map(|_| Uuid::now_v7()).collect();
    let flags: Vec<bool> = sqlx::query_scalar(
        "insert into occurrences (id, tenant_id, student_id, external_id, kind, severity, description, occurred_on, source)
         select i, $1, s, e, k, v, d, o, $2
         from unnest($3::uuid[], $4::uuid[], $5::text[], $6::text[], $7::int2[], $8::text[], $9::date[])
              as t(i, s, e, k, v, d, o)
         on conflict (tenant_id, external_id) do update set
             student_id = excluded.student_id, kind = excluded.kind, severity = excluded.severity,
             description = excluded.description, occurred_on = excluded.occurred_on, source = excluded.source
         returning (xmax = 0)",
    )
    .bind(tenant)
    .bind(rows.source().as_str())
    .bind(&new_ids)
    .bind(&students)
    .bind(occ.iter().map(|o| o.external_id.clone()).collect::<Vec<_>>())
    .bind(occ.iter().map(|o| o.kind.clone()).collect::<Vec<_>>())
    .bind(occ.iter().map(|o| o.severity).collect::<Vec<_>>())
    .bind(occ.iter().map(|o| o.description.clone()).collect::<Vec<_>>())
    .bind(occ.iter().map(|o| o.date).collect::<Vec<_>>())
    .fetch_all(pool)
    .await?;
    let (inserted, updated) = tally(&flags);
    Ok(Ingested {
        rows: occ.len(),
        inserted,
        updated,
        students: unique(students),
    })
}
