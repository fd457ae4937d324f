//! Encryption at rest (issue 21 item 2): personal data sealed with
//! AES-256-GCM under per-tenant data keys, wrapped by master keys from the
//! environment.
//!
//! - [`aead`]: seal/open bytes, the stored token (pure).
//! - [`master`]: `TAREFA_MASTER_KEYS`, current first, all accepted.
//! - [`store`]: `tenant_data_keys` (wrapped data keys).
//! - [`keyring`]: data keys unwrapped once per process; the engine's `PayloadCipher`.
//! - [`rotate`]: `worker keys rotate-master`, re-wraps every data key.
//!
//! Which kinds are sealed is each kind's policy (`KindPolicy::encrypt`);
//! [`attach`] gives a process's engine the keyring, or says loudly that
//! encryption is off when no master key is configured.

pub mod aead;
pub mod keyring;
pub mod master;
pub mod rotate;
pub mod store;

use std::collections::HashSet;
use std::sync::Arc;

pub use keyring::Keyring;
pub use master::MasterKeys;
pub use rotate::{rotate_master, Rotation};

use crate::engine::Engine;
use crate::kinds::Registry;

/// The kinds of `registry` whose policy says `encrypt`.
pub fn sealed_kinds(registry: &Registry) -> HashSet<String> {
    registry
        .kinds()
        .filter(|k| k.policy().encrypt)
        .map(|k| k.name().to_string())
        .collect()
}

/// `engine` with a keyring from `TAREFA_MASTER_KEYS` sealing `registry`'s
/// personal-data kinds, or unchanged (and a warning) when no master key is
/// set. A malformed variable is an error: better not to start than to store
/// in clear what the operator meant to encrypt.
pub fn attach(
    engine: Engine,
    pool: &sqlx::PgPool,
    registry: &Registry,
    process: &str,
) -> Result<(Engine, Option<Arc<Keyring>>), String> {
    match MasterKeys::from_env()? {
        Some(master) => {
            let kinds = sealed_kinds(registry);
            let mut names: Vec<&str> = kinds.iter().map(String::as_str).collect();
            names.sort_unstable();
            tracing::info!(process, master_keys = ?master.ids(), sealed_kinds = ?names,
                "encryption at rest on: payloads and results of these kinds, documents and reports are sealed");
            let ring = Arc::new(Keyring::new(pool.clone(), master, kinds));
            Ok((engine.with_cipher(ring.clone()), Some(ring)))
        }
        None => {
            tracing::warn!(
                process,
                "encryption at rest OFF: {} is not set; personal-data payloads, \
                documents and reports are stored in clear",
                master::ENV
            );
            Ok((engine, None))
        }
    }
}
