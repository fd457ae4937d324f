//! Contacts: bulk upsert by the product's `external_id` (JSON or CSV), phones
//! normalised to E.164 on the way in. A row whose phone cannot be normalised
//! is still stored (phone null, `phone_error` set: previews count it as
//! `invalid_phone`) and reported back by index. Opt-outs are sticky: an
//! upsert that does not mention one never clears it (Tarefa may have recorded
//! it from a stop word or Meta's 131050); `opted_out_at` and
//! `marketing_opt_out` only ever get set by an upsert.

use serde::Serialize;
use serde_json::{Map, Value};
use sqlx::PgPool;
use utoipa::ToSchema;
use uuid::Uuid;

use super::model::{Contact, ContactInput, MAX_CONTACTS};
use super::phone;
use crate::kinds::FieldError;

/// One row the upsert could not take as given.
#[derive(Clone, Debug, Serialize, ToSchema, PartialEq)]
pub struct RowIssue {
    /// 0-based index in the JSON array, or the CSV line.
    pub row: usize,
    pub external_id: String,
    pub field: String,
    pub message: String,
}

#[derive(Clone, Debug, Default, Serialize, ToSchema)]
pub struct UpsertReport {
    pub created: u64,
    pub updated: u64,
    /// Stored, but with no usable phone (each says why).
    pub invalid_phones: Vec<RowIssue>,
}

/// Upserts `rows`. A field error (not a phone) rejects the whole request.
pub async fn upsert(
    pg: &PgPool,
    tenant: Uuid,
    rows: &[ContactInput],
) -> Result<UpsertReport, UpsertError> {
    if rows.is_empty() || rows.len() > MAX_CONTACTS {
        return Err(FieldError::new("contacts", format!("1 to {MAX_CONTACTS} contacts")).into());
    }
    let mut seen = std::collections::HashSet::new();
    let mut report = UpsertReport::default();
    let n = rows.len();
    let (mut ids, mut ext, mut names, mut phones, mut raws, mut errs) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    let (mut tags, mut attrs, mut in_at, mut in_src, mut out_at, mut out_src, mut blocked, mut mkt) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    for (i, r) in rows.iter().enumerate() {
        r.validate(&format!("contacts[{i}]"))?;
        let id = r.external_id.trim().to_string();
        if !seen.insert(id.clone()) {
            return Err(FieldError::new(
                format!("contacts[{i}].external_id"),
                "repeated in this request",
            )
            .into());
        }
        let (p, e) = match phone::normalize(&r.phone) {
            Ok(p) => (Some(p), None),
            Err(e) => {
                report.invalid_phones.push(RowIssue {
                    row: i,
                    external_id: id.clone(),
                    field: format!("contacts[{i}].phone"),
                    message: e.to_string(),
                });
                (None, Some(e.to_string()))
            }
        };
        ids.push(Uuid::now_v7());
        ext.push(id);
        names.push(r.name.trim().to_string());
        phones.push(p);
        raws.push(r.phone.clone());
        errs.push(e);
        let mut t: Vec<String> = r.tags.iter().map(|t| t.trim().to_string()).collect();
        t.sort();
        t.dedup();
        tags.push(serde_json::json!(t));
        attrs.push(Value::Object(r.attributes.clone()));
        in_at.push(r.opted_in_at);
        in_src.push(r.opt_in_source.clone());
        out_at.push(r.opted_out_at);
        out_src.push(r.opt_out_source.clone());
        blocked.push(r.blocked);
        mkt.push(r.marketing_opt_out);
    }
    let inserted: Vec<bool> = sqlx::query_scalar(
        "insert into contacts as c (id, tenant_id, external_id, name, phone, phone_raw, phone_error, tags, attributes, \
           opted_in_at, opt_in_source, opted_out_at, opt_out_source, blocked, marketing_opt_out) \
         select id, $1, ext, name, phone, raw, err, array(select jsonb_array_elements_text(tags)), attrs, \
           in_at, in_src, out_at, out_src, blocked, mkt \
         from unnest($2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::jsonb[], $9::jsonb[], \
           $10::timestamptz[], $11::text[], $12::timestamptz[], $13::text[], $14::bool[], $15::bool[]) \
           as t(id, ext, name, phone, raw, err, tags, attrs, in_at, in_src, out_at, out_src, blocked, mkt) \
         on conflict (tenant_id, external_id) do update set name = excluded.name, phone = excluded.phone, \
           phone_raw = excluded.phone_raw, phone_error = excluded.phone_error, tags = excluded.tags, \
           attributes = excluded.attributes, \
           opted_in_at = coalesce(excluded.opted_in_at, c.opted_in_at), \
           opt_in_source = coalesce(excluded.opt_in_source, c.opt_in_source), \
           opted_out_at = coalesce(c.opted_out_at, excluded.opted_out_at), \
           opt_out_source = coalesce(c.opt_out_source, excluded.opt_out_source), \
           blocked = excluded.blocked, marketing_opt_out = c.marketing_opt_out or excluded.marketing_opt_out, \
           updated_at = now() \
         returning (xmax = 0)",
    )
    .bind(tenant)
    .bind(&ids)
    .bind(&ext)
    .bind(&names)
    .bind(&phones)
    .bind(&raws)
    .bind(&errs)
    .bind(&tags)
    .bind(&attrs)
    .bind(&in_at)
    .bind(&in_src)
    .bind(&out_at)
    .bind(&out_src)
    .bind(&blocked)
    .bind(&mkt)
    .fetch_all(pg)
    .await?;
    report.created = inserted.iter().filter(|b| **b).count() as u64;
    report.updated = inserted.len() as u64 - report.created;
    Ok(report)
}

#[derive(Debug, thiserror::Error)]
pub enum UpsertError {
    #[error("{0}")]
    Invalid(#[from] FieldError),
    #[error("postgres: {0}")]
    Db(#[from] sqlx::Error),
}

/// CSV rows → contacts. Columns: `external_id`, `name`, `phone`, `tags`
/// (separated by `|`), `blocked`, `marketing_opt_out` (`true`/`sim`/`1`),
/// `opted_out_at` (RFC 3339), and `attr.<key>` for attributes.
pub fn from_csv(text: &str) -> Result<Vec<ContactInput>, FieldError> {
    let records = crate::store::academic::csv::parse(text)
        .map_err(|e| FieldError::new("csv", e.to_string()))?;
    let mut out = Vec::with_capacity(records.len());
    for r in records {
        let get = |k: &str| r.fields.get(k).and_then(Value::as_str).unwrap_or("").trim();
        let flag = |k: &str| matches!(get(k).to_lowercase().as_str(), "true" | "sim" | "1" | "yes");
        let mut attributes = Map::new();
        for (k, v) in &r.fields {
            if let Some(key) = k.strip_prefix("attr.") {
                attributes.insert(key.to_string(), v.clone());
            }
        }
        let opted_out_at = match get("opted_out_at") {
            "" => None,
            s => Some(
                chrono::DateTime::parse_from_rfc3339(s)
                    .map_err(|_| {
                        FieldError::new(format!("line {}.opted_out_at", r.line), "RFC 3339")
                    })?
                    .with_timezone(&chrono::Utc),
            ),
        };
        out.push(ContactInput {
            external_id: get("external_id").to_string(),
            name: get("name").to_string(),
            phone: get("phone").to_string(),
            tags: get("tags")
                .split('|')
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(String::from)
                .collect(),
            attributes,
            opted_in_at: None,
            opt_in_source: None,
            opt_out_source: opted_out_at.map(|_| "csv".to_string()),
            opted_out_at,
            blocked: flag("blocked"),
            marketing_opt_out: flag("marketing_opt_out"),
        });
    }
    Ok(out)
}

pub async fn get(
    pg: &PgPool,
    tenant: Uuid,
    external_id: &str,
) -> Result<Option<Contact>, sqlx::Error> {
    sqlx::query_as(
        "select id, external_id, name, phone, phone_raw, phone_error, tags, attributes, opted_in_at, opt_in_source, \
         opted_out_at, opt_out_source, blocked, marketing_opt_out, created_at, updated_at \
         from contacts where tenant_id = $1 and external_id = $2",
    )
    .bind(tenant)
    .bind(external_id)
    .fetch_optional(pg)
    .await
}

/// Opts the tenant's contacts with `phone` out (a stop word, Meta 131050).
pub async fn opt_out_phone(
    pg: &PgPool,
    tenant: Uuid,
    phone: &str,
    source: &str,
) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query(
        "update contacts set marketing_opt_out = true, opted_out_at = coalesce(opted_out_at, now()), \
         opt_out_source = coalesce(opt_out_source, $3), updated_at = now() \
         where tenant_id = $1 and phone = $2",
    )
    .bind(tenant)
    .bind(phone)
    .bind(source)
    .execute(pg)
    .await?
    .rows_affected())
}

/// Only the marketing opt-out (Meta 131050: the user stopped marketing messages; utility still goes).
pub async fn stop_marketing(pg: &PgPool, contact: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query("update contacts set marketing_opt_out = true, updated_at = now() where id = $1")
        .bind(contact)
        .execute(pg)
        .await
        .map(|_| ())
}
