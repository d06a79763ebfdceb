//! The soak: thousands of visitors and tens of agents chatting with the bot, escalating,
//! dropping and resuming their sockets, being answered by a person and resolved, on one
//! `baton` node with Redis, for a set time (`--soak-minutes`). Each interval
//! (`--soak-sample-secs`) it samples the node's resident memory and open files, Redis's
//! `used_memory`, and the p99 of a visitor's `message` to its `ack`; at the end it fits a line
//! through the second half of the samples (the first half is the warm-up: caches, buffers and
//! the allocator's pools filling) and prints each one's growth per hour.
//!
//! Growth is expected where Baton keeps data by design (Redis holds each conversation for
//! the live store's retention, 72 hours by default): the figure says how fast, so an operator
//! can size Redis; memory and open files of the node should stay flat.

mod actors;

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use hdrhistogram::Histogram;
use tokio::time::Instant;

use crate::report::{self, Latency};
use crate::servers::Server;

pub struct SoakPlan {
    pub duration: Duration,
    pub sample_every: Duration,
    pub visitors: usize,
    pub agents: usize,
}

#[derive(Default)]
pub struct Counters {
    pub conversations: AtomicU64,
    pub messages: AtomicU64,
    pub escalations: AtomicU64,
    pub takeovers: AtomicU64,
    pub resolved: AtomicU64,
    pub reconnects: AtomicU64,
    pub agent_replies: AtomicU64,
    pub errors: AtomicU64,
    pub unacked_at_end: AtomicU64,
}

/// What every actor writes to: counters, and the acknowledgement latencies of the interval.
pub struct Shared {
    pub counters: Counters,
    acks: Mutex<Histogram<u64>>,
}

impl Shared {
    pub fn record_ack(&self, latency: Duration) {
        let micros = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX).clamp(1, 60_000_000);
        if let Ok(mut histogram) = self.acks.lock() {
            let _ = histogram.record(micros);
        }
    }

    /// The interval's latencies, and a fresh histogram for the next.
    fn take_acks(&self) -> Histogram<u64> {
        match self.acks.lock() {
            Ok(mut histogram) => std::mem::replace(&mut *histogram, report::histogram()),
            Err(_) => report::histogram(),
        }
    }
}

/// One interval's readings.
pub struct Sample {
    pub minute: f64,
    pub rss: u64,
    pub open_files: u64,
    pub redis_bytes: Option<u64>,
    pub acks: u64,
    pub ack: Latency,
    pub messages: u64,
    pub errors: u64,
}

pub struct SoakRun {
    pub samples: Vec<Sample>,
    pub totals: Vec<(&'static str, u64)>,
    /// Per hour, fitted over the second half of the samples: resident bytes, open files, Redis bytes.
    pub rss_per_hour: f64,
    pub open_files_per_hour: f64,
    pub redis_per_hour: f64,
}

pub async fn run(plan: &SoakPlan, baton: &Server, redis: &Server, agent_tokens: Vec<String>) -> SoakRun {
    let shared: &'static Shared =
        Box::leak(Box::new(Shared { counters: Counters::default(), acks: Mutex::new(report::histogram()) }));
    let start = Instant::now();
    let deadline = start + plan.duration;
    let port = baton.port;
    let mut tasks = tokio::task::JoinSet::new();
    for token in agent_tokens.into_iter().take(plan.agents) {
        tasks.spawn(async move { actors::agent(port, token, shared, deadline).await });
    }
    for index in 0..plan.visitors {
        tasks.spawn(async move { actors::visitor(port, index, shared, deadline).await });
    }
    let mut samples = Vec::new();
    let mut at = start;
    while at + plan.sample_every <= deadline {
        at += plan.sample_every;
        tokio::time::sleep_until(at).await;
        let acks = shared.take_acks();
        let sample = Sample {
            minute: start.elapsed().as_secs_f64() / 60.0,
            rss: baton.rss(),
            open_files: open_files(baton.pid()),
            redis_bytes: redis_used_memory(redis.port).await,
            acks: acks.len(),
            ack: Latency::from_histogram(&acks),
            messages: shared.counters.messages.load(Ordering::Relaxed),
            errors: shared.counters.errors.load(Ordering::Relaxed),
        };
        crate::scenarios::progress(&describe(&sample));
        samples.push(sample);
    }
    // Actors stop at the deadline; give the last ones a moment to close their sockets.
    let _ = tokio::time::timeout(Duration::from_secs(30), async { while tasks.join_next().await.is_some() {} }).await;
    let c = &shared.counters;
    let totals = [
        ("conversations", &c.conversations),
        ("visitor messages", &c.messages),
        ("escalations", &c.escalations),
        ("taken by an agent", &c.takeovers),
        ("resolved", &c.resolved),
        ("reconnects", &c.reconnects),
        ("agent replies", &c.agent_replies),
        ("socket errors", &c.errors),
        ("unacknowledged at the end", &c.unacked_at_end),
    ]
    .map(|(name, counter)| (name, counter.load(Ordering::Relaxed)))
    .to_vec();
    let fitted = |value: fn(&Sample) -> Option<f64>| per_hour(&samples, value);
    SoakRun {
        rss_per_hour: fitted(|s| Some(s.rss as f64)),
        open_files_per_hour: fitted(|s| Some(s.open_files as f64)),
        redis_per_hour: fitted(|s| s.redis_bytes.map(|b| b as f64)),
        samples,
        totals,
    }
}

pub fn describe(s: &Sample) -> String {
    let redis = s.redis_bytes.map_or("n/a".to_owned(), |b| format!("{:.1} MB", b as f64 / 1e6));
    format!(
        "soak {:>5.1} min: node {:.1} MB, {} open files, Redis {redis}, {} acks p50 {:.0} µs p99 {:.0} µs, {} messages, {} errors",
        s.minute,
        s.rss as f64 / 1e6,
        s.open_files,
        s.acks,
        s.ack.p50,
        s.ack.p99,
        s.messages,
        s.errors,
    )
}

/// The least-squares slope of `value` against time, per hour, over the second half of the
/// samples (at least all but the first); NaN with fewer than two such samples.
fn per_hour(samples: &[Sample], value: fn(&Sample) -> Option<f64>) -> f64 {
    let warm_up = (samples.len() / 2).max(1);
    let points: Vec<(f64, f64)> = samples.iter().skip(warm_up).filter_map(|s| Some((s.minute, value(s)?))).collect();
    if points.len() < 2 {
        return f64::NAN;
    }
    let n = points.len() as f64;
    let (mx, my) = (points.iter().map(|p| p.0).sum::<f64>() / n, points.iter().map(|p| p.1).sum::<f64>() / n);
    let sxx: f64 = points.iter().map(|p| (p.0 - mx).powi(2)).sum();
    let sxy: f64 = points.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    if sxx == 0.0 { f64::NAN } else { sxy / sxx * 60.0 }
}

fn open_files(pid: u32) -> u64 {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, |entries| entries.count() as u64)
}

/// `used_memory` from `INFO memory`, over a plain TCP connection (no client library needed
/// for one command).
async fn redis_used_memory(port: u16) -> Option<u64> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let read = async {
        let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.ok()?;
        stream.write_all(b"INFO memory\r\n").await.ok()?;
        let mut buffer = vec![0u8; 16 * 1024];
        let mut filled = 0;
        while filled < buffer.len() {
            let n = stream.read(&mut buffer[filled..]).await.ok()?;
            if n == 0 {
                break;
            }
            filled += n;
            let text = String::from_utf8_lossy(&buffer[..filled]);
            if let Some(line) = text.lines().find(|l| l.starts_with("used_memory:")) {
                return line["used_memory:".len()..].trim().parse().ok();
            }
        }
        None
    };
    tokio::time::timeout(Duration::from_secs(5), read).await.ok().flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(minute: f64, rss: u64) -> Sample {
        let ack = Latency { p50: 1.0, p99: 1.0, p999: 1.0 };
        Sample { minute, rss, open_files: 10, redis_bytes: None, acks: 1, ack, messages: 0, errors: 0 }
    }

    #[test]
    fn growth_per_hour_is_the_fitted_slope_of_the_second_half() {
        // The first half (warm-up) climbs steeply and must not bend the line.
        let samples = vec![
            sample(1.0, 0),
            sample(2.0, 50_000),
            sample(3.0, 90_000),
            sample(4.0, 91_000),
            sample(5.0, 92_000),
            sample(6.0, 93_000),
        ];
        assert!((per_hour(&samples, |s| Some(s.rss as f64)) - 60_000.0).abs() < 1e-6);
        assert_eq!(per_hour(&samples, |s| Some(s.open_files as f64)), 0.0);
        assert!(per_hour(&samples, |s| s.redis_bytes.map(|b| b as f64)).is_nan(), "no readings: no figure");
        assert!(per_hour(&samples[..2], |s| Some(s.rss as f64)).is_nan(), "one point after the warm-up");
    }

    #[test]
    fn dice_are_uniform_enough_and_repeatable() {
        let (mut a, mut b) = (actors::Dice::new(7), actors::Dice::new(7));
        let rolls: Vec<f64> = (0..10_000).map(|_| a.roll()).collect();
        assert!(rolls.iter().all(|r| (0.0..1.0).contains(r)));
        let mean = rolls.iter().sum::<f64>() / rolls.len() as f64;
        assert!((mean - 0.5).abs() < 0.02, "{mean}");
        assert_eq!(rolls[0], b.roll());
    }
}
