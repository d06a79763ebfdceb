//! Cutting long sections into passages of bounded size.
//!
//! A passage is what the bot puts in its prompt, so its size must be bounded whatever an
//! owner writes under one heading. Cuts fall at the largest boundary that works: between
//! paragraphs, else between lines, else between words; only a single "word" longer than the
//! bound (a pasted URL or blob) is cut mid-way.

/// A section longer than this many characters is cut into several passages at paragraph,
/// then line, then word boundaries. About 350 tokens of English: small enough that a few
/// passages fit in a prompt, large enough to hold a whole answer.
pub const MAX_PASSAGE_CHARS: usize = 1500;

/// The trimmed section body cut into pieces of at most [`MAX_PASSAGE_CHARS`]; none if empty.
pub(crate) fn chunks(body: &str) -> Vec<String> {
    let mut out = Vec::new();
    split_bounded(body.trim(), &["\n\n", "\n", " "], &mut out);
    out
}

/// Packs `text`'s pieces, split at the first separator, greedily into chunks no longer than
/// the bound; a piece that alone is too long is split at the next separator.
fn split_bounded(text: &str, separators: &[&str], out: &mut Vec<String>) {
    let length = |s: &str| s.chars().count();
    if length(text) <= MAX_PASSAGE_CHARS {
        if !text.trim().is_empty() {
            out.push(text.trim().to_owned());
        }
        return;
    }
    let Some((separator, finer)) = separators.split_first() else {
        let chars: Vec<char> = text.chars().collect();
        out.extend(chars.chunks(MAX_PASSAGE_CHARS).map(|c| c.iter().collect::<String>()));
        return;
    };
    let mut current = String::new();
    for piece in text.split(separator).map(|p| p.trim_matches('\n')).filter(|p| !p.trim().is_empty()) {
        if !current.is_empty() && length(&current) + separator.len() + length(piece) <= MAX_PASSAGE_CHARS {
            current.push_str(separator);
            current.push_str(piece);
            continue;
        }
        split_bounded(&std::mem::take(&mut current), &[], out);
        if length(piece) <= MAX_PASSAGE_CHARS {
            current = piece.to_owned();
        } else {
            split_bounded(piece, finer, out);
        }
    }
    split_bounded(&current, &[], out);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_bounded(chunks: &[String]) {
        for chunk in chunks {
            assert!(chunk.chars().count() <= MAX_PASSAGE_CHARS, "{} chars", chunk.len());
        }
    }

    #[test]
    fn a_short_section_is_one_trimmed_chunk() {
        assert_eq!(chunks("\n  Text.\n\n"), ["Text."]);
        assert!(chunks(" \n ").is_empty());
    }

    #[test]
    fn long_sections_are_cut_between_paragraphs_and_lose_no_text() {
        let paragraph = "word ".repeat(100);
        let body = vec![paragraph.trim(); 40].join("\n\n");
        let chunks = chunks(&body);
        assert!(chunks.len() > 1);
        assert_bounded(&chunks);
        assert!(chunks.iter().all(|c| c.starts_with("word") && c.ends_with("word")));
        let words: usize = chunks.iter().map(|c| c.matches("word").count()).sum();
        assert_eq!(words, 4000);
    }

    #[test]
    fn one_long_line_is_cut_between_words_then_anywhere() {
        let words = "abc ".repeat(MAX_PASSAGE_CHARS);
        let blob = "é".repeat(MAX_PASSAGE_CHARS * 2 + 10);
        for text in [words.as_str(), blob.as_str()] {
            let chunks = chunks(text);
            assert_bounded(&chunks);
            let kept: String = chunks.concat().split_whitespace().collect();
            assert_eq!(kept, text.split_whitespace().collect::<String>());
        }
    }
}
