//! The set-based statements of a `campaigns.send` chunk: each touches every
//! recipient of the chunk at once (`unnest` arrays), so a chunk of 50 costs
//! about as many statements as one message did.
//!
//! - [`load`]: the chunk's recipients with their contacts (one select);
//! - [`moves`]: recipients from `dispatched` to `queued`/`skipped`/`cancelled`
//!   with a reason each (one update);
//! - [`claim`]: in one transaction, `dispatched → sending` for the
//!   recipients still `dispatched` (the guard: of two runs only one sees
//!   them) and their outbox rows written as `sending` (dedup key
//!   `campaign:<campaign>:<contact>`); a row an earlier run wrote is claimed
//!   `queued → sending` instead, or left to [`super::send`]'s mirror when it
//!   is already past `queued`. Two statements when no earlier row exists.
//! - [`record`]: the provider's answers, outbox rows and recipients together
//!   in one transaction (two updates), from `sending` only.

use sqlx::PgPool;
use uuid::Uuid;

use crate::kinds::notify::model::{MessageSpec, WhatsAppTemplate};

/// One recipient of a chunk, with what its message needs.
#[derive(sqlx::FromRow, Clone, Debug)]
pub struct Row {
    pub id: Uuid,
    pub status: String,
    pub contact_id: Uuid,
    pub phone: String,
    pub notification_id: Option<Uuid>,
    pub name: String,
    pub external_id: String,
    pub attributes: serde_json::Value,
    pub blocked: bool,
    pub opted_out: bool,
    pub marketing_opt_out: bool,
}

/// The chunk's recipients of campaign `campaign` (ids of another campaign are ignored).
pub async fn load(pg: &PgPool, campaign: Uuid, ids: &[Uuid]) -> Result<Vec<Row>, sqlx::Error> {
    sqlx::query_as(
        "select r.id, r.status, r.contact_id, r.phone, r.notification_id, c.name, c.external_id, c.attributes, \
         c.blocked, c.opted_out_at is not null as opted_out, c.marketing_opt_out \
         from campaign_recipients r join contacts c on c.id = r.contact_id \
         where r.id = any($1) and r.campaign_id = $2 order by r.id",
    )
    .bind(ids)
    .bind(campaign)
    .fetch_all(pg)
    .await
}

/// Moves `dispatched` recipients to `to` with a reason each; returns how many moved.
pub async fn moves(
    pg: &PgPool,
    ids: &[Uuid],
    to: &str,
    reasons: &[Option<String>],
) -> Result<u64, sqlx::Error> {
    if ids.is_empty() {
        return Ok(0);
    }
    Ok(sqlx::query(
        "update campaign_recipients r set status = $2, reason = coalesce(u.reason, r.reason), updated_at = now() \
         from unnest($1::uuid[], $3::text[]) as u(id, reason) \
         where r.id = u.id and r.status = 'dispatched'",
    )
    .bind(ids)
    .bind(to)
    .bind(reasons)
    .execute(pg)
    .await?
    .rows_affected())
}

/// A recipient to send to: its template values rendered.
pub struct ToSend {
    pub rid: Uuid,
    pub contact: Uuid,
    pub phone: String,
    pub template: WhatsAppTemplate,
}

/// A recipient this run claimed (`sending`, its outbox row `sending` too).
#[derive(Clone, Debug)]
pub struct Claimed {
    pub rid: Uuid,
    pub contact: Uuid,
    pub nid: Uuid,
    pub phone: String,
    pub template: WhatsAppTemplate,
}

/// What [`claim`] did: the recipients to call the provider for, and the
/// recipients now `sending` whose outbox row was already past `queued`
/// (an earlier run's; the caller mirrors them).
#[derive(Default)]
pub struct Claim {
    pub send: Vec<Claimed>,
    pub mirror: Vec<(Uuid, Uuid)>,
}

/// The outbox message of a campaign send.
pub fn message(t: &WhatsAppTemplate) -> serde_json::Value {
    serde_json::to_value(MessageSpec {
        whatsapp_template: Some(t.clone()),
        ..Default::default()
    })
    .expect("message serialises")
}

pub fn dedup_key(campaign: Uuid, contact: Uuid) -> String {
    format!("campaign:{campaign}:{contact}")
}

/// Claims the recipients and writes or claims their outbox rows, in one transaction.
pub async fn claim(
    pg: &PgPool,
    tenant: Uuid,
    campaign: Uuid,
    rows: Vec<ToSend>,
) -> Result<Claim, sqlx::Error> {
    if rows.is_empty() {
        return Ok(Claim::default());
    }
    let mut tx = pg.begin().await?;
    let rids: Vec<Uuid> = rows.iter().map(|r| r.rid).collect();
    let fresh: Vec<Uuid> = rows.iter().map(|_| Uuid::now_v7()).collect();
    // 1. The guard: only `dispatched` recipients move (row locks: a racing run waits, then sees `sending`).
    //    A recipient keeps the outbox row it already has (an earlier run's).
    let got: Vec<(Uuid, Uuid)> = sqlx::query_as(
        "update campaign_recipients r set status = 'sending', \
           notification_id = coalesce(r.notification_id, u.nid), updated_at = now() \
         from unnest($1::uuid[], $2::uuid[]) as u(id, nid) \
         where r.id = u.id and r.status = 'dispatched' returning r.id, r.notification_id",
    )
    .bind(&rids)
    .bind(&fresh)
    .fetch_all(&mut *tx)
    .await?;
    let nid_of: std::collections::HashMap<Uuid, Uuid> = got.into_iter().collect();
    let fresh_of: std::collections::HashMap<Uuid, Uuid> =
        rids.iter().copied().zip(fresh.iter().copied()).collect();
    let mut out = Claim::default();
    let (mut new_rows, mut old_rows) = (Vec::new(), Vec::new());
    for r in rows {
        let Some(&nid) = nid_of.get(&r.rid) else {
            continue; // not `dispatched` any more: another run has it
        };
        let c = Claimed {
            rid: r.rid,
            contact: r.contact,
            nid,
            phone: r.phone,
            template: r.template,
        };
        if fresh_of.get(&r.rid) == Some(&nid) {
            new_rows.push(c);
        } else {
            old_rows.push(c);
        }
    }
    // 2. New outbox rows, written as `sending` (claimed at birth). A key that
    //    exists already (written by a run that died before linking it) conflicts.
    if !new_rows.is_empty() {
        let ids: Vec<Uuid> = new_rows.iter().map(|c| c.nid).collect();
        let keys: Vec<String> = new_rows
            .iter()
            .map(|c| dedup_key(campaign, c.contact))
            .collect();
        let phones: Vec<String> = new_rows.iter().map(|c| c.phone.clone()).collect();
        let msgs: Vec<serde_json::Value> = new_rows.iter().map(|c| message(&c.template)).collect();
        let inserted: Vec<Uuid> = sqlx::query_scalar(
            "insert into notifications (id, tenant_id, dedup_key, channel, recipient, message, urgent, job_id, status, attempts) \
             select id, $2, key, 'whatsapp', rcpt, msg, false, id::text, 'sending', 1 \
             from unnest($1::uuid[], $3::text[], $4::text[], $5::jsonb[]) as t(id, key, rcpt, msg) \
             on conflict (tenant_id, dedup_key) do nothing returning id",
        )
        .bind(&ids)
        .bind(tenant)
        .bind(&keys)
        .bind(&phones)
        .bind(&msgs)
        .fetch_all(&mut *tx)
        .await?;
        let inserted: std::collections::HashSet<Uuid> = inserted.into_iter().collect();
        let (ok, conflicted): (Vec<_>, Vec<_>) = new_rows
            .into_iter()
            .partition(|c| inserted.contains(&c.nid));
        out.send = ok;
        if !conflicted.is_empty() {
            // Link the recipients to the rows that exist.
            let keys: Vec<String> = conflicted
                .iter()
                .map(|c| dedup_key(campaign, c.contact))
                .collect();
            let existing: Vec<(String, Uuid)> = sqlx::query_as(
                "select dedup_key, id from notifications where tenant_id = $1 and dedup_key = any($2)",
            )
            .bind(tenant)
            .bind(&keys)
            .fetch_all(&mut *tx)
            .await?;
            let by_key: std::collections::HashMap<String, Uuid> = existing.into_iter().collect();
            let mut fix_r = Vec::new();
            let mut fix_n = Vec::new();
            for mut c in conflicted {
                if let Some(&id) = by_key.get(&dedup_key(campaign, c.contact)) {
                    c.nid = id;
                    fix_r.push(c.rid);
                    fix_n.push(id);
                    old_rows.push(c);
                }
            }
            sqlx::query(
                "update campaign_recipients r set notification_id = u.nid \
                 from unnest($1::uuid[], $2::uuid[]) as u(id, nid) where r.id = u.id",
            )
            .bind(&fix_r)
            .bind(&fix_n)
            .execute(&mut *tx)
            .await?;
        }
    }
    // 3. Rows an earlier run wrote: `queued` ones are claimed; the others are mirrored.
    if !old_rows.is_empty() {
        let ids: Vec<Uuid> = old_rows.iter().map(|c| c.nid).collect();
        let claimed: Vec<Uuid> = sqlx::query_scalar(
            "update notifications set status = 'sending', attempts = attempts + 1, updated_at = now() \
             where id = any($1) and status = 'queued' returning id",
        )
        .bind(&ids)
        .fetch_all(&mut *tx)
        .await?;
        let claimed: std::collections::HashSet<Uuid> = claimed.into_iter().collect();
        for c in old_rows {
            if claimed.contains(&c.nid) {
                out.send.push(c);
            } else {
                out.mirror.push((c.rid, c.nid));
            }
        }
    }
    tx.commit().await?;
    Ok(out)
}

/// One provider answer, as the recipient's and the outbox row's next states.
#[derive(Clone, Debug)]
pub struct Move {
    pub rid: Uuid,
    pub nid: Uuid,
    /// The recipient's next status (`sent`, `failed`, `unknown`, `deferred`, `queued`, `dispatched`).
    pub recipient: &'static str,
    /// The outbox row's next status (`sent`, `failed`, `unknown`, `queued`).
    pub outbox: &'static str,
    pub wamid: Option<String>,
    pub reason: Option<String>,
    pub code: Option<i32>,
}

/// Records the answers: outbox rows and recipients from `sending` (a `sent`
/// also from `unknown`: a second run may have given up on a call the first
/// then saw answered), in one transaction. `deferred` recipients wait `defer_hours`.
pub async fn record(pg: &PgPool, moves: &[Move], defer_hours: u32) -> Result<(), sqlx::Error> {
    if moves.is_empty() {
        return Ok(());
    }
    let rids: Vec<Uuid> = moves.iter().map(|m| m.rid).collect();
    let nids: Vec<Uuid> = moves.iter().map(|m| m.nid).collect();
    let rto: Vec<&str> = moves.iter().map(|m| m.recipient).collect();
    let nto: Vec<&str> = moves.iter().map(|m| m.outbox).collect();
    let wamids: Vec<Option<String>> = moves.iter().map(|m| m.wamid.clone()).collect();
    let reasons: Vec<Option<String>> = moves.iter().map(|m| m.reason.clone()).collect();
    let codes: Vec<Option<i32>> = moves.iter().map(|m| m.code).collect();
    let mut tx = pg.begin().await?;
    sqlx::query(
        "update notifications n set status = u.st, updated_at = now(), \
           provider_message_id = case when u.st = 'sent' then u.wamid else n.provider_message_id end, \
           last_error = case when u.st = 'sent' then null else coalesce(u.reason, n.last_error) end, \
           sent_at = case when u.st = 'sent' then now() else n.sent_at end \
         from unnest($1::uuid[], $2::text[], $3::text[], $4::text[]) as u(id, st, wamid, reason) \
         where n.id = u.id and (n.status = 'sending' or (u.st = 'sent' and n.status = 'unknown'))",
    )
    .bind(&nids)
    .bind(&nto)
    .bind(&wamids)
    .bind(&reasons)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "update campaign_recipients r set status = u.st, updated_at = now(), \
           wamid = case when u.st = 'sent' then u.wamid else r.wamid end, \
           sent_at = case when u.st = 'sent' then now() else r.sent_at end, \
           reason = case when u.st = 'sent' then null else coalesce(u.reason, r.reason) end, \
           error_code = coalesce(u.code, r.error_code), \
           failed_at = case when u.st = 'failed' then now() else r.failed_at end, \
           deferred_until = case when u.st = 'deferred' then now() + make_interval(hours => $6) else r.deferred_until end \
         from unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::int4[]) as u(id, st, wamid, reason, code) \
         where r.id = u.id and (r.status = 'sending' or (u.st = 'sent' and r.status = 'unknown'))",
    )
    .bind(&rids)
    .bind(&rto)
    .bind(&wamids)
    .bind(&reasons)
    .bind(&codes)
    .bind(defer_hours as i32)
    .execute(&mut *tx)
    .await?;
    tx.commit().await
}
