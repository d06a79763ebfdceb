//! Lowercase hexadecimal, as tokens, digests and signatures are written (one pair of digits
//! per byte).

/// `bytes` as lowercase hex.
pub fn encode(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The bytes `text` spells in hex (either case); `None` when it is not hex of whole bytes.
pub fn decode(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len()).step_by(2).map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_round_trip_and_anything_else_is_refused() {
        assert_eq!(encode(&[0, 15, 171, 255]), "000fabff");
        assert_eq!(decode("000fABff"), Some(vec![0, 15, 171, 255]));
        for bad in ["abc", "zz", "é1"] {
            assert_eq!(decode(bad), None, "{bad}");
        }
    }
}
