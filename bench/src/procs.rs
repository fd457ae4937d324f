//! The real binaries the benches drive: `worker` and `api-lite` processes
//! started from the release build, each on the run's Redis prefix, logging
//! to a file in the run directory; stopped with SIGTERM (SIGKILL after a
//! grace). Their CPU time and peak RSS are read from `/proc` before they stop.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

/// Where the binaries are and how to point them at this run.
#[derive(Clone, Debug)]
pub struct Spawner {
    pub bin_dir: PathBuf,
    pub config_dir: PathBuf,
    pub log_dir: PathBuf,
    pub redis_url: String,
    pub prefix: String,
    pub database_url: String,
}

/// A running child process.
pub struct Proc {
    pub name: String,
    child: Child,
    log: PathBuf,
}

impl Spawner {
    fn command(&self, bin: &str, log: &str, env: &[(String, String)]) -> Result<Command> {
        let path = self.bin_dir.join(bin);
        if !path.exists() {
            bail!(
                "{} not found: build with `cargo build --release -p {bin}`",
                path.display()
            );
        }
        let log_file = std::fs::File::create(self.log_dir.join(log))
            .with_context(|| format!("creating {log} in {}", self.log_dir.display()))?;
        let mut cmd = Command::new(path);
        cmd.env_remove("TAREFA_ENV")
            .env("TAREFA_CONFIG_DIR", &self.config_dir)
            .env("TAREFA__REDIS__URL", &self.redis_url)
            .env("TAREFA__REDIS__PREFIX", &self.prefix)
            .env("TAREFA__DATABASE__URL", &self.database_url)
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log_file);
        for (k, v) in env {
            cmd.env(k, v);
        }
        Ok(cmd)
    }

    /// `worker --queues diag`; `env` overrides (e.g. `RUST_LOG`, concurrency).
    pub fn worker(&self, n: usize, env: &[(String, String)]) -> Result<Proc> {
        let name = format!("worker-{n}");
        let mut cmd = self.command("worker", &format!("{name}.log"), env)?;
        cmd.arg("--queues").arg("diag");
        let child = cmd.spawn().context("starting worker")?;
        Ok(Proc {
            log: self.log_dir.join(format!("{name}.log")),
            name,
            child,
        })
    }

    /// `api-lite` (serve) listening on `listen`.
    pub fn api_lite(&self, listen: &str) -> Result<Proc> {
        let env = [("TAREFA__API__LISTEN".to_string(), listen.to_string())];
        let mut cmd = self.command("api-lite", "api-lite.log", &env)?;
        cmd.arg("serve");
        let child = cmd.spawn().context("starting api-lite")?;
        Ok(Proc {
            name: "api-lite".into(),
            child,
            log: self.log_dir.join("api-lite.log"),
        })
    }
}

impl Proc {
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Fails when the process already exited (it could not start).
    pub fn check_alive(&mut self) -> Result<()> {
        if let Some(status) = self.child.try_wait()? {
            let log = std::fs::read_to_string(&self.log).unwrap_or_default();
            let first = log.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
            bail!(
                "{} exited early with {status}: {first} (log: {})",
                self.name,
                self.log.display()
            );
        }
        Ok(())
    }

    /// utime + stime so far, seconds.
    pub fn cpu_secs(&self) -> f64 {
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{}/stat", self.pid())) else {
            return f64::NAN;
        };
        // Fields after the `(comm)`: state is field 3, utime 14, stime 15.
        let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else {
            return f64::NAN;
        };
        let f: Vec<&str> = rest.split_whitespace().collect();
        let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
        // SAFETY: sysconf has no preconditions.
        let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
        (ticks(11) + ticks(12)) / hz.max(1.0)
    }

    /// Peak resident set size (VmHWM), bytes.
    pub fn peak_rss(&self) -> u64 {
        status_bytes(self.pid(), "VmHWM:")
    }

    /// Resident set size now (VmRSS), bytes.
    pub fn rss(&self) -> u64 {
        status_bytes(self.pid(), "VmRSS:")
    }

    /// SIGTERM, then SIGKILL after `grace`; waits for the exit.
    pub async fn stop(mut self, grace: Duration) -> Result<()> {
        // SAFETY: kill(2) on our own child's pid.
        unsafe {
            libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM);
        }
        let deadline = Instant::now() + grace;
        loop {
            if self.child.try_wait()?.is_some() {
                return Ok(());
            }
            if Instant::now() > deadline {
                eprintln!(
                    "bench: {} ignored SIGTERM for {grace:?}; killing it",
                    self.name
                );
                self.child.kill()?;
                self.child.wait()?;
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        // A bench that bails out must not leave workers behind.
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A `kB` field of `/proc/<pid>/status`, in bytes (0 when unreadable).
pub fn status_bytes(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map(|kb| kb * 1024)
        .unwrap_or(0)
}

/// A free loopback port (bound, then released).
pub fn free_port() -> Result<u16> {
    let l = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(l.local_addr()?.port())
}

/// Directory for this run's logs.
pub fn log_dir(prefix: &str) -> Result<PathBuf> {
    let dir = Path::new("/tmp").join(prefix);
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}
