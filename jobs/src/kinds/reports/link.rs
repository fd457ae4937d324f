//! Signed, expiring download links for report files (`GET
//! /v1/reports/{id}/download?expires=…&sig=…`), for e-mails and browsers
//! that carry no API key. The signature is HMAC-SHA256 over the tenant, the
//! report and the expiry, so a link is good for one report of one tenant
//! until it expires; the secret comes from the environment variable
//! `[reports] url_secret_env` names.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use uuid::Uuid;

type HmacSha256 = Hmac<Sha256>;

/// Why a link was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    #[error("the link has expired")]
    Expired,
    #[error("the link's signature does not match")]
    BadSignature,
}

fn mac(secret: &[u8], tenant: Uuid, report: Uuid, expires: i64) -> HmacSha256 {
    let mut m = HmacSha256::new_from_slice(secret).expect("HMAC takes any key length");
    m.update(format!("tarefa-report-v1:{tenant}:{report}:{expires}").as_bytes());
    m
}

/// The hex signature of a link to `report` of `tenant` valid until `expires` (unix seconds).
pub fn sign(secret: &[u8], tenant: Uuid, report: Uuid, expires: i64) -> String {
    hex::encode(mac(secret, tenant, report, expires).finalize().into_bytes())
}

/// Checks a link against the report's real tenant at `now` (unix seconds);
/// the comparison is constant-time.
pub fn verify(
    secret: &[u8],
    tenant: Uuid,
    report: Uuid,
    expires: i64,
    sig: &str,
    now: i64,
) -> Result<(), LinkError> {
    let given = hex::decode(sig).map_err(|_| LinkError::BadSignature)?;
    mac(secret, tenant, report, expires)
        .verify_slice(&given)
        .map_err(|_| LinkError::BadSignature)?;
    if now > expires {
        return Err(LinkError::Expired);
    }
    Ok(())
}

/// The path and query of a signed link (prefix it with the public base URL).
pub fn path(secret: &[u8], tenant: Uuid, report: Uuid, expires: i64) -> String {
    format!(
        "/v1/reports/{report}/download?expires={expires}&sig={}",
        sign(secret, tenant, report, expires)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_is_bound_to_its_tenant_report_and_expiry() {
        let (t, r, other) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        let s = sign(b"k", t, r, 1_000);
        assert_eq!(verify(b"k", t, r, 1_000, &s, 999), Ok(()));
        assert_eq!(
            verify(b"k", t, r, 1_000, &s, 1_001),
            Err(LinkError::Expired)
        );
        assert_eq!(
            verify(b"k", other, r, 1_000, &s, 999),
            Err(LinkError::BadSignature)
        );
        assert_eq!(
            verify(b"k", t, other, 1_000, &s, 999),
            Err(LinkError::BadSignature)
        );
        assert_eq!(
            verify(b"k", t, r, 2_000, &s, 999),
            Err(LinkError::BadSignature)
        );
        assert_eq!(
            verify(b"j", t, r, 1_000, &s, 999),
            Err(LinkError::BadSignature)
        );
        assert_eq!(
            verify(b"k", t, r, 1_000, "zz", 999),
            Err(LinkError::BadSignature)
        );
    }
}
