//! The extractor as a subprocess: `<bin> extract <flags> <file>` (the
//! `worker` binary's `extract` subcommand, `documents::cli::run`), so a PDF
//! that makes the parser loop, explode in memory or crash costs one child
//! process, never the worker.
//!
//! 1. Spawned with RLIMIT_AS (memory) and RLIMIT_CPU (CPU seconds; SIGXCPU,
//!    then SIGKILL at the hard limit) set between fork and exec, and
//!    PR_SET_PDEATHSIG so it dies with the worker. OpenMP is held to one
//!    thread (Tesseract would take every core).
//! 2. stdout is read up to [`MAX_OUTPUT_BYTES`] (more is drained and dropped,
//!    and fails the run); stderr's tail is kept to explain a crash.
//! 3. Killed on the wall-clock timeout and on the job's cancellation.
//! 4. The one JSON line of stdout is an `ExtractOutput`: `ok` → the result,
//!    `error` → the file's fault ([`RunError::Extract`]). Anything else — a
//!    signal, a limit, a timeout, no JSON — is [`RunError::Crashed`] with a
//!    code and a message naming the limit that was hit. With `--page-text`
//!    (the LLM fallback) the line before it holds each page's text.

use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use documents::{DocType, ExtractError, ExtractOutput, Extraction, Options};
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio_util::sync::CancellationToken;

/// Largest stdout accepted (a result is a few KB; a 50-page histórico well under 1 MB).
pub const MAX_OUTPUT_BYTES: usize = 8 * 1024 * 1024;
/// How much of stderr is kept to explain a failure.
const STDERR_TAIL_BYTES: usize = 16 * 1024;

/// The subprocess's budget.
#[derive(Clone, Debug)]
pub struct Limits {
    pub timeout: Duration,
    pub cpu_secs: u64,
    pub memory_bytes: u64,
}

/// Why a run gave no result.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RunError {
    /// The extractor read the file and refused it (`not_pdf`, `encrypted`, ...).
    #[error("{0}")]
    Extract(ExtractError),
    /// It died, hit a limit or said nothing useful; `code` is `timeout`,
    /// `cpu_limit`, `crashed` or `bad_output`.
    #[error("{code}: {message}")]
    Crashed { code: &'static str, message: String },
    /// It could not be started (missing binary, no processes left).
    #[error("could not start the extractor: {0}")]
    Start(String),
    /// The job was cancelled; the child was killed.
    #[error("cancelled")]
    Cancelled,
}

/// `worker extract`'s flags for `opts`, then the file.
pub fn args(opts: &Options, file: &Path) -> Vec<std::ffi::OsString> {
    let mut a: Vec<std::ffi::OsString> = vec!["extract".into()];
    let mut flag = |k: &str, v: String| {
        a.push(k.into());
        a.push(v.into());
    };
    flag("--max-pages", opts.max_pages.to_string());
    flag("--max-inflated-bytes", opts.max_inflated_bytes.to_string());
    flag("--languages", opts.languages.clone());
    flag("--dpi", opts.dpi.to_string());
    flag("--grade-scale-max", opts.grade_scale_max.to_string());
    match opts.doc_type {
        Some(DocType::Boletim) => flag("--doc-type", "boletim".into()),
        Some(DocType::Historico) => flag("--doc-type", "historico".into()),
        Some(DocType::Unknown) | None => {}
    }
    if !opts.ocr {
        a.push("--no-ocr".into());
    }
    a.push(file.as_os_str().to_owned());
    a
}

/// Reads all of `r`, keeping the first `cap` bytes (`keep_tail`: the last
/// `cap`); returns what was kept and whether anything was dropped.
async fn read_capped(
    mut r: impl AsyncRead + Unpin,
    cap: usize,
    keep_tail: bool,
) -> (Vec<u8>, bool) {
    let mut kept = Vec::new();
    let mut dropped = false;
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match r.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        kept.extend_from_slice(&buf[..n]);
        if kept.len() > cap {
            dropped = true;
            if keep_tail {
                kept.drain(..kept.len() - cap);
            } else {
                kept.truncate(cap);
            }
        }
    }
    (kept, dropped)
}

/// The last line of stderr worth showing (panic messages, "memory allocation failed").
fn stderr_hint(stderr: &[u8]) -> String {
    let text = String::from_utf8_lossy(stderr);
    let line = text
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("");
    let line: String = line.trim().chars().take(300).collect();
    if line.is_empty() {
        String::new()
    } else {
        format!(": {line}")
    }
}

fn signal_name(sig: i32) -> String {
    match sig {
        libc::SIGKILL => "SIGKILL".into(),
        libc::SIGXCPU => "SIGXCPU".into(),
        libc::SIGABRT => "SIGABRT".into(),
        libc::SIGSEGV => "SIGSEGV".into(),
        libc::SIGBUS => "SIGBUS".into(),
        libc::SIGTERM => "SIGTERM".into(),
        n => format!("signal {n}"),
    }
}

/// The line `--page-text` adds before the result.
#[derive(serde::Deserialize)]
struct PageText {
    page_text: Vec<String>,
}

/// Runs the extractor on `file`. Blocks only the calling task.
pub async fn run(
    bin: &Path,
    opts: &Options,
    file: &Path,
    limits: &Limits,
    cancel: &CancellationToken,
) -> Result<Extraction, RunError> {
    run_with_text(bin, opts, file, limits, cancel, None)
        .await
        .map(|(x, _)| x)
}

/// [`run`]; with `page_text = Some(n)` also each page's text (at most `n`
/// chars in all: `--page-text n`), for the LLM fallback. The extractor
/// prints it on the line before the result; a missing or unreadable text
/// line is an empty list, never a failure.
pub async fn run_with_text(
    bin: &Path,
    opts: &Options,
    file: &Path,
    limits: &Limits,
    cancel: &CancellationToken,
    page_text: Option<usize>,
) -> Result<(Extraction, Vec<String>), RunError> {
    let mut argv = args(opts, file);
    if let Some(n) = page_text {
        let path = argv.pop().expect("args end with the file");
        argv.push("--page-text".into());
        argv.push(n.to_string().into());
        argv.push(path);
    }
    let mut cmd = tokio::process::Command::new(bin);
    cmd.args(argv)
        .env("OMP_THREAD_LIMIT", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let (mem, cpu) = (limits.memory_bytes, limits.cpu_secs);
    // SAFETY: between fork and exec only async-signal-safe calls are allowed;
    // setrlimit and prctl are plain syscalls and nothing here allocates.
    unsafe {
        cmd.pre_exec(move || {
            let set = |res, soft: u64, hard: u64| {
                let lim = libc::rlimit {
                    rlim_cur: soft as libc::rlim_t,
                    rlim_max: hard as libc::rlim_t,
                };
                if libc::setrlimit(res, &lim) == -1 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            };
            set(libc::RLIMIT_AS, mem, mem)?;
            // SIGXCPU at the soft limit; the kernel SIGKILLs at the hard one.
            set(libc::RLIMIT_CPU, cpu, cpu + 2)?;
            set(libc::RLIMIT_CORE, 0, 0)?;
            #[cfg(target_os = "linux")]
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) == -1 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = cmd
        .spawn()
        .map_err(|e| RunError::Start(format!("{}: {e}", bin.display())))?;
    let stdout = child.stdout.take().expect("piped stdout");
    let stderr = child.stderr.take().expect("piped stderr");

    enum Ended {
        Exited(
            std::io::Result<std::process::ExitStatus>,
            (Vec<u8>, bool),
            Vec<u8>,
        ),
        TimedOut,
        Cancelled,
    }
    let ended = {
        let done = async {
            let (out, err, status) = tokio::join!(
                read_capped(stdout, MAX_OUTPUT_BYTES, false),
                read_capped(stderr, STDERR_TAIL_BYTES, true),
                child.wait()
            );
            Ended::Exited(status, out, err.0)
        };
        tokio::select! {
            e = done => e,
            _ = tokio::time::sleep(limits.timeout) => Ended::TimedOut,
            _ = cancel.cancelled() => Ended::Cancelled,
        }
    };
    let limits_text = format!(
        "limits: {} MiB memory, {} s CPU, {} s wall clock",
        limits.memory_bytes / (1024 * 1024),
        limits.cpu_secs,
        limits.timeout.as_secs()
    );
    let (status, (out, overflow), err) = match ended {
        Ended::Exited(status, out, err) => (status, out, err),
        Ended::TimedOut | Ended::Cancelled => {
            let _ = child.start_kill();
            let _ = child.wait().await;
            if matches!(ended, Ended::Cancelled) {
                return Err(RunError::Cancelled);
            }
            return Err(RunError::Crashed {
                code: "timeout",
                message: format!(
                    "extraction took longer than {} s and was killed ({limits_text})",
                    limits.timeout.as_secs()
                ),
            });
        }
    };
    let status = status.map_err(|e| RunError::Crashed {
        code: "crashed",
        message: format!("could not wait for the extractor: {e}"),
    })?;
    if let Some(sig) = status.signal() {
        let (code, why) = match sig {
            libc::SIGXCPU => ("cpu_limit", "used up its CPU time".to_string()),
            libc::SIGKILL => (
                "crashed",
                "was killed (CPU hard limit or the kernel's OOM killer)".to_string(),
            ),
            _ => ("crashed", "crashed".to_string()),
        };
        return Err(RunError::Crashed {
            code,
            message: format!(
                "extractor {why}, {} ({limits_text}){}",
                signal_name(sig),
                stderr_hint(&err)
            ),
        });
    }
    if overflow {
        return Err(RunError::Crashed {
            code: "bad_output",
            message: format!("extractor printed more than {MAX_OUTPUT_BYTES} bytes"),
        });
    }
    let text = String::from_utf8_lossy(&out);
    let mut lines = text.lines().rev().filter(|l| !l.trim().is_empty());
    let line = lines.next().unwrap_or("");
    let texts = lines
        .next()
        .and_then(|l| serde_json::from_str::<PageText>(l).ok())
        .map(|p| p.page_text)
        .unwrap_or_default();
    // Exit 2 (bad arguments) is a crash too: our bug, not the file's.
    match (status.code(), serde_json::from_str::<ExtractOutput>(line)) {
        (Some(0), Ok(ExtractOutput::Ok(x))) => Ok((*x, texts)),
        (Some(0), Ok(ExtractOutput::Error(e))) => Err(RunError::Extract(e)),
        (code, _) => Err(RunError::Crashed {
            code: "crashed",
            message: format!(
                "extractor exited with status {} without a result ({limits_text}){}",
                code.map_or("?".to_string(), |c| c.to_string()),
                stderr_hint(&err)
            ),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_follow_the_options() {
        let mut o = Options {
            ocr: false,
            doc_type: Some(DocType::Historico),
            ..Options::default()
        };
        let a: Vec<String> = args(&o, Path::new("/tmp/x.pdf"))
            .into_iter()
            .map(|s| s.into_string().unwrap())
            .collect();
        assert_eq!(a[0], "extract");
        assert!(a.windows(2).any(|w| w == ["--max-pages", "50"]));
        assert!(a.windows(2).any(|w| w == ["--doc-type", "historico"]));
        assert!(a.contains(&"--no-ocr".to_string()));
        assert_eq!(a.last().unwrap(), "/tmp/x.pdf");
        o.ocr = true;
        o.doc_type = None;
        let a = args(&o, Path::new("f"));
        assert!(!a.iter().any(|s| s == "--no-ocr" || s == "--doc-type"));
    }

    fn script(dir: &Path, body: &str) -> std::path::PathBuf {
        use std::os::unix::fs::PermissionsExt;
        let p = dir.join("fake-extractor");
        std::fs::write(&p, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
        p
    }

    fn limits(timeout_ms: u64) -> Limits {
        Limits {
            timeout: Duration::from_millis(timeout_ms),
            cpu_secs: 30,
            memory_bytes: 512 * 1024 * 1024,
        }
    }

    #[tokio::test]
    async fn an_error_line_is_the_files_fault_and_garbage_is_a_crash() {
        let dir = tempfile::tempdir().unwrap();
        let bin = script(
            dir.path(),
            r#"echo '{"error":{"code":"encrypted","message":"PDF protegido por senha"}}'"#,
        );
        let r = run(
            &bin,
            &Options::default(),
            Path::new("x"),
            &limits(60_000),
            &CancellationToken::new(),
        )
        .await;
        assert_eq!(
            r,
            Err(RunError::Extract(ExtractError::new(
                "encrypted",
                "PDF protegido por senha"
            )))
        );

        let bin = script(dir.path(), "echo 'pânico' >&2; exit 101");
        let r = run(
            &bin,
            &Options::default(),
            Path::new("x"),
            &limits(60_000),
            &CancellationToken::new(),
        )
        .await;
        match r {
            Err(RunError::Crashed {
                code: "crashed",
                message,
            }) => {
                assert!(
                    message.contains("status 101") && message.contains("pânico"),
                    "{message}"
                )
            }
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn a_hung_extractor_is_killed_at_the_timeout_and_on_cancel() {
        let dir = tempfile::tempdir().unwrap();
        let bin = script(dir.path(), "exec sleep 600");
        let r = run(
            &bin,
            &Options::default(),
            Path::new("x"),
            &limits(300),
            &CancellationToken::new(),
        )
        .await;
        assert!(
            matches!(
                r,
                Err(RunError::Crashed {
                    code: "timeout",
                    ..
                })
            ),
            "{r:?}"
        );

        let cancel = CancellationToken::new();
        cancel.cancel();
        let r = run(
            &bin,
            &Options::default(),
            Path::new("x"),
            &limits(600_000),
            &cancel,
        )
        .await;
        assert_eq!(r, Err(RunError::Cancelled));
    }

    #[tokio::test]
    async fn a_spinning_extractor_gets_sigxcpu_from_its_cpu_limit() {
        let dir = tempfile::tempdir().unwrap();
        let bin = script(dir.path(), "while :; do :; done");
        let l = Limits {
            cpu_secs: 1,
            ..limits(600_000)
        };
        let r = run(
            &bin,
            &Options::default(),
            Path::new("x"),
            &l,
            &CancellationToken::new(),
        )
        .await;
        match r {
            Err(RunError::Crashed {
                code: "cpu_limit",
                message,
            }) => {
                assert!(
                    message.contains("SIGXCPU") && message.contains("1 s CPU"),
                    "{message}"
                )
            }
            other => panic!("{other:?}"),
        }
    }
}
