//! The `Baton-Signature` header: `t=UNIX_SECONDS,v1=HEX`, HEX being the lowercase hex
//! HMAC-SHA256 of `"{t}.{body}"` keyed by the subscription's secret. A receiver recomputes
//! it over the raw body, compares in constant time, and refuses an old `t` (replays).
//!
//! While a rotated-out secret's overlap lasts, the header carries one `v1=` per secret, the
//! new one first (`t=…,v1=NEW,v1=OLD`, as Stripe does): a receiver accepts the delivery
//! when any `v1` matches the secret it holds.

use hmac::{Hmac, Mac};
use sha2::Sha256;

pub const HEADER: &str = "Baton-Signature";

fn mac(secret: &str, t: i64, body: &[u8]) -> Hmac<Sha256> {
    // unwrap: HMAC takes a key of any length.
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key");
    mac.update(format!("{t}.").as_bytes());
    mac.update(body);
    mac
}

/// The header's value for `body` sent at `t` (Unix seconds).
pub fn sign(secret: &str, t: i64, body: &[u8]) -> String {
    sign_with(&[secret], t, body)
}

/// The header's value with one `v1=` per secret, in their order.
pub fn sign_with(secrets: &[&str], t: i64, body: &[u8]) -> String {
    let mut header = format!("t={t}");
    for secret in secrets {
        let digest = mac(secret, t, body).finalize().into_bytes();
        header.push_str(&format!(",v1={}", crate::hex::encode(&digest)));
    }
    header
}

/// Whether `header` signs `body` under `secret` (any of its `v1`s), made within
/// `tolerance_secs` of `now`.
pub fn verify(secret: &str, header: &str, body: &[u8], now: i64, tolerance_secs: i64) -> bool {
    let mut t = None;
    let mut v1s = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", value)) => t = value.parse::<i64>().ok(),
            Some(("v1", value)) => v1s.extend(crate::hex::decode(value)),
            _ => {}
        }
    }
    let Some(t) = t else { return false };
    (now - t).abs() <= tolerance_secs && v1s.iter().any(|v1| mac(secret, t, body).verify_slice(v1).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_verifies_only_with_its_secret_body_and_a_recent_time() {
        let body = br#"{"id":"evt_1","type":"message.created"}"#;
        let header = sign("whsec_k", 1_764_000_000, body);
        assert!(header.starts_with("t=1764000000,v1="), "{header}");
        assert_eq!(header.len(), "t=1764000000,v1=".len() + 64);
        assert!(verify("whsec_k", &header, body, 1_764_000_100, 300));
        assert!(!verify("whsec_other", &header, body, 1_764_000_100, 300));
        assert!(!verify("whsec_k", &header, b"{}", 1_764_000_100, 300));
        assert!(!verify("whsec_k", &header, body, 1_764_001_000, 300), "too old");
        assert!(!verify("whsec_k", "t=1764000000", body, 1_764_000_000, 300));
        assert!(!verify("whsec_k", "v1=zz,t=1764000000", body, 1_764_000_000, 300));
    }

    #[test]
    fn during_a_rotation_either_secret_verifies_and_a_third_does_not() {
        let body = br#"{"id":"evt_2"}"#;
        let header = sign_with(&["whsec_new", "whsec_old"], 1_764_000_000, body);
        assert_eq!(header.matches(",v1=").count(), 2, "{header}");
        assert!(header.starts_with(&sign("whsec_new", 1_764_000_000, body)), "the new one first: {header}");
        assert!(verify("whsec_new", &header, body, 1_764_000_000, 300));
        assert!(verify("whsec_old", &header, body, 1_764_000_000, 300));
        assert!(!verify("whsec_other", &header, body, 1_764_000_000, 300));
    }

    #[test]
    fn the_signature_is_the_hmac_of_time_dot_body() {
        // Computed independently: printf '1.{}' | openssl dgst -sha256 -hmac s
        let expected = "t=1,v1=b253639bcd705ed1cda3073f66104f16988bd40272584dea7d0d345ae93e61cc";
        assert_eq!(sign("s", 1, b"{}"), expected);
    }
}
