//! API key format: `tfk_<prefix>_<secret>`. The prefix finds the row, the
//! SHA-256 of the whole key proves possession; keys are shown once and stored
//! only as that hash (a leaked database does not leak usable keys).

use sha2::{Digest, Sha256};

/// Every Tarefa API key starts with this, so secret scanners can spot them.
pub const KEY_PREFIX: &str = "tfk_";

/// A freshly generated key: `key` is shown to the user once, the rest is stored.
pub struct GeneratedKey {
    pub key: String,
    pub prefix: String,
    pub hash: String,
}

/// 6 random bytes of lookup prefix and 24 of secret (192 bits), hex encoded.
pub fn generate() -> GeneratedKey {
    let prefix = hex::encode(rand::random::<[u8; 6]>());
    let secret = hex::encode(rand::random::<[u8; 24]>());
    let key = format!("{KEY_PREFIX}{prefix}_{secret}");
    let hash = hash(&key);
    GeneratedKey { key, prefix, hash }
}

/// Hex SHA-256 of the whole key.
pub fn hash(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

/// The lookup prefix of a well-formed key, `None` for anything else.
pub fn parse_prefix(key: &str) -> Option<&str> {
    let rest = key.strip_prefix(KEY_PREFIX)?;
    let (prefix, secret) = rest.split_once('_')?;
    let hexy = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_hexdigit());
    (hexy(prefix, 12) && hexy(secret, 48)).then_some(prefix)
}

/// Compares two hashes without an early exit, so timing says nothing about them.
pub fn hashes_match(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_key_parses_back_to_its_prefix() {
        let k = generate();
        assert_eq!(parse_prefix(&k.key), Some(k.prefix.as_str()));
        assert!(hashes_match(&hash(&k.key), &k.hash));
        assert!(!hashes_match(&hash("tfk_other"), &k.hash));
    }

    #[test]
    fn malformed_keys_have_no_prefix() {
        assert_eq!(parse_prefix("tfk_abc"), None);
        assert_eq!(parse_prefix("sk_live_0123456789ab_00"), None);
    }
}
