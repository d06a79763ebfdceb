//! Hostile traffic: what an anonymous client can make Baton hold, and the close codes and
//! errors it gets for trying. Memory is measured on a real `baton` process (its
//! `/proc/<pid>/status`), the rest through the real socket and HTTP paths.

mod backpressure;
mod frames;
mod input;
mod limits;
pub mod raw;
mod shared_limits;
mod stall;

use std::process::{Child, Command, Stdio};

use crate::cluster::listening_port;
use crate::helpers::repo_root;

/// One `baton serve` process on the shipped configuration and the memory store. Killed when
/// dropped.
pub struct Process {
    child: Child,
    pub port: u16,
}

impl Process {
    pub async fn start() -> Process {
        let mut child = Command::new(env!("CARGO_BIN_EXE_baton"))
            .env("BATON_CONFIG", repo_root().join("config"))
            .env("BATON__SERVER__PORT", "0")
            .env("BATON_LOG_FORMAT", "json")
            .env("RUST_LOG", "info")
            .env_remove("BATON__STORE__REDIS_URL")
            .env_remove("OPENAI_API_KEY")
            .env_remove("OPENAI_BASE_URL")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the baton binary starts");
        let port = listening_port(&mut child).await;
        Process { child, port }
    }

    /// A field of `/proc/<pid>/status` in KiB (`VmRSS`: resident now, `VmHWM`: the peak).
    pub fn status_kib(&self, field: &str) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).expect("/proc status");
        let line = status.lines().find(|line| line.starts_with(&format!("{field}:"))).expect("the field");
        line.split_whitespace().nth(1).and_then(|kib| kib.parse().ok()).expect("a number of kB")
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
