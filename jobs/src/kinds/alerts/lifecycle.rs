//! One evaluation, in one transaction per tenant (an advisory lock keeps two
//! evaluations of a tenant from interleaving):
//!
//! 1. `eval_scope` ← the tenant's students, narrowed to the payload's
//!    students and/or classes (current enrollments). A student who left the
//!    institution (`active = false`, or `left_on` passed) stays in the scope
//!    but no rule holds for them, so their alerts resolve.
//! 2. `eval_grades` / `eval_att` ← the year's grades and attendance per
//!    student and subject, once; `eval_hits` ← each enabled rule's
//!    condition, one statement per leaf (`eval.rs`).
//! 3. The alerts follow the hits, set-based: a resolved alert that holds
//!    again is re-opened (episode + 1), a held one whose details changed is
//!    refreshed (details, `changed_at`), a new key is opened, and an open or acknowledged alert
//!    of an evaluated (or disabled) rule that no longer holds is resolved.
//!    Each change writes an `alert_events` row.
//! 4. The open alerts whose episode has not been notified yet are returned
//!    for `notify.rs`, which runs after the commit.

use chrono::{DateTime, Datelike, Utc};
use serde::Serialize;
use sqlx::PgPool;
use uuid::Uuid;

use super::eval::{self, Frame};
use super::sql::{self, RuleRow};
use super::EvaluatePayload;
use crate::store::tenants;

/// `work_mem` of the evaluation's transaction: per sort or hash of each
/// process, so with PostgreSQL's default 2 parallel workers a statement may
/// take a few times this. 256 MB keeps a 100,000-student school's
/// aggregates in memory (at 128 MB the grade pivot's sorts spill to disk
/// and take 40 % longer).
const EVAL_WORK_MEM: &str = "256MB";

/// Why an evaluation failed.
#[derive(Debug, thiserror::Error)]
pub enum AlertsError {
    #[error("postgres: {0}")]
    Db(#[from] sqlx::Error),
    #[error("engine: {0}")]
    Engine(#[from] crate::engine::EngineError),
    #[error("no tenant {0}")]
    NoTenant(Uuid),
}

/// What one evaluation did (the job's result).
#[derive(Clone, Debug, Default, Serialize)]
pub struct Evaluation {
    pub year: i32,
    /// The day evaluated, in the tenant's zone.
    pub as_of: chrono::NaiveDate,
    /// Students in the scope (active or not).
    pub students: i64,
    pub rules: usize,
    /// Alerts that hold now (rule, student, scope).
    pub holding: i64,
    pub opened: u64,
    pub reopened: u64,
    pub resolved: u64,
    /// Messages written to the notifications outbox.
    pub messages: usize,
    /// Alerts notified in this run.
    pub notified: usize,
    /// Alerts left silent by their rule's cooldown.
    pub cooldown_skipped: usize,
    /// Recipients without a usable contact.
    pub unreachable: usize,
    pub evaluate_ms: u64,
    pub notify_ms: u64,
}

/// An open alert whose current episode was not notified yet.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Pending {
    pub id: Uuid,
    pub rule_id: Uuid,
    pub student_id: Uuid,
    pub scope: String,
    pub episode: i32,
    pub details: serde_json::Value,
    pub notified_at: Option<DateTime<Utc>>,
    pub student_name: String,
    pub registration: String,
}

/// Steps 1-4 for `tenant` at `now`; returns the rules evaluated and the alerts to notify.
pub async fn evaluate(
    pool: &PgPool,
    tenant: Uuid,
    p: &EvaluatePayload,
    now: DateTime<Utc>,
) -> Result<(Evaluation, Vec<RuleRow>, Vec<Pending>), AlertsError> {
    let started = std::time::Instant::now();
    let t = tenants::get(pool, tenant)
        .await?
        .ok_or(AlertsError::NoTenant(tenant))?;
    let tz = tenants::parse_timezone(&t.timezone).unwrap_or(chrono_tz::America::Sao_Paulo);
    let today = now.with_timezone(&tz).date_naive();
    let frame = Frame {
        tenant,
        year: p.year.unwrap_or(today.year()),
        today,
    };
    let all_rules = sql::rules_for_evaluation(pool, tenant, p.rule_ids.as_deref()).await?;
    let rules: Vec<RuleRow> = all_rules.iter().filter(|r| r.enabled).cloned().collect();
    // Alerts of these rules may resolve: the evaluated ones and the disabled ones.
    let rule_ids: Vec<Uuid> = all_rules.iter().map(|r| r.id).collect();

    let mut tx = pool.begin().await?;
    sqlx::query(
        "select pg_advisory_xact_lock(hashtextextended('alerts.evaluate:' || $1::text, 0))",
    )
    .bind(tenant)
    .execute(&mut *tx)
    .await?;
    // The statements below are few, large and planned once: JIT compiling
    // them costs more than it saves, and their aggregates and hash joins over
    // millions of rows want memory rather than temp files.
    sqlx::query("set local jit = off").execute(&mut *tx).await?;
    sqlx::query(&format!("set local work_mem = '{EVAL_WORK_MEM}'"))
        .execute(&mut *tx)
        .await?;
    eval::create_temp_tables(&mut tx).await?;
    let students = sqlx::query(
        "insert into eval_scope (student_id, active)
         select s.id, s.active and (s.left_on is null or s.left_on > $4)
         from students s
         where s.tenant_id = $1 and ($2::uuid[] is null or s.id = any($2))
           and ($3::uuid[] is null or exists (
                 select 1 from enrollments e where e.student_id = s.id and e.class_id = any($3)
                   and (e.ended_on is null or e.ended_on >= $4) and (e.started_on is null or e.started_on <= $4)))",
    )
    .bind(tenant)
    .bind(p.student_ids.as_deref())
    .bind(p.class_ids.as_deref())
    .bind(today)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    sqlx::query("analyze eval_scope").execute(&mut *tx).await?;

    let conditions: Vec<&super::Condition> = rules.iter().map(|r| &r.condition).collect();
    let whole_tenant = p.student_ids.is_none() && p.class_ids.is_none();
    eval::build_bases(&mut tx, frame, whole_tenant, &conditions).await?;
    let mut node = 1;
    let mut roots = Vec::with_capacity(rules.len());
    for r in &rules {
        roots.push(node);
        node = eval::run(&mut tx, frame, r.id, &r.condition, node).await?;
    }
    sqlx::query("create index on eval_hits (rule_id, student_id, scope)")
        .execute(&mut *tx)
        .await?;
    sqlx::query("analyze eval_hits").execute(&mut *tx).await?;
    let holding: i64 = sqlx::query_scalar("select count(*) from eval_hits where node = any($1)")
        .bind(&roots)
        .fetch_one(&mut *tx)
        .await?;

    // The hits that change something: new keys, resolved alerts holding
    // again, held alerts whose details moved. In the steady state this is a
    // handful of rows, and the writes below touch only those.
    sqlx::query(
        "insert into eval_diff (rule_id, student_id, scope, details, alert_id, status)
         select h.rule_id, h.student_id, h.scope, h.details, a.id, a.status
         from eval_hits h
         left join alerts a on a.tenant_id = $1 and a.rule_id = h.rule_id and a.student_id = h.student_id
                            and a.scope = h.scope
         where h.node = any($2) and (a.id is null or a.status = 'resolved' or a.details is distinct from h.details)",
    )
    .bind(tenant)
    .bind(&roots)
    .execute(&mut *tx)
    .await?;

    let reopened = sqlx::query(
        "with re as (
             update alerts a set status = 'open', episode = a.episode + 1, opened_at = $2, changed_at = $2,
                    resolved_at = null, acknowledged_at = null, acknowledged_by = null,
                    details = d.details, unreachable = '[]'::jsonb
             from eval_diff d
             where a.id = d.alert_id and d.status = 'resolved' and a.status = 'resolved'
             returning a.id, a.episode, a.details)
         insert into alert_events (tenant_id, alert_id, event, episode, details, at)
         select $1, id, 'reopened', episode, details, $2 from re",
    )
    .bind(tenant)
    .bind(now)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    sqlx::query(
        "update alerts a set details = d.details, changed_at = $1
         from eval_diff d
         where a.id = d.alert_id and d.status <> 'resolved' and a.status <> 'resolved'",
    )
    .bind(now)
    .execute(&mut *tx)
    .await?;
    let opened = sqlx::query(
        "with n as (
             insert into alerts (id, tenant_id, rule_id, student_id, scope, status, details, opened_at, changed_at)
             select gen_random_uuid(), $1, d.rule_id, d.student_id, d.scope, 'open', d.details, $2, $2
             from eval_diff d where d.alert_id is null
             on conflict (tenant_id, rule_id, student_id, scope) do nothing
             returning id, episode, details)
         insert into alert_events (tenant_id, alert_id, event, episode, details, at)
         select $1, id, 'opened', episode, details, $2 from n",
    )
    .bind(tenant)
    .bind(now)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    let resolved = sqlx::query(
        "with r as (
             update alerts a set status = 'resolved', resolved_at = $2
             where a.tenant_id = $1 and a.rule_id = any($4) and a.status <> 'resolved'
               and exists (select 1 from eval_scope sc where sc.student_id = a.student_id)
               and not exists (select 1 from eval_hits h where h.node = any($3) and h.rule_id = a.rule_id
                               and h.student_id = a.student_id and h.scope = a.scope)
             returning a.id, a.episode)
         insert into alert_events (tenant_id, alert_id, event, episode, at)
         select $1, id, 'resolved', episode, $2 from r",
    )
    .bind(tenant)
    .bind(now)
    .bind(&roots)
    .bind(&rule_ids)
    .execute(&mut *tx)
    .await?
    .rows_affected();

    let evaluated: Vec<Uuid> = rules.iter().map(|r| r.id).collect();
    let pending: Vec<Pending> = sqlx::query_as(
        "select a.id, a.rule_id, a.student_id, a.scope, a.episode, a.details, a.notified_at,
                s.name as student_name, s.registration
         from alerts a join eval_scope sc on sc.student_id = a.student_id
                       join students s on s.id = a.student_id
         where a.tenant_id = $1 and a.status = 'open' and a.notified_episode < a.episode
           and a.rule_id = any($2)
         order by a.opened_at, a.id",
    )
    .bind(tenant)
    .bind(&evaluated)
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;

    let outcome = Evaluation {
        year: frame.year,
        as_of: today,
        students: students as i64,
        rules: rules.len(),
        holding,
        opened,
        reopened,
        resolved,
        evaluate_ms: started.elapsed().as_millis() as u64,
        ..Evaluation::default()
    };
    Ok((outcome, rules, pending))
}
