//! What a tenant configures, with its checks and queries: channel settings
//! (secret references only), opt-outs, quiet hours, and notices to read.
//! Templates are in `templates.rs`.
//!
//! Opt-outs are stored and matched by [`opt_out_key`]: phones (SMS, WhatsApp)
//! as E.164 digits, emails trimmed and lower-cased, so `+55 (11) 91111-2222`
//! and `+5511911112222`, or `Mae@Example.com ` and `mae@example.com`, are one.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::PgExecutor;
use utoipa::ToSchema;
use uuid::Uuid;

use super::model::ChannelName;
use super::quiet;
use crate::channels::secrets;
use crate::kinds::FieldError;

/// Required fields per channel (besides secret-reference checks).
pub fn check_channel_settings(
    channel: ChannelName,
    s: &serde_json::Value,
) -> Result<(), FieldError> {
    secrets::check_settings(s).map_err(|(p, m)| FieldError::new(p, m))?;
    let need: &[&str] = match channel {
        ChannelName::Email => &["from"],
        ChannelName::Push => &["service_account_env"],
        ChannelName::Sms => &["account_sid", "auth_token_env"],
        ChannelName::Whatsapp => &["phone_number_id", "access_token_env"],
        ChannelName::Webhook => &["url", "secret_env"],
    };
    for f in need {
        if s.get(*f).and_then(|v| v.as_str()).is_none_or(str::is_empty) {
            return Err(FieldError::new(format!("settings.{f}"), "required"));
        }
    }
    if channel == ChannelName::Sms
        && s.get("from").is_none()
        && s.get("messaging_service_sid").is_none()
    {
        return Err(FieldError::new(
            "settings.from",
            "give from or messaging_service_sid",
        ));
    }
    if channel == ChannelName::Webhook {
        let url = s["url"].as_str().unwrap_or_default();
        match reqwest::Url::parse(url) {
            Ok(u) if matches!(u.scheme(), "http" | "https") && u.host_str().is_some() => {}
            _ => return Err(FieldError::new("settings.url", "must be an http(s) URL")),
        }
    }
    Ok(())
}

/// A tenant's channel row as the API shows it.
#[derive(Clone, Debug, Serialize, sqlx::FromRow, ToSchema)]
pub struct ChannelRow {
    pub channel: String,
    #[schema(value_type = Object)]
    pub settings: serde_json::Value,
    pub enabled: bool,
    pub consecutive_failures: i32,
    pub disabled_reason: Option<String>,
    pub updated_at: DateTime<Utc>,
}

const CH_COLS: &str =
    "channel, settings, enabled, consecutive_failures, disabled_reason, updated_at";

/// Creates or replaces; saving with `enabled` clears the failure count and the disabled reason.
pub async fn put_channel(
    ex: impl PgExecutor<'_>,
    tenant: Uuid,
    channel: &str,
    settings: &serde_json::Value,
    enabled: bool,
) -> Result<ChannelRow, sqlx::Error> {
    sqlx::query_as(&format!(
        "insert into notification_channels (tenant_id, channel, settings, enabled) values ($1, $2, $3, $4) \
         on conflict (tenant_id, channel) do update set settings = excluded.settings, enabled = excluded.enabled, \
         consecutive_failures = 0, disabled_reason = null, updated_at = now() returning {CH_COLS}"
    ))
    .bind(tenant).bind(channel).bind(settings).bind(enabled)
    .fetch_one(ex).await
}

pub async fn list_channels(
    ex: impl PgExecutor<'_>,
    tenant: Uuid,
) -> Result<Vec<ChannelRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "select {CH_COLS} from notification_channels where tenant_id = $1 order by channel"
    ))
    .bind(tenant)
    .fetch_all(ex)
    .await
}

pub async fn get_channel(
    ex: impl PgExecutor<'_>,
    tenant: Uuid,
    channel: &str,
) -> Result<Option<ChannelRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "select {CH_COLS} from notification_channels where tenant_id = $1 and channel = $2"
    ))
    .bind(tenant)
    .bind(channel)
    .fetch_optional(ex)
    .await
}

pub async fn delete_channel(
    ex: impl PgExecutor<'_>,
    tenant: Uuid,
    channel: &str,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query("delete from notification_channels where tenant_id = $1 and channel = $2")
        .bind(tenant)
        .bind(channel)
        .execute(ex)
        .await?;
    Ok(r.rows_affected() == 1)
}

/// The form an opt-out recipient is stored and matched in, per channel:
/// SMS/WhatsApp phones as `+` and their digits (E.164; punctuation, spaces
/// and a leading `00` dropped), emails as the bare address (a display-name
/// form `Name <addr>` gives `addr`) trimmed and lower-cased, anything else
/// (device tokens, webhook events) trimmed only: those are case-sensitive.
pub fn opt_out_key(channel: &str, recipient: &str) -> String {
    let r = recipient.trim();
    match ChannelName::parse(channel) {
        Some(ChannelName::Sms | ChannelName::Whatsapp) => {
            let digits: String = r.chars().filter(char::is_ascii_digit).collect();
            let digits = match digits.strip_prefix("00") {
                Some(rest) if !r.starts_with('+') => rest.to_string(),
                _ => digits,
            };
            if digits.is_empty() {
                r.to_string()
            } else {
                format!("+{digits}")
            }
        }
        Some(ChannelName::Email) => {
            let addr = match (r.rfind('<'), r.rfind('>')) {
                (Some(a), Some(b)) if a < b => &r[a + 1..b],
                _ => r,
            };
            addr.trim().to_lowercase()
        }
        _ => r.to_string(),
    }
}

/// An opt-out (`POST /v1/notification-opt-outs`).
#[derive(Clone, Debug, Serialize, Deserialize, sqlx::FromRow, ToSchema)]
pub struct OptOut {
    pub channel: String,
    pub recipient: String,
    #[serde(default)]
    pub reason: String,
    #[serde(default = "Utc::now")]
    pub created_at: DateTime<Utc>,
}

pub async fn add_opt_out(
    ex: impl PgExecutor<'_>,
    tenant: Uuid,
    o: &OptOut,
) -> Result<OptOut, sqlx::Error> {
    sqlx::query_as(
        "insert into notification_opt_outs (tenant_id, channel, recipient, reason) values ($1, $2, $3, $4) \
         on conflict (tenant_id, channel, recipient) do update set reason = excluded.reason \
         returning channel, recipient, reason, created_at",
    )
    .bind(tenant).bind(&o.channel).bind(opt_out_key(&o.channel, &o.recipient)).bind(&o.reason)
    .fetch_one(ex).await
}

pub async fn list_opt_outs(
    ex: impl PgExecutor<'_>,
    tenant: Uuid,
    recipient: Option<&str>,
) -> Result<Vec<OptOut>, sqlx::Error> {
    sqlx::query_as(
        "select channel, recipient, reason, created_at from notification_opt_outs \
         where tenant_id = $1 and ($2::text[] is null or recipient = any($2)) order by created_at desc limit 1000",
    )
    .bind(tenant)
    // No channel here: match the recipient in each channel's stored form.
    .bind(recipient.map(|r| {
        ["email", "sms", "push"].map(|c| opt_out_key(c, r)).to_vec()
    }))
    .fetch_all(ex).await
}

pub async fn delete_opt_out(
    ex: impl PgExecutor<'_>,
    tenant: Uuid,
    channel: &str,
    recipient: &str,
) -> Result<bool, sqlx::Error> {
    // The stored form, or the exact text of a row saved before keys were normalised.
    let r = sqlx::query("delete from notification_opt_outs where tenant_id = $1 and channel = $2 and recipient = any($3)")
        .bind(tenant).bind(channel).bind(vec![opt_out_key(channel, recipient), recipient.to_string()])
        .execute(ex).await?;
    Ok(r.rows_affected() == 1)
}

/// Quiet hours as `"HH:MM"` in the tenant's timezone; both null = none.
#[derive(Clone, Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    #[serde(default)]
    pub quiet_start: Option<String>,
    #[serde(default)]
    pub quiet_end: Option<String>,
}

impl Policy {
    /// Minutes after midnight, checked.
    pub fn minutes(&self) -> Result<Option<(i32, i32)>, FieldError> {
        match (&self.quiet_start, &self.quiet_end) {
            (None, None) => Ok(None),
            (Some(s), Some(e)) => {
                let s = quiet::parse_hhmm(s)
                    .ok_or_else(|| FieldError::new("quiet_start", "must be HH:MM"))?;
                let e = quiet::parse_hhmm(e)
                    .ok_or_else(|| FieldError::new("quiet_end", "must be HH:MM"))?;
                Ok(Some((s as i32, e as i32)))
            }
            (None, _) => Err(FieldError::new("quiet_start", "give both or neither")),
            (_, None) => Err(FieldError::new("quiet_end", "give both or neither")),
        }
    }
}

pub async fn put_policy(
    ex: impl PgExecutor<'_>,
    tenant: Uuid,
    window: Option<(i32, i32)>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "insert into notification_policies (tenant_id, quiet_start_minute, quiet_end_minute) values ($1, $2, $3) \
         on conflict (tenant_id) do update set quiet_start_minute = $2, quiet_end_minute = $3, updated_at = now()",
    )
    .bind(tenant).bind(window.map(|w| w.0)).bind(window.map(|w| w.1))
    .execute(ex).await.map(|_| ())
}

/// A notice to the tenant (a webhook disabled after repeated failures).
#[derive(Clone, Debug, Serialize, sqlx::FromRow, ToSchema)]
pub struct Notice {
    pub id: Uuid,
    pub channel: String,
    pub message: String,
    pub created_at: DateTime<Utc>,
}

pub async fn list_notices(
    ex: impl PgExecutor<'_>,
    tenant: Uuid,
) -> Result<Vec<Notice>, sqlx::Error> {
    sqlx::query_as("select id, channel, message, created_at from notification_notices where tenant_id = $1 order by created_at desc limit 100")
        .bind(tenant).fetch_all(ex).await
}

pub async fn get_policy(ex: impl PgExecutor<'_>, tenant: Uuid) -> Result<Policy, sqlx::Error> {
    let row: Option<(Option<i32>, Option<i32>)> = sqlx::query_as(
        "select quiet_start_minute, quiet_end_minute from notification_policies where tenant_id = $1",
    )
    .bind(tenant).fetch_optional(ex).await?;
    let (s, e) = row.unwrap_or((None, None));
    Ok(Policy {
        quiet_start: s.map(|m| quiet::fmt_hhmm(m as u32)),
        quiet_end: e.map(|m| quiet::fmt_hhmm(m as u32)),
    })
}

#[cfg(test)]
mod tests {
    use super::opt_out_key;

    #[test]
    fn opt_out_keys_are_normalised_per_channel() {
        for ch in ["whatsapp", "sms"] {
            assert_eq!(opt_out_key(ch, "+55 (11) 91111-2222"), "+5511911112222");
            assert_eq!(opt_out_key(ch, " +5511911112222 "), "+5511911112222");
            assert_eq!(opt_out_key(ch, "0055 11 91111 2222"), "+5511911112222");
            assert_eq!(opt_out_key(ch, "5511911112222"), "+5511911112222");
        }
        assert_eq!(
            opt_out_key("email", "  Mae@Example.COM "),
            "mae@example.com"
        );
        assert_eq!(
            opt_out_key("email", "Maria Souza <Maria@Example.com>"),
            "maria@example.com"
        );
        // Device tokens and webhook events are case-sensitive.
        assert_eq!(opt_out_key("push", " fcmTOKEN:AbC "), "fcmTOKEN:AbC");
    }
}
