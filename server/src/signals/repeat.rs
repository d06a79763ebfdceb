//! Is the visitor asking again what the bot already answered?
//!
//! Two kinds of evidence. The visitor may say so ("as I said", "再问一次":
//! `markers.txt`), or may ask the same thing in other words. For the second, each turn is
//! reduced to its content terms: words that are not function words of any supported
//! language, longer than two characters, cut to their first five characters (a crude stem
//! that joins "refund", "refunds" and "refunded", or "livraison" and "livrer"), and, for
//! Chinese, pairs of adjacent characters. The similarity with an earlier visitor turn that
//! the bot answered is the Dice coefficient of the two sets. A rephrasing keeps the
//! content words and changes the rest, which is what this measures.

use std::collections::HashSet;

use super::language::{Lang, is_function_word};
use super::markers::{Marker, has};
use super::text::{Kind, Tokens};

/// Characters kept from each word: the stem.
const STEM_CHARS: usize = 5;
/// Shortest word that counts as content.
const MIN_WORD_CHARS: usize = 3;
/// Similarity assigned to a turn that says it repeats itself ("again", "as I said").
pub(crate) const MARKER_SIMILARITY: f32 = 0.7;

/// The content terms of a turn.
pub(crate) fn content_terms(tokens: &Tokens) -> HashSet<String> {
    let mut terms = HashSet::new();
    for token in &tokens.tokens {
        match token.kind {
            Kind::Word => {
                let chars = token.text.chars().count();
                if chars >= MIN_WORD_CHARS && !is_function_word(&token.text) {
                    terms.insert(token.text.chars().take(STEM_CHARS).collect());
                }
            }
            Kind::Han => {
                let chars: Vec<char> = token.text.chars().collect();
                terms.extend(chars.windows(2).map(|pair| pair.iter().collect::<String>()));
            }
            Kind::Symbol => {}
        }
    }
    terms
}

/// Dice coefficient of two sets of content terms; 0 when either is empty.
pub(crate) fn similarity(a: &HashSet<String>, b: &HashSet<String>) -> f32 {
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    let shared = a.intersection(b).count();
    // One shared word ("thanks", "order") is small talk or a new question about the
    // same thing; a repeat keeps at least two.
    if shared < 2 {
        return 0.0;
    }
    2.0 * shared as f32 / (a.len() + b.len()) as f32
}

/// How strongly this turn repeats an answered earlier one, in [0, 1].
///
/// `answered` holds the content terms of earlier visitor turns that got a bot reply.
pub(crate) fn repeat_similarity(lang: Lang, tokens: &Tokens, joined: &str, answered: &[HashSet<String>]) -> f32 {
    if answered.is_empty() {
        return 0.0;
    }
    let terms = content_terms(tokens);
    let best = answered.iter().map(|earlier| similarity(&terms, earlier)).fold(0.0, f32::max);
    if has(Marker::Repeat, lang, joined) { best.max(MARKER_SIMILARITY) } else { best }
}

#[cfg(test)]
mod tests {
    use super::super::language::detect;
    use super::super::markers::joined;
    use super::super::text::tokenize;
    use super::*;

    fn repeat(earlier: &str, now: &str) -> f32 {
        let answered = [content_terms(&tokenize(earlier))];
        let tokens = tokenize(now);
        repeat_similarity(detect(now, &tokens), &tokens, &joined(&tokens), &answered)
    }

    #[test]
    fn a_rephrased_question_is_a_repeat() {
        assert!(repeat("How do I get a refund for my order?", "how can i get my order refunded") >= 0.5);
        assert!(repeat("¿Cuándo llega mi pedido a Madrid?", "pero cuándo llega el pedido??") >= 0.5);
        assert!(repeat("Wann kommt meine Lieferung an?", "Wann kommt die Lieferung endlich an") >= 0.5);
        assert!(repeat("我的订单在哪里", "请问我的订单到底在哪里") >= 0.5);
    }

    #[test]
    fn saying_so_is_a_repeat_even_in_new_words() {
        assert!(repeat("what time do you open", "as I said, I need the opening hours") >= 0.5);
        assert!(repeat("où est mon colis", "je répète : il arrive quand ?") >= 0.5);
    }

    #[test]
    fn a_new_question_or_small_talk_is_not_a_repeat() {
        assert!(repeat("How do I get a refund?", "Do you ship to Canada?") < 0.5);
        assert!(repeat("thanks", "thanks") < 0.5);
        assert!(repeat("Is the shop open on Sunday?", "And is parking free on Sunday?") < 0.5);
        assert!(repeat("谢谢", "好的谢谢") < 0.5);
    }

    #[test]
    fn nothing_is_a_repeat_before_the_bot_has_answered() {
        let tokens = tokenize("as I said, where is my order");
        assert_eq!(repeat_similarity(Lang::En, &tokens, &joined(&tokens), &[]), 0.0);
    }
}
