//! A real SMTP server for tests and the bench: a tokio listener on port 0
//! that speaks EHLO/HELO, MAIL, RCPT, DATA (dot-unstuffing), RSET, NOOP and
//! QUIT, and keeps every accepted message. A recipient containing `reject`
//! gets `550`, one containing `busy` gets `451` (a transient failure).
//! [`SmtpSink::stall`] keeps a message but never answers its DATA: the
//! provider has it, the sender never hears so (for kill-mid-send tests).
//!
//! [`SmtpSink::start_tls`] speaks STARTTLS (advertised, and required before
//! `MAIL`) or implicit TLS (port-465 style) with the test-only certificate in
//! `tests/fixtures/` (`localhost`/`127.0.0.1`, signed by [`TEST_CA_PEM`]).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tokio_rustls::rustls;
use tokio_rustls::TlsAcceptor;

/// The test-only CA that signed the sink's certificate (trust it via `smtp_ca_file`).
pub const TEST_CA_PEM: &str = include_str!("../../tests/fixtures/smtp_test_ca.pem");
const TEST_CERT_PEM: &str = include_str!("../../tests/fixtures/smtp_test_cert.pem");
const TEST_KEY_PEM: &str = include_str!("../../tests/fixtures/smtp_test_key.pem");

/// How the sink secures its sessions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SinkTls {
    /// Plain SMTP.
    None,
    /// Plain connect; `STARTTLS` advertised and required before `MAIL`.
    Starttls,
    /// TLS from the first byte.
    Implicit,
}

/// One accepted message.
#[derive(Clone, Debug)]
pub struct Mail {
    pub from: String,
    pub to: Vec<String>,
    /// The raw DATA (headers + MIME body), CRLF line ends.
    pub data: String,
    /// The session was encrypted (STARTTLS or implicit TLS) when DATA arrived.
    pub tls: bool,
}

#[derive(Default)]
struct Inner {
    mails: Mutex<Vec<Mail>>,
    sessions: Mutex<usize>,
    stall: AtomicBool,
    arrived: Notify,
}

/// The running sink; clone freely. Stops with the runtime.
#[derive(Clone)]
pub struct SmtpSink {
    pub addr: SocketAddr,
    inner: Arc<Inner>,
}

impl SmtpSink {
    pub async fn start() -> SmtpSink {
        SmtpSink::start_tls(SinkTls::None).await
    }

    /// A sink securing its sessions as `mode` says, with the test certificate.
    pub async fn start_tls(mode: SinkTls) -> SmtpSink {
        let acceptor = (mode != SinkTls::None).then(acceptor);
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind smtp sink");
        let addr = listener.local_addr().expect("addr");
        let inner = Arc::new(Inner::default());
        let i = inner.clone();
        tokio::spawn(async move {
            while let Ok((sock, _)) = listener.accept().await {
                *i.sessions.lock().expect("sessions") += 1;
                let i = i.clone();
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    match (mode, acceptor) {
                        (SinkTls::Implicit, Some(a)) => {
                            if let Ok(s) = a.accept(sock).await {
                                session(s, i, Phase::Implicit).await;
                            }
                        }
                        (SinkTls::Starttls, Some(a)) => {
                            let plain = session(sock, i.clone(), Phase::BeforeStarttls).await;
                            if let Some(plain) = plain {
                                if let Ok(s) = a.accept(plain).await {
                                    session(s, i, Phase::AfterStarttls).await;
                                }
                            }
                        }
                        _ => {
                            session(sock, i, Phase::Plain).await;
                        }
                    }
                });
            }
        });
        SmtpSink { addr, inner }
    }

    pub fn mails(&self) -> Vec<Mail> {
        self.inner.mails.lock().expect("mails").clone()
    }

    /// From now on, store messages but never answer their DATA (until the client hangs up).
    pub fn stall(&self, on: bool) {
        self.inner.stall.store(on, Ordering::SeqCst);
    }

    /// SMTP connections accepted so far (the pool reuses them).
    pub fn sessions(&self) -> usize {
        *self.inner.sessions.lock().expect("sessions")
    }

    /// Waits (no polling) until at least `n` messages arrived.
    pub async fn wait_for(&self, n: usize) -> Vec<Mail> {
        loop {
            let notified = self.inner.arrived.notified();
            let mails = self.mails();
            if mails.len() >= n {
                return mails;
            }
            notified.await;
        }
    }
}

fn acceptor() -> TlsAcceptor {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let certs = vec![CertificateDer::from_pem_slice(TEST_CERT_PEM.as_bytes()).expect("test cert")];
    let key = PrivateKeyDer::from_pem_slice(TEST_KEY_PEM.as_bytes()).expect("test key");
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("tls versions")
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .expect("test cert and key");
    TlsAcceptor::from(Arc::new(config))
}

/// How a session starts.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Plain, no TLS offered.
    Plain,
    /// Plain, STARTTLS offered and required before `MAIL`.
    BeforeStarttls,
    /// Encrypted after STARTTLS: no new greeting (RFC 3207), client EHLOs again.
    AfterStarttls,
    /// Implicit TLS: encrypted from the first byte, greeting as usual.
    Implicit,
}

/// One SMTP session over `sock`. In [`Phase::BeforeStarttls`] it returns the
/// plain stream when the client issues `STARTTLS` (for the TLS handshake).
async fn session<S>(sock: S, inner: Arc<Inner>, phase: Phase) -> Option<S>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut lines = BufReader::new(sock);
    let mut line = String::new();
    let encrypted = matches!(phase, Phase::AfterStarttls | Phase::Implicit);
    if phase != Phase::AfterStarttls && !say(lines.get_mut(), b"220 tarefa-sink ESMTP\r\n").await {
        return None;
    }
    let (mut from, mut to) = (String::new(), Vec::new());
    loop {
        line.clear();
        match lines.read_line(&mut line).await {
            Ok(0) | Err(_) => return None,
            Ok(_) => {}
        }
        let cmd = line.trim_end().to_string();
        let upper = cmd.to_ascii_uppercase();
        let reply: String = if upper.starts_with("EHLO") {
            if phase == Phase::BeforeStarttls {
                "250-tarefa-sink\r\n250-8BITMIME\r\n250-STARTTLS\r\n250 SMTPUTF8\r\n".into()
            } else {
                "250-tarefa-sink\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n".into()
            }
        } else if upper.starts_with("HELO") {
            "250 tarefa-sink\r\n".into()
        } else if upper == "STARTTLS" && phase == Phase::BeforeStarttls {
            let mut sock = lines.into_inner();
            if !say(&mut sock, b"220 2.0.0 Ready to start TLS\r\n").await {
                return None;
            }
            return Some(sock);
        } else if upper.starts_with("MAIL FROM:") && phase == Phase::BeforeStarttls {
            "530 5.7.0 Must issue a STARTTLS command first\r\n".into()
        } else if upper.starts_with("MAIL FROM:") {
            from = addr_of(&cmd[10..]);
            to.clear();
            "250 2.1.0 Ok\r\n".into()
        } else if upper.starts_with("RCPT TO:") {
            let a = addr_of(&cmd[8..]);
            if a.contains("reject") {
                "550 5.1.1 No such user\r\n".into()
            } else if a.contains("busy") {
                "451 4.3.0 Try again later\r\n".into()
            } else {
                to.push(a);
                "250 2.1.5 Ok\r\n".into()
            }
        } else if upper == "DATA" {
            if !say(lines.get_mut(), b"354 End data with <CR><LF>.<CR><LF>\r\n").await {
                return None;
            }
            let mut data = String::new();
            loop {
                line.clear();
                match lines.read_line(&mut line).await {
                    Ok(0) | Err(_) => return None,
                    Ok(_) => {}
                }
                if line == ".\r\n" || line == ".\n" {
                    break;
                }
                let l = line.strip_prefix('.').unwrap_or(&line);
                data.push_str(l);
            }
            inner.mails.lock().expect("mails").push(Mail {
                from: from.clone(),
                to: to.clone(),
                data,
                tls: encrypted,
            });
            inner.arrived.notify_waiters();
            if inner.stall.load(Ordering::SeqCst) {
                // Accepted, never acknowledged: wait for the client to go away.
                while matches!(lines.read_line(&mut line).await, Ok(n) if n > 0) {
                    line.clear();
                }
                return None;
            }
            "250 2.0.0 Ok: queued\r\n".into()
        } else if upper == "QUIT" {
            say(lines.get_mut(), b"221 2.0.0 Bye\r\n").await;
            let _ = lines.get_mut().shutdown().await;
            return None;
        } else if upper == "RSET" || upper == "NOOP" {
            "250 2.0.0 Ok\r\n".into()
        } else {
            "502 5.5.2 Command not recognized\r\n".into()
        };
        if !say(lines.get_mut(), reply.as_bytes()).await {
            return None;
        }
    }
}

/// Writes a reply and flushes it (TLS streams hold writes until flushed).
async fn say<S: AsyncWrite + Unpin>(w: &mut S, reply: &[u8]) -> bool {
    w.write_all(reply).await.is_ok() && w.flush().await.is_ok()
}

fn addr_of(s: &str) -> String {
    let s = s.trim();
    let s = s.split_whitespace().next().unwrap_or(s);
    s.trim_start_matches('<').trim_end_matches('>').to_string()
}
