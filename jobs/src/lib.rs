//! Tarefa's shared library: everything `api-lite`, `worker` and `scheduler` share.
//!
//! Layout:
//! - [`config`]: `Settings`, loaded from `config/*.toml` and `TAREFA__*` env vars.
//! - [`blobs`]: the blob store for uploaded files (local directory or S3), by SHA-256.
//! - [`crypt`]: encryption at rest: per-tenant data keys, master keys, rotation.
//! - [`channels`]: email, FCM push, SMS, WhatsApp, signed webhooks, templates, SSRF guard.
//! - [`engine`]: the queue engine (its own crate, `engine/`, re-exported): an
//!   apalis backend with its own Redis data model and Lua scripts. It knows no
//!   job kind; [`kinds::KindHandler`] is how it runs ours.
//! - [`kinds`]: the job kinds (payload + handler + policy), one module each, and their registry.
//! - [`store`]: PostgreSQL pool, migrations, tenants, API keys, schedules.
//! - [`shutdown`]: the Ctrl-C / SIGTERM future every binary uses.
//! - [`telemetry`]: JSON logs.
//! - `testing` (feature): SMTP sink, provider fakes, a Stripe fake and a test bed for notifications.

pub mod blobs;
pub mod channels;
pub mod config;
pub mod crypt;
/// The queue engine (the `tarefa-engine` crate), re-exported so callers read `jobs::engine::…`.
pub use tarefa_engine as engine;
pub mod kinds;
pub mod limits;
pub mod shutdown;
pub mod store;
pub mod telemetry;
#[cfg(feature = "testing")]
pub mod testing;

pub use config::Settings;
