//! `[notifications]` settings: the shared SMTP relay, provider base URLs
//! (tests point them at local fakes), callback secrets (env only, redacted in
//! `Debug`), webhook limits, the SSRF allowlist and per-tenant provider rates.

use serde::{Deserialize, Serialize};

/// How to talk to the SMTP server.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpTls {
    /// Plain SMTP (local catchers, tests).
    #[default]
    None,
    /// Plain connect, then STARTTLS (required).
    Starttls,
    /// TLS from the first byte (port 465).
    Tls,
}

#[derive(Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NotificationSettings {
    pub smtp_host: String,
    pub smtp_port: u16,
    pub smtp_tls: SmtpTls,
    pub smtp_username: Option<String>,
    /// Env only (`TAREFA__NOTIFICATIONS__SMTP_PASSWORD`).
    pub smtp_password: Option<String>,
    pub smtp_pool_max: u32,
    /// A PEM file of extra root CAs trusted for SMTP TLS (STARTTLS and implicit),
    /// on top of the Mozilla roots: for a relay behind a private CA. Certificates
    /// are always verified (chain and host name); there is no "accept invalid" knob.
    pub smtp_ca_file: Option<String>,
    pub fcm_base_url: String,
    pub whatsapp_base_url: String,
    pub whatsapp_api_version: String,
    /// Meta app secret: checks `X-Hub-Signature-256` on callbacks (env only).
    pub whatsapp_app_secret: Option<String>,
    /// Echoed back in the `hub.challenge` handshake (env only).
    pub whatsapp_verify_token: Option<String>,
    pub twilio_base_url: String,
    /// Public URL of api-lite (`https://tarefa.example.com`); Twilio signs the full callback URL.
    pub public_base_url: String,
    pub http_timeout_ms: u64,
    pub webhook_timeout_ms: u64,
    pub webhook_max_failures: u32,
    /// IPs or CIDRs webhooks may reach although private/loopback (tests: 127.0.0.1).
    pub ssrf_allow: Vec<String>,
    pub whatsapp_per_second: u32,
    pub sms_per_second: u32,
}

impl Default for NotificationSettings {
    fn default() -> Self {
        Self {
            smtp_host: "127.0.0.1".into(),
            smtp_port: 1025,
            smtp_tls: SmtpTls::None,
            smtp_username: None,
            smtp_password: None,
            smtp_pool_max: 10,
            smtp_ca_file: None,
            fcm_base_url: "https://fcm.googleapis.com".into(),
            whatsapp_base_url: "https://graph.facebook.com".into(),
            whatsapp_api_version: "v21.0".into(),
            whatsapp_app_secret: None,
            whatsapp_verify_token: None,
            twilio_base_url: "https://api.twilio.com".into(),
            public_base_url: String::new(),
            http_timeout_ms: 10_000,
            webhook_timeout_ms: 10_000,
            webhook_max_failures: 10,
            ssrf_allow: Vec::new(),
            whatsapp_per_second: 80,
            sms_per_second: 10,
        }
    }
}

impl std::fmt::Debug for NotificationSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let set = |o: &Option<String>| o.as_ref().map(|_| "<redacted>");
        f.debug_struct("NotificationSettings")
            .field("smtp_host", &self.smtp_host)
            .field("smtp_port", &self.smtp_port)
            .field("smtp_tls", &self.smtp_tls)
            .field("smtp_username", &self.smtp_username)
            .field("smtp_password", &set(&self.smtp_password))
            .field("smtp_ca_file", &self.smtp_ca_file)
            .field("fcm_base_url", &self.fcm_base_url)
            .field("whatsapp_base_url", &self.whatsapp_base_url)
            .field("whatsapp_app_secret", &set(&self.whatsapp_app_secret))
            .field("whatsapp_verify_token", &set(&self.whatsapp_verify_token))
            .field("twilio_base_url", &self.twilio_base_url)
            .field("public_base_url", &self.public_base_url)
            .field("ssrf_allow", &self.ssrf_allow)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_redacts_secrets() {
        let s = NotificationSettings {
            smtp_password: Some("hunter2".into()),
            whatsapp_app_secret: Some("appsecret".into()),
            ..Default::default()
        };
        let d = format!("{s:?}");
        assert!(!d.contains("hunter2") && !d.contains("appsecret"), "{d}");
    }
}
