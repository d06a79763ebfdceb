//! Masking personal data in text: emails, phone numbers, card numbers (Luhn-checked), IBANs
//! (ISO 7064 mod-97 checked) and national ID numbers (US SSN, UK National Insurance number,
//! Spanish DNI/NIE with its check letter), each replaced by a marker such as `[email]`.
//!
//! A site chooses what is masked (`[privacy] redact` in its file); the mask is applied to
//! text on its way to a model (the bot's prompt, the agent-assist prompts), to what the logs
//! print, and, when the site sets `[privacy] redact_archive`, to what the archive keeps. The
//! live chat itself is never masked: the visitor and the agent see what the visitor typed.
//!
//! Numbers are masked only when their check digits hold, so order numbers, dates, prices
//! and ids that merely look long are left alone.

use std::borrow::Cow;
use std::sync::LazyLock;

use regex::{Captures, Regex};
use serde::{Deserialize, Serialize};

/// One kind of personal data, as a site's `[privacy] redact` names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Email,
    Phone,
    Card,
    Iban,
    NationalId,
}

impl Kind {
    pub const ALL: [Kind; 5] = [Kind::Email, Kind::Phone, Kind::Card, Kind::Iban, Kind::NationalId];

    /// What replaces a match.
    pub fn marker(self) -> &'static str {
        match self {
            Kind::Email => "[email]",
            Kind::Phone => "[phone]",
            Kind::Card => "[card]",
            Kind::Iban => "[iban]",
            Kind::NationalId => "[national_id]",
        }
    }
}

// unwrap (all patterns below): constant patterns, covered by the tests.
static EMAIL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}").unwrap());
/// 13-19 digits, optionally grouped by single spaces or dashes.
static CARD: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\b\d(?:[ -]?\d){12,18}\b").unwrap());
/// Country code, check digits, then 11-30 letters or digits, optionally in groups of four.
static IBAN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b[A-Z]{2}\d{2}(?:[A-Z0-9]{11,30}|(?: [A-Z0-9]{4}){2,7}(?: [A-Z0-9]{1,4})?)\b").unwrap()
});
/// Dates, which the phone pattern would otherwise take (`2024-01-15 10`).
static DATE: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^(?:\d{4}-\d{2}-\d{2}|\d{2}[./]\d{2}[./]\d{4})").unwrap());
static SSN: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\b(\d{3})-(\d{2})-(\d{4})\b").unwrap());
static NINO: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)\b([A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z]) ?\d{2} ?\d{2} ?\d{2} ?[A-D]\b").unwrap());
static DNI: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"(?i)\b([XYZ]?)(\d{7,8})-?([A-Z])\b").unwrap());
/// An international (`+`), trunk-prefixed (`0`) or bracketed number, or one in groups.
static PHONE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?:\+\d{1,3}[ .-]?)?(?:\(\d{1,4}\)[ .-]?)?\d(?:[ .-]?\d){5,14}").unwrap());

/// What one site masks. Cheap to clone; built once per site.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Redactor {
    kinds: Vec<Kind>,
}

impl Redactor {
    pub fn new(kinds: &[Kind]) -> Redactor {
        // Order matters: each pass leaves markers the later passes cannot match, and the
        // checked kinds go before the phone pattern, which would take their digits.
        let kinds = [Kind::Email, Kind::Iban, Kind::Card, Kind::NationalId, Kind::Phone]
            .into_iter()
            .filter(|kind| kinds.contains(kind))
            .collect();
        Redactor { kinds }
    }

    pub fn is_empty(&self) -> bool {
        self.kinds.is_empty()
    }

    /// The text with every enabled kind masked (borrowed when nothing matched).
    pub fn mask<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let mut text = Cow::Borrowed(text);
        for kind in &self.kinds {
            let masked = mask_kind(*kind, &text);
            if let Cow::Owned(masked) = masked {
                text = Cow::Owned(masked);
            }
        }
        text
    }

    /// [`Self::mask`] into an owned string, in place.
    pub fn mask_in_place(&self, text: &mut String) {
        if let Cow::Owned(masked) = self.mask(text) {
            *text = masked;
        }
    }
}

fn mask_kind(kind: Kind, text: &str) -> Cow<'_, str> {
    match kind {
        Kind::Email => EMAIL.replace_all(text, Kind::Email.marker()),
        Kind::Card => checked(&CARD, text, Kind::Card, |m| luhn(&digits(m))),
        Kind::Iban => checked(&IBAN, text, Kind::Iban, iban_valid),
        Kind::Phone => checked(&PHONE, text, Kind::Phone, phone_like),
        Kind::NationalId => {
            let text = checked_caps(&SSN, text, ssn_valid);
            let text = match checked_caps(&NINO, &text, nino_valid) {
                Cow::Owned(masked) => Cow::Owned(masked),
                Cow::Borrowed(_) => text,
            };
            match checked_caps(&DNI, &text, dni_valid) {
                Cow::Owned(masked) => Cow::Owned(masked),
                Cow::Borrowed(_) => text,
            }
        }
    }
}

/// Replaces the matches of `pattern` that `valid` accepts. A pattern may run on into the
/// next group of digits (`4111 1111 1111 1111 2029`), so when a whole match fails, its
/// prefixes ending at a separator are tried, longest first.
fn checked<'a>(pattern: &Regex, text: &'a str, kind: Kind, valid: impl Fn(&str) -> bool) -> Cow<'a, str> {
    pattern.replace_all(text, |caps: &Captures| {
        let found = &caps[0];
        let ends = found.match_indices([' ', '-', '.']).map(|(at, _)| at).rev();
        match std::iter::once(found.len()).chain(ends).find(|&end| valid(&found[..end])) {
            Some(end) => format!("{}{}", kind.marker(), &found[end..]),
            None => found.to_owned(),
        }
    })
}

fn checked_caps<'a>(pattern: &Regex, text: &'a str, valid: impl Fn(&Captures) -> bool) -> Cow<'a, str> {
    pattern.replace_all(
        text,
        |caps: &Captures| {
            if valid(caps) { Kind::NationalId.marker().to_owned() } else { caps[0].to_owned() }
        },
    )
}

fn digits(text: &str) -> Vec<u32> {
    text.chars().filter_map(|c| c.to_digit(10)).collect()
}

/// The Luhn check (every card scheme's check digit).
pub fn luhn(digits: &[u32]) -> bool {
    if !(13..=19).contains(&digits.len()) {
        return false;
    }
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| if i % 2 == 1 { if d * 2 > 9 { d * 2 - 9 } else { d * 2 } } else { d })
        .sum();
    sum.is_multiple_of(10)
}

/// ISO 13616: the country and check digits moved to the end, letters as 10-35, mod 97 is 1.
pub fn iban_valid(text: &str) -> bool {
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_ascii_uppercase();
    if !(15..=34).contains(&compact.len()) || !compact[2..4].bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let (head, tail) = compact.split_at(4);
    let mut remainder: u64 = 0;
    for c in tail.chars().chain(head.chars()) {
        let value = match c.to_digit(36) {
            Some(value) => u64::from(value),
            None => return false,
        };
        let width = if value >= 10 { 100 } else { 10 };
        remainder = (remainder * width + value) % 97;
    }
    remainder == 1
}

/// US Social Security numbers never start 000, 666 or 9xx, and no group is all zeros.
fn ssn_valid(caps: &Captures) -> bool {
    let (area, group, serial) = (&caps[1], &caps[2], &caps[3]);
    area != "000" && area != "666" && !area.starts_with('9') && group != "00" && serial != "0000"
}

/// UK National Insurance numbers: these prefixes are never issued.
fn nino_valid(caps: &Captures) -> bool {
    let prefix = caps[1].to_ascii_uppercase();
    !["BG", "GB", "NK", "KN", "TN", "NT", "ZZ"].contains(&prefix.as_str())
}

/// Spanish DNI (8 digits) and NIE (X, Y or Z and 7 digits): the letter is the number mod 23.
fn dni_valid(caps: &Captures) -> bool {
    const LETTERS: &[u8] = b"TRWAGMYFPDXBNJZSQVHLCKE";
    let lead = match caps[1].to_ascii_uppercase().as_str() {
        "" => "",
        "X" => "0",
        "Y" => "1",
        _ => "2",
    };
    let number = &caps[2];
    if lead.is_empty() != (number.len() == 8) {
        return false;
    }
    let Ok(value) = format!("{lead}{number}").parse::<u64>() else { return false };
    let expected = LETTERS[(value % 23) as usize];
    caps[3].to_ascii_uppercase().as_bytes() == [expected]
}

/// A phone number: 8 to 15 digits written as people write phone numbers (international
/// `+`, a leading trunk `0`, brackets, or at least two groups), never a bare run of digits
/// such as an order number, nor a date.
fn phone_like(found: &str) -> bool {
    let count = found.chars().filter(char::is_ascii_digit).count();
    if !(8..=15).contains(&count) {
        return false;
    }
    let groups = found.split([' ', '.', '-']).filter(|g| !g.is_empty()).count();
    let international = found.starts_with('+') || found.starts_with('(');
    !DATE.is_match(found) && (international || found.starts_with('0') || groups >= 3 || (groups == 2 && count >= 10))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn only(kind: Kind) -> Redactor {
        Redactor::new(&[kind])
    }

    fn all() -> Redactor {
        Redactor::new(&Kind::ALL)
    }

    #[test]
    fn emails_are_masked_and_lookalikes_are_not() {
        let r = only(Kind::Email);
        assert_eq!(r.mask("write to Ana.Diaz+shop@mail.example.co.uk please"), "write to [email] please");
        assert_eq!(r.mask("me at a@b.io, thanks"), "me at [email], thanks");
        for kept in ["@home tonight", "user@localhost", "price 5@3 each", "see example.com"] {
            assert_eq!(r.mask(kept), kept);
        }
    }

    #[test]
    fn card_numbers_are_masked_only_when_the_luhn_check_holds() {
        let r = only(Kind::Card);
        assert_eq!(r.mask("card 4111 1111 1111 1111 exp 12/29"), "card [card] exp 12/29");
        assert_eq!(r.mask("5555-5555-5555-4444"), "[card]");
        assert_eq!(r.mask("amex 378282246310005."), "amex [card].");
        assert_eq!(r.mask("4111 1111 1111 1111 2029"), "[card] 2029");
        // One digit off: not a card number (an order or tracking number, say).
        for kept in ["4111 1111 1111 1112", "order 1234567890123", "id 12345678"] {
            assert_eq!(r.mask(kept), kept);
        }
    }

    #[test]
    fn ibans_are_masked_only_when_their_check_digits_hold() {
        let r = only(Kind::Iban);
        assert_eq!(r.mask("IBAN: DE89 3704 0044 0532 0130 00, ta"), "IBAN: [iban], ta");
        assert_eq!(r.mask("gb82west12345698765432"), "[iban]");
        assert_eq!(r.mask("FR1420041010050500013M02606"), "[iban]");
        assert_eq!(r.mask("to NL91 ABNA 0417 1643 00 then"), "to [iban] then");
        for kept in ["DE89 3704 0044 0532 0130 01", "SKU AB12CDEFGHIJKLM", "GB00WEST12345698765432"] {
            assert_eq!(r.mask(kept), kept);
        }
    }

    #[test]
    fn national_ids_are_masked_when_they_can_be_real() {
        let r = only(Kind::NationalId);
        assert_eq!(r.mask("SSN 123-45-6789"), "SSN [national_id]");
        assert_eq!(r.mask("my NI number is AB 12 34 56 C"), "my NI number is [national_id]");
        assert_eq!(r.mask("DNI 12345678Z, NIE X1234567L"), "DNI [national_id], NIE [national_id]");
        // Never-issued SSN areas and NINO prefixes, a wrong DNI letter, a date, a version.
        for kept in ["000-12-3456", "666-12-3456", "912-34-5678", "GB123456A", "12345678A", "2024-01-15", "v1.2.3"] {
            assert_eq!(r.mask(kept), kept);
        }
    }

    #[test]
    fn phone_numbers_are_masked_and_other_numbers_are_not() {
        let r = only(Kind::Phone);
        assert_eq!(r.mask("call +44 20 7946 0958 today"), "call [phone] today");
        assert_eq!(r.mask("(555) 123-4567"), "[phone]");
        assert_eq!(r.mask("mobile 0612345678"), "mobile [phone]");
        assert_eq!(r.mask("555.123.4567 or 555-123-4567"), "[phone] or [phone]");
        for kept in [
            "order 123456789",
            "on 2024-01-15 at 10:30",
            "15.01.2024",
            "it costs 1,299.00",
            "version 10.4.2",
            "12 items",
        ] {
            assert_eq!(r.mask(kept), kept);
        }
    }

    #[test]
    fn every_kind_together_and_only_the_kinds_a_site_chose() {
        let text =
            "I'm ana@x.com, +1 415 555 2671, card 4111111111111111, IBAN DE89370400440532013000, SSN 123-45-6789";
        assert_eq!(all().mask(text), "I'm [email], [phone], card [card], IBAN [iban], SSN [national_id]");
        let emails_only = only(Kind::Email).mask(text).into_owned();
        assert!(emails_only.contains("4111111111111111") && emails_only.starts_with("I'm [email]"));
        assert_eq!(Redactor::new(&[]).mask(text), text);
        assert!(matches!(all().mask("nothing personal here"), Cow::Borrowed(_)));
    }

    #[test]
    fn the_luhn_and_iban_checks_reject_wrong_lengths() {
        assert!(!luhn(&digits("0")));
        assert!(!luhn(&digits("00000000000000000000")));
        assert!(!iban_valid("DE89"));
    }
}
