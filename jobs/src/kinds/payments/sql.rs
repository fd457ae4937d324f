//! The payments tables (migration 0011): payments, their provider calls,
//! refunds and provider events. Every status change goes through
//! [`advance`], which only moves a payment forward (see `model::rank`).

use chrono::{DateTime, Utc};
use sqlx::{PgExecutor, PgPool, Postgres, Transaction};
use uuid::Uuid;

use super::model::{rank, Payment, PaymentAttempt, PaymentRefund, ValidPayment};

const COLS: &str = "id, tenant_id, request_hash, idempotency_key, amount_cents, currency, customer, \
    payment_method, description, reference, receipt_email, metadata, status, amount_received_cents, \
    amount_refunded_cents, provider_payment_id, provider_charge_id, failure_code, decline_code, \
    failure_message, job_id, attempts, created_at, updated_at, succeeded_at";

const REFUND_COLS: &str =
    "id, payment_id, tenant_id, idempotency_key, amount_cents, reason, status, \
    provider_refund_id, failure_message, job_id, created_at, updated_at";

/// What an insert found.
pub enum Inserted {
    /// A new payment.
    New(Payment),
    /// The same idempotency key and the same request: the first payment.
    Replay(Payment),
    /// The same idempotency key with another request.
    Mismatch(Payment),
}

/// Inserts a payment (`pending`), or finds the one with the same idempotency key.
pub async fn insert(
    pg: &PgPool,
    tenant: Uuid,
    key: Option<&str>,
    p: &ValidPayment,
) -> Result<Inserted, sqlx::Error> {
    let hash = p.request_hash();
    let row: Option<Payment> = sqlx::query_as(&format!(
        "insert into payments (id, tenant_id, idempotency_key, request_hash, amount_cents, currency, customer, \
         payment_method, description, reference, receipt_email, metadata) \
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
         on conflict (tenant_id, idempotency_key) do nothing returning {COLS}"
    ))
    .bind(Uuid::now_v7())
    .bind(tenant)
    .bind(key)
    .bind(&hash)
    .bind(p.amount_cents)
    .bind(&p.currency)
    .bind(&p.customer)
    .bind(&p.payment_method)
    .bind(&p.description)
    .bind(&p.reference)
    .bind(&p.receipt_email)
    .bind(sqlx::types::Json(&p.metadata))
    .fetch_optional(pg)
    .await?;
    if let Some(row) = row {
        return Ok(Inserted::New(row));
    }
    let first: Payment = sqlx::query_as(&format!(
        "select {COLS} from payments where tenant_id = $1 and idempotency_key = $2"
    ))
    .bind(tenant)
    .bind(key)
    .fetch_one(pg)
    .await?;
    Ok(if first.request_hash == hash {
        Inserted::Replay(first)
    } else {
        Inserted::Mismatch(first)
    })
}

pub async fn set_job(pg: &PgPool, id: Uuid, job_id: &str) -> Result<(), sqlx::Error> {
    sqlx::query("update payments set job_id = $2 where id = $1 and job_id is null")
        .bind(id)
        .bind(job_id)
        .execute(pg)
        .await?;
    Ok(())
}

/// One of a tenant's payments.
pub async fn get(
    ex: impl PgExecutor<'_>,
    tenant: Uuid,
    id: Uuid,
) -> Result<Option<Payment>, sqlx::Error> {
    sqlx::query_as(&format!(
        "select {COLS} from payments where tenant_id = $1 and id = $2"
    ))
    .bind(tenant)
    .bind(id)
    .fetch_optional(ex)
    .await
}

/// A payment by the provider's PaymentIntent id (webhooks).
pub async fn by_provider_id(
    ex: impl PgExecutor<'_>,
    provider_id: &str,
) -> Result<Option<Payment>, sqlx::Error> {
    sqlx::query_as(&format!(
        "select {COLS} from payments where provider_payment_id = $1"
    ))
    .bind(provider_id)
    .fetch_optional(ex)
    .await
}

/// A payment by id alone (webhooks carry it in the intent's metadata; the
/// provider's signature vouches for it).
pub async fn by_id(ex: impl PgExecutor<'_>, id: Uuid) -> Result<Option<Payment>, sqlx::Error> {
    sqlx::query_as(&format!("select {COLS} from payments where id = $1"))
        .bind(id)
        .fetch_optional(ex)
        .await
}

/// Filters of a listing.
#[derive(Debug, Default)]
pub struct ListFilter {
    pub status: Option<String>,
    pub reference: Option<String>,
    pub since: Option<DateTime<Utc>>,
    /// Keyset cursor: rows older than this (created_at, id).
    pub before: Option<(DateTime<Utc>, Uuid)>,
    pub limit: i64,
}

/// A tenant's payments, newest first.
pub async fn list(pg: &PgPool, tenant: Uuid, f: &ListFilter) -> Result<Vec<Payment>, sqlx::Error> {
    sqlx::query_as(&format!(
        "select {COLS} from payments where tenant_id = $1 \
         and ($2::text is null or status = $2) and ($3::text is null or reference = $3) \
         and ($4::timestamptz is null or created_at >= $4) \
         and ($5::timestamptz is null or (created_at, id) < ($5, $6)) \
         order by created_at desc, id desc limit $7"
    ))
    .bind(tenant)
    .bind(&f.status)
    .bind(&f.reference)
    .bind(f.since)
    .bind(f.before.map(|b| b.0))
    .bind(f.before.map(|b| b.1))
    .bind(f.limit)
    .fetch_all(pg)
    .await
}

/// Records one provider call of the charge job and counts it on the payment.
pub async fn record_attempt(
    pg: &PgPool,
    id: Uuid,
    action: &str,
    outcome: &str,
    http_status: Option<u16>,
    error: Option<&str>,
) -> Result<(), sqlx::Error> {
    let mut tx = pg.begin().await?;
    let n: i32 = sqlx::query_scalar(
        "update payments set attempts = attempts + 1, updated_at = now() where id = $1 returning attempts",
    )
    .bind(id)
    .fetch_one(&mut *tx)
    .await?;
    sqlx::query(
        "insert into payment_attempts (payment_id, n, action, outcome, http_status, error) values ($1, $2, $3, $4, $5, $6)",
    )
    .bind(id)
    .bind(n)
    .bind(action)
    .bind(outcome)
    .bind(http_status.map(i32::from))
    .bind(error)
    .execute(&mut *tx)
    .await?;
    tx.commit().await
}

pub async fn attempts(pg: &PgPool, id: Uuid) -> Result<Vec<PaymentAttempt>, sqlx::Error> {
    sqlx::query_as(
        "select n, at, action, outcome, http_status, error from payment_attempts where payment_id = $1 order by n",
    )
    .bind(id)
    .fetch_all(pg)
    .await
}

/// A status move and what came with it.
#[derive(Debug, Default, Clone)]
pub struct Change<'a> {
    pub status: &'a str,
    pub provider_payment_id: Option<&'a str>,
    pub provider_charge_id: Option<&'a str>,
    pub amount_received_cents: Option<i64>,
    pub failure_code: Option<&'a str>,
    pub decline_code: Option<&'a str>,
    pub failure_message: Option<&'a str>,
}

/// Moves payment `id` to `c.status` when that is forward (higher rank);
/// provider ids are kept whenever they are new. Returns the row after, and
/// whether the status moved. Locks the row for the transaction.
pub async fn advance(
    tx: &mut Transaction<'_, Postgres>,
    id: Uuid,
    c: &Change<'_>,
) -> Result<Option<(Payment, bool)>, sqlx::Error> {
    let Some(current): Option<Payment> = sqlx::query_as(&format!(
        "select {COLS} from payments where id = $1 for update"
    ))
    .bind(id)
    .fetch_optional(&mut **tx)
    .await?
    else {
        return Ok(None);
    };
    let moves = rank(c.status) > rank(&current.status);
    let row: Payment = sqlx::query_as(&format!(
        "update payments set \
           status = case when $2 then $3 else status end, \
           provider_payment_id = coalesce(provider_payment_id, $4), \
           provider_charge_id = coalesce($5, provider_charge_id), \
           amount_received_cents = case when $2 and $6::bigint is not null then $6 else amount_received_cents end, \
           failure_code = case when $2 then $7 else failure_code end, \
           decline_code = case when $2 then $8 else decline_code end, \
           failure_message = case when $2 then $9 else failure_message end, \
           succeeded_at = case when $2 and $3 = 'succeeded' then now() else succeeded_at end, \
           updated_at = now() \
         where id = $1 returning {COLS}"
    ))
    .bind(id)
    .bind(moves)
    .bind(c.status)
    .bind(c.provider_payment_id)
    .bind(c.provider_charge_id)
    .bind(c.amount_received_cents)
    .bind(c.failure_code)
    .bind(c.decline_code)
    .bind(c.failure_message)
    .fetch_one(&mut **tx)
    .await?;
    Ok(Some((row, moves)))
}

/// Records a provider event once; false when its id was seen before.
pub async fn record_event(
    tx: &mut Transaction<'_, Postgres>,
    event_id: &str,
    payment: Option<Uuid>,
    event_type: &str,
    applied: bool,
    payload: &serde_json::Value,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "insert into payment_events (provider_event_id, payment_id, event_type, applied, payload) \
         values ($1, $2, $3, $4, $5) on conflict (provider_event_id) do nothing",
    )
    .bind(event_id)
    .bind(payment)
    .bind(event_type)
    .bind(applied)
    .bind(payload)
    .execute(&mut **tx)
    .await?;
    Ok(r.rows_affected() == 1)
}

pub async fn event_seen(ex: impl PgExecutor<'_>, event_id: &str) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("select exists (select 1 from payment_events where provider_event_id = $1)")
        .bind(event_id)
        .fetch_one(ex)
        .await
}

/// Why a refund cannot be made.
#[derive(Debug, thiserror::Error)]
pub enum RefundRefused {
    #[error("the payment has not succeeded (status {0})")]
    NotPaid(String),
    #[error("at most {left} cents are left to refund")]
    TooMuch { left: i64 },
    #[error("the same idempotency key was used for another refund")]
    KeyMismatch,
    #[error("postgres: {0}")]
    Db(#[from] sqlx::Error),
}

/// Inserts a refund of `amount` (default: what is left) under the payment's
/// row lock, so two concurrent refunds can never exceed what was received.
/// The same idempotency key with the same amount returns the first refund.
pub async fn insert_refund(
    pg: &PgPool,
    tenant: Uuid,
    payment: Uuid,
    key: Option<&str>,
    amount: Option<i64>,
    reason: Option<&str>,
) -> Result<(PaymentRefund, bool), RefundRefused> {
    let mut tx = pg.begin().await?;
    if let Some(k) = key {
        let first: Option<PaymentRefund> = sqlx::query_as(&format!(
            "select {REFUND_COLS} from payment_refunds where tenant_id = $1 and idempotency_key = $2"
        ))
        .bind(tenant)
        .bind(k)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(first) = first {
            if first.payment_id != payment || amount.is_some_and(|a| a != first.amount_cents) {
                return Err(RefundRefused::KeyMismatch);
            }
            return Ok((first, false));
        }
    }
    let (status, received): (String, i64) = sqlx::query_as(
        "select status, amount_received_cents from payments where tenant_id = $1 and id = $2 for update",
    )
    .bind(tenant)
    .bind(payment)
    .fetch_one(&mut *tx)
    .await?;
    if !matches!(
        status.as_str(),
        "succeeded" | "partially_refunded" | "refunded"
    ) {
        return Err(RefundRefused::NotPaid(status));
    }
    let committed: i64 = sqlx::query_scalar(
        "select coalesce(sum(amount_cents), 0)::bigint from payment_refunds where payment_id = $1 and status <> 'failed'",
    )
    .bind(payment)
    .fetch_one(&mut *tx)
    .await?;
    let left = received - committed;
    let amount = amount.unwrap_or(left);
    if amount < 1 || amount > left {
        return Err(RefundRefused::TooMuch { left: left.max(0) });
    }
    let row: PaymentRefund = sqlx::query_as(&format!(
        "insert into payment_refunds (id, payment_id, tenant_id, idempotency_key, amount_cents, reason) \
         values ($1, $2, $3, $4, $5, $6) returning {REFUND_COLS}"
    ))
    .bind(Uuid::now_v7())
    .bind(payment)
    .bind(tenant)
    .bind(key)
    .bind(amount)
    .bind(reason)
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok((row, true))
}

pub async fn refunds(pg: &PgPool, payment: Uuid) -> Result<Vec<PaymentRefund>, sqlx::Error> {
    sqlx::query_as(&format!(
        "select {REFUND_COLS} from payment_refunds where payment_id = $1 order by created_at, id"
    ))
    .bind(payment)
    .fetch_all(pg)
    .await
}

pub async fn refund(pg: &PgPool, id: Uuid) -> Result<Option<PaymentRefund>, sqlx::Error> {
    sqlx::query_as(&format!(
        "select {REFUND_COLS} from payment_refunds where id = $1"
    ))
    .bind(id)
    .fetch_optional(pg)
    .await
}

pub async fn set_refund_job(pg: &PgPool, id: Uuid, job_id: &str) -> Result<(), sqlx::Error> {
    sqlx::query("update payment_refunds set job_id = $2 where id = $1 and job_id is null")
        .bind(id)
        .bind(job_id)
        .execute(pg)
        .await?;
    Ok(())
}

/// Settles a pending refund; on success the payment's refunded total and
/// status follow (`partially_refunded` / `refunded`). Returns false when it
/// was already settled.
pub async fn settle_refund(
    pg: &PgPool,
    id: Uuid,
    status: &str,
    provider_refund_id: Option<&str>,
    failure: Option<&str>,
) -> Result<bool, sqlx::Error> {
    let mut tx = pg.begin().await?;
    let r: Option<(Uuid, i64)> = sqlx::query_as(
        "update payment_refunds set status = $2, provider_refund_id = coalesce($3, provider_refund_id), \
         failure_message = $4, updated_at = now() where id = $1 and status = 'pending' \
         returning payment_id, amount_cents",
    )
    .bind(id)
    .bind(status)
    .bind(provider_refund_id)
    .bind(failure)
    .fetch_optional(&mut *tx)
    .await?;
    let Some((payment, amount)) = r else {
        return Ok(false);
    };
    if status == "succeeded" {
        sqlx::query(
            "update payments set amount_refunded_cents = amount_refunded_cents + $2, \
             status = case when amount_refunded_cents + $2 >= amount_received_cents then 'refunded' else 'partially_refunded' end, \
             updated_at = now() where id = $1",
        )
        .bind(payment)
        .bind(amount)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(true)
}

/// Per tenant and status: how many payments, for `/metrics`.
pub async fn counts(pg: &PgPool) -> Result<Vec<(Uuid, String, i64, i64)>, sqlx::Error> {
    sqlx::query_as(
        "select tenant_id, status, count(*), coalesce(sum(amount_cents), 0)::bigint from payments group by 1, 2 order by 1, 2",
    )
    .fetch_all(pg)
    .await
}
