//! The keyring: each tenant's data keys, unwrapped once per process and kept
//! in memory, and the engine's [`PayloadCipher`] over them. A tenant's first
//! seal creates its data key (random, wrapped by the current master key,
//! stored in `tenant_data_keys`). Reads accept every data key the tenant ever
//! had, wrapped by any configured master key.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, RwLock};

use futures::future::BoxFuture;
use futures::FutureExt;
use ring::aead::LessSafeKey;
use sqlx::PgPool;
use uuid::Uuid;

use super::aead::{self, OpenError};
use super::master::MasterKeys;
use super::store::{self, WrappedKey};
// Data keys are looked up by explicit tenant id, whoever the caller acts for.
use crate::engine::{CipherError, PayloadCipher};
use crate::store::scope;

/// The associated data of a wrapped data key: its tenant and id, so a row
/// copied to another tenant does not unwrap.
pub(crate) fn wrap_aad(tenant: Uuid, key_id: i32) -> Vec<u8> {
    format!("tarefa-data-key\0{tenant}\0{key_id}").into_bytes()
}

/// Per-tenant data keys over PostgreSQL, cached; seals for the kinds it names.
pub struct Keyring {
    pool: PgPool,
    master: MasterKeys,
    sealed_kinds: HashSet<String>,
    /// Unwrapped keys by (tenant, key id); read on every seal and open.
    keys: RwLock<HashMap<(Uuid, i32), Arc<LessSafeKey>>>,
    /// The key id each tenant seals with.
    current: RwLock<HashMap<Uuid, i32>>,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keyring")
            .field("master", &self.master)
            .field("sealed_kinds", &self.sealed_kinds)
            .finish_non_exhaustive()
    }
}

fn tenant_id(tenant: &str) -> Result<Uuid, CipherError> {
    Uuid::parse_str(tenant)
        .map_err(|_| CipherError::Corrupt(format!("tenant {tenant:?} is not a tenant id")))
}

fn unavailable(e: sqlx::Error) -> CipherError {
    CipherError::Unavailable(format!("postgres: {e}"))
}

impl Keyring {
    /// A keyring sealing `sealed_kinds` (see [`super::sealed_kinds`]).
    pub fn new(pool: PgPool, master: MasterKeys, sealed_kinds: HashSet<String>) -> Keyring {
        Keyring {
            pool,
            master,
            sealed_kinds,
            keys: RwLock::default(),
            current: RwLock::default(),
        }
    }

    pub fn master(&self) -> &MasterKeys {
        &self.master
    }

    pub fn sealed_kinds(&self) -> &HashSet<String> {
        &self.sealed_kinds
    }

    fn cached(&self, tenant: Uuid, key_id: i32) -> Option<Arc<LessSafeKey>> {
        self.keys
            .read()
            .expect("keyring lock")
            .get(&(tenant, key_id))
            .cloned()
    }

    /// Unwraps a stored data key and caches it.
    fn unwrap_row(&self, row: &WrappedKey) -> Result<Arc<LessSafeKey>, CipherError> {
        let master = self.master.get(&row.master_key_id).ok_or_else(|| {
            // Not the value's fault: a process started without the old master key.
            CipherError::Unavailable(format!(
                "data key {} of tenant {} is wrapped by master key {:?}, which {} does not list",
                row.key_id,
                row.tenant_id,
                row.master_key_id,
                super::master::ENV
            ))
        })?;
        let raw = aead::open(master, &wrap_aad(row.tenant_id, row.key_id), &row.wrapped).map_err(
            |e| {
                CipherError::Corrupt(format!(
                    "data key {} of tenant {}: {e}",
                    row.key_id, row.tenant_id
                ))
            },
        )?;
        let bytes: [u8; aead::KEY_LEN] = raw
            .try_into()
            .map_err(|_| CipherError::Corrupt("a data key has 32 bytes".into()))?;
        let key = Arc::new(aead::key(&bytes));
        self.keys
            .write()
            .expect("keyring lock")
            .insert((row.tenant_id, row.key_id), key.clone());
        Ok(key)
    }

    /// The key id and key `tenant` seals with, created on its first use.
    pub async fn current_key(&self, tenant: Uuid) -> Result<(i32, Arc<LessSafeKey>), CipherError> {
        let kid = self
            .current
            .read()
            .expect("keyring lock")
            .get(&tenant)
            .copied();
        if let Some(k) = kid.and_then(|kid| self.cached(tenant, kid).map(|k| (kid, k))) {
            return Ok(k);
        }
        let row = match scope::as_system(store::current(&self.pool, tenant))
            .await
            .map_err(unavailable)?
        {
            Some(row) => row,
            None => {
                let (mid, master) = self.master.current();
                let fresh = aead::random_key();
                let new = WrappedKey {
                    tenant_id: tenant,
                    key_id: 1,
                    master_key_id: mid.to_string(),
                    wrapped: aead::seal(master, &wrap_aad(tenant, 1), &fresh),
                };
                scope::as_system(store::insert(&self.pool, &new))
                    .await
                    .map_err(|e| match e {
                        sqlx::Error::Database(d) if d.is_foreign_key_violation() => {
                            CipherError::Corrupt(format!("unknown tenant {tenant}"))
                        }
                        e => unavailable(e),
                    })?;
                // Another process may have won the insert: use whatever is stored.
                scope::as_system(store::current(&self.pool, tenant))
                    .await
                    .map_err(unavailable)?
                    .ok_or_else(|| CipherError::Unavailable("data key vanished".into()))?
            }
        };
        let key = self.unwrap_row(&row)?;
        self.current
            .write()
            .expect("keyring lock")
            .insert(tenant, row.key_id);
        Ok((row.key_id, key))
    }

    /// Data key `key_id` of `tenant`.
    pub async fn key(&self, tenant: Uuid, key_id: i32) -> Result<Arc<LessSafeKey>, CipherError> {
        if let Some(k) = self.cached(tenant, key_id) {
            return Ok(k);
        }
        match scope::as_system(store::get(&self.pool, tenant, key_id))
            .await
            .map_err(unavailable)?
        {
            Some(row) => self.unwrap_row(&row),
            None => Err(CipherError::Corrupt(format!(
                "tenant {tenant} has no data key {key_id}"
            ))),
        }
    }

    /// Seals bytes for `tenant` into a token (`v1:<key id>:…`).
    pub async fn seal_for(
        &self,
        tenant: &str,
        aad: &[u8],
        plaintext: &[u8],
    ) -> Result<String, CipherError> {
        let (kid, key) = self.current_key(tenant_id(tenant)?).await?;
        Ok(aead::token(kid as u32, &aead::seal(&key, aad, plaintext)))
    }

    /// Opens a token of `tenant`.
    pub async fn open_for(
        &self,
        tenant: &str,
        aad: &[u8],
        token: &str,
    ) -> Result<Vec<u8>, CipherError> {
        let t = tenant_id(tenant)?;
        let corrupt = |e: OpenError| CipherError::Corrupt(e.to_string());
        let (kid, sealed) = aead::parse_token(token).map_err(corrupt)?;
        let kid =
            i32::try_from(kid).map_err(|_| CipherError::Corrupt("key id out of range".into()))?;
        let key = self.key(t, kid).await?;
        aead::open(&key, aad, &sealed).map_err(corrupt)
    }
}

impl PayloadCipher for Keyring {
    fn seals(&self, kind: &str) -> bool {
        self.sealed_kinds.contains(kind)
    }

    fn seal<'a>(
        &'a self,
        tenant: &'a str,
        aad: &'a [u8],
        plaintext: &'a [u8],
    ) -> BoxFuture<'a, Result<String, CipherError>> {
        self.seal_for(tenant, aad, plaintext).boxed()
    }

    fn open<'a>(
        &'a self,
        tenant: &'a str,
        aad: &'a [u8],
        token: &'a str,
    ) -> BoxFuture<'a, Result<Vec<u8>, CipherError>> {
        self.open_for(tenant, aad, token).boxed()
    }
}
