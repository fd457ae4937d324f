//! Secret references: a tenant's channel settings name an environment
//! variable (`"access_token_env": "PYTAKE_WA_TOKEN"`); the value is read at
//! send time and never stored, returned by the API or logged.

use super::SendError;

/// The value of the env var named by `settings[field]` (e.g. `password_env`).
pub fn resolve(settings: &serde_json::Value, field: &str) -> Result<String, SendError> {
    let name = settings
        .get(field)
        .and_then(|v| v.as_str())
        .ok_or_else(|| SendError::permanent(format!("channel settings lack {field}")))?;
    std::env::var(name).map_err(|_| {
        SendError::permanent(format!(
            "{field}: environment variable {name} is not set on the worker"
        ))
    })
}

/// An optional reference: `None` when the field is absent.
pub fn resolve_opt(settings: &serde_json::Value, field: &str) -> Result<Option<String>, SendError> {
    if settings.get(field).is_none() {
        return Ok(None);
    }
    resolve(settings, field).map(Some)
}

/// A plain (non-secret) string setting.
pub fn text<'a>(settings: &'a serde_json::Value, field: &str) -> Result<&'a str, SendError> {
    settings
        .get(field)
        .and_then(|v| v.as_str())
        .filter(|s| !s.is_empty())
        .ok_or_else(|| SendError::permanent(format!("channel settings lack {field}")))
}

/// Fields whose value must be an env var NAME; rejects anything that looks
/// like a secret pasted in (`settings.password` instead of `password_env`).
pub fn check_settings(settings: &serde_json::Value) -> Result<(), (String, String)> {
    let obj = settings
        .as_object()
        .ok_or_else(|| ("settings".to_string(), "must be an object".to_string()))?;
    for (k, v) in obj {
        let lower = k.to_ascii_lowercase();
        let secretish = ["password", "token", "secret", "private_key", "auth"]
            .iter()
            .any(|w| lower.contains(w));
        if secretish && !lower.ends_with("_env") {
            return Err((
                format!("settings.{k}"),
                format!(
                    "secrets are not stored; use {k}_env with the name of an environment variable"
                ),
            ));
        }
        if lower.ends_with("_env") {
            let ok = v.as_str().is_some_and(|s| {
                !s.is_empty()
                    && s.len() <= 100
                    && s.chars()
                        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
            });
            if !ok {
                return Err((
                    format!("settings.{k}"),
                    "must name an environment variable ([A-Z0-9_])".to_string(),
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn plain_secrets_are_refused() {
        assert!(check_settings(&json!({"password": "x"})).is_err());
        assert!(check_settings(&json!({"access_token_env": "lower"})).is_err());
        assert!(
            check_settings(&json!({"access_token_env": "WA_TOKEN", "phone_number_id": "1"}))
                .is_ok()
        );
    }
}
