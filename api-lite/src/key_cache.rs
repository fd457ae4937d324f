//! Validated API keys kept in memory, so a request costs no PostgreSQL round
//! trip. An entry lives `auth.key_cache_ttl_ms` at most; a revocation (route
//! `DELETE /v1/keys/{id}` or the CLI) bumps the Redis auth epoch, which each
//! replica reads at most every [`EPOCH_CHECK_MS`] (by whichever request finds
//! the last read stale) and drops its whole cache when it moved: a revoked
//! key stops working everywhere within about a quarter second. Expiry is
//! checked on every request against the cached `expires_at`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use uuid::Uuid;

use jobs::engine::Engine;

/// How stale this replica's view of the auth epoch may get, ms.
pub const EPOCH_CHECK_MS: u64 = 250;

/// `last_used_at` is written at most this often per key (per replica; the
/// UPDATE itself also skips keys touched within the minute).
pub const TOUCH_EVERY: Duration = Duration::from_secs(60);

/// A validated key as a request needs it.
#[derive(Clone, Debug)]
pub struct CachedKey {
    pub key_id: Uuid,
    pub tenant_id: Uuid,
    pub scopes: Vec<String>,
    pub expires_at: Option<DateTime<Utc>>,
    cached_at: Instant,
    touched_at: Option<Instant>,
}

impl CachedKey {
    pub fn new(
        key_id: Uuid,
        tenant_id: Uuid,
        scopes: Vec<String>,
        expires_at: Option<DateTime<Utc>>,
    ) -> CachedKey {
        CachedKey {
            key_id,
            tenant_id,
            scopes,
            expires_at,
            cached_at: Instant::now(),
            touched_at: None,
        }
    }
}

/// The cache, keyed by the SHA-256 of the whole key (a hit proves possession).
pub struct KeyCache {
    ttl: Duration,
    entries: Mutex<HashMap<String, CachedKey>>,
    /// The last auth epoch seen, and when (ms since `born`) it was read.
    epoch: AtomicI64,
    checked_ms: AtomicU64,
    checking: AtomicBool,
    born: Instant,
}

impl std::fmt::Debug for KeyCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyCache").field("ttl", &self.ttl).finish()
    }
}

/// Entries past this are evicted wholesale (a flood of distinct keys cannot grow memory without bound).
const MAX_ENTRIES: usize = 100_000;

impl KeyCache {
    /// `ttl_ms` = 0 disables the cache (every lookup misses, nothing is stored).
    pub fn new(ttl_ms: u64) -> KeyCache {
        KeyCache {
            ttl: Duration::from_millis(ttl_ms),
            entries: Mutex::new(HashMap::new()),
            epoch: AtomicI64::new(i64::MIN),
            checked_ms: AtomicU64::new(0),
            checking: AtomicBool::new(false),
            born: Instant::now(),
        }
    }

    pub fn enabled(&self) -> bool {
        !self.ttl.is_zero()
    }

    /// The cached key with this hash, if fresh. Reads the auth epoch first
    /// when the last read is older than [`EPOCH_CHECK_MS`].
    pub async fn get(&self, engine: &Engine, hash: &str) -> Option<CachedKey> {
        if !self.enabled() {
            return None;
        }
        self.sync_epoch(engine).await;
        let mut map = self.entries.lock().expect("key cache lock");
        match map.get(hash) {
            Some(e) if e.cached_at.elapsed() < self.ttl => Some(e.clone()),
            Some(_) => {
                map.remove(hash);
                None
            }
            None => None,
        }
    }

    /// The epoch this replica last saw; pass it to [`put`](Self::put) after a lookup.
    pub fn epoch_seen(&self) -> i64 {
        self.epoch.load(Ordering::Acquire)
    }

    /// Caches a key read from the database while the epoch was `seen`;
    /// skipped when the epoch moved meanwhile (the row may predate a revocation).
    pub fn put(&self, hash: String, key: CachedKey, seen: i64) {
        if !self.enabled() || seen == i64::MIN {
            return;
        }
        // The epoch moves under this lock (`sync_epoch`), so the check cannot race a clear.
        let mut map = self.entries.lock().expect("key cache lock");
        if self.epoch_seen() != seen {
            return;
        }
        if map.len() >= MAX_ENTRIES {
            map.clear();
        }
        map.insert(hash, key);
    }

    /// Forgets every cached key (this replica; others follow the epoch).
    pub fn clear(&self) {
        self.entries.lock().expect("key cache lock").clear();
    }

    /// `true` when this key's `last_used_at` is due a write; marks it written.
    pub fn should_touch(&self, hash: &str) -> bool {
        if !self.enabled() {
            return true;
        }
        let mut map = self.entries.lock().expect("key cache lock");
        match map.get_mut(hash) {
            Some(e) if e.touched_at.is_some_and(|t| t.elapsed() < TOUCH_EVERY) => false,
            Some(e) => {
                e.touched_at = Some(Instant::now());
                true
            }
            None => true,
        }
    }

    /// One request per [`EPOCH_CHECK_MS`] reads the epoch; a move clears the cache.
    async fn sync_epoch(&self, engine: &Engine) {
        let now = self.born.elapsed().as_millis() as u64;
        let last = self.checked_ms.load(Ordering::Acquire);
        let fresh = self.epoch.load(Ordering::Acquire) != i64::MIN
            && now.saturating_sub(last) < EPOCH_CHECK_MS;
        if fresh || self.checking.swap(true, Ordering::AcqRel) {
            // Someone else is reading it; until then the view is at most one period older.
            if fresh || self.epoch.load(Ordering::Acquire) != i64::MIN {
                return;
            }
        }
        match engine.auth_epoch().await {
            Ok(epoch) => {
                let mut map = self.entries.lock().expect("key cache lock");
                if self.epoch.swap(epoch, Ordering::AcqRel) != epoch {
                    map.clear();
                }
                drop(map);
                self.checked_ms
                    .store(self.born.elapsed().as_millis() as u64, Ordering::Release);
            }
            Err(e) => {
                // Redis down: trust nothing cached (the database still answers).
                tracing::warn!(error = %e, "auth epoch unreadable; key cache bypassed");
                let mut map = self.entries.lock().expect("key cache lock");
                self.epoch.store(i64::MIN, Ordering::Release);
                map.clear();
            }
        }
        self.checking.store(false, Ordering::Release);
    }
}
