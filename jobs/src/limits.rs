//! The `[limits]` settings: what one tenant may ask of the intake (request
//! rates per API key and per tenant, ready jobs per queue, upload bytes per
//! UTC day), with per-tenant overrides in `[limits.tenants."<uuid>"]`.
//! api-lite enforces them through the engine's Redis scripts (`engine::limits`),
//! so every replica counts against the same numbers.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// One tenant's effective limits (defaults with its overrides applied).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Limits {
    /// Sustained requests per second of one API key (or JWT subject's tenant); 0 = unlimited.
    pub key_per_second: f64,
    /// Requests one key may send at once before the rate applies.
    pub key_burst: u64,
    /// Sustained requests per second of all a tenant's credentials together; 0 = unlimited.
    pub tenant_per_second: f64,
    pub tenant_burst: u64,
    /// Ready jobs a tenant may have waiting in one queue; 0 = unlimited.
    pub max_waiting_per_queue: u64,
    /// Bytes a tenant may upload (documents, datasets) per UTC day; 0 = unlimited.
    pub upload_bytes_per_day: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            key_per_second: 200.0,
            key_burst: 400,
            tenant_per_second: 400.0,
            tenant_burst: 800,
            max_waiting_per_queue: 100_000,
            upload_bytes_per_day: 1 << 30,
        }
    }
}

/// A tenant's overrides: only the keys it sets replace the defaults.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LimitOverrides {
    pub key_per_second: Option<f64>,
    pub key_burst: Option<u64>,
    pub tenant_per_second: Option<f64>,
    pub tenant_burst: Option<u64>,
    pub max_waiting_per_queue: Option<u64>,
    pub upload_bytes_per_day: Option<u64>,
}

/// `[limits]`: the defaults (the fields of [`Limits`]), then `[limits.tenants."<tenant uuid>"]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LimitsSettings {
    pub key_per_second: f64,
    pub key_burst: u64,
    pub tenant_per_second: f64,
    pub tenant_burst: u64,
    pub max_waiting_per_queue: u64,
    pub upload_bytes_per_day: u64,
    pub tenants: BTreeMap<String, LimitOverrides>,
}

impl Default for LimitsSettings {
    fn default() -> Self {
        let d = Limits::default();
        Self {
            key_per_second: d.key_per_second,
            key_burst: d.key_burst,
            tenant_per_second: d.tenant_per_second,
            tenant_burst: d.tenant_burst,
            max_waiting_per_queue: d.max_waiting_per_queue,
            upload_bytes_per_day: d.upload_bytes_per_day,
            tenants: BTreeMap::new(),
        }
    }
}

impl LimitsSettings {
    /// The defaults, before any tenant's overrides.
    pub fn defaults(&self) -> Limits {
        Limits {
            key_per_second: self.key_per_second,
            key_burst: self.key_burst,
            tenant_per_second: self.tenant_per_second,
            tenant_burst: self.tenant_burst,
            max_waiting_per_queue: self.max_waiting_per_queue,
            upload_bytes_per_day: self.upload_bytes_per_day,
        }
    }

    /// The limits that apply to `tenant`.
    pub fn for_tenant(&self, tenant: Uuid) -> Limits {
        let mut l = self.defaults();
        if let Some(o) = self.tenants.get(&tenant.to_string()) {
            l.key_per_second = o.key_per_second.unwrap_or(l.key_per_second);
            l.key_burst = o.key_burst.unwrap_or(l.key_burst);
            l.tenant_per_second = o.tenant_per_second.unwrap_or(l.tenant_per_second);
            l.tenant_burst = o.tenant_burst.unwrap_or(l.tenant_burst);
            l.max_waiting_per_queue = o.max_waiting_per_queue.unwrap_or(l.max_waiting_per_queue);
            l.upload_bytes_per_day = o.upload_bytes_per_day.unwrap_or(l.upload_bytes_per_day);
        }
        l
    }

    /// Tenant keys must be UUIDs and rates non-negative.
    pub fn validate(&self) -> Result<(), String> {
        let check = |who: &str, kps: f64, tps: f64, kb: u64, tb: u64| {
            if !(kps >= 0.0 && tps >= 0.0 && kps.is_finite() && tps.is_finite()) {
                return Err(format!("{who}: rates must be finite and >= 0"));
            }
            if (kps > 0.0 && kb == 0) || (tps > 0.0 && tb == 0) {
                return Err(format!(
                    "{who}: a burst must be at least 1 where a rate is set"
                ));
            }
            Ok(())
        };
        let d = self.defaults();
        check(
            "limits",
            d.key_per_second,
            d.tenant_per_second,
            d.key_burst,
            d.tenant_burst,
        )?;
        for key in self.tenants.keys() {
            let id = Uuid::parse_str(key)
                .map_err(|_| format!("limits.tenants: {key:?} is not a tenant uuid"))?;
            let l = self.for_tenant(id);
            check(
                &format!("limits.tenants.{key}"),
                l.key_per_second,
                l.tenant_per_second,
                l.key_burst,
                l.tenant_burst,
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tenants_overrides_replace_only_what_they_set() {
        let id = Uuid::now_v7();
        let mut s = LimitsSettings::default();
        s.tenants.insert(
            id.to_string(),
            LimitOverrides {
                tenant_per_second: Some(5.0),
                ..Default::default()
            },
        );
        let l = s.for_tenant(id);
        assert_eq!(l.tenant_per_second, 5.0);
        assert_eq!(l.key_burst, Limits::default().key_burst);
        assert_eq!(s.for_tenant(Uuid::now_v7()), Limits::default());
        assert!(s.validate().is_ok());
        s.tenants.insert("acme".into(), LimitOverrides::default());
        assert!(s.validate().unwrap_err().contains("acme"));
    }
}
