//! Marker phrases: "as I said" in a visitor turn, "I'm sorry, I can't" in a bot turn.
//!
//! Phrases live in `lexicon/markers.txt` and go through the same tokeniser as the turn,
//! then both are joined into one space-separated string, so a phrase matches on whole
//! words ("again" does not match "against") whatever the punctuation, accents or
//! capitals. Chinese phrases match inside the text, which has no spaces to respect.

use std::collections::HashMap;
use std::sync::LazyLock;

use super::language::Lang;
use super::text::{Kind, Tokens, tokenize};

/// The kinds of marker in `markers.txt`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Marker {
    /// The visitor says they are asking again.
    Repeat,
    /// A bot reply admits it could not help.
    Declined,
}

static MARKERS: LazyLock<HashMap<(Marker, Lang), Vec<String>>> =
    LazyLock::new(|| parse(include_str!("lexicon/markers.txt")));

fn parse(source: &str) -> HashMap<(Marker, Lang), Vec<String>> {
    let mut all: HashMap<(Marker, Lang), Vec<String>> = HashMap::new();
    let mut section = None;
    for line in source.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(header) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = parse_header(header);
            continue;
        }
        if let Some(key) = section {
            all.entry(key).or_default().push(joined(&tokenize(line)));
        }
    }
    all
}

fn parse_header(header: &str) -> Option<(Marker, Lang)> {
    let (kind, code) = header.split_once(' ')?;
    let marker = match kind {
        "repeat" => Marker::Repeat,
        "declined" => Marker::Declined,
        _ => return None,
    };
    Some((marker, Lang::from_code(code)?))
}

/// The turn's words, folded, between single spaces and padded with one at each end.
pub(crate) fn joined(tokens: &Tokens) -> String {
    let mut out = String::from(" ");
    for token in tokens.tokens.iter().filter(|t| t.kind != Kind::Symbol) {
        out.push_str(&token.text);
        out.push(' ');
    }
    out
}

/// True when the joined turn contains a marker of this kind, in its language or English
/// (every language when the language is unknown).
pub(crate) fn has(marker: Marker, lang: Lang, joined: &str) -> bool {
    let languages: &[Lang] = match lang {
        Lang::Unknown => &Lang::ALL,
        Lang::En => &[Lang::En],
        other => &[other, Lang::En],
    };
    languages.iter().any(|l| {
        let phrases = MARKERS.get(&(marker, *l)).map(Vec::as_slice).unwrap_or_default();
        phrases.iter().any(|phrase| {
            if *l == Lang::Zh { joined.contains(phrase.trim()) } else { joined.contains(phrase.as_str()) }
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn marked(marker: Marker, lang: Lang, text: &str) -> bool {
        has(marker, lang, &joined(&tokenize(text)))
    }

    #[test]
    fn markers_match_whole_words_whatever_the_punctuation() {
        assert!(marked(Marker::Repeat, Lang::En, "As I SAID, the order number is 42!"));
        assert!(!marked(Marker::Repeat, Lang::En, "is it against the rules?"));
        assert!(marked(Marker::Repeat, Lang::Fr, "Je répète : où est mon colis ?"));
        assert!(marked(Marker::Repeat, Lang::Zh, "我已经问过了，快递在哪里"));
    }

    #[test]
    fn a_bot_that_apologises_for_not_knowing_is_declining() {
        assert!(marked(Marker::Declined, Lang::En, "I'm sorry, I don't know that."));
        assert!(marked(Marker::Declined, Lang::De, "Leider habe ich dazu nichts."));
        assert!(!marked(Marker::Declined, Lang::En, "Your order ships tomorrow."));
    }

    #[test]
    fn every_language_has_repeat_and_declined_markers() {
        for lang in Lang::ALL {
            assert!(MARKERS.contains_key(&(Marker::Repeat, lang)), "{lang:?}");
            assert!(MARKERS.contains_key(&(Marker::Declined, lang)), "{lang:?}");
        }
    }
}
