//! Campaigns: WhatsApp bulk sends to a tenant's contacts — audiences by
//! tags, list or segment, a registered template with per-contact variables,
//! a rate held across every worker, pause/resume/cancel, Meta's error codes,
//! opt-outs, and live metrics. Each message goes through the notifications
//! outbox (dedup key `campaign:<campaign>:<contact>`), so a contact gets at
//! most one message whatever crashes, retries or second schedulers do.
//!
//! Layout: `model` (inputs, rows, rendering), `phone` (E.164, pure),
//! `window` (send window, pure), `contacts` (bulk upsert, CSV, opt-outs),
//! `audience` (audience → SQL, preview counts, freezing), `lifecycle`
//! (templates, campaigns, the state machine), `dispatch` (the
//! `campaigns.dispatch` job: recipients → send jobs at the rate), `send`
//! (the `campaigns.send` job: a chunk of recipients through the outbox,
//! Meta's codes, the quality guard), `batch` (the chunk's set-based
//! statements), `inbound` (status and message webhooks),
//! `metrics` (counts, rates, ETA, cost, per-minute series). Routes:
//! `api-lite/src/routes/campaigns.rs`; schema: migration 0013.

pub mod audience;
pub mod batch;
pub mod contacts;
pub mod dispatch;
pub mod eta;
pub mod inbound;
pub mod lifecycle;
pub mod metrics;
pub mod model;
pub mod phone;
pub mod send;
pub mod window;

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{JobContext, JobError, JobKind, KindPolicy};

/// The queue both campaign kinds run on.
pub const QUEUE: &str = "campaigns";
pub const DISPATCH: &str = "campaigns.dispatch";
pub const SEND: &str = "campaigns.send";

/// `[campaigns]` settings.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CampaignsSettings {
    /// How often the dispatch job hands out a tick's worth of recipients.
    pub tick_ms: u64,
    /// Recipients handed out but not yet answered, at most this many seconds' worth of the rate
    /// (keeps a pause quick and the queue short).
    pub in_flight_secs: u64,
    /// A recipient `dispatched` this long without a run is handed out again (its job was lost).
    pub redispatch_after_secs: u64,
    /// Meta 131049 (per-user marketing limit): the recipient waits this long.
    pub defer_hours: u32,
    /// Quality guard: over the last `quality_window` answers (at least
    /// `quality_min_sends`), a failure share above `quality_max_failure_rate`
    /// pauses the campaign. `quality_window = 0` turns it off.
    pub quality_window: u32,
    pub quality_min_sends: u32,
    pub quality_max_failure_rate: f64,
    /// Unique contacts per rolling 24 h for tenants without a `messaging_limit` of their own; 0 = unlimited.
    pub default_messaging_limit: u32,
    /// Price per message by country code and category (`BR.marketing`), in `prices_currency`, as of `prices_date`.
    pub prices: BTreeMap<String, BTreeMap<String, f64>>,
    pub prices_currency: String,
    pub prices_date: String,
}

impl Default for CampaignsSettings {
    fn default() -> Self {
        let br: BTreeMap<String, f64> = [
            ("marketing".to_string(), 0.0625),
            ("utility".to_string(), 0.0068),
            ("authentication".to_string(), 0.0068),
        ]
        .into();
        CampaignsSettings {
            tick_ms: 1000,
            in_flight_secs: 2,
            redispatch_after_secs: 300,
            defer_hours: 24,
            quality_window: 100,
            quality_min_sends: 20,
            quality_max_failure_rate: 0.25,
            default_messaging_limit: 0,
            prices: [("BR".to_string(), br)].into(),
            prices_currency: "USD".into(),
            prices_date: "2026-01-01".into(),
        }
    }
}

impl CampaignsSettings {
    pub fn price(&self, country: &str, category: &str) -> f64 {
        self.prices
            .get(country)
            .and_then(|c| c.get(category))
            .copied()
            .unwrap_or(0.0)
    }
}

/// `campaigns.dispatch`: hands recipients out at the campaign's rate (see [`dispatch`]).
pub struct Dispatch;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DispatchPayload {
    pub campaign_id: Uuid,
    pub seq: i64,
}

impl JobKind for Dispatch {
    const NAME: &'static str = DISPATCH;
    type Payload = DispatchPayload;

    fn policy() -> KindPolicy {
        KindPolicy {
            timeout: Duration::from_secs(60),
            max_attempts: 20,
            ..KindPolicy::new(QUEUE)
        }
    }

    async fn run(p: DispatchPayload, ctx: JobContext) -> Result<serde_json::Value, JobError> {
        let pg = ctx
            .resources
            .pg
            .clone()
            .ok_or_else(|| JobError::permanent("campaigns.dispatch needs PostgreSQL"))?;
        let tenant: Uuid = ctx
            .tenant
            .parse()
            .map_err(|_| JobError::permanent("tenant is not a UUID"))?;
        let s = &ctx.resources.settings.campaigns;
        match dispatch::tick(&pg, &ctx.resources.engine, s, tenant, p.campaign_id, p.seq).await? {
            dispatch::Tick::Stop(why) => Ok(serde_json::json!({ "stopped": why })),
            dispatch::Tick::Again(delay) => Err(JobError::Snooze { delay }),
        }
    }
}

/// `campaigns.send`: a chunk of recipients (see [`send`]).
pub struct Send;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
// Named apart from the same-named schema of another feature (components are one namespace).
#[schema(as = CampaignSendPayload)]
pub struct SendPayload {
    pub campaign_id: Uuid,
    /// The chunk's recipients (one to [`dispatch::CHUNK_MAX`]).
    #[serde(default)]
    pub recipient_ids: Vec<Uuid>,
    /// One recipient: the payload of jobs pushed before chunks existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipient_id: Option<Uuid>,
}

impl JobKind for Send {
    const NAME: &'static str = SEND;
    type Payload = SendPayload;

    fn policy() -> KindPolicy {
        KindPolicy {
            // Above the provider timeout: a handler stopped mid-call leaves `unknown`.
            timeout: Duration::from_secs(90),
            max_attempts: 8,
            backoff_base: Duration::from_secs(1),
            backoff_cap: Duration::from_secs(120),
            // Personal data (a contact's send): sealed at rest.
            encrypt: true,
            ..KindPolicy::new(QUEUE)
        }
    }

    async fn run(p: SendPayload, ctx: JobContext) -> Result<serde_json::Value, JobError> {
        let mut ids = p.recipient_ids;
        ids.extend(p.recipient_id);
        send::process(p.campaign_id, &ids, &ctx).await
    }
}
