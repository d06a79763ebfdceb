//! Streams one bot reply into a conversation: `bot_delta` frames as the model writes, then
//! the stored `message` whose `id` is the deltas' `reply_id`. The limits and retries are
//! [`super::attempt`]'s; the prompt's echo is kept from the visitor ([`super::echo`]).
//!
//! What is stored is never passed off as whole when it is not: a reply the model stopped at
//! `max_tokens` (`finish_reason: length`), or that a one-slot server cut off (the stream ended
//! with no finish reason), or that timed out after it started, is stored with a mark saying
//! it was cut short. Its sources are the passages it cited, and none when it cited none.
//!
//! When the model fails before anything reached the visitor, the offline answerer answers
//! instead where the knowledge base has a confident passage; otherwise the outcome says the
//! reply failed and the conversation decides what the visitor is told.
//!
//! The reply follows its conversation on the hub while it streams: a `state` event that
//! takes the conversation out of the bot's hands (a person took over, the visitor ended it),
//! from whichever node, cuts it off at once. The replier never changes who has the
//! conversation.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::acting::Acted;
use super::actions::{ActionError, Caller};
use super::attempt::{Attempt, Progress, Streamed, taken_over};
use super::echo::Echo;
use super::grounding::ground;
use super::offline::{OfflineLlm, has_confident_passage, quoted};
use super::slots::Slots;
use super::{Finish, Llm, LlmError, Prompt};
use crate::config::{ActionSettings, LlmSettings};
use crate::delivery::Topic;
use crate::hub::{Hub, Outbox};
use crate::protocol::{Action, Author, ConversationId, Ephemeral, EventBody, Source, Speaker, State};
use crate::records::{Identity, Record};
use crate::sites::Site;
use crate::store::{Appended, Counter, EventDraft, EventLog, PubSub, StoreError};

/// The bot may speak while the conversation is in these states.
pub const BOT_STATES: &[State] = &[State::Bot, State::Queued];
/// Sources listed under a reply.
const MAX_SOURCES: usize = 3;
/// Frames a streaming reply can fall behind on its own conversation (it reads them as fast
/// as they come; its own deltas are most of them).
const TAKEOVER_QUEUE: usize = 1024;
pub use super::prompt::CUT_SHORT;

pub struct Replier {
    pub(super) llm: Arc<dyn Llm>,
    /// Answers from the knowledge base when the model fails.
    fallback: Arc<dyn Llm>,
    slots: Slots,
    pub(super) log: Arc<dyn EventLog>,
    pub(super) pubsub: Arc<dyn PubSub>,
    hub: Hub,
    settings: LlmSettings,
    /// Calls the sites' action endpoints ([`super::acting`]).
    pub(super) caller: Caller,
    /// Log-probabilities were asked for and none came: said once in the log.
    told_no_logprobs: AtomicBool,
}

/// How one reply ended.
#[derive(Debug)]
pub enum Outcome {
    /// Nothing to answer: no pending visitor message, or the bot no longer has the chat.
    Nothing,
    /// The reply is stored.
    Answered,
    /// The model failed; the offline answerer's reply from the knowledge base is stored.
    FellBack(LlmError),
    /// The model asked for a person (after whatever it wrote, which is stored).
    AskedForPerson { why: String },
    /// Cut off: a person took over or the visitor ended the chat, here or on another node.
    Cancelled,
    /// No reply, after the retries.
    Failed(LlmError),
    /// A site action's endpoint failed or was too slow: no reply.
    ActionFailed(ActionError),
}

/// What [`Replier::answer`] did.
#[derive(Debug)]
pub struct Reply {
    pub outcome: Outcome,
    /// The newest visitor `seq` the reply answered (`None`: it answered nothing).
    pub through: Option<u64>,
    /// The reply said it could not answer and carries the offer's quick replies: the offer
    /// is not stored after it.
    pub carried_offer: bool,
}

/// What a reply that cannot answer the question does, as the conversation decided.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum Unanswered {
    /// Says so (`bot.no_answer`, or the model's own words).
    #[default]
    Decline,
    /// The visitor was already answered with an apology and the offer of a person: the
    /// offline answerer stays silent rather than add "I couldn't find anything".
    Silent,
    /// The offer of a person follows the reply: a reply that declines carries the offer's
    /// quick replies itself, so the visitor reads one message, not two saying the same.
    Offer(Vec<Action>),
}

/// What one reply is made with.
pub(super) struct Turn<'a> {
    pub site: &'a Site,
    pub id: ConversationId,
    pub reply_id: Uuid,
    prompt: Prompt,
    echo: Echo,
    unanswered: &'a Unanswered,
    /// The visitor's identity, passed to action endpoints when it is verified.
    pub identity: Option<Identity>,
    /// Streamed while an action's endpoint works, unless the action has its own line.
    pub progress: &'a str,
}

impl Replier {
    pub fn new(
        llm: Arc<dyn Llm>,
        slots: Slots,
        log: Arc<dyn EventLog>,
        pubsub: Arc<dyn PubSub>,
        hub: Hub,
        settings: LlmSettings,
        actions: ActionSettings,
    ) -> Replier {
        let fallback: Arc<dyn Llm> = Arc::new(OfflineLlm);
        let caller = Caller::new(actions);
        Replier { llm, fallback, slots, log, pubsub, hub, settings, caller, told_no_logprobs: AtomicBool::new(false) }
    }

    /// Answers the visitor messages not yet answered (after `answered_through`, or after the
    /// last reply when `None`), streaming the reply as it is written; `progress` is what the
    /// visitor reads while an action's endpoint works (in their language).
    #[tracing::instrument(name = "bot_reply", skip_all, fields(conversation_id = %id, site = %site.config.id))]
    pub async fn answer(
        &self,
        site: &Site,
        id: ConversationId,
        cancel: &CancellationToken,
        answered_through: Option<u64>,
        unanswered: &Unanswered,
        progress: &str,
    ) -> Result<Reply, StoreError> {
        let nothing = Reply { outcome: Outcome::Nothing, through: None, carried_offer: false };
        let conversation = self.log.conversation(id).await?.ok_or(StoreError::NotFound)?;
        if !BOT_STATES.contains(&conversation.state) {
            return Ok(nothing);
        }
        let events = self.log.recent_events(id, self.settings.history_messages).await?;
        let Some(pending) = super::pending_turn(&events, answered_through) else { return Ok(nothing) };
        site.prepare_search(&super::grounding::searched(&pending.question)).await;
        let grounding = ground(&site.knowledge, &pending.question, self.settings.passages);
        let (mut prompt, echo) = self.prompt(site, pending.messages, grounding);
        if let Some(mismatch) = super::language::mismatch(site, &conversation) {
            prompt.system.push_str(&mismatch.instruction);
            prompt.language_note = Some(mismatch.note);
            prompt.min_confidence *= super::language::CROSS_LANGUAGE_SHARE;
        }
        if *unanswered == Unanswered::Silent && !self.llm.is_model() && !has_confident_passage(&prompt) {
            tracing::debug!("nothing to add to the apology and offer already sent");
            return Ok(Reply { through: Some(pending.through), ..nothing });
        }
        if let Some(handback) = &conversation.records.handback {
            prompt.system.push_str(&format!(
                "\nA person from the team ({}) handled part of this conversation and handed it back to you. What they told \
                 the visitor:\n{}\nDo not contradict them.\n",
                handback.agent, handback.said
            ));
        }
        let identity = conversation.records.identity.as_deref().cloned();
        let turn = Turn { site, id, reply_id: Uuid::new_v4(), prompt, echo, unanswered, identity, progress };
        self.typing(id, true).await?;
        let (outcome, carried_offer) = self.reply(&turn, cancel).await?;
        tracing::debug!(?outcome, carried_offer, "reply ended");
        Ok(Reply { outcome, through: Some(pending.through), carried_offer })
    }

    pub(super) async fn typing(&self, id: ConversationId, on: bool) -> Result<(), StoreError> {
        self.pubsub.publish(id, &Ephemeral::Typing { conversation_id: id, from: Speaker::Bot, on }).await
    }

    /// Streams from the model (or, when it failed before showing anything, the offline
    /// answerer), stops typing, then stores what came.
    async fn reply(&self, turn: &Turn<'_>, cancel: &CancellationToken) -> Result<(Outcome, bool), StoreError> {
        let (outbox, mut events) = Outbox::new(TAKEOVER_QUEUE, false);
        let _following = self.hub.subscribe(Topic::Conversation(turn.id), outbox);
        let model = self.attempt(turn, self.llm.as_ref(), &turn.prompt);
        let mut streamed = model.run(cancel, taken_over(&mut events, BOT_STATES)).await;
        let mut model_error = None;
        let offline = self.attempt(turn, self.fallback.as_ref(), &turn.prompt);
        if let Streamed::Failed { error, sent_any: false } = &streamed
            && self.llm.is_model()
            && has_confident_passage(&turn.prompt)
        {
            tracing::warn!(%error, "bot reply failed; the knowledge base answers instead");
            model_error = Some(error.clone());
            streamed = offline.run(cancel, taken_over(&mut events, BOT_STATES)).await;
        }
        // The model's calls of the site's actions, each followed by another request.
        let mut prompt = turn.prompt.clone();
        if model_error.is_none() {
            streamed = match self.follow_calls(turn, &mut prompt, streamed, cancel, &mut events).await? {
                Acted::Streamed(streamed) => streamed,
                Acted::Failed { error, sent_any } => {
                    self.typing(turn.id, false).await?;
                    self.cut(turn.id, turn.reply_id, sent_any).await?;
                    return Ok((Outcome::ActionFailed(error), false));
                }
            };
        }
        let last = self.attempt(turn, self.llm.as_ref(), &prompt);
        let used = if model_error.is_some() { &offline } else { &last };
        self.typing(turn.id, false).await?;
        match streamed {
            Streamed::Done(progress) => {
                let (stored, carried_offer) = self.finish(turn, used, progress).await?;
                let outcome = match (stored, model_error) {
                    (Outcome::Answered, Some(error)) => Outcome::FellBack(error),
                    (stored, _) => stored,
                };
                Ok((outcome, carried_offer))
            }
            Streamed::Cancelled { sent_any } => {
                self.cut(turn.id, turn.reply_id, sent_any).await?;
                Ok((Outcome::Cancelled, false))
            }
            Streamed::Failed { error, sent_any } => {
                tracing::warn!(%error, "bot reply failed");
                self.cut(turn.id, turn.reply_id, sent_any).await?;
                Ok((Outcome::Failed(model_error.unwrap_or(error)), false))
            }
        }
    }

    pub(super) fn attempt<'a>(&'a self, turn: &'a Turn<'_>, llm: &'a dyn Llm, prompt: &'a Prompt) -> Attempt<'a> {
        Attempt {
            llm,
            prompt,
            echo: llm.is_model().then_some(&turn.echo),
            slots: &self.slots,
            settings: &self.settings,
            pubsub: self.pubsub.as_ref(),
            id: turn.id,
            reply_id: turn.reply_id,
        }
    }

    fn prompt(
        &self,
        site: &Site,
        messages: Vec<super::PromptMessage>,
        grounding: super::grounding::Grounding,
    ) -> (Prompt, Echo) {
        let retrieval = grounding.retrieval;
        let config = &site.config;
        let persona = &config.persona;
        let tools = super::actions::tools(config, &self.caller.settings);
        let mut rules =
            super::prompt::rules(&persona.system_prompt, &persona.bot_name, &config.title, self.settings.handoff_tool);
        if !tools.is_empty() {
            rules.push_str(super::prompt::ACTIONS_RULE);
        }
        let urls = retrieval.hits.iter().map(|hit| hit.passage.url.clone()).collect();
        let echo = Echo::new(&rules, &persona.greeting, urls, retrieval.hits.len());
        let mut system = super::system_prompt(
            &persona.system_prompt,
            &persona.bot_name,
            &config.title,
            &retrieval,
            self.settings.handoff_tool,
        );
        if !tools.is_empty() {
            system.push_str(super::prompt::ACTIONS_RULE);
        }
        let prompt = Prompt {
            system,
            // What the visitor typed reaches the model masked (the chat shows it as typed).
            messages: super::prompt::redacted(messages, &site.redactor),
            model: config.llm.model.clone().unwrap_or_else(|| self.settings.model.clone()),
            temperature: config.llm.temperature.unwrap_or(self.settings.temperature),
            max_tokens: config.llm.max_tokens.unwrap_or(self.settings.max_tokens),
            retrieval,
            parts: grounding.parts,
            min_confidence: config.bot.min_confidence,
            no_answer: config.bot.no_answer.clone(),
            language_note: None,
            handoff_tool: self.settings.handoff_tool,
            logprobs: self.settings.logprobs,
            budget: super::budget::bucket(config).map(|b| (b, config.id.clone())),
            tools,
            rounds: Vec::new(),
        };
        (prompt, echo)
    }

    /// Stores the reply (unless a person took over meanwhile) and reports what the model
    /// asked for, and whether the reply carries the offer of a person.
    async fn finish(
        &self,
        turn: &Turn<'_>,
        attempt: &Attempt<'_>,
        mut progress: Progress,
    ) -> Result<(Outcome, bool), StoreError> {
        let id = turn.id;
        let draft = &progress.draft;
        if let Some(confidence) = draft.model_confidence() {
            self.log.set_record(id, Record::ModelConfidence(confidence)).await?;
        } else if self.settings.logprobs
            && attempt.llm.is_model()
            && !self.told_no_logprobs.swap(true, Ordering::Relaxed)
        {
            tracing::warn!(
                "llm.logprobs is on but the model server sent no log-probabilities: the model-confidence signal is off"
            );
        }
        let handoff = draft.handoff();
        let (mut text, sources) = match attempt.echo {
            Some(echo) => {
                let cleaned = echo.clean(&draft.text);
                (cleaned.text, cited_sources(&turn.prompt, &cleaned.cited))
            }
            None => (draft.text.clone(), best_source(&turn.prompt)),
        };
        let cut = attempt.llm.is_model() && handoff.is_none() && draft.finish != Some(Finish::Stop);
        if cut && !text.is_empty() {
            tracing::info!(finish = ?draft.finish, "the reply was cut short; stored with a mark");
            text = format!("{} {CUT_SHORT}", text.trim_end());
        }
        attempt.show_text(&mut progress, &text).await;
        let declined = match attempt.llm.is_model() {
            true => crate::signals::is_decline(&text),
            false => quoted(&turn.prompt).is_empty(),
        };
        let actions = match turn.unanswered {
            Unanswered::Offer(actions) if declined && handoff.is_none() => actions.clone(),
            _ => Vec::new(),
        };
        let carried_offer = !actions.is_empty() && !text.is_empty();
        if !text.is_empty() {
            let body = EventBody::Message {
                id: turn.reply_id,
                from: Speaker::Bot,
                text,
                author: Some(Author { name: turn.site.config.persona.bot_name.clone() }),
                client_id: None,
                sources,
                actions,
                notice: None,
            };
            match self.log.append(id, EventDraft::new(body).expect(BOT_STATES)).await? {
                // A person took over while the reply was streaming: the bot stays silent.
                Appended::Refused { .. } => {
                    self.cut(id, turn.reply_id, true).await?;
                    return Ok((Outcome::Cancelled, false));
                }
                _ => drop(self.log.incr(id, Counter::BotTurns, 1).await?),
            }
        }
        let outcome = match handoff {
            Some(why) => {
                tracing::info!(%why, "the model asked for a person");
                Outcome::AskedForPerson { why }
            }
            None => Outcome::Answered,
        };
        Ok((outcome, carried_offer))
    }

    async fn cut(&self, id: ConversationId, reply_id: Uuid, sent_any: bool) -> Result<(), StoreError> {
        if !sent_any {
            return Ok(());
        }
        self.pubsub.publish(id, &Ephemeral::BotCancelled { conversation_id: id, reply_id }).await
    }
}

/// The passages the model cited (by their numbers in the prompt), when the knowledge base
/// covers the question at all; none when it cited none.
fn cited_sources(prompt: &Prompt, cited: &[usize]) -> Vec<Source> {
    let hits = &prompt.retrieval.hits;
    let mut sources: Vec<Source> = Vec::new();
    for hit in cited.iter().filter_map(|n| hits.get(n.wrapping_sub(1))) {
        if sources.len() < MAX_SOURCES && !sources.iter().any(|s| s.url == hit.passage.url) {
            sources.push(Source { title: hit.passage.title.clone(), url: hit.passage.url.clone() });
        }
    }
    sources
}

/// The passages the offline answerer quoted.
fn best_source(prompt: &Prompt) -> Vec<Source> {
    let quoted = quoted(prompt).into_iter().take(MAX_SOURCES);
    quoted.map(|hit| Source { title: hit.passage.title.clone(), url: hit.passage.url.clone() }).collect()
}
