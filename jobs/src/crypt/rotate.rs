//! Master key rotation: re-wrap every tenant's data key under the current
//! master key (the first of `TAREFA_MASTER_KEYS`). The data keys themselves
//! do not change, so nothing sealed in Redis or the blob store is rewritten
//! and running processes (whose caches hold unwrapped data keys) never notice.
//!
//! Steps: (1) put the new key first in `TAREFA_MASTER_KEYS`, keep the old one
//! listed, restart the processes one by one; (2) run `worker keys rotate-master`;
//! (3) when it reports 0 left under old keys, drop the old key from the list.

use sqlx::PgPool;

use super::aead;
use super::keyring::wrap_aad;
use super::master::MasterKeys;
use super::store::{self, WrappedKey};

/// What a rotation did.
#[derive(Debug, Default, PartialEq)]
pub struct Rotation {
    /// The master key now wrapping.
    pub current: String,
    /// Data keys re-wrapped by this run.
    pub rewrapped: u64,
    /// Data keys that were already under the current key (or re-wrapped by a concurrent run).
    pub already_current: u64,
    /// Data keys left as they were, with why (old master key not listed, bytes do not unwrap).
    pub failed: Vec<String>,
}

/// Re-wraps every data key not under `master`'s current key.
pub async fn rotate_master(pool: &PgPool, master: &MasterKeys) -> Result<Rotation, sqlx::Error> {
    let (cur_id, cur) = master.current();
    let mut out = Rotation {
        current: cur_id.to_string(),
        ..Rotation::default()
    };
    for row in store::not_under(pool, cur_id).await? {
        let name = format!("tenant {} data key {}", row.tenant_id, row.key_id);
        let Some(old) = master.get(&row.master_key_id) else {
            out.failed.push(format!(
                "{name}: wrapped by {:?}, not in {}",
                row.master_key_id,
                super::master::ENV
            ));
            continue;
        };
        let aad = wrap_aad(row.tenant_id, row.key_id);
        let raw = match aead::open(old, &aad, &row.wrapped) {
            Ok(raw) => raw,
            Err(e) => {
                out.failed.push(format!("{name}: {e}"));
                continue;
            }
        };
        let new = WrappedKey {
            wrapped: aead::seal(cur, &aad, &raw),
            master_key_id: cur_id.to_string(),
            ..row.clone()
        };
        // False: a concurrent run re-wrapped it first (counted below).
        if store::rewrap(pool, &new, &row.master_key_id).await? {
            out.rewrapped += 1;
        }
    }
    let under = store::count_under(pool, cur_id).await?.max(0) as u64;
    out.already_current = under.saturating_sub(out.rewrapped);
    Ok(out)
}
