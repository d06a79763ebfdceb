//! The machine and the processes under test: a shared clock, resident memory and CPU time
//! from `/proc`, open-file limits, core pinning with `taskset`, and free ports.

use std::net::TcpListener;
use std::path::Path;
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

static EPOCH: OnceLock<Instant> = OnceLock::new();

/// Nanoseconds since the bench started. Senders write it into message text and receivers in
/// the same process subtract it from their own reading, so one clock measures both ends.
pub fn now_ns() -> u64 {
    let epoch = *EPOCH.get_or_init(Instant::now);
    u64::try_from(epoch.elapsed().as_nanos()).unwrap_or(u64::MAX)
}

/// `VmRSS` of a process, in bytes.
pub fn rss_bytes(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// User plus system CPU time a process has used so far.
pub fn cpu_time(pid: u32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may contain spaces) start after the last ')'.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    // The kernel's USER_HZ is 100 on every Linux this runs on.
    Some(Duration::from_millis((utime + stime) * 10))
}

/// CPU use of `pid` between two readings, as a fraction of one core.
pub struct CpuMeter {
    pid: u32,
    start_cpu: Duration,
    start: Instant,
}

impl CpuMeter {
    pub fn start(pid: u32) -> CpuMeter {
        CpuMeter { pid, start_cpu: cpu_time(pid).unwrap_or_default(), start: Instant::now() }
    }
    pub fn cores(&self) -> f64 {
        let used = cpu_time(self.pid).unwrap_or_default().saturating_sub(self.start_cpu);
        used.as_secs_f64() / self.start.elapsed().as_secs_f64().max(1e-9)
    }
}

/// The soft limit on open files of this process (children inherit it).
pub fn open_files_limit() -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

pub fn nproc() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

pub fn has_command(name: &str) -> bool {
    Command::new("sh").arg("-c").arg(format!("command -v {name}")).output().is_ok_and(|o| o.status.success())
}

/// Core pinning: the load generator on core 0, every server under test on core 1.
#[derive(Clone, Debug)]
pub struct Pinning {
    pub enabled: bool,
    pub reason: String,
}

pub const GENERATOR_CORE: &str = "0";
pub const SERVER_CORE: &str = "1";

impl Pinning {
    /// Pins this process (all its threads; call it before starting any runtime) when there are
    /// at least two cores and `taskset` exists.
    pub fn apply(wanted: bool) -> Pinning {
        let off = |reason: &str| Pinning { enabled: false, reason: reason.to_owned() };
        if !wanted {
            return off("disabled with --no-pin");
        }
        if nproc() < 2 {
            return off("fewer than two cores");
        }
        if !has_command("taskset") {
            return off("taskset not found");
        }
        let pid = std::process::id().to_string();
        let pinned = Command::new("taskset").args(["-a", "-p", "-c", GENERATOR_CORE, &pid]).output();
        match pinned {
            Ok(out) if out.status.success() => Pinning {
                enabled: true,
                reason: format!("load generator on core {GENERATOR_CORE}, servers on core {SERVER_CORE}"),
            },
            _ => off("taskset failed"),
        }
    }

    /// The command that starts `program`, under `taskset` when pinning.
    pub fn command(&self, program: &Path) -> Command {
        // A profiler in front of every server process, for example
        // `BATON_BENCH_WRAPPER="valgrind --tool=callgrind --callgrind-out-file=/tmp/cg.%p"`.
        if let Some(wrapper) = std::env::var("BATON_BENCH_WRAPPER").ok().filter(|w| !w.trim().is_empty()) {
            let mut parts = wrapper.split_whitespace();
            // unwrap: the filter above keeps only a wrapper with at least one word.
            let mut command = Command::new(parts.next().unwrap());
            command.args(parts).arg(program);
            return command;
        }
        if self.enabled {
            let mut command = Command::new("taskset");
            command.args(["-c", SERVER_CORE]).arg(program);
            command
        } else {
            Command::new(program)
        }
    }
}

pub fn free_port() -> u16 {
    // unwrap: binding port 0 on loopback only fails when the machine is out of sockets.
    TcpListener::bind("127.0.0.1:0").expect("bind a free port").local_addr().expect("local address").port()
}

/// Waits until something accepts TCP connections on `port`.
pub async fn wait_for_port(port: u16, limit: Duration) -> anyhow::Result<()> {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    anyhow::bail!("nothing listens on port {port} after {limit:?}")
}

/// The one-minute load average.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

pub fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("model name")).map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".into())
}

pub fn mem_total() -> String {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| s.lines().next().map(|l| l.split_whitespace().skip(1).collect::<Vec<_>>().join(" ")))
        .unwrap_or_default()
}

/// Processors on the machine (not only those this process may use).
pub fn nproc_total() -> usize {
    std::fs::read_to_string("/proc/cpuinfo").map_or(1, |s| s.lines().filter(|l| l.starts_with("processor")).count())
}
