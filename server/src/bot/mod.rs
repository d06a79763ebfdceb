//! The bot: builds the prompt (persona, retrieved knowledge, bounded transcript) and hands it
//! to an [`Llm`]; [`reply`] streams the answer to the conversation, with timeouts, bounded
//! retries and cancellation.
//!
//! Two implementations fill the [`Llm`] seam: [`openai::OpenAiLlm`] for any
//! OpenAI-compatible server, and [`offline::OfflineLlm`], which answers from the knowledge
//! base alone so Baton runs with no model at all.

mod acting;
pub mod actions;
pub mod assist;
mod attempt;
pub mod budget;
pub mod echo;
pub mod embeddings;
pub mod grounding;
pub mod language;
pub mod offline;
pub mod openai;
pub mod probe;
pub mod prompt;
pub mod reply;
pub mod slots;

use async_trait::async_trait;
use futures_util::stream::BoxStream;

use crate::knowledge::Retrieval;

/// The tool the model may call when the visitor needs a person; a call escalates the
/// conversation (reason `model_handoff`, with the reason the model gave).
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
    /// Why the model stopped (the stream's last choice says so; a stream cut by a one-slot
    /// server's interrupt ends without one).
    Finish(Finish),
    /// The request's total tokens, as the server counted them (asked for only when the site
    /// has a budget, see [`budget`]).
    Usage(u64),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Finish {
    Stop,
    /// `max_tokens` was reached: the text is cut.
    Length,
    ToolCalls,
    /// Anything else (`content_filter`, …).
    Other,
}

/// What went wrong with a model request, each said as what it is (the log and the
/// escalation's detail carry it).
#[derive(Debug, Clone, thiserror::Error)]
pub enum LlmError {
    #[error("the model did not answer in time")]
    Timeout,
    #[error("waited too long for a free slot at the model (llm.max_concurrent)")]
    Busy,
    #[error("could not connect to the model server: {0}")]
    Connect(String),
    #[error("the model endpoint answered 404 at {0} (does llm.base_url end in /v1?)")]
    NotFound(String),
    #[error("the model server answered with an error: {0}")]
    Server(String),
    #[error("the reply stream broke: {0}")]
    Stream(String),
    #[error("the model returned an empty reply")]
    Empty,
    #[error("the site's model budget for the day is spent (llm.daily_token_budget)")]
    BudgetSpent,
}

impl LlmError {
    /// A 404 is the base URL's fault: asking again cannot help.
    pub fn is_retryable(&self) -> bool {
        !matches!(self, LlmError::NotFound(_) | LlmError::BudgetSpent)
    }

    /// The failure's kind, as `baton_llm_failures_total` labels it.
    pub fn kind(&self) -> &'static str {
        match self {
            LlmError::Timeout => "timeout",
            LlmError::Busy => "busy",
            LlmError::Connect(_) => "connect",
            LlmError::NotFound(_) => "not_found",
            LlmError::Server(_) => "server",
            LlmError::Stream(_) => "stream",
            LlmError::Empty => "empty",
            LlmError::BudgetSpent => "budget",
        }
    }
}

pub type ReplyStream = BoxStream<'static, Result<Chunk, LlmError>>;

/// A reply as it accumulates from its chunks.
#[derive(Debug, Default)]
pub struct Draft {
    pub text: String,
    /// Tool calls by index: name and JSON arguments.
    tools: std::collections::BTreeMap<u32, (String, String)>,
    logprobs: Vec<f32>,
    /// The finish reason, when the stream gave one.
    pub finish: Option<Finish>,
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
            Chunk::Finish(finish) => self.finish = Some(finish),
            Chunk::Usage(_) => {}
        }
    }

    /// The first call of a tool other than [`HANDOFF_TOOL`] (a site action): name and JSON
    /// arguments. Further calls in the same reply are left for the model to make again.
    pub fn action_call(&self) -> Option<(&str, &str)> {
        let mut calls = self.tools.values().filter(|(name, _)| name != HANDOFF_TOOL && !name.is_empty());
        calls.next().map(|(name, arguments)| (name.as_str(), arguments.as_str()))
    }

    /// The reason given when the model called [`HANDOFF_TOOL`].
    pub fn handoff(&self) -> Option<String> {
        let (_, arguments) = self.tools.values().find(|(name, _)| name == HANDOFF_TOOL)?;
        let reason = serde_json::from_str::<serde_json::Value>(arguments)
            .ok()
            .and_then(|args| args["reason"].as_str().map(str::to_owned))
            .filter(|reason| !reason.trim().is_empty());
        // Arguments that are not the JSON asked for are still the model's words.
        let raw: String = arguments.trim().chars().take(200).collect();
        Some(reason.unwrap_or(if raw.is_empty() { "the model gave no reason".to_owned() } else { raw }))
    }

    /// The model's confidence in this reply, from its tokens' log-probabilities.
    pub fn model_confidence(&self) -> Option<f32> {
        crate::signals::model_confidence(&self.logprobs)
    }

    /// Whether any log-probabilities came with the reply.
    pub fn has_logprobs(&self) -> bool {
        !self.logprobs.is_empty()
    }

    /// Nothing to show and nothing to act on: a failed reply.
    pub fn is_empty(&self) -> bool {
        self.text.trim().is_empty() && self.handoff().is_none() && self.action_call().is_none()
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

    /// A model writes its own words, which are checked for echoes of the prompt and whose
    /// citations pick the sources; the offline answerer quotes one passage and cites it.
    fn is_model(&self) -> bool {
        true
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
    /// The question's parts with their own retrievals, when it asks several things.
    pub parts: Vec<grounding::Asked>,
    /// Below this confidence the knowledge base is taken not to answer the question.
    pub min_confidence: f32,
    /// What to say when it does not.
    pub no_answer: String,
    /// The offline answerer's line before its passage when the visitor writes another
    /// language than the help pages' ([`language`]).
    pub language_note: Option<String>,
    /// Offer the model the [`HANDOFF_TOOL`].
    pub handoff_tool: bool,
    /// Ask the provider for token log-probabilities (the model-confidence signal).
    pub logprobs: bool,
    /// The site's spend bucket and id, when it has a budget ([`budget`]).
    pub budget: Option<(crate::store::allowance::Bucket, String)>,
    /// The site's actions the model may call ([`actions`]); empty once the reply's calls are
    /// spent, so the model must answer.
    pub tools: Vec<ToolSpec>,
    /// The calls made so far in this reply, with what each gave, after the transcript.
    pub rounds: Vec<ToolRound>,
}

/// A site action offered to the model as a tool.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolSpec {
    pub name: String,
    pub description: String,
    /// The arguments' JSON Schema.
    pub parameters: serde_json::Value,
}

/// A call the model made earlier in this reply and what it is told came of it.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolRound {
    /// Baton's id for the call (the model's own is not kept; the pair only has to match).
    pub id: String,
    pub name: String,
    pub arguments: String,
    /// What the model wrote before the call.
    pub said: String,
    /// The endpoint's answer, or what stopped the call, for the model.
    pub result: String,
}

pub use prompt::{PendingTurn, alternate, pending_turn, system_prompt, transcript};

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::protocol::{Author, ConversationId, Event, EventBody, Speaker};
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
                notice: None,
            },
        })
    }

    pub(crate) fn numbered(seq: u64, from: Speaker, text: &str) -> Arc<Event> {
        let mut event = (*message(from, text)).clone();
        event.seq = seq;
        Arc::new(event)
    }

    #[test]
    fn tool_calls_are_assembled_by_index_even_when_every_piece_repeats_the_name() {
        let mut draft = Draft::default();
        for piece in ["{\"rea", "son\": \"wants", " a refund\"}"] {
            draft.absorb(Chunk::Tool { index: 0, name: Some(HANDOFF_TOOL.into()), arguments: piece.into() });
        }
        assert_eq!(draft.handoff().as_deref(), Some("wants a refund"));
    }
}
