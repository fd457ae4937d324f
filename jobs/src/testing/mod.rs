//! Tarefa's one test kit (feature `testing`; tests and the bench only).
//!
//! - The engine half, re-exported from `engine::testing`: [`redis_url`],
//!   [`RedisPrefix`] (random key prefix removed on drop), [`TestEngine`],
//!   [`WorkerHandle`] (a queue served in-process), [`FnHandler`],
//!   [`eventually`] / [`wait_job`] (poll a state instead of sleeping).
//! - [`database_url`], [`test_settings`] (settings on a prefix, short leases),
//!   [`create_tenant`] (a tenant with a unique slug).
//! - A real SMTP server ([`smtp::SmtpSink`]) and local provider fakes
//!   ([`providers::Providers`]); a Stripe fake for payments ([`stripe::StripeFake`]);
//!   an LLM fake (OpenAI and Gemini wire formats) for the documents'
//!   structuring fallback ([`llm::LlmFake`]).
//! - [`Bed`]: a tenant in the test's database wired to both, on its own Redis
//!   prefix, with settings pointing every provider base URL at the fakes and
//!   the SSRF allowlist at 127.0.0.1; it serves queues in-process with the
//!   builtin kinds ([`Bed::worker`]) and runs a kind by hand ([`Bed::ctx`]).

pub mod llm;
pub mod providers;
pub mod smtp;
pub mod stripe;
pub mod whatsapp;

use std::sync::Arc;

use sqlx::PgPool;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

pub use crate::engine::testing::{
    eventually, redis_url, remove_keys, wait_job, Eventually, FnHandler, RedisPrefix, TestEngine,
    WorkerHandle,
};
use crate::engine::{Engine, JobInfo};
use crate::kinds::{JobContext, KindHandler, Registry, Resources};
use crate::store::tenants;
use crate::Settings;

pub use providers::Providers;
pub use smtp::{SinkTls, SmtpSink};
pub use stripe::StripeFake;

/// The FCM service account's test key pair (PKCS#8 / SPKI PEM).
pub const FCM_PRIVATE_PEM: &str = include_str!("../../tests/fixtures/fcm_sa_private.pem");
pub const FCM_PUBLIC_PEM: &str = include_str!("../../tests/fixtures/fcm_sa_public.pem");

/// The PostgreSQL server tests use: `DATABASE_URL`, else the loopback one.
pub fn database_url() -> String {
    std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// Default settings on `keys`' Redis and prefix, with the engine's test
/// settings (2 s leases and shutdown grace).
pub fn test_settings(keys: &RedisPrefix) -> Settings {
    let mut settings = Settings::default();
    settings.redis.url = keys.url.clone();
    settings.redis.prefix = keys.prefix.clone();
    settings.engine = crate::engine::testing::test_settings();
    settings
}

/// Creates tenant `name` (São Paulo time, plan `standard`) under a unique slug.
pub async fn create_tenant(pool: &PgPool, name: &str) -> tenants::Tenant {
    tenants::create(
        pool,
        &tenants::NewTenant {
            name: name.into(),
            slug: format!(
                "{}-{}",
                tenants::slugify(name),
                &Uuid::new_v4().simple().to_string()[..8]
            ),
            timezone: "America/Sao_Paulo".into(),
            plan: "standard".into(),
        },
    )
    .await
    .expect("tenant")
}

/// Serves `queue` in-process with `registry`'s kinds and no database (kinds
/// that need none: `diag.*`, test kinds), as `worker` does.
pub fn worker(
    engine: &Engine,
    queue: &str,
    concurrency: usize,
    registry: Registry,
) -> WorkerHandle {
    let mut settings = Settings::default();
    settings.redis.url = engine.config().redis_url.clone();
    settings.redis.prefix = engine.config().prefix.clone();
    settings.engine = engine.config().settings.clone();
    let resources = Resources {
        engine: engine.clone(),
        pg: None,
        settings: Arc::new(settings),
    };
    let handler = KindHandler::new(Arc::new(registry), resources);
    WorkerHandle::spawn(engine.clone(), queue, concurrency, handler)
}

/// A tenant wired to an SMTP sink and the provider fakes, on its own Redis prefix.
pub struct Bed {
    /// The login role's pool: fixtures and assertions see every tenant's rows.
    pub pool: PgPool,
    /// The same database under row-level security, as handlers get it in a worker.
    pub app_pool: PgPool,
    pub engine: Engine,
    pub settings: Settings,
    pub tenant: Uuid,
    pub smtp: SmtpSink,
    pub fakes: Providers,
    /// Removes the bed's Redis keys when the bed drops.
    pub keys: RedisPrefix,
}

impl Bed {
    /// A bed on a fresh Redis prefix of [`redis_url`].
    pub async fn new(pool: PgPool) -> Bed {
        Bed::on(pool, RedisPrefix::new()).await
    }

    /// A bed on the caller's Redis prefix (e.g. on a test's own Redis server).
    pub async fn on(pool: PgPool, keys: RedisPrefix) -> Bed {
        let smtp = SmtpSink::start().await;
        let fakes = Providers::start().await;
        let mut settings = test_settings(&keys);
        let n = &mut settings.notifications;
        n.smtp_host = smtp.addr.ip().to_string();
        n.smtp_port = smtp.addr.port();
        n.fcm_base_url = fakes.base_url();
        n.whatsapp_base_url = fakes.base_url();
        n.twilio_base_url = fakes.base_url();
        n.ssrf_allow = vec!["127.0.0.1".into()];
        let engine = Engine::connect(settings.engine_config())
            .await
            .expect("redis");
        let t = create_tenant(&pool, "Escola Alfa").await;
        Bed {
            app_pool: crate::store::scoped_like(&pool),
            pool,
            engine,
            settings,
            tenant: t.id,
            smtp,
            fakes,
            keys,
        }
    }

    /// Serves `queue` in-process with the builtin kinds and the bed's resources, as `worker` does.
    pub fn worker(&self, queue: &str, concurrency: usize) -> WorkerHandle {
        self.worker_with(queue, concurrency, Registry::builtin())
    }

    /// Serves `queue` in-process with `registry`'s kinds and the bed's resources.
    pub fn worker_with(&self, queue: &str, concurrency: usize, registry: Registry) -> WorkerHandle {
        let handler = KindHandler::new(Arc::new(registry), self.resources());
        WorkerHandle::spawn(self.engine.clone(), queue, concurrency, handler)
    }

    /// Waits until job `id` of `queue` is in a final state.
    pub async fn wait_final(&self, queue: &str, id: &str) -> JobInfo {
        wait_job(&self.engine, queue, id, |j| j.status.is_final()).await
    }

    pub fn resources(&self) -> Resources {
        Resources {
            engine: self.engine.clone(),
            pg: Some(self.app_pool.clone()),
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
