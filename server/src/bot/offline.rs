//! The offline answerer: no model, no key. It quotes the best-matching knowledge-base passage
//! (the reply's `sources` link it) and says plainly when nothing matches. It streams the quote
//! in pieces like a model would, so clients have one code path.

use async_trait::async_trait;
use futures_util::stream;

use super::{Chunk, Llm, LlmError, Prompt, ReplyStream};

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
    !prompt.retrieval.hits.is_empty() && prompt.retrieval.confidence >= prompt.min_confidence
}

fn answer(prompt: &Prompt) -> String {
    match prompt.retrieval.hits.first() {
        Some(best) if prompt.retrieval.confidence >= prompt.min_confidence => {
            let title = best.passage.title.rsplit(" › ").next().unwrap_or(&best.passage.title);
            format!("Here is what our help pages say about **{title}**:\n\n{}", best.passage.text)
        }
        _ => prompt.no_answer.clone(),
    }
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
            min_confidence: 0.3,
            no_answer: "No idea.".into(),
            handoff_tool: false,
            logprobs: false,
            budget: None,
        }
    }

    #[test]
    fn quotes_the_best_passage_when_it_matches() {
        let text = answer(&prompt("How do I return an item?"));
        assert!(text.contains("return label"), "{text}");
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
