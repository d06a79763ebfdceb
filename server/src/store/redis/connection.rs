//! The connections the store opens: the command connection, one Redis or a Redis Cluster
//! behind one type ([`Conn`]), and the clients the pub/sub link may subscribe through.
//!
//! A Redis Cluster is named by one or more of its nodes (`store.redis_url`, comma-separated,
//! with `store.redis_cluster = true`); the cluster client finds the rest, follows slot moves
//! and failovers, and reconnects by itself. Every Baton key then carries the namespace as its
//! hash tag (`{baton}:…`, see [`super::keys`]), so all of them live in one slot: the scripts
//! that make a handoff atomic (`transition.lua` spans the conversation, the queue, the
//! assignments and the agents' chat sets) run unchanged, and the cluster gives failover, not
//! spread. Pub/sub uses plain `PUBLISH`/`SUBSCRIBE`, which a cluster carries to every node, so
//! the link subscribes on any one node and moves to the next when that one is lost.

use std::path::Path;
use std::time::Duration;

use ::redis::aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig};
use ::redis::cluster::{ClusterClient, ClusterConfig};
use ::redis::cluster_async::ClusterConnection;
use ::redis::cluster_routing::{Route, RoutingInfo, SingleNodeRoutingInfo, SlotAddr};
use ::redis::{Client, Cmd, Pipeline, RedisFuture, TlsCertificates, Value};
use anyhow::Context;

use crate::config::StoreSettings;

/// Each attempt to open a connection may take this long.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
/// A command that gets no reply within this fails (`unavailable`).
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(2);
/// Reconnect attempts per failed command, starting this far apart: a command fails fast
/// while Redis is down instead of holding a socket's frame.
const RECONNECT_RETRIES: usize = 2;
const RECONNECT_DELAY: Duration = Duration::from_millis(50);
const RECONNECT_DELAY_MAX: Duration = Duration::from_secs(1);

/// The command connection: multiplexed and cloneable, so commands from every task share it.
#[derive(Clone)]
pub enum Conn {
    Single(ConnectionManager),
    /// With the route to the master of the slot every Baton key is in.
    Cluster(ClusterConnection, Route),
}

impl ConnectionLike for Conn {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            Conn::Single(conn) => conn.req_packed_command(cmd),
            Conn::Cluster(conn, _) => conn.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            Conn::Single(conn) => conn.req_packed_commands(pipeline, offset, count),
            Conn::Cluster(conn, _) => conn.req_packed_commands(pipeline, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Conn::Single(conn) => conn.get_db(),
            Conn::Cluster(conn, _) => conn.get_db(),
        }
    }
}

impl Conn {
    /// PING the Redis that holds Baton's keys: in a cluster, the master of their slot (a
    /// plain PING would ask every master, and one that holds no Baton key being down is no
    /// reason to refuse service).
    pub async fn ping(&mut self) -> ::redis::RedisResult<()> {
        let ping = ::redis::cmd("PING");
        match self {
            Conn::Single(conn) => ping.query_async::<()>(conn).await,
            Conn::Cluster(conn, home) => {
                let routing = RoutingInfo::SingleNode(SingleNodeRoutingInfo::SpecificNode(*home));
                conn.route_command(ping, routing).await.map(drop)
            }
        }
    }
}

/// What [`open`] sets up; nothing is connected yet (an unreachable Redis is not an error).
pub struct Opened {
    pub conn: Conn,
    /// The pub/sub link tries these in turn: the one Redis, or each cluster node named.
    pub pubsub: Vec<Client>,
}

/// Parses `url` (one URL, or a cluster's nodes) and sets up the connections lazily; in a
/// cluster, `home_key` is any key of the deployment (they all share its slot). A bad URL,
/// a CA file without TLS or an unreadable one is an error that names the setting, never the
/// URL (it may hold a password).
pub fn open(settings: &StoreSettings, url: &str, home_key: &str) -> anyhow::Result<Opened> {
    let urls: Vec<&str> = url.split(',').map(str::trim).filter(|u| !u.is_empty()).collect();
    anyhow::ensure!(!urls.is_empty(), "store.redis_url is empty");
    let certificates = certificates(settings.redis_ca_file.as_deref(), &urls)?;
    if !settings.redis_cluster {
        anyhow::ensure!(
            urls.len() == 1,
            "store.redis_url lists several servers; set store.redis_cluster = true if they are one Redis Cluster"
        );
        let client = client(urls[0], certificates.as_ref())?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(CONNECT_TIMEOUT))
            .set_response_timeout(Some(RESPONSE_TIMEOUT))
            .set_number_of_retries(RECONNECT_RETRIES)
            .set_min_delay(RECONNECT_DELAY)
            .set_max_delay(RECONNECT_DELAY_MAX);
        let conn = ConnectionManager::new_lazy_with_config(client.clone(), config)
            .context("Failed to set up the Redis connection")?;
        return Ok(Opened { conn: Conn::Single(conn), pubsub: vec![client] });
    }
    anyhow::ensure!(
        !settings.namespace.contains(['{', '}']),
        "store.namespace may not hold braces with store.redis_cluster: it becomes the hash tag of every key"
    );
    let pubsub = urls.iter().map(|url| client(url, certificates.as_ref())).collect::<anyhow::Result<Vec<_>>>()?;
    let mut builder = ClusterClient::builder(urls.iter().copied())
        .retries(u32::try_from(RECONNECT_RETRIES).unwrap_or(u32::MAX))
        .min_retry_wait(millis(RECONNECT_DELAY))
        .max_retry_wait(millis(RECONNECT_DELAY_MAX));
    if let Some(certificates) = certificates {
        builder = builder.certs(certificates);
    }
    let cluster = builder.build().context("store.redis_url is not a list of valid Redis Cluster node URLs")?;
    let config = ClusterConfig::new().set_connection_timeout(CONNECT_TIMEOUT).set_response_timeout(RESPONSE_TIMEOUT);
    let conn = cluster.get_pending_async_connection_with_config(config);
    Ok(Opened { conn: Conn::Cluster(conn, Route::with_key(home_key, SlotAddr::Master)), pubsub })
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// The CA certificates of `ca_file`, when set: every URL must then be `rediss://`.
fn certificates(ca_file: Option<&Path>, urls: &[&str]) -> anyhow::Result<Option<TlsCertificates>> {
    let Some(ca_file) = ca_file else { return Ok(None) };
    anyhow::ensure!(
        urls.iter().all(|url| url.starts_with("rediss://")),
        "store.redis_ca_file is set but store.redis_url is not rediss://"
    );
    let pem =
        std::fs::read(ca_file).with_context(|| format!("store.redis_ca_file: cannot read {}", ca_file.display()))?;
    Ok(Some(TlsCertificates { client_tls: None, root_cert: Some(pem) }))
}

/// The client for one `url`; a `rediss://` one checks the server's certificate against
/// `certificates` when given (else the system's roots).
fn client(url: &str, certificates: Option<&TlsCertificates>) -> anyhow::Result<Client> {
    let Some(certificates) = certificates else {
        return Client::open(url).context("store.redis_url is not a valid Redis URL");
    };
    Client::build_with_tls(url, certificates.clone())
        .context("store.redis_url is not a valid Redis URL, or store.redis_ca_file holds no usable PEM certificate")
}
