//! Text normalisation and tokenisation shared by every signal.
//!
//! Visitors type fast: without accents ("tres decu"), in capitals when angry, with emoji
//! and emoticons. Every lexicon entry and every visitor token goes through the same
//! [`fold`], so "DÉÇU", "déçu" and "decu" meet in one key, and a lexicon author never
//! has to list spellings. Casing is kept only as a flag on the token, because VADER's
//! finding that a word in capitals among lower-case words is shouted still holds.

/// What kind of thing a token is; each signal looks only at the kinds it understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Letters and digits of an alphabetic script, folded.
    Word,
    /// A run of Han characters (Chinese has no spaces; signals scan inside the run).
    Han,
    /// One emoji, or one emoticon such as `:(` or `<3`, kept verbatim.
    Symbol,
}

/// One token of a turn.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Token {
    pub kind: Kind,
    /// Lower-cased, diacritics removed (for words); verbatim otherwise.
    pub text: String,
    /// The word was written in capitals (two letters or more).
    pub caps: bool,
}

/// A tokenised turn plus the punctuation counts that sentiment needs.
#[derive(Debug, Clone, Default)]
pub(crate) struct Tokens {
    pub tokens: Vec<Token>,
    pub exclamations: u32,
    pub questions: u32,
    /// Some letters are lower case: capitals then mark emphasis, not a caps-lock habit.
    pub mixed_case: bool,
}

/// Emoticons recognised as whole whitespace-separated chunks (ASCII faces).
const EMOTICONS: &[&str] = &[
    ":)", ":-)", ":d", ":-d", ";)", ";-)", ":p", ":-p", "xd", "<3", ":]", "=)", "(:", "^^", ":(", ":-(", ":'(", ":/",
    ":-/", ":|", ":s", ">:(", "d:", "):", ":@", "</3", "-_-",
];

/// Lower-cases and strips Latin diacritics; other scripts are only lower-cased.
pub(crate) fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        for lower in c.to_lowercase() {
            push_folded(lower, &mut out);
        }
    }
    out
}

fn push_folded(c: char, out: &mut String) {
    let base = match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' | 'ă' | 'ą' => 'a',
        'ç' | 'ć' | 'č' => 'c',
        'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ę' | 'ė' | 'ě' => 'e',
        'ì' | 'í' | 'î' | 'ï' | 'ī' | 'į' => 'i',
        'ñ' | 'ń' | 'ņ' | 'ň' => 'n',
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' | 'ő' => 'o',
        'ù' | 'ú' | 'û' | 'ü' | 'ū' | 'ů' | 'ű' | 'ų' => 'u',
        'ý' | 'ÿ' => 'y',
        'ś' | 'š' | 'ș' | 'ş' => 's',
        'ț' | 'ţ' => 't',
        'ź' | 'ż' | 'ž' => 'z',
        'ł' | 'ļ' => 'l',
        'ķ' => 'k',
        'ģ' => 'g',
        'ř' => 'r',
        'đ' | 'ď' => 'd',
        'ß' => return out.push_str("ss"),
        'œ' => return out.push_str("oe"),
        'æ' => return out.push_str("ae"),
        '’' | '‘' | '`' | '´' => '\'',
        other => other,
    };
    out.push(base);
}

/// Han ideographs (CJK unified, extension A, compatibility).
pub(crate) fn is_han(c: char) -> bool {
    matches!(c, '\u{4E00}'..='\u{9FFF}' | '\u{3400}'..='\u{4DBF}' | '\u{F900}'..='\u{FAFF}')
}

/// Pictographs, dingbats and other symbols people use as emoji.
pub(crate) fn is_emoji(c: char) -> bool {
    matches!(c, '\u{1F300}'..='\u{1FAFF}' | '\u{2600}'..='\u{27BF}' | '\u{2B50}')
}

fn is_word_char(c: char) -> bool {
    (c.is_alphanumeric() && !is_han(c)) || is_inner_mark(c) || c == '\'' || c == '’'
}

/// Vowel signs, viramas and vowel marks written inside a word, which are not alphanumeric
/// in Unicode's sense but must not split it: Devanagari (not its dandas) and Arabic.
fn is_inner_mark(c: char) -> bool {
    matches!(c, '\u{0900}'..='\u{0963}' | '\u{0966}'..='\u{097F}' | '\u{064B}'..='\u{065F}' | '\u{0670}')
}

/// Splits a turn into tokens and counts its `!` and `?`.
pub(crate) fn tokenize(text: &str) -> Tokens {
    let mut out = Tokens::default();
    for chunk in text.split_whitespace() {
        let lower = chunk.to_lowercase();
        if EMOTICONS.contains(&lower.as_str()) {
            out.tokens.push(Token { kind: Kind::Symbol, text: lower, caps: false });
            continue;
        }
        split_chunk(chunk, &mut out);
    }
    out
}

fn split_chunk(chunk: &str, out: &mut Tokens) {
    let mut word = String::new();
    let mut han = String::new();
    for c in chunk.chars() {
        if is_han(c) {
            flush_word(&mut word, out);
            han.push(c);
            continue;
        }
        flush_han(&mut han, out);
        if is_word_char(c) {
            word.push(c);
            if c.is_lowercase() {
                out.mixed_case = true;
            }
            continue;
        }
        flush_word(&mut word, out);
        match c {
            '!' | '！' => out.exclamations += 1,
            '?' | '？' => out.questions += 1,
            c if is_emoji(c) => out.tokens.push(Token { kind: Kind::Symbol, text: c.to_string(), caps: false }),
            _ => {}
        }
    }
    flush_word(&mut word, out);
    flush_han(&mut han, out);
}

fn flush_han(han: &mut String, out: &mut Tokens) {
    if !han.is_empty() {
        let text = std::mem::take(han);
        out.tokens.push(Token { kind: Kind::Han, text, caps: false });
    }
}

/// Emits a word; an elided article or negation ("l'agent", "n'est") becomes its own token.
fn flush_word(word: &mut String, out: &mut Tokens) {
    if word.is_empty() {
        return;
    }
    let raw = std::mem::take(word);
    let caps = raw.chars().filter(|c| c.is_alphabetic()).count() >= 2 && !raw.chars().any(char::is_lowercase);
    let folded = fold(raw.trim_matches('\''));
    let mut push = |text: String| {
        if !text.is_empty() {
            out.tokens.push(Token { kind: Kind::Word, text, caps });
        }
    };
    match folded.split_once('\'') {
        Some((head, tail)) if head.chars().count() <= 3 && !tail.is_empty() && tail != "t" => {
            push(format!("{head}'"));
            push(tail.to_string());
        }
        _ => push(folded),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<String> {
        tokenize(text).tokens.into_iter().map(|t| t.text).collect()
    }

    #[test]
    fn folding_removes_accents_and_case_in_every_latin_language() {
        assert_eq!(fold("DÉÇU Straße łódź ŠĶĒRSLIS țară"), "decu strasse lodz skerslis tara");
    }

    #[test]
    fn cyrillic_is_lower_cased_but_kept() {
        assert_eq!(fold("ЛОШО"), "лошо");
    }

    #[test]
    fn french_elisions_split_but_english_contractions_stay_whole() {
        assert_eq!(words("l'agent n'est pas"), ["l'", "agent", "n'", "est", "pas"]);
        assert_eq!(words("I don't like it"), ["i", "don't", "like", "it"]);
    }

    #[test]
    fn emoji_emoticons_and_han_runs_are_their_own_tokens() {
        let t = tokenize("great :( 😡转人工!!");
        let kinds: Vec<Kind> = t.tokens.iter().map(|t| t.kind).collect();
        assert_eq!(kinds, [Kind::Word, Kind::Symbol, Kind::Symbol, Kind::Han]);
        assert_eq!(t.exclamations, 2);
    }

    #[test]
    fn shouted_words_are_flagged_only_when_written_in_capitals() {
        let t = tokenize("this is TERRIBLE I said");
        let caps: Vec<bool> = t.tokens.iter().map(|t| t.caps).collect();
        assert_eq!(caps, [false, false, true, false, false]);
        assert!(t.mixed_case);
    }
}
