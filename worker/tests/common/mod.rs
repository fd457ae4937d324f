//! Helpers for the worker's process-level tests, on the test kit
//! (`jobs::testing`): a [`Fleet`] — an engine handle on a real Redis under a
//! random key prefix (the kit's `RedisPrefix`: every key removed on drop),
//! real `worker` processes spawned from the built binary with that prefix
//! (their logs kept in temp files and printed when a test fails), a supervisor
//! that restarts workers as systemd would, and a private `redis-server`.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use jobs::config::EngineSettings;
use jobs::engine::{Engine, EngineConfig, JobInfo, NewJob};
pub use jobs::testing::redis_url;
pub use jobs::testing::RedisPrefix;
use tokio::process::{Child, Command};
use tokio::sync::watch;

/// Step between two looks at Redis state while waiting for a condition.
pub const POLL: Duration = Duration::from_millis(20);

/// Waits until `$cond` (an expression that may `.await`) holds, looking every
/// [`POLL`]. nextest's hang guard is the only timeout.
macro_rules! wait_until {
    ($cond:expr) => {
        loop {
            if $cond {
                break;
            }
            tokio::time::sleep($crate::common::POLL).await;
        }
    };
}
#[allow(unused_imports)]
pub(crate) use wait_until;

/// An engine under a fresh prefix, the settings its worker processes get,
/// and those processes' logs.
pub struct Fleet {
    pub engine: Engine,
    pub prefix: String,
    pub url: String,
    pub settings: EngineSettings,
    logs: tempfile::TempDir,
    spawned: Arc<AtomicUsize>,
    _keys: RedisPrefix,
}

impl Fleet {
    /// On the machine's Redis; `f` tunes the engine settings workers get.
    pub async fn new(f: impl FnOnce(&mut EngineSettings)) -> Fleet {
        Self::on(&redis_url(), f).await
    }

    /// On the Redis at `url`.
    pub async fn on(url: &str, f: impl FnOnce(&mut EngineSettings)) -> Fleet {
        Self::under(RedisPrefix::on(url), f).await
    }

    /// Under `keys`' prefix on its Redis (a test that needs its queues on
    /// given cluster shards picks the prefix).
    pub async fn under(keys: RedisPrefix, f: impl FnOnce(&mut EngineSettings)) -> Fleet {
        let mut settings = EngineSettings::default();
        f(&mut settings);
        let url = keys.url.clone();
        let prefix = keys.prefix.clone();
        let engine = Engine::connect(EngineConfig {
            redis_url: url.clone(),
            prefix: prefix.clone(),
            settings: settings.clone(),
        })
        .await
        .expect("redis");
        Fleet {
            engine,
            prefix,
            url,
            settings,
            logs: tempfile::tempdir().expect("temp dir"),
            spawned: Arc::default(),
            _keys: keys,
        }
    }

    /// How to start a worker process for `queues` (comma-separated) with this
    /// engine's prefix and settings.
    pub fn spec(&self, queues: &str, concurrency: usize) -> WorkerSpec {
        let s = &self.settings;
        let env = vec![
            ("TAREFA__REDIS__URL", self.url.clone()),
            ("TAREFA__REDIS__PREFIX", self.prefix.clone()),
            ("TAREFA__ENGINE__LEASE_TTL_MS", s.lease_ttl_ms.to_string()),
            (
                "TAREFA__ENGINE__MAX_DELIVERIES",
                s.max_deliveries.to_string(),
            ),
            (
                "TAREFA__ENGINE__SHUTDOWN_GRACE_MS",
                s.shutdown_grace_ms.to_string(),
            ),
            (
                "TAREFA__WORKER__DEFAULT_CONCURRENCY",
                concurrency.to_string(),
            ),
            // config/default.toml sets `diag` itself; the test's number wins.
            ("TAREFA__WORKER__CONCURRENCY__DIAG", concurrency.to_string()),
            (
                "TAREFA_CONFIG_DIR",
                concat!(env!("CARGO_MANIFEST_DIR"), "/../config").to_string(),
            ),
            ("TAREFA_LOG_FORMAT", "text".to_string()),
            ("NO_COLOR", "1".to_string()),
            ("RUST_LOG", "info".to_string()),
        ];
        WorkerSpec {
            queues: queues.to_string(),
            env: env.into_iter().map(|(k, v)| (k.to_string(), v)).collect(),
            logs: self.logs.path().to_path_buf(),
            spawned: self.spawned.clone(),
        }
    }

    /// Starts one worker process serving `queues`.
    pub fn spawn(&self, queues: &str, concurrency: usize) -> WorkerProc {
        self.spec(queues, concurrency).spawn()
    }

    /// Waits until `p` heartbeats on `queue`; returns its worker id there.
    pub async fn registered(&self, queue: &str, p: &WorkerProc) -> String {
        loop {
            let ws = self.engine.workers(queue).await.expect("workers");
            if let Some(w) = ws.into_iter().find(|w| p.owns(&w.id, queue)) {
                return w.id;
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Pushes `jobs` in one call; returns their ids in order.
    pub async fn push_all(&self, jobs: Vec<NewJob>) -> Vec<String> {
        let pushed = self.engine.push_bulk(jobs).await.expect("push");
        assert!(pushed.iter().all(|p| p.created));
        pushed.into_iter().map(|p| p.id).collect()
    }

    /// The jobs `ids` of `queue`, in order (a missing job fails the test: it was lost).
    pub async fn jobs(&self, queue: &str, ids: &[String]) -> Vec<JobInfo> {
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            let j = self.engine.job(queue, id).await.expect("job");
            out.push(j.unwrap_or_else(|| panic!("job {id} is gone from Redis")));
        }
        out
    }

    /// Every log line of every worker process this fleet started, killed ones included.
    pub fn log_lines(&self) -> Vec<String> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(self.logs.path())
            .expect("log dir")
            .flatten()
            .map(|e| e.path())
            .collect();
        files.sort();
        files
            .iter()
            .flat_map(|f| {
                std::fs::read_to_string(f)
                    .unwrap_or_default()
                    .lines()
                    .map(str::to_string)
                    .collect::<Vec<_>>()
            })
            .collect()
    }

    /// Waits until every job of `ids` reached a final state; returns them.
    pub async fn wait_final(&self, queue: &str, ids: &[String]) -> Vec<JobInfo> {
        loop {
            // Cheap look first (counters), then the jobs themselves.
            let c = self.engine.counts(queue).await.expect("counts");
            if (c.succeeded + c.dead + c.cancelled) as usize >= ids.len() {
                let all = self.jobs(queue, ids).await;
                if all.iter().all(|j| j.status.is_final()) {
                    return all;
                }
            }
            tokio::time::sleep(POLL).await;
        }
    }
}

impl Drop for Fleet {
    fn drop(&mut self) {
        if std::thread::panicking() {
            print_logs(self.logs.path());
        }
        // The keys go with `_keys` (synchronously, even after a panic).
    }
}

/// Prints the tail of every worker log, to explain a failed test.
fn print_logs(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut files: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
    files.sort();
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        let tail = &lines[lines.len().saturating_sub(40)..];
        eprintln!("---- {} (last {} lines)", f.display(), tail.len());
        for l in tail {
            eprintln!("{l}");
        }
    }
}

/// Everything needed to start one more identical worker process.
#[derive(Clone)]
pub struct WorkerSpec {
    queues: String,
    env: Vec<(String, String)>,
    logs: PathBuf,
    spawned: Arc<AtomicUsize>,
}

impl WorkerSpec {
    /// One more environment variable for every process of this spec.
    pub fn env(mut self, key: &str, value: impl Into<String>) -> WorkerSpec {
        self.env.push((key.to_string(), value.into()));
        self
    }

    /// The `worker` command, configured; its output is left to the caller.
    pub fn command(&self) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_worker"));
        cmd.arg("--queues")
            .arg(&self.queues)
            .env_remove("TAREFA_ENV")
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .kill_on_drop(true);
        die_with_parent(&mut cmd);
        cmd
    }

    /// Starts the process, its stdout and stderr going to a log file.
    pub fn spawn(&self) -> WorkerProc {
        let n = self.spawned.fetch_add(1, Ordering::SeqCst);
        let log = self.logs.join(format!("worker-{n:02}.log"));
        let file = std::fs::File::create(&log).expect("log file");
        let child = self
            .command()
            .stdout(file.try_clone().expect("log file"))
            .stderr(file)
            .spawn()
            .expect("spawn worker");
        let pid = child.id().expect("pid");
        WorkerProc { child, pid, log }
    }
}

/// A running `worker` process (SIGKILLed if dropped).
pub struct WorkerProc {
    pub child: Child,
    pub pid: u32,
    pub log: PathBuf,
}

impl WorkerProc {
    /// Worker ids are `<host>-<pid>-<queue>-<ulid>`.
    pub fn owns(&self, worker_id: &str, queue: &str) -> bool {
        worker_id.contains(&format!("-{}-{queue}-", self.pid))
    }

    pub fn sigterm(&self) {
        signal(self.pid, libc::SIGTERM);
    }

    /// SIGKILL, then reap.
    pub async fn kill(&mut self) -> ExitStatus {
        self.child.start_kill().expect("kill");
        self.child.wait().await.expect("wait")
    }

    pub async fn wait(&mut self) -> ExitStatus {
        self.child.wait().await.expect("wait")
    }

    /// Still alive (not exited)?
    pub fn alive(&mut self) -> bool {
        self.child.try_wait().expect("try_wait").is_none()
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

/// `kill_on_drop` needs a drop: if nextest's hang guard kills this test
/// process, its children must die with it instead of running on.
pub fn die_with_parent(cmd: &mut Command) {
    #[cfg(target_os = "linux")]
    // SAFETY: prctl is async-signal-safe, so it may run between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) == -1 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

pub fn signal(pid: u32, sig: libc::c_int) {
    // SAFETY: kill(2) has no memory-safety preconditions; the pid is our own child.
    let r = unsafe { libc::kill(pid as libc::pid_t, sig) };
    assert_eq!(r, 0, "kill({pid}, {sig}) failed");
}

/// Keeps `n` worker processes running, starting a new one whenever one exits
/// (as systemd's `Restart=always` would). `stop` returns how each exited.
pub struct Supervisor {
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<Vec<ExitStatus>>,
}

impl Supervisor {
    pub fn start(spec: WorkerSpec, n: usize) -> Supervisor {
        let (stop, mut stopped) = watch::channel(false);
        let task = tokio::spawn(async move {
            let mut procs: Vec<WorkerProc> = (0..n).map(|_| spec.spawn()).collect();
            let mut exits = Vec::new();
            loop {
                let exited = {
                    let any_exit = futures::future::select_all(
                        procs.iter_mut().map(|p| Box::pin(p.child.wait())),
                    );
                    tokio::select! {
                        _ = stopped.wait_for(|s| *s) => None,
                        (status, i, _) = any_exit => Some((status.expect("wait"), i)),
                    }
                };
                let Some((status, i)) = exited else { break };
                exits.push(status);
                procs[i] = spec.spawn();
            }
            for p in &mut procs {
                p.kill().await;
            }
            exits
        });
        Supervisor { stop, task }
    }

    /// Kills the current processes; returns the exits that happened on their own.
    pub async fn stop(self) -> Vec<ExitStatus> {
        let _ = self.stop.send(true);
        self.task.await.expect("supervisor")
    }
}

/// A private `redis-server` with AOF on, on a free port, its data in a temp dir.
pub struct OwnRedis {
    pub port: u16,
    dir: tempfile::TempDir,
    child: Option<Child>,
}

impl OwnRedis {
    pub async fn start() -> OwnRedis {
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
            l.local_addr().expect("addr").port()
        };
        let mut r = OwnRedis {
            port,
            dir: tempfile::tempdir().expect("temp dir"),
            child: None,
        };
        r.restart().await;
        r
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Starts the server (again) on the same port and directory; returns once it answers PING.
    pub async fn restart(&mut self) {
        assert!(self.child.is_none(), "already running");
        let log = std::fs::File::create(self.dir.path().join("redis.log")).expect("log");
        let mut cmd = Command::new("redis-server");
        cmd.args(["--port", &self.port.to_string()])
            .args(["--bind", "127.0.0.1"])
            .arg("--dir")
            .arg(self.dir.path())
            .args(["--appendonly", "yes", "--save", ""])
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .kill_on_drop(true);
        die_with_parent(&mut cmd);
        let child = cmd.spawn().expect("redis-server");
        self.child = Some(child);
        let client = redis::Client::open(self.url()).expect("url");
        wait_until!(client
            .get_connection_with_timeout(Duration::from_millis(200))
            .and_then(|mut c| redis::cmd("PING").query::<String>(&mut c))
            .is_ok());
    }

    /// SIGTERM (Redis flushes and fsyncs the AOF), then reap; asserts a clean exit.
    pub async fn stop(&mut self) {
        let mut child = self.child.take().expect("running");
        signal(child.id().expect("pid"), libc::SIGTERM);
        let status = child.wait().await.expect("wait");
        assert!(status.success(), "redis-server exited with {status}");
    }
}

/// The URL of a `#[sqlx::test]` database (made from `DATABASE_URL`), for worker processes.
pub fn db_url(pool: &sqlx::PgPool) -> String {
    let base = std::env::var("DATABASE_URL").expect("DATABASE_URL");
    let db = pool
        .connect_options()
        .get_database()
        .expect("database name")
        .to_string();
    format!("{}/{db}", base.rsplit_once('/').expect("url with a path").0)
}
