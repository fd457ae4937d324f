//! Templates and campaigns: create, read, list, and the state machine.
//!
//! ```text
//! draft ──schedule──► scheduled ──(start_at: the dispatch job)──► running ⇄ paused
//!   └────────start────────────────────────────────────────────────► running
//! running ──(nothing left)──► completed      running|paused ──► failed (reason)
//! draft|scheduled|running|paused ──cancel──► cancelled (the rest of the recipients too)
//! ```
//!
//! Every move is one guarded `update … where state = any(from)`, so two
//! callers (two api-lite replicas, a user and the quality guard) cannot both
//! win; the loser learns the current state (HTTP 409 names it). Starting
//! freezes the audience in the same transaction as the move, and pushes the
//! dispatch job after the commit.

use chrono::Utc;
use sqlx::PgPool;
use uuid::Uuid;

use super::model::{check_parameters, Audience, Campaign, CampaignInput, Template, TemplateInput};
use super::{audience, dispatch};
use crate::engine::Engine;
use crate::kinds::FieldError;

#[derive(Debug, thiserror::Error)]
pub enum CampaignError {
    #[error("{0}")]
    Invalid(#[from] FieldError),
    #[error("not found")]
    NotFound,
    /// The move is not allowed from the current state (named).
    #[error("campaign is {0}")]
    State(String),
    #[error("postgres: {0}")]
    Db(#[from] sqlx::Error),
    #[error("engine: {0}")]
    Engine(#[from] crate::engine::EngineError),
}

const TEMPLATE_COLS: &str =
    "id, name, language, category, body, parameters, components, created_at";
pub const CAMPAIGN_COLS: &str = "id, tenant_id, name, state, state_reason, sender_phone_number_id, template_id, \
    parameters, audience, start_at, window_start_minute, window_end_minute, rate_per_second, effective_rate, \
    min_delay_ms, throughput, dispatch_seq, exclusions, recipients_count, created_at, updated_at, started_at, finished_at";

/// Registers (or replaces) a template by name and language.
pub async fn put_template(
    pg: &PgPool,
    tenant: Uuid,
    t: &TemplateInput,
) -> Result<Template, CampaignError> {
    t.validate()?;
    Ok(sqlx::query_as(&format!(
        "insert into whatsapp_templates (id, tenant_id, name, language, category, body, parameters, components) \
         values ($1, $2, $3, $4, $5, $6, $7, $8) on conflict (tenant_id, name, language) do update set \
         category = excluded.category, body = excluded.body, parameters = excluded.parameters, \
         components = excluded.components, updated_at = now() returning {TEMPLATE_COLS}"
    ))
    .bind(Uuid::now_v7())
    .bind(tenant)
    .bind(&t.name)
    .bind(&t.language)
    .bind(&t.category)
    .bind(&t.body)
    .bind(&t.parameters)
    .bind(serde_json::Value::Array(t.components.clone()))
    .fetch_one(pg)
    .await?)
}

pub async fn templates(pg: &PgPool, tenant: Uuid) -> Result<Vec<Template>, sqlx::Error> {
    sqlx::query_as(&format!(
        "select {TEMPLATE_COLS} from whatsapp_templates where tenant_id = $1 order by name, language"
    ))
    .bind(tenant)
    .fetch_all(pg)
    .await
}

pub async fn template_by_id(
    ex: impl sqlx::PgExecutor<'_>,
    id: Uuid,
) -> Result<Template, sqlx::Error> {
    sqlx::query_as(&format!(
        "select {TEMPLATE_COLS} from whatsapp_templates where id = $1"
    ))
    .bind(id)
    .fetch_one(ex)
    .await
}

/// Creates a draft after every check that can be made before sending:
/// the template is registered, its variables all mapped (and nothing else),
/// the rate within the number's throughput, the start in the future, the
/// audience not empty.
pub async fn create(
    pg: &PgPool,
    tenant: Uuid,
    input: &CampaignInput,
) -> Result<Campaign, CampaignError> {
    let window = input.validate(Utc::now())?;
    let template: Option<Template> = sqlx::query_as(&format!(
        "select {TEMPLATE_COLS} from whatsapp_templates where tenant_id = $1 and name = $2 and language = $3"
    ))
    .bind(tenant)
    .bind(&input.template)
    .bind(&input.language)
    .fetch_optional(pg)
    .await?;
    let template = template.ok_or_else(|| {
        FieldError::new(
            "template",
            format!(
                "no registered template {:?} in {}; register it with POST /v1/whatsapp-templates",
                input.template, input.language
            ),
        )
    })?;
    check_parameters(&template, &input.parameters)?;
    let counts = audience::count(
        pg,
        tenant,
        &input.audience,
        template.category == "marketing",
    )
    .await?;
    if counts.eligible == 0 {
        return Err(FieldError::new(
            "audience",
            format!(
                "no contact would receive it ({} matched, all excluded: {:?})",
                counts.matched, counts.excluded
            ),
        )
        .into());
    }
    let rate = input.rate_per_second as i32;
    Ok(sqlx::query_as(&format!(
        "insert into campaigns (id, tenant_id, name, sender_phone_number_id, template_id, parameters, audience, \
         start_at, window_start_minute, window_end_minute, rate_per_second, effective_rate, min_delay_ms, throughput) \
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11, $12, $13) returning {CAMPAIGN_COLS}"
    ))
    .bind(Uuid::now_v7())
    .bind(tenant)
    .bind(input.name.trim())
    .bind(input.sender_phone_number_id.trim())
    .bind(template.id)
    .bind(serde_json::to_value(&input.parameters).expect("json"))
    .bind(serde_json::to_value(&input.audience).expect("json"))
    .bind(input.start_at)
    .bind(window.map(|w| w.0 as i32))
    .bind(window.map(|w| w.1 as i32))
    .bind(rate)
    .bind(input.min_delay_ms as i32)
    .bind(input.throughput as i32)
    .fetch_one(pg)
    .await?)
}

pub async fn get(
    ex: impl sqlx::PgExecutor<'_>,
    tenant: Uuid,
    id: Uuid,
) -> Result<Option<Campaign>, sqlx::Error> {
    sqlx::query_as(&format!(
        "select {CAMPAIGN_COLS} from campaigns where tenant_id = $1 and id = $2"
    ))
    .bind(tenant)
    .bind(id)
    .fetch_optional(ex)
    .await
}

pub async fn list(
    pg: &PgPool,
    tenant: Uuid,
    state: Option<&str>,
    limit: i64,
) -> Result<Vec<Campaign>, sqlx::Error> {
    sqlx::query_as(&format!(
        "select {CAMPAIGN_COLS} from campaigns where tenant_id = $1 and ($2::text is null or state = $2) \
         order by created_at desc, id desc limit $3"
    ))
    .bind(tenant)
    .bind(state)
    .bind(limit)
    .fetch_all(pg)
    .await
}

/// Deletes a draft (other states keep their history: cancel them).
pub async fn delete(pg: &PgPool, tenant: Uuid, id: Uuid) -> Result<(), CampaignError> {
    let r =
        sqlx::query("delete from campaigns where tenant_id = $1 and id = $2 and state = 'draft'")
            .bind(tenant)
            .bind(id)
            .execute(pg)
            .await?;
    if r.rows_affected() == 0 {
        return Err(current(pg, tenant, id).await?);
    }
    Ok(())
}

/// The error for a move that did not happen: not found, or the state it is in.
async fn current(
    ex: impl sqlx::PgExecutor<'_>,
    tenant: Uuid,
    id: Uuid,
) -> Result<CampaignError, sqlx::Error> {
    let s: Option<String> =
        sqlx::query_scalar("select state from campaigns where tenant_id = $1 and id = $2")
            .bind(tenant)
            .bind(id)
            .fetch_optional(ex)
            .await?;
    Ok(s.map(CampaignError::State)
        .unwrap_or(CampaignError::NotFound))
}

/// One guarded move; `None` when the campaign is not in `from`.
pub async fn transition(
    ex: impl sqlx::PgExecutor<'_>,
    id: Uuid,
    from: &[&str],
    to: &str,
    reason: Option<&str>,
) -> Result<Option<Campaign>, sqlx::Error> {
    let from: Vec<String> = from.iter().map(|s| s.to_string()).collect();
    sqlx::query_as(&format!(
        "update campaigns set state = $3, state_reason = $4, updated_at = now(), \
         dispatch_seq = dispatch_seq + case when $3 = 'running' then 1 else 0 end, \
         started_at = case when $3 = 'running' then coalesce(started_at, now()) else started_at end, \
         finished_at = case when $3 in ('completed', 'cancelled', 'failed') then now() else finished_at end \
         where id = $1 and state = any($2) returning {CAMPAIGN_COLS}"
    ))
    .bind(id)
    .bind(&from)
    .bind(to)
    .bind(reason)
    .fetch_optional(ex)
    .await
}

/// Records a notice on the campaign (transitions, auto-pauses, rate changes).
pub async fn event(
    ex: impl sqlx::PgExecutor<'_>,
    id: Uuid,
    kind: &str,
    message: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("insert into campaign_events (campaign_id, kind, message) values ($1, $2, $3)")
        .bind(id)
        .bind(kind)
        .bind(message)
        .execute(ex)
        .await
        .map(|_| ())
}

/// The campaign's notices, newest first.
pub async fn events(
    pg: &PgPool,
    id: Uuid,
) -> Result<Vec<(chrono::DateTime<Utc>, String, String)>, sqlx::Error> {
    sqlx::query_as(
        "select at, kind, message from campaign_events where campaign_id = $1 order by at desc, id desc limit 100",
    )
    .bind(id)
    .fetch_all(pg)
    .await
}

/// The user's moves: `schedule`, `start`, `pause`, `resume`, `cancel`.
pub async fn act(
    pg: &PgPool,
    engine: &Engine,
    tenant: Uuid,
    id: Uuid,
    action: &str,
) -> Result<Campaign, CampaignError> {
    let c = get(pg, tenant, id).await?.ok_or(CampaignError::NotFound)?;
    let moved = match action {
        "schedule" => {
            let Some(at) = c.start_at else {
                return Err(FieldError::new("start_at", "set a start time to schedule").into());
            };
            if at < Utc::now() {
                return Err(FieldError::new("start_at", "is in the past").into());
            }
            let m = transition(pg, id, &["draft"], "scheduled", None).await?;
            if let Some(m) = &m {
                dispatch::push(engine, m, Some(at)).await?;
            }
            m
        }
        "start" => return start(pg, engine, tenant, id).await,
        "pause" => transition(pg, id, &["running"], "paused", Some("by user")).await?,
        "resume" => {
            let m = transition(pg, id, &["paused"], "running", None).await?;
            if let Some(m) = &m {
                dispatch::push(engine, m, None).await?;
            }
            m
        }
        "cancel" => {
            let mut tx = pg.begin().await?;
            let m = transition(
                &mut *tx,
                id,
                &["draft", "scheduled", "running", "paused"],
                "cancelled",
                Some("by user"),
            )
            .await?;
            if m.is_some() {
                cancel_rest(&mut tx, id).await?;
            }
            tx.commit().await?;
            if let Some(m) = &m {
                dispatch::stop_limits(engine, m.id).await?;
            }
            m
        }
        other => return Err(FieldError::new("action", format!("unknown action {other:?}")).into()),
    };
    match moved {
        Some(m) => {
            event(pg, id, action, "by user").await?;
            Ok(m)
        }
        None => Err(current(pg, tenant, id).await?),
    }
}

/// Recipients not yet handed to the provider become `cancelled`.
pub async fn cancel_rest(ex: &mut sqlx::PgConnection, id: Uuid) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query(
        "update campaign_recipients set status = 'cancelled', reason = 'campaign cancelled', updated_at = now() \
         where campaign_id = $1 and pending and status in ('queued', 'dispatched', 'deferred')",
    )
    .bind(id)
    .execute(ex)
    .await?
    .rows_affected())
}

/// `draft|scheduled → running`: freezes the audience and pushes the dispatch job.
pub async fn start(
    pg: &PgPool,
    engine: &Engine,
    tenant: Uuid,
    id: Uuid,
) -> Result<Campaign, CampaignError> {
    let mut tx = pg.begin().await?;
    let Some(c) = transition(&mut *tx, id, &["draft", "scheduled"], "running", None).await? else {
        drop(tx);
        return Err(current(pg, tenant, id).await?);
    };
    let template = template_by_id(&mut *tx, c.template_id).await?;
    let aud: Audience = serde_json::from_value(c.audience.clone())
        .map_err(|e| FieldError::new("audience", e.to_string()))?;
    let marketing = template.category == "marketing";
    let counts = audience::count(pg, tenant, &aud, marketing).await?;
    let n = audience::freeze(&mut tx, tenant, id, &aud, marketing).await?;
    if n == 0 {
        return Err(FieldError::new("audience", "no contact would receive it").into());
    }
    let c: Campaign = sqlx::query_as(&format!(
        "update campaigns set recipients_count = $2, exclusions = $3 where id = $1 returning {CAMPAIGN_COLS}"
    ))
    .bind(id)
    .bind(n as i32)
    .bind(serde_json::to_value(&counts.excluded).expect("json"))
    .fetch_one(&mut *tx)
    .await?;
    event(&mut *tx, id, "start", &format!("{n} recipients frozen")).await?;
    tx.commit().await?;
    dispatch::push(engine, &c, None).await?;
    Ok(c)
}
