//! What a reply may be grounded in: the knowledge retrieved for the visitor's question, part
//! by part when it asks several things, and the one rule for which passages a reply may
//! quote ([`answering`]). The bot's reply, its fallback when the model fails and the agent's
//! drafts all read that rule, so what the bot says it cannot answer is never what the agent
//! is offered as the answer, and the other way round.

use std::sync::Arc;

use crate::knowledge::{Hit, KnowledgeBase, Passage, Retrieval};

/// Parts of one question searched separately; more are searched as the last part.
pub const MAX_PARTS: usize = 3;

/// Words a part needs to be a question of its own ("Hi!" and "thanks" are not).
const MIN_PART_WORDS: usize = 3;

/// Words that start a second question inside one sentence, after "and" ("… and can I pay by
/// card?", "… and how long does it take?").
const QUESTION_STARTS: [&str; 16] = [
    "can", "could", "do", "does", "did", "how", "what", "when", "where", "which", "who", "why", "is", "are", "will",
    "would",
];

/// One thing the visitor asked, with what the knowledge base has on it.
#[derive(Clone, Debug)]
pub struct Asked {
    pub question: String,
    pub retrieval: Retrieval,
    /// It is phrased as a question (a statement left unanswered is not named as missing).
    pub is_question: bool,
}

/// The knowledge for one reply: the merged retrieval the prompt lists, and the parts when
/// the question has more than one (empty otherwise).
#[derive(Clone, Debug, Default)]
pub struct Grounding {
    pub retrieval: Retrieval,
    pub parts: Vec<Asked>,
}

/// The passages a reply may quote: the hits when the knowledge base covers the question at
/// least `min_confidence`, none otherwise.
pub fn answering(retrieval: &Retrieval, min_confidence: f32) -> &[Hit] {
    match retrieval.confidence >= min_confidence {
        true => &retrieval.hits,
        false => &[],
    }
}

/// Every text [`ground`] searches for `question`: the whole, then its parts when it asks
/// several things (what `Site::prepare_search` embeds before the search).
pub fn searched(question: &str) -> Vec<&str> {
    let mut texts = vec![question];
    let pieces = parts(question);
    if pieces.len() >= 2 {
        texts.extend(pieces.into_iter().map(|(text, _)| text));
    }
    texts
}

/// Searches `question`, and each of its parts when it asks several things, keeping at most
/// `limit` passages in the merged retrieval (at least one per part that has any).
pub fn ground(knowledge: &KnowledgeBase, question: &str, limit: usize) -> Grounding {
    let whole = knowledge.search(question, limit);
    let pieces = parts(question);
    if pieces.len() < 2 {
        return Grounding { retrieval: whole, parts: Vec::new() };
    }
    let parts: Vec<Asked> = pieces
        .into_iter()
        .map(|(text, is_question)| Asked {
            retrieval: knowledge.search(text, limit),
            question: text.to_owned(),
            is_question,
        })
        .collect();
    let retrieval = merge(&parts, limit.max(parts.len()));
    Grounding { retrieval, parts }
}

/// The parts' hits taken in turn (best of each part first), without repeats; the confidence
/// is the best part's, since the reply can answer at least that part.
fn merge(parts: &[Asked], limit: usize) -> Retrieval {
    let mut hits: Vec<Hit> = Vec::new();
    let deepest = parts.iter().map(|p| p.retrieval.hits.len()).max().unwrap_or(0);
    for rank in 0..deepest {
        for hit in parts.iter().filter_map(|p| p.retrieval.hits.get(rank)) {
            if hits.len() < limit && !hits.iter().any(|h| same(&h.passage, &hit.passage)) {
                hits.push(hit.clone());
            }
        }
    }
    let confidence = parts.iter().map(|p| p.retrieval.confidence).fold(0.0, f32::max);
    Retrieval { hits, confidence }
}

fn same(a: &Arc<Passage>, b: &Arc<Passage>) -> bool {
    Arc::ptr_eq(a, b) || a.url == b.url
}

/// The separate things `text` asks, each with whether it is phrased as a question: its
/// sentences (and lines), and a sentence cut before "and" when a question word follows.
/// Parts of fewer than [`MIN_PART_WORDS`] words are left out; past [`MAX_PARTS`], the rest
/// is one last part.
pub fn parts(text: &str) -> Vec<(&str, bool)> {
    let mut parts = Vec::new();
    let mut start = 0;
    let push = |from: usize, to: usize, parts: &mut Vec<(usize, usize)>| {
        if text[from..to].split_whitespace().count() >= MIN_PART_WORDS {
            parts.push((from, to));
        }
    };
    let mut bounds = Vec::new();
    for (i, c) in text.char_indices() {
        let end = i + c.len_utf8();
        let sentence_end = matches!(c, '?' | '!' | '\n' | '？' | '！' | '。')
            || (c == '.' && text[end..].starts_with(char::is_whitespace));
        if sentence_end {
            push(start, end, &mut bounds);
            start = end;
        } else if c == ' ' && starts_second_question(&text[end..]) {
            push(start, i, &mut bounds);
            start = end;
        }
    }
    push(start, text.len(), &mut bounds);
    if bounds.len() > MAX_PARTS {
        let last_start = bounds[MAX_PARTS - 1].0;
        bounds.truncate(MAX_PARTS - 1);
        bounds.push((last_start, text.len()));
    }
    for (from, to) in bounds {
        let part = text[from..to].trim().trim_start_matches([',', ';']).trim();
        let part = part.strip_prefix("and ").or_else(|| part.strip_prefix("And ")).unwrap_or(part).trim();
        parts.push((part, part.ends_with(['?', '？'])));
    }
    parts
}

/// "and can I …", "and how …": a second question begins here.
fn starts_second_question(rest: &str) -> bool {
    let mut words = rest.split_whitespace();
    let conjunction = words.next().map(|w| w.trim_start_matches(',').to_lowercase());
    let next = words.next().map(|w| w.to_lowercase());
    conjunction.as_deref() == Some("and") && next.is_some_and(|w| QUESTION_STARTS.contains(&w.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::knowledge::{Document, KnowledgeOptions};

    fn texts(text: &str) -> Vec<&str> {
        parts(text).into_iter().map(|(part, _)| part).collect()
    }

    #[test]
    fn one_question_is_one_part() {
        assert_eq!(texts("How do I return an item?"), ["How do I return an item?"]);
        assert_eq!(texts("Hi! How do I return an item?"), ["How do I return an item?"]);
    }

    #[test]
    fn sentences_and_a_second_question_after_and_are_parts() {
        assert_eq!(
            texts("Do you ship to Canada? And how long does a refund take?"),
            ["Do you ship to Canada?", "how long does a refund take?"]
        );
        assert_eq!(
            texts("How long does delivery take and can I pay with PayPal?"),
            ["How long does delivery take", "can I pay with PayPal?"]
        );
        assert_eq!(texts("I want socks and shoes for my kids"), ["I want socks and shoes for my kids"]);
    }

    #[test]
    fn statements_are_parts_but_not_questions() {
        let found = parts("My lamp arrived broken. How do I get a refund?");
        assert_eq!(found, [("My lamp arrived broken.", false), ("How do I get a refund?", true)]);
    }

    #[test]
    fn past_the_limit_the_rest_is_one_part() {
        let found = texts("Where is my order? Can I change it? Do you ship to Canada? How much is shipping?");
        assert_eq!(found.len(), MAX_PARTS);
        assert_eq!(found[2], "Do you ship to Canada? How much is shipping?");
    }

    fn shop() -> KnowledgeBase {
        let markdown = "# Help\n\n## Countries\n\nWe ship to Canada and the EU.\n\n\
                        ## Refunds\n\nRefunds take 5 to 10 business days.\n";
        KnowledgeBase::from_documents(
            vec![Document { path: "help.md".into(), markdown: markdown.into() }],
            &KnowledgeOptions::default(),
        )
    }

    #[test]
    fn each_part_is_searched_and_the_merged_retrieval_has_both_passages() {
        let grounding = ground(&shop(), "Do you ship to Canada? And how long do refunds take?", 1);
        assert_eq!(grounding.parts.len(), 2);
        let titles: Vec<&str> = grounding.retrieval.hits.iter().map(|h| h.passage.title.as_str()).collect();
        assert_eq!(titles, ["Help › Countries", "Help › Refunds"]);
    }

    #[test]
    fn below_the_bar_nothing_may_be_quoted() {
        let retrieval = shop().search("how long do refunds take", 3);
        assert!(!answering(&retrieval, 0.2).is_empty());
        assert!(answering(&retrieval, 1.01).is_empty());
    }
}
