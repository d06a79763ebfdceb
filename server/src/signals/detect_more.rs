//! The language of a turn among Russian, Turkish, Arabic, Hindi (Devanagari and romanised)
//! and Japanese, the five without a sentiment lexicon (so not among [`super::Lang`]): the
//! reported `language` signal, which notices follow, and the request rules
//! [`super::explicit_more`] reads the turn with.

use super::explicit_more::{has, words};

/// Function words that point at a language written in Latin letters.
const TURKISH: &[&str] = &[
    "bir",
    "ile",
    "icin",
    "lutfen",
    "istiyorum",
    "misiniz",
    "miyim",
    "misin",
    "yok",
    "degil",
    "benim",
    "beni",
    "bana",
    "gerek",
    "lazim",
    "musteri",
    "hemen",
    "tesekkurler",
    "tesekkur",
    "kac",
    "cok",
    "iyi",
    "nasil",
    "nerede",
    "neden",
    "merhaba",
    "siparis",
    "siparisim",
    "urun",
    "kargo",
    "iade",
    "sorun",
    "degil",
];
/// Romanised Hindi words; two different ones make a turn Hindi. Not "se", "ho" or "ki",
/// which Spanish, Portuguese and Italian write all the time ("no se si", "ho fatto").
const HINGLISH: &[&str] = &[
    "hai", "hain", "mujhe", "ko", "kya", "nahi", "nahin", "karo", "karni", "kar", "baat", "hoon", "kisi", "koi",
    "bhai", "chahiye", "maine", "thi", "bulao", "karao", "gaya", "kitne", "log", "sakte", "sakta", "zaroorat",
];
const JAPANESE_LATIN: &[&str] =
    &["hanashitai", "hanasitai", "onegai", "onegaishimasu", "kudasai", "tantousha", "tantosha", "tsunaide"];
const RUSSIAN_LATIN: &[&str] = &["pozhaluysta", "hochu", "soedinite", "menya", "mne", "pogovorit", "operatorom"];
const ARABIC_LATIN: &[&str] =
    &["abgha", "ureed", "akallim", "akalim", "akalem", "atahadath", "mowazaf", "muwazaf", "shakhs", "fadlak", "samaht"];
const RUSSIAN_ONLY: &[&str] =
    &["что", "меня", "мне", "хочу", "можно", "пожалуйста", "это", "нужен", "нужно", "вы", "уже", "сколько", "мой"];
/// Frequent Bulgarian words that Russian does not write so ("това", "съм", "искам"):
/// with `ъ` and `ѝ`, what keeps a Cyrillic turn Bulgarian.
const BULGARIAN_ONLY: &[&str] = &[
    "е",
    "че",
    "аз",
    "вие",
    "моля",
    "благодаря",
    "здравейте",
    "искам",
    "мога",
    "защо",
    "кога",
    "къде",
    "вече",
    "нищо",
    "съм",
    "това",
    "този",
    "тази",
    "ме",
    "ми",
    "добре",
    "всичко",
    "може",
    "ще",
    "няма",
    "какво",
    "свържете",
    "човек",
    "има",
    "някой",
    "колко",
    "струва",
    "моят",
    "говоря",
    "говорих",
    "беше",
    "ти",
    "си",
    "иска",
    "когото",
    "истински",
];

/// The language of a turn among these five, if it is one of them: `ja`, `ar`, `hi`, `ru`
/// or `tr`. Scripts decide first (kana, Arabic, Devanagari; Cyrillic is Russian unless it
/// has a Bulgarian-only letter or word and no Russian-only one: Russian is by far the more
/// common, and "соедините с оператором" has nothing that only Russian uses), then
/// distinctive words.
pub(crate) fn detect(text: &str) -> Option<&'static str> {
    if has(text, '\u{3040}'..='\u{30FF}') {
        return Some("ja");
    }
    if has(text, '\u{0600}'..='\u{06FF}') {
        return Some("ar");
    }
    if has(text, '\u{0900}'..='\u{097F}') {
        return Some("hi");
    }
    let words = words(text);
    let count = |list: &[&str]| words.iter().filter(|w| list.contains(&w.as_str())).count();
    let distinct = |list: &[&str]| list.iter().filter(|w| words.iter().any(|x| x == *w)).count();
    let lower = text.to_lowercase();
    if has(&lower, 'а'..='я') || lower.contains('ё') {
        let letters = |set: &[char]| lower.chars().filter(|c| set.contains(c)).count();
        let russian = letters(&['ы', 'э', 'ё']) + count(RUSSIAN_ONLY);
        let bulgarian = letters(&['ъ', 'ѝ']) + count(BULGARIAN_ONLY);
        return (russian >= bulgarian).then_some("ru");
    }
    if lower.contains(['ı', 'ğ']) || count(TURKISH) >= 1 {
        return Some("tr");
    }
    if distinct(HINGLISH) >= 2 {
        return Some("hi");
    }
    if count(JAPANESE_LATIN) >= 1 {
        return Some("ja");
    }
    if count(RUSSIAN_LATIN) >= 1 {
        return Some("ru");
    }
    if count(ARABIC_LATIN) >= 1 {
        return Some("ar");
    }
    None
}

/// Which of these languages' request words to try: the detected one, or Russian for any
/// other Cyrillic turn (Bulgarian keeps its own rules in `explicit`), or Japanese for Han
/// without kana, where only a turn that is nothing but a Japanese word for a person
/// ("担当者") counts: Chinese keeps its own rules.
pub(crate) fn request_language(text: &str, detected: Option<&'static str>) -> Option<&'static str> {
    detected
        .or_else(|| has(&text.to_lowercase(), 'а'..='я').then_some("ru"))
        .or_else(|| has(text, '\u{4E00}'..='\u{9FFF}').then_some("ja"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_language_is_recognised_by_script_or_words() {
        let cases = [
            ("オペレーターと話したい", "ja"),
            ("أريد موظف", "ar"),
            ("मुझे एजेंट चाहिए", "hi"),
            ("mujhe agent se baat karni hai", "hi"),
            ("хочу оператора", "ru"),
            ("canlı destek lütfen", "tr"),
        ];
        for (text, lang) in cases {
            assert_eq!(detect(text), Some(lang), "{text}");
        }
        assert_eq!(detect("Това е ужасно"), None, "Bulgarian stays Bulgarian");
        assert_eq!(detect("Соедините с оператором"), Some("ru"), "Cyrillic without Bulgarian is Russian");
        assert_eq!(detect("I want to talk to a human"), None);
        assert_eq!(detect("no se si llorar, no se que me pasa"), None, "Spanish 'se' is not Hindi");
        assert_eq!(detect("se lo dici tu ho capito"), None, "Italian 'se' and 'ho' are not Hindi");
        assert_eq!(detect("mujhe agent chahiye"), Some("hi"));
    }

    #[test]
    fn no_bulgarian_line_of_the_request_sets_is_read_as_russian() {
        let sets = [
            include_str!("testdata/explicit_requests.tsv"),
            include_str!("testdata/explicit_requests_holdout_v1.tsv"),
            include_str!("testdata/explicit_requests_holdout_v2.tsv"),
        ];
        let bulgarian = sets.iter().flat_map(|s| s.lines()).filter_map(|l| l.strip_prefix("bg\t"));
        // Nothing in these tells the two apart; Russian is the likelier reading.
        let either = ["оператор!!"];
        for text in bulgarian.map(|l| l.split_once('\t').map_or(l, |(_, t)| t)).filter(|t| !either.contains(t)) {
            assert_eq!(detect(text), None, "{text}");
        }
    }
}
