//! Resume-token hashes as map keys, kept small: the memory store holds one per conversation.

/// A resume token's hash as a map key. The server stores SHA-256 digests as 64 lowercase hex
/// characters: those are kept as their 32 bytes, inline. Any other string is kept as given, so
/// every string still names exactly one key.
#[derive(Debug, PartialEq, Eq, Hash)]
pub(super) enum TokenKey {
    Sha256([u8; 32]),
    Other(Box<str>),
}

impl TokenKey {
    pub(super) fn new(token_hash: &str) -> TokenKey {
        match sha256_hex(token_hash) {
            Some(digest) => TokenKey::Sha256(digest),
            None => TokenKey::Other(token_hash.into()),
        }
    }
}

/// The 32 bytes of a digest written as exactly 64 lowercase hex characters, else `None`.
fn sha256_hex(text: &str) -> Option<[u8; 32]> {
    fn nibble(c: u8) -> Option<u8> {
        match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            _ => None,
        }
    }
    let text = text.as_bytes();
    if text.len() != 64 {
        return None;
    }
    let mut digest = [0u8; 32];
    for (byte, pair) in digest.iter_mut().zip(text.chunks_exact(2)) {
        *byte = nibble(pair[0])? << 4 | nibble(pair[1])?;
    }
    Some(digest)
}

/// A token hash as the server writes one (SHA-256, lowercase hex).
#[cfg(test)]
pub(super) fn hex_digest(token: &str) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(token.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_digests_become_bytes_and_other_strings_stay_distinct() {
        let hex = hex_digest("a token");
        let TokenKey::Sha256(digest) = TokenKey::new(&hex) else { panic!("a digest is kept as bytes") };
        let again: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(again, hex);
        assert_eq!(TokenKey::new(&hex.to_uppercase()), TokenKey::Other(hex.to_uppercase().into()));
        assert_eq!(TokenKey::new(&hex[..62]), TokenKey::Other(hex[..62].into()));
        assert_eq!(TokenKey::new(&format!("{}g", &hex[..63])), TokenKey::Other(format!("{}g", &hex[..63]).into()));
        assert_eq!(TokenKey::new("hash-1"), TokenKey::Other("hash-1".into()));
    }
}
