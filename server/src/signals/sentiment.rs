//! Sentiment of one turn in [−1, 1], and its trend over a conversation.
//!
//! The method is VADER's (Hutto & Gilbert, 2014), because it is explainable and costs
//! microseconds: sum the valences of lexicon words; a negator flips and damps the next
//! words (×−0.74); boosters and dampers move the next word by 0.293; a word in capitals
//! among lower-case words gains 0.733; after "but" the clause counts 1.5× and before it
//! 0.5×; each `!` (up to four) adds 0.292 in the direction of the sum; the sum is then
//! squashed by `x / sqrt(x² + 15)`. What Baton adds is the language: each turn is scored
//! with the lexicon of its detected language (plus English, which visitors mix in),
//! emoji and emoticons count in every language, and Chinese is scanned inside runs of
//! characters instead of between spaces.
//!
//! The trend is a mood, not a derivative: a weighted mean of the recent visitor turns,
//! newest weighted most, with a neutral prior, so one angry word moves it a little and
//! frustration that builds over several turns moves it a lot.

use std::sync::LazyLock;

use super::afinn;
use super::features;
use super::language::Lang;
use super::lexicon::{EMOJI, Entry, Lexicon, lexicon, lookup};
use super::model::LinearModel;
use super::text::{Kind, Token, Tokens};

/// The learned model (`models/README.md`): multinomial logistic regression over hashed
/// n-grams and the lexicon score, trained by `examples/train_signals`. `None` only if the
/// shipped file is unreadable, which a unit test rules out; the lexicon then stands alone.
static MODEL: LazyLock<Option<LinearModel>> =
    LazyLock::new(|| LinearModel::from_bytes(include_bytes!("models/sentiment.bin")).ok());

/// Languages the model was trained on (`und` too: short turns of those languages, emoji).
/// Other languages keep the lexicon score, which their unit tests check.
const LEARNED: [Lang; 7] = [Lang::En, Lang::Fr, Lang::De, Lang::It, Lang::Pt, Lang::Es, Lang::Unknown];

/// How many following words a negator reaches (VADER looks three words back).
const NEGATION_WINDOW: u8 = 3;
/// Multiplier for a negated valence.
const NEGATION_SCALAR: f32 = -0.74;
/// Change of magnitude for a boosted or damped word.
const BOOST_INCREMENT: f32 = 0.293;
/// Extra magnitude for a word shouted in capitals.
const CAPS_INCREMENT: f32 = 0.733;
/// Extra magnitude per exclamation mark, up to [`MAX_EXCLAMATIONS`].
const EXCLAMATION_INCREMENT: f32 = 0.292;
const MAX_EXCLAMATIONS: u32 = 4;
/// Weight of the clause before and after a contrast ("but").
const BEFORE_BUT: f32 = 0.5;
const AFTER_BUT: f32 = 1.5;
/// VADER's normalisation constant: a raw sum of 4 gives about 0.72.
const NORMALISATION_ALPHA: f32 = 15.0;

/// Trend: weight of each older visitor turn relative to the next newer one.
const TREND_DECAY: f32 = 0.6;
/// Trend: weight of the neutral prior, so one turn alone cannot carry the mood.
const TREND_PRIOR_WEIGHT: f32 = 1.0;
/// Trend: how many visitor turns count (older ones have decayed to almost nothing).
pub(crate) const TREND_TURNS: usize = 6;

/// Scoring state while walking a turn's tokens.
#[derive(Default)]
pub(crate) struct Walk {
    before_but: f32,
    after_but: f32,
    seen_but: bool,
    negation_left: u8,
    boost: f32,
    /// The last valence added, so a negator written after its word can flip it.
    last: f32,
}

impl Walk {
    pub(crate) fn apply(&mut self, entry: Entry, caps: bool, mixed_case: bool) {
        match entry {
            Entry::Negator => self.negation_left = NEGATION_WINDOW + 1,
            Entry::Booster => self.boost += BOOST_INCREMENT,
            Entry::Damper => self.boost -= BOOST_INCREMENT,
            Entry::But => {
                self.seen_but = true;
                self.negation_left = 0;
            }
            Entry::Valence(v) => {
                let mut v = v + v.signum() * self.boost;
                if caps && mixed_case {
                    v += v.signum() * CAPS_INCREMENT;
                }
                if self.negation_left > 0 {
                    v *= NEGATION_SCALAR;
                }
                self.boost = 0.0;
                self.add(v);
            }
        }
    }

    pub(crate) fn add(&mut self, valence: f32) {
        self.last = valence;
        if self.seen_but {
            self.after_but += valence;
        } else {
            self.before_but += valence;
        }
    }

    /// Called after every word: the negation window closes word by word.
    pub(crate) fn step(&mut self) {
        self.negation_left = self.negation_left.saturating_sub(1);
    }

    /// A negator that follows the word it negates (Japanese 良くない): the last valence
    /// counts as if a negator had come first.
    pub(crate) fn negate_last(&mut self) {
        let change = self.last * NEGATION_SCALAR - self.last;
        self.add(change);
        self.last = 0.0;
    }

    pub(crate) fn sum(&self) -> f32 {
        if self.seen_but { self.before_but * BEFORE_BUT + self.after_but * AFTER_BUT } else { self.before_but }
    }
}

/// The sentiment of one turn in [−1, 1] as the signals report it: the learned model's
/// P(positive) − P(negative) for the languages it was trained on, else the lexicon's.
/// `more` is the language [`super::detect_more`] found, if any: Russian, Turkish,
/// Japanese, Arabic and Hindi have no hand lexicon and no training data, so they are
/// scored by [`afinn`]'s translated lexicon alone.
pub(crate) fn turn_score(lang: Lang, more: Option<&str>, text: &str, tokens: &Tokens) -> f32 {
    if let Some(code) = more.filter(|code| afinn::is_own(code)) {
        return afinn::score(code, text, tokens);
    }
    let lexicon = score(lang, tokens);
    match MODEL.as_ref() {
        Some(model) if LEARNED.contains(&lang) => {
            let second = afinn::score(lang.code(), text, tokens);
            let p = model.predict(&features::extract(lang, tokens, lexicon, second));
            (p[2] - p[0]).clamp(-1.0, 1.0)
        }
        _ => lexicon,
    }
}

/// The lexicon score of a turn (before the learned model), in the same languages.
pub(crate) fn lexicon_turn_score(lang: Lang, more: Option<&str>, text: &str, tokens: &Tokens) -> f32 {
    match more.filter(|code| afinn::is_own(code)) {
        Some(code) => afinn::score(code, text, tokens),
        None => score(lang, tokens),
    }
}

/// Whether the shipped model loaded (for tests and the evaluation).
pub(crate) fn model_loaded() -> bool {
    MODEL.is_some()
}

/// The lexicon (VADER-style) sentiment of one turn, in [−1, 1].
pub(crate) fn score(lang: Lang, tokens: &Tokens) -> f32 {
    normalise(raw_sum(lang, tokens), tokens.exclamations)
}

/// The un-normalised VADER sum of valences (before punctuation).
pub(crate) fn raw_sum(lang: Lang, tokens: &Tokens) -> f32 {
    let mut walk = Walk::default();
    let words = &tokens.tokens;
    let mut i = 0;
    while i < words.len() {
        i += walk_token(lang, words, i, tokens.mixed_case, &mut walk);
    }
    walk.sum()
}

/// Scores the token at `i` (or the two-word phrase starting there); returns tokens used.
fn walk_token(lang: Lang, words: &[Token], i: usize, mixed_case: bool, walk: &mut Walk) -> usize {
    let token = &words[i];
    match token.kind {
        Kind::Symbol => {
            if let Some(Entry::Valence(v)) = EMOJI.get_exact(&token.text) {
                walk.add(v);
            }
            1
        }
        Kind::Han => {
            walk_run(&token.text, lexicon(Lang::Zh), false, walk);
            1
        }
        Kind::Word => {
            if let Some(next) = words.get(i + 1).filter(|t| t.kind == Kind::Word) {
                let phrase = format!("{} {}", token.text, next.text);
                if let Some(entry) = phrase_entry(lang, &phrase) {
                    walk.step();
                    walk.apply(entry, token.caps, mixed_case);
                    return 2;
                }
            }
            walk.step();
            if let Some(entry) = lookup(lang, &token.text) {
                walk.apply(entry, token.caps, mixed_case);
            }
            1
        }
    }
}

fn phrase_entry(lang: Lang, phrase: &str) -> Option<Entry> {
    let lang = if lang == Lang::Unknown { Lang::En } else { lang };
    lexicon(lang).get_exact(phrase)
}

/// Chinese and Japanese: longest lexicon entry at each position of a run of characters
/// written without spaces. With `postfix_negation` (Japanese), a negator flips the
/// valence just before it instead of the ones after it.
pub(crate) fn walk_run(run: &str, lexicon: &Lexicon, postfix_negation: bool, walk: &mut Walk) {
    let chars: Vec<char> = run.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        walk.step();
        let longest = (1..=lexicon.max_chars.min(chars.len() - i)).rev().find_map(|len| {
            let candidate: String = chars[i..i + len].iter().collect();
            lexicon.get_exact(&candidate).map(|entry| (len, entry))
        });
        match longest {
            Some((len, Entry::Negator)) if postfix_negation => {
                walk.negate_last();
                i += len;
            }
            Some((len, entry)) => {
                walk.apply(entry, false, false);
                i += len;
            }
            None => i += 1,
        }
    }
}

/// Adds emphasis from exclamation marks and squashes into [−1, 1].
pub(crate) fn normalise(sum: f32, exclamations: u32) -> f32 {
    if sum == 0.0 {
        return 0.0;
    }
    let emphasis = exclamations.min(MAX_EXCLAMATIONS) as f32 * EXCLAMATION_INCREMENT;
    let sum = sum + sum.signum() * emphasis;
    (sum / (sum * sum + NORMALISATION_ALPHA).sqrt()).clamp(-1.0, 1.0)
}

/// The mood over the conversation: the decayed mean of visitor-turn sentiments, oldest
/// first in `sentiments`, with a neutral prior of weight [`TREND_PRIOR_WEIGHT`].
pub(crate) fn trend(sentiments: &[f32]) -> f32 {
    let mut weight = 1.0;
    let mut total = 0.0;
    let mut weights = TREND_PRIOR_WEIGHT;
    for s in sentiments.iter().rev().take(TREND_TURNS) {
        total += weight * s;
        weights += weight;
        weight *= TREND_DECAY;
    }
    (total / weights).clamp(-1.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::super::language::detect;
    use super::super::text::tokenize;
    use super::*;

    fn sentiment(text: &str) -> f32 {
        let tokens = tokenize(text);
        score(detect(text, &tokens), &tokens)
    }

    #[test]
    fn clear_complaints_are_negative_in_every_language() {
        let complaints = [
            "This is terrible, I am so frustrated",
            "Esto es horrible, estoy muy frustrado",
            "C'est nul, je suis vraiment déçu",
            "Das ist schrecklich, ich bin total genervt",
            "Isso é péssimo, estou muito irritado",
            "È pessimo, sono davvero deluso",
            "Dit is waardeloos, ik ben echt boos",
            "Este groaznic, sunt foarte supărat",
            "To jest okropne, jestem bardzo zły",
            "Tas ir briesmīgi, esmu ļoti dusmīgs",
            "Това е ужасно, много съм ядосан",
            "太差了，我很生气",
        ];
        for text in complaints {
            assert!(sentiment(text) < -0.4, "{text}: {}", sentiment(text));
        }
    }

    #[test]
    fn thanks_and_praise_are_positive_in_every_language() {
        let praise = [
            "Thanks, that was really helpful!",
            "Muchas gracias, excelente servicio",
            "Merci, c'est parfait",
            "Danke, das ist super",
            "Obrigado, ótimo atendimento",
            "Grazie, perfetto",
            "Bedankt, heel goed",
            "Mulțumesc, foarte bine",
            "Dziękuję, świetnie",
            "Paldies, lieliski",
            "Благодаря, отлично",
            "谢谢，太棒了",
        ];
        for text in praise {
            assert!(sentiment(text) > 0.4, "{text}: {}", sentiment(text));
        }
    }

    #[test]
    fn negation_flips_the_words_that_follow_it() {
        assert!(sentiment("not bad at all") > 0.0);
        assert!(sentiment("I am not happy") < 0.0);
        assert!(sentiment("je ne suis pas content") < 0.0);
        assert!(sentiment("no es bueno") < 0.0);
        assert!(sentiment("没有问题") > 0.0);
        assert!(sentiment("不好") < 0.0);
    }

    #[test]
    fn intensifiers_capitals_and_exclamations_strengthen_the_same_words() {
        let plain = sentiment("this is bad");
        assert!(sentiment("this is very bad") < plain);
        assert!(sentiment("this is BAD") < plain);
        assert!(sentiment("this is bad!!!") < plain);
        assert!(sentiment("this is a bit bad") > plain);
    }

    #[test]
    fn emoji_carry_sentiment_without_words() {
        assert!(sentiment("😡😡") < -0.3);
        assert!(sentiment("ok 🙂") > 0.2);
        assert!(sentiment(":(") < 0.0);
    }

    #[test]
    fn after_but_the_second_clause_decides() {
        assert!(sentiment("the app is nice but the support is terrible") < 0.0);
    }

    #[test]
    fn plain_requests_are_neutral() {
        assert_eq!(sentiment("What are your opening hours?"), 0.0);
        assert_eq!(sentiment("Wie lange dauert der Versand?"), 0.0);
    }

    #[test]
    fn frustration_that_builds_moves_the_trend_more_than_one_angry_turn() {
        let once = trend(&[0.0, 0.0, -0.8]);
        let building = trend(&[-0.5, -0.7, -0.8]);
        assert!(building < once - 0.2, "{building} vs {once}");
        assert!(once > -0.8, "one turn alone must not carry the mood");
        assert_eq!(trend(&[]), 0.0);
    }
}
