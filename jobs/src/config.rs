//! Settings: one typed struct for the three binaries, loaded from
//! `config/default.toml`, then `config/$TAREFA_ENV.toml`, then environment
//! variables `TAREFA__SECTION__KEY`. Secrets come only from the environment;
//! `Debug` never prints them.

use std::collections::BTreeMap;
use std::path::PathBuf;

use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};

use crate::engine::EngineConfig;
pub use crate::engine::EngineSettings;

/// Everything a Tarefa process can be told.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    pub redis: RedisSettings,
    pub database: DatabaseSettings,
    pub api: ApiSettings,
    pub engine: EngineSettings,
    pub worker: WorkerSettings,
    pub auth: AuthSettings,
    pub scheduler: SchedulerSettings,
    pub notifications: crate::channels::NotificationSettings,
    pub telemetry: TelemetrySettings,
    pub documents: crate::kinds::documents::DocumentsSettings,
    pub alerts: crate::kinds::alerts::AlertsSettings,
    pub payments: crate::kinds::payments::PaymentsSettings,
    pub campaigns: crate::kinds::campaigns::CampaignsSettings,
    pub reports: crate::kinds::reports::ReportsSettings,
    pub limits: crate::limits::LimitsSettings,
    pub console: ConsoleSettings,
    pub metrics: MetricsSettings,
}

/// `[console]`: how the ops console's session cookie is marked.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ConsoleSettings {
    /// `auto`: the cookie is `Secure` unless `api.listen` is a loopback
    /// address (or the request came through an HTTPS proxy); `always`; `never`.
    pub secure_cookie: String,
}

impl Default for ConsoleSettings {
    fn default() -> Self {
        Self {
            secure_cookie: "auto".into(),
        }
    }
}

/// `[metrics]`: `/metrics` access.
#[derive(Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MetricsSettings {
    /// When set, `/metrics` wants `Authorization: Bearer <token>`; empty = open.
    /// Set it through TAREFA__METRICS__TOKEN.
    pub token: String,
}

impl std::fmt::Debug for MetricsSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MetricsSettings")
            .field(
                "token",
                &if self.token.is_empty() {
                    ""
                } else {
                    "<redacted>"
                },
            )
            .finish()
    }
}

/// Trace export. Off (logs only) unless `otlp_endpoint` is set.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TelemetrySettings {
    /// OTLP/HTTP collector base URL (e.g. `http://otel-collector:4318`); spans are
    /// POSTed as protobuf to `<endpoint>/v1/traces`. Empty = no export.
    pub otlp_endpoint: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RedisSettings {
    /// One server (`redis://`), or a cluster by its seed nodes
    /// (`redis+cluster://h:p,h:p,…`). Ignored when `sentinels` is set.
    pub url: String,
    /// Every key Tarefa writes starts with this prefix.
    pub prefix: String,
    /// Sentinel addresses (`host:port`); when set, Tarefa uses the master
    /// they name `master_name` and follows its failovers.
    pub sentinels: Vec<String>,
    pub master_name: String,
}

impl RedisSettings {
    /// The engine's URL: `url`, or a `redis+sentinel://` one from `sentinels`.
    pub fn engine_url(&self) -> String {
        if self.sentinels.is_empty() {
            self.url.clone()
        } else {
            tarefa_engine::conn::Topology::sentinel_url(&self.sentinels, &self.master_name)
        }
    }
}

impl Default for RedisSettings {
    fn default() -> Self {
        Self {
            url: "redis://127.0.0.1:6379".into(),
            prefix: "tarefa".into(),
            sentinels: Vec::new(),
            master_name: String::new(),
        }
    }
}

#[derive(Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DatabaseSettings {
    pub url: String,
    pub max_connections: u32,
}

impl Default for DatabaseSettings {
    fn default() -> Self {
        Self {
            url: "postgres://postgres@127.0.0.1:5432/tarefa".into(),
            max_connections: 10,
        }
    }
}

impl std::fmt::Debug for DatabaseSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DatabaseSettings")
            .field("url", &redact_url(&self.url))
            .field("max_connections", &self.max_connections)
            .finish()
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ApiSettings {
    pub listen: String,
    pub body_limit: usize,
    pub cors_origins: Vec<String>,
}

impl Default for ApiSettings {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".into(),
            body_limit: 2 * 1024 * 1024,
            cors_origins: Vec::new(),
        }
    }
}

/// Queue-engine knobs shared by every queue (see `engine` module docs).

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WorkerSettings {
    /// Queues this process serves; empty means all.
    pub queues: Vec<String>,
    pub default_concurrency: usize,
    /// Concurrency per queue name.
    pub concurrency: BTreeMap<String, usize>,
}

impl Default for WorkerSettings {
    fn default() -> Self {
        Self {
            queues: Vec::new(),
            default_concurrency: 8,
            concurrency: BTreeMap::new(),
        }
    }
}

impl WorkerSettings {
    pub fn concurrency_for(&self, queue: &str) -> usize {
        self.concurrency
            .get(queue)
            .copied()
            .unwrap_or(self.default_concurrency)
            .max(1)
    }
}

#[derive(Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthSettings {
    /// JWT claim holding the tenant id (e.g. `institution_id`).
    pub jwt_tenant_claim: String,
    /// Global HS256 secret for product-issued JWTs (env only).
    pub jwt_hs256_secret: Option<String>,
    /// Global RS256 public key, PEM (env only).
    pub jwt_rs256_public_key: Option<String>,
    /// A validated API key is trusted from memory this long (revocations reach
    /// every replica sooner, through the Redis auth epoch); 0 = look every
    /// request's key up in PostgreSQL.
    pub key_cache_ttl_ms: u64,
}

impl Default for AuthSettings {
    fn default() -> Self {
        Self {
            jwt_tenant_claim: "tenant_id".into(),
            jwt_hs256_secret: None,
            jwt_rs256_public_key: None,
            key_cache_ttl_ms: 60_000,
        }
    }
}

impl std::fmt::Debug for AuthSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthSettings")
            .field("jwt_tenant_claim", &self.jwt_tenant_claim)
            .field(
                "jwt_hs256_secret",
                &self.jwt_hs256_secret.as_ref().map(|_| "<redacted>"),
            )
            .field(
                "jwt_rs256_public_key",
                &self.jwt_rs256_public_key.as_ref().map(|_| "<set>"),
            )
            .field("key_cache_ttl_ms", &self.key_cache_ttl_ms)
            .finish()
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SchedulerSettings {
    pub schedules_file: String,
    pub tick_ms: u64,
    /// Event streams to consume (`[[scheduler.streams]]`), one consumer task each.
    pub streams: Vec<StreamSettings>,
    /// `host:port` of the scheduler's `/metrics` (stream lag gauges); empty = off.
    pub metrics_addr: String,
}

impl Default for SchedulerSettings {
    fn default() -> Self {
        Self {
            schedules_file: "config/schedules.toml".into(),
            tick_ms: 500,
            streams: Vec::new(),
            metrics_addr: String::new(),
        }
    }
}

/// One Redis Stream of product events (see `scheduler/src/events/`).
#[derive(Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StreamSettings {
    /// The stream key, as the product writes it.
    pub key: String,
    /// The product's Redis (may be another server than Tarefa's); empty = `redis.url`.
    pub redis_url: String,
    /// Consumer group shared by every scheduler replica.
    pub group: String,
    /// Names the product in `tenant_external_ids.source` (its tenant ids → Tarefa tenants).
    pub source: String,
    /// Where a new group starts: `$` (entries from now on) or `0` (the whole stream).
    pub start_id: String,
    /// Entries per read.
    pub batch: usize,
    /// XREADGROUP BLOCK, ms: how long an idle read waits (and how late shutdown is seen).
    pub block_ms: u64,
    /// An entry pending this long with a consumer is presumed orphaned and
    /// reclaimed (XAUTOCLAIM); keep it above the slowest handling.
    pub min_idle_ms: u64,
    /// Deliveries before an entry goes to the dead-letter table.
    pub max_deliveries: u32,
}

impl Default for StreamSettings {
    fn default() -> Self {
        Self {
            key: "booking-events".into(),
            redis_url: String::new(),
            group: "tarefa".into(),
            source: "booking".into(),
            start_id: "$".into(),
            batch: 100,
            block_ms: 2_000,
            min_idle_ms: 60_000,
            max_deliveries: 5,
        }
    }
}

impl std::fmt::Debug for StreamSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamSettings")
            .field("key", &self.key)
            .field("redis_url", &redact_url(&self.redis_url))
            .field("group", &self.group)
            .field("source", &self.source)
            .field("batch", &self.batch)
            .field("min_idle_ms", &self.min_idle_ms)
            .field("max_deliveries", &self.max_deliveries)
            .finish()
    }
}

/// Why settings could not be loaded; the message names the bad key.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("invalid configuration: {0}")]
    Invalid(String),
}

impl Settings {
    /// The queue engine's configuration: `[redis]` and `[engine]`.
    pub fn engine_config(&self) -> EngineConfig {
        EngineConfig {
            redis_url: self.redis.engine_url(),
            prefix: self.redis.prefix.clone(),
            settings: self.engine.clone(),
        }
    }

    /// Loads settings from `$TAREFA_CONFIG_DIR` (default `config`), the
    /// `$TAREFA_ENV` overlay and `TAREFA__*` environment variables.
    pub fn load() -> Result<Settings, ConfigError> {
        let dir =
            PathBuf::from(std::env::var("TAREFA_CONFIG_DIR").unwrap_or_else(|_| "config".into()));
        let mut figment = Figment::from(Serialized::defaults(Settings::default()))
            .merge(Toml::file(dir.join("default.toml")));
        if let Ok(env) = std::env::var("TAREFA_ENV") {
            let file = dir.join(format!("{env}.toml"));
            if !file.exists() {
                return Err(ConfigError::Invalid(format!(
                    "TAREFA_ENV={env} but {} does not exist",
                    file.display()
                )));
            }
            figment = figment.merge(Toml::file(file));
        }
        Self::from_figment(figment.merge(Env::prefixed("TAREFA__").split("__")))
    }

    fn from_figment(figment: Figment) -> Result<Settings, ConfigError> {
        let settings: Settings = figment
            .extract()
            .map_err(|e| ConfigError::Invalid(e.to_string()))?;
        settings.validate()?;
        Ok(settings)
    }

    /// Checks what serde cannot: URLs, addresses and ranges.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let bad = |key: &str, why: String| Err(ConfigError::Invalid(format!("{key}: {why}")));
        if !self.redis.sentinels.is_empty() && self.redis.master_name.is_empty() {
            return bad(
                "redis.master_name",
                "must name the master when redis.sentinels is set".into(),
            );
        }
        if let Err(e) = tarefa_engine::conn::Topology::parse(&self.redis.engine_url()) {
            return bad(
                "redis.url",
                format!(
                    "must be redis://, rediss:// or redis+cluster://h:p,h:p (got {:?}): {e}",
                    redact_url(&self.redis.url)
                ),
            );
        }
        let otlp = &self.telemetry.otlp_endpoint;
        if !(otlp.is_empty() || otlp.starts_with("http://") || otlp.starts_with("https://")) {
            return bad(
                "telemetry.otlp_endpoint",
                format!("must be empty or an http(s):// URL (got {otlp:?})"),
            );
        }
        if self.redis.prefix.is_empty() || self.redis.prefix.contains(['{', '}']) {
            return bad(
                "redis.prefix",
                "must be non-empty and contain no braces".into(),
            );
        }
        if !self.database.url.starts_with("postgres://")
            && !self.database.url.starts_with("postgresql://")
        {
            return bad("database.url", "must start with postgres://".into());
        }
        if self.api.listen.parse::<std::net::SocketAddr>().is_err() {
            return bad(
                "api.listen",
                format!("not a socket address: {:?}", self.api.listen),
            );
        }
        if self.engine.lease_ttl_ms < 1_000 {
            return bad("engine.lease_ttl_ms", "must be at least 1000".into());
        }
        self.documents.validate().map_err(ConfigError::Invalid)?;
        self.limits.validate().map_err(ConfigError::Invalid)?;
        if !matches!(
            self.console.secure_cookie.as_str(),
            "auto" | "always" | "never"
        ) {
            return bad(
                "console.secure_cookie",
                format!(
                    "must be auto, always or never (got {:?})",
                    self.console.secure_cookie
                ),
            );
        }
        if self.engine.max_deliveries == 0 || self.engine.claim_batch == 0 {
            return bad(
                "engine",
                "max_deliveries and claim_batch must be at least 1".into(),
            );
        }
        for (i, s) in self.scheduler.streams.iter().enumerate() {
            let key = format!("scheduler.streams[{i}]");
            if s.key.is_empty() || s.group.is_empty() || s.source.is_empty() {
                return bad(&key, "key, group and source must not be empty".into());
            }
            if s.batch == 0 || s.block_ms == 0 || s.max_deliveries == 0 {
                return bad(
                    &key,
                    "batch, block_ms and max_deliveries must be at least 1".into(),
                );
            }
            let url = &s.redis_url;
            if !(url.is_empty() || url.starts_with("redis://") || url.starts_with("rediss://")) {
                return bad(
                    &format!("{key}.redis_url"),
                    "must be empty or start with redis://".into(),
                );
            }
        }
        Ok(())
    }
}

/// `postgres://user:secret@host/db` → `postgres://user:***@host/db`.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.find(':') {
                Some(c) => format!("{}{}:***{}", &url[..s + 3], &creds[..c], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid() {
        Settings::default().validate().unwrap();
    }

    #[test]
    fn env_overrides_nested_keys() {
        let f = Figment::from(Serialized::defaults(Settings::default()))
            .merge(Serialized::default("redis.url", "redis://10.0.0.9:6380"));
        let s = Settings::from_figment(f).unwrap();
        assert_eq!(s.redis.url, "redis://10.0.0.9:6380");
    }

    #[test]
    fn redis_topologies_and_durability_come_from_settings() {
        let f = Figment::from(Serialized::defaults(Settings::default()))
            .merge(Serialized::default(
                "redis.url",
                "redis+cluster://h1:7000,h2:7001",
            ))
            .merge(Serialized::default("engine.durability", "replicated"));
        let s = Settings::from_figment(f).unwrap();
        assert_eq!(
            s.engine_config().redis_url,
            "redis+cluster://h1:7000,h2:7001"
        );
        assert_eq!(s.engine.durability, crate::engine::Durability::Replicated);
        // Parsed as `TAREFA__REDIS__SENTINELS` would be (own prefix: no other test sees it).
        std::env::set_var(
            "TAREFA_SENTINEL_TEST__REDIS__SENTINELS",
            r#"["s1:26379","s2:26379"]"#,
        );
        std::env::set_var("TAREFA_SENTINEL_TEST__REDIS__MASTER_NAME", "tarefa");
        let f = Figment::from(Serialized::defaults(Settings::default()))
            .merge(Env::prefixed("TAREFA_SENTINEL_TEST__").split("__"));
        let s = Settings::from_figment(f).unwrap();
        assert_eq!(
            s.engine_config().redis_url,
            "redis+sentinel://s1:26379,s2:26379/tarefa"
        );
        for (key, value, named) in [
            ("redis.url", "http://h:1", "redis.url"),
            ("redis.url", "redis+cluster://", "redis.url"),
            ("engine.durability", "sync", "durability"),
        ] {
            let f = Figment::from(Serialized::defaults(Settings::default()))
                .merge(Serialized::default(key, value));
            let err = Settings::from_figment(f).unwrap_err().to_string();
            assert!(err.contains(named), "{err}");
        }
        let f = Figment::from(Serialized::defaults(Settings::default()))
            .merge(Serialized::default("redis.sentinels", vec!["s1:26379"]));
        let err = Settings::from_figment(f).unwrap_err().to_string();
        assert!(err.contains("redis.master_name"), "{err}");
    }

    #[test]
    fn bad_setting_is_named() {
        let f = Figment::from(Serialized::defaults(Settings::default()))
            .merge(Serialized::default("api.listen", "not-an-addr"));
        let err = Settings::from_figment(f).unwrap_err().to_string();
        assert!(err.contains("api.listen"), "{err}");
    }

    #[test]
    fn streams_come_from_an_env_var_and_are_checked() {
        let f =
            Figment::from(Serialized::defaults(Settings::default())).merge(Serialized::default(
                "scheduler.streams",
                vec![StreamSettings {
                    batch: 0,
                    ..StreamSettings::default()
                }],
            ));
        let err = Settings::from_figment(f).unwrap_err().to_string();
        assert!(err.contains("scheduler.streams[0]"), "{err}");
        // Parsed as `TAREFA__SCHEDULER__STREAMS` would be (own prefix: no other test sees it).
        std::env::set_var(
            "TAREFA_STREAMS_TEST__SCHEDULER__STREAMS",
            r#"[{key="orders", start_id="0", max_deliveries=2}]"#,
        );
        let f = Figment::from(Serialized::defaults(Settings::default()))
            .merge(Env::prefixed("TAREFA_STREAMS_TEST__").split("__"));
        let s = Settings::from_figment(f).unwrap();
        assert_eq!(s.scheduler.streams.len(), 1);
        let st = &s.scheduler.streams[0];
        assert_eq!(
            (
                st.key.as_str(),
                st.start_id.as_str(),
                st.max_deliveries,
                st.group.as_str()
            ),
            ("orders", "0", 2, "tarefa")
        );
    }

    #[test]
    fn unknown_key_is_rejected() {
        let f = Figment::from(Serialized::defaults(Settings::default()))
            .merge(Serialized::default("redis.ulr", "x"));
        let err = Settings::from_figment(f).unwrap_err().to_string();
        assert!(err.contains("ulr"), "{err}");
    }

    #[test]
    fn telemetry_section_loads_and_checks_its_keys() {
        let f = Figment::from(Serialized::defaults(Settings::default()))
            .merge(Toml::file(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../config/default.toml"
            )))
            .merge(Serialized::default(
                "telemetry.otlp_endpoint",
                "http://collector:4318",
            ));
        let s = Settings::from_figment(f).unwrap();
        assert_eq!(s.telemetry.otlp_endpoint, "http://collector:4318");
        let f = Figment::from(Serialized::defaults(Settings::default()))
            .merge(Serialized::default("telemetry.otlp_endpoit", "x"));
        let err = Settings::from_figment(f).unwrap_err().to_string();
        assert!(err.contains("otlp_endpoit"), "{err}");
        let f = Figment::from(Serialized::defaults(Settings::default())).merge(
            Serialized::default("telemetry.otlp_endpoint", "collector:4317"),
        );
        let err = Settings::from_figment(f).unwrap_err().to_string();
        assert!(err.contains("telemetry.otlp_endpoint"), "{err}");
    }

    #[test]
    fn password_is_redacted() {
        assert_eq!(redact_url("postgres://u:pw@h/db"), "postgres://u:***@h/db");
        let d = DatabaseSettings {
            url: "postgres://u:topsecret@h/db".into(),
            ..Default::default()
        };
        assert!(!format!("{d:?}").contains("topsecret"));
    }
}
