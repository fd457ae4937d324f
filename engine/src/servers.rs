//! Test support (feature `testing`): Redis topologies a test starts itself on
//! loopback ports, killed and removed when dropped.
//!
//! - [`OwnCluster`]: a Redis Cluster (`redis-server --cluster-enabled yes` per
//!   node, `redis-cli --cluster create … --cluster-replicas 1`), with a short
//!   node timeout so a SIGKILLed master's replica takes over in seconds.
//! - [`OwnSentinels`]: a master, a replica and three Sentinels watching them.
//!
//! Both offer `kill_master…` (SIGKILL) and waits for the replica's promotion.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// One `redis-server` process of a test topology.
pub struct Node {
    pub port: u16,
    dir: PathBuf,
    args: Vec<String>,
    child: Option<Child>,
}

impl Node {
    fn spawn(port: u16, dir: &Path, args: Vec<String>) -> Node {
        std::fs::create_dir_all(dir).expect("node dir");
        let mut n = Node {
            port,
            dir: dir.to_path_buf(),
            args,
            child: None,
        };
        n.start();
        n
    }

    /// Starts (again) on the same port and directory; returns once it answers PING.
    pub fn start(&mut self) {
        assert!(self.child.is_none(), "already running");
        let log = std::fs::File::create(self.dir.join("redis.log")).expect("log");
        let child = Command::new("redis-server")
            .args(&self.args)
            .current_dir(&self.dir)
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .stdin(Stdio::null())
            .spawn()
            .expect("redis-server on PATH");
        self.child = Some(child);
        let port = self.port;
        let log = self.dir.join("redis.log");
        let t = Instant::now();
        loop {
            if redis_cmd(port, &["PING"]).is_some_and(|r| r.contains("PONG")) {
                return;
            }
            let exited = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten());
            if exited.is_some() || t.elapsed() > Duration::from_secs(60) {
                panic!(
                    "redis-server on port {port} did not come up ({exited:?}): {}",
                    std::fs::read_to_string(&log).unwrap_or_default()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// SIGKILL, then reap.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    pub fn is_running(&self) -> bool {
        self.child.is_some()
    }

    /// The process id while running.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// `INFO replication` as fields.
    pub fn replication(&self) -> HashMap<String, String> {
        info(self.port, "replication")
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Runs one redis-cli command against a loopback port (None when it fails).
pub fn redis_cmd(port: u16, args: &[&str]) -> Option<String> {
    let out = Command::new("redis-cli")
        .args(["-h", "127.0.0.1", "-p", &port.to_string()])
        .args(args)
        .stdin(Stdio::null())
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    (out.status.success() && !text.starts_with("Could not connect")).then_some(text)
}

fn info(port: u16, section: &str) -> HashMap<String, String> {
    redis_cmd(port, &["INFO", section])
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.trim().split_once(':'))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Polls `f` every 50 ms; panics after `limit` (a broken topology, not a slow test).
#[track_caller]
pub fn wait_until(limit: Duration, mut f: impl FnMut() -> bool) {
    let t = Instant::now();
    while !f() {
        assert!(
            t.elapsed() < limit,
            "redis topology not ready after {limit:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `n` free loopback ports in 15000..22000 whose cluster bus port (+10000)
/// is free too: both below the kernel's ephemeral range (32768+), so an
/// outgoing connection never takes one between this check and the bind.
pub fn free_ports(n: usize) -> Vec<u16> {
    use rand::Rng;
    let mut out = Vec::new();
    let mut rng = rand::rng();
    while out.len() < n {
        let p: u16 = rng.random_range(15_000..22_000);
        if !out.contains(&p)
            && std::net::TcpListener::bind(("127.0.0.1", p)).is_ok()
            && std::net::TcpListener::bind(("127.0.0.1", p + 10_000)).is_ok()
        {
            out.push(p);
        }
    }
    out
}

fn temp_dir(kind: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "tarefa-{kind}-{}",
        ulid::Ulid::new().to_string().to_lowercase()
    ));
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}

fn common_args(port: u16) -> Vec<String> {
    [
        "--port",
        &port.to_string(),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--repl-diskless-sync",
        "yes",
        "--repl-diskless-sync-delay",
        "0",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

/// One standalone `redis-server` on a free loopback port (no replica).
pub fn own_server() -> (Node, PathBuf) {
    let dir = temp_dir("server");
    let port = free_ports(1)[0];
    (Node::spawn(port, &dir, common_args(port)), dir)
}

/// A Redis Cluster of `masters` masters with one replica each.
pub struct OwnCluster {
    pub nodes: Vec<Node>,
    dir: PathBuf,
}

impl OwnCluster {
    /// Starts 2 × `masters` nodes and joins them (`--cluster-replicas 1`);
    /// returns once every slot is served and every replica is in sync.
    pub fn start(masters: usize) -> OwnCluster {
        let dir = temp_dir("cluster");
        let ports = free_ports(masters * 2);
        let nodes: Vec<Node> = ports
            .iter()
            .map(|&p| {
                let mut args = common_args(p);
                args.extend(
                    [
                        "--cluster-enabled",
                        "yes",
                        "--cluster-config-file",
                        "nodes.conf",
                        "--cluster-node-timeout",
                        "1000",
                        // A replica may always take over, however long its link was down.
                        "--cluster-replica-validity-factor",
                        "0",
                    ]
                    .iter()
                    .map(|s| s.to_string()),
                );
                Node::spawn(p, &dir.join(p.to_string()), args)
            })
            .collect();
        let mut create = Command::new("redis-cli");
        create.arg("--cluster").arg("create");
        for p in &ports {
            create.arg(format!("127.0.0.1:{p}"));
        }
        let out = create
            .args(["--cluster-replicas", "1", "--cluster-yes"])
            .stdin(Stdio::null())
            .output()
            .expect("redis-cli");
        assert!(
            out.status.success(),
            "cluster create: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        let c = OwnCluster { nodes, dir };
        c.wait_healthy();
        c
    }

    /// `redis+cluster://` with every node as a seed.
    pub fn url(&self) -> String {
        let hosts: Vec<String> = self
            .nodes
            .iter()
            .map(|n| format!("127.0.0.1:{}", n.port))
            .collect();
        format!("redis+cluster://{}", hosts.join(","))
    }

    fn live(&self) -> impl Iterator<Item = &Node> {
        self.nodes.iter().filter(|n| n.is_running())
    }

    /// Waits until every live node sees the cluster `ok` with every slot
    /// served, and every live replica's link to its master is up.
    pub fn wait_healthy(&self) {
        wait_until(Duration::from_secs(60), || {
            self.live().all(|n| {
                let i = info_cluster(n.port);
                i.get("cluster_state").map(String::as_str) == Some("ok")
                    && i.get("cluster_slots_ok").map(String::as_str) == Some("16384")
                    && {
                        let r = n.replication();
                        r.get("role").map(String::as_str) == Some("master")
                            || r.get("master_link_status").map(String::as_str) == Some("up")
                    }
            })
        });
    }

    /// The port of the master serving `slot`, as a live node sees it.
    pub fn master_of_slot(&self, slot: u16) -> u16 {
        self.try_master_of_slot(slot)
            .unwrap_or_else(|| panic!("no master serves slot {slot}"))
    }

    /// The port of the master serving `slot`, if a live master does.
    pub fn try_master_of_slot(&self, slot: u16) -> Option<u16> {
        let n = self.live().next()?;
        let nodes = redis_cmd(n.port, &["CLUSTER", "NODES"]).unwrap_or_default();
        for line in nodes.lines() {
            let f: Vec<&str> = line.split(' ').collect();
            if f.len() < 9 || !f[2].contains("master") || f[2].contains("fail") {
                continue;
            }
            let port: u16 = f[1]
                .split(['@', ':'])
                .nth(1)
                .and_then(|p| p.parse().ok())
                .unwrap_or(0);
            for range in &f[8..] {
                if range.starts_with('[') {
                    continue;
                }
                let (a, b) = range.split_once('-').unwrap_or((range, range));
                let (a, b): (u16, u16) = (a.parse().unwrap_or(1), b.parse().unwrap_or(0));
                if (a..=b).contains(&slot) {
                    return Some(port);
                }
            }
        }
        None
    }

    /// The port of the master serving `key` (`{tag}` honoured).
    pub fn master_of(&self, key: &str) -> u16 {
        self.master_of_slot(crate::conn::slot(key))
    }

    /// Distinct master ports.
    pub fn masters(&self) -> Vec<u16> {
        let mut m: Vec<u16> = self
            .live()
            .filter(|n| n.replication().get("role").map(String::as_str) == Some("master"))
            .map(|n| n.port)
            .collect();
        m.sort_unstable();
        m
    }

    pub fn node(&mut self, port: u16) -> &mut Node {
        self.nodes
            .iter_mut()
            .find(|n| n.port == port)
            .expect("a node on that port")
    }

    /// SIGKILLs the master serving `key`; returns its port. Use
    /// [`wait_promoted`](Self::wait_promoted) to wait for its replica.
    pub fn kill_master_of(&mut self, key: &str) -> u16 {
        let port = self.master_of(key);
        self.node(port).kill();
        port
    }

    /// Waits until a live master serves `key`'s slot again (the replica took over).
    pub fn wait_promoted(&self, key: &str, old: u16) {
        let slot = crate::conn::slot(key);
        wait_until(Duration::from_secs(60), || {
            let i = self
                .live()
                .next()
                .map(|n| info_cluster(n.port))
                .unwrap_or_default();
            i.get("cluster_state").map(String::as_str) == Some("ok")
                && self.try_master_of_slot(slot).is_some_and(|p| {
                    p != old && self.nodes.iter().any(|n| n.port == p && n.is_running())
                })
        });
    }

    /// Moves `slot` from master `from` to master `to` while clients keep
    /// using it, the way `redis-cli --cluster reshard` does: IMPORTING /
    /// MIGRATING, MIGRATE in batches of 10 keys, then SETSLOT NODE on every
    /// master. Returns the keys moved.
    pub fn migrate_slot(&self, slot: u16, from: u16, to: u16) -> usize {
        let id = |p: u16| {
            redis_cmd(p, &["CLUSTER", "MYID"])
                .expect("node id")
                .trim()
                .to_string()
        };
        let (from_id, to_id) = (id(from), id(to));
        let slot_s = slot.to_string();
        let ok = |r: Option<String>| assert!(r.is_some_and(|r| r.contains("OK")), "setslot");
        ok(redis_cmd(
            to,
            &["CLUSTER", "SETSLOT", &slot_s, "IMPORTING", &from_id],
        ));
        ok(redis_cmd(
            from,
            &["CLUSTER", "SETSLOT", &slot_s, "MIGRATING", &to_id],
        ));
        let mut moved = 0;
        loop {
            let keys =
                redis_cmd(from, &["CLUSTER", "GETKEYSINSLOT", &slot_s, "10"]).unwrap_or_default();
            let keys: Vec<&str> = keys.lines().filter(|l| !l.is_empty()).collect();
            if keys.is_empty() {
                break;
            }
            let to_s = to.to_string();
            let mut args = vec!["MIGRATE", "127.0.0.1", &to_s, "", "0", "5000", "KEYS"];
            args.extend(keys.iter().copied());
            let r = redis_cmd(from, &args).unwrap_or_default();
            assert!(r.contains("OK") || r.contains("NOKEY"), "MIGRATE: {r}");
            moved += keys.len();
        }
        for m in self.masters() {
            redis_cmd(m, &["CLUSTER", "SETSLOT", &slot_s, "NODE", &to_id]);
        }
        wait_until(Duration::from_secs(60), || {
            self.try_master_of_slot(slot) == Some(to)
        });
        moved
    }

    /// Keys in every master whose name contains `pattern`.
    pub fn count_keys(&self, pattern: &str) -> usize {
        self.masters()
            .iter()
            .map(|p| {
                redis_cmd(*p, &["--scan", "--pattern", pattern])
                    .unwrap_or_default()
                    .lines()
                    .filter(|l| !l.is_empty())
                    .count()
            })
            .sum()
    }
}

fn info_cluster(port: u16) -> HashMap<String, String> {
    redis_cmd(port, &["CLUSTER", "INFO"])
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.trim().split_once(':'))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

impl Drop for OwnCluster {
    fn drop(&mut self) {
        for n in &mut self.nodes {
            n.kill();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A master, one replica, and three Sentinels (quorum 2) watching master `name`.
pub struct OwnSentinels {
    pub master: Node,
    pub replica: Node,
    pub sentinels: Vec<Node>,
    pub name: String,
    dir: PathBuf,
}

impl OwnSentinels {
    pub fn start() -> OwnSentinels {
        let dir = temp_dir("sentinel");
        let ports = free_ports(5);
        let name = "tarefa-master".to_string();
        let master = Node::spawn(ports[0], &dir.join("master"), common_args(ports[0]));
        let mut rargs = common_args(ports[1]);
        rargs.extend([
            "--replicaof".into(),
            "127.0.0.1".into(),
            ports[0].to_string(),
        ]);
        let replica = Node::spawn(ports[1], &dir.join("replica"), rargs);
        let sentinels = ports[2..]
            .iter()
            .map(|&p| {
                let d = dir.join(format!("sentinel-{p}"));
                std::fs::create_dir_all(&d).expect("dir");
                let conf = d.join("sentinel.conf");
                std::fs::write(
                    &conf,
                    format!(
                        "port {p}\nbind 127.0.0.1\ndir {}\n\
                         sentinel monitor {name} 127.0.0.1 {} 2\n\
                         sentinel down-after-milliseconds {name} 1000\n\
                         sentinel failover-timeout {name} 3000\n\
                         sentinel parallel-syncs {name} 1\n",
                        d.display(),
                        ports[0]
                    ),
                )
                .expect("sentinel.conf");
                Node::spawn(p, &d, vec![conf.display().to_string(), "--sentinel".into()])
            })
            .collect();
        let s = OwnSentinels {
            master,
            replica,
            sentinels,
            name,
            dir,
        };
        wait_until(Duration::from_secs(60), || {
            s.replica
                .replication()
                .get("master_link_status")
                .map(String::as_str)
                == Some("up")
                && s.sentinels.iter().all(|n| {
                    info(n.port, "sentinel").get("master0").is_some_and(|m| {
                        m.contains("status=ok")
                            && m.contains("slaves=1")
                            && m.contains("sentinels=3")
                    })
                })
        });
        s
    }

    /// `redis+sentinel://s1,s2,s3/<name>`.
    pub fn url(&self) -> String {
        let hosts: Vec<String> = self
            .sentinels
            .iter()
            .map(|n| format!("127.0.0.1:{}", n.port))
            .collect();
        format!("redis+sentinel://{}/{}", hosts.join(","), self.name)
    }

    /// The master's port as the Sentinels name it.
    pub fn named_master(&self) -> Option<u16> {
        let s = self.sentinels.iter().find(|n| n.is_running())?;
        let out = redis_cmd(s.port, &["SENTINEL", "get-master-addr-by-name", &self.name])?;
        out.lines().nth(1)?.trim().parse().ok()
    }

    /// SIGKILLs the master and waits until the Sentinels promoted the replica.
    pub fn kill_master_and_wait_failover(&mut self) {
        let old = self.master.port;
        self.master.kill();
        wait_until(Duration::from_secs(60), || {
            self.named_master() == Some(self.replica.port)
                && self.replica.replication().get("role").map(String::as_str) == Some("master")
        });
        assert_ne!(old, self.replica.port);
    }
}

impl Drop for OwnSentinels {
    fn drop(&mut self) {
        for n in &mut self.sentinels {
            n.kill();
        }
        self.master.kill();
        self.replica.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
