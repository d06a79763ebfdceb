//! Help for the agent who takes a chat: a summary of the conversation so far and draft
//! replies. Without a model, the summary is extractive and the drafts are the best
//! knowledge-base passages, at once. With a model, those come first (views never wait on a
//! model) and the model's own arrive later as their own frames: streamed, what arrived kept
//! when it is slow, then judged (empty, or an echo of Baton's instructions or the transcript,
//! is not usable). An unusable one falls back to the same extractive summary or passages,
//! marked as such ([`AssistSource`]).

use futures_util::StreamExt;
use std::sync::Arc;
use tokio::time::{Instant, timeout_at};

use super::echo::Echo;
use super::grounding::{answering, ground};
use super::slots::Slots;
use super::{Chunk, Llm, Prompt, PromptMessage, Role};
use crate::config::LlmSettings;
use crate::knowledge::Retrieval;
pub use crate::protocol::agent::AssistSource;
use crate::protocol::{Event, EventBody, Speaker};
use crate::sites::Site;

/// Draft replies offered per visitor turn.
pub const SUGGESTIONS: usize = 3;
/// A draft from the knowledge base is cut to this many characters.
const SUGGESTION_CHARS: usize = 400;
/// Summaries are cut to this many characters.
const SUMMARY_CHARS: usize = 400;
/// Newest events a model sees when drafting suggestions.
const TRANSCRIPT_EVENTS: usize = 50;
/// Newest events searched for the visitor's latest run of messages without a model.
const LATEST_TURN_EVENTS: usize = 12;

#[derive(Clone)]
pub struct Assist {
    /// `None`: no model configured (the offline answerer is no summariser).
    model: Option<Arc<dyn Llm>>,
    slots: Slots,
    settings: LlmSettings,
}

/// A summary or drafts, and where they came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Assisted<T> {
    pub value: T,
    pub source: AssistSource,
}

impl Assist {
    pub fn new(model: Option<Arc<dyn Llm>>, slots: Slots, settings: LlmSettings) -> Assist {
        Assist { model, slots, settings }
    }

    pub fn has_model(&self) -> bool {
        self.model.is_some()
    }

    /// A model-written summary; the extractive one (so marked) when the model's is not usable.
    pub async fn model_summary(&self, site: &Site, events: &[Arc<Event>], detail: Option<&str>) -> Assisted<String> {
        let system = format!(
            "You help the support team of {}. Summarise the conversation below for the person taking it over, in at most \
             two sentences: what the visitor needs, what was already tried, and their mood. Write in English.",
            site.config.title
        );
        match self.ask(site, system, transcript_as_text(events)).await {
            Some(text) => Assisted { value: clip(&text, SUMMARY_CHARS), source: AssistSource::Model },
            None => Assisted { value: extractive_summary(events, detail), source: AssistSource::Extractive },
        }
    }

    /// How many of the newest events [`Self::suggestions`] needs: a model drafts from the
    /// transcript; without one, the drafts are searched with the visitor's latest run of
    /// messages, which a short page holds.
    pub fn suggestion_events(&self) -> usize {
        if self.model.is_some() { TRANSCRIPT_EVENTS } else { LATEST_TURN_EVENTS }
    }

    /// Drafts from the knowledge base, at once: what a view carries.
    pub fn passage_suggestions(&self, site: &Site, events: &[Arc<Event>]) -> Vec<String> {
        let question = latest_visitor_text(events);
        if question.is_empty() {
            return Vec::new();
        }
        passages(site, &question)
    }

    /// Draft replies to the visitor's latest messages: the model's when it has one and they
    /// are usable, else the knowledge base's (so marked).
    pub async fn suggestions(&self, site: &Site, events: &[Arc<Event>]) -> Assisted<Vec<String>> {
        let question = latest_visitor_text(events);
        site.prepare_search(&super::grounding::searched(&question)).await;
        let retrieval = ground(&site.knowledge, &question, SUGGESTIONS).retrieval;
        let fallback = Assisted { value: drafts(site, &retrieval), source: AssistSource::KnowledgeBase };
        if question.is_empty() || self.model.is_none() {
            return Assisted { value: if question.is_empty() { Vec::new() } else { fallback.value }, ..fallback };
        }
        let system = format!(
            "You draft replies for a person on the support team of {}. Using only the knowledge base excerpts below, \
             write {SUGGESTIONS} different short replies to the visitor's last message, one per line, without numbering. \
             Reply in the visitor's language.\n\n{}",
            site.config.title,
            excerpts(&retrieval)
        );
        let Some(text) = self.ask(site, system, transcript_as_text(events)).await else { return fallback };
        let drafts: Vec<String> = text
            .lines()
            .map(|l| l.trim().trim_start_matches(['-', '*', ' ']).trim())
            .filter(|l| !l.is_empty())
            .take(SUGGESTIONS)
            .map(str::to_owned)
            .collect();
        if drafts.is_empty() { fallback } else { Assisted { value: drafts, source: AssistSource::Model } }
    }

    /// The model's answer to one request, streamed: `None` when it failed before writing
    /// anything usable, what arrived (clean of echoes) otherwise.
    async fn ask(&self, site: &Site, system: String, conversation: String) -> Option<String> {
        let model = self.model.as_ref()?;
        // The transcript reaches the model masked; the agent's console shows it as typed.
        let conversation = site.redactor.mask(&conversation).into_owned();
        let echo = Echo::new(&system, &conversation, Vec::new(), 0);
        let prompt = Prompt {
            system,
            messages: vec![PromptMessage { role: Role::User, content: conversation }],
            model: site.config.llm.model.clone().unwrap_or_else(|| self.settings.model.clone()),
            temperature: 0.2,
            max_tokens: 300,
            retrieval: Retrieval::default(),
            parts: Vec::new(),
            min_confidence: 0.0,
            no_answer: String::new(),
            language_note: None,
            handoff_tool: false,
            logprobs: false,
            budget: super::budget::bucket(&site.config).map(|b| (b, site.config.id.clone())),
            tools: Vec::new(),
            rounds: Vec::new(),
        };
        let _slot = self.slots.acquire().await.ok()?;
        let (stall, cut) = (self.settings.first_token_timeout(), self.settings.assist_timeout());
        let mut stream = timeout_at(Instant::now() + stall, model.start(&prompt)).await.ok()?.ok()?;
        let mut text = String::new();
        let mut first: Option<Instant> = None;
        loop {
            let next = first.map_or(Instant::now() + stall, |f| (Instant::now() + stall).min(f + cut));
            match timeout_at(next, stream.next()).await {
                Ok(Some(Ok(Chunk::Text(piece)))) => {
                    first.get_or_insert_with(Instant::now);
                    text.push_str(&piece);
                }
                Ok(Some(Ok(_))) => {}
                Ok(None) | Ok(Some(Err(_))) | Err(_) => break,
            }
        }
        // Lines in the transcript's own format are the transcript parroted.
        let kept: Vec<&str> = text
            .lines()
            .filter(|l| !l.trim_start().starts_with("Visitor:") && !l.trim_start().starts_with("Support:"))
            .collect();
        let cleaned = echo.clean(&kept.join("\n")).text;
        if cleaned.is_empty() {
            tracing::info!(chars = text.len(), "the model's help for the agent was empty or an echo; falling back");
            return None;
        }
        Some(cleaned)
    }
}

/// Drafts for `question` from the knowledge base, searched as the bot's reply searches it.
fn passages(site: &Site, question: &str) -> Vec<String> {
    drafts(site, &ground(&site.knowledge, question, SUGGESTIONS).retrieval)
}

/// The first paragraphs of the passages the bot may quote (the same bar as its replies, so
/// the agent is not offered as the answer what the bot told the visitor it could not find).
fn drafts(site: &Site, retrieval: &Retrieval) -> Vec<String> {
    answering(retrieval, site.config.bot.min_confidence)
        .iter()
        .map(|hit| clip(first_paragraph(&hit.passage.text), SUGGESTION_CHARS))
        .collect()
}

/// What the visitor asked first, what they said last, and why the bot handed over.
pub fn extractive_summary(events: &[Arc<Event>], detail: Option<&str>) -> String {
    let visitor: Vec<&str> = events.iter().filter_map(|e| visitor_text(e)).collect();
    let mut parts = Vec::new();
    if let Some(first) = visitor.first() {
        parts.push(format!("Asked: \"{}\"", clip(first, 140)));
    }
    if visitor.len() > 1
        && let Some(last) = visitor.last()
    {
        parts.push(format!("Latest: \"{}\"", clip(last, 140)));
    }
    if let Some(detail) = detail {
        parts.push(format!("Handed over because {detail}"));
    }
    if parts.is_empty() {
        return "The visitor has not written yet.".into();
    }
    clip(&parts.join(" · "), SUMMARY_CHARS)
}

fn visitor_text(event: &Event) -> Option<&str> {
    match &event.body {
        EventBody::Message { from: Speaker::Visitor, text, .. } => Some(text),
        _ => None,
    }
}

/// The visitor's messages since the bot or an agent last spoke (Baton's own system notices
/// do not count), joined; when that leaves nothing, the visitor's last message.
pub fn latest_visitor_text(events: &[Arc<Event>]) -> String {
    let spoken = |e: &&Arc<Event>| matches!(e.body, EventBody::Message { from, .. } if from != Speaker::System);
    let mut texts: Vec<&str> = events.iter().rev().filter(spoken).map_while(|e| visitor_text(e)).collect();
    texts.reverse();
    if texts.is_empty() {
        return events.iter().rev().find_map(|e| visitor_text(e)).unwrap_or_default().to_owned();
    }
    texts.join("\n")
}

fn transcript_as_text(events: &[Arc<Event>]) -> String {
    let lines: Vec<String> = super::transcript(events)
        .into_iter()
        .map(|m| format!("{}: {}", if m.role == Role::User { "Visitor" } else { "Support" }, m.content))
        .collect();
    lines.join("\n")
}

fn excerpts(retrieval: &Retrieval) -> String {
    retrieval
        .hits
        .iter()
        .map(|hit| format!("[{}]\n{}", hit.passage.title, hit.passage.text))
        .collect::<Vec<_>>()
        .join("\n\n")
}

fn first_paragraph(text: &str) -> &str {
    text.split("\n\n").next().unwrap_or(text).trim()
}

fn clip(text: &str, max_chars: usize) -> String {
    match text.char_indices().nth(max_chars) {
        Some((cut, _)) => format!("{}…", text[..cut].trim_end()),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bot::tests::message;

    #[test]
    fn the_extractive_summary_gives_the_first_and_latest_ask_and_the_reason() {
        let events = [
            message(Speaker::Bot, "Hi"),
            message(Speaker::Visitor, "My parcel is late"),
            message(Speaker::Bot, "Sorry"),
            message(Speaker::Visitor, "I want a person"),
        ];
        let summary = extractive_summary(&events, Some("the visitor asked for a person"));
        assert!(
            summary.contains("My parcel is late")
                && summary.contains("I want a person")
                && summary.contains("asked for a person"),
            "{summary}"
        );
        assert_eq!(extractive_summary(&events[..1], None), "The visitor has not written yet.");
    }

    #[test]
    fn the_latest_visitor_text_is_everything_since_someone_else_spoke() {
        let events = [
            message(Speaker::Visitor, "old"),
            message(Speaker::Agent, "reply"),
            message(Speaker::Visitor, "a"),
            message(Speaker::Visitor, "b"),
        ];
        assert_eq!(latest_visitor_text(&events), "a\nb");
    }

    #[test]
    fn clipping_counts_characters_and_marks_the_cut() {
        assert_eq!(clip("héllo wörld", 5), "héllo…");
        assert_eq!(clip("short", 10), "short");
    }
}
