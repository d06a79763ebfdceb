//! Where a webhook may go (SSRF guard): an owner names any URL, and Baton's own network
//! (loopback, the private ranges, the cloud metadata address at 169.254.169.254) must not
//! be reachable through it. Checked twice: when a subscription is made ([`check`]: the
//! scheme, and an address written in the URL) and when each delivery connects
//! ([`PublicResolver`]: every address a name resolves to), so a name that resolves to a
//! private address is refused.
//!
//! The resolver is the dispatcher's DNS: the addresses it lets through are the ones the
//! connection is made to, so a name that changes its answer between a check and the
//! connection (DNS rebinding) has no window to pass in. The dispatcher's client uses no
//! proxy (a proxy would resolve the name itself).
//!
//! Refused: loopback, private (RFC 1918, fc00::/7), link-local (169.254/16, fe80::/10),
//! unspecified, broadcast and reserved (0/8, 240/4), multicast, CGNAT (100.64/10), and
//! IPv6 forms of any of these (`::ffff:a.b.c.d`, 64:ff9b::/96); schemes other than https,
//! and http unless `webhooks.allow_http`. `webhooks.allow_private_targets` lets an operator
//! (and the tests, whose receiver listens on 127.0.0.1) send to their own network.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use reqwest::Url;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use crate::config::webhooks::WebhookSettings;

/// How long a subscription's create waits for its name to resolve.
const CREATE_LOOKUP: std::time::Duration = std::time::Duration::from_secs(5);

/// Why a URL is not a webhook target.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    #[error("only https:// URLs are taken (webhooks.allow_http is off)")]
    HttpOff,
    #[error("the scheme {0:?} is not http or https")]
    Scheme(String),
    #[error("the URL has no host")]
    NoHost,
    #[error("{0} is a loopback, private, link-local or otherwise non-public address")]
    Private(IpAddr),
    #[error("{0} is this machine (localhost)")]
    Localhost(String),
    #[error("{0} resolves only to non-public addresses ({1})")]
    ResolvesPrivate(String, String),
}

/// What the guard lets through, from `[webhooks]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    pub allow_http: bool,
    pub allow_private: bool,
}

impl Policy {
    pub fn of(settings: &WebhookSettings) -> Policy {
        Policy { allow_http: settings.allow_http, allow_private: settings.allow_private_targets }
    }
}

/// The scheme and, when the host is an address or `localhost`, the host.
pub fn check(url: &Url, policy: Policy) -> Result<(), TargetError> {
    match url.scheme() {
        "https" => {}
        "http" if policy.allow_http => {}
        "http" => return Err(TargetError::HttpOff),
        other => return Err(TargetError::Scheme(other.to_owned())),
    }
    // The URL parser writes an address in its one canonical form (`2130706433` is
    // `127.0.0.1`; an IPv6 one is bracketed).
    let host = url.host_str().filter(|h| !h.is_empty()).ok_or(TargetError::NoHost)?;
    if policy.allow_private {
        return Ok(());
    }
    match host.trim_start_matches('[').trim_end_matches(']').parse::<IpAddr>() {
        Ok(ip) if !is_public(ip) => Err(TargetError::Private(ip)),
        Ok(_) => Ok(()),
        Err(_) if is_localhost(host) => Err(TargetError::Localhost(host.to_owned())),
        Err(_) => Ok(()),
    }
}

/// [`check`], then, for a name, its addresses now: a name that resolves only to non-public
/// addresses is refused when the subscription is made (one that does not resolve yet is
/// taken: each delivery resolves it again, [`PublicResolver`]).
pub async fn check_resolved(url: &Url, policy: Policy) -> Result<(), TargetError> {
    check(url, policy)?;
    let host = url.host_str().unwrap_or_default();
    if policy.allow_private || host.starts_with('[') || host.parse::<IpAddr>().is_ok() {
        return Ok(());
    }
    let lookup = tokio::net::lookup_host((host, 0));
    let Ok(Ok(found)) = tokio::time::timeout(CREATE_LOOKUP, lookup).await else { return Ok(()) };
    let found: Vec<IpAddr> = found.map(|addr| addr.ip()).collect();
    if !found.is_empty() && !found.iter().copied().any(is_public) {
        let seen: Vec<String> = found.iter().map(ToString::to_string).collect();
        return Err(TargetError::ResolvesPrivate(host.to_owned(), seen.join(", ")));
    }
    Ok(())
}

/// `localhost` and its subdomains, which resolvers answer locally (RFC 6761).
fn is_localhost(name: &str) -> bool {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    name == "localhost" || name.ends_with(".localhost")
}

/// Whether `ip` is a public unicast address a webhook may reach.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    let cgnat = a == 100 && (b & 0xc0) == 64;
    let this_network = a == 0;
    let reserved = a >= 240; // 240/4, the broadcast address among them
    !(ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || cgnat
        || this_network
        || reserved)
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_public_v4(v4);
    }
    let s = ip.segments();
    let nat64 = s[0] == 0x64 && s[1] == 0xff9b && s[2..6] == [0, 0, 0, 0];
    if nat64 {
        let [a, b] = s[6].to_be_bytes();
        let [c, d] = s[7].to_be_bytes();
        return is_public_v4(Ipv4Addr::new(a, b, c, d));
    }
    let unique_local = (s[0] & 0xfe00) == 0xfc00;
    let link_local = (s[0] & 0xffc0) == 0xfe80;
    let site_local = (s[0] & 0xffc0) == 0xfec0;
    !(ip.is_loopback() || ip.is_unspecified() || ip.is_multicast() || unique_local || link_local || site_local)
}

/// The dispatcher's DNS: the system resolver, keeping only public addresses (all of them
/// when private targets are allowed); a name left with none is refused.
#[derive(Debug, Clone, Copy)]
pub struct PublicResolver {
    pub allow_private: bool,
}

impl Resolve for PublicResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_private = self.allow_private;
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let kept: Vec<SocketAddr> =
                found.iter().copied().filter(|addr| allow_private || is_public(addr.ip())).collect();
            if kept.is_empty() {
                let seen: Vec<String> = found.iter().map(|addr| addr.ip().to_string()).collect();
                return Err(Box::new(TargetError::ResolvesPrivate(host, seen.join(", "))) as _);
            }
            Ok(Box::new(kept.into_iter()) as Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STRICT: Policy = Policy { allow_http: false, allow_private: false };

    fn checked(url: &str, policy: Policy) -> Result<(), TargetError> {
        check(&Url::parse(url).unwrap(), policy)
    }

    #[test]
    fn every_non_public_range_is_refused_and_public_addresses_pass() {
        let refused = [
            "127.0.0.1",
            "127.9.9.9",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "169.254.0.1",
            "0.0.0.0",
            "0.1.2.3",
            "255.255.255.255",
            "240.0.0.1",
            "224.0.0.1",
            "239.1.1.1",
            "100.64.0.1",
            "100.127.255.254",
            "::1",
            "::",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "febf::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::a00:1",
            "fec0::1",
        ];
        for ip in refused {
            assert!(!is_public(ip.parse().unwrap()), "{ip} must be refused");
        }
        let public =
            ["8.8.8.8", "1.1.1.1", "172.32.0.1", "100.128.0.1", "93.184.216.34", "2606:4700::1111", "64:ff9b::808:808"];
        for ip in public {
            assert!(is_public(ip.parse().unwrap()), "{ip} is public");
        }
    }

    #[test]
    fn a_url_is_https_with_a_public_host_unless_the_operator_allows_more() {
        assert_eq!(checked("https://hooks.example.com/in", STRICT), Ok(()));
        assert_eq!(checked("http://hooks.example.com/in", STRICT), Err(TargetError::HttpOff));
        assert_eq!(checked("ftp://hooks.example.com/in", STRICT), Err(TargetError::Scheme("ftp".into())));
        assert!(matches!(checked("https://127.0.0.1:9000/in", STRICT), Err(TargetError::Private(_))));
        assert!(matches!(checked("https://[::ffff:7f00:1]/in", STRICT), Err(TargetError::Private(_))));
        assert!(matches!(checked("https://169.254.169.254/latest/meta-data", STRICT), Err(TargetError::Private(_))));
        assert!(matches!(checked("https://LOCALHOST./in", STRICT), Err(TargetError::Localhost(_))));
        assert!(matches!(checked("https://api.localhost/in", STRICT), Err(TargetError::Localhost(_))));
        assert!(matches!(checked("https://2130706433/in", STRICT), Err(TargetError::Private(_))), "decimal 127.0.0.1");
        let open = Policy { allow_http: true, allow_private: true };
        assert_eq!(checked("http://127.0.0.1:9000/in", open), Ok(()));
        assert_eq!(checked("file:///etc/passwd", open), Err(TargetError::Scheme("file".into())));
    }

    #[tokio::test]
    async fn the_resolver_drops_private_answers_and_refuses_a_name_left_with_none() {
        let strict = PublicResolver { allow_private: false };
        let refused = strict.resolve("localhost".parse().unwrap()).await;
        let error = refused.err().expect("localhost resolves to loopback only").to_string();
        assert!(error.contains("localhost") && error.contains("non-public"), "{error}");
        let open = PublicResolver { allow_private: true };
        let addrs: Vec<SocketAddr> = open.resolve("localhost".parse().unwrap()).await.unwrap().collect();
        assert!(addrs.iter().all(|a| a.ip().is_loopback()) && !addrs.is_empty(), "{addrs:?}");
    }
}
