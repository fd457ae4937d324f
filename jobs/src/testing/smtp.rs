//! A real SMTP server for tests and the bench: a tokio listener on port 0
//! that speaks EHLO/HELO, MAIL, RCPT, DATA (dot-unstuffing), RSET, NOOP and
//! QUIT, and keeps every accepted message. A recipient containing `reject`
//! gets `550`, one containing `busy` gets `451` (a transient failure).
//! [`SmtpSink::stall`] keeps a message but never answers its DATA: the
//! provider has it, the sender never hears so (for kill-mid-send tests).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;

/// One accepted message.
#[derive(Clone, Debug)]
pub struct Mail {
    pub from: String,
    pub to: Vec<String>,
    /// The raw DATA (headers + MIME body), CRLF line ends.
    pub data: String,
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
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind smtp sink");
        let addr = listener.local_addr().expect("addr");
        let inner = Arc::new(Inner::default());
        let i = inner.clone();
        tokio::spawn(async move {
            while let Ok((sock, _)) = listener.accept().await {
                *i.sessions.lock().expect("sessions") += 1;
                tokio::spawn(session(sock, i.clone()));
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

async fn session(sock: TcpStream, inner: Arc<Inner>) {
    let (r, mut w) = sock.into_split();
    let mut lines = BufReader::new(r);
    let mut line = String::new();
    if w.write_all(b"220 tarefa-sink ESMTP\r\n").await.is_err() {
        return;
    }
    let (mut from, mut to) = (String::new(), Vec::new());
    loop {
        line.clear();
        match lines.read_line(&mut line).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let cmd = line.trim_end().to_string();
        let upper = cmd.to_ascii_uppercase();
        let reply: String = if upper.starts_with("EHLO") {
            "250-tarefa-sink\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n".into()
        } else if upper.starts_with("HELO") {
            "250 tarefa-sink\r\n".into()
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
            if w.write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                .await
                .is_err()
            {
                return;
            }
            let mut data = String::new();
            loop {
                line.clear();
                match lines.read_line(&mut line).await {
                    Ok(0) | Err(_) => return,
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
            });
            inner.arrived.notify_waiters();
            if inner.stall.load(Ordering::SeqCst) {
                // Accepted, never acknowledged: wait for the client to go away.
                while matches!(lines.read_line(&mut line).await, Ok(n) if n > 0) {
                    line.clear();
                }
                return;
            }
            "250 2.0.0 Ok: queued\r\n".into()
        } else if upper == "QUIT" {
            let _ = w.write_all(b"221 2.0.0 Bye\r\n").await;
            return;
        } else if upper == "RSET" || upper == "NOOP" {
            "250 2.0.0 Ok\r\n".into()
        } else {
            "502 5.5.2 Command not recognized\r\n".into()
        };
        if w.write_all(reply.as_bytes()).await.is_err() {
            return;
        }
    }
}

fn addr_of(s: &str) -> String {
    let s = s.trim();
    let s = s.split_whitespace().next().unwrap_or(s);
    s.trim_start_matches('<').trim_end_matches('>').to_string()
}
