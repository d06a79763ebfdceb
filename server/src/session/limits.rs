//! Rate limits: a token bucket per socket, and buckets by key (a client address, a site, a
//! conversation) shared by every socket of this node. The keyed table is bounded too: a
//! flood of new keys (addresses from a large IPv6 block) cannot grow it past `max_keys`;
//! buckets that have filled up again are forgotten first (a fresh one would be the same),
//! and while the table is still full, new keys are refused.
//!
//! These limits are per node: with N nodes behind a balancer a client gets at most N times
//! each. New conversations are also counted in the store, shared by every node
//! (`Conversations::may_start`, `store::allowance`), since each one costs storage.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use crate::config::Limits;
use crate::protocol::ConversationId;

/// A full table is pruned at most this often (pruning walks every key).
const PRUNE_EVERY: Duration = Duration::from_secs(1);

/// A token bucket: `rate` per second on average, bursts up to `burst`.
#[derive(Debug, Clone)]
pub struct RateLimiter {
    rate: f64,
    burst: f64,
    tokens: f64,
    last: Instant,
    /// Refusals in a row.
    pub strikes: u32,
}

impl RateLimiter {
    pub fn new(rate: f64, burst: u32) -> RateLimiter {
        RateLimiter { rate, burst: f64::from(burst), tokens: f64::from(burst), last: Instant::now(), strikes: 0 }
    }

    fn refill(&mut self) {
        let now = Instant::now();
        let refill = now.duration_since(self.last).as_secs_f64() * self.rate;
        self.tokens = (self.tokens + refill).min(self.burst);
        self.last = now;
    }

    /// Takes one token; `false` means the frame (or request) must be refused.
    pub fn allow(&mut self) -> bool {
        self.refill();
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            self.strikes = 0;
            true
        } else {
            self.strikes += 1;
            false
        }
    }

    /// Whether a token is there, without taking it.
    pub fn would_allow(&mut self) -> bool {
        self.refill();
        self.tokens >= 1.0
    }

    fn is_full(&mut self) -> bool {
        self.refill();
        self.tokens >= self.burst
    }
}

/// Token buckets by key, at most `max_keys` of them (see the module doc).
pub struct KeyedLimiter<K> {
    rate: f64,
    burst: u32,
    max_keys: usize,
    /// Short-held: one lookup and one bucket update per call (a prune at most every second).
    table: Mutex<Table<K>>,
}

struct Table<K> {
    buckets: HashMap<K, RateLimiter>,
    pruned: Option<Instant>,
}

impl<K: Hash + Eq + Clone> KeyedLimiter<K> {
    /// `per_minute` tokens a minute, bursts of up to `burst`, for at most `max_keys` keys.
    pub fn per_minute(per_minute: u32, burst: u32, max_keys: usize) -> KeyedLimiter<K> {
        KeyedLimiter::new(f64::from(per_minute) / 60.0, burst, max_keys)
    }

    /// `rate` tokens a second, bursts of up to `burst`, for at most `max_keys` keys.
    pub fn new(rate: f64, burst: u32, max_keys: usize) -> KeyedLimiter<K> {
        KeyedLimiter {
            rate,
            burst: burst.max(1),
            max_keys: max_keys.max(1),
            table: Mutex::new(Table { buckets: HashMap::new(), pruned: None }),
        }
    }

    fn with_bucket<T>(&self, key: &K, f: impl FnOnce(&mut RateLimiter) -> T) -> Option<T> {
        let mut table = self.table.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if !table.buckets.contains_key(key) && table.buckets.len() >= self.max_keys {
            let due = table.pruned.is_none_or(|at| at.elapsed() >= PRUNE_EVERY);
            if !due {
                return None;
            }
            table.pruned = Some(Instant::now());
            table.buckets.retain(|_, bucket| !bucket.is_full());
            if table.buckets.len() >= self.max_keys {
                return None;
            }
        }
        let (rate, burst) = (self.rate, self.burst);
        Some(f(table.buckets.entry(key.clone()).or_insert_with(|| RateLimiter::new(rate, burst))))
    }

    /// Takes one token of `key`'s bucket; `false`: refused (also when the table is full).
    pub fn allow(&self, key: &K) -> bool {
        self.with_bucket(key, RateLimiter::allow).unwrap_or(false)
    }

    /// Whether `key` has a token left, without taking one.
    pub fn would_allow(&self, key: &K) -> bool {
        self.with_bucket(key, RateLimiter::would_allow).unwrap_or(false)
    }

    /// Keys tracked now (for tests and metrics).
    pub fn len(&self) -> usize {
        self.table.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).buckets.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The address a limit counts a client by: an IPv6 client by its /64 (what one host or home
/// network usually gets), so stepping through one's own block does not escape the limit.
pub fn client_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
        v4 => v4,
    }
}

/// The limits every socket of this node shares (see `docs/protocol.md`, "Limits").
pub struct Guards {
    /// Socket upgrades per client address.
    pub upgrades: KeyedLimiter<IpAddr>,
    /// New conversations (a `hello` without a token) per client address, and per site.
    pub conversations_per_ip: KeyedLimiter<IpAddr>,
    pub conversations_per_site: KeyedLimiter<String>,
    /// Frames per conversation, whichever of its sockets sent them.
    pub per_conversation: KeyedLimiter<ConversationId>,
    /// Refused agent `auth`s per client address.
    pub auth_failures: KeyedLimiter<IpAddr>,
}

impl Guards {
    pub fn new(limits: &Limits) -> Guards {
        let keys = limits.tracked_keys;
        let hourly = |n: u32| f64::from(n) / 3600.0;
        Guards {
            upgrades: KeyedLimiter::per_minute(limits.upgrades_per_ip_per_min, limits.upgrades_per_ip_burst, keys),
            conversations_per_ip: KeyedLimiter::new(
                hourly(limits.conversations_per_ip_per_hour),
                limits.conversations_per_ip_burst,
                keys,
            ),
            conversations_per_site: KeyedLimiter::new(
                hourly(limits.conversations_per_site_per_hour),
                limits.conversations_per_site_burst,
                keys,
            ),
            per_conversation: KeyedLimiter::new(limits.conversation_rate_per_sec, limits.conversation_rate_burst, keys),
            auth_failures: KeyedLimiter::per_minute(
                limits.auth_failures_per_ip_per_min,
                limits.auth_failures_per_ip_burst,
                keys,
            ),
        }
    }

    /// Takes a new conversation from the client's and the site's allowances: `false` when
    /// either is spent (the site's is not touched when the client's is).
    pub fn new_conversation(&self, client: IpAddr, site: &str) -> bool {
        self.conversations_per_ip.allow(&client) && self.conversations_per_site.allow(&site.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn the_bucket_allows_a_burst_then_refills_at_the_rate() {
        let mut limiter = RateLimiter::new(2.0, 3);
        assert!((0..3).all(|_| limiter.allow()));
        assert!(!limiter.allow());
        assert_eq!(limiter.strikes, 1);
        tokio::time::advance(Duration::from_millis(500)).await;
        assert!(limiter.allow());
        assert_eq!(limiter.strikes, 0);
        assert!(!limiter.allow());
    }

    #[test]
    fn ipv6_clients_count_by_their_64_and_mapped_ipv4_as_ipv4() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::9".parse().unwrap();
        let other: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(client_key(a), client_key(b));
        assert_ne!(client_key(a), client_key(other));
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
        assert_eq!(client_key(mapped), "192.0.2.7".parse::<IpAddr>().unwrap());
    }

    #[tokio::test(start_paused = true)]
    async fn keys_have_buckets_of_their_own() {
        let limiter = KeyedLimiter::per_minute(60, 2, 10);
        assert!(limiter.allow(&"a") && limiter.allow(&"a"));
        assert!(!limiter.allow(&"a"));
        assert!(limiter.allow(&"b"), "another key is not held back");
        tokio::time::advance(Duration::from_secs(1)).await;
        assert!(limiter.would_allow(&"a") && limiter.allow(&"a"));
    }

    #[tokio::test(start_paused = true)]
    async fn a_full_table_forgets_refilled_buckets_and_refuses_new_keys_while_none_is() {
        let limiter = KeyedLimiter::per_minute(60, 1, 3);
        for key in 0..3 {
            assert!(limiter.allow(&key));
        }
        assert!(!limiter.allow(&99), "every bucket is in use: a new key is refused");
        assert_eq!(limiter.len(), 3);
        tokio::time::advance(Duration::from_secs(2)).await;
        assert!(limiter.allow(&99), "refilled buckets were forgotten to make room");
        assert!(limiter.len() <= 3);
    }
}
