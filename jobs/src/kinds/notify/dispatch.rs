//! From an outbox row to a provider call: render the saved template (or take
//! the literal content), attach the tenant's channel settings, and hand the
//! [`Outgoing`] to the right [`Channel`].

use uuid::Uuid;

use super::model::{ChannelName, Notification};
use super::sql;
use crate::channels::{self, templates, Channel, NotificationSettings, Outgoing, SendError, Sent};

/// Default locale of templates.
pub const DEFAULT_LOCALE: &str = "pt-BR";

/// Renders the row's message. Errors are permanent (a template or data problem).
pub async fn prepare(
    pg: &sqlx::PgPool,
    tenant: Uuid,
    n: &Notification,
    settings: serde_json::Value,
) -> Result<Outgoing, SendError> {
    let m = &n.message.0;
    let mut data = serde_json::Value::Object(m.data.clone());
    data["recipient"] = serde_json::Value::String(n.recipient.clone());
    let (mut subject, mut text, mut html) = (
        m.subject.clone(),
        m.text.clone().unwrap_or_default(),
        m.html.clone(),
    );
    if let Some(name) = &m.template {
        let locale = m.locale.as_deref().unwrap_or(DEFAULT_LOCALE);
        let (s, body, h) = sql::template(pg, tenant, name, &n.channel, locale)
            .await
            .map_err(|e| SendError::retryable(format!("postgres: {e}")))?
            .ok_or_else(|| {
                SendError::permanent(format!(
                    "no template {name:?} for {} in {locale}",
                    n.channel
                ))
            })?;
        let r = |part: &str, src: &str| {
            templates::render(src, &data)
                .map_err(|e| SendError::permanent(format!("template {name} {part}: {e}")))
        };
        subject = s.as_deref().map(|s| r("subject", s)).transpose()?;
        text = r("body", &body)?;
        html = h.as_deref().map(|h| r("html", h)).transpose()?;
    }
    let mut extra = serde_json::Value::Object(m.data.clone());
    if let Some(t) = &m.whatsapp_template {
        extra = serde_json::json!({ "template": t });
    }
    Ok(Outgoing {
        notification_id: n.id,
        tenant_id: tenant,
        recipient: n.recipient.clone(),
        subject,
        text,
        html,
        data: extra,
        attachments: m.attachments.clone(),
        settings,
    })
}

/// Sends through the channel the row names.
pub async fn send(
    channel: ChannelName,
    s: &NotificationSettings,
    msg: &Outgoing,
) -> Result<Sent, SendError> {
    match channel {
        ChannelName::Email => channels::email::Email { settings: s }.send(msg).await,
        ChannelName::Push => channels::fcm::Fcm { settings: s }.send(msg).await,
        ChannelName::Sms => channels::sms::Sms { settings: s }.send(msg).await,
        ChannelName::Whatsapp => channels::whatsapp::WhatsApp { settings: s }.send(msg).await,
        ChannelName::Webhook => channels::webhook::Webhook { settings: s }.send(msg).await,
    }
}
