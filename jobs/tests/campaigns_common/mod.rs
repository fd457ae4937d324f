//! Shared by the campaign tests: a [`Bed`] with the tenant's WhatsApp channel,
//! a registered template, contacts, a campaign, and a local receiver that
//! checks Meta's signature on status webhooks from the fake and applies them
//! as `POST /v1/callbacks/whatsapp` would.
#![allow(dead_code)]

use jobs::kinds::campaigns::model::{Campaign, CampaignInput, ContactInput, TemplateInput};
use jobs::kinds::campaigns::{contacts, lifecycle};
use jobs::kinds::notify::admin;
use jobs::testing::eventually;
use jobs::testing::whatsapp::{callback_receiver, Callbacks};
pub use jobs::testing::Bed;
use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;

pub const SENDER: &str = "1055001";
pub const APP_SECRET: &str = "meta-app-secret";

/// A bed whose settings tick fast, with the WhatsApp channel and the `promo` template.
pub async fn bed(pool: PgPool) -> Bed {
    let mut bed = Bed::new(pool).await;
    bed.settings.campaigns.tick_ms = 100;
    Bed::set_env("TEST_WA_TOKEN", "EAAG-test-token");
    admin::put_channel(
        &bed.pool,
        bed.tenant,
        "whatsapp",
        &json!({"phone_number_id": "9999", "access_token_env": "TEST_WA_TOKEN"}),
        true,
    )
    .await
    .unwrap();
    template(&bed, "marketing").await;
    bed
}

pub async fn template(bed: &Bed, category: &str) {
    let t: TemplateInput = serde_json::from_value(json!({
        "name": "promo", "category": category, "body": "Olá {{1}}, seu cupom é {{2}}",
        "parameters": ["first_name", "coupon"]
    }))
    .unwrap();
    lifecycle::put_template(&bed.pool, bed.tenant, &t)
        .await
        .unwrap();
}

/// Phone digits of contact `i` (as the fake sees `to`): 55 11 9xxxx-xxxx.
pub fn digits(i: usize) -> String {
    format!("55119{:08}", 10_000_000 + i)
}

pub fn contact(i: usize, tags: &[&str]) -> ContactInput {
    serde_json::from_value(json!({
        "external_id": format!("c{i}"), "name": format!("Cliente {i} Silva"),
        "phone": format!("+{}", digits(i)), "tags": tags, "attributes": {"coupon": format!("C{i}")}
    }))
    .unwrap()
}

pub async fn add_contacts(bed: &Bed, rows: Vec<ContactInput>) {
    for chunk in rows.chunks(10_000) {
        contacts::upsert(&bed.pool, bed.tenant, chunk)
            .await
            .unwrap();
    }
}

pub fn input(rate: u32) -> CampaignInput {
    serde_json::from_value(json!({
        "name": "Black Friday", "sender_phone_number_id": SENDER, "template": "promo",
        "parameters": {"first_name": {"source": "first_name"}, "coupon": {"source": "attributes.coupon", "default": "BEMVINDO"}},
        "audience": {"type": "all"}, "rate_per_second": rate
    }))
    .unwrap()
}

pub async fn campaign(bed: &Bed, input: &CampaignInput) -> Campaign {
    lifecycle::create(&bed.pool, bed.tenant, input)
        .await
        .unwrap()
}

pub async fn act(bed: &Bed, id: Uuid, action: &str) -> Result<Campaign, lifecycle::CampaignError> {
    lifecycle::act(&bed.pool, &bed.engine, bed.tenant, id, action).await
}

pub async fn state(bed: &Bed, id: Uuid) -> Campaign {
    lifecycle::get(&bed.pool, bed.tenant, id)
        .await
        .unwrap()
        .unwrap()
}

/// Waits until the campaign is in `s`.
pub async fn wait_state(bed: &Bed, id: Uuid, s: &str) -> Campaign {
    eventually(|| async { Some(state(bed, id).await) })
        .until(|c| c.state == s)
        .await
}

/// Recipients per status.
pub async fn counts(pool: &PgPool, id: Uuid) -> std::collections::BTreeMap<String, i64> {
    let rows: Vec<(String, i64)> = sqlx::query_as(
        "select status, count(*) from campaign_recipients where campaign_id = $1 group by status",
    )
    .bind(id)
    .fetch_all(pool)
    .await
    .unwrap();
    rows.into_iter().collect()
}

/// One recipient's (status, reason, error_code) by contact index.
pub async fn recipient(pool: &PgPool, id: Uuid, i: usize) -> (String, Option<String>, Option<i32>) {
    sqlx::query_as(
        "select r.status, r.reason, r.error_code from campaign_recipients r join contacts c on c.id = r.contact_id \
         where r.campaign_id = $1 and c.external_id = $2",
    )
    .bind(id)
    .bind(format!("c{i}"))
    .fetch_one(pool)
    .await
    .unwrap()
}

/// Points the fake's status webhooks at a fresh receiver.
pub async fn callbacks(bed: &Bed, statuses: Vec<&'static str>) {
    let url = callback_receiver(bed.pool.clone(), APP_SECRET).await;
    bed.fakes.whatsapp_callbacks(Callbacks {
        url,
        app_secret: APP_SECRET.into(),
        statuses,
        waba_id: "waba-1".into(),
    });
}
