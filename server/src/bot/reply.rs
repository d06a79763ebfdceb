//! Streams one bot reply into a conversation: `bot_delta` frames as the model writes, then
//! the stored `message` whose `id` is the deltas' `reply_id`.
//!
//! Limits, all from `[llm]`: the first piece must arrive within `first_token_timeout`, and so
//! must each next piece (a stalled stream is a failed one); the whole reply within `timeout`.
//! A failed attempt is retried (at most `max_retries` times, with a short backoff) only while
//! nothing has reached the visitor, so a visitor never sees a reply start twice. When it still
//! fails, the visitor is told so at once, the failure is counted on the conversation
//! ([`Counter::BotErrors`], the escalation policy's `bot_error` signal), and the conversation
//! carries on: the next question gets a fresh attempt.
//!
//! The reply follows its conversation on the hub while it streams: a `state` event that
//! takes the conversation out of the bot's hands (a person took over, the visitor ended it),
//! from whichever node, cuts it off at once.
//!
//! One reply at a time per conversation on this node: questions that arrive while a reply
//! streams are answered together by one more reply afterwards (the model sees them all in the
//! transcript), so a burst of messages cannot start a burst of model calls.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use futures_util::StreamExt;
use tokio::time::{Instant, timeout_at};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::{Chunk, Draft, Llm, LlmError, Prompt};
use crate::agents::dispatch::{Dispatch, Escalation};
use crate::config::LlmSettings;
use crate::conversation::escalation_record;
use crate::hub::{Hub, Outbox};
use crate::protocol::{Author, ConversationId, Ephemeral, EventBody, Reason, Source, Speaker, State};
use crate::sites::Site;
use crate::store::{Appended, Counter, Delivery, EventDraft, Store, StoreError, Topic};

/// The bot may speak while the conversation is in these states.
pub const BOT_STATES: &[State] = &[State::Bot, State::Queued];
/// Backoff before retry n (1-based) is this times 2^(n-1).
const RETRY_BACKOFF: Duration = Duration::from_millis(200);
/// Sources listed under a reply.
const MAX_SOURCES: usize = 3;
/// Frames a streaming reply can fall behind on its own conversation (it reads them as fast
/// as they come; its own deltas are most of them).
const TAKEOVER_QUEUE: usize = 1024;

pub struct Replier {
    llm: Arc<dyn Llm>,
    store: Arc<dyn Store>,
    hub: Hub,
    dispatch: Arc<Dispatch>,
    settings: LlmSettings,
    /// Replies under way on this node. Short-held: inserts, flags and removals only.
    running: Mutex<HashMap<ConversationId, Running>>,
}

struct Running {
    cancel: CancellationToken,
    /// Another question arrived while this reply was streaming.
    again: bool,
    /// Stored right after the next reply (the escalation policy's offer of a person).
    follow_up: Option<EventBody>,
}

enum Outcome {
    Done(Draft),
    Cancelled { sent_any: bool },
    Failed { error: LlmError, sent_any: bool },
}

impl Outcome {
    fn label(&self) -> &'static str {
        match self {
            Outcome::Done(_) => "done",
            Outcome::Cancelled { .. } => "cancelled",
            Outcome::Failed { .. } => "failed",
        }
    }
}

impl Replier {
    pub fn new(
        llm: Arc<dyn Llm>,
        store: Arc<dyn Store>,
        hub: Hub,
        dispatch: Arc<Dispatch>,
        settings: LlmSettings,
    ) -> Arc<Replier> {
        Arc::new(Replier { llm, store, hub, dispatch, settings, running: Mutex::new(HashMap::new()) })
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<ConversationId, Running>> {
        self.running.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Answers the conversation's latest visitor message(s), now or right after the reply
    /// that is streaming; `follow_up` is stored after that answer.
    pub fn request(self: &Arc<Self>, site: Arc<Site>, id: ConversationId, follow_up: Option<EventBody>) {
        let mut running = self.lock();
        if let Some(entry) = running.get_mut(&id) {
            if entry.cancel.is_cancelled() {
                entry.cancel = CancellationToken::new();
            }
            entry.again = true;
            entry.follow_up = follow_up.or(entry.follow_up.take());
            return;
        }
        running.insert(id, Running { cancel: CancellationToken::new(), again: false, follow_up });
        drop(running);
        let this = self.clone();
        tokio::spawn(async move { this.run(site, id).await });
    }

    /// Cuts off the reply streaming in this conversation, if any (takeover, resolve, end).
    pub fn cancel(&self, id: ConversationId) {
        if let Some(entry) = self.lock().get_mut(&id) {
            tracing::debug!(conversation_id = %id, "cancelling the streaming reply");
            entry.cancel.cancel();
            entry.again = false;
        }
    }

    async fn run(self: Arc<Self>, site: Arc<Site>, id: ConversationId) {
        let mut answered_through = None;
        loop {
            let Some((cancel, follow_up)) =
                self.lock().get_mut(&id).map(|entry| (entry.cancel.clone(), entry.follow_up.take()))
            else {
                return;
            };
            match self.answer(&site, id, &cancel, answered_through).await {
                Ok(through) => answered_through = through.or(answered_through),
                Err(error) => tracing::warn!(conversation_id = %id, %error, "bot reply not delivered"),
            }
            if let Some(body) = follow_up.filter(|_| !cancel.is_cancelled())
                && let Err(error) = self.store.append(id, EventDraft::new(body).expect(BOT_STATES)).await
            {
                tracing::warn!(conversation_id = %id, %error, "follow-up not stored");
            }
            let mut running = self.lock();
            match running.get_mut(&id) {
                Some(entry) if entry.again && !entry.cancel.is_cancelled() => entry.again = false,
                _ => {
                    running.remove(&id);
                    return;
                }
            }
        }
    }

    #[tracing::instrument(name = "bot_reply", skip_all, fields(conversation_id = %id, site = %site.config.id))]
    /// Answers the visitor messages not yet answered (after `answered_through`, or after the
    /// last reply when `None`); returns the newest visitor `seq` it answered.
    async fn answer(
        &self,
        site: &Site,
        id: ConversationId,
        cancel: &CancellationToken,
        answered_through: Option<u64>,
    ) -> Result<Option<u64>, StoreError> {
        let conversation = self.store.conversation(id).await?.ok_or(StoreError::NotFound)?;
        if !BOT_STATES.contains(&conversation.state) {
            return Ok(None);
        }
        let events = self.store.recent_events(id, self.settings.history_messages).await?;
        let Some(turn) = super::pending_turn(&events, answered_through) else { return Ok(None) };
        let retrieval = site.knowledge.search(&turn.question, self.settings.passages);
        let mut prompt = self.prompt(site, turn.messages, retrieval);
        if let Some(handback) = conversation.attrs.get("handback") {
            prompt.system.push_str(&format!(
                "\nA person from the team ({}) handled part of this conversation and handed it back to you. What they told \
                 the visitor:\n{}\nDo not contradict them.\n",
                handback["agent"].as_str().unwrap_or("an agent"),
                handback["said"].as_str().unwrap_or("")
            ));
        }
        let reply_id = Uuid::new_v4();
        let typing = |on| Ephemeral::Typing { conversation_id: id, from: Speaker::Bot, on };
        self.store.publish(id, &typing(true)).await?;
        let outcome = self.stream(&prompt, id, reply_id, cancel).await;
        tracing::debug!(outcome = outcome.label(), "reply ended");
        self.store.publish(id, &typing(false)).await?;
        match outcome {
            Outcome::Done(text) => self.finish(site, id, reply_id, text, &prompt).await?,
            Outcome::Cancelled { sent_any } => self.cut(id, reply_id, sent_any).await?,
            Outcome::Failed { error, sent_any } => {
                tracing::warn!(%error, "bot reply failed");
                self.cut(id, reply_id, sent_any).await?;
                self.failed(site, id, &error).await?;
            }
        }
        Ok(Some(turn.through))
    }

    fn prompt(
        &self,
        site: &Site,
        messages: Vec<super::PromptMessage>,
        retrieval: crate::knowledge::Retrieval,
    ) -> Prompt {
        let config = &site.config;
        Prompt {
            system: super::system_prompt(
                &config.persona.system_prompt,
                &config.persona.bot_name,
                &config.title,
                &retrieval,
                self.settings.handoff_tool,
            ),
            messages,
            model: config.llm.model.clone().unwrap_or_else(|| self.settings.model.clone()),
            temperature: config.llm.temperature.unwrap_or(self.settings.temperature),
            max_tokens: config.llm.max_tokens.unwrap_or(self.settings.max_tokens),
            retrieval,
            min_confidence: config.bot.min_confidence,
            no_answer: config.bot.no_answer.clone(),
            handoff_tool: self.settings.handoff_tool,
            logprobs: self.settings.logprobs,
        }
    }

    async fn stream(&self, prompt: &Prompt, id: ConversationId, reply_id: Uuid, cancel: &CancellationToken) -> Outcome {
        let deadline = Instant::now() + self.settings.timeout();
        let (outbox, mut events) = Outbox::new(TAKEOVER_QUEUE, false);
        let _following = self.hub.subscribe(Topic::Conversation(id), outbox);
        let mut attempt = 0;
        loop {
            let mut draft = Draft::default();
            let result = tokio::select! {
                _ = cancel.cancelled() => None,
                _ = taken_over(&mut events) => None,
                result = self.attempt(prompt, id, reply_id, deadline, &mut draft) => Some(result),
            };
            let sent_any = !draft.text.is_empty();
            let Some(outcome) = result else { return Outcome::Cancelled { sent_any } };
            match outcome {
                Ok(()) if draft.is_empty() => return Outcome::Failed { error: LlmError::Empty, sent_any },
                Ok(()) => return Outcome::Done(draft),
                Err(error) if !sent_any && attempt < self.settings.max_retries && Instant::now() < deadline => {
                    attempt += 1;
                    tracing::info!(%error, attempt, "retrying the model");
                    tokio::time::sleep(RETRY_BACKOFF * 2u32.pow(attempt - 1)).await;
                }
                Err(error) => return Outcome::Failed { error, sent_any },
            }
        }
    }

    /// One request to the model; every piece goes out as a `bot_delta` as it arrives.
    async fn attempt(
        &self,
        prompt: &Prompt,
        id: ConversationId,
        reply_id: Uuid,
        deadline: Instant,
        draft: &mut Draft,
    ) -> Result<(), LlmError> {
        let stall = self.settings.first_token_timeout();
        let next_deadline = || (Instant::now() + stall).min(deadline);
        let mut stream = timeout_at(next_deadline(), self.llm.start(prompt)).await.map_err(|_| LlmError::Timeout)??;
        while let Some(chunk) = timeout_at(next_deadline(), stream.next()).await.map_err(|_| LlmError::Timeout)? {
            let piece = match chunk? {
                Chunk::Text(piece) => piece,
                other => {
                    draft.absorb(other);
                    continue;
                }
            };
            draft.text.push_str(&piece);
            let delta = Ephemeral::BotDelta { conversation_id: id, reply_id, text: piece };
            // A delta that cannot be published is only a lost preview: the stored message follows.
            if let Err(error) = self.store.publish(id, &delta).await {
                tracing::debug!(%error, "bot_delta not published");
            }
        }
        Ok(())
    }

    async fn finish(
        &self,
        site: &Site,
        id: ConversationId,
        reply_id: Uuid,
        draft: Draft,
        prompt: &Prompt,
    ) -> Result<(), StoreError> {
        if let Some(confidence) = draft.model_confidence() {
            self.store.set_attr(id, "model_confidence", serde_json::json!(confidence)).await?;
        }
        let handoff = draft.handoff();
        if !draft.text.trim().is_empty() {
            let body = EventBody::Message {
                id: reply_id,
                from: Speaker::Bot,
                text: draft.text,
                author: Some(Author { name: site.config.persona.bot_name.clone() }),
                client_id: None,
                sources: sources(prompt, self.llm.cited_passages()),
                actions: vec![],
            };
            match self.store.append(id, EventDraft::new(body).expect(BOT_STATES)).await? {
                // A person took over while the reply was streaming: the bot stays silent.
                Appended::Refused { .. } => return self.cut(id, reply_id, true).await,
                _ => drop(self.store.incr(id, Counter::BotTurns, 1).await?),
            }
        }
        let Some(reason) = handoff else { return Ok(()) };
        tracing::info!(%reason, "the model asked for a person");
        let escalation = &site.config.escalation;
        let detail = format!("the model called {}: {reason}", super::HANDOFF_TOOL);
        let (reason, priority) = (Reason::LowConfidence, escalation.priorities.low_confidence);
        let record = escalation_record(reason, priority, &detail, None);
        let notice = site.policy.message(reason).to_owned();
        self.dispatch.escalate(site, id, Escalation { reason, priority, notice, record, topic: None }).await
    }

    /// Counts the failure and tells the visitor; repeated failures go to a person at once.
    async fn failed(&self, site: &Site, id: ConversationId, error: &LlmError) -> Result<(), StoreError> {
        let failures = self.store.incr(id, Counter::BotErrors, 1).await?;
        let apology = system_message(site.config.bot.error_message.clone());
        self.store.append(id, EventDraft::new(apology)).await?;
        let escalation = &site.config.escalation;
        let limit = i64::from(escalation.max_bot_errors);
        if limit == 0 || failures < limit {
            return Ok(());
        }
        let detail = format!("{failures} failed bot replies (limit {limit}); last: {error}");
        let (reason, priority) = (Reason::BotError, escalation.priorities.bot_error);
        let record = escalation_record(reason, priority, &detail, None);
        let notice = site.policy.message(reason).to_owned();
        self.dispatch.escalate(site, id, Escalation { reason, priority, notice, record, topic: None }).await
    }

    async fn cut(&self, id: ConversationId, reply_id: Uuid, sent_any: bool) -> Result<(), StoreError> {
        if !sent_any {
            return Ok(());
        }
        self.store.publish(id, &Ephemeral::BotCancelled { conversation_id: id, reply_id }).await
    }
}

/// Returns when a stored `state` event takes the conversation out of the bot's states.
async fn taken_over(events: &mut tokio::sync::mpsc::Receiver<Delivery>) {
    while let Some(delivery) = events.recv().await {
        if delivery.seq.is_none() || !delivery.json.contains("\"type\":\"state\"") {
            continue;
        }
        let state = serde_json::from_str::<serde_json::Value>(&delivery.json)
            .ok()
            .and_then(|v| serde_json::from_value::<State>(v["state"].clone()).ok());
        if state.is_some_and(|state| !BOT_STATES.contains(&state)) {
            return;
        }
    }
    std::future::pending::<()>().await;
}

/// The passages a reply stands on: the best match, and close runners-up, when the knowledge
/// base covers the question at all.
fn sources(prompt: &Prompt, cited: usize) -> Vec<Source> {
    let retrieval = &prompt.retrieval;
    let Some(best) = retrieval.hits.first().filter(|_| retrieval.confidence >= prompt.min_confidence) else {
        return Vec::new();
    };
    let mut sources: Vec<Source> = Vec::new();
    for hit in retrieval.hits.iter().filter(|hit| hit.score >= best.score * 0.8) {
        if sources.len() < MAX_SOURCES.min(cited) && !sources.iter().any(|s| s.url == hit.passage.url) {
            sources.push(Source { title: hit.passage.title.clone(), url: hit.passage.url.clone() });
        }
    }
    sources
}

pub fn system_message(text: String) -> EventBody {
    EventBody::Message {
        id: Uuid::new_v4(),
        from: Speaker::System,
        text,
        author: None,
        client_id: None,
        sources: vec![],
        actions: vec![],
    }
}
