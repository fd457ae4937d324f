//! Shared by the notify tests: a [`Bed`] (tenant + SMTP sink + provider fakes)
//! on the test's fresh database and a random Redis prefix, plus shorthands to
//! configure channels, enqueue requests and run `notify.send` by hand.
#![allow(dead_code)]

use jobs::kinds::notify::admin;
use jobs::kinds::notify::outbox::{self, Enqueued};
use jobs::kinds::notify::{ChannelName, MessageSpec, Notification, NotificationRequest};
use jobs::kinds::{JobError, JobKind};
pub use jobs::testing::Bed;
use serde_json::{json, Value};
use uuid::Uuid;

pub async fn channel(bed: &Bed, ch: ChannelName, settings: Value) {
    admin::check_channel_settings(ch, &settings).expect("valid settings");
    admin::put_channel(&bed.pool, bed.tenant, ch.as_str(), &settings, true)
        .await
        .unwrap();
}

pub async fn email_channel(bed: &Bed) {
    channel(
        bed,
        ChannelName::Email,
        json!({"from": "secretaria@escola-alfa.edu.br", "from_name": "Secretaria Escola Alfa"}),
    )
    .await;
}

pub fn text(ch: ChannelName, recipient: &str, key: &str, body: &str) -> NotificationRequest {
    NotificationRequest {
        channel: ch,
        recipient: Some(recipient.into()),
        dedup_key: Some(key.into()),
        recipients: vec![],
        message: MessageSpec {
            subject: Some("Aviso".into()),
            text: Some(body.into()),
            ..Default::default()
        },
        urgent: false,
    }
}

pub async fn enqueue(bed: &Bed, req: &NotificationRequest) -> Vec<Enqueued> {
    outbox::enqueue(&bed.pool, &bed.engine, bed.tenant, req)
        .await
        .expect("enqueue")
}

/// Runs `notify.send` for a row as a worker would, attempt `attempt`.
pub async fn run(bed: &Bed, id: Uuid, attempt: u32) -> Result<Value, JobError> {
    let ctx = bed.ctx(&id.to_string(), attempt);
    let run = <jobs::kinds::notify::SendNotification as JobKind>::run(
        jobs::kinds::notify::SendPayload {
            notification_id: id,
        },
        ctx,
    );
    jobs::store::scope::as_tenant(bed.tenant, run).await
}

pub async fn row(bed: &Bed, id: Uuid) -> Notification {
    jobs::kinds::notify::sql::get(&bed.pool, bed.tenant, id)
        .await
        .unwrap()
        .expect("row")
}

/// Rows of the bed's tenant with `status` (all rows when `None`).
pub async fn count_rows(bed: &Bed, status: Option<&str>) -> i64 {
    sqlx::query_scalar(
        "select count(*) from notifications where tenant_id = $1 and ($2::text is null or status = $2)",
    )
    .bind(bed.tenant)
    .bind(status)
    .fetch_one(&bed.pool)
    .await
    .unwrap()
}
