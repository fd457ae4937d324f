//! The engine's Redis connection: one server, a Redis Cluster, or the master
//! a set of Sentinels names, behind one clonable [`RedisConn`].
//!
//! `redis.url` picks the topology ([`Topology::parse`]):
//! - `redis://h:p` (or `rediss://`): one server, a reconnecting connection manager;
//! - `redis+cluster://[user:pass@]h:p,h:p,…`: a cluster by its seed nodes (the
//!   redis crate's async cluster client follows MOVED/ASK, retries TRYAGAIN and
//!   CLUSTERDOWN, and refreshes its slot map after a failover);
//! - `redis+sentinel://[user:pass@]h:p,h:p,…/<master name>`: the master the
//!   Sentinels name; after a connection error, READONLY or MASTERDOWN it asks the
//!   Sentinels again and reconnects to whichever master they name now.
//!
//! A pipeline whose commands span slots (a lookup across queues) is sent
//! command by command on a cluster. [`RedisConn::wait_replicas`] is the
//! `replicated` durability: `WAIT` on the master that holds a key's slot.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use futures::future::{BoxFuture, FutureExt};
use redis::aio::{
    ConnectionLike, ConnectionManager, ConnectionManagerConfig, MultiplexedConnection,
};
use redis::cluster_async::ClusterConnection;
use redis::cluster_routing::{Route, RoutingInfo, SingleNodeRoutingInfo, SlotAddr};
use redis::{
    Cmd, ErrorKind, Pipeline, RedisError, RedisFuture, RedisResult, ServerErrorKind, Value,
};

use super::EngineError;

/// Where the engine's Redis is (parsed from `redis.url`).
#[derive(Clone, Debug, PartialEq)]
pub enum Topology {
    /// One server: the URL as given.
    Single(String),
    /// A cluster: one `redis://` URL per seed node.
    Cluster(Vec<String>),
    /// A Sentinel-managed master: one `redis://` URL per Sentinel, the master's
    /// name, and the master's credentials (`user:pass`, may be empty).
    Sentinel {
        sentinels: Vec<String>,
        master: String,
        userinfo: String,
    },
}

impl Topology {
    pub fn parse(url: &str) -> Result<Topology, EngineError> {
        let bad = |why: &str| EngineError::Invalid(format!("redis url: {why}"));
        let (scheme, rest) = url
            .split_once("://")
            .ok_or_else(|| bad("no scheme (redis://, redis+cluster://, redis+sentinel://)"))?;
        let (plain, kind) = match scheme {
            "redis" | "rediss" | "unix" | "redis+unix" => return Ok(Topology::Single(url.into())),
            "redis+cluster" => ("redis", "cluster"),
            "rediss+cluster" => ("rediss", "cluster"),
            "redis+sentinel" => ("redis", "sentinel"),
            "rediss+sentinel" => ("rediss", "sentinel"),
            other => return Err(bad(&format!("unknown scheme {other}"))),
        };
        let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
        let (userinfo, hosts) = authority.rsplit_once('@').unwrap_or(("", authority));
        let at = if userinfo.is_empty() {
            String::new()
        } else {
            format!("{userinfo}@")
        };
        let nodes: Vec<String> = hosts
            .split(',')
            .map(str::trim)
            .filter(|h| !h.is_empty())
            .map(|h| format!("{plain}://{at}{h}"))
            .collect();
        if nodes.is_empty() {
            return Err(bad("no host"));
        }
        if kind == "cluster" {
            return Ok(Topology::Cluster(nodes));
        }
        let master = path.split('/').next().unwrap_or("").to_string();
        if master.is_empty() {
            return Err(bad("redis+sentinel:// needs the master name as its path"));
        }
        // Sentinels are reached without the master's credentials.
        let sentinels = hosts
            .split(',')
            .map(str::trim)
            .filter(|h| !h.is_empty())
            .map(|h| format!("{plain}://{h}"))
            .collect();
        Ok(Topology::Sentinel {
            sentinels,
            master,
            userinfo: userinfo.to_string(),
        })
    }

    /// A `redis+sentinel://` URL from `redis.sentinels` and the master's name.
    pub fn sentinel_url(sentinels: &[String], master: &str) -> String {
        let hosts: Vec<&str> = sentinels
            .iter()
            .map(|s| s.trim_start_matches("redis://").trim_end_matches('/'))
            .collect();
        format!("redis+sentinel://{}/{master}", hosts.join(","))
    }
}

/// Response timeout of ordinary commands (blocking ones use their own connections).
pub const RESPONSE_TIMEOUT: Duration = Duration::from_secs(5);
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// A clonable connection to the engine's Redis, whatever its topology.
#[derive(Clone)]
pub enum RedisConn {
    Single(ConnectionManager),
    /// One dedicated connection (a feeder's, for BLPOP).
    Plain(MultiplexedConnection),
    Cluster(ClusterConnection),
    Sentinel(SentinelConn),
}

/// How to open connections (kept by the engine for dedicated connections and pub/sub).
#[derive(Clone)]
pub(crate) enum Opener {
    Single(redis::Client),
    Cluster(Vec<String>),
    Sentinel(SentinelConn),
}

fn cluster_client(
    nodes: &[String],
    response: Duration,
) -> RedisResult<redis::cluster::ClusterClient> {
    redis::cluster::ClusterClientBuilder::new(nodes.to_vec())
        .connection_timeout(CONNECT_TIMEOUT)
        .response_timeout(response)
        .retries(10)
        .min_retry_wait(20)
        .max_retry_wait(800)
        .retry_wait_formula(20, 2)
        .build()
}

fn manager_config() -> ConnectionManagerConfig {
    ConnectionManagerConfig::new()
        .set_connection_timeout(Some(CONNECT_TIMEOUT))
        .set_response_timeout(Some(RESPONSE_TIMEOUT))
        .set_number_of_retries(2)
        .set_max_delay(Duration::from_secs(2))
}

impl Opener {
    /// The shared connection and the opener of further ones.
    pub(crate) async fn connect(url: &str) -> Result<(RedisConn, Opener), EngineError> {
        match Topology::parse(url)? {
            Topology::Single(url) => {
                let client = redis::Client::open(url.as_str())?;
                let conn =
                    ConnectionManager::new_with_config(client.clone(), manager_config()).await?;
                Ok((RedisConn::Single(conn), Opener::Single(client)))
            }
            Topology::Cluster(nodes) => {
                let client = cluster_client(&nodes, RESPONSE_TIMEOUT)?;
                let conn = client.get_async_connection().await?;
                Ok((RedisConn::Cluster(conn), Opener::Cluster(nodes)))
            }
            Topology::Sentinel {
                sentinels,
                master,
                userinfo,
            } => {
                let s = SentinelConn::connect(sentinels, master, userinfo).await?;
                Ok((RedisConn::Sentinel(s.clone()), Opener::Sentinel(s)))
            }
        }
    }

    /// A connection of its own, for blocking commands (`response`: their longest wait).
    pub(crate) async fn dedicated(&self, response: Duration) -> RedisResult<RedisConn> {
        let cfg = redis::AsyncConnectionConfig::new()
            .set_connection_timeout(Some(CONNECT_TIMEOUT))
            .set_response_timeout(Some(response));
        match self {
            Opener::Single(client) => Ok(RedisConn::Plain(
                client
                    .get_multiplexed_async_connection_with_config(&cfg)
                    .await?,
            )),
            Opener::Cluster(nodes) => Ok(RedisConn::Cluster(
                cluster_client(nodes, response)?
                    .get_async_connection()
                    .await?,
            )),
            Opener::Sentinel(s) => {
                let client = s.master_client().await?;
                Ok(RedisConn::Plain(
                    client
                        .get_multiplexed_async_connection_with_config(&cfg)
                        .await?,
                ))
            }
        }
    }

    /// A pub/sub connection. On a cluster, a PUBLISH reaches every node, so
    /// any node will do: the `attempt`-th seed (the caller counts its retries).
    pub(crate) async fn pubsub(&self, attempt: usize) -> RedisResult<redis::aio::PubSub> {
        match self {
            Opener::Single(client) => client.get_async_pubsub().await,
            Opener::Cluster(nodes) => {
                redis::Client::open(nodes[attempt % nodes.len()].as_str())?
                    .get_async_pubsub()
                    .await
            }
            Opener::Sentinel(s) => s.master_client().await?.get_async_pubsub().await,
        }
    }
}

/// A connection of its own to the Redis `url` names (any topology), for a
/// caller that blocks on it (XREADGROUP BLOCK): one server or a cluster with
/// `response` as its longest wait; behind Sentinel, a connection that follows
/// the master across failovers.
pub async fn dedicated(url: &str, response: Duration) -> Result<RedisConn, EngineError> {
    match Topology::parse(url)? {
        Topology::Single(url) => Ok(Opener::Single(redis::Client::open(url.as_str())?)
            .dedicated(response)
            .await?),
        Topology::Cluster(nodes) => Ok(Opener::Cluster(nodes).dedicated(response).await?),
        Topology::Sentinel {
            sentinels,
            master,
            userinfo,
        } => Ok(RedisConn::Sentinel(
            SentinelConn::connect(sentinels, master, userinfo).await?,
        )),
    }
}

/// The hash slot of a key (CRC16/XMODEM of its hash tag, mod 16384).
pub fn slot(key: &str) -> u16 {
    let b = key.as_bytes();
    let tagged = b.iter().position(|&c| c == b'{').and_then(|open| {
        let close = b[open + 1..].iter().position(|&c| c == b'}')?;
        (close > 0).then(|| &b[open + 1..open + 1 + close])
    });
    let mut crc: u16 = 0;
    for &byte in tagged.unwrap_or(b) {
        crc ^= (byte as u16) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x1021
            } else {
                crc << 1
            };
        }
    }
    crc % 16384
}

impl RedisConn {
    pub fn is_cluster(&self) -> bool {
        matches!(self, RedisConn::Cluster(_))
    }

    /// `WAIT replicas timeout` on the master that wrote `key`: how many
    /// replicas acknowledged every write made so far on that connection.
    pub async fn wait_replicas(
        &mut self,
        key: &str,
        replicas: u32,
        timeout: Duration,
    ) -> RedisResult<u32> {
        let mut cmd = redis::cmd("WAIT");
        cmd.arg(replicas).arg(timeout.as_millis() as u64);
        let v = match self {
            RedisConn::Cluster(c) => {
                let route = RoutingInfo::SingleNode(SingleNodeRoutingInfo::SpecificNode(
                    Route::new(slot(key), SlotAddr::Master),
                ));
                c.route_command(cmd, route).await?
            }
            other => cmd.query_async::<Value>(other).await?,
        };
        Ok(redis::from_redis_value(v)?)
    }
}

impl ConnectionLike for RedisConn {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            RedisConn::Single(c) => c.req_packed_command(cmd),
            RedisConn::Plain(c) => c.req_packed_command(cmd),
            RedisConn::Cluster(c) => c.req_packed_command(cmd),
            RedisConn::Sentinel(s) => s.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            RedisConn::Single(c) => c.req_packed_commands(pipeline, offset, count),
            RedisConn::Plain(c) => c.req_packed_commands(pipeline, offset, count),
            RedisConn::Sentinel(s) => s.req_packed_commands(pipeline, offset, count),
            RedisConn::Cluster(c) => async move {
                match c.req_packed_commands(pipeline, offset, count).await {
                    Err(e) if e.kind() == ErrorKind::Server(ServerErrorKind::CrossSlot) => {
                        // Keys of several queues: one command at a time, concurrently
                        // (the engine sends no MULTI across queues).
                        let calls = pipeline.cmd_iter().map(|cmd| {
                            let mut c = c.clone();
                            async move { c.req_packed_command(cmd).await }
                        });
                        let all = futures::future::join_all(calls).await;
                        all.into_iter().collect::<RedisResult<Vec<Value>>>()
                    }
                    other => other,
                }
            }
            .boxed(),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            RedisConn::Single(c) => c.get_db(),
            RedisConn::Plain(c) => c.get_db(),
            RedisConn::Cluster(c) => c.get_db(),
            RedisConn::Sentinel(_) => 0,
        }
    }
}

/// The master a set of Sentinels names, followed across failovers: a
/// connection error, READONLY (the old master came back as a replica) or
/// MASTERDOWN makes it ask the Sentinels again (at most every 200 ms) and
/// reconnect to the master they name. The failed command's error goes to
/// its caller, which retries as it does on any Redis error.
#[derive(Clone)]
pub struct SentinelConn {
    inner: Arc<SentinelInner>,
}

struct SentinelInner {
    sentinel: tokio::sync::Mutex<redis::sentinel::SentinelClient>,
    /// The current master's client and connection, and a generation counter.
    current: RwLock<(redis::Client, ConnectionManager, u64)>,
    last_refresh: std::sync::Mutex<Option<std::time::Instant>>,
}

fn master_changed(e: &RedisError) -> bool {
    e.is_io_error()
        || e.is_connection_dropped()
        || e.is_connection_refusal()
        || e.is_timeout()
        || matches!(
            e.kind(),
            ErrorKind::Server(ServerErrorKind::ReadOnly)
                | ErrorKind::Server(ServerErrorKind::MasterDown)
        )
}

impl SentinelConn {
    async fn connect(
        sentinels: Vec<String>,
        master: String,
        userinfo: String,
    ) -> RedisResult<SentinelConn> {
        let mut info = redis::sentinel::SentinelNodeConnectionInfo::default();
        if !userinfo.is_empty() {
            // The master's credentials, read the way a redis:// URL carries them.
            let ci = redis::IntoConnectionInfo::into_connection_info(format!(
                "redis://{userinfo}@127.0.0.1"
            ))?;
            info = info.set_redis_connection_info(ci.redis_settings().clone());
        }
        let mut sentinel = redis::sentinel::SentinelClient::build(
            sentinels,
            master,
            Some(info),
            redis::sentinel::SentinelServerType::Master,
        )?;
        let client = sentinel.async_get_client().await?;
        let conn = ConnectionManager::new_with_config(client.clone(), manager_config()).await?;
        Ok(SentinelConn {
            inner: Arc::new(SentinelInner {
                sentinel: tokio::sync::Mutex::new(sentinel),
                current: RwLock::new((client, conn, 0)),
                last_refresh: std::sync::Mutex::new(None),
            }),
        })
    }

    fn current(&self) -> (ConnectionManager, u64) {
        let c = self.inner.current.read().expect("sentinel lock");
        (c.1.clone(), c.2)
    }

    /// The client of the master the Sentinels name now.
    async fn master_client(&self) -> RedisResult<redis::Client> {
        let mut s = self.inner.sentinel.lock().await;
        s.async_get_client().await
    }

    /// Asks the Sentinels for the master and reconnects if it moved (once per
    /// failing generation, at most every 200 ms).
    async fn refresh(&self, failed_gen: u64) {
        {
            let mut last = self.inner.last_refresh.lock().expect("refresh lock");
            if last.is_some_and(|t| t.elapsed() < Duration::from_millis(200)) {
                return;
            }
            *last = Some(std::time::Instant::now());
        }
        if self.current().1 != failed_gen {
            return;
        }
        let Ok(client) = self.master_client().await else {
            return;
        };
        let same = {
            let cur = self.inner.current.read().expect("sentinel lock");
            cur.0.get_connection_info().addr() == client.get_connection_info().addr()
        };
        if same {
            return;
        }
        match ConnectionManager::new_with_config(client.clone(), manager_config()).await {
            Ok(conn) => {
                let mut cur = self.inner.current.write().expect("sentinel lock");
                tracing::warn!(master = %client.get_connection_info().addr(), "sentinel: following the new master");
                let next = cur.2 + 1;
                *cur = (client, conn, next);
            }
            Err(e) => tracing::warn!(error = %e, "sentinel: new master not reachable yet"),
        }
    }

    fn run<'a, T: Send + 'a>(
        &'a self,
        call: impl FnOnce(ConnectionManager) -> BoxFuture<'a, RedisResult<T>> + Send + 'a,
    ) -> RedisFuture<'a, T> {
        async move {
            let (conn, generation) = self.current();
            let r = call(conn).await;
            if let Err(e) = &r {
                if master_changed(e) {
                    self.refresh(generation).await;
                }
            }
            r
        }
        .boxed()
    }

    fn req_packed_command<'a>(&'a self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        self.run(move |mut c| async move { c.req_packed_command(cmd).await }.boxed())
    }

    fn req_packed_commands<'a>(
        &'a self,
        p: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        self.run(move |mut c| async move { c.req_packed_commands(p, offset, count).await }.boxed())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_name_the_topology() {
        assert_eq!(
            Topology::parse("redis://127.0.0.1:6379/2").unwrap(),
            Topology::Single("redis://127.0.0.1:6379/2".into())
        );
        assert_eq!(
            Topology::parse("redis+cluster://:pw@h1:7000,h2:7001").unwrap(),
            Topology::Cluster(vec![
                "redis://:pw@h1:7000".into(),
                "redis://:pw@h2:7001".into()
            ])
        );
        assert_eq!(
            Topology::parse("redis+sentinel://s1:26379,s2:26379/mymaster").unwrap(),
            Topology::Sentinel {
                sentinels: vec!["redis://s1:26379".into(), "redis://s2:26379".into()],
                master: "mymaster".into(),
                userinfo: String::new(),
            }
        );
        assert!(Topology::parse("redis+sentinel://s1:26379").is_err());
        assert!(Topology::parse("redis+cluster://").is_err());
        assert!(Topology::parse("http://x").is_err());
        assert_eq!(
            Topology::sentinel_url(&["redis://a:1".into(), "b:2".into()], "m"),
            "redis+sentinel://a:1,b:2/m"
        );
    }

    #[test]
    fn slots_follow_hash_tags() {
        // Values from CLUSTER KEYSLOT.
        assert_eq!(slot("foo"), 12182);
        assert_eq!(slot("{user1000}.following"), slot("{user1000}.followers"));
        assert_eq!(slot("{tarefa:emails}:j:1"), slot("tarefa:emails"));
        assert_eq!(slot("foo{}{bar}"), slot("foo{}{bar}"));
    }
}
