//! Audiences in SQL: an [`Audience`] becomes a `where` clause over
//! `contacts c` (binds, never string-pasted values), and every contact it
//! matches gets one verdict — eligible, or excluded with a reason, in this
//! order: `blocked`, `opted_out`, `marketing_opt_out` (marketing templates
//! only), `invalid_phone`, `duplicate_phone` (a second contact with a phone
//! already taken: the oldest contact keeps it). Preview counts the verdicts;
//! freezing inserts the eligible ones as recipients in one `insert … select`.

use sqlx::{PgPool, Postgres, QueryBuilder};
use uuid::Uuid;

use super::model::{Audience, Condition, Match};

/// Exclusion reasons, in the order they are decided.
pub const REASONS: [&str; 5] = [
    "blocked",
    "opted_out",
    "marketing_opt_out",
    "invalid_phone",
    "duplicate_phone",
];

/// Appends ` and (<audience>)` to a query over `contacts c`.
pub fn push_filter(qb: &mut QueryBuilder<'_, Postgres>, a: &Audience) {
    match a {
        Audience::All => {}
        Audience::Tags {
            any_of,
            all_of,
            none_of,
        } => {
            if !any_of.is_empty() {
                qb.push(" and c.tags && ").push_bind(any_of.clone());
            }
            if !all_of.is_empty() {
                qb.push(" and c.tags @> ").push_bind(all_of.clone());
            }
            if !none_of.is_empty() {
                qb.push(" and not (c.tags && ")
                    .push_bind(none_of.clone())
                    .push(")");
            }
        }
        Audience::List { external_ids } => {
            qb.push(" and c.external_id = any(")
                .push_bind(external_ids.clone())
                .push(")");
        }
        Audience::Segment { conditions, match_ } => {
            let glue = match match_ {
                Match::All => " and ",
                Match::Any => " or ",
            };
            qb.push(" and (");
            for (i, c) in conditions.iter().enumerate() {
                if i > 0 {
                    qb.push(glue);
                }
                push_condition(qb, c);
            }
            qb.push(")");
        }
    }
}

fn text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        v => v.to_string(),
    }
}

/// One condition (already validated by `Condition::validate`).
fn push_condition(qb: &mut QueryBuilder<'_, Postgres>, c: &Condition) {
    if c.field == "tags" {
        if c.op == "not_has" {
            qb.push("not ");
        }
        qb.push("(")
            .push_bind(text(&c.value))
            .push(" = any(c.tags))");
        return;
    }
    // The value as text: `name`, or `attributes->>key`.
    let key = c.field.strip_prefix("attributes.").map(str::to_string);
    let lhs = |qb: &mut QueryBuilder<'_, Postgres>| match &key {
        Some(k) => {
            qb.push("(c.attributes->>").push_bind(k.clone()).push(")");
        }
        None => {
            qb.push("c.name");
        }
    };
    match c.op.as_str() {
        "exists" | "not_exists" => {
            qb.push("(");
            lhs(qb);
            qb.push(if c.op == "exists" {
                " is not null and "
            } else {
                " is null or "
            });
            lhs(qb);
            qb.push(if c.op == "exists" {
                " <> '')"
            } else {
                " = '')"
            });
        }
        "eq" => {
            lhs(qb);
            qb.push(" = ").push_bind(text(&c.value));
        }
        "ne" => {
            lhs(qb);
            qb.push(" is distinct from ").push_bind(text(&c.value));
        }
        "contains" => {
            qb.push("strpos(lower(");
            lhs(qb);
            qb.push("), lower(")
                .push_bind(text(&c.value))
                .push(")) > 0");
        }
        "in" => {
            let vals: Vec<String> = c
                .value
                .as_array()
                .map(|a| a.iter().map(text).collect())
                .unwrap_or_default();
            lhs(qb);
            qb.push(" = any(").push_bind(vals).push(")");
        }
        op => {
            // Numeric comparisons; a value that is not a number never matches.
            let sym = match op {
                "gt" => ">",
                "gte" => ">=",
                "lt" => "<",
                _ => "<=",
            };
            qb.push("(case when ");
            lhs(qb);
            qb.push(" ~ '^-?[0-9]+(\\.[0-9]+)?$' then (");
            lhs(qb);
            qb.push(")::numeric end) ")
                .push(sym)
                .push(" ")
                .push_bind(c.value.as_f64().unwrap_or(0.0))
                .push("::numeric");
        }
    }
}

/// `with verdicts as (…)`: every matched contact with `reason` (null = eligible).
fn push_verdicts(qb: &mut QueryBuilder<'_, Postgres>, tenant: Uuid, a: &Audience, marketing: bool) {
    qb.push(
        "with matched as (select c.id, c.phone, c.name, c.external_id, c.attributes, c.created_at, \
         case when c.blocked then 'blocked' when c.opted_out_at is not null then 'opted_out' \
         when c.marketing_opt_out and ",
    )
    .push_bind(marketing)
    .push(
        " then 'marketing_opt_out' when c.phone is null then 'invalid_phone' end as why \
         from contacts c where c.tenant_id = ",
    )
    .push_bind(tenant);
    push_filter(qb, a);
    qb.push(
        "), verdicts as (select *, case when why is null and row_number() over \
         (partition by phone, why is null order by created_at, id) > 1 then 'duplicate_phone' \
         else why end as reason from matched) ",
    );
}

/// Counts of a preview: eligible and excluded by reason.
#[derive(Clone, Debug, Default, serde::Serialize, utoipa::ToSchema)]
pub struct Counts {
    pub matched: i64,
    pub eligible: i64,
    #[schema(value_type = Object)]
    pub excluded: std::collections::BTreeMap<String, i64>,
}

/// Counts the audience's verdicts.
pub async fn count(
    pg: &PgPool,
    tenant: Uuid,
    a: &Audience,
    marketing: bool,
) -> Result<Counts, sqlx::Error> {
    let mut qb = QueryBuilder::new("");
    push_verdicts(&mut qb, tenant, a, marketing);
    qb.push("select reason, count(*) from verdicts group by reason");
    let rows: Vec<(Option<String>, i64)> = qb.build_query_as().fetch_all(pg).await?;
    let mut c = Counts::default();
    for r in REASONS {
        c.excluded.insert(r.to_string(), 0);
    }
    for (reason, n) in rows {
        c.matched += n;
        match reason {
            None => c.eligible = n,
            Some(r) => {
                c.excluded.insert(r, n);
            }
        }
    }
    Ok(c)
}

/// (name, phone, external_id, attributes) of a sampled contact.
pub type SampleRow = (String, String, String, serde_json::Value);

/// A sample of eligible contacts.
pub async fn sample(
    pg: &PgPool,
    tenant: Uuid,
    a: &Audience,
    marketing: bool,
    n: i64,
) -> Result<Vec<SampleRow>, sqlx::Error> {
    let mut qb = QueryBuilder::new("");
    push_verdicts(&mut qb, tenant, a, marketing);
    qb.push("select name, phone, external_id, attributes from verdicts where reason is null order by created_at, id limit ")
        .push_bind(n);
    qb.build_query_as().fetch_all(pg).await
}

/// Freezes the eligible contacts into `campaign_recipients` (one statement);
/// returns how many rows it wrote. Safe to repeat: existing rows stay.
pub async fn freeze(
    ex: &mut sqlx::PgConnection,
    tenant: Uuid,
    campaign: Uuid,
    a: &Audience,
    marketing: bool,
) -> Result<u64, sqlx::Error> {
    let mut qb = QueryBuilder::new("");
    push_verdicts(&mut qb, tenant, a, marketing);
    qb.push("insert into campaign_recipients (id, campaign_id, tenant_id, contact_id, phone) select gen_random_uuid(), ")
        .push_bind(campaign)
        .push(", ")
        .push_bind(tenant)
        .push(", id, phone from verdicts where reason is null on conflict do nothing");
    Ok(qb.build().execute(ex).await?.rows_affected())
}
