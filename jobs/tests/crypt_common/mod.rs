//! Shared by the encryption tests: `test.pii` (a sealed kind echoing its
//! personal data into its result), `test.plain` (the same, in clear), keyrings
//! and engines on a test's Redis prefix.
#![allow(dead_code)]

use std::sync::{Arc, Mutex};

use base64::Engine as _;
use jobs::crypt::{sealed_kinds, Keyring, MasterKeys};
use jobs::engine::{Engine, EngineConfig, NewJob};
use jobs::kinds::{JobContext, JobError, JobKind, KindPolicy, Registry};
use jobs::testing::{test_settings, RedisPrefix};
use serde::{Deserialize, Serialize};
use sqlx::PgPool;

pub const QUEUE: &str = "crypt";
pub const NAME: &str = "Ana Beatriz Souza";
pub const PHONE: &str = "+5511988887777";

/// Ids of the `test.pii` jobs that ran (a forged payload must never reach the handler).
pub static RAN: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// `test.pii`: a personal-data kind; echoes its data into its result.
struct Pii;

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
struct PiiPayload {
    name: String,
    phone: String,
    #[serde(default)]
    parent_result: Option<serde_json::Value>,
}

impl JobKind for Pii {
    const NAME: &'static str = "test.pii";
    type Payload = PiiPayload;

    fn policy() -> KindPolicy {
        KindPolicy {
            encrypt: true,
            max_attempts: 1,
            ..KindPolicy::new(QUEUE)
        }
    }

    async fn run(p: PiiPayload, ctx: JobContext) -> Result<serde_json::Value, JobError> {
        RAN.lock().unwrap().push(ctx.id.clone());
        Ok(serde_json::json!({
            "greeting": format!("Olá, {}", p.name),
            "phone": p.phone,
            "parent": p.parent_result,
        }))
    }
}

/// `test.plain`: the same, not sealed (a baseline that the raw scan finds plaintext in).
struct Plain;

impl JobKind for Plain {
    const NAME: &'static str = "test.plain";
    type Payload = PiiPayload;

    fn policy() -> KindPolicy {
        KindPolicy {
            max_attempts: 1,
            ..KindPolicy::new(QUEUE)
        }
    }

    async fn run(p: PiiPayload, _ctx: JobContext) -> Result<serde_json::Value, JobError> {
        Ok(serde_json::json!({ "name": p.name }))
    }
}

pub fn registry() -> Registry {
    let mut r = Registry::default();
    r.register::<Pii>();
    r.register::<Plain>();
    r
}

pub fn master_entry(id: &str, key: &[u8; 32]) -> String {
    format!(
        "{id}:{}",
        base64::engine::general_purpose::STANDARD.encode(key)
    )
}

/// A fresh keyring (empty cache, as a newly started process has) over `masters`.
pub fn keyring(pool: &PgPool, masters: &str) -> Arc<Keyring> {
    Arc::new(Keyring::new(
        pool.clone(),
        MasterKeys::parse(masters).unwrap(),
        sealed_kinds(&registry()),
    ))
}

pub async fn engine(keys: &RedisPrefix, ring: Option<Arc<Keyring>>) -> Engine {
    let e = Engine::connect(EngineConfig {
        redis_url: keys.url.clone(),
        prefix: keys.prefix.clone(),
        settings: test_settings(keys).engine,
    })
    .await
    .unwrap();
    match ring {
        Some(r) => e.with_cipher(r),
        None => e,
    }
}

pub fn pii(tenant: &str, name: &str) -> NewJob {
    NewJob {
        max_attempts: 1,
        ..NewJob::new(
            QUEUE,
            "test.pii",
            tenant,
            serde_json::json!({ "name": name, "phone": PHONE }),
        )
    }
}
