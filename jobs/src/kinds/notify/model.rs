//! What callers ask for: a [`NotificationRequest`] (one recipient, or a
//! fan-out each with its own dedup key) carrying a [`MessageSpec`] (a saved
//! template + data, or literal content), and the outbox row it becomes.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::channels::Attachment;
use crate::kinds::FieldError;

/// Most recipients in one request (bigger lists: several requests or `notify.fanout` jobs).
pub const MAX_RECIPIENTS: usize = 1_000;

/// A channel name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ChannelName {
    Email,
    Push,
    Sms,
    Whatsapp,
    Webhook,
}

impl ChannelName {
    pub const ALL: [ChannelName; 5] = [
        ChannelName::Email,
        ChannelName::Push,
        ChannelName::Sms,
        ChannelName::Whatsapp,
        ChannelName::Webhook,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ChannelName::Email => "email",
            ChannelName::Push => "push",
            ChannelName::Sms => "sms",
            ChannelName::Whatsapp => "whatsapp",
            ChannelName::Webhook => "webhook",
        }
    }

    pub fn parse(s: &str) -> Option<ChannelName> {
        ChannelName::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// Shared rate-limit bucket family (`whatsapp:<tenant>`), for channels with provider limits.
    pub fn rate_family(self) -> Option<&'static str> {
        match self {
            ChannelName::Whatsapp => Some("whatsapp"),
            ChannelName::Sms => Some("sms"),
            _ => None,
        }
    }
}

/// A WhatsApp template message (approved on Meta's side).
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WhatsAppTemplate {
    pub name: String,
    /// Meta language code, default `pt_BR`.
    #[serde(default)]
    pub language: Option<String>,
    /// Meta `components` (header/body/button parameters), passed through.
    #[serde(default)]
    #[schema(value_type = Vec<Object>)]
    pub components: Vec<serde_json::Value>,
}

/// What to send: `template` (a saved template, rendered with `data`) or literal `text`.
#[derive(Clone, Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MessageSpec {
    /// Saved template name (`grade_posted`), looked up for the channel and locale.
    #[serde(default)]
    pub template: Option<String>,
    /// Default `pt-BR`.
    #[serde(default)]
    pub locale: Option<String>,
    /// Template variables; for push, the FCM `data`; for webhooks, the event body.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub data: serde_json::Map<String, serde_json::Value>,
    #[serde(default)]
    pub subject: Option<String>,
    #[serde(default)]
    pub text: Option<String>,
    #[serde(default)]
    pub html: Option<String>,
    #[serde(default)]
    pub attachments: Vec<Attachment>,
    #[serde(default)]
    pub whatsapp_template: Option<WhatsAppTemplate>,
}

/// One recipient of a fan-out.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecipientSpec {
    /// Email address, E.164 phone, FCM device token, or webhook event name.
    pub recipient: String,
    /// Unique per tenant: the same key never sends twice.
    pub dedup_key: String,
    /// Merged over `message.data` for this recipient.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub data: serde_json::Map<String, serde_json::Value>,
}

/// `POST /v1/notifications` and the `notify.fanout` payload.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NotificationRequest {
    pub channel: ChannelName,
    /// One recipient (with `dedup_key`) ...
    #[serde(default)]
    pub recipient: Option<String>,
    #[serde(default)]
    pub dedup_key: Option<String>,
    /// ... or many.
    #[serde(default)]
    pub recipients: Vec<RecipientSpec>,
    pub message: MessageSpec,
    /// Urgent messages ignore quiet hours.
    #[serde(default)]
    pub urgent: bool,
}

impl NotificationRequest {
    /// The recipients, single or fan-out, each with its merged data.
    pub fn expand(&self) -> Vec<RecipientSpec> {
        if let (Some(r), Some(k)) = (&self.recipient, &self.dedup_key) {
            return vec![RecipientSpec {
                recipient: r.clone(),
                dedup_key: k.clone(),
                data: Default::default(),
            }];
        }
        self.recipients.clone()
    }

    /// Checks serde cannot: one form or the other, keys, sizes, content present.
    pub fn validate(&self) -> Result<(), FieldError> {
        let single = self.recipient.is_some() || self.dedup_key.is_some();
        if single && !self.recipients.is_empty() {
            return Err(FieldError::new(
                "recipients",
                "give either recipient + dedup_key or recipients, not both",
            ));
        }
        if single {
            if self
                .recipient
                .as_deref()
                .is_none_or(|r| r.trim().is_empty())
            {
                return Err(FieldError::new("recipient", "required"));
            }
            check_key("dedup_key", self.dedup_key.as_deref().unwrap_or(""))?;
        } else if self.recipients.is_empty() {
            return Err(FieldError::new(
                "recipient",
                "give recipient + dedup_key, or recipients",
            ));
        }
        if self.recipients.len() > MAX_RECIPIENTS {
            return Err(FieldError::new(
                "recipients",
                format!("at most {MAX_RECIPIENTS} per request"),
            ));
        }
        let mut seen = std::collections::HashSet::new();
        for (i, r) in self.recipients.iter().enumerate() {
            if r.recipient.trim().is_empty() {
                return Err(FieldError::new(
                    format!("recipients[{i}].recipient"),
                    "required",
                ));
            }
            check_key(&format!("recipients[{i}].dedup_key"), &r.dedup_key)?;
            if !seen.insert(&r.dedup_key) {
                return Err(FieldError::new(
                    format!("recipients[{i}].dedup_key"),
                    "repeated in this request",
                ));
            }
        }
        let m = &self.message;
        let has_content = m.template.is_some()
            || m.text.is_some()
            || m.whatsapp_template.is_some()
            || (self.channel == ChannelName::Webhook && !m.data.is_empty());
        if !has_content {
            return Err(FieldError::new(
                "message",
                "give template, text or whatsapp_template",
            ));
        }
        if m.whatsapp_template.is_some() && self.channel != ChannelName::Whatsapp {
            return Err(FieldError::new(
                "message.whatsapp_template",
                "only for the whatsapp channel",
            ));
        }
        if !m.attachments.is_empty() && self.channel != ChannelName::Email {
            return Err(FieldError::new(
                "message.attachments",
                "only for the email channel",
            ));
        }
        Ok(())
    }
}

fn check_key(path: &str, k: &str) -> Result<(), FieldError> {
    if k.is_empty() || k.len() > 200 {
        return Err(FieldError::new(path, "must be 1-200 bytes"));
    }
    Ok(())
}

/// A row of `notifications` (the outbox).
#[derive(Clone, Debug, Serialize, sqlx::FromRow, ToSchema)]
pub struct Notification {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub dedup_key: String,
    pub channel: String,
    pub recipient: String,
    #[serde(skip)]
    pub message: sqlx::types::Json<MessageSpec>,
    pub urgent: bool,
    /// queued | sending | sent | delivered | read | failed | suppressed | unknown
    pub status: String,
    pub provider_message_id: Option<String>,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub job_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub read_at: Option<DateTime<Utc>>,
}
