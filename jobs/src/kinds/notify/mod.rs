//! Notifications: `notify.send` (one outbox row → one provider call, at most
//! once) and `notify.fanout` (a request for many recipients → rows + one
//! `notify.send` each), on the `notifications` queue.
//!
//! Layout: `model` (request, message, row), `outbox` (enqueue; the sent-once
//! story), `send` (the pipeline and its policies), `dispatch` (render +
//! channel), `quiet` (quiet hours, pure), `sql` (the kinds' queries), `admin`
//! (channel settings, opt-outs, policy: what the API edits), `templates` (saved templates).
//! The channels themselves are in `crate::channels`.
//!
//! Provider rate limits per tenant account: jobs carry `rate_key =
//! whatsapp:<tenant>` / `sms:<tenant>`; [`configure`] sets the shared limits
//! (`notifications.whatsapp_per_second`, `sms_per_second`) at worker start.

pub mod admin;
pub mod dispatch;
pub mod model;
pub mod outbox;
pub mod quiet;
mod send;
pub mod sql;
pub mod templates;

use std::time::Duration;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{FieldError, JobContext, JobError, JobKind, KindPolicy};
use crate::engine::{Engine, EngineError};
use crate::Settings;

pub use model::{
    ChannelName, MessageSpec, Notification, NotificationRequest, RecipientSpec, WhatsAppTemplate,
};

/// The queue every notify kind runs on.
pub const QUEUE: &str = "notifications";
pub const SEND: &str = "notify.send";
pub const FANOUT: &str = "notify.fanout";

/// `notify.send`: delivers one outbox row.
pub struct SendNotification;

/// Payload of `notify.send`: the outbox row (created by `POST /v1/notifications` or `notify.fanout`).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SendPayload {
    pub notification_id: Uuid,
}

impl JobKind for SendNotification {
    const NAME: &'static str = SEND;
    type Payload = SendPayload;

    fn policy() -> KindPolicy {
        KindPolicy {
            // Well above every provider timeout (10-30 s): the handler must not be
            // stopped mid-call, or its row would end `unknown`.
            timeout: Duration::from_secs(90),
            max_attempts: 8,
            backoff_base: Duration::from_secs(2),
            backoff_cap: Duration::from_secs(900),
            // Personal data (the notification row's delivery (recipient, provider ids)): sealed at rest.
            encrypt: true,
            ..KindPolicy::new(QUEUE)
        }
    }

    async fn run(p: SendPayload, ctx: JobContext) -> Result<serde_json::Value, JobError> {
        send::process(p.notification_id, &ctx).await
    }
}

/// `notify.fanout`: turns a request (often thousands of recipients from a
/// campaign or a cron rule) into outbox rows and `notify.send` jobs.
pub struct Fanout;

impl JobKind for Fanout {
    const NAME: &'static str = FANOUT;
    type Payload = NotificationRequest;

    fn policy() -> KindPolicy {
        KindPolicy {
            // Personal data (recipients' phones and e-mails, the message): sealed at rest.
            encrypt: true,
            ..KindPolicy::new(QUEUE)
        }
    }

    fn validate(p: &NotificationRequest) -> Result<(), FieldError> {
        p.validate()
    }

    async fn run(p: NotificationRequest, ctx: JobContext) -> Result<serde_json::Value, JobError> {
        let pg = ctx
            .resources
            .pg
            .clone()
            .ok_or_else(|| JobError::permanent("notify.fanout needs PostgreSQL"))?;
        let tenant: Uuid = ctx
            .tenant
            .parse()
            .map_err(|_| JobError::permanent("tenant is not a UUID"))?;
        let rows = outbox::enqueue(&pg, &ctx.resources.engine, tenant, &p)
            .await
            .map_err(|e| match e {
                outbox::EnqueueError::Invalid(f) => JobError::permanent(f.to_string()),
                e => JobError::retryable(e.to_string()),
            })?;
        let created = rows.iter().filter(|r| r.created).count();
        Ok(serde_json::json!({ "recipients": rows.len(), "created": created }))
    }
}

/// Worker start: the shared per-tenant provider limits for the notifications queue.
pub async fn configure(engine: &Engine, settings: &Settings) -> Result<(), EngineError> {
    let n = &settings.notifications;
    engine
        .set_rate_limit(
            QUEUE,
            "whatsapp",
            n.whatsapp_per_second,
            Duration::from_secs(1),
        )
        .await?;
    engine
        .set_rate_limit(QUEUE, "sms", n.sms_per_second, Duration::from_secs(1))
        .await
}
