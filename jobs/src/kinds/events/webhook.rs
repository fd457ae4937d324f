//! Tenant webhooks for events: an event type the tenant subscribed to
//! (`event_settings.webhook_events`, patterns `booking.*` or `*`) becomes a
//! `webhook` outbox row — signed, retried with backoff and visible with its
//! attempts in `/v1/notifications`, like every webhook Tarefa sends. The
//! dedup key is the event's (`evt:<event id>`, `reminder.sent:<reminder id>`),
//! so publishing again after a crash or a re-delivery sends nothing new.

use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::sql;
use crate::engine::Engine;
use crate::kinds::notify::outbox::{self, EnqueueError, Enqueued};
use crate::kinds::notify::{ChannelName, MessageSpec, NotificationRequest};

/// Does `pattern` (`booking.created`, `booking.*`, `*`) match `event_type`?
pub fn matches(pattern: &str, event_type: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => event_type.starts_with(prefix),
        None => pattern == event_type,
    }
}

fn request(event_type: &str, dedup_key: &str, data: &serde_json::Value) -> NotificationRequest {
    NotificationRequest {
        channel: ChannelName::Webhook,
        recipient: Some(event_type.to_string()),
        // Outbox keys are at most 200 bytes; event ids are too (checked at intake).
        dedup_key: Some(dedup_key.chars().take(200).collect()),
        recipients: Vec::new(),
        message: MessageSpec {
            data: match data {
                serde_json::Value::Object(m) if !m.is_empty() => m.clone(),
                other => serde_json::Map::from_iter([("event".to_string(), other.clone())]),
            },
            ..MessageSpec::default()
        },
        // Webhooks are machine-to-machine: quiet hours do not apply.
        urgent: true,
    }
}

/// Queues the webhook for one event if the tenant subscribed to its type;
/// `true` when a row exists for it now (new or from an earlier call).
pub async fn publish(
    pg: &PgPool,
    engine: &Engine,
    tenant: Uuid,
    event_type: &str,
    dedup_key: &str,
    data: &serde_json::Value,
) -> Result<bool, EnqueueError> {
    let subscribed = sql::webhook_events(pg, tenant).await?;
    if !subscribed.iter().any(|p| matches(p, event_type)) {
        return Ok(false);
    }
    outbox::enqueue(pg, engine, tenant, &request(event_type, dedup_key, data)).await?;
    Ok(true)
}

/// [`publish`]'s rows only, on the caller's transaction; the caller pushes
/// their jobs (`outbox::push_jobs`) after its commit.
pub async fn write(
    conn: &mut PgConnection,
    tenant: Uuid,
    event_type: &str,
    dedup_key: &str,
    data: &serde_json::Value,
) -> Result<Vec<Enqueued>, EnqueueError> {
    let subscribed = sql::webhook_events(&mut *conn, tenant).await?;
    if !subscribed.iter().any(|p| matches(p, event_type)) {
        return Ok(Vec::new());
    }
    outbox::write_rows(conn, tenant, &request(event_type, dedup_key, data)).await
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn patterns_match_exact_types_prefixes_and_everything() {
        assert!(matches("booking.created", "booking.created"));
        assert!(!matches("booking.created", "booking.updated"));
        assert!(matches("booking.*", "booking.cancelled"));
        assert!(!matches("booking.*", "session.cancelled"));
        assert!(matches("*", "reminder.sent"));
    }
}
