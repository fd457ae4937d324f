//! Email over SMTP with lettre: text + HTML alternative, attachments,
//! STARTTLS/TLS via rustls, one pooled transport per relay and account.
//!
//! Tenant settings: `from` (required), `from_name`, `reply_to`, and to use
//! their own relay instead of `[notifications].smtp_*`: `host`, `port`,
//! `tls` (`none`|`starttls`|`tls`), `username`, `password_env`.
//! The provider id recorded is our own `Message-ID` (`<notification id@tarefa>`).
//! TLS always verifies the relay's certificate against the Mozilla roots plus
//! `[notifications].smtp_ca_file` (a private CA), for STARTTLS and implicit TLS alike.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use base64::Engine as _;
use lettre::message::header::ContentType;
use lettre::message::{Attachment as MailAttachment, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::transport::smtp::PoolConfig;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use super::{secrets, Channel, NotificationSettings, Outgoing, SendError, Sent, SmtpTls};

type Transport = AsyncSmtpTransport<Tokio1Executor>;

/// The email channel.
pub struct Email<'a> {
    pub settings: &'a NotificationSettings,
}

#[derive(Clone, PartialEq, Eq, Hash)]
struct RelayKey {
    host: String,
    port: u16,
    tls: SmtpTls,
    username: Option<String>,
    /// `[notifications].smtp_ca_file`: part of the key so a transport never
    /// outlives the trust it was built with.
    ca_file: Option<String>,
}

/// TLS parameters for `host`: default roots plus the configured CA file, if any.
fn tls_parameters(host: &str, ca_file: Option<&str>) -> Result<TlsParameters, SendError> {
    let mut b = TlsParameters::builder(host.to_string());
    if let Some(path) = ca_file {
        let pem = std::fs::read(path)
            .map_err(|e| SendError::permanent(format!("smtp_ca_file {path}: {e}")))?;
        let cert = Certificate::from_pem(&pem)
            .map_err(|e| SendError::permanent(format!("smtp_ca_file {path}: {e}")))?;
        b = b.add_root_certificate(cert);
    }
    b.build_rustls()
        .map_err(|e| SendError::permanent(format!("smtp tls: {e}")))
}

/// One pooled transport per relay + account, for the whole process (the pool is the point).
fn transport(
    key: &RelayKey,
    password: Option<String>,
    pool_max: u32,
) -> Result<Transport, SendError> {
    static POOLS: OnceLock<Mutex<HashMap<RelayKey, Transport>>> = OnceLock::new();
    let pools = POOLS.get_or_init(Default::default);
    if let Some(t) = pools.lock().expect("smtp pools").get(key) {
        return Ok(t.clone());
    }
    let tls = match key.tls {
        SmtpTls::None => Tls::None,
        SmtpTls::Starttls => Tls::Required(tls_parameters(&key.host, key.ca_file.as_deref())?),
        SmtpTls::Tls => Tls::Wrapper(tls_parameters(&key.host, key.ca_file.as_deref())?),
    };
    let builder = Transport::builder_dangerous(&key.host).tls(tls);
    let mut builder = builder
        .port(key.port)
        .timeout(Some(Duration::from_secs(30)))
        .pool_config(PoolConfig::new().max_size(pool_max.max(1)));
    if let (Some(user), Some(pw)) = (&key.username, password) {
        builder = builder.credentials(Credentials::new(user.clone(), pw));
    }
    let t = builder.build();
    pools
        .lock()
        .expect("smtp pools")
        .insert(key.clone(), t.clone());
    Ok(t)
}

fn relay(
    msg: &Outgoing,
    g: &NotificationSettings,
) -> Result<(RelayKey, Option<String>), SendError> {
    let s = &msg.settings;
    if let Some(host) = s.get("host").and_then(|v| v.as_str()) {
        let tls = match s.get("tls").and_then(|v| v.as_str()).unwrap_or("starttls") {
            "none" => SmtpTls::None,
            "tls" => SmtpTls::Tls,
            _ => SmtpTls::Starttls,
        };
        let key = RelayKey {
            host: host.to_string(),
            port: s.get("port").and_then(|v| v.as_u64()).unwrap_or(587) as u16,
            tls,
            username: s.get("username").and_then(|v| v.as_str()).map(String::from),
            ca_file: g.smtp_ca_file.clone(),
        };
        return Ok((key, secrets::resolve_opt(s, "password_env")?));
    }
    let key = RelayKey {
        host: g.smtp_host.clone(),
        port: g.smtp_port,
        tls: g.smtp_tls,
        username: g.smtp_username.clone(),
        ca_file: g.smtp_ca_file.clone(),
    };
    Ok((key, g.smtp_password.clone()))
}

/// Builds the MIME message (pure: tests read it back).
pub fn build(msg: &Outgoing) -> Result<Message, SendError> {
    let s = &msg.settings;
    let from_addr = secrets::text(s, "from")?;
    let from_name = s
        .get("from_name")
        .and_then(|v| v.as_str())
        .map(String::from);
    let from = Mailbox::new(
        from_name,
        from_addr
            .parse()
            .map_err(|_| SendError::permanent("settings.from is not an email address"))?,
    );
    let to: Mailbox = msg
        .recipient
        .parse()
        .map_err(|_| SendError::permanent("recipient is not an email address"))?;
    let mut b = Message::builder()
        .from(from)
        .to(to)
        .subject(msg.subject.clone().unwrap_or_default())
        .message_id(Some(format!("<{}@tarefa>", msg.notification_id)));
    if let Some(r) = s.get("reply_to").and_then(|v| v.as_str()) {
        if let Ok(mb) = r.parse::<Mailbox>() {
            b = b.reply_to(mb);
        }
    }
    let text = SinglePart::plain(msg.text.clone());
    let body = match &msg.html {
        Some(html) => MultiPart::alternative()
            .singlepart(text)
            .singlepart(SinglePart::html(html.clone())),
        None => MultiPart::mixed().singlepart(text),
    };
    let built = if msg.attachments.is_empty() {
        b.multipart(body)
    } else {
        let mut mixed = MultiPart::mixed().multipart(body);
        for a in &msg.attachments {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(&a.content_base64)
                .map_err(|_| {
                    SendError::permanent(format!("attachment {}: bad base64", a.filename))
                })?;
            let ct = ContentType::parse(&a.content_type)
                .unwrap_or_else(|_| ContentType::parse("application/octet-stream").expect("mime"));
            mixed = mixed.singlepart(MailAttachment::new(a.filename.clone()).body(bytes, ct));
        }
        b.multipart(mixed)
    };
    built.map_err(|e| SendError::permanent(format!("email: {e}")))
}

impl Channel for Email<'_> {
    const NAME: &'static str = "email";

    async fn send(&self, msg: &Outgoing) -> Result<Sent, SendError> {
        let message = build(msg)?;
        let (key, password) = relay(msg, self.settings)?;
        let t = transport(&key, password, self.settings.smtp_pool_max)?;
        match t.send(message).await {
            Ok(_) => Ok(Sent {
                provider_message_id: Some(format!("<{}@tarefa>", msg.notification_id)),
            }),
            Err(e) => Err(classify_smtp(&e)),
        }
    }
}

/// SMTP 5xx (bad mailbox) is permanent; a 4xx reply retries (the server
/// refused it); a refused or unreachable relay retries (nothing was sent).
/// A timeout or a connection cut mid-session is `Unknown`: the server may
/// have queued the message, and sending again could deliver it twice.
fn classify_smtp(e: &lettre::transport::smtp::Error) -> SendError {
    let code = e.status().map(|c| c.to_string()).unwrap_or_default();
    if e.is_permanent() {
        SendError::permanent(format!("smtp {code} rejected"))
    } else if e.is_transient() {
        SendError::retryable(format!("smtp {code} try later"))
    } else if never_connected(e) {
        SendError::retryable("smtp relay unreachable")
    } else if let Some(tls) = tls_handshake_failed(e) {
        // The handshake comes before MAIL/DATA (STARTTLS and implicit TLS
        // alike): nothing was sent. Retry, so a fixed `smtp_ca_file` or a
        // renewed relay certificate delivers it; `last_error` tells ops why.
        SendError::retryable(format!("smtp tls handshake failed: {tls}"))
    } else if e.is_timeout() {
        SendError::Unknown {
            reason: "smtp timed out mid-session".into(),
        }
    } else {
        SendError::Unknown {
            reason: "smtp connection lost mid-session".into(),
        }
    }
}

/// The rustls error when the TLS handshake with the relay failed (an
/// untrusted or mismatched certificate, no common protocol): these only
/// happen before the session carries any mail.
fn tls_handshake_failed(e: &lettre::transport::smtp::Error) -> Option<String> {
    use std::error::Error as _;
    let mut source = e.source();
    while let Some(s) = source {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            let tls = io.get_ref()?.downcast_ref::<rustls::Error>()?;
            return match tls {
                rustls::Error::InvalidCertificate(_)
                | rustls::Error::NoCertificatesPresented
                | rustls::Error::UnsupportedNameType
                | rustls::Error::PeerIncompatible(_) => Some(tls.to_string()),
                _ => None,
            };
        }
        source = s.source();
    }
    None
}

/// True when the relay could not be reached at all (refused, no route, DNS).
fn never_connected(e: &lettre::transport::smtp::Error) -> bool {
    use std::error::Error as _;
    let mut source = e.source();
    while let Some(s) = source {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            return matches!(
                io.kind(),
                std::io::ErrorKind::ConnectionRefused
                    | std::io::ErrorKind::AddrNotAvailable
                    | std::io::ErrorKind::HostUnreachable
                    | std::io::ErrorKind::NetworkUnreachable
                    | std::io::ErrorKind::NotFound
            );
        }
        source = s.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg() -> Outgoing {
        Outgoing {
            notification_id: uuid::Uuid::nil(),
            tenant_id: uuid::Uuid::nil(),
            recipient: "Maria Souza <maria@example.com>".into(),
            subject: Some("Boletim do 3º bimestre".into()),
            text: "Segue o boletim.".into(),
            html: Some("<p>Segue o <b>boletim</b>.</p>".into()),
            data: serde_json::Value::Null,
            attachments: vec![super::super::Attachment {
                filename: "boletim.csv".into(),
                content_type: "text/csv".into(),
                content_base64: base64::engine::general_purpose::STANDARD
                    .encode("disciplina;nota\nMatemática;8,5\n"),
            }],
            settings: serde_json::json!({"from": "secretaria@escola.example", "from_name": "Secretaria São João"}),
        }
    }

    #[test]
    fn html_text_and_attachment_in_one_message() {
        let raw = String::from_utf8(build(&msg()).unwrap().formatted()).unwrap();
        assert!(
            raw.contains("multipart/mixed") && raw.contains("multipart/alternative"),
            "{raw}"
        );
        assert!(
            raw.contains("text/html") && raw.contains("text/plain"),
            "{raw}"
        );
        assert!(raw.contains("filename=\"boletim.csv\""), "{raw}");
        assert!(
            raw.contains("Message-ID: <00000000-0000-0000-0000-000000000000@tarefa>"),
            "{raw}"
        );
        // UTF-8 display name and subject are RFC 2047 encoded.
        assert!(raw.contains("Subject: Boletim do =?utf-8?b?"), "{raw}");
        assert!(raw.contains("From: =?utf-8?b?"), "{raw}");
    }

    #[test]
    fn bad_addresses_and_base64_are_permanent() {
        let mut m = msg();
        m.recipient = "not an address".into();
        assert!(matches!(build(&m), Err(SendError::Permanent { .. })));
        let mut m = msg();
        m.attachments[0].content_base64 = "%%%".into();
        assert!(matches!(build(&m), Err(SendError::Permanent { .. })));
    }
}
