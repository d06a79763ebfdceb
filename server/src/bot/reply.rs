//! Streams one bot reply into a conversation: `bot_delta` frames as the model writes, then
//! the stored `message` whose `id` is the deltas' `reply_id`.
//!
//! Limits, all from `[llm]`: the first piece must arrive within `first_token_timeout`, and so
//! must each next piece (a stalled stream is a failed one); the whole reply within `timeout`.
//! A failed attempt is retried (at most `max_retries` times, with a short backoff) only while
//! nothing has reached the visitor, so a visitor never sees a reply start twice. When it still
//! fails, the outcome says so; the conversation tells the visitor and counts it.
//!
//! The reply follows its conversation on the hub while it streams: a `state` event that
//! takes the conversation out of the bot's hands (a person took over, the visitor ended it),
//! from whichever node, cuts it off at once.
//!
//! The replier streams one reply and reports its [`Outcome`] to its caller (the
//! conversation, which decides what follows: an escalation after repeated failures or when
//! the model asked for a person). It never changes who has the conversation.

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use tokio::time::{Instant, timeout_at};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::{Chunk, Draft, Llm, LlmError, Prompt};
use crate::config::LlmSettings;
use crate::delivery::{Delivery, Topic};
use crate::hub::{Hub, Outbox};
use crate::protocol::{Author, ConversationId, Ephemeral, EventBody, Source, Speaker, State};
use crate::records::Record;
use crate::sites::Site;
use crate::store::{Appended, Counter, EventDraft, EventLog, PubSub, StoreError};

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
    log: Arc<dyn EventLog>,
    pubsub: Arc<dyn PubSub>,
    hub: Hub,
    settings: LlmSettings,
}

/// How one reply ended.
#[derive(Debug)]
pub enum Outcome {
    /// Nothing to answer: no pending visitor message, or the bot no longer has the chat.
    Nothing,
    /// The reply is stored.
    Answered,
    /// The model asked for a person (after whatever it wrote, which is stored).
    AskedForPerson { why: String },
    /// Cut off: a person took over or the visitor ended the chat, here or on another node.
    Cancelled,
    /// No reply, after the retries.
    Failed(LlmError),
}

/// What [`Replier::answer`] did.
#[derive(Debug)]
pub struct Reply {
    pub outcome: Outcome,
    /// The newest visitor `seq` the reply answered (`None`: it answered nothing).
    pub through: Option<u64>,
}

/// How an attempt at streaming ended.
enum Streamed {
    Done(Draft),
    Cancelled { sent_any: bool },
    Failed { error: LlmError, sent_any: bool },
}

impl Replier {
    pub fn new(
        llm: Arc<dyn Llm>,
        log: Arc<dyn EventLog>,
        pubsub: Arc<dyn PubSub>,
        hub: Hub,
        settings: LlmSettings,
    ) -> Replier {
        Replier { llm, log, pubsub, hub, settings }
    }

    /// Answers the visitor messages not yet answered (after `answered_through`, or after the
    /// last reply when `None`), streaming the reply as it is written.
    #[tracing::instrument(name = "bot_reply", skip_all, fields(conversation_id = %id, site = %site.config.id))]
    pub async fn answer(
        &self,
        site: &Site,
        id: ConversationId,
        cancel: &CancellationToken,
        answered_through: Option<u64>,
    ) -> Result<Reply, StoreError> {
        let nothing = Reply { outcome: Outcome::Nothing, through: None };
        let conversation = self.log.conversation(id).await?.ok_or(StoreError::NotFound)?;
        if !BOT_STATES.contains(&conversation.state) {
            return Ok(nothing);
        }
        let events = self.log.recent_events(id, self.settings.history_messages).await?;
        let Some(turn) = super::pending_turn(&events, answered_through) else { return Ok(nothing) };
        let retrieval = site.knowledge.search(&turn.question, self.settings.passages);
        let mut prompt = self.prompt(site, turn.messages, retrieval);
        if let Some(handback) = &conversation.records.handback {
            prompt.system.push_str(&format!(
                "\nA person from the team ({}) handled part of this conversation and handed it back to you. What they told \
                 the visitor:\n{}\nDo not contradict them.\n",
                handback.agent, handback.said
            ));
        }
        let reply_id = Uuid::new_v4();
        let typing = |on| Ephemeral::Typing { conversation_id: id, from: Speaker::Bot, on };
        self.pubsub.publish(id, &typing(true)).await?;
        let streamed = self.stream(&prompt, id, reply_id, cancel).await;
        self.pubsub.publish(id, &typing(false)).await?;
        let outcome = match streamed {
            Streamed::Done(draft) => self.finish(site, id, reply_id, draft, &prompt).await?,
            Streamed::Cancelled { sent_any } => {
                self.cut(id, reply_id, sent_any).await?;
                Outcome::Cancelled
            }
            Streamed::Failed { error, sent_any } => {
                tracing::warn!(%error, "bot reply failed");
                self.cut(id, reply_id, sent_any).await?;
                Outcome::Failed(error)
            }
        };
        tracing::debug!(?outcome, "reply ended");
        Ok(Reply { outcome, through: Some(turn.through) })
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

    async fn stream(
        &self,
        prompt: &Prompt,
        id: ConversationId,
        reply_id: Uuid,
        cancel: &CancellationToken,
    ) -> Streamed {
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
            let Some(outcome) = result else { return Streamed::Cancelled { sent_any } };
            match outcome {
                Ok(()) if draft.is_empty() => return Streamed::Failed { error: LlmError::Empty, sent_any },
                Ok(()) => return Streamed::Done(draft),
                Err(error) if !sent_any && attempt < self.settings.max_retries && Instant::now() < deadline => {
                    attempt += 1;
                    tracing::info!(%error, attempt, "retrying the model");
                    tokio::time::sleep(RETRY_BACKOFF * 2u32.pow(attempt - 1)).await;
                }
                Err(error) => return Streamed::Failed { error, sent_any },
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
            if let Err(error) = self.pubsub.publish(id, &delta).await {
                tracing::debug!(%error, "bot_delta not published");
            }
        }
        Ok(())
    }

    /// Stores the reply (unless a person took over meanwhile) and reports what the model asked for.
    async fn finish(
        &self,
        site: &Site,
        id: ConversationId,
        reply_id: Uuid,
        draft: Draft,
        prompt: &Prompt,
    ) -> Result<Outcome, StoreError> {
        if let Some(confidence) = draft.model_confidence() {
            self.log.set_record(id, Record::ModelConfidence(confidence)).await?;
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
            match self.log.append(id, EventDraft::new(body).expect(BOT_STATES)).await? {
                // A person took over while the reply was streaming: the bot stays silent.
                Appended::Refused { .. } => {
                    self.cut(id, reply_id, true).await?;
                    return Ok(Outcome::Cancelled);
                }
                _ => drop(self.log.incr(id, Counter::BotTurns, 1).await?),
            }
        }
        Ok(match handoff {
            Some(why) => {
                tracing::info!(%why, "the model asked for a person");
                Outcome::AskedForPerson { why }
            }
            None => Outcome::Answered,
        })
    }

    async fn cut(&self, id: ConversationId, reply_id: Uuid, sent_any: bool) -> Result<(), StoreError> {
        if !sent_any {
            return Ok(());
        }
        self.pubsub.publish(id, &Ephemeral::BotCancelled { conversation_id: id, reply_id }).await
    }
}

/// Returns when a stored `state` event takes the conversation out of the bot's states.
async fn taken_over(events: &mut tokio::sync::mpsc::Receiver<Delivery>) {
    while let Some(delivery) = events.recv().await {
        if delivery.change().is_some_and(|change| !BOT_STATES.contains(&change.state)) {
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
