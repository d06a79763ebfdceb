//! Did the visitor ask for a person?
//!
//! A list of phrases ("talk to a human") misses most of the ways people say it, and a
//! bag of words ("agent", "person") fires on "your agent already called me". What works
//! is a little grammar over word classes (`lexicon/explicit.txt`, one section per
//! language): a request is a word for a human (`human`) tied to a verb of contact
//! (`talk`: within five words, either side, so both "talk to an agent" and "is there
//! someone I can talk to" count) or following a verb of wanting (`want`: within three
//! words, "I need a human"), or a turn made only of such words and politeness ("agent
//! please", "operator!!", "人工客服"). A negation or "already" right before the verb or
//! the human word cancels it ("no need for a human", "不用转人工了"), and words that
//! contain a human word without meaning one are listed as `other` ("personal",
//! "人工智能"). Chinese runs are cut into these words by longest match.

use std::collections::HashMap;
use std::sync::LazyLock;

use super::language::Lang;
use super::text::{Kind, Tokens, fold};

/// Farthest a contact verb may be from the human word, in words.
const TALK_WINDOW: usize = 5;
/// Farthest a human word may follow a verb of wanting, in words.
const WANT_WINDOW: usize = 3;
/// How many words before a verb or human word a negation reaches.
const NEGATION_REACH: usize = 3;

/// The role a word plays in a request for a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    Human,
    Someone,
    Talk,
    Help,
    Want,
    Filler,
    Neg,
    Other,
}

impl Class {
    fn parse(name: &str) -> Option<Class> {
        match name {
            "human" => Some(Class::Human),
            "someone" => Some(Class::Someone),
            "talk" => Some(Class::Talk),
            "help" => Some(Class::Help),
            "want" => Some(Class::Want),
            "filler" => Some(Class::Filler),
            "neg" => Some(Class::Neg),
            "other" => Some(Class::Other),
            _ => None,
        }
    }
}

/// One language's words, and the longest term in characters (for Han runs).
#[derive(Debug, Default)]
struct Words {
    terms: HashMap<String, Class>,
    max_chars: usize,
}

static WORDS: LazyLock<HashMap<Lang, Words>> = LazyLock::new(|| parse(include_str!("lexicon/explicit.txt")));

fn parse(source: &str) -> HashMap<Lang, Words> {
    let mut all: HashMap<Lang, Words> = HashMap::new();
    let mut current = Lang::Unknown;
    for line in source.lines().map(str::trim) {
        if let Some(code) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            current = Lang::from_code(code).unwrap_or(Lang::Unknown);
            continue;
        }
        let Some((name, terms)) = line.split_once(':') else {
            continue;
        };
        let Some(class) = Class::parse(name.trim()) else {
            continue;
        };
        let words = all.entry(current).or_default();
        for term in terms.split_whitespace() {
            let term = fold(term).replace('_', " ");
            words.max_chars = words.max_chars.max(term.chars().count());
            words.terms.insert(term, class);
        }
    }
    all
}

/// The class of a word or two-word term in the first of the turn's plausible languages
/// that knows it, then in English (which visitors mix into every language).
fn class_of(langs: &[Lang], term: &str) -> Option<Class> {
    let find = |l: &Lang| WORDS.get(l).and_then(|w| w.terms.get(term)).copied();
    langs.iter().find_map(find).or_else(|| find(&Lang::En))
}

/// Classifies every word of the turn, joining two-word terms, cutting Han runs.
fn classify(langs: &[Lang], tokens: &Tokens) -> Vec<Class> {
    let mut classes = Vec::with_capacity(tokens.tokens.len());
    let words = &tokens.tokens;
    let mut i = 0;
    while i < words.len() {
        let token = &words[i];
        i += 1;
        match token.kind {
            Kind::Symbol => {}
            Kind::Han => classify_han(&token.text, &mut classes),
            Kind::Word => {
                let next = words.get(i).filter(|t| t.kind == Kind::Word);
                let pair = next.map(|n| format!("{} {}", token.text, n.text));
                if let Some(class) = pair.and_then(|p| class_of(langs, &p)) {
                    classes.push(class);
                    i += 1;
                } else {
                    classes.push(class_of(langs, &token.text).unwrap_or(Class::Other));
                }
            }
        }
    }
    classes
}

fn classify_han(run: &str, classes: &mut Vec<Class>) {
    let Some(zh) = WORDS.get(&Lang::Zh) else {
        return;
    };
    let chars: Vec<char> = run.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let longest = (1..=zh.max_chars.min(chars.len() - i)).rev().find_map(|len| {
            let term: String = chars[i..i + len].iter().collect();
            zh.terms.get(&term).map(|class| (len, *class))
        });
        let (len, class) = longest.unwrap_or((1, Class::Other));
        classes.push(class);
        i += len;
    }
}

/// True when the turn asks for a person; `langs` are its plausible languages.
pub(crate) fn is_request(langs: &[Lang], tokens: &Tokens) -> bool {
    let classes = classify(langs, tokens);
    let negated = |i: usize| classes[i.saturating_sub(NEGATION_REACH)..i].contains(&Class::Neg);
    let people = (0..classes.len()).filter(|i| matches!(classes[*i], Class::Human | Class::Someone) && !negated(*i));
    for person in people {
        let verbs = (0..classes.len()).filter(|v| !negated(*v));
        if verbs.into_iter().any(|verb| tied(classes[person], person, classes[verb], verb)) {
            return true;
        }
    }
    only_request_words(&classes)
}

/// Does the verb at `verb` make a request of the human word at `person`?
fn tied(who: Class, person: usize, how: Class, verb: usize) -> bool {
    match how {
        Class::Talk => verb.abs_diff(person) <= TALK_WINDOW,
        Class::Help => who == Class::Human && verb.abs_diff(person) <= TALK_WINDOW,
        Class::Want => person > verb && person - verb <= WANT_WINDOW,
        _ => false,
    }
}

/// "agent please", "operator!!", "人工客服": nothing but human words, verbs and politeness.
fn only_request_words(classes: &[Class]) -> bool {
    classes.iter().any(|c| matches!(c, Class::Human | Class::Someone))
        && classes.iter().all(|c| {
            matches!(c, Class::Human | Class::Someone | Class::Talk | Class::Help | Class::Want | Class::Filler)
        })
}

#[cfg(test)]
mod tests {
    use super::super::language::candidates;
    use super::super::text::tokenize;
    use super::*;

    fn asks(text: &str) -> bool {
        let tokens = tokenize(text);
        is_request(&candidates(text, &tokens), &tokens)
    }

    #[test]
    fn the_many_ways_of_asking_for_a_person_are_recognised() {
        let requests = [
            "can I talk to a real person",
            "agent please",
            "operator!!",
            "Is there someone I can talk to?",
            "转人工",
            "人工客服",
            "quiero hablar con una persona",
            "je veux parler à un conseiller",
            "Mitarbeiter bitte",
            "quero falar com um atendente",
            "passami un operatore",
            "ik wil met een mens praten",
            "vreau să vorbesc cu un operator",
            "chcę rozmawiać z człowiekiem",
            "gribu runāt ar cilvēku",
            "искам да говоря с човек",
        ];
        for text in requests {
            assert!(asks(text), "missed: {text}");
        }
    }

    #[test]
    fn hard_negatives_that_mention_people_are_not_requests() {
        let not_requests = [
            "I'm not a robot",
            "your agent already called me",
            "no need for a human, thanks",
            "Are you a real person?",
            "Is my personal data safe?",
            "personne ne m'a répondu hier",
            "kein Mensch nötig, danke",
            "no hace falta un humano",
            "不需要人工，谢谢",
            "人工智能是什么",
            "不用转人工了",
            "ile kosztuje za osobę?",
            "Will someone help me park my car when I get there?",
            "There will be 8 people for 4 nights",
            "just one person",
        ];
        for text in not_requests {
            assert!(!asks(text), "false alarm: {text}");
        }
    }

    #[test]
    fn a_refused_bot_and_a_wanted_human_in_one_turn_is_a_request() {
        assert!(asks("I don't want the bot, I want a human"));
    }

    #[test]
    fn every_language_has_a_section() {
        for lang in Lang::ALL {
            assert!(WORDS.get(&lang).is_some_and(|w| w.terms.len() > 20), "{lang:?}");
        }
    }
}
