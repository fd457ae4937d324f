//! AES-256-GCM, pure: seal and open bytes under a key, and the printable
//! token a sealed value is stored as (`v1:<key id>:<base64url(nonce ‖
//! ciphertext ‖ tag)>`). Every seal draws a fresh random 96-bit nonce from
//! the operating system; at the volumes of one tenant's data key that keeps
//! the chance of a repeated nonce far below GCM's 2^-32 bound.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use ring::rand::{SecureRandom, SystemRandom};

/// Bytes of a data or master key.
pub const KEY_LEN: usize = 32;
/// Bytes a seal adds: the nonce before, the tag after.
pub const OVERHEAD: usize = NONCE_LEN + 16;
/// The token's version prefix.
const V1: &str = "v1";

/// Why bytes did not open.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum OpenError {
    #[error("malformed sealed value: {0}")]
    Malformed(&'static str),
    /// Wrong key, wrong associated data (another tenant, job or field) or changed bytes.
    #[error("authentication failed: the value was altered or belongs to another tenant or job")]
    Forged,
}

/// A key ready for use (ring's, which zeroes nothing; the raw bytes are not kept).
pub fn key(bytes: &[u8; KEY_LEN]) -> LessSafeKey {
    LessSafeKey::new(UnboundKey::new(&AES_256_GCM, bytes).expect("32 bytes is an AES-256 key"))
}

/// 32 random bytes from the operating system.
pub fn random_key() -> [u8; KEY_LEN] {
    let mut k = [0u8; KEY_LEN];
    SystemRandom::new()
        .fill(&mut k)
        .expect("the OS random source works");
    k
}

/// `nonce ‖ ciphertext ‖ tag` of `plaintext` under `key`, bound to `aad`.
pub fn seal(key: &LessSafeKey, aad: &[u8], plaintext: &[u8]) -> Vec<u8> {
    let mut nonce = [0u8; NONCE_LEN];
    SystemRandom::new()
        .fill(&mut nonce)
        .expect("the OS random source works");
    let mut out = Vec::with_capacity(OVERHEAD + plaintext.len());
    out.extend_from_slice(&nonce);
    out.extend_from_slice(plaintext);
    let tag = key
        .seal_in_place_separate_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(aad),
            &mut out[NONCE_LEN..],
        )
        .expect("in-memory sizes are within GCM's limit");
    out.extend_from_slice(tag.as_ref());
    out
}

/// The plaintext of [`seal`]'s output, if `key` and `aad` match and nothing changed.
pub fn open(key: &LessSafeKey, aad: &[u8], sealed: &[u8]) -> Result<Vec<u8>, OpenError> {
    if sealed.len() < OVERHEAD {
        return Err(OpenError::Malformed("too short"));
    }
    let (nonce, rest) = sealed.split_at(NONCE_LEN);
    let nonce =
        Nonce::try_assume_unique_for_key(nonce).map_err(|_| OpenError::Malformed("nonce"))?;
    let mut buf = rest.to_vec();
    let n = key
        .open_in_place(nonce, Aad::from(aad), &mut buf)
        .map_err(|_| OpenError::Forged)?
        .len();
    buf.truncate(n);
    Ok(buf)
}

/// The stored token of a sealed value under data key `key_id`.
pub fn token(key_id: u32, sealed: &[u8]) -> String {
    format!("{V1}:{key_id}:{}", URL_SAFE_NO_PAD.encode(sealed))
}

/// A token's key id and sealed bytes.
pub fn parse_token(t: &str) -> Result<(u32, Vec<u8>), OpenError> {
    let mut parts = t.splitn(3, ':');
    if parts.next() != Some(V1) {
        return Err(OpenError::Malformed("unknown version"));
    }
    let kid = parts
        .next()
        .and_then(|k| k.parse::<u32>().ok())
        .filter(|k| *k > 0)
        .ok_or(OpenError::Malformed("key id"))?;
    let bytes = URL_SAFE_NO_PAD
        .decode(parts.next().ok_or(OpenError::Malformed("no ciphertext"))?)
        .map_err(|_| OpenError::Malformed("not base64url"))?;
    Ok((kid, bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    const NAME: &[u8] = b"{\"to\":\"+5511988887777\",\"name\":\"Ana Souza\"}";

    #[test]
    fn seal_opens_with_the_same_key_and_aad_only() {
        let k = key(&random_key());
        let s = seal(&k, b"t1/j1/p", NAME);
        assert_eq!(s.len(), NAME.len() + OVERHEAD);
        assert!(!s.windows(9).any(|w| w == b"Ana Souza"));
        assert_eq!(open(&k, b"t1/j1/p", &s).unwrap(), NAME);
        assert_eq!(open(&k, b"t2/j1/p", &s), Err(OpenError::Forged));
        assert_eq!(
            open(&key(&random_key()), b"t1/j1/p", &s),
            Err(OpenError::Forged)
        );
    }

    #[test]
    fn every_flipped_bit_is_caught() {
        let k = key(&random_key());
        let s = seal(&k, b"aad", b"nota 8,5");
        for i in 0..s.len() {
            let mut bad = s.clone();
            bad[i] ^= 0x01;
            assert_eq!(open(&k, b"aad", &bad), Err(OpenError::Forged), "byte {i}");
        }
        assert_eq!(open(&k, b"aad", &s[..s.len() - 1]), Err(OpenError::Forged));
        assert!(matches!(
            open(&k, b"aad", &s[..10]),
            Err(OpenError::Malformed(_))
        ));
    }

    #[test]
    fn nonces_differ_between_seals() {
        let k = key(&random_key());
        let (a, b) = (seal(&k, b"", NAME), seal(&k, b"", NAME));
        assert_ne!(a[..NONCE_LEN], b[..NONCE_LEN]);
        assert_ne!(a, b);
    }

    #[test]
    fn tokens_round_trip_and_refuse_other_shapes() {
        let t = token(7, b"\x00\xffabc");
        assert!(t.starts_with("v1:7:"));
        assert_eq!(parse_token(&t).unwrap(), (7, b"\x00\xffabc".to_vec()));
        for bad in [
            "v2:7:AAAA",
            "v1:x:AAAA",
            "v1:0:AAAA",
            "v1:7",
            "v1:7:!!",
            "",
            "plain",
        ] {
            assert!(parse_token(bad).is_err(), "{bad}");
        }
    }
}
