//! The visitor's rating of a chat: asked for when an agent resolves it (the desk), when the
//! visitor ends it or the site's owner closes it ([`super::owner`]), and, for a chat the bot alone handled, after the visitor has been idle
//! for the site's `bot.rating_after_idle_secs` (the visitor's socket times that); kept as the
//! conversation's rating record, which the reports split into bot-only and human-handled.

use super::machine::Move;
use super::{Conversations, Notice, StoreError};
use crate::protocol::agent::AgentEvent;
use crate::protocol::{ConversationId, Ephemeral, EventBody, Speaker, State, Text};
use crate::records::{Rating, Record};
use crate::sites::Site;
use crate::store::{Delivery, Topic, Transitioned};

/// Events looked through for the agent who last had a chat, when its visitor rates it, and
/// for a bot answer, when an idle visitor might be asked.
const RATED_LOOKBACK: usize = 200;

impl Conversations {
    /// Stores the visitor's rating and tells the last agent who had the chat, if one did.
    pub async fn csat(&self, id: ConversationId, score: u8, comment: Option<Text>) -> Result<(), StoreError> {
        let rating = Rating { score, comment: comment.map(Text::into_inner), at: chrono::Utc::now() };
        self.stores.log.set_record(id, Record::Rating(rating.clone())).await?;
        let recent = self.stores.log.recent_events(id, RATED_LOOKBACK).await?;
        let last_agent = recent.iter().rev().find_map(|event| match &event.body {
            EventBody::State { agent: Some(agent), .. } => Some(agent.id.clone()),
            _ => None,
        });
        let Some(agent) = last_agent else { return Ok(()) };
        let frame = AgentEvent::Rated { conversation_id: id, rating: rating.view() };
        self.stores.pubsub.deliver(Delivery::frame(Topic::Agent(agent), &frame)).await
    }

    /// The visitor closed the conversation; they are told it ended, in their language, and
    /// asked for a rating unless they gave one.
    pub async fn end(&self, site: &Site, id: ConversationId) -> Result<(), StoreError> {
        if let Transitioned::Done { .. } = self.apply(id, Move::End).await? {
            self.tell(site, id, Notice::Resolved, None).await?;
        }
        self.ask_rating(id).await
    }

    /// Asks the visitor for a rating unless they gave one.
    pub(super) async fn ask_rating(&self, id: ConversationId) -> Result<(), StoreError> {
        let rated = self.stores.log.conversation(id).await?.is_some_and(|c| c.records.rating.is_some());
        if !rated {
            self.stores.pubsub.publish(id, &Ephemeral::CsatRequest { conversation_id: id }).await?;
        }
        Ok(())
    }

    /// Whether an idle visitor of `id` is to be asked for a rating now: the bot has it, has
    /// answered, no person was asked for, and no rating was given.
    pub async fn bot_rating_due(&self, id: ConversationId) -> Result<bool, StoreError> {
        let Some(conversation) = self.stores.log.conversation(id).await? else { return Ok(false) };
        if conversation.state != State::Bot
            || conversation.records.rating.is_some()
            || conversation.records.escalation.is_some()
        {
            return Ok(false);
        }
        let recent = self.stores.log.recent_events(id, RATED_LOOKBACK).await?;
        Ok(recent.iter().any(|e| matches!(&e.body, EventBody::Message { from: Speaker::Bot, .. })))
    }
}
