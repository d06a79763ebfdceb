//! What a file is, judged from its bytes: the name may only agree with them. A file is
//! accepted when its bytes are one of the known types the site allows and its name's
//! extension (if it has one that means something) names the same type.

use crate::config::SiteAttachments;

/// Why a file was refused, in words a visitor can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("this kind of file cannot be sent here (allowed: {allowed})")]
    NotAllowed { allowed: String },
    #[error("the file's name says {named} but its content is {found}")]
    Mismatch { named: &'static str, found: &'static str },
    #[error("the file is empty")]
    Empty,
}

/// Extensions that name a type, and the type.
const EXTENSIONS: [(&str, &str); 10] = [
    ("png", "image/png"),
    ("jpg", "image/jpeg"),
    ("jpeg", "image/jpeg"),
    ("gif", "image/gif"),
    ("webp", "image/webp"),
    ("pdf", "application/pdf"),
    ("txt", "text/plain"),
    ("log", "text/plain"),
    ("md", "text/plain"),
    ("csv", "text/plain"),
];

/// The content type of `bytes`, when Baton knows it: images and PDF by their signatures,
/// plain text when the bytes are UTF-8 with no NUL. `None`: anything else.
pub fn sniff(bytes: &[u8]) -> Option<&'static str> {
    if let Some(kind) = infer::get(bytes) {
        return match kind.mime_type() {
            "image/png" => Some("image/png"),
            "image/jpeg" => Some("image/jpeg"),
            "image/gif" => Some("image/gif"),
            "image/webp" => Some("image/webp"),
            "application/pdf" => Some("application/pdf"),
            _ => None,
        };
    }
    (std::str::from_utf8(bytes).is_ok() && !bytes.contains(&0)).then_some("text/plain")
}

/// Bytes enough to recognise every known type from a file's start.
pub const SNIFF_BYTES: usize = 512;

/// [`sniff`] on a file's first bytes only (at most [`SNIFF_BYTES`]): a multi-byte character
/// cut at the end still counts as text.
pub fn sniff_prefix(head: &[u8]) -> Option<&'static str> {
    let head = &head[..head.len().min(SNIFF_BYTES)];
    match std::str::from_utf8(head) {
        Err(error) if error.error_len().is_none() && infer::get(head).is_none() && !head.contains(&0) => {
            Some("text/plain")
        }
        _ => sniff(head),
    }
}

/// The type named by the extension of `name`, if it is one of [`EXTENSIONS`].
fn named_type(name: &str) -> Option<&'static str> {
    let (_, ext) = name.rsplit_once('.')?;
    EXTENSIONS.iter().find(|(e, _)| e.eq_ignore_ascii_case(ext)).map(|(_, t)| *t)
}

/// The content type to keep `bytes` (named `name`) under, or why the site refuses it.
pub fn judge(name: &str, bytes: &[u8], policy: &SiteAttachments) -> Result<&'static str, Refusal> {
    if bytes.is_empty() {
        return Err(Refusal::Empty);
    }
    let not_allowed = || Refusal::NotAllowed { allowed: policy.types.join(", ") };
    let found = sniff(bytes).ok_or_else(not_allowed)?;
    match named_type(name) {
        Some(named) if named != found => return Err(Refusal::Mismatch { named, found }),
        // Text is accepted only by a text name (or none): `page.html` or `x.svg` is text too.
        None if found == "text/plain" && name.contains('.') => return Err(not_allowed()),
        _ => {}
    }
    if !policy.accepts(found) {
        return Err(not_allowed());
    }
    Ok(found)
}

/// A file name fit to show and to put in a header: no path, no control characters, at most
/// 120 characters; "file" when nothing is left.
pub fn clean_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let kept: String =
        base.chars().filter(|c| !c.is_control() && !matches!(c, '"' | '\u{202a}'..='\u{202e}')).take(120).collect();
    let kept = kept.trim().to_owned();
    if kept.is_empty() || kept.chars().all(|c| c == '.') { "file".to_owned() } else { kept }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
    const PDF: &[u8] = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n";

    #[test]
    fn types_come_from_the_bytes() {
        assert_eq!(sniff(PNG), Some("image/png"));
        assert_eq!(sniff(PDF), Some("application/pdf"));
        assert_eq!(sniff("plain words, é".as_bytes()), Some("text/plain"));
        assert_eq!(sniff(b"MZ\x90\0\x03\0\0\0"), None);
        let text = "é".repeat(400);
        assert_eq!(sniff_prefix(&text.as_bytes()[..SNIFF_BYTES - 1]), Some("text/plain"), "a character cut at the end");
        assert_eq!(sniff_prefix(PNG), Some("image/png"));
    }

    #[test]
    fn a_name_that_disagrees_with_the_bytes_is_refused() {
        let policy = SiteAttachments::default();
        assert_eq!(judge("shot.png", PNG, &policy), Ok("image/png"));
        assert_eq!(judge("notes.txt", b"hello", &policy), Ok("text/plain"));
        assert_eq!(judge("README", b"hello", &policy), Ok("text/plain"));
        assert!(matches!(judge("invoice.pdf", PNG, &policy), Err(Refusal::Mismatch { .. })));
        assert!(matches!(judge("tool.exe", b"MZ\x90\0\x03\0", &policy), Err(Refusal::NotAllowed { .. })));
        assert!(matches!(judge("page.html", b"<script>x</script>", &policy), Err(Refusal::NotAllowed { .. })));
        assert_eq!(judge("empty.txt", b"", &policy), Err(Refusal::Empty));
    }

    #[test]
    fn a_type_the_site_does_not_list_is_refused() {
        let policy = SiteAttachments { types: vec!["image/png".into()], ..SiteAttachments::default() };
        assert!(matches!(judge("doc.pdf", PDF, &policy), Err(Refusal::NotAllowed { .. })));
        assert_eq!(judge("a.png", PNG, &policy), Ok("image/png"));
    }

    #[test]
    fn names_lose_paths_and_control_characters() {
        assert_eq!(clean_name("../../etc/passwd"), "passwd");
        assert_eq!(clean_name("C:\\Users\\me\\photo.jpg"), "photo.jpg");
        assert_eq!(clean_name("a\u{0}b\"c\u{202e}.txt"), "abc.txt");
        assert_eq!(clean_name(".."), "file");
    }
}
