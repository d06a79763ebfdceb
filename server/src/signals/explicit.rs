//! Did the visitor ask for a person?
//!
//! A list of phrases ("talk to a human") misses most of the ways people say it, and a
//! bag of words ("agent", "person") fires on "your agent already called me". What works
//! is a little grammar over word classes (`lexicon/explicit.txt`, one section per
//! language): a request is a word for a human (`human`, including managers and
//! supervisors) tied to a verb of contact (`talk`: within five words, either side, so
//! both "talk to an agent" and "is there someone I can talk to" count) or following a
//! verb of wanting (`want`: within three words, "I need a human"), or a turn made only of
//! such words, politeness, "now" and questions of presence ("agent please", "operator!!",
//! "is a live agent available?", "人工客服在吗"), where a refused bot may stand too ("human
//! please, not the bot"). A negation or "already" right before the verb or the human word
//! cancels it ("no need for a human", "不用转人工了"); a time in the past near a contact
//! verb makes it a report ("I talked to an agent yesterday", "昨天跟客服聊过了"); a human
//! word right after "my" is someone the visitor has, not someone they ask for ("my manager
//! told me to contact you"). Words that contain a human word without meaning one are
//! listed as `other` ("personal", "human error", "人工智能"). Entries may be stems
//! (`konsultant*`) and up to three words long; Chinese runs are cut by longest match, so
//! A-not-A questions ("能不能", "可不可以") are words of their own, not negations.

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
/// How far a time in the past turns a contact verb into a report, either side, in words.
const PAST_REACH: usize = TALK_WINDOW;
/// How many words before a human word a possessive ("my") reaches: "my travel agent";
/// and after it, for languages that put it there ("managerul meu").
const MINE_REACH: usize = 2;
const MINE_REACH_AFTER: usize = 1;
/// Longest term, in words ("atención al cliente").
const MAX_TERM_WORDS: usize = 3;
/// Shortest stem that may match, in characters.
const MIN_STEM_CHARS: usize = 3;
/// Typos are forgiven in words for a person and contact verbs (see [`Lexicon::typo`]): two
/// neighbouring letters swapped in terms of at least this many characters ("tlak", "humna")…
const MIN_SWAP_CHARS: usize = 4;
/// …and one letter missing or doubled in terms of at least this many ("persn", "humaan").
/// Not a letter changed: "stuff" is not "staff", nor "sneak" "speak".
const MIN_GAP_CHARS: usize = 5;
/// Typos are looked for in single words of up to this many bytes (each look-up costs one
/// hash probe per letter; pairs would double the cost of a turn for little).
const MAX_TYPO_KEY: usize = 24;

/// The role a word plays in a request for a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    Human,
    Someone,
    Talk,
    Help,
    Want,
    /// Presence and availability: "available", "online", "is there", "c'è", "在吗".
    Here,
    Filler,
    Neg,
    /// The bot itself: "bot", "robot", "机器人"; refusing it does not cancel a request.
    Bot,
    /// A time in the past: "yesterday", "hier", "昨天", "过".
    Past,
    /// A perfect auxiliary that makes the next verb past: French "ai" in "j'ai parlé".
    Perfect,
    /// A first-person possessive: "my", "mon", "我的".
    Mine,
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
            "here" => Some(Class::Here),
            "filler" => Some(Class::Filler),
            "neg" => Some(Class::Neg),
            "bot" => Some(Class::Bot),
            "past" => Some(Class::Past),
            "perfect" => Some(Class::Perfect),
            "mine" => Some(Class::Mine),
            "other" => Some(Class::Other),
            _ => None,
        }
    }

    fn is_person(self) -> bool {
        matches!(self, Class::Human | Class::Someone)
    }

    fn is_verb(self) -> bool {
        matches!(self, Class::Talk | Class::Help | Class::Want)
    }
}

/// What a term means in each language that lists it.
type Senses = Vec<(Lang, Class)>;

/// Every language's words in one table, so that one look-up per word serves every
/// language: whole terms, stems (with their distinct lengths in characters, longest
/// first), and the longest Chinese term in characters (for Han runs).
#[derive(Debug, Default)]
struct Lexicon {
    terms: HashMap<String, Senses>,
    stems: HashMap<String, Senses>,
    stem_chars: Vec<usize>,
    zh_max_chars: usize,
    /// English human and contact terms by each form one letter shorter (a deletion index): a
    /// typo is found by a look-up of the word and of its own deletions, not a scan. English
    /// only: elsewhere a letter more or less is as often an inflection (Romanian "sunat",
    /// "has called", is one letter from "sunați", "call"; Dutch "niemand" from "iemand").
    shorter: HashMap<String, Vec<String>>,
    /// The terms [`Lexicon::shorter`] indexes.
    forgiving: std::collections::HashSet<String>,
}

impl Lexicon {
    /// The senses of the longest stem that begins `word`. Words with an apostrophe are
    /// left alone: "manager's" is a possessive, not a manager.
    fn stem(&self, word: &str) -> Option<&Senses> {
        if word.contains('\'') {
            return None;
        }
        let ends: Vec<usize> = word.char_indices().map(|(i, _)| i).chain([word.len()]).collect();
        self.stem_chars.iter().filter_map(|n| ends.get(*n)).find_map(|end| self.stems.get(&word[..*end]))
    }

    /// The senses of the English human or contact term that `word` is one typo away from: two
    /// neighbouring letters swapped, or one letter missing or extra (not changed), and only
    /// where no term of any language is the word itself. Single words only (see
    /// [`MAX_TYPO_KEY`]).
    fn typo(&self, word: &str) -> Option<&Senses> {
        let chars: Vec<char> = word.chars().collect();
        if chars.len() + 1 < MIN_SWAP_CHARS || word.contains('\'') {
            return None;
        }
        let mut candidates: Vec<&String> = self.shorter.get(word).into_iter().flatten().collect();
        for form in deletions(&chars) {
            if let Some(term) = self.forgiving.get(&form) {
                candidates.push(term);
            }
            candidates.extend(self.shorter.get(&form).into_iter().flatten());
        }
        // Of the terms one typo away, the first English one ("humna" is also one letter from
        // Spanish "humana").
        candidates
            .into_iter()
            .filter(|term| one_typo(word, term))
            .filter_map(|term| self.terms.get(term))
            .find(|senses| senses.iter().any(|(lang, _)| *lang == Lang::En))
    }
}

/// Every form of `chars` with one letter taken out.
fn deletions(chars: &[char]) -> impl Iterator<Item = String> + '_ {
    (0..chars.len()).map(|i| chars.iter().enumerate().filter(|(j, _)| *j != i).map(|(_, c)| c).collect())
}

/// `word` is `term` with two neighbouring letters swapped (terms of [`MIN_SWAP_CHARS`] or
/// more), or with one letter missing or extra (terms of [`MIN_GAP_CHARS`] or more).
fn one_typo(word: &str, term: &str) -> bool {
    let (w, t): (Vec<char>, Vec<char>) = (word.chars().collect(), term.chars().collect());
    if w == t || !t.iter().any(|c| c.is_alphabetic()) {
        return false;
    }
    if w.len() == t.len() {
        let differ: Vec<usize> = (0..w.len()).filter(|i| w[*i] != t[*i]).collect();
        return t.len() >= MIN_SWAP_CHARS
            && differ.len() == 2
            && differ[1] == differ[0] + 1
            && w[differ[0]] == t[differ[1]]
            && w[differ[1]] == t[differ[0]];
    }
    let (long, short) = if w.len() > t.len() { (&w, &t) } else { (&t, &w) };
    if t.len() < MIN_GAP_CHARS || long.len() != short.len() + 1 {
        return false;
    }
    // The letter missing or extra; never a space ("any one" is not "anyone").
    let gap = (0..short.len()).find(|i| long[*i] != short[*i]).unwrap_or(short.len());
    long[gap] != ' ' && long[gap + 1..] == short[gap..]
}

static LEXICON: LazyLock<Lexicon> = LazyLock::new(|| parse(include_str!("lexicon/explicit.txt")));

fn parse(source: &str) -> Lexicon {
    let mut lexicon = Lexicon::default();
    let mut current = Lang::Unknown;
    for line in source.lines().map(str::trim) {
        if line.starts_with('#') {
            continue;
        }
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
        for term in terms.split_whitespace() {
            let term = fold(term).replace('_', " ");
            let (table, key) = match term.strip_suffix('*') {
                Some(stem) if stem.chars().count() >= MIN_STEM_CHARS && !stem.contains(' ') => {
                    let chars = stem.chars().count();
                    if !lexicon.stem_chars.contains(&chars) {
                        lexicon.stem_chars.push(chars);
                    }
                    (&mut lexicon.stems, stem.to_string())
                }
                _ => {
                    if current == Lang::Zh {
                        lexicon.zh_max_chars = lexicon.zh_max_chars.max(term.chars().count());
                    }
                    (&mut lexicon.terms, term)
                }
            };
            let senses = table.entry(key).or_default();
            senses.retain(|(lang, _)| *lang != current);
            senses.push((current, class));
        }
    }
    lexicon.stem_chars.sort_unstable_by(|a, b| b.cmp(a));
    let forgiving: Vec<String> = lexicon
        .terms
        .iter()
        .filter(|(term, senses)| {
            term.chars().count() >= MIN_SWAP_CHARS
                && senses.iter().any(|(lang, class)| *lang == Lang::En && matches!(class, Class::Human | Class::Talk))
        })
        .map(|(term, _)| term.clone())
        .collect();
    for term in &forgiving {
        let chars: Vec<char> = term.chars().collect();
        for form in deletions(&chars) {
            lexicon.shorter.entry(form).or_default().push(term.clone());
        }
    }
    lexicon.forgiving = forgiving.into_iter().collect();
    lexicon
}

/// What each word of the turn may mean: for every word, the senses of the terms of three,
/// two and one words starting there (one word: whole term, else stem).
struct Lookups<'a> {
    at: Vec<[Option<&'a Senses>; MAX_TERM_WORDS]>,
}

fn look_up<'a>(lexicon: &'a Lexicon, tokens: &Tokens) -> Lookups<'a> {
    let words = &tokens.tokens;
    let mut key = String::new();
    let at = (0..words.len())
        .map(|i| {
            let mut found = [None; MAX_TERM_WORDS];
            if words[i].kind != Kind::Word {
                return found;
            }
            let run = words[i..].iter().take(MAX_TERM_WORDS).take_while(|t| t.kind == Kind::Word).count();
            for (n, slot) in found.iter_mut().enumerate().take(run) {
                key.clear();
                for (k, word) in words[i..=i + n].iter().enumerate() {
                    if k > 0 {
                        key.push(' ');
                    }
                    key.push_str(&word.text);
                }
                *slot = lexicon
                    .terms
                    .get(&key)
                    .or_else(|| if n == 0 { lexicon.stem(&key) } else { None })
                    .or_else(|| if n == 0 && key.len() <= MAX_TYPO_KEY { lexicon.typo(&key) } else { None });
            }
            found
        })
        .collect();
    Lookups { at }
}

/// The languages to read the turn in, most telling first: the detector's plausible
/// languages, reordered by how many of the turn's words each one's request lexicon knows
/// (politeness and articles aside: "de" and "nu" are in too many languages to tell),
/// plus any language whose lexicon knows more of them than every plausible one does
/// ("passez-moi quelqu'un du service client" is read as German for its "du"); English last
/// as a fallback, since visitors mix it into every language. Ties keep the detector's order.
fn reading_order(langs: &[Lang], lookups: &Lookups) -> Vec<Lang> {
    let mut known = [0usize; 12];
    for senses in lookups.at.iter().flatten().flatten() {
        for (lang, _) in senses.iter().filter(|(_, class)| *class != Class::Filler) {
            if let Some(i) = Lang::ALL.iter().position(|l| l == lang) {
                known[i] += 1;
            }
        }
    }
    let count = |lang: Lang| Lang::ALL.iter().position(|l| *l == lang).map_or(0, |i| known[i]);
    let best_plausible = langs.iter().map(|l| count(*l)).max().unwrap_or(0);
    let mut order: Vec<Lang> = langs.to_vec();
    // "operatore please": a word of another language counts when the plausible ones know none.
    order.extend(Lang::ALL.iter().filter(|l| !langs.contains(l) && count(**l) > best_plausible));
    order.sort_by_key(|l| std::cmp::Reverse(count(*l)));
    if !order.contains(&Lang::En) {
        order.push(Lang::En);
    }
    order
}

/// The sense of a term in the first language of `order` that lists it.
fn sense(order: &[Lang], senses: Option<&Senses>) -> Option<Class> {
    let senses = senses?;
    order.iter().find_map(|lang| senses.iter().find(|(l, _)| l == lang).map(|(_, class)| *class))
}

/// Classifies every word of the turn, joining terms of up to three words, cutting Han runs.
fn classify(langs: &[Lang], tokens: &Tokens) -> Vec<Class> {
    let lexicon = &*LEXICON;
    let lookups = look_up(lexicon, tokens);
    let order = reading_order(langs, &lookups);
    let mut classes = Vec::with_capacity(tokens.tokens.len());
    let mut i = 0;
    while i < tokens.tokens.len() {
        match tokens.tokens[i].kind {
            Kind::Symbol => i += 1,
            Kind::Han => {
                classify_han(lexicon, &tokens.tokens[i].text, &mut classes);
                i += 1;
            }
            Kind::Word => {
                let found = &lookups.at[i];
                let longest =
                    (0..MAX_TERM_WORDS).rev().find_map(|n| sense(&order, found[n]).map(|class| (n + 1, class)));
                let (n, class) = longest.unwrap_or((1, Class::Other));
                classes.push(class);
                i += n;
            }
        }
    }
    classes
}

fn classify_han(lexicon: &Lexicon, run: &str, classes: &mut Vec<Class>) {
    let chars: Vec<char> = run.chars().collect();
    let zh = [Lang::Zh];
    let mut i = 0;
    while i < chars.len() {
        let longest = (1..=lexicon.zh_max_chars.min(chars.len() - i)).rev().find_map(|len| {
            let term: String = chars[i..i + len].iter().collect();
            sense(&zh, lexicon.terms.get(&term)).map(|class| (len, class))
        });
        let (len, class) = longest.unwrap_or((1, Class::Other));
        classes.push(class);
        i += len;
    }
}

/// True when the turn asks for a person; `langs` are its plausible languages.
pub(crate) fn is_request(langs: &[Lang], tokens: &Tokens) -> bool {
    let classes = classify(langs, tokens);
    let people: Vec<usize> = (0..classes.len()).filter(|i| classes[*i].is_person() && wanted(&classes, *i)).collect();
    let verbs: Vec<usize> = (0..classes.len()).filter(|v| classes[*v].is_verb() && live(&classes, *v)).collect();
    let tied = people.iter().any(|p| verbs.iter().any(|v| tied(classes[*p], *p, classes[*v], *v)));
    tied || (!people.is_empty() && only_request_words(&classes) && asked(&classes, &people, tokens))
        || refuses_bot(&classes)
}

/// "I don't want to talk to a machine": a refused contact verb or wish whose object is the
/// bot asks for someone else ("I don't need an agent, the bot answered it" refuses a person).
fn refuses_bot(classes: &[Class]) -> bool {
    (0..classes.len()).any(|v| {
        let after = &classes[v + 1..classes.len().min(v + 1 + TALK_WINDOW)];
        matches!(classes[v], Class::Talk | Class::Want)
            && negated(classes, v)
            && after.iter().position(|c| *c == Class::Bot).is_some_and(|b| !after[..b].iter().any(|c| c.is_person()))
    })
}

/// Presence is asked, not stated: "is a live agent available?", "any agents online",
/// "人工客服在吗", but not "the agent is here, thanks". A turn with a word of presence
/// needs a question mark, Chinese (whose 吗 and 在不在 ask), or the word of presence before
/// the human ("is there", "any", "c'è", "hay").
fn asked(classes: &[Class], people: &[usize], tokens: &Tokens) -> bool {
    let first = people.first().copied().unwrap_or(0);
    !classes.contains(&Class::Here)
        || tokens.questions > 0
        || classes[..first].contains(&Class::Here)
        || tokens.tokens.iter().any(|t| t.kind == Kind::Han)
}

/// A negation within reach before `i`, unless a bot stands between them: in "no bot,
/// human please" the "no" is spent on the bot.
fn negated(classes: &[Class], i: usize) -> bool {
    let before = &classes[i.saturating_sub(NEGATION_REACH)..i];
    before.iter().rposition(|c| *c == Class::Neg).is_some_and(|n| !before[n..].contains(&Class::Bot))
}

/// A human word that is not negated and not the visitor's own ("my agent").
fn wanted(classes: &[Class], i: usize) -> bool {
    let around = &classes[i.saturating_sub(MINE_REACH)..classes.len().min(i + 1 + MINE_REACH_AFTER)];
    !negated(classes, i) && !around.contains(&Class::Mine)
}

/// A verb that is neither negated nor a report of the past ("I talked to an agent
/// yesterday", "j'ai parlé à un conseiller"). Only contact verbs can be reports: "I
/// talked to one yesterday, I need a manager" still wants.
fn live(classes: &[Class], v: usize) -> bool {
    if negated(classes, v) {
        return false;
    }
    if classes[v] == Class::Want {
        return true;
    }
    let near = &classes[v.saturating_sub(PAST_REACH)..classes.len().min(v + PAST_REACH + 1)];
    let perfect = classes[v.saturating_sub(2)..v].contains(&Class::Perfect);
    !near.contains(&Class::Past) && !perfect
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

/// "agent please", "operator now!!", "is a live agent available?", "human please, not
/// the bot", "人工客服在吗": nothing but human words, verbs, politeness and presence, with
/// negations only of the bot (or of nothing: "Atención al cliente YA").
fn only_request_words(classes: &[Class]) -> bool {
    classes.iter().enumerate().all(|(i, c)| match c {
        Class::Human | Class::Someone | Class::Talk | Class::Help | Class::Want | Class::Here | Class::Filler => true,
        Class::Bot => classes[i.saturating_sub(NEGATION_REACH)..i].contains(&Class::Neg),
        Class::Neg => classes[i + 1..].iter().find(|c| **c != Class::Filler).is_none_or(|c| *c == Class::Bot),
        _ => false,
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
    fn english_typos_in_people_and_contact_verbs_are_forgiven_but_not_changed_letters() {
        for text in ["can i tlak to a humna please", "i want a humaan", "I need to speak with a real persn"] {
            assert!(asks(text), "missed: {text}");
        }
        // One letter changed is another word ("stuff", "chart"); inflections elsewhere are
        // left to the stems ("sunat" is "has called", not "call").
        for text in [
            "I need stuff",
            "size chart for a person of 180 cm",
            "agentul m-a sunat deja",
            "Can you give me any one in the centre, and give me phone number and postcode?",
        ] {
            assert!(!asks(text), "false alarm: {text}");
        }
    }

    #[test]
    fn refusing_the_bot_asks_for_someone_else_but_refusing_a_person_does_not() {
        assert!(asks("i dont want to talk to a machine"));
        assert!(!asks("no thanks, I don't need an agent, the bot answered it"));
    }

    #[test]
    fn managers_and_supervisors_are_people_to_ask_for_in_every_language() {
        let requests = [
            "Can I speak to your supervisor?",
            "get me a manager",
            "quiero hablar con el gerente",
            "je voudrais parler au responsable",
            "Kann ich mit Ihrem Vorgesetzten sprechen?",
            "posso falar com o gerente?",
            "vorrei parlare con il responsabile",
            "kan ik met uw leidinggevende praten",
            "vreau să vorbesc cu managerul",
            "chciałbym porozmawiać z kierownikiem",
            "vai varu runāt ar vadītāju?",
            "може ли да говоря с управителя?",
            "叫你们经理来",
        ];
        for text in requests {
            assert!(asks(text), "missed: {text}");
        }
    }

    #[test]
    fn elliptical_requests_and_questions_of_presence_are_requests() {
        let requests = [
            "support agent pls",
            "human please, not the bot",
            "operatore subito",
            "supervisor now!!",
            "human?",
            "is a live agent available?",
            "any agents online",
            "c'è un umano?",
            "¿hay un asesor disponible?",
            "ist ein Berater verfügbar?",
            "czy jest ktoś?",
            "има ли някой?",
            "人工客服在吗",
            "有人在吗",
            "Atención al cliente YA",
            "kein Bot, Mensch bitte",
        ];
        for text in requests {
            assert!(asks(text), "missed: {text}");
        }
    }

    #[test]
    fn plural_and_polite_imperatives_of_transfer_are_requests() {
        let requests = [
            "połączcie mnie z obsługą klienta",
            "przełączcie mnie do pracownika",
            "passatemi qualcuno dell'assistenza",
            "passez-moi quelqu'un du service client",
            "bitte leiten Sie mich an einen Mitarbeiter weiter",
            "me conecta com o atendimento",
            "¿me comunicas con una persona?",
            "pásenme con un humano",
            "zet me door naar een medewerker",
            "pārslēdziet uz vadītāju",
        ];
        for text in requests {
            assert!(asks(text), "missed: {text}");
        }
    }

    #[test]
    fn chinese_a_not_a_questions_ask_rather_than_negate() {
        for text in ["能不能转人工", "可不可以转人工", "有没有人工", "客服在不在"] {
            assert!(asks(text), "missed: {text}");
        }
        for text in ["不用转人工了", "不需要转人工，已经解决了", "昨天联系过客服了", "我的经理让我联系你们"]
        {
            assert!(!asks(text), "false alarm: {text}");
        }
    }

    #[test]
    fn new_shapes_do_not_fire_on_people_mentioned_in_passing() {
        let not_requests = [
            "my manager told me to order this",
            "my boss wants me to contact you about a bulk order",
            "the operator of the store",
            "human error",
            "I talked to a person yesterday and it was fine",
            "is the manager's discount still on?",
            "is the delivery person available on Saturday?",
            "the agent is here, thanks",
            "am I talking to a human?",
            "like a boss",
            "mi jefe me dijo que lo pidiera",
            "¿qué pasa? alguien me explica",
            "j'ai parlé à votre responsable",
            "mon chef veut que je vous contacte",
            "ich habe gestern mit dem Chef gesprochen",
            "ist der Artikel verfügbar?",
            "il mio capo vuole parlare con voi",
            "mijn manager wil met jullie praten",
            "managerul meu vrea să vorbească cu voi",
            "mój szef chce z wami porozmawiać",
            "vakar runāju ar konsultantu, viss kārtībā",
            "вчера говорих с управителя",
            "有人会在家收快递吗",
        ];
        for text in not_requests {
            assert!(!asks(text), "false alarm: {text}");
        }
    }

    #[test]
    fn the_request_lexicon_reads_a_turn_in_the_language_it_knows_best() {
        // "mi" is "my" in Spanish but "me" in Polish; "du" made this French turn German.
        assert!(asks("daj mi konsultanta"));
        assert!(asks("passez-moi quelqu'un du service client"));
        assert!(!asks("nu am nevoie de operator, doar de răspuns"));
    }

    #[test]
    fn stems_cover_inflections_but_not_possessives() {
        let lexicon = parse("[pl]\nhuman: konsultant*\n[en]\nhuman: manager*\nother: managerial");
        let stem = |word: &str| lexicon.stem(word).and_then(|s| s.first()).map(|(_, class)| *class);
        assert_eq!(stem("konsultantem"), Some(Class::Human));
        assert_eq!(stem("managers"), Some(Class::Human));
        assert_eq!(stem("manager's"), None);
        assert!(lexicon.terms.contains_key("managerial"));
    }

    #[test]
    fn every_language_has_a_section() {
        for lang in Lang::ALL {
            let terms = LEXICON.terms.values().chain(LEXICON.stems.values()).flatten();
            assert!(terms.filter(|(l, _)| *l == lang).count() > 20, "{lang:?}");
        }
    }
}
