//! One bot reply at a time per conversation on this node: questions that arrive while a
//! reply streams are answered together by one more reply afterwards (the model sees them all
//! in the transcript), so a burst of messages cannot start a burst of model calls. What each
//! reply's outcome leads to is decided here: a failure is told to the visitor and counted,
//! and the site's policy says when failures, or the model asking for a person, escalate.

use std::collections::HashMap;
use std::sync::{Arc, MutexGuard};

use tokio_util::sync::CancellationToken;

use super::{Conversations, Escalation};
use crate::bot::LlmError;
use crate::bot::reply::{BOT_STATES, Outcome};
use crate::escalation::BotEvent;
use crate::protocol::{ConversationId, EventBody};
use crate::sites::Site;
use crate::store::{Counter, EventDraft, StoreError};

/// Attempts after a reply failed on the store (not the model), waiting longer each time.
const STORE_RETRIES: u32 = 6;
const STORE_RETRY_WAIT: std::time::Duration = std::time::Duration::from_secs(1);

/// A reply under way.
pub(super) struct Running {
    cancel: CancellationToken,
    /// Another question arrived while this reply was streaming.
    again: bool,
    /// Stored right after the next reply (the escalation policy's offer of a person).
    follow_up: Option<EventBody>,
}

impl Conversations {
    fn running(&self) -> MutexGuard<'_, HashMap<ConversationId, Running>> {
        self.running.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Answers the conversation's latest visitor message(s), now or right after the reply
    /// that is streaming; `follow_up` is stored after that answer.
    pub(super) fn request_reply(&self, site: Arc<Site>, id: ConversationId, follow_up: Option<EventBody>) {
        let mut running = self.running();
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
        // The reply belongs to the visitor message's trace (the span that asked for it).
        tokio::spawn(tracing::Instrument::in_current_span(async move { this.reply_loop(site, id).await }));
    }

    /// Cuts off the reply streaming in this conversation on this node, if any.
    pub(super) fn cancel_reply(&self, id: ConversationId) {
        if let Some(entry) = self.running().get_mut(&id) {
            tracing::debug!(conversation_id = %id, "cancelling the streaming reply");
            entry.cancel.cancel();
            entry.again = false;
        }
    }

    async fn reply_loop(self, site: Arc<Site>, id: ConversationId) {
        let mut answered_through = None;
        let mut store_failures = 0;
        loop {
            let Some((cancel, follow_up)) =
                self.running().get_mut(&id).map(|entry| (entry.cancel.clone(), entry.follow_up.take()))
            else {
                return;
            };
            match self.replier.answer(&site, id, &cancel, answered_through).await {
                Ok(reply) => {
                    answered_through = reply.through.or(answered_through);
                    if let Err(error) = self.after_reply(&site, id, reply.outcome).await {
                        tracing::warn!(conversation_id = %id, %error, "what the reply called for was not done");
                    }
                }
                // The store stalled: what is pending is answered once it is back (the next
                // attempt finds nothing pending if the reply was stored after all).
                Err(StoreError::Unavailable(error)) if store_failures < STORE_RETRIES => {
                    store_failures += 1;
                    tracing::warn!(conversation_id = %id, %error, store_failures, "bot reply failed on the store; retrying");
                    if let Some(entry) = self.running().get_mut(&id) {
                        entry.follow_up = entry.follow_up.take().or(follow_up);
                    }
                    tokio::time::sleep(STORE_RETRY_WAIT * store_failures).await;
                    continue;
                }
                Err(error) => tracing::warn!(conversation_id = %id, %error, "bot reply not delivered"),
            }
            store_failures = 0;
            if let Some(body) = follow_up.filter(|_| !cancel.is_cancelled())
                && let Err(error) = self.stores.log.append(id, EventDraft::new(body).expect(BOT_STATES)).await
            {
                tracing::warn!(conversation_id = %id, %error, "follow-up not stored");
            }
            let mut running = self.running();
            match running.get_mut(&id) {
                Some(entry) if entry.again && !entry.cancel.is_cancelled() => entry.again = false,
                _ => {
                    running.remove(&id);
                    return;
                }
            }
        }
    }

    /// What a reply's outcome leads to. A failure is counted (the `bot_error` signal); the
    /// site's policy decides whether it, or the model's request for a person, escalates. The
    /// visitor gets one notice for the situation: the apology ("try again") when the chat
    /// stays with the bot, else the escalation's own notice (or, when nobody can take the
    /// chat, that one alone). A model failure the knowledge base answered instead is only
    /// logged: the visitor got an answer.
    async fn after_reply(&self, site: &Site, id: ConversationId, outcome: Outcome) -> Result<(), StoreError> {
        let event = match &outcome {
            Outcome::Nothing | Outcome::Answered | Outcome::Cancelled => return Ok(()),
            Outcome::FellBack(error) => {
                tracing::warn!(conversation_id = %id, %error, "the model failed; the knowledge base answered");
                return Ok(());
            }
            Outcome::Failed(_) => {
                let failures = self.stores.log.incr(id, Counter::BotErrors, 1).await?;
                BotEvent::Failed { errors: u32::try_from(failures).unwrap_or(u32::MAX) }
            }
            Outcome::AskedForPerson { why } => BotEvent::AskedForPerson { why },
        };
        let Some(escalation) = site.policy.after_bot(event) else {
            match outcome {
                Outcome::Failed(LlmError::BudgetSpent) => self.tell(site, id, super::Notice::ModelBudget, None).await?,
                Outcome::Failed(_) => self.tell(site, id, super::Notice::ModelFailure, None).await?,
                _ => {}
            }
            return Ok(());
        };
        let mut escalation = Escalation::from_bot(site, escalation);
        if let Outcome::Failed(error) = &outcome {
            escalation.record.detail.push_str(&format!("; last: {error}"));
        }
        self.escalate(site, id, escalation).await
    }
}
