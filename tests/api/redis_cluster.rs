//! A real three-master Redis Cluster per test, from Debian's `redis-server` and
//! `redis-cli --cluster create`, on free ports, killed when dropped. No replicas, and
//! `cluster-require-full-coverage no`: with a master killed, the slots of the others go on
//! serving, so a test can take away the nodes that do not hold Baton's slot.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use baton::protocol::ConversationId;

use crate::redis_server::{SharedRedis, free_port};

/// How long the cluster may take to be formed and agree on its slots, per attempt.
const FORM_WAIT: Duration = Duration::from_secs(20);
const START_ATTEMPTS: usize = 3;

pub struct RedisCluster {
    /// The masters' client ports, with their process while running.
    nodes: Vec<(u16, Option<Child>)>,
    dir: PathBuf,
}

impl RedisCluster {
    /// Formed and agreed on its slots. A port picked free may be taken by another test
    /// before its server binds it (six per cluster, many tests at once): then the cluster is
    /// started again on other ports, a few times.
    pub fn start() -> RedisCluster {
        let mut failures = Vec::new();
        for _ in 0..START_ATTEMPTS {
            match RedisCluster::try_start() {
                Ok(cluster) => return cluster,
                Err(why) => failures.push(why),
            }
        }
        panic!("the Redis Cluster did not form: {failures:?}");
    }

    fn try_start() -> Result<RedisCluster, String> {
        let dir = std::env::temp_dir().join(format!("baton-redis-cluster-{}", ConversationId::new()));
        std::fs::create_dir_all(&dir).expect("create the cluster's folder");
        let nodes = (0..3)
            .map(|_| {
                let port = free_port();
                (port, Some(start_node(port, &dir)))
            })
            .collect::<Vec<_>>();
        // Dropped on an early return: the servers are killed and the folder removed.
        let cluster = RedisCluster { nodes, dir };
        for (port, _) in &cluster.nodes {
            wait_for(*port, "PING", |reply| reply == "PONG")?;
        }
        let addresses: Vec<String> = cluster.nodes.iter().map(|(port, _)| format!("127.0.0.1:{port}")).collect();
        let output = Command::new("redis-cli")
            .arg("--cluster")
            .arg("create")
            .args(&addresses)
            .args(["--cluster-replicas", "0", "--cluster-yes"])
            .output()
            .expect("redis-cli runs (scripts/test installs it with redis-server)");
        if !output.status.success() {
            return Err(format!("cluster create: {}", String::from_utf8_lossy(&output.stdout)));
        }
        for (port, _) in &cluster.nodes {
            wait_for(*port, "CLUSTER INFO", |reply| reply.contains("cluster_state:ok"))?;
        }
        Ok(cluster)
    }

    /// Every master's client port.
    pub fn ports(&self) -> Vec<u16> {
        self.nodes.iter().map(|(port, _)| *port).collect()
    }

    /// The port of the master that holds `key`'s slot (the others answer it `MOVED`).
    pub fn owner_of(&self, key: &str) -> u16 {
        let owners: Vec<u16> =
            self.ports().into_iter().filter(|port| !cli(*port, &["GET", key]).contains("MOVED")).collect();
        assert_eq!(owners.len(), 1, "one master holds {key}");
        owners[0]
    }

    /// Kills one master (SIGKILL) and waits for it to be gone.
    pub fn kill(&mut self, port: u16) {
        let node = self.nodes.iter_mut().find(|(p, _)| *p == port).expect("a node of this cluster");
        if let Some(mut child) = node.1.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// `INFO <section>` of one master.
    pub fn info(&self, port: u16, section: &str) -> String {
        cli(port, &["INFO", section])
    }

    /// One command on one master, its reply as `redis-cli` prints it.
    pub fn command(&self, port: u16, args: &[&str]) -> String {
        cli(port, args)
    }
}

impl SharedRedis for RedisCluster {
    /// Every master, comma-separated, as `store.redis_url` names a cluster.
    fn url(&self) -> String {
        self.ports().iter().map(|port| format!("redis://127.0.0.1:{port}")).collect::<Vec<_>>().join(",")
    }

    fn cluster(&self) -> bool {
        true
    }
}

impl Drop for RedisCluster {
    fn drop(&mut self) {
        for port in self.ports() {
            self.kill(port);
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// One cluster-enabled master, its cluster bus on a port of its own (the default, port +
/// 10000, may be taken or out of range).
fn start_node(port: u16, dir: &std::path::Path) -> Child {
    let quiet = std::env::var("TEST_LOG").is_err();
    let bus = free_port();
    Command::new(std::env::var("REDIS_SERVER").unwrap_or_else(|_| "redis-server".into()))
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
        .args(["--cluster-enabled", "yes", "--cluster-port", &bus.to_string()])
        .args(["--cluster-node-timeout", "2000", "--cluster-require-full-coverage", "no"])
        .arg("--cluster-config-file")
        .arg(dir.join(format!("nodes-{port}.conf")))
        .arg("--dir")
        .arg(dir)
        .stdout(if quiet { Stdio::null() } else { Stdio::inherit() })
        .stderr(Stdio::inherit())
        .spawn()
        .expect("redis-server starts (scripts/test installs it)")
}

/// `redis-cli -p port args…` (no `-c`: a `MOVED` reply is printed, not followed).
fn cli(port: u16, args: &[&str]) -> String {
    let output = Command::new("redis-cli")
        .args(["-p", &port.to_string()])
        .args(args)
        .output()
        .expect("redis-cli runs (scripts/test installs it with redis-server)");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn wait_for(port: u16, command: &str, done: impl Fn(&str) -> bool) -> Result<(), String> {
    let deadline = Instant::now() + FORM_WAIT;
    let args: Vec<&str> = command.split(' ').collect();
    loop {
        let reply = cli(port, &args).trim().to_owned();
        if done(&reply) {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(format!("port {port} never answered {command} as expected (last: {reply})"));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}
