//! Requests for a person in Russian, Turkish, Arabic, Hindi (Devanagari
//! and romanised) and Japanese: languages that have no sentiment lexicon yet, so they are
//! not among [`super::Lang`], but whose visitors must be able to ask for a person (their
//! language is found by [`super::detect_more`]).
//!
//! The grammar is a smaller cousin of `explicit`'s, fitted to verb-final word order and
//! to endings glued to the noun (`lexicon/explicit_more.txt`): a human word within five
//! words of a contact verb, either side ("mujhe kisi insaan se baat karni hai", "соедините
//! меня с оператором"), or within three of a verb of wanting ("мне нужен человек", "insaan
//! chahiye"), or a turn of only human words and politeness ("оператор!!", "موظف من فضلك");
//! a negation anywhere cancels it unless it refuses the bot ("человек, а не бот"); a time
//! in the past cancels a contact verb ("вчера говорил с менеджером"); a human word right
//! after "my" (or, in Turkish, with a possessive ending: "müdürüm") is the visitor's own.
//! Japanese has no spaces, so its terms are found inside the text.

use std::collections::HashMap;
use std::sync::LazyLock;

use super::text::fold;

/// Farthest a contact verb or a verb of wanting may be from the human word, in words.
const TALK_WINDOW: usize = 5;
const WANT_WINDOW: usize = 3;
/// Shortest stem that may match, in characters.
const MIN_STEM_CHARS: usize = 3;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    Human,
    Talk,
    Want,
    Neg,
    Past,
    Mine,
    Bot,
    Filler,
    /// Japanese politeness ("お願い", "ください"): a request only right after a human word.
    Please,
}

/// One language's word classes.
#[derive(Default)]
struct Section {
    words: HashMap<String, Class>,
    stems: Vec<(String, Class)>,
    /// Japanese: substrings, by class.
    substrings: Vec<(String, Class)>,
}

static SECTIONS: LazyLock<HashMap<String, Section>> = LazyLock::new(|| {
    let mut sections: HashMap<String, Section> = HashMap::new();
    let mut current: Option<String> = None;
    for line in include_str!("lexicon/explicit_more.txt").lines().map(str::trim) {
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            current = Some(name.to_string());
            continue;
        }
        let (Some(name), Some((class, terms))) = (current.as_ref(), line.split_once(':')) else {
            continue;
        };
        let Some(class) = parse_class(class.trim()) else {
            continue;
        };
        let section = sections.entry(name.clone()).or_default();
        for term in terms.split_whitespace() {
            let term = normalise(term).replace('_', " ");
            if name == "ja" {
                section.substrings.push((term, class));
            } else if let Some(stem) = term.strip_suffix('*') {
                section.stems.push((stem.to_string(), class));
            } else {
                section.words.insert(term, class);
            }
        }
    }
    for section in sections.values_mut() {
        section.stems.sort_by_key(|(s, _)| std::cmp::Reverse(s.chars().count()));
    }
    sections
});

fn parse_class(name: &str) -> Option<Class> {
    Some(match name {
        "human" => Class::Human,
        "talk" => Class::Talk,
        "want" => Class::Want,
        "neg" => Class::Neg,
        "past" => Class::Past,
        "mine" => Class::Mine,
        "bot" => Class::Bot,
        "filler" => Class::Filler,
        "please" => Class::Please,
        _ => return None,
    })
}

/// Folding plus what these languages need: Turkish dotless i and soft g, Arabic hamza
/// forms, ta marbuta, alef maqsura, tatweel and vowel marks.
fn normalise(text: &str) -> String {
    fold(text)
        .chars()
        .filter_map(|c| match c {
            'ı' => Some('i'),
            'ğ' => Some('g'),
            'أ' | 'إ' | 'آ' | 'ٱ' => Some('ا'),
            'ة' => Some('ه'),
            'ى' => Some('ي'),
            'ؤ' => Some('و'),
            'ئ' => Some('ي'),
            'ـ' | '\u{064B}'..='\u{065F}' | '\u{0670}' | '\u{200C}' | '\u{200D}' => None,
            c => Some(c),
        })
        .collect()
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric()
        || matches!(c, '\u{0900}'..='\u{097F}' | '\u{0610}'..='\u{061A}' | '\u{064B}'..='\u{065F}' | '\'')
}

pub(super) fn words(text: &str) -> Vec<String> {
    normalise(text).split(|c: char| !is_word_char(c)).filter(|w| !w.is_empty()).map(String::from).collect()
}

pub(super) fn has(text: &str, range: std::ops::RangeInclusive<char>) -> bool {
    text.chars().any(|c| range.contains(&c))
}

/// Whether a turn in `lang` (from [`super::detect_more::detect`]) asks for a person.
pub(crate) fn is_request(text: &str, lang: &str) -> bool {
    let kana_or_han = has(text, '\u{3040}'..='\u{30FF}') || has(text, '\u{4E00}'..='\u{9FFF}');
    if lang == "ja" && kana_or_han {
        return SECTIONS.get("ja").is_some_and(|s| japanese(s, text));
    }
    let section = if lang == "ja" { "ja-latn" } else { lang };
    let mut sections: Vec<&Section> = SECTIONS.get(section).into_iter().collect();
    if lang == "hi" {
        sections.extend(SECTIONS.get("hi-latn"));
    }
    let words = words(text);
    sections.into_iter().any(|section| grammar(&classes(section, lang, &words)))
}

/// Each word's class (None: any other word).
fn classes(section: &Section, lang: &str, words: &[String]) -> Vec<Option<Class>> {
    let mut out = Vec::with_capacity(words.len());
    let mut i = 0;
    while i < words.len() {
        if let Some(next) = words.get(i + 1)
            && let Some(class) = pair_class(section, lang, &words[i], next)
        {
            out.extend([Some(class), Some(class)]);
            i += 2;
            continue;
        }
        out.push(word_class(section, lang, &words[i]));
        i += 1;
    }
    out
}

/// The class of a two-word term ("müşteri hizmetleri", "خدمة العملاء"): a whole pair, or a
/// pair that starts with a two-word stem ("musteri hizmet*" for "musteri hizmetlerine"); in
/// Arabic also with the first word's clitic taken off ("لخدمة العملاء").
fn pair_class(section: &Section, lang: &str, first: &str, second: &str) -> Option<Class> {
    let mut firsts = vec![first];
    if lang == "ar" {
        firsts.extend(first.strip_prefix(['و', 'ف', 'ب', 'ل']));
    }
    firsts.into_iter().find_map(|first| {
        let pair = format!("{first} {second}");
        section.words.get(&pair).copied().or_else(|| {
            section
                .stems
                .iter()
                .find(|(stem, _)| stem.contains(' ') && pair.starts_with(stem.as_str()))
                .map(|(_, class)| *class)
        })
    })
}

fn word_class(section: &Section, lang: &str, word: &str) -> Option<Class> {
    let mut forms = vec![word.to_string()];
    if lang == "ar" {
        // Clitics glued in front: و "and", ف "so", ب "with", ل "to", then the article ال.
        let bare = word.strip_prefix(['و', 'ف', 'ب', 'ل']).unwrap_or(word);
        forms.push(bare.to_string());
        forms.extend(bare.strip_prefix("ال").map(String::from));
    }
    for form in &forms {
        if let Some(class) = section.words.get(form) {
            return Some(*class);
        }
        for (stem, class) in &section.stems {
            if form.chars().count() >= MIN_STEM_CHARS.max(stem.chars().count()) && form.starts_with(stem.as_str()) {
                // Turkish first-person possessive endings: "müdürüm" is my manager.
                let rest = &form[stem.len()..];
                if lang == "tr" && *class == Class::Human && ["m", "im", "um", "imiz", "umuz"].contains(&rest) {
                    return Some(Class::Mine);
                }
                return Some(*class);
            }
        }
    }
    None
}

fn grammar(classes: &[Option<Class>]) -> bool {
    let at = |c: Class| -> Vec<usize> { (0..classes.len()).filter(|i| classes[*i] == Some(c)).collect() };
    // A negation next to the bot (politeness and prepositions aside) refuses the bot, not
    // the person ("а не бот", "а не с ботом").
    let content = |c: &&Option<Class>| **c != Some(Class::Filler);
    let refuses_bot = |i: usize| {
        classes[..i].iter().rev().find(content) == Some(&Some(Class::Bot))
            || classes[i + 1..].iter().find(content) == Some(&Some(Class::Bot))
    };
    if at(Class::Neg).into_iter().any(|i| !refuses_bot(i)) {
        return false;
    }
    let mine = at(Class::Mine);
    let humans: Vec<usize> =
        at(Class::Human).into_iter().filter(|h| !mine.iter().any(|m| *m < *h && h - m <= 2 || *m == h + 1)).collect();
    if humans.is_empty() {
        return false;
    }
    let near = |others: &[usize], window: usize| humans.iter().any(|h| others.iter().any(|o| h.abs_diff(*o) <= window));
    let past = !at(Class::Past).is_empty();
    if (!past && near(&at(Class::Talk), TALK_WINDOW)) || near(&at(Class::Want), WANT_WINDOW) {
        return true;
    }
    let only = |c: &Option<Class>| matches!(c, Some(Class::Human | Class::Filler | Class::Bot | Class::Neg));
    mine.is_empty() && classes.iter().all(only)
}

fn japanese(section: &Section, text: &str) -> bool {
    let found = |class: Class| -> Vec<&str> {
        section
            .substrings
            .iter()
            .filter(|(t, c)| *c == class && text.contains(t.as_str()))
            .map(|(t, _)| t.as_str())
            .collect()
    };
    if !has(text, '\u{3040}'..='\u{30FF}') {
        return only_people(text, &found(Class::Human));
    }
    let bots = found(Class::Bot);
    let negated =
        found(Class::Neg).into_iter().any(|neg| !bots.iter().any(|bot| text.contains(&format!("{bot}{neg}"))));
    if negated || found(Class::Human).is_empty() {
        return false;
    }
    let past = !found(Class::Past).is_empty();
    let humans = found(Class::Human);
    (!past && !found(Class::Talk).is_empty())
        || !found(Class::Want).is_empty()
        || humans.iter().any(|h| asked_for(text, h, &found(Class::Please)))
        || only_people(text, &humans)
}

/// Particles that may stand between a person and the politeness that asks for them.
const JA_PARTICLES: &[&str] = &["を", "に", "さん", "の方", "、", " "];

/// "担当の方をお願いします", "オペレーターお願い": politeness right after the human word.
fn asked_for(text: &str, human: &str, please: &[&str]) -> bool {
    text.match_indices(human).any(|(at, _)| {
        let mut rest = &text[at + human.len()..];
        while let Some(next) = JA_PARTICLES.iter().find_map(|p| rest.strip_prefix(p)) {
            rest = next;
        }
        please.iter().any(|p| rest.starts_with(p))
    })
}

/// "担当者", "オペレーター！": nothing but words for a person and punctuation.
fn only_people(text: &str, humans: &[&str]) -> bool {
    let rest = humans.iter().fold(text.to_string(), |t, h| t.replace(h, ""));
    !humans.is_empty() && rest.chars().all(|c| !c.is_alphanumeric())
}

#[cfg(test)]
mod tests {
    use super::super::detect_more::{detect, request_language};
    use super::*;

    fn asks(text: &str) -> bool {
        request_language(text, detect(text)).is_some_and(|lang| is_request(text, lang))
    }

    #[test]
    fn a_refused_bot_behind_a_preposition_two_word_stems_and_arabic_clitics_on_pairs() {
        assert!(asks("хочу поговорить с человеком, а не с ботом"));
        assert!(asks("musteri hizmetlerine baglar misiniz"));
        assert!(asks("حولني لخدمة العملاء"));
        assert!(!asks("не хочу говорить с оператором"));
    }

    #[test]
    fn japanese_politeness_asks_for_the_person_it_follows_and_a_lone_word_for_a_person_asks() {
        for text in
            ["担当の方をお願いします", "オペレーターお願い", "担当者", "オペレーター呼んで", "operator to hanashitai"]
        {
            assert!(asks(text), "{text}");
        }
        assert!(!asks("スタッフの名前を教えてください"));
        assert!(!asks("人工智能客服"), "Han without kana is Japanese only when it is nothing but a person");
    }

    #[test]
    fn requests_are_found_and_reports_and_refusals_are_not() {
        for text in [
            "соедините с оператором",
            "insanla konuşmak istiyorum",
            "أريد التحدث مع مدير",
            "manager se baat karao",
            "人間と話したい",
            "мне нужен человек, а не бот",
        ] {
            assert!(asks(text), "{text}");
        }
        for text in [
            "вчера говорил с оператором",
            "müdürüm söyledi",
            "لا أحتاج موظف",
            "agent ki zaroorat nahi",
            "担当者は不要です",
        ] {
            assert!(!asks(text), "{text}");
        }
    }
}
