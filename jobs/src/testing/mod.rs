//! Test and bench helpers (feature `testing`): a real SMTP server
//! ([`smtp::SmtpSink`]), local provider fakes ([`providers::Providers`]), and
//! [`Bed`]: a tenant in a test database wired to both, with settings pointing
//! every provider base URL at the fakes and the SSRF allowlist at 127.0.0.1.

pub mod providers;
pub mod smtp;

use std::sync::Arc;

use sqlx::PgPool;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::engine::{Engine, EngineConfig};
use crate::kinds::{JobContext, Resources};
use crate::store::tenants;
use crate::Settings;

pub use providers::Providers;
pub use smtp::{SinkTls, SmtpSink};

/// The FCM service account's test key pair (PKCS#8 / SPKI PEM).
pub const FCM_PRIVATE_PEM: &str = include_str!("../../tests/fixtures/fcm_sa_private.pem");
pub const FCM_PUBLIC_PEM: &str = include_str!("../../tests/fixtures/fcm_sa_public.pem");

/// A tenant wired to an SMTP sink and the provider fakes.
pub struct Bed {
    pub pool: PgPool,
    pub engine: Engine,
    pub settings: Settings,
    pub tenant: Uuid,
    pub smtp: SmtpSink,
    pub fakes: Providers,
}

impl Bed {
    /// `redis_prefix` keeps each test's queues apart (remove its keys afterwards).
    pub async fn new(pool: PgPool, redis_url: &str, redis_prefix: &str) -> Bed {
        let smtp = SmtpSink::start().await;
        let fakes = Providers::start().await;
        let mut settings = Settings::default();
        settings.redis.url = redis_url.to_string();
        settings.redis.prefix = redis_prefix.to_string();
        settings.engine.lease_ttl_ms = 2_000;
        settings.engine.shutdown_grace_ms = 2_000;
        let n = &mut settings.notifications;
        n.smtp_host = smtp.addr.ip().to_string();
        n.smtp_port = smtp.addr.port();
        n.fcm_base_url = fakes.base_url();
        n.whatsapp_base_url = fakes.base_url();
        n.twilio_base_url = fakes.base_url();
        n.ssrf_allow = vec!["127.0.0.1".into()];
        let engine = Engine::connect(EngineConfig::from_settings(&settings))
            .await
            .expect("redis");
        let t = tenants::create(
            &pool,
            &tenants::NewTenant {
                name: "Escola Alfa".into(),
                slug: format!("alfa-{}", &Uuid::new_v4().simple().to_string()[..8]),
                timezone: "America/Sao_Paulo".into(),
                plan: "standard".into(),
            },
        )
        .await
        .expect("tenant");
        Bed {
            pool,
            engine,
            settings,
            tenant: t.id,
            smtp,
            fakes,
        }
    }

    pub fn resources(&self) -> Resources {
        Resources {
            engine: self.engine.clone(),
            pg: Some(self.pool.clone()),
            settings: Arc::new(self.settings.clone()),
        }
    }

    /// A context for running a kind by hand (as a worker would, attempt `attempt`).
    pub fn ctx(&self, job_id: &str, attempt: u32) -> JobContext {
        JobContext {
            id: job_id.to_string(),
            queue: crate::kinds::notify::QUEUE.into(),
            kind: crate::kinds::notify::SEND.into(),
            tenant: self.tenant.to_string(),
            attempt,
            max_attempts: 8,
            trace: None,
            cancel: CancellationToken::new(),
            resources: self.resources(),
        }
    }

    /// Env var names are per process; nextest runs each test in its own.
    pub fn set_env(name: &str, value: &str) {
        // SAFETY-free on edition 2021; tests set these before any worker thread reads them.
        std::env::set_var(name, value);
    }

    /// A service-account JSON for the FCM fake, under a unique client email.
    pub fn service_account(&self) -> String {
        serde_json::json!({
            "type": "service_account", "project_id": "tarefa-test",
            "client_email": format!("push-{}@tarefa-test.iam.gserviceaccount.com", Uuid::new_v4().simple()),
            "private_key": FCM_PRIVATE_PEM, "token_uri": format!("{}/token", self.fakes.base_url()),
        })
        .to_string()
    }
}
