//! What Meta's webhooks tell campaigns (called by `POST /v1/callbacks/whatsapp`
//! after the signature is checked):
//!
//! - `statuses[]` move recipients, and their outbox rows, forward only
//!   (one statement for both, [`apply_both`]): sent < delivered < read, and
//!   failed only before read (a late `delivered` after `read` sets
//!   `delivered_at` but leaves `read`). A status for a wamid not recorded yet
//!   (Meta may post before the send's answer is written) waits in
//!   `campaign_status_early` and is applied when it is ([`apply_early_many`]).
//! - `messages[]` from a contact mark `replied_at` on recipients sent to that
//!   phone in the last 72 h; a message that is only a stop word (`SAIR`,
//!   `PARAR`, `STOP`, `CANCELAR`, `DESCADASTRAR`, per tenant, compared
//!   without case or accents) opts the contact out.
//! - `phone_number_quality_update` (DOWNGRADE, FLAGGED) and `account_update`
//!   pause the running campaigns of the tenant whose `waba_id` it is.

use chrono::{DateTime, TimeZone, Utc};
use serde_json::Value;
use sqlx::PgPool;
use uuid::Uuid;

use super::{contacts, phone, send};

/// What one webhook changed.
#[derive(Debug, Default, serde::Serialize, PartialEq)]
pub struct Applied {
    /// Outbox rows (`notifications`) a status moved (any WhatsApp message, campaign or not).
    #[serde(skip)]
    pub outbox: u64,
    pub statuses: u64,
    pub replies: u64,
    pub opted_out: u64,
    pub paused: u64,
}

impl Applied {
    /// What a set of [`apply_statuses`] results moved (the rest starts at zero).
    pub fn from_statuses(results: &[Both]) -> Applied {
        let mut a = Applied::default();
        for b in results {
            a.outbox += b.outbox;
            a.statuses += b.recipients;
        }
        a
    }
}

/// One status of a message: (wamid, status, error code, time).
pub type Status = (String, String, Option<i32>, DateTime<Utc>);

fn ts(v: &Value) -> DateTime<Utc> {
    v.as_str()
        .and_then(|s| s.parse::<i64>().ok())
        .and_then(|s| Utc.timestamp_opt(s, 0).single())
        .unwrap_or_else(Utc::now)
}

/// The `statuses[]` of a webhook payload.
pub fn statuses(payload: &Value) -> Vec<Status> {
    statuses_with_titles(payload)
        .into_iter()
        .map(|(s, _)| s)
        .collect()
}

/// The statuses with their first error's title (what the outbox row keeps as `last_error`).
fn statuses_with_titles(payload: &Value) -> Vec<(Status, Option<String>)> {
    let mut out = Vec::new();
    for change in changes(payload) {
        for s in change["value"]["statuses"].as_array().into_iter().flatten() {
            let (Some(id), Some(st)) = (s["id"].as_str(), s["status"].as_str()) else {
                continue;
            };
            if !matches!(st, "sent" | "delivered" | "read" | "failed") {
                continue;
            }
            let code = s["errors"][0]["code"].as_i64().map(|c| c as i32);
            let title = s["errors"][0]["title"].as_str().map(String::from);
            out.push((
                (id.to_string(), st.to_string(), code, ts(&s["timestamp"])),
                title,
            ));
        }
    }
    out
}

fn changes(payload: &Value) -> Vec<&Value> {
    payload["entry"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|e| e["changes"].as_array().into_iter().flatten())
        .collect()
}

/// Is `text` one of the stop words (ignoring case, accents, spaces and punctuation)?
pub fn is_stop_word(text: &str, words: &[String]) -> bool {
    let norm = |s: &str| -> String {
        ptbr::fold(s)
            .chars()
            .filter(|c| c.is_alphanumeric())
            .collect()
    };
    let t = norm(text);
    !t.is_empty() && words.iter().any(|w| norm(w) == t)
}

/// One status with its first error's title, as [`apply_statuses`] takes them.
pub type StatusItem = (Status, Option<String>);

/// The statuses of a webhook payload with their error titles.
pub fn status_items(payload: &Value) -> Vec<StatusItem> {
    statuses_with_titles(payload)
}

/// Applies a verified webhook payload: its statuses (one transaction, see
/// [`apply_statuses`]), then its messages and quality events.
pub async fn handle(pg: &PgPool, payload: &Value) -> Result<Applied, sqlx::Error> {
    let items = status_items(payload);
    let results = apply_statuses(pg, &items).await?;
    handle_events(pg, payload, Applied::from_statuses(&results)).await
}

/// Applies statuses (of one webhook or of many gathered by api-lite) in one
/// transaction, one statement each, in wamid order so that two such batches
/// lock rows in the same order; the results come back in `items`' order.
/// Then, outside it, each status that came before its send was recorded
/// waits in `campaign_status_early` (two commits of their own, see below)
/// and `failed` ones with a meaningful code are acted on. A deadlock with a
/// concurrent writer is retried once; any other error fails the whole batch
/// (nothing was acknowledged: Meta posts it again).
pub async fn apply_statuses(pg: &PgPool, items: &[StatusItem]) -> Result<Vec<Both>, sqlx::Error> {
    if items.is_empty() {
        return Ok(Vec::new());
    }
    let mut order: Vec<usize> = (0..items.len()).collect();
    // Stable: several statuses of one message keep their arrival order.
    order.sort_by(|&x, &y| items[x].0 .0.cmp(&items[y].0 .0));
    let mut results = match apply_in_one_transaction(pg, items, &order).await {
        Err(sqlx::Error::Database(d)) if d.code().as_deref() == Some("40P01") => {
            apply_in_one_transaction(pg, items, &order).await?
        }
        r => r?,
    };
    for (i, ((wamid, st, code, at), title)) in items.iter().enumerate() {
        if results[i].early() {
            results[i] = apply_early(pg, wamid, st, title.as_deref(), *code, *at).await?;
        }
        if st == "failed" && results[i].recipients > 0 {
            failed_code(pg, wamid, *code).await?;
        }
    }
    Ok(results)
}

async fn apply_in_one_transaction(
    pg: &PgPool,
    items: &[StatusItem],
    order: &[usize],
) -> Result<Vec<Both>, sqlx::Error> {
    let mut results: Vec<Both> = items.iter().map(|_| Both::default()).collect();
    let mut tx = pg.begin().await?;
    for &i in order {
        let ((wamid, st, code, at), title) = &items[i];
        results[i] = apply_both(&mut *tx, wamid, st, title.as_deref(), *code, *at).await?;
    }
    tx.commit().await?;
    Ok(results)
}

/// A status whose message is not recorded yet: parked in
/// `campaign_status_early` (committed), then tried once more, since the send
/// may have recorded its wamid (and looked for early statuses) between the
/// two (applying a status twice changes nothing).
async fn apply_early(
    pg: &PgPool,
    wamid: &str,
    st: &str,
    title: Option<&str>,
    code: Option<i32>,
    at: DateTime<Utc>,
) -> Result<Both, sqlx::Error> {
    sqlx::query(
        "insert into campaign_status_early (wamid, status, error_code, at) values ($1, $2, $3, $4) \
         on conflict do nothing",
    )
    .bind(wamid)
    .bind(st)
    .bind(code)
    .bind(at)
    .execute(pg)
    .await?;
    let b = apply_both(pg, wamid, st, title, code, at).await?;
    if b.recipient_exists {
        sqlx::query("delete from campaign_status_early where wamid = $1 and status = $2")
            .bind(wamid)
            .bind(st)
            .execute(pg)
            .await?;
    }
    Ok(b)
}

/// The rest of a webhook: inbound messages (replies, stop words) and quality events.
pub async fn handle_events(
    pg: &PgPool,
    payload: &Value,
    mut a: Applied,
) -> Result<Applied, sqlx::Error> {
    for entry in payload["entry"].as_array().into_iter().flatten() {
        for change in entry["changes"].as_array().into_iter().flatten() {
            let v = &change["value"];
            match change["field"].as_str() {
                Some("messages") => {
                    let Some(sender) = v["metadata"]["phone_number_id"].as_str() else {
                        continue;
                    };
                    for m in v["messages"].as_array().into_iter().flatten() {
                        inbound_message(pg, sender, m, &mut a).await?;
                    }
                }
                Some("phone_number_quality_update") | Some("account_update") => {
                    let event = v["event"].as_str().unwrap_or("");
                    let bad = matches!(
                        event,
                        "DOWNGRADE"
                            | "FLAGGED"
                            | "DISABLED_UPDATE"
                            | "ACCOUNT_VIOLATION"
                            | "ACCOUNT_RESTRICTION"
                    );
                    if let (true, Some(waba)) = (bad, entry["id"].as_str()) {
                        let reason = format!(
                            "meta {}: {event}{}",
                            change["field"].as_str().unwrap_or(""),
                            v["current_limit"]
                                .as_str()
                                .map(|l| format!(" (limit {l})"))
                                .unwrap_or_default()
                        );
                        a.paused += pause_waba(pg, waba, &reason).await?;
                    }
                }
                _ => {}
            }
        }
    }
    Ok(a)
}

/// The recipient's new values for a status, as SQL over `$2` (status), `$3` (code), `$4` (time).
const STATUS_SET: &str = "status = case when (case status when 'sent' then 2 when 'delivered' then 3 when 'read' then 4 else 9 end) \
         < (case $2 when 'sent' then 2 when 'delivered' then 3 when 'read' then 4 when 'failed' then 4 else 0 end) \
         then $2 else status end, \
       error_code = case when $2 = 'failed' and status in ('sent', 'delivered') then $3 else error_code end, \
       reason = case when $2 = 'failed' and status in ('sent', 'delivered') then 'meta ' || coalesce($3::text, '?') || ': failed after sent' else reason end, \
       failed_at = case when $2 = 'failed' and status in ('sent', 'delivered') then $4 else failed_at end, \
       delivered_at = case when $2 in ('delivered', 'read') then coalesce(delivered_at, $4) else delivered_at end, \
       read_at = case when $2 = 'read' then coalesce(read_at, $4) else read_at end, \
       updated_at = now()";

/// Only rows the status changes are written (a late `sent` after `read` is no write at all).
const STATUS_CHANGES: &str = "((case status when 'sent' then 2 when 'delivered' then 3 when 'read' then 4 else 9 end) \
         < (case $2 when 'sent' then 2 when 'delivered' then 3 when 'read' then 4 when 'failed' then 4 else 0 end) \
       or ($2 in ('delivered', 'read') and delivered_at is null) or ($2 = 'read' and read_at is null))";

/// What [`apply_both`] found.
#[derive(Debug, Default)]
pub struct Both {
    pub outbox: u64,
    pub recipients: u64,
    pub outbox_exists: bool,
    pub recipient_exists: bool,
}

impl Both {
    /// Neither the outbox row nor a recipient has this wamid yet: perhaps a
    /// campaign send not recorded yet (an outbox row without a recipient is
    /// not a campaign's message).
    fn early(&self) -> bool {
        !self.outbox_exists && !self.recipient_exists
    }
}

/// One status for the outbox row (`notifications`, by provider id: forward
/// only, as `notify::sql::provider_status`) and the campaign recipient (by
/// wamid), in one statement. Whether each row exists is looked up only when
/// the update moved nothing (a moved row exists: `or` stops there).
pub async fn apply_both(
    pg: impl sqlx::PgExecutor<'_>,
    wamid: &str,
    status: &str,
    title: Option<&str>,
    code: Option<i32>,
    at: DateTime<Utc>,
) -> Result<Both, sqlx::Error> {
    let (outbox, recipients, outbox_exists, recipient_exists): (i64, i64, bool, bool) =
        sqlx::query_as(&format!(
            "with n as (update notifications set status = $2, updated_at = now(), last_error = coalesce($5, last_error), \
               delivered_at = case when $2 in ('delivered', 'read') then coalesce(delivered_at, now()) else delivered_at end, \
               read_at = case when $2 = 'read' then now() else read_at end \
             where channel = 'whatsapp' and provider_message_id = $1 \
               and (case status when 'sent' then 2 when 'delivered' then 3 when 'read' then 4 else 9 end) \
                 < (case $2 when 'sent' then 2 when 'delivered' then 3 when 'read' then 4 when 'failed' then 4 else 0 end) \
             returning 1), \
           r as (update campaign_recipients set {STATUS_SET} where wamid = $1 and {STATUS_CHANGES} returning 1) \
           select c.n, c.r, \
             c.n > 0 or exists (select 1 from notifications where channel = 'whatsapp' and provider_message_id = $1), \
             c.r > 0 or exists (select 1 from campaign_recipients where wamid = $1) \
           from (select (select count(*) from n) n, (select count(*) from r) r) c"
        ))
        .bind(wamid)
        .bind(status)
        .bind(code)
        .bind(at)
        .bind(title)
        .fetch_one(pg)
        .await?;
    Ok(Both {
        outbox: outbox as u64,
        recipients: recipients as u64,
        outbox_exists,
        recipient_exists,
    })
}

/// A `failed` status with one of Meta's codes that mean more than "failed":
/// 131049 → deferred 24 h (Meta did not deliver it: the outbox row is
/// released for the later send), 131050 → the contact's marketing opt-out,
/// 131048 → the campaign pauses itself.
async fn failed_code(pg: &PgPool, wamid: &str, code: Option<i32>) -> Result<(), sqlx::Error> {
    let Some(code) = code.filter(|c| [131048, 131049, 131050].contains(c)) else {
        return Ok(());
    };
    let row: Option<(Uuid, Uuid, Uuid, Option<Uuid>)> = sqlx::query_as(
        "select id, campaign_id, contact_id, notification_id from campaign_recipients where wamid = $1 and status = 'failed'",
    )
    .bind(wamid)
    .fetch_optional(pg)
    .await?;
    let Some((rid, campaign, contact, nid)) = row else {
        return Ok(());
    };
    match code {
        131049 => {
            sqlx::query(
                "update campaign_recipients set status = 'deferred', deferred_until = now() + interval '24 hours', \
                 wamid = null, sent_at = null, delivered_at = null, read_at = null, failed_at = null, \
                 reason = 'meta 131049: per-user marketing limit', updated_at = now() where id = $1 and status = 'failed'",
            )
            .bind(rid)
            .execute(pg)
            .await?;
            if let Some(nid) = nid {
                // Meta did not deliver it: the outbox row may be sent again later.
                crate::kinds::notify::sql::set_status(
                    pg,
                    nid,
                    "failed",
                    "queued",
                    Some("meta 131049: deferred"),
                )
                .await?;
            }
        }
        131050 => contacts::stop_marketing(pg, contact).await?,
        _ => {
            send::auto_pause(
                pg,
                campaign,
                "auto_pause",
                "meta 131048: spam rate limit hit",
            )
            .await?;
        }
    }
    Ok(())
}

/// After a chunk records its wamids (committed): applies the statuses that
/// came first (one statement when none did). With [`handle`]'s second try
/// no status is lost whichever of the two commits first.
pub async fn apply_early_many(pg: &PgPool, wamids: &[String]) -> Result<(), sqlx::Error> {
    if wamids.is_empty() {
        return Ok(());
    }
    // Early statuses carry no tenant (system-only table); these wamids are this send's own.
    let early: Vec<(String, String, Option<i32>, DateTime<Utc>)> = crate::store::scope::as_system(
        sqlx::query_as(
            "delete from campaign_status_early where wamid = any($1) \
                 returning wamid, status, error_code, at",
        )
        .bind(wamids)
        .fetch_all(pg),
    )
    .await?;
    for (wamid, st, code, at) in early {
        apply_both(pg, &wamid, &st, None, code, at).await?;
    }
    Ok(())
}

async fn inbound_message(
    pg: &PgPool,
    sender: &str,
    m: &Value,
    a: &mut Applied,
) -> Result<(), sqlx::Error> {
    let Some(from) = m["from"].as_str() else {
        return Ok(());
    };
    let Ok(phone) = phone::normalize(&format!("+{from}")) else {
        return Ok(());
    };
    let at = ts(&m["timestamp"]);
    let text = m["text"]["body"]
        .as_str()
        .or(m["button"]["text"].as_str())
        .or(m["interactive"]["button_reply"]["title"].as_str())
        .unwrap_or("");
    let tenants: Vec<(Uuid, Option<Vec<String>>)> = sqlx::query_as(
        "select distinct c.tenant_id, s.stop_words from campaigns c \
         left join campaign_settings s on s.tenant_id = c.tenant_id where c.sender_phone_number_id = $1",
    )
    .bind(sender)
    .fetch_all(pg)
    .await?;
    for (tenant, words) in tenants {
        a.replies += sqlx::query(
            "update campaign_recipients set replied_at = coalesce(replied_at, $3), updated_at = now() \
             where tenant_id = $1 and phone = $2 and sent_at is not null \
             and sent_at > $3 - interval '72 hours'",
        )
        .bind(tenant)
        .bind(&phone)
        .bind(at)
        .execute(pg)
        .await?
        .rows_affected();
        let words = words.unwrap_or_else(default_stop_words);
        if is_stop_word(text, &words) {
            a.opted_out +=
                contacts::opt_out_phone(pg, tenant, &phone, &format!("stop_word:{}", text.trim()))
                    .await?;
        }
    }
    Ok(())
}

pub fn default_stop_words() -> Vec<String> {
    ["SAIR", "PARAR", "STOP", "CANCELAR", "DESCADASTRAR"]
        .map(String::from)
        .to_vec()
}

async fn pause_waba(pg: &PgPool, waba: &str, reason: &str) -> Result<u64, sqlx::Error> {
    let ids: Vec<Uuid> = sqlx::query_scalar(
        "select c.id from campaigns c join campaign_settings s on s.tenant_id = c.tenant_id \
         where s.waba_id = $1 and c.state = 'running'",
    )
    .bind(waba)
    .fetch_all(pg)
    .await?;
    let mut n = 0;
    for id in ids {
        if send::auto_pause(pg, id, "auto_pause", reason).await? {
            n += 1;
        }
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stop_words_ignore_case_accents_and_punctuation() {
        let w = default_stop_words();
        assert!(is_stop_word("sair", &w));
        assert!(is_stop_word("  Parar! ", &w));
        assert!(is_stop_word("descadastrar.", &w));
        assert!(!is_stop_word("quero sair da lista não", &w));
        assert!(!is_stop_word("", &w));
        assert!(is_stop_word("Não", &["NAO".to_string()]));
    }

    #[test]
    fn statuses_keep_codes_and_times() {
        let p = serde_json::json!({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{"field": "messages",
            "value": {"messaging_product": "whatsapp", "metadata": {"phone_number_id": "9"},
              "statuses": [{"id": "wamid.A", "status": "read", "timestamp": "1700000000", "recipient_id": "5511"},
                           {"id": "wamid.B", "status": "failed", "timestamp": "1700000001", "errors": [{"code": 131026, "title": "Message undeliverable"}]}]}}]}]});
        let s = statuses(&p);
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].1, "read");
        assert_eq!(s[0].3.timestamp(), 1_700_000_000);
        assert_eq!(s[1].2, Some(131026));
    }
}
