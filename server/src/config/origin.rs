//! `allowed_origins` patterns: `https://shop.example`, `https://*.shop.example` (any
//! subdomain), `http://localhost:*` (any port), or `*` (any origin: for development only).

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OriginPattern {
    scheme: String,
    /// `None` = any host (the pattern `*`).
    host: Option<HostPattern>,
    /// `None` = any port, `Some(None)` = the scheme's default (no port written).
    port: Option<Option<u16>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum HostPattern {
    Exact(String),
    /// `*.example.com`: `example.com` itself does not match, `a.example.com` does.
    Subdomains(String),
}

impl OriginPattern {
    pub fn parse(pattern: &str) -> Result<OriginPattern, String> {
        if pattern == "*" {
            return Ok(OriginPattern { scheme: String::new(), host: None, port: None });
        }
        let (scheme, rest) = pattern
            .split_once("://")
            .ok_or_else(|| format!("{pattern:?} is not an origin like https://shop.example"))?;
        if scheme != "http" && scheme != "https" {
            return Err(format!("{pattern:?}: scheme must be http or https"));
        }
        let (host, port) = split_port(rest).map_err(|why| format!("{pattern:?}: {why}"))?;
        if host.is_empty() || host.contains('/') {
            return Err(format!("{pattern:?}: an origin has no path"));
        }
        let host = match host.strip_prefix("*.") {
            Some(parent) if !parent.contains('*') => HostPattern::Subdomains(parent.to_ascii_lowercase()),
            _ if host.contains('*') => return Err(format!("{pattern:?}: `*` may only stand for the leftmost label")),
            _ => HostPattern::Exact(host.to_ascii_lowercase()),
        };
        Ok(OriginPattern { scheme: scheme.to_owned(), host: Some(host), port })
    }

    /// `origin` is the browser's `Origin` header: `scheme://host[:port]`.
    pub fn matches(&self, origin: &str) -> bool {
        let Some(host_pattern) = &self.host else { return true };
        let Some((scheme, rest)) = origin.split_once("://") else { return false };
        let Ok((host, Some(port))) = split_port(rest) else {
            return false;
        };
        let host = host.to_ascii_lowercase();
        let host_ok = match host_pattern {
            HostPattern::Exact(exact) => host == *exact,
            HostPattern::Subdomains(parent) => host.len() > parent.len() + 1 && host.ends_with(&format!(".{parent}")),
        };
        let port_ok = match self.port {
            None => true,
            Some(port_pattern) => port_pattern == port,
        };
        scheme.eq_ignore_ascii_case(&self.scheme) && host_ok && port_ok
    }
}

/// Splits `host[:port]`. The port is `None` for `*`, `Some(None)` when absent.
fn split_port(rest: &str) -> Result<(&str, Option<Option<u16>>), String> {
    match rest.rsplit_once(':') {
        Some((host, "*")) => Ok((host, None)),
        Some((host, port)) if !host.ends_with(']') || rest.starts_with('[') => {
            let port = port.parse::<u16>().map_err(|_| format!("bad port {port:?}"))?;
            Ok((host, Some(Some(port))))
        }
        _ => Ok((rest, Some(None))),
    }
}

impl fmt::Display for OriginPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.host, self.port) {
            (None, _) => write!(f, "*"),
            (Some(HostPattern::Exact(h)), port) => write!(f, "{}://{h}{}", self.scheme, port_suffix(port)),
            (Some(HostPattern::Subdomains(h)), port) => write!(f, "{}://*.{h}{}", self.scheme, port_suffix(port)),
        }
    }
}

fn port_suffix(port: Option<Option<u16>>) -> String {
    match port {
        None => ":*".into(),
        Some(None) => String::new(),
        Some(Some(p)) => format!(":{p}"),
    }
}

#[cfg(test)]
mod tests {
    use super::OriginPattern;

    fn allows(pattern: &str, origin: &str) -> bool {
        OriginPattern::parse(pattern).unwrap().matches(origin)
    }

    #[test]
    fn any_port_pattern_matches_every_port_of_that_host_only() {
        assert!(allows("http://localhost:*", "http://localhost:5173"));
        assert!(allows("http://localhost:*", "http://localhost"));
        assert!(!allows("http://localhost:*", "https://localhost:5173"));
        assert!(!allows("http://localhost:*", "http://localhost.evil.example:80"));
    }

    #[test]
    fn subdomain_pattern_excludes_the_parent_and_lookalikes() {
        assert!(allows("https://*.shop.example", "https://help.shop.example"));
        assert!(!allows("https://*.shop.example", "https://shop.example"));
        assert!(!allows("https://*.shop.example", "https://evilshop.example"));
    }

    #[test]
    fn exact_pattern_requires_the_same_port() {
        assert!(allows("https://shop.example", "https://shop.example"));
        assert!(!allows("https://shop.example", "https://shop.example:8443"));
        assert!(allows("http://127.0.0.1:8080", "http://127.0.0.1:8080"));
    }

    #[test]
    fn malformed_patterns_are_rejected_with_a_reason() {
        for bad in
            ["shop.example", "ftp://shop.example", "https://shop.example/path", "https://a.*.example", "http://x:port"]
        {
            assert!(OriginPattern::parse(bad).is_err(), "{bad} should be rejected");
        }
    }

    #[test]
    fn star_allows_everything() {
        assert!(allows("*", "https://anything.example"));
    }
}
