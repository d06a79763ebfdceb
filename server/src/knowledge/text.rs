//! Text normalisation and tokenising, shared by passages and queries.
//!
//! Whatever is done to a passage must be done to a query in exactly the same way, or
//! nothing matches; so both go through one [`Analyzer`]. Per word it:
//!
//! 1. folds compatibility forms (full-width "Ｒｅｔｕｒｎ", ligatures) and strips accents, so
//!    "remboursé" and "rembourse" (visitors often skip accents) are one word;
//! 2. lowercases;
//! 3. drops stopwords and single letters (see [`super::stopwords`]);
//! 4. stems with the Snowball stemmer of the base's language ("returns", "returned" and
//!    "returning" all become "return").
//!
//! Accents are stripped *before* stemming, so an accented and an unaccented spelling reach
//! the stemmer identically; the stemmer is slightly less precise on unaccented words, and
//! that is the price of matching visitors who type without accents.
//!
//! Chinese, Japanese and Korean runs have no spaces between words, so they are indexed as
//! overlapping character bigrams plus single characters: "人工客服" gives 人工, 工客, 客服 and
//! 人, 工, 客, 服, which matches "客服" in a passage without a word segmenter. CJK characters
//! are never decomposed (that would strip the voicing marks of Japanese kana).

use std::collections::HashSet;

use rust_stemmers::{Algorithm, Stemmer};
use unicode_normalization::char::{decompose_compatible, is_combining_mark};

use super::stopwords;

/// Languages that need no stemmer: their text is CJK, indexed as character bigrams.
const UNSTEMMED_LANGUAGES: [&str; 3] = ["zh", "ja", "ko"];

/// Turns text into index terms; see the module docs for the steps.
pub(crate) struct Analyzer {
    stemmer: Option<Stemmer>,
    stopwords: HashSet<String>,
    cjk_particles: HashSet<char>,
}

/// What kind of character run a character belongs to.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Class {
    Word,
    Cjk,
    Separator,
}

impl Analyzer {
    /// An analyser for an ISO 639-1 language code ("en"; a region as in "pt-BR" is
    /// ignored). A language without a Snowball stemmer is still analysed (normalised, CJK
    /// bigrams), only without stemming and stopwords.
    pub(crate) fn new(language: &str) -> Analyzer {
        let language = language.trim().to_ascii_lowercase();
        let language = language.split(['-', '_']).next().unwrap_or_default();
        let stemmer = algorithm(language).map(Stemmer::create);
        if stemmer.is_none() && !UNSTEMMED_LANGUAGES.contains(&language) {
            tracing::warn!(%language, "No stemmer for this knowledge-base language; words are matched unstemmed");
        }
        let stopwords = stopwords::for_language(language).split_whitespace().map(normalise).collect();
        let cjk_particles = stopwords::CJK_PARTICLES.chars().filter(|c| is_cjk(*c)).collect();
        Analyzer { stemmer, stopwords, cjk_particles }
    }

    /// The terms of `text`, in order, with repeats.
    pub(crate) fn terms(&self, text: &str) -> Vec<String> {
        let text = normalise(text);
        let mut terms = Vec::new();
        let (mut start, mut run_class) = (0, Class::Separator);
        for (i, c) in text.char_indices() {
            let class = classify(c);
            if class != run_class {
                self.flush(&text[start..i], run_class, &mut terms);
                (start, run_class) = (i, class);
            }
        }
        self.flush(&text[start..], run_class, &mut terms);
        terms
    }

    fn flush(&self, run: &str, class: Class, terms: &mut Vec<String>) {
        match class {
            Class::Word => self.push_word(run, terms),
            Class::Cjk => self.push_cjk(run, terms),
            Class::Separator => {}
        }
    }

    fn push_word(&self, word: &str, terms: &mut Vec<String>) {
        let mut chars = word.chars();
        let single = chars.next().is_some() && chars.next().is_none();
        let is_number = word.chars().all(|c| c.is_ascii_digit());
        if (single && !is_number) || self.stopwords.contains(word) {
            return;
        }
        match &self.stemmer {
            Some(stemmer) => terms.push(stemmer.stem(word).into_owned()),
            None => terms.push(word.to_owned()),
        }
    }

    fn push_cjk(&self, run: &str, terms: &mut Vec<String>) {
        let chars: Vec<char> = run.chars().collect();
        for &c in &chars {
            if chars.len() == 1 || !self.cjk_particles.contains(&c) {
                terms.push(c.to_string());
            }
        }
        for pair in chars.windows(2) {
            terms.push(pair.iter().collect());
        }
    }
}

/// The Snowball algorithm for an ISO 639-1 code.
fn algorithm(language: &str) -> Option<Algorithm> {
    Some(match language {
        "ar" => Algorithm::Arabic,
        "da" => Algorithm::Danish,
        "nl" => Algorithm::Dutch,
        "en" => Algorithm::English,
        "fi" => Algorithm::Finnish,
        "fr" => Algorithm::French,
        "de" => Algorithm::German,
        "el" => Algorithm::Greek,
        "hu" => Algorithm::Hungarian,
        "it" => Algorithm::Italian,
        "no" | "nb" | "nn" => Algorithm::Norwegian,
        "pt" => Algorithm::Portuguese,
        "ro" => Algorithm::Romanian,
        "ru" => Algorithm::Russian,
        "es" => Algorithm::Spanish,
        "sv" => Algorithm::Swedish,
        "ta" => Algorithm::Tamil,
        "tr" => Algorithm::Turkish,
        _ => return None,
    })
}

/// `text` folded to compatibility forms, without accents, lowercased. CJK characters pass
/// through untouched.
fn normalise(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if is_cjk(c) {
            out.push(c);
            continue;
        }
        decompose_compatible(c, |d| {
            if !is_combining_mark(d) {
                out.extend(d.to_lowercase());
            }
        });
    }
    out
}

fn classify(c: char) -> Class {
    if is_cjk(c) {
        Class::Cjk
    } else if c.is_alphanumeric() {
        Class::Word
    } else {
        Class::Separator
    }
}

/// Han ideographs, kana and Hangul syllables: the scripts written without spaces.
fn is_cjk(c: char) -> bool {
    matches!(c,
        '\u{3040}'..='\u{30FF}'     // hiragana, katakana
        | '\u{31F0}'..='\u{31FF}'   // katakana phonetic extensions
        | '\u{3400}'..='\u{4DBF}'   // CJK extension A
        | '\u{4E00}'..='\u{9FFF}'   // CJK unified ideographs
        | '\u{AC00}'..='\u{D7AF}'   // Hangul syllables
        | '\u{F900}'..='\u{FAFF}'   // CJK compatibility ideographs
        | '\u{20000}'..='\u{3134F}' // CJK extensions B to G
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms(language: &str, text: &str) -> Vec<String> {
        Analyzer::new(language).terms(text)
    }

    #[test]
    fn english_words_are_lowercased_stemmed_and_stripped_of_stopwords() {
        assert_eq!(terms("en", "How do I RETURN the items I ordered?"), ["return", "item", "order"]);
    }

    #[test]
    fn inflections_share_a_stem() {
        assert_eq!(terms("en", "returns returned returning"), ["return", "return", "return"]);
    }

    #[test]
    fn accents_do_not_matter() {
        assert_eq!(terms("fr", "remboursé"), terms("fr", "rembourse"));
        assert_eq!(terms("fr", "Téléphone"), terms("fr", "telephone"));
    }

    #[test]
    fn full_width_letters_are_folded() {
        assert_eq!(terms("en", "Ｒｅｔｕｒｎ"), ["return"]);
    }

    #[test]
    fn apostrophes_split_french_elisions() {
        assert_eq!(terms("fr", "l'article"), terms("fr", "article"));
    }

    #[test]
    fn numbers_are_kept_and_single_letters_dropped() {
        assert_eq!(terms("en", "a 30-day window, 5 x"), ["30", "day", "window", "5"]);
    }

    #[test]
    fn chinese_runs_become_unigrams_and_bigrams() {
        let terms = terms("en", "人工客服");
        for expected in ["人", "工", "客", "服", "人工", "工客", "客服"] {
            assert!(terms.iter().any(|t| t == expected), "{expected} missing from {terms:?}");
        }
        assert_eq!(terms.len(), 7);
    }

    #[test]
    fn cjk_particles_are_dropped_only_as_unigrams() {
        let terms = terms("en", "我的订单");
        assert!(!terms.iter().any(|t| t == "我" || t == "的"));
        assert!(terms.iter().any(|t| t == "我的") && terms.iter().any(|t| t == "订单"));
    }

    #[test]
    fn japanese_kana_keep_their_voicing_marks() {
        let terms = terms("en", "が");
        assert_eq!(terms, ["が"]);
    }

    #[test]
    fn mixed_scripts_split_at_the_boundary() {
        assert_eq!(terms("en", "iPhone充电"), ["iphon", "充", "电", "充电"]);
    }

    #[test]
    fn a_region_in_the_language_code_is_ignored() {
        assert_eq!(terms("EN-us", "returns"), ["return"]);
        assert_eq!(terms("pt_BR", "devoluções"), terms("pt", "devolucoes"));
    }

    #[test]
    fn an_unknown_language_still_tokenises() {
        assert_eq!(terms("xx", "Hello, World"), ["hello", "world"]);
    }

    #[test]
    fn only_stopwords_give_no_terms() {
        assert!(terms("en", "what is it, and how?").is_empty());
    }
}
