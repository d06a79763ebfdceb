//! The bot: builds the prompt (persona, retrieved knowledge, bounded transcript) and hands it
//! to an [`Llm`]; [`reply`] streams the answer to the conversation, with timeouts, bounded
//! retries and cancellation.
//!
//! Two implementations fill the [`Llm`] seam: [`openai::OpenAiLlm`] for any
//! OpenAI-compatible server, and [`offline::OfflineLlm`], which answers from the knowledge
//! base alone so Baton runs with no model at all.

pub mod assist;
pub mod offline;
pub mod openai;
pub mod reply;

use std::sync::Arc;

use async_trait::async_trait;
use futures_util::stream::BoxStream;

use crate::knowledge::Retrieval;
use crate::protocol::{Event, EventBody, Speaker};

/// A transcript longer than this (in characters) is cut from the oldest end before it goes
/// into a prompt, whatever `history_messages` allows.
const MAX_HISTORY_CHARS: usize = 16_000;

/// The tool the model may call when the visitor needs a person; a call escalates the
/// conversation (reason `low_confidence`: the model judged itself out of its depth).
pub const HANDOFF_TOOL: &str = "handoff_to_human";

/// One piece of a reply, as the model writes it.
#[derive(Debug, Clone, PartialEq)]
pub enum Chunk {
    Text(String),
    /// A piece of a tool call: the name comes once, the JSON arguments in pieces.
    Tool {
        index: u32,
        name: Option<String>,
        arguments: String,
    },
    /// Log-probabilities of the tokens in this piece, when the provider sends them.
    Logprobs(Vec<f32>),
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum LlmError {
    #[error("the model did not answer in time")]
    Timeout,
    #[error("the model server answered with an error: {0}")]
    Server(String),
    #[error("the reply stream broke: {0}")]
    Stream(String),
    #[error("the model returned an empty reply")]
    Empty,
}

pub type ReplyStream = BoxStream<'static, Result<Chunk, LlmError>>;

/// A reply as it accumulates from its chunks.
#[derive(Debug, Default)]
pub struct Draft {
    pub text: String,
    /// Tool calls by index: name and JSON arguments.
    tools: std::collections::BTreeMap<u32, (String, String)>,
    logprobs: Vec<f32>,
}

impl Draft {
    /// Keeps a non-text chunk (text goes through [`Draft::text`] as it is streamed).
    pub fn absorb(&mut self, chunk: Chunk) {
        match chunk {
            Chunk::Text(piece) => self.text.push_str(&piece),
            Chunk::Tool { index, name, arguments } => {
                let call = self.tools.entry(index).or_default();
                if let Some(name) = name {
                    call.0 = name;
                }
                call.1.push_str(&arguments);
            }
            Chunk::Logprobs(logprobs) => self.logprobs.extend(logprobs),
        }
    }

    /// The reason given when the model called [`HANDOFF_TOOL`].
    pub fn handoff(&self) -> Option<String> {
        let (_, arguments) = self.tools.values().find(|(name, _)| name == HANDOFF_TOOL)?;
        let reason = serde_json::from_str::<serde_json::Value>(arguments)
            .ok()
            .and_then(|args| args["reason"].as_str().map(str::to_owned))
            .unwrap_or_else(|| "no reason given".to_owned());
        Some(reason)
    }

    /// The model's confidence in this reply, from its tokens' log-probabilities.
    pub fn model_confidence(&self) -> Option<f32> {
        crate::signals::model_confidence(&self.logprobs)
    }

    /// Nothing to show and nothing to act on: a failed reply.
    pub fn is_empty(&self) -> bool {
        self.text.trim().is_empty() && self.handoff().is_none()
    }
}

/// A language model (or a stand-in) that streams a reply to a prompt.
///
/// Contract: `start` returns once the request is under way; the stream then yields the reply
/// in order and ends when it is complete. Dropping the stream cancels the request. Timeouts and
/// retries are the caller's ([`reply`]), so every implementation is held to the same limits.
#[async_trait]
pub trait Llm: Send + Sync + 'static {
    async fn start(&self, prompt: &Prompt) -> Result<ReplyStream, LlmError>;

    /// How many of the prompt's passages a reply may draw on, and so how many sources it
    /// lists: a model reads them all; an answerer that quotes one passage cites one.
    fn cited_passages(&self) -> usize {
        usize::MAX
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    User,
    Assistant,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PromptMessage {
    pub role: Role,
    pub content: String,
}

/// Everything a model needs for one reply.
#[derive(Debug, Clone)]
pub struct Prompt {
    pub system: String,
    /// The transcript, oldest first, ending with the visitor's latest message.
    pub messages: Vec<PromptMessage>,
    pub model: String,
    pub temperature: f32,
    pub max_tokens: u32,
    /// The knowledge retrieved for the latest question (the offline answerer replies from it).
    pub retrieval: Retrieval,
    /// Below this confidence the knowledge base is taken not to answer the question.
    pub min_confidence: f32,
    /// What to say when it does not.
    pub no_answer: String,
    /// Offer the model the [`HANDOFF_TOOL`].
    pub handoff_tool: bool,
    /// Ask the provider for token log-probabilities (the model-confidence signal).
    pub logprobs: bool,
}

/// The persona, the rules, and the retrieved passages, numbered so the model can cite them.
pub fn system_prompt(
    persona_prompt: &str,
    bot_name: &str,
    site_title: &str,
    retrieval: &Retrieval,
    handoff_tool: bool,
) -> String {
    let mut system = format!(
        "{persona_prompt}\n\nYou are {bot_name}, the AI assistant of {site_title}. Answer from the knowledge base \
         excerpts below. If they do not contain the answer, say so plainly and offer to connect the visitor with a \
         person; never invent policies, prices, dates or order details. Reply in the visitor's language, briefly.\n"
    );
    if handoff_tool {
        system.push_str(&format!(
            "When the visitor asks for a person, or you cannot help from the excerpts, call {HANDOFF_TOOL} with a short reason.\n"
        ));
    }
    if retrieval.hits.is_empty() {
        system.push_str("\nNo knowledge base excerpt matches this question.\n");
    } else {
        system.push_str("\nKnowledge base excerpts:\n");
        for (i, hit) in retrieval.hits.iter().enumerate() {
            let passage = &hit.passage;
            system.push_str(&format!("\n[{}] {} ({})\n{}\n", i + 1, passage.title, passage.url, passage.text));
        }
    }
    system
}

/// What a reply answers: the visitor messages not yet answered, put last in the transcript
/// (a reply that was streaming when they arrived is stored after them, but answered earlier
/// questions).
pub struct PendingTurn {
    pub messages: Vec<PromptMessage>,
    /// The pending visitor messages, joined: what retrieval looks up.
    pub question: String,
    /// The newest pending visitor message's `seq`.
    pub through: u64,
}

/// Pending visitor messages are those after `answered_through`, or, when `None`, those after
/// the last message from anyone else. `None` when there is nothing to answer.
pub fn pending_turn(events: &[Arc<Event>], answered_through: Option<u64>) -> Option<PendingTurn> {
    let is_visitor = |e: &Event| matches!(e.body, EventBody::Message { from: Speaker::Visitor, .. });
    let is_message = |e: &Event| matches!(e.body, EventBody::Message { .. });
    let after = answered_through
        .unwrap_or_else(|| events.iter().rev().find(|e| is_message(e) && !is_visitor(e)).map_or(0, |e| e.seq));
    let (pending, earlier): (Vec<Arc<Event>>, Vec<Arc<Event>>) =
        events.iter().cloned().partition(|e| is_visitor(e) && e.seq > after);
    let through = pending.last()?.seq;
    let question = transcript(&pending).into_iter().map(|m| m.content).collect::<Vec<_>>().join("\n");
    let mut ordered = earlier;
    ordered.extend(pending);
    Some(PendingTurn { messages: transcript(&ordered), question, through })
}

/// The conversation as model messages: visitor turns are the user's, bot and agent turns the
/// assistant's (an agent's marked as such so the model does not contradict a person). System
/// messages and notes are left out. Bounded by `MAX_HISTORY_CHARS` from the newest end.
pub fn transcript(events: &[Arc<Event>]) -> Vec<PromptMessage> {
    let mut messages: Vec<PromptMessage> = events
        .iter()
        .filter_map(|event| match &event.body {
            EventBody::Message { from: Speaker::Visitor, text, .. } => {
                Some(PromptMessage { role: Role::User, content: text.clone() })
            }
            EventBody::Message { from: Speaker::Bot, text, .. } => {
                Some(PromptMessage { role: Role::Assistant, content: text.clone() })
            }
            EventBody::Message { from: Speaker::Agent, text, author, .. } => {
                let name = author.as_ref().map_or("a support agent", |a| a.name.as_str());
                Some(PromptMessage {
                    role: Role::Assistant,
                    content: format!("[{name}, a person on the support team, wrote:] {text}"),
                })
            }
            _ => None,
        })
        .collect();
    let mut total = 0;
    let keep_from = messages
        .iter()
        .rposition(|message| {
            total += message.content.chars().count();
            total > MAX_HISTORY_CHARS
        })
        .map_or(0, |i| i + 1);
    messages.drain(..keep_from);
    messages
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::protocol::{Author, ConversationId};
    use std::sync::Arc;

    /// A stored message for tests of transcript handling (here and in `assist`).
    pub(crate) fn message(from: Speaker, text: &str) -> Arc<Event> {
        Arc::new(Event {
            seq: 1,
            conversation_id: ConversationId::new(),
            at: chrono::Utc::now(),
            body: EventBody::Message {
                id: uuid::Uuid::new_v4(),
                from,
                text: text.into(),
                author: Some(Author { name: "Ana".into() }),
                client_id: None,
                sources: vec![],
                actions: vec![],
            },
        })
    }

    #[test]
    fn transcript_maps_speakers_to_roles_and_skips_system_messages() {
        let events = [
            message(Speaker::Bot, "Hi"),
            message(Speaker::Visitor, "Refund?"),
            message(Speaker::System, "x"),
            message(Speaker::Agent, "Done"),
        ];
        let roles: Vec<Role> = transcript(&events).iter().map(|m| m.role).collect();
        assert_eq!(roles, [Role::Assistant, Role::User, Role::Assistant]);
        assert!(transcript(&events)[2].content.contains("Ana"));
    }

    fn numbered(seq: u64, from: Speaker, text: &str) -> Arc<Event> {
        let mut event = (*message(from, text)).clone();
        event.seq = seq;
        Arc::new(event)
    }

    #[test]
    fn questions_that_arrived_during_a_reply_are_pending_and_go_last() {
        let events =
            [numbered(1, Speaker::Visitor, "q1"), numbered(2, Speaker::Visitor, "q2"), numbered(3, Speaker::Bot, "a1")];
        let turn = pending_turn(&events, Some(1)).unwrap();
        assert_eq!(turn.question, "q2");
        assert_eq!(turn.through, 2);
        let order: Vec<&str> = turn.messages.iter().map(|m| m.content.as_str()).collect();
        assert_eq!(order, ["q1", "a1", "q2"]);
        assert!(pending_turn(&events, Some(2)).is_none());
    }

    #[test]
    fn without_a_mark_the_messages_after_the_last_reply_are_pending() {
        let events =
            [numbered(1, Speaker::Bot, "hi"), numbered(2, Speaker::Visitor, "a"), numbered(3, Speaker::Visitor, "b")];
        let turn = pending_turn(&events, None).unwrap();
        assert_eq!(turn.question, "a\nb");
        assert!(pending_turn(&events[..1], None).is_none());
    }

    #[test]
    fn transcript_keeps_the_newest_messages_within_the_character_bound() {
        let long = "a".repeat(MAX_HISTORY_CHARS / 2);
        let events = [
            message(Speaker::Visitor, "oldest"),
            message(Speaker::Bot, &long),
            message(Speaker::Visitor, &long),
            message(Speaker::Visitor, "newest"),
        ];
        let kept = transcript(&events);
        assert_eq!(kept.last().unwrap().content, "newest");
        assert!(kept.iter().all(|m| m.content != "oldest"));
        assert!(kept.iter().map(|m| m.content.len()).sum::<usize>() <= MAX_HISTORY_CHARS);
    }
}
