//! The email channel over STARTTLS and implicit TLS, against the real SMTP
//! sink speaking TLS with the test-only certificate (`tests/fixtures/`): the
//! message arrives encrypted, the relay's certificate is verified (trusted
//! only through `smtp_ca_file`), and a STARTTLS-only server refuses plain mail.

use jobs::channels::email::Email;
use jobs::channels::{Channel, NotificationSettings, Outgoing, SendError, SmtpTls};
use jobs::testing::{SinkTls, SmtpSink};

const CA_FILE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/smtp_test_ca.pem"
);

fn settings(sink: &SmtpSink, host: &str, tls: SmtpTls, ca: Option<&str>) -> NotificationSettings {
    NotificationSettings {
        smtp_host: host.into(),
        smtp_port: sink.addr.port(),
        smtp_tls: tls,
        smtp_ca_file: ca.map(String::from),
        ..Default::default()
    }
}

fn message(to: &str) -> Outgoing {
    Outgoing {
        notification_id: uuid::Uuid::new_v4(),
        tenant_id: uuid::Uuid::new_v4(),
        recipient: to.into(),
        subject: Some("Reunião de pais".into()),
        text: "A reunião é na sexta, 15/12/2025.".into(),
        html: None,
        data: serde_json::Value::Null,
        attachments: vec![],
        settings: serde_json::json!({"from": "secretaria@escola-alfa.edu.br"}),
    }
}

async fn send(n: &NotificationSettings, to: &str) -> Result<jobs::channels::Sent, SendError> {
    Email { settings: n }.send(&message(to)).await
}

#[tokio::test]
async fn notify_email_over_starttls_arrives_encrypted() {
    let sink = SmtpSink::start_tls(SinkTls::Starttls).await;
    // By name: the certificate's DNS SAN is checked.
    let n = settings(&sink, "localhost", SmtpTls::Starttls, Some(CA_FILE));
    send(&n, "mae@example.com")
        .await
        .expect("sent over STARTTLS");
    let mails = sink.wait_for(1).await;
    assert_eq!(mails.len(), 1);
    assert!(mails[0].tls, "DATA went over the upgraded (TLS) session");
    assert_eq!(mails[0].to, vec!["mae@example.com".to_string()]);
    assert!(mails[0].data.contains("Subject: "), "{}", mails[0].data);
}

#[tokio::test]
async fn notify_email_over_implicit_tls_arrives_encrypted() {
    let sink = SmtpSink::start_tls(SinkTls::Implicit).await;
    // By address: the certificate's IP SAN is checked.
    let n = settings(&sink, "127.0.0.1", SmtpTls::Tls, Some(CA_FILE));
    send(&n, "pai@example.com").await.expect("sent over TLS");
    send(&n, "avo@example.com").await.expect("second message");
    let mails = sink.wait_for(2).await;
    assert!(mails.iter().all(|m| m.tls), "every message encrypted");
}

#[tokio::test]
async fn notify_email_tls_refuses_an_untrusted_certificate() {
    // Without the test CA the sink's certificate is unknown: nothing is sent,
    // and the failure is a retry (the handshake precedes any mail), never
    // `unknown` (which would leave the message unsent for good).
    for (mode, tls) in [
        (SinkTls::Implicit, SmtpTls::Tls),
        (SinkTls::Starttls, SmtpTls::Starttls),
    ] {
        let sink = SmtpSink::start_tls(mode).await;
        let n = settings(&sink, "localhost", tls, None);
        let err = send(&n, "mae@example.com")
            .await
            .expect_err("untrusted cert");
        assert!(
            matches!(&err, SendError::Retryable { reason, .. } if reason.contains("certificate")),
            "{tls:?}: {err:?}"
        );
        assert!(sink.mails().is_empty(), "{tls:?}: nothing delivered");
    }
}

#[tokio::test]
async fn notify_starttls_sink_refuses_plain_mail() {
    // The sink really requires STARTTLS: a client that skips it cannot deliver,
    // so the tests above would fail if the channel stopped upgrading.
    let sink = SmtpSink::start_tls(SinkTls::Starttls).await;
    let n = settings(&sink, "localhost", SmtpTls::None, None);
    let err = send(&n, "mae@example.com")
        .await
        .expect_err("plain refused");
    assert!(matches!(err, SendError::Permanent { .. }), "{err:?}");
    assert!(sink.mails().is_empty());
}
