//! The sentiment lexicons: one text file per language under `lexicon/`, parsed once.
//!
//! Lexicons are data, not code, so that a reviewer who speaks the language can correct
//! them without reading Rust, and so that the valences stay on VADER's familiar −4 … +4
//! scale. Entries are folded (see [`fold`]) when loaded, exactly as visitor text is, so a
//! file may be written with or without accents. A trailing `*` makes an entry a stem
//! (`frustr*` covers frustrated, frustrating, frustrante, frustriert), which is how a few
//! hundred entries cover the inflections of Romance, Germanic, Slavic and Baltic words.

use std::collections::HashMap;
use std::sync::LazyLock;

use super::language::Lang;
use super::text::fold;

/// What a lexicon entry does to the words around it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Entry {
    /// A sentiment word with its valence, −4 … +4.
    Valence(f32),
    /// Negates the sentiment words that follow it (within [`super::sentiment`]'s window).
    Negator,
    /// Strengthens the next sentiment word ("very", "muy", "很").
    Booster,
    /// Softens the next sentiment word ("a bit", "un peu").
    Damper,
    /// A contrast ("but"): what follows outweighs what came before.
    But,
}

/// One language's entries.
#[derive(Debug, Default)]
pub(crate) struct Lexicon {
    words: HashMap<String, Entry>,
    stems: HashMap<String, Entry>,
    suffixes: Vec<(String, Entry)>,
    /// Longest entry in characters, which bounds the scan inside Han runs.
    pub max_chars: usize,
}

/// Shortest stem that may match: shorter stems would catch unrelated words.
const MIN_STEM_CHARS: usize = 3;

impl Lexicon {
    /// Parses a lexicon file: `term value` per line, `#` comments, `_` joins phrase words.
    pub(crate) fn parse(source: &str) -> Lexicon {
        let mut lexicon = Lexicon::default();
        for line in source.lines().map(str::trim) {
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let Some((term, value)) = line.rsplit_once(char::is_whitespace) else {
                continue;
            };
            let Some(entry) = parse_entry(value) else {
                continue;
            };
            let term = fold(term.trim()).replace('_', " ");
            lexicon.max_chars = lexicon.max_chars.max(term.chars().count());
            if let Some(suffix) = term.strip_prefix('*') {
                lexicon.suffixes.push((suffix.to_string(), entry));
            } else if let Some(stem) = term.strip_suffix('*') {
                lexicon.stems.insert(stem.to_string(), entry);
            } else {
                lexicon.words.insert(term, entry);
            }
        }
        lexicon
    }

    /// The entry for a folded word or two-word phrase: exact, then longest stem, then suffix.
    pub(crate) fn get(&self, word: &str) -> Option<Entry> {
        if let Some(entry) = self.words.get(word) {
            return Some(*entry);
        }
        if !self.stems.is_empty() {
            let ends = word.char_indices().map(|(i, _)| i).skip(MIN_STEM_CHARS);
            let ends: Vec<usize> = ends.chain([word.len()]).collect();
            for end in ends.into_iter().rev() {
                if let Some(entry) = self.stems.get(&word[..end]) {
                    return Some(*entry);
                }
            }
        }
        let suffix = self.suffixes.iter().find(|(s, _)| word.ends_with(s.as_str()));
        suffix.map(|(_, entry)| *entry)
    }

    /// The entry for an exact string only (used for phrases and inside Han runs).
    pub(crate) fn get_exact(&self, term: &str) -> Option<Entry> {
        self.words.get(term).copied()
    }
}

fn parse_entry(value: &str) -> Option<Entry> {
    match value {
        "NEG" => Some(Entry::Negator),
        "BOOST" => Some(Entry::Booster),
        "DAMP" => Some(Entry::Damper),
        "BUT" => Some(Entry::But),
        number => number.parse().ok().map(Entry::Valence),
    }
}

/// Every language's lexicon, indexed like [`Lang::ALL`].
static LEXICONS: LazyLock<Vec<Lexicon>> =
    LazyLock::new(|| Lang::ALL.iter().map(|lang| Lexicon::parse(source(*lang))).collect());

/// Emoji and emoticons, valid in every language.
pub(crate) static EMOJI: LazyLock<Lexicon> = LazyLock::new(|| Lexicon::parse(include_str!("lexicon/emoji.txt")));

fn source(lang: Lang) -> &'static str {
    match lang {
        Lang::En | Lang::Unknown => include_str!("lexicon/sentiment_en.txt"),
        Lang::Es => include_str!("lexicon/sentiment_es.txt"),
        Lang::Fr => include_str!("lexicon/sentiment_fr.txt"),
        Lang::De => include_str!("lexicon/sentiment_de.txt"),
        Lang::Pt => include_str!("lexicon/sentiment_pt.txt"),
        Lang::It => include_str!("lexicon/sentiment_it.txt"),
        Lang::Nl => include_str!("lexicon/sentiment_nl.txt"),
        Lang::Ro => include_str!("lexicon/sentiment_ro.txt"),
        Lang::Pl => include_str!("lexicon/sentiment_pl.txt"),
        Lang::Lv => include_str!("lexicon/sentiment_lv.txt"),
        Lang::Bg => include_str!("lexicon/sentiment_bg.txt"),
        Lang::Zh => include_str!("lexicon/sentiment_zh.txt"),
    }
}

/// The lexicon of one language.
pub(crate) fn lexicon(lang: Lang) -> &'static Lexicon {
    let index = Lang::ALL.iter().position(|l| *l == lang).unwrap_or(0);
    &LEXICONS[index]
}

/// Looks a word up in the turn's language, then in English (which visitors mix into every
/// language: "top", "ok", "fail"), or in every language when the language is unknown.
pub(crate) fn lookup(lang: Lang, word: &str) -> Option<Entry> {
    match lang {
        Lang::Unknown => Lang::ALL.iter().find_map(|l| lexicon(*l).get(word)),
        Lang::En => lexicon(Lang::En).get(word),
        other => lexicon(other).get(word).or_else(|| lexicon(Lang::En).get(word)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_language_file_parses_into_a_useful_lexicon() {
        for lang in Lang::ALL {
            let lexicon = lexicon(lang);
            assert!(lexicon.words.len() + lexicon.stems.len() > 80, "{lang:?} is too small");
        }
    }

    #[test]
    fn stems_match_inflections_and_the_longest_stem_wins() {
        let lexicon = Lexicon::parse("frustr* -2\nfrustrat* -3\nbon 1\n*n't NEG");
        assert_eq!(lexicon.get("frustrante"), Some(Entry::Valence(-2.0)));
        assert_eq!(lexicon.get("frustrated"), Some(Entry::Valence(-3.0)));
        assert_eq!(lexicon.get("bonjour"), None);
        assert_eq!(lexicon.get("isn't"), Some(Entry::Negator));
    }

    #[test]
    fn entries_are_folded_like_visitor_text() {
        let lexicon = Lexicon::parse("Déçu -2.5\nun_peu DAMP");
        assert_eq!(lexicon.get("decu"), Some(Entry::Valence(-2.5)));
        assert_eq!(lexicon.get_exact("un peu"), Some(Entry::Damper));
    }
}
