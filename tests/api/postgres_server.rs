//! A real PostgreSQL server per test (Debian's `postgresql`, installed by `scripts/test`),
//! on a free local port with a data folder of its own, stopped and removed when dropped. It
//! can be stopped and started again on the same port, its data kept. PostgreSQL refuses to
//! run as root, so under root it runs as the `postgres` user.
//!
//! `initdb` runs once into a template folder (kept in the temp folder); each server starts
//! from a copy of it.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use baton::protocol::ConversationId;

use crate::redis_server::free_port;

/// How long a started server may take to accept connections.
const START_WAIT: Duration = Duration::from_secs(30);

pub struct PostgresServer {
    pub port: u16,
    dir: PathBuf,
    child: Option<Child>,
}

impl PostgresServer {
    pub fn start() -> PostgresServer {
        let dir = std::env::temp_dir().join(format!("baton-pg-{}", ConversationId::new()));
        copy_dir(template(), &dir);
        chown(&dir);
        let mut server = PostgresServer { port: free_port(), dir, child: None };
        server.restart();
        server
    }

    /// The superuser `baton`, no password (trust on the local port), database `postgres`.
    pub fn url(&self) -> String {
        format!("postgres://baton@127.0.0.1:{}/postgres", self.port)
    }

    /// Stops the server at once (SIGQUIT: no shutdown checkpoint, as after a crash; the
    /// next start recovers from the write-ahead log) and waits for it to be gone.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill").args(["-QUIT", &child.id().to_string()]).status();
            let _ = child.wait();
        }
    }

    /// Starts the server (again) on its port and waits until it accepts connections.
    pub fn restart(&mut self) {
        assert!(self.child.is_none(), "already running");
        let mut command = Command::new(bin().join("postgres"));
        command.arg("-D").arg(&self.dir).args(["-p", &self.port.to_string(), "-k"]).arg(&self.dir);
        command.args(["-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "max_connections=50"]);
        as_postgres(&mut command);
        let quiet = std::env::var("TEST_LOG").is_err();
        command.stdout(Stdio::null()).stderr(if quiet { Stdio::null() } else { Stdio::inherit() });
        self.child = Some(command.spawn().expect("postgres starts (scripts/test installs postgresql)"));
        let deadline = Instant::now() + START_WAIT;
        while !self.accepts() {
            assert!(Instant::now() < deadline, "postgres did not accept connections on {} in time", self.port);
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn accepts(&self) -> bool {
        let status = Command::new(bin().join("pg_isready"))
            .args(["-q", "-h", "127.0.0.1", "-p", &self.port.to_string(), "-U", "baton"])
            .status();
        status.is_ok_and(|s| s.success())
    }
}

impl Drop for PostgresServer {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The newest `/usr/lib/postgresql/*/bin`, or `POSTGRES_BIN`.
fn bin() -> PathBuf {
    if let Some(dir) = std::env::var_os("POSTGRES_BIN") {
        return dir.into();
    }
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("postgresql is installed (scripts/test installs it)")
        .filter_map(|entry| entry.ok().map(|e| e.path().join("bin")))
        .filter(|bin| bin.join("postgres").exists())
        .collect();
    versions.sort_by_key(|bin| bin.parent().and_then(|v| v.file_name()?.to_str()?.parse::<u32>().ok()));
    versions.pop().expect("a PostgreSQL server under /usr/lib/postgresql")
}

/// One `initdb`, kept in the temp folder for every later run (made under another name and
/// renamed into place, so two test binaries never see half of one).
fn template() -> &'static Path {
    static TEMPLATE: OnceLock<PathBuf> = OnceLock::new();
    TEMPLATE.get_or_init(|| {
        let dir = std::env::temp_dir().join("baton-pg-template");
        if dir.join("PG_VERSION").exists() {
            return dir;
        }
        let fresh = std::env::temp_dir().join(format!("baton-pg-initdb-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&fresh);
        std::fs::create_dir_all(&fresh).unwrap();
        chown(&fresh);
        let mut initdb = Command::new(bin().join("initdb"));
        initdb.arg("-D").arg(&fresh).args(["-U", "baton", "-A", "trust", "-E", "UTF8", "--no-sync", "--locale=C"]);
        as_postgres(&mut initdb);
        let output = initdb.output().expect("initdb runs");
        assert!(output.status.success(), "initdb failed: {}", String::from_utf8_lossy(&output.stderr));
        if std::fs::rename(&fresh, &dir).is_err() {
            let _ = std::fs::remove_dir_all(&fresh);
        }
        dir
    })
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.trim_ascii() == b"0")
}

/// The `postgres` user's uid and gid.
fn postgres_ids() -> (u32, u32) {
    let id = |flag: &str| {
        let output = Command::new("id").args([flag, "postgres"]).output().expect("id runs");
        String::from_utf8_lossy(&output.stdout).trim().parse::<u32>().expect("a postgres user (the package makes it)")
    };
    (id("-u"), id("-g"))
}

fn as_postgres(command: &mut Command) {
    if is_root() {
        let (uid, gid) = postgres_ids();
        command.uid(uid).gid(gid);
    }
}

fn chown(dir: &Path) {
    if is_root() {
        let status = Command::new("chown").args(["-R", "postgres:postgres"]).arg(dir).status().expect("chown runs");
        assert!(status.success());
    }
}

fn copy_dir(from: &Path, to: &Path) {
    let status = Command::new("cp").arg("-a").arg(from).arg(to).status().expect("cp runs");
    assert!(status.success(), "copy the template data folder");
}
