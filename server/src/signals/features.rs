//! Hashed n-gram features of a turn, shared by the learned sentiment model at run time and
//! by its trainer (`examples/train_signals`), so the two can never disagree.
//!
//! A turn becomes a sparse vector: folded words, word pairs, character 2–5-grams of each
//! word with its boundaries ("<merci>"), Han characters and pairs, emoji and emoticons,
//! each hashed (FNV-1a, one namespace byte per kind) into [`BUCKETS`] slots, the vector
//! scaled to unit length; then [`DENSE`] dense features carry the lexicon's VADER score
//! (its value, positive and negative parts) and punctuation. Character n-grams are what
//! let 1,839 tweets per language cover inflections, typos and missing accents; the
//! lexicon score is what the model falls back on for words it has never seen.

use super::language::Lang;
use super::text::{Kind, Tokens};

/// Hash slots for the sparse features. 2^16 keeps the shipped model under 200 KB (one
/// signed byte per slot and class); doubling it gained less than 0.005 macro-F1 in
/// cross-validation on the training split.
pub const BUCKETS: usize = 1 << 16;
/// Dense features after the hashed ones: lexicon score, its positive and negative parts,
/// exclamation marks, question marks, a shouted word, the lexicon score per language, and
/// the AFINN score ([`super::afinn`]) with its positive and negative parts.
pub const DENSE: usize = 6 + LEXICON_LANGS.len() + 3;
/// The lexicon score is also given per detected language, since the lexicons are not
/// equally good (English's is VADER-sized, others a few hundred words).
const LEXICON_LANGS: [Lang; 7] = [Lang::En, Lang::Fr, Lang::De, Lang::It, Lang::Pt, Lang::Es, Lang::Unknown];
/// Smallest and largest character n-gram.
const CHAR_MIN: usize = 2;
const CHAR_MAX: usize = 5;

/// A sparse feature vector: (index, value) pairs; indices below [`BUCKETS`] are hashed,
/// `BUCKETS..BUCKETS + DENSE` are the dense ones. Indices may repeat (hash collisions
/// add up, as they would in a dense vector).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SparseFeatures {
    pub entries: Vec<(u32, f32)>,
}

/// Features of a tokenised turn whose hand-lexicon score is `lexicon` and AFINN score `afinn`.
pub(crate) fn extract(lang: Lang, tokens: &Tokens, lexicon: f32, afinn: f32) -> SparseFeatures {
    let mut hashes: Vec<u32> = Vec::with_capacity(tokens.tokens.len() * 16);
    let mut grams: Vec<u32> = Vec::with_capacity(tokens.tokens.len() * 16);
    let mut previous: Option<&str> = None;
    for token in &tokens.tokens {
        match token.kind {
            Kind::Word => {
                let word = normalise(&token.text);
                hashes.push(hash(b'w', &[word.as_bytes()]));
                if let Some(p) = previous {
                    hashes.push(hash(b'b', &[p.as_bytes(), b" ", word.as_bytes()]));
                }
                char_grams(word, &mut grams);
                previous = Some(word);
            }
            Kind::Han => {
                let chars: Vec<char> = token.text.chars().collect();
                for (i, c) in chars.iter().enumerate() {
                    let mut buffer = [0u8; 8];
                    hashes.push(hash(b'h', &[c.encode_utf8(&mut buffer).as_bytes()]));
                    if let Some(next) = chars.get(i + 1) {
                        let pair: String = [*c, *next].iter().collect();
                        hashes.push(hash(b'h', &[pair.as_bytes()]));
                    }
                }
                previous = None;
            }
            Kind::Symbol => {
                hashes.push(hash(b's', &[token.text.as_bytes()]));
                previous = None;
            }
        }
    }
    // One unit-length vector over words and n-grams alike (scaling each group to unit
    // length on its own was 0.008 worse in cross-validation).
    hashes.append(&mut grams);
    let mut entries: Vec<(u32, f32)> = Vec::with_capacity(hashes.len() + DENSE);
    if !hashes.is_empty() {
        let value = 1.0 / (hashes.len() as f32).sqrt();
        entries.extend(hashes.iter().map(|h| (h % BUCKETS as u32, value)));
    }
    let mut dense = [0.0; DENSE];
    dense[..6].copy_from_slice(&[
        lexicon,
        lexicon.max(0.0),
        (-lexicon).max(0.0),
        tokens.exclamations.min(3) as f32 / 3.0,
        tokens.questions.min(3) as f32 / 3.0,
        if tokens.mixed_case && tokens.tokens.iter().any(|t| t.caps) { 1.0 } else { 0.0 },
    ]);
    if let Some(i) = LEXICON_LANGS.iter().position(|l| *l == lang) {
        dense[6 + i] = lexicon;
    }
    let after = 6 + LEXICON_LANGS.len();
    dense[after..].copy_from_slice(&[afinn, afinn.max(0.0), (-afinn).max(0.0)]);
    entries.extend(dense.iter().enumerate().filter(|(_, v)| **v != 0.0).map(|(i, v)| ((BUCKETS + i) as u32, *v)));
    SparseFeatures { entries }
}

/// One key for links, handles and numbers, whose exact text says nothing about mood.
fn normalise(word: &str) -> &str {
    if word.starts_with("http") || word.starts_with("www") {
        "<url>"
    } else if word.chars().all(|c| c.is_ascii_digit()) {
        "<num>"
    } else {
        word
    }
}

fn char_grams(word: &str, out: &mut Vec<u32>) {
    let padded: Vec<char> = std::iter::once('<').chain(word.chars()).chain(std::iter::once('>')).collect();
    if padded.len() > 24 {
        return; // a run of letters this long is a link or keyboard mash
    }
    let mut buffer = String::new();
    for n in CHAR_MIN..=CHAR_MAX {
        for window in padded.windows(n) {
            buffer.clear();
            buffer.extend(window);
            out.push(hash(b'c', &[buffer.as_bytes()]));
        }
    }
}

/// FNV-1a over a namespace byte and the parts, in order.
fn hash(namespace: u8, parts: &[&[u8]]) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for byte in std::iter::once(&namespace).chain(parts.iter().flat_map(|p| p.iter())) {
        h ^= u32::from(*byte);
        h = h.wrapping_mul(0x0100_0193);
    }
    h
}

/// Turns literal `\uXXXX` escapes (as left in some tweet dumps: `i\u2019m`) into their
/// characters, so such text tokenises like the rest.
pub(crate) fn unescape(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.contains("\\u") {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("\\u") {
        out.push_str(&rest[..at]);
        let code = rest.get(at + 2..at + 6).and_then(|h| u32::from_str_radix(h, 16).ok()).and_then(char::from_u32);
        match code {
            Some(c) => {
                out.push(c);
                rest = &rest[at + 6..];
            }
            None => {
                out.push_str("\\u");
                rest = &rest[at + 2..];
            }
        }
    }
    out.push_str(rest);
    std::borrow::Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::super::text::tokenize;
    use super::*;

    #[test]
    fn features_are_unit_length_and_dense_ones_sit_after_the_buckets() {
        let f = extract(Lang::Fr, &tokenize("Merci beaucoup !"), 0.5, 0.25);
        let norm: f32 = f.entries.iter().filter(|(i, _)| (*i as usize) < BUCKETS).map(|(_, v)| v * v).sum();
        assert!((norm - 1.0).abs() < 1e-4, "{norm}");
        assert!(f.entries.contains(&(BUCKETS as u32, 0.5)));
    }

    #[test]
    fn escaped_apostrophes_are_decoded() {
        assert_eq!(unescape("i\\u2019m ok\\u002c"), "i’m ok,");
        assert_eq!(unescape("a \\user"), "a \\user");
        assert_eq!(unescape("bad \\u12"), "bad \\u12");
    }
}
