//! One bot reply at a time per conversation on this node: questions that arrive while a
//! reply streams are answered together by one more reply afterwards (the model sees them all
//! in the transcript), so a burst of messages cannot start a burst of model calls. What each
//! reply's outcome leads to is decided here: a failure (the model's, or a bot action's
//! endpoint's) is told to the visitor and counted, and the site's policy says when failures,
//! or the model asking for a person, escalate.

use std::collections::HashMap;
use std::sync::{Arc, MutexGuard};

use tokio_util::sync::CancellationToken;

use super::{Conversations, Escalation, Notice, TALK_TO_PERSON, bot_message, notices};
use crate::bot::LlmError;
use crate::bot::reply::{BOT_STATES, Outcome, Unanswered};
use crate::escalation::BotEvent;
use crate::protocol::{Action, ConversationId, EventBody};
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
    /// What goes with the next reply.
    next: NextReply,
}

/// What the escalation policy asked of the next reply.
#[derive(Debug, Default)]
pub(super) struct NextReply {
    /// Stored right after the reply (the offer of a person), unless the reply declined and
    /// carries the offer's quick replies itself.
    pub offer: Option<EventBody>,
    /// The visitor was already offered a person with an apology: a reply that cannot answer
    /// stays silent.
    pub apologised: bool,
    /// Answer the visitor messages after this `seq` (the apology, stored after them, is no
    /// answer to them).
    pub after: Option<u64>,
}

/// The bot's offer of a person (`text`), with its quick reply.
pub(super) fn offer(site: &Site, lang: &str, text: Notice) -> EventBody {
    let mut offer = bot_message(site, notices::text(&site.config, lang, &text));
    if let EventBody::Message { actions, .. } = &mut offer {
        let label = notices::text(&site.config, lang, &Notice::OfferAction);
        actions.push(Action { id: TALK_TO_PERSON.into(), label });
    }
    offer
}

impl NextReply {
    /// What the reply does when it cannot answer.
    fn unanswered(&self) -> Unanswered {
        match &self.offer {
            _ if self.apologised => Unanswered::Silent,
            Some(EventBody::Message { actions, .. }) if !actions.is_empty() => Unanswered::Offer(actions.clone()),
            _ => Unanswered::Decline,
        }
    }

    /// Both asks together: a later turn's offer wins, an apology stays.
    fn merge(self, earlier: NextReply) -> NextReply {
        NextReply {
            offer: self.offer.or(earlier.offer),
            apologised: self.apologised || earlier.apologised,
            after: earlier.after.or(self.after),
        }
    }
}

impl Conversations {
    fn running(&self) -> MutexGuard<'_, HashMap<ConversationId, Running>> {
        self.running.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Answers the conversation's latest visitor message(s), now or right after the reply
    /// that is streaming, as `next` asks.
    pub(super) fn request_reply(&self, site: Arc<Site>, id: ConversationId, next: NextReply) {
        let mut running = self.running();
        if let Some(entry) = running.get_mut(&id) {
            if entry.cancel.is_cancelled() {
                entry.cancel = CancellationToken::new();
            }
            entry.again = true;
            entry.next = next.merge(std::mem::take(&mut entry.next));
            return;
        }
        running.insert(id, Running { cancel: CancellationToken::new(), again: false, next });
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
            let Some((cancel, next)) =
                self.running().get_mut(&id).map(|entry| (entry.cancel.clone(), std::mem::take(&mut entry.next)))
            else {
                return;
            };
            let mut follow_up = next.offer.clone();
            let through = answered_through.or(next.after);
            let progress = self.action_progress(&site, id).await;
            match self.replier.answer(&site, id, &cancel, through, &next.unanswered(), &progress).await {
                Ok(reply) => {
                    answered_through = reply.through.or(answered_through);
                    if reply.carried_offer {
                        follow_up = None;
                    }
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
                        entry.next = std::mem::take(&mut entry.next).merge(next);
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

    /// What the visitor reads while a bot action's endpoint works, in their language (only
    /// looked up for a site with actions).
    async fn action_progress(&self, site: &Site, id: ConversationId) -> String {
        if site.config.actions.is_empty() {
            return String::new();
        }
        let lang = self.language(site, id).await.unwrap_or("en");
        notices::text(&site.config, lang, &Notice::ActionProgress)
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
            Outcome::Failed(_) | Outcome::ActionFailed(_) => {
                let failures = self.stores.log.incr(id, Counter::BotErrors, 1).await?;
                BotEvent::Failed { errors: u32::try_from(failures).unwrap_or(u32::MAX) }
            }
            Outcome::AskedForPerson { why } => BotEvent::AskedForPerson { why },
        };
        let Some(escalation) = site.policy.after_bot(event) else {
            match outcome {
                Outcome::Failed(LlmError::BudgetSpent) => self.tell(site, id, super::Notice::ModelBudget, None).await?,
                Outcome::Failed(_) => self.tell(site, id, super::Notice::ModelFailure, None).await?,
                Outcome::ActionFailed(_) => self.tell(site, id, super::Notice::ActionFailed, None).await?,
                _ => {}
            }
            return Ok(());
        };
        let mut escalation = Escalation::from_bot(site, escalation);
        match &outcome {
            Outcome::Failed(error) => escalation.record.detail.push_str(&format!("; last: {error}")),
            Outcome::ActionFailed(error) => escalation.record.detail.push_str(&format!("; last: {error}")),
            _ => {}
        }
        self.escalate(site, id, escalation).await
    }
}
