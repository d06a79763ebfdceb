//! A real `redis-server` per test, on a free port, killed when dropped. It can be stopped and
//! started again on the same port (the nodes keep their URL), with its data kept on disk when
//! started [`persistent`](RedisServer::persistent).

use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use baton::protocol::ConversationId;

/// How long a started server may take to answer PING.
const START_WAIT: Duration = Duration::from_secs(10);

/// What a node is pointed at: one Redis, or a Redis Cluster (`store.redis_cluster`).
pub trait SharedRedis {
    /// `store.redis_url`.
    fn url(&self) -> String;
    fn cluster(&self) -> bool {
        false
    }
}

impl SharedRedis for RedisServer {
    fn url(&self) -> String {
        RedisServer::url(self)
    }
}

pub struct RedisServer {
    pub port: u16,
    /// With [`RedisServer::tls`]: its TLS port, and the folder of its certificates.
    tls: Option<(u16, PathBuf)>,
    /// Append-only file with fsync on every write: acknowledged writes survive a SIGKILL.
    dir: Option<PathBuf>,
    child: Option<Child>,
}

impl RedisServer {
    /// An in-memory server (`--save "" --appendonly no`).
    pub fn start() -> RedisServer {
        RedisServer::launch(None)
    }

    /// A server that keeps every acknowledged write across a kill and restart.
    pub fn persistent() -> RedisServer {
        let dir = std::env::temp_dir().join(format!("baton-redis-{}", ConversationId::new()));
        std::fs::create_dir_all(&dir).expect("create the Redis data folder");
        RedisServer::launch(Some(dir))
    }

    /// An in-memory server that also speaks TLS on a second port, with a certificate for
    /// `127.0.0.1` signed by a CA made for this server ([`RedisServer::ca_file`]).
    pub fn tls() -> RedisServer {
        let folder = std::env::temp_dir().join(format!("baton-redis-tls-{}", ConversationId::new()));
        std::fs::create_dir_all(&folder).expect("create the certificates folder");
        make_certificates(&folder);
        let mut server = RedisServer { port: free_port(), tls: Some((free_port(), folder)), dir: None, child: None };
        server.restart();
        server
    }

    /// The TLS URL ([`RedisServer::tls`] servers only).
    pub fn tls_url(&self) -> String {
        format!("rediss://127.0.0.1:{}", self.tls.as_ref().expect("a TLS server").0)
    }

    /// The CA that signed a TLS server's certificate (PEM).
    pub fn ca_file(&self) -> PathBuf {
        self.tls.as_ref().expect("a TLS server").1.join("ca.pem")
    }

    fn launch(dir: Option<PathBuf>) -> RedisServer {
        let mut server = RedisServer { port: free_port(), tls: None, dir, child: None };
        server.restart();
        server
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Kills the server (SIGKILL) and waits for it to be gone.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Freezes the server (SIGSTOP): connections stay open, nothing is answered, and what
    /// clients send waits in its socket buffers, to run once it is resumed.
    pub fn pause(&self) {
        self.signal("-STOP");
    }

    /// Lets a paused server go on (SIGCONT).
    pub fn resume(&self) {
        self.signal("-CONT");
    }

    /// Runs one command (inline form: no spaces inside arguments) and returns the first line
    /// of the reply.
    pub fn command(&self, command: &str) -> String {
        use std::io::{BufRead, BufReader, Write};
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).expect("connect to redis");
        stream.write_all(format!("{command}\r\n").as_bytes()).expect("send the command");
        let mut line = String::new();
        BufReader::new(stream).read_line(&mut line).expect("a reply");
        line.trim_end().to_owned()
    }

    /// `INFO <section>`, as `redis-cli` prints it.
    pub fn info(&self, section: &str) -> String {
        let output = Command::new("redis-cli")
            .args(["-p", &self.port.to_string(), "info", section])
            .output()
            .expect("redis-cli runs (scripts/test installs it with redis-server)");
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    fn signal(&self, signal: &str) {
        let pid = self.child.as_ref().expect("running").id().to_string();
        let status = Command::new("kill").args([signal, &pid]).status().expect("kill runs");
        assert!(status.success(), "kill {signal} {pid}");
    }

    /// Starts the server (again) on its port and waits until it answers.
    pub fn restart(&mut self) {
        assert!(self.child.is_none(), "already running");
        let mut command = Command::new(redis_server());
        command.args(["--port", &self.port.to_string(), "--bind", "127.0.0.1", "--save", ""]);
        match &self.dir {
            Some(dir) => {
                command.args(["--appendonly", "yes", "--appendfsync", "always", "--dir"]).arg(dir);
            }
            None => {
                command.args(["--appendonly", "no"]);
            }
        }
        if let Some((port, folder)) = &self.tls {
            command.args(["--tls-port", &port.to_string(), "--tls-auth-clients", "no"]);
            command.arg("--tls-cert-file").arg(folder.join("server.pem"));
            command.arg("--tls-key-file").arg(folder.join("server.key"));
            command.arg("--tls-ca-cert-file").arg(folder.join("ca.pem"));
        }
        let quiet = std::env::var("TEST_LOG").is_err();
        command.stdout(if quiet { Stdio::null() } else { Stdio::inherit() }).stderr(Stdio::inherit());
        self.child = Some(command.spawn().expect("redis-server starts (scripts/test installs it)"));
        let deadline = Instant::now() + START_WAIT;
        while !answers_ping(self.port) {
            assert!(Instant::now() < deadline, "redis-server did not answer on port {} in time", self.port);
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
        for dir in self.dir.iter().chain(self.tls.as_ref().map(|(_, folder)| folder)) {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// A CA and a server certificate for `127.0.0.1` and `localhost` signed by it, with
/// Debian's `openssl`: `ca.pem`, `server.pem`, `server.key` in `folder`.
fn make_certificates(folder: &std::path::Path) {
    let run = |args: &[&str]| {
        let output = Command::new("openssl").args(args).current_dir(folder).output().expect("openssl runs");
        assert!(output.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&output.stderr));
    };
    std::fs::write(folder.join("san.ext"), "subjectAltName=IP:127.0.0.1,DNS:localhost\n").expect("write san.ext");
    let key = ["-newkey", "rsa:2048", "-nodes"];
    run(&[
        &["req", "-x509"][..],
        &key,
        &["-keyout", "ca.key", "-out", "ca.pem", "-days", "1", "-subj", "/CN=baton-test-ca"],
    ]
    .concat());
    run(&[&["req"][..], &key, &["-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost"]].concat());
    run(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.pem",
        "-days",
        "1",
        "-extfile",
        "san.ext",
    ]);
}

/// A namespace no other test uses.
pub fn namespace() -> String {
    format!("test-{}", ConversationId::new())
}

/// A port that was free a moment ago.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port()
}

fn redis_server() -> String {
    std::env::var("REDIS_SERVER").unwrap_or_else(|_| "redis-server".into())
}

/// A PING over a plain socket answers `+PONG` (not `-LOADING`).
fn answers_ping(port: u16) -> bool {
    use std::io::{Read, Write};
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else { return false };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(1)));
    let mut reply = [0u8; 7];
    stream.write_all(b"PING\r\n").is_ok() && stream.read_exact(&mut reply).is_ok() && &reply == b"+PONG\r\n"
}
