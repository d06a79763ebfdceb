//! Which language a turn is written in, among the ones Baton has lexicons for.
//!
//! A general identifier (trigram models over 70 languages) would spend most of its time
//! telling apart languages we have no lexicon for, and still needs a fallback when it
//! names one. Ours only chooses among [`Lang::ALL`]: script first (Han is Chinese,
//! Cyrillic is Bulgarian), then votes from frequent function words
//! (`lexicon/languages.txt`) and from letters that only some of the languages use
//! (ñ, ã, ß, ș, ł, ā, …). It costs one hash look-up per word. A turn with no evidence
//! (for example "ok" or "operator!!") is [`Lang::Unknown`], and the signals then consult
//! every lexicon.

use std::collections::HashMap;
use std::sync::LazyLock;

use super::text::{Kind, Tokens, is_han};

/// A language with lexicons, or `Unknown`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lang {
    En,
    Es,
    Fr,
    De,
    Pt,
    It,
    Nl,
    Ro,
    Pl,
    Lv,
    Bg,
    Zh,
    Unknown,
}

impl Lang {
    /// Every language with lexicons, in the order ties are broken (earlier wins).
    pub const ALL: [Lang; 12] = [
        Lang::En,
        Lang::Es,
        Lang::Fr,
        Lang::De,
        Lang::Pt,
        Lang::It,
        Lang::Nl,
        Lang::Ro,
        Lang::Pl,
        Lang::Lv,
        Lang::Bg,
        Lang::Zh,
    ];

    /// ISO 639-1 code, or `und` (undetermined, as in BCP 47).
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Es => "es",
            Lang::Fr => "fr",
            Lang::De => "de",
            Lang::Pt => "pt",
            Lang::It => "it",
            Lang::Nl => "nl",
            Lang::Ro => "ro",
            Lang::Pl => "pl",
            Lang::Lv => "lv",
            Lang::Bg => "bg",
            Lang::Zh => "zh",
            Lang::Unknown => "und",
        }
    }

    /// The language for an ISO 639-1 code, as written in lexicon files.
    pub fn from_code(code: &str) -> Option<Lang> {
        Lang::ALL.into_iter().find(|l| l.code() == code)
    }

    fn index(self) -> usize {
        Lang::ALL.iter().position(|l| *l == self).unwrap_or(0)
    }
}

/// Function word → bit set of the languages that use it (bit i = `Lang::ALL[i]`).
static FUNCTION_WORDS: LazyLock<HashMap<String, u16>> = LazyLock::new(|| {
    let mut words: HashMap<String, u16> = HashMap::new();
    for line in include_str!("lexicon/languages.txt").lines() {
        let Some((code, list)) = line.split_once(':') else {
            continue;
        };
        let Some(lang) = Lang::from_code(code.trim()) else {
            continue;
        };
        for word in list.split_whitespace() {
            *words.entry(word.to_string()).or_default() |= 1 << lang.index();
        }
    }
    words
});

/// True for a frequent function word of any supported language ("the", "de", "und").
pub(crate) fn is_function_word(folded: &str) -> bool {
    FUNCTION_WORDS.contains_key(folded)
}

/// Letters (lower case, before folding) that point at some languages, with a weight.
fn letter_votes(c: char) -> &'static [(Lang, f32)] {
    use Lang::*;
    match c {
        'ñ' | '¿' | '¡' => &[(Es, 2.0)],
        'ã' | 'õ' => &[(Pt, 2.0)],
        'ç' => &[(Fr, 0.7), (Pt, 0.7)],
        'ê' => &[(Fr, 0.7), (Pt, 0.7)],
        'è' | 'à' | 'ù' => &[(Fr, 0.6), (It, 0.6)],
        'ò' | 'ì' => &[(It, 1.5)],
        'œ' | 'ë' | 'ï' | 'û' => &[(Fr, 1.5)],
        'ß' | 'ä' | 'ö' | 'ü' => &[(De, 1.5)],
        'ă' | 'ș' | 'ț' | 'ş' | 'ţ' => &[(Ro, 2.0)],
        'â' | 'î' => &[(Ro, 1.0), (Fr, 0.3)],
        'ą' | 'ę' | 'ł' | 'ń' | 'ś' | 'ź' | 'ż' | 'ć' => &[(Pl, 2.0)],
        'ā' | 'ē' | 'ī' | 'ū' | 'ķ' | 'ļ' | 'ņ' | 'ģ' => &[(Lv, 2.0)],
        'š' | 'ž' | 'č' => &[(Lv, 1.0)],
        'а'..='я' | 'ѝ' => &[(Bg, 1.0)],
        _ => &[],
    }
}

/// Detects the language of a turn from its raw text and its tokens.
pub(crate) fn detect(raw: &str, tokens: &Tokens) -> Lang {
    best(&votes(raw, tokens))
}

/// Share of the best vote from which a language is still a plausible reading.
const CANDIDATE_SHARE: f32 = 0.5;

/// The languages the turn may be in, most likely first: those whose vote is at least
/// half the best one (every language when there is no evidence). Short turns are often
/// ambiguous ("me transfere para um atendente" has as many Spanish as Portuguese
/// function words), and a signal that consults all plausible lexicons does not depend on
/// the detector winning a coin toss.
pub(crate) fn candidates(raw: &str, tokens: &Tokens) -> Vec<Lang> {
    let votes = votes(raw, tokens);
    let top = votes.iter().copied().fold(0.0, f32::max);
    if top == 0.0 {
        return Lang::ALL.to_vec();
    }
    let mut ranked: Vec<(Lang, f32)> =
        Lang::ALL.into_iter().zip(votes).filter(|(_, v)| *v >= top * CANDIDATE_SHARE).collect();
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
    ranked.into_iter().map(|(lang, _)| lang).collect()
}

fn votes(raw: &str, tokens: &Tokens) -> [f32; 12] {
    let mut votes = [0.0f32; 12];
    if tokens.tokens.iter().any(|t| t.kind == Kind::Han) && raw.chars().any(is_han) {
        votes[Lang::Zh.index()] = 1.0;
        return votes;
    }
    for c in raw.chars().flat_map(char::to_lowercase) {
        for (lang, weight) in letter_votes(c) {
            votes[lang.index()] += weight;
        }
    }
    for token in tokens.tokens.iter().filter(|t| t.kind == Kind::Word) {
        let mask = FUNCTION_WORDS.get(&token.text).copied().unwrap_or(0);
        for (i, vote) in votes.iter_mut().enumerate() {
            if mask & (1 << i) != 0 {
                *vote += 1.0;
            }
        }
    }
    votes
}

fn best(votes: &[f32; 12]) -> Lang {
    let mut best = Lang::Unknown;
    let mut best_vote = 0.0;
    for (lang, vote) in Lang::ALL.iter().zip(votes) {
        if *vote > best_vote {
            best = *lang;
            best_vote = *vote;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::super::text::tokenize;
    use super::*;

    fn lang(text: &str) -> &'static str {
        detect(text, &tokenize(text)).code()
    }

    #[test]
    fn each_supported_language_is_recognised_from_a_support_sentence() {
        let cases = [
            ("en", "I still have not received my order and nobody helps me"),
            ("es", "Todavía no he recibido mi pedido y nadie me ayuda"),
            ("fr", "Je n'ai toujours pas reçu ma commande et personne ne m'aide"),
            ("de", "Ich habe meine Bestellung immer noch nicht erhalten"),
            ("pt", "Ainda não recebi o meu pedido e ninguém me ajuda"),
            ("it", "Non ho ancora ricevuto il mio ordine e nessuno mi aiuta"),
            ("nl", "Ik heb mijn bestelling nog steeds niet ontvangen"),
            ("ro", "Încă nu am primit comanda și nimeni nu mă ajută"),
            ("pl", "Nadal nie otrzymałem zamówienia i nikt mi nie pomaga"),
            ("lv", "Es joprojām neesmu saņēmis savu pasūtījumu"),
            ("bg", "Все още не съм получил поръчката си"),
            ("zh", "我还没有收到我的订单"),
        ];
        for (code, text) in cases {
            assert_eq!(lang(text), code, "{text}");
        }
    }

    #[test]
    fn an_ambiguous_turn_keeps_every_plausible_language() {
        let text = "me transfere para um atendente";
        let plausible = candidates(text, &tokenize(text));
        assert!(plausible.contains(&Lang::Pt) && plausible.contains(&Lang::Es), "{plausible:?}");
        let text = "I still have not received my order";
        assert_eq!(candidates(text, &tokenize(text)), [Lang::En]);
    }

    #[test]
    fn a_turn_without_evidence_is_undetermined() {
        assert_eq!(lang("operator!!"), "und");
        assert_eq!(lang("42"), "und");
    }
}
