//! Help for the agent who takes a chat: a summary of the conversation so far and draft
//! replies. With a model configured both come from it (the drafts grounded in the knowledge
//! base); without one, the summary is extractive and the drafts are the best knowledge-base
//! passages. A model that fails or is slow falls back to the same, so an agent always gets
//! something at once.

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;

use super::{Chunk, Llm, Prompt, PromptMessage, Role};
use crate::config::LlmSettings;
use crate::knowledge::Retrieval;
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
/// Drafts must be quick to be useful; the agent is typing meanwhile.
const ASSIST_TIMEOUT: Duration = Duration::from_secs(15);

#[derive(Clone)]
pub struct Assist {
    /// `None`: no model configured (the offline answerer is no summariser).
    model: Option<Arc<dyn Llm>>,
    settings: LlmSettings,
}

impl Assist {
    pub fn new(model: Option<Arc<dyn Llm>>, settings: LlmSettings) -> Assist {
        Assist { model, settings }
    }

    pub fn has_model(&self) -> bool {
        self.model.is_some()
    }

    /// A model-written summary; `None` without a model or when it fails.
    pub async fn model_summary(&self, site: &Site, events: &[Arc<Event>]) -> Option<String> {
        let system = format!(
            "You help the support team of {}. Summarise the conversation below for the person taking it over, in at most \
             two sentences: what the visitor needs, what was already tried, and their mood. Write in English.",
            site.config.title
        );
        let text = self.ask(site, system, transcript_as_text(events)).await?;
        Some(clip(text.trim(), SUMMARY_CHARS))
    }

    /// How many of the newest events [`Self::suggestions`] needs: a model drafts from the
    /// transcript; without one, the drafts are searched with the visitor's latest run of
    /// messages, which a short page holds.
    pub fn suggestion_events(&self) -> usize {
        if self.model.is_some() { TRANSCRIPT_EVENTS } else { LATEST_TURN_EVENTS }
    }

    /// Draft replies to the visitor's latest messages.
    pub async fn suggestions(&self, site: &Site, events: &[Arc<Event>]) -> Vec<String> {
        let question = latest_visitor_text(events);
        if question.is_empty() {
            return Vec::new();
        }
        let retrieval = site.knowledge.search(&question, SUGGESTIONS);
        if self.model.is_some() {
            let system = format!(
                "You draft replies for a person on the support team of {}. Using only the knowledge base excerpts below, \
                 write {SUGGESTIONS} different short replies to the visitor's last message, one per line, without numbering. \
                 Reply in the visitor's language.\n\n{}",
                site.config.title,
                excerpts(&retrieval)
            );
            if let Some(text) = self.ask(site, system, transcript_as_text(events)).await {
                let drafts: Vec<String> = text
                    .lines()
                    .map(|l| l.trim().trim_start_matches(['-', '*', ' ']).trim())
                    .filter(|l| !l.is_empty())
                    .take(SUGGESTIONS)
                    .map(str::to_owned)
                    .collect();
                if !drafts.is_empty() {
                    return drafts;
                }
            }
        }
        retrieval
            .hits
            .iter()
            .filter(|_| retrieval.confidence > 0.0)
            .map(|hit| clip(first_paragraph(&hit.passage.text), SUGGESTION_CHARS))
            .collect()
    }

    async fn ask(&self, site: &Site, system: String, conversation: String) -> Option<String> {
        let model = self.model.as_ref()?;
        let prompt = Prompt {
            system,
            messages: vec![PromptMessage { role: Role::User, content: conversation }],
            model: site.config.llm.model.clone().unwrap_or_else(|| self.settings.model.clone()),
            temperature: 0.2,
            max_tokens: 300,
            retrieval: Retrieval::default(),
            min_confidence: 0.0,
            no_answer: String::new(),
            handoff_tool: false,
            logprobs: false,
        };
        let collect = async {
            let mut stream = model.start(&prompt).await.ok()?;
            let mut text = String::new();
            while let Some(chunk) = stream.next().await {
                if let Chunk::Text(piece) = chunk.ok()? {
                    text.push_str(&piece);
                }
            }
            (!text.trim().is_empty()).then_some(text)
        };
        tokio::time::timeout(ASSIST_TIMEOUT.min(self.settings.timeout()), collect).await.ok().flatten()
    }
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
