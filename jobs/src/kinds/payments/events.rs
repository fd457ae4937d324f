//! Provider events (`POST /v1/callbacks/stripe`): the signature check and
//! what an event does.
//!
//! The signature is Stripe's: `Stripe-Signature: t=<unix>,v1=<hex>[,v1=…]`,
//! HMAC-SHA256 of `"<t>.<raw body>"`, within `payments.webhook_tolerance_secs`;
//! the env var named by `payments.webhook_secret_env` may hold several
//! secrets separated by commas while one is rotated. Each event is recorded
//! once by its id (a duplicate changes nothing) and moves its payment forward
//! only, so events arriving late or out of order never undo a later state:
//! `payment_intent.{requires_action,processing,succeeded,payment_failed,canceled}`
//! and `charge.refunded` (a refund made at the provider's dashboard too).

use sqlx::PgPool;
use uuid::Uuid;

use super::settle::{self, SettleError};
use super::sql;
use super::stripe::Intent;
use super::PaymentsSettings;
use crate::engine::Engine;

/// Whether `header` signs `body` with one of the configured secrets at `now`.
pub fn verify(
    settings: &PaymentsSettings,
    header: &str,
    body: &[u8],
    now: i64,
) -> Result<(), String> {
    let secrets = std::env::var(&settings.webhook_secret_env).map_err(|_| {
        format!(
            "environment variable {} (payments.webhook_secret_env) is not set",
            settings.webhook_secret_env
        )
    })?;
    let ok = secrets
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .any(|secret| verify_with(secret, header, body, now, settings.webhook_tolerance_secs));
    if ok {
        Ok(())
    } else {
        Err("signature does not match, or is older than the tolerance".into())
    }
}

/// The check itself: the webhook channel's scheme, which is Stripe's.
pub fn verify_with(secret: &str, header: &str, body: &[u8], now: i64, tolerance: i64) -> bool {
    crate::channels::webhook::verify_within(secret, header, body, now, tolerance)
}

/// What an event did.
#[derive(Debug, PartialEq)]
pub enum Handled {
    /// Its id was seen before: nothing done.
    Duplicate,
    /// It concerns this payment; `moved`: its status changed.
    Applied {
        payment: Uuid,
        status: String,
        moved: bool,
    },
    /// Not an event we act on, or about no payment of ours (recorded).
    Ignored(String),
}

#[derive(Debug, thiserror::Error)]
pub enum EventError {
    #[error("not a provider event: {0}")]
    Malformed(String),
    #[error(transparent)]
    Settle(#[from] SettleError),
    #[error("postgres: {0}")]
    Db(#[from] sqlx::Error),
}

/// Applies one verified event body.
pub async fn handle(pg: &PgPool, engine: &Engine, body: &[u8]) -> Result<Handled, EventError> {
    let event: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| EventError::Malformed(e.to_string()))?;
    let id = event["id"]
        .as_str()
        .filter(|s| !s.is_empty())
        .ok_or_else(|| EventError::Malformed("no event id".into()))?
        .to_string();
    let kind = event["type"]
        .as_str()
        .ok_or_else(|| EventError::Malformed("no event type".into()))?
        .to_string();
    let object = &event["data"]["object"];
    if sql::event_seen(pg, &id).await? {
        return Ok(Handled::Duplicate);
    }
    let outcome = match kind.as_str() {
        "payment_intent.succeeded"
        | "payment_intent.processing"
        | "payment_intent.requires_action"
        | "payment_intent.payment_failed"
        | "payment_intent.canceled" => {
            let intent: Intent = serde_json::from_value(object.clone())
                .map_err(|e| EventError::Malformed(format!("data.object: {e}")))?;
            match find(pg, &intent.metadata, Some(&intent.id)).await? {
                Some(pid) => match settle::apply_intent(pg, engine, pid, &intent).await? {
                    Some((row, moved)) => Handled::Applied {
                        payment: pid,
                        status: row.status,
                        moved,
                    },
                    None => Handled::Ignored(format!("payment {pid} is gone")),
                },
                None => Handled::Ignored(format!("no payment for intent {}", intent.id)),
            }
        }
        "charge.refunded" => {
            let intent_id = object["payment_intent"].as_str().map(str::to_string);
            let refunded = object["amount_refunded"].as_i64().unwrap_or(0);
            let meta = serde_json::from_value(object["metadata"].clone()).unwrap_or_default();
            match find(pg, &meta, intent_id.as_deref()).await? {
                Some(pid) => {
                    let (status, moved) = refunded_at_provider(pg, pid, refunded).await?;
                    Handled::Applied {
                        payment: pid,
                        status,
                        moved,
                    }
                }
                None => Handled::Ignored("no payment for the refunded charge".into()),
            }
        }
        other => Handled::Ignored(format!("event type {other} is not acted on")),
    };
    let (payment, applied) = match &outcome {
        Handled::Applied { payment, moved, .. } => (Some(*payment), *moved),
        _ => (None, false),
    };
    let mut tx = pg.begin().await?;
    let first = sql::record_event(&mut tx, &id, payment, &kind, applied, &event).await?;
    tx.commit().await?;
    // Two deliveries of one event at once: the state moves are idempotent,
    // so the second one's work changed nothing; it reports a duplicate.
    Ok(if first { outcome } else { Handled::Duplicate })
}

/// Our payment for an intent: by `metadata[tarefa_payment_id]`, else by its id.
async fn find(
    pg: &PgPool,
    metadata: &std::collections::BTreeMap<String, String>,
    intent_id: Option<&str>,
) -> Result<Option<Uuid>, sqlx::Error> {
    if let Some(id) = metadata
        .get("tarefa_payment_id")
        .and_then(|s| s.parse::<Uuid>().ok())
    {
        if let Some(p) = sql::by_id(pg, id).await? {
            return Ok(Some(p.id));
        }
    }
    match intent_id {
        Some(i) => Ok(sql::by_provider_id(pg, i).await?.map(|p| p.id)),
        None => Ok(None),
    }
}

/// A refund total the provider reports: raises the payment's (never lowers it).
async fn refunded_at_provider(
    pg: &PgPool,
    id: Uuid,
    refunded: i64,
) -> Result<(String, bool), sqlx::Error> {
    let row: (String, bool) = sqlx::query_as(
        "with before as (select status as s, amount_refunded_cents as r from payments where id = $1 for update) \
         update payments set amount_refunded_cents = greatest(amount_refunded_cents, least($2, amount_received_cents)), \
           status = case when status in ('succeeded', 'partially_refunded', 'refunded') then \
             case when greatest(amount_refunded_cents, least($2, amount_received_cents)) >= amount_received_cents then 'refunded' \
                  when greatest(amount_refunded_cents, least($2, amount_received_cents)) > 0 then 'partially_refunded' else status end \
             else status end, updated_at = now() \
         from before where id = $1 returning status, (status <> before.s or amount_refunded_cents <> before.r)",
    )
    .bind(id)
    .bind(refunded)
    .fetch_one(pg)
    .await?;
    Ok(row)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sign(secret: &str, t: i64, body: &[u8]) -> String {
        crate::channels::webhook::sign(secret, t, body)
    }

    #[test]
    fn signatures_are_checked_like_stripe_does() {
        let body = br#"{"id":"evt_1"}"#;
        let now = 1_700_000_000;
        let good = sign("whsec_a", now - 10, body);
        assert!(verify_with("whsec_a", &good, body, now, 300));
        assert!(
            !verify_with("whsec_b", &good, body, now, 300),
            "other secret"
        );
        assert!(
            !verify_with("whsec_a", &good, br#"{"id":"evt_2"}"#, now, 300),
            "other body"
        );
        let stale = sign("whsec_a", now - 301, body);
        assert!(!verify_with("whsec_a", &stale, body, now, 300), "too old");
        // Several v1 during a rotation: any one that matches will do.
        let old = sign("whsec_old", now - 10, body);
        let v1_old = old.split("v1=").nth(1).unwrap();
        let both = format!("{good},v1={v1_old}");
        assert!(verify_with("whsec_old", &both, body, now, 300));
        assert!(!verify_with("whsec_a", "t=abc,v1=00", body, now, 300));
        assert!(!verify_with("whsec_a", "", body, now, 300));
    }
}
