//! Master keys, from the environment only: `TAREFA_MASTER_KEYS` =
//! `<id>:<base64 of 32 bytes>[,<id>:<base64>…]`. The first wraps new and
//! rotated data keys; every one listed unwraps, so during a rotation both the
//! new and the old key are set and nothing stops.

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use ring::aead::LessSafeKey;

use super::aead::{self, KEY_LEN};

/// The environment variable holding the master keys.
pub const ENV: &str = "TAREFA_MASTER_KEYS";

/// The configured master keys, current first. `Debug` shows ids only.
pub struct MasterKeys {
    keys: Vec<(String, LessSafeKey)>,
}

impl std::fmt::Debug for MasterKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MasterKeys")
            .field("ids", &self.ids())
            .finish()
    }
}

fn valid_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b))
}

/// A new random entry `<id>:<base64 of 32 bytes>` for [`ENV`] (tests, first setup).
pub fn new_entry(id: &str) -> String {
    format!("{id}:{}", STANDARD.encode(aead::random_key()))
}

impl MasterKeys {
    /// Parses `k2:<base64>,k1:<base64>` (standard or URL-safe base64 of 32 bytes).
    /// The error never repeats key material.
    pub fn parse(s: &str) -> Result<MasterKeys, String> {
        let mut keys: Vec<(String, LessSafeKey)> = Vec::new();
        for (i, entry) in s.split(',').map(str::trim).enumerate() {
            if entry.is_empty() {
                continue;
            }
            let Some((id, b64)) = entry.split_once(':') else {
                return Err(format!("{ENV} entry {}: expected <id>:<base64 key>", i + 1));
            };
            let id = id.trim();
            if !valid_id(id) {
                return Err(format!(
                    "{ENV} entry {}: the id must match [A-Za-z0-9_.-]{{1,64}}",
                    i + 1
                ));
            }
            if keys.iter().any(|(k, _)| k == id) {
                return Err(format!("{ENV}: key id {id:?} is listed twice"));
            }
            let b64 = b64.trim();
            let raw = STANDARD
                .decode(b64)
                .or_else(|_| URL_SAFE_NO_PAD.decode(b64))
                .map_err(|_| format!("{ENV}: key {id:?} is not base64"))?;
            let bytes: [u8; KEY_LEN] = raw.try_into().map_err(|r: Vec<u8>| {
                format!(
                    "{ENV}: key {id:?} has {} bytes, an AES-256 key has 32 (e.g. `openssl rand -base64 32`)",
                    r.len()
                )
            })?;
            keys.push((id.to_string(), aead::key(&bytes)));
        }
        if keys.is_empty() {
            return Err(format!("{ENV} lists no key"));
        }
        Ok(MasterKeys { keys })
    }

    /// The keys of [`ENV`]; `None` when it is unset or empty (encryption off).
    pub fn from_env() -> Result<Option<MasterKeys>, String> {
        match std::env::var(ENV) {
            Ok(s) if !s.trim().is_empty() => MasterKeys::parse(&s).map(Some),
            _ => Ok(None),
        }
    }

    /// The key that wraps: the first listed.
    pub fn current(&self) -> (&str, &LessSafeKey) {
        let (id, k) = &self.keys[0];
        (id, k)
    }

    /// The key named `id`, if configured.
    pub fn get(&self, id: &str) -> Option<&LessSafeKey> {
        self.keys.iter().find(|(k, _)| k == id).map(|(_, k)| k)
    }

    /// Every configured id, current first.
    pub fn ids(&self) -> Vec<&str> {
        self.keys.iter().map(|(id, _)| id.as_str()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(k: &[u8]) -> String {
        STANDARD.encode(k)
    }

    #[test]
    fn the_first_key_is_current_and_all_are_kept() {
        let (a, b) = (aead::random_key(), aead::random_key());
        let m = MasterKeys::parse(&format!(
            " k2:{} , k1:{}",
            b64(&a),
            URL_SAFE_NO_PAD.encode(b)
        ))
        .unwrap();
        assert_eq!(m.ids(), vec!["k2", "k1"]);
        assert_eq!(m.current().0, "k2");
        // k1 is the key we gave: what it seals, the same bytes open.
        let sealed = aead::seal(m.get("k1").unwrap(), b"", b"x");
        assert_eq!(aead::open(&aead::key(&b), b"", &sealed).unwrap(), b"x");
        assert!(m.get("k3").is_none());
        assert!(!format!("{m:?}").contains(&b64(&a)));
    }

    #[test]
    fn bad_lists_are_refused_without_echoing_keys() {
        let k = b64(&aead::random_key());
        let short = b64(&[7u8; 16]);
        for (bad, why) in [
            ("".to_string(), "no key"),
            (format!("k1{k}"), "expected"),
            (format!("k 1:{k}"), "id must"),
            (format!("k1:{k},k1:{k}"), "twice"),
            ("k1:@@@".to_string(), "not base64"),
            (format!("k1:{short}"), "16 bytes"),
        ] {
            let e = MasterKeys::parse(&bad).unwrap_err();
            assert!(e.contains(why), "{bad}: {e}");
            assert!(!e.contains(&k) && !e.contains(&short));
        }
    }
}
