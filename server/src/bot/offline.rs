//! The offline answerer: no model, no key. It quotes the best-matching knowledge-base passage
//! (the reply's `sources` link it) and says plainly when nothing matches. A question of
//! several parts gets the best passage of each part it covers, and the parts it does not
//! cover are named. It streams the quote in pieces like a model would, so clients have one
//! code path.

use async_trait::async_trait;
use futures_util::stream;

use super::grounding::answering;
use super::{Chunk, Llm, LlmError, Prompt, ReplyStream};
use crate::knowledge::Hit;

/// Characters per streamed piece (whole words are kept together).
const PIECE_CHARS: usize = 48;

pub struct OfflineLlm;

#[async_trait]
impl Llm for OfflineLlm {
    async fn start(&self, prompt: &Prompt) -> Result<ReplyStream, LlmError> {
        let text = answer(prompt);
        let pieces: Vec<Result<Chunk, LlmError>> =
            split_pieces(&text).into_iter().map(|p| Ok(Chunk::Text(p))).collect();
        Ok(Box::pin(stream::iter(pieces)))
    }

    /// It quotes the best passage and nothing else.
    fn is_model(&self) -> bool {
        false
    }
}

/// Whether the knowledge base answers the prompt's question well enough to quote it (the
/// fallback when the model fails is then this answerer, not an apology).
pub fn has_confident_passage(prompt: &Prompt) -> bool {
    !quoted(prompt).is_empty()
}

/// The passages the answer quotes: the best of each part the knowledge base covers (of the
/// whole question when it has one part), without repeats.
pub fn quoted(prompt: &Prompt) -> Vec<&Hit> {
    if prompt.parts.is_empty() {
        return answering(&prompt.retrieval, prompt.min_confidence).first().into_iter().collect();
    }
    let mut hits: Vec<&Hit> = Vec::new();
    for part in &prompt.parts {
        if let Some(best) = answering(&part.retrieval, prompt.min_confidence).first()
            && !hits.iter().any(|h| h.passage.url == best.passage.url)
        {
            hits.push(best);
        }
    }
    hits
}

/// The passage text itself (its heading and link are the reply's source); with several
/// passages each under its heading, then the questions no passage answers.
fn answer(prompt: &Prompt) -> String {
    let quote = quote(prompt);
    match &prompt.language_note {
        Some(note) if !quoted(prompt).is_empty() => format!("{note}\n\n{quote}"),
        _ => quote,
    }
}

fn quote(prompt: &Prompt) -> String {
    let hits = quoted(prompt);
    let Some(first) = hits.first() else { return prompt.no_answer.clone() };
    if hits.len() == 1 && prompt.parts.is_empty() {
        return first.passage.text.clone();
    }
    let mut sections: Vec<String> = match hits.len() {
        1 => vec![first.passage.text.clone()],
        _ => hits.iter().map(|hit| format!("**{}**\n\n{}", heading(&hit.passage.title), hit.passage.text)).collect(),
    };
    for part in prompt.parts.iter().filter(|p| p.is_question) {
        if answering(&part.retrieval, prompt.min_confidence).is_empty() {
            let asked = part.question.trim_end_matches(['?', '？', ' ']);
            sections.push(format!("I couldn't find anything about \"{asked}\" in our help pages."));
        }
    }
    sections.join("\n\n")
}

/// A passage's own heading: the last step of its title.
fn heading(title: &str) -> &str {
    title.rsplit(" › ").next().unwrap_or(title)
}

/// Splits after whitespace once a piece reaches `PIECE_CHARS`; concatenating the pieces gives
/// the text back exactly.
fn split_pieces(text: &str) -> Vec<String> {
    let mut pieces = Vec::new();
    let mut current = String::new();
    for c in text.chars() {
        current.push(c);
        if c.is_whitespace() && current.chars().count() >= PIECE_CHARS {
            pieces.push(std::mem::take(&mut current));
        }
    }
    if !current.is_empty() {
        pieces.push(current);
    }
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::knowledge::{Document, KnowledgeBase, KnowledgeOptions};

    fn prompt(question: &str) -> Prompt {
        let kb = KnowledgeBase::from_documents(
            vec![Document { path: "returns.md".into(), markdown: "# Returns\n\n## How to return an item\n\nPack the item and print the return label from your order page within 30 days.\n".into() }],
            &KnowledgeOptions::default(),
        );
        Prompt {
            system: String::new(),
            messages: vec![],
            model: "offline".into(),
            temperature: 0.0,
            max_tokens: 0,
            retrieval: kb.search(question, 3),
            parts: Vec::new(),
            min_confidence: 0.3,
            no_answer: "No idea.".into(),
            language_note: None,
            handoff_tool: false,
            logprobs: false,
            budget: None,
            tools: Vec::new(),
            rounds: Vec::new(),
        }
    }

    #[test]
    fn quotes_the_best_passage_when_it_matches() {
        let text = answer(&prompt("How do I return an item?"));
        assert_eq!(text, "Pack the item and print the return label from your order page within 30 days.");
    }

    fn two_part_prompt(question: &str) -> Prompt {
        let markdown = "# Help\n\n## Countries\n\nWe ship to Canada and the EU.\n\n\
                        ## Refunds\n\nRefunds take 5 to 10 business days.\n";
        let kb = KnowledgeBase::from_documents(
            vec![Document { path: "help.md".into(), markdown: markdown.into() }],
            &KnowledgeOptions::default(),
        );
        let grounding = crate::bot::grounding::ground(&kb, question, 3);
        Prompt { retrieval: grounding.retrieval, parts: grounding.parts, ..prompt(question) }
    }

    #[test]
    fn each_covered_part_gets_its_passage_under_its_heading() {
        let text = answer(&two_part_prompt("Do you ship to Canada? And how long do refunds take?"));
        assert_eq!(
            text,
            "**Countries**\n\nWe ship to Canada and the EU.\n\n**Refunds**\n\nRefunds take 5 to 10 business days."
        );
    }

    #[test]
    fn a_part_nothing_covers_is_named_and_a_statement_is_not() {
        let text = answer(&two_part_prompt("How long do refunds take? Can I pay with bitcoin tokens?"));
        assert!(text.starts_with("Refunds take 5 to 10 business days."), "{text}");
        assert!(
            text.ends_with("I couldn't find anything about \"Can I pay with bitcoin tokens\" in our help pages."),
            "{text}"
        );
        let statement = answer(&two_part_prompt("I love zebra quantum stuff. How long do refunds take?"));
        assert_eq!(statement, "Refunds take 5 to 10 business days.");
    }

    #[test]
    fn the_language_note_comes_before_a_quoted_passage_and_never_alone() {
        let note = Some("Nos pages d'aide sont en anglais.".to_owned());
        let text = answer(&Prompt { language_note: note.clone(), ..prompt("How do I return an item?") });
        assert!(text.starts_with("Nos pages d'aide sont en anglais.\n\nPack the item"), "{text}");
        assert_eq!(answer(&Prompt { language_note: note, ..prompt("zebra quantum") }), "No idea.");
    }

    #[test]
    fn says_so_plainly_when_nothing_matches() {
        assert_eq!(answer(&prompt("zebra quantum")), "No idea.");
    }

    #[test]
    fn pieces_rebuild_the_text_exactly() {
        let text = "word ".repeat(40) + "end";
        let pieces = split_pieces(&text);
        assert!(pieces.len() > 1);
        assert_eq!(pieces.concat(), text);
    }
}
