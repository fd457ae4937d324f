//! Events and reminders: booking events (Redis Streams, `POST /v1/events`)
//! and tutoring sessions become booking state with a version, reminder rows
//! planned in the tenant's zone, and `events.remind` jobs that hand due
//! reminders to the notifications outbox.
//!
//! Layout: `envelope` (the wire shape, parsing with field paths, pure),
//! `state` (version rules, pure), `plan` (due times in the tenant's zone,
//! pure), `message` (pt-BR text, pure), `ingest` (one event, one
//! transaction), `batch` (a stream read's events, one transaction),
//! `remind` (the `events.remind` kind's work), `due` (the scheduler's claim
//! of due rows), `webhook` (tenant webhooks for event types, in order per
//! booking, through the outbox), `follow` (the scheduler's round that
//! advances webhook sequences and settles sent reminders: `reminder.sent` /
//! `reminder.failed`), `admin` (rules, settings, dead letters: what the API
//! and console edit), `sql`. The stream consumer itself is in
//! the scheduler crate (`scheduler/src/events/`).

pub mod admin;
pub mod batch;
pub mod due;
pub mod envelope;
pub mod follow;
pub mod ingest;
pub mod message;
pub mod plan;
pub mod remind;
pub mod sql;
pub mod state;
pub mod webhook;

use std::time::Duration;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{JobContext, JobError, JobKind, KindPolicy};
use crate::engine::Priority;

pub use envelope::{Envelope, Event};
pub use ingest::{ingest, IngestError, Ingested, Source};

/// The queue `events.remind` runs on.
pub const QUEUE: &str = "events";
pub const REMIND: &str = "events.remind";

/// `events.remind`: sends one due reminder through the outbox, if still current.
pub struct Remind;

/// Payload of `events.remind` (pushed by the scheduler, id `rem-<reminder id>`).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RemindPayload {
    pub reminder_id: Uuid,
}

impl JobKind for Remind {
    const NAME: &'static str = REMIND;
    type Payload = RemindPayload;

    fn policy() -> KindPolicy {
        KindPolicy {
            // Reminders are due at a minute: ahead of bulk work on the queue.
            priority: Priority::High,
            timeout: Duration::from_secs(30),
            max_attempts: 8,
            // Personal data (a reminder to a person): sealed at rest.
            encrypt: true,
            ..KindPolicy::new(QUEUE)
        }
    }

    async fn run(p: RemindPayload, ctx: JobContext) -> Result<serde_json::Value, JobError> {
        let pg = ctx
            .resources
            .pg
            .clone()
            .ok_or_else(|| JobError::permanent("events.remind needs PostgreSQL"))?;
        let tenant: Uuid = ctx
            .tenant
            .parse()
            .map_err(|_| JobError::permanent("tenant is not a UUID"))?;
        match remind::send(&pg, &ctx.resources.engine, tenant, p.reminder_id).await {
            Ok(sent) => Ok(serde_json::to_value(sent).unwrap_or_default()),
            Err(e) => {
                // The job ends here (dead): say so on the row and to the tenant.
                let last = match &e {
                    JobError::Permanent { reason } => Some(reason.clone()),
                    JobError::Retryable { reason, .. } if ctx.attempt >= ctx.max_attempts => {
                        Some(format!("gave up after {} attempts: {reason}", ctx.attempt))
                    }
                    _ => None,
                };
                if let Some(reason) = last {
                    remind::give_up(&pg, &ctx.resources.engine, tenant, p.reminder_id, &reason)
                        .await?;
                }
                Err(e)
            }
        }
    }
}
