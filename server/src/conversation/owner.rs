//! What a site's owner does to a conversation besides what agents do (docs/api.md): write as
//! the bot, close a chat no person holds, and reopen a resolved chat. Both go through the store like every other event,
//! so every socket following the chat, on any node, sees them live.

use uuid::Uuid;

use super::machine::Move;
use super::{Conversations, Notice};
use crate::bot::reply::BOT_STATES;
use crate::protocol::{Author, ConversationId, EventBody, Speaker, State, Text};
use crate::sites::Site;
use crate::store::{Appended, EventDraft, StoreError, Transitioned};

/// What an owner's move found.
pub enum OwnerOutcome {
    /// Done; the event's `seq` (an earlier one's for a repeated `dedupe`).
    Done(u64),
    /// The chat is in this state, which the move does not leave from.
    Conflict(State),
}

impl Conversations {
    /// Posts `text` to the visitor as the site's bot, where the bot may speak (while it has
    /// the chat or it waits for a person; never over a person's, never to a closed chat). `dedupe` makes
    /// a repeat (the same client id) answer the first one's `seq`.
    pub async fn bot_says(
        &self,
        site: &Site,
        id: ConversationId,
        text: Text,
        dedupe: Option<String>,
    ) -> Result<OwnerOutcome, StoreError> {
        let body = EventBody::Message {
            id: Uuid::new_v4(),
            from: Speaker::Bot,
            text: text.into_inner(),
            author: Some(Author { name: site.config.persona.bot_name.clone() }),
            client_id: None,
            sources: vec![],
            actions: vec![],
            notice: None,
        };
        let mut draft = EventDraft::new(body).expect(BOT_STATES);
        if let Some(key) = dedupe {
            draft = draft.dedupe(format!("owner:{key}"));
        }
        Ok(match self.stores.log.append(id, draft).await? {
            Appended::New { event, .. } => OwnerOutcome::Done(event.seq),
            Appended::Duplicate { seq } => OwnerOutcome::Done(seq),
            Appended::Refused { state } => OwnerOutcome::Conflict(state),
        })
    }

    /// Closes a chat no person holds (the bot's, or one waiting in the queue, which leaves
    /// the queue) as an agent's resolve closes theirs: the visitor is told it was resolved,
    /// in their language, and asked for a rating unless they gave one.
    pub async fn close(&self, site: &Site, id: ConversationId) -> Result<OwnerOutcome, StoreError> {
        let seq = match self.apply(id, Move::Close).await? {
            Transitioned::Done { event, .. } => event.seq,
            Transitioned::Refused { state } => return Ok(OwnerOutcome::Conflict(state)),
            Transitioned::NotHolder | Transitioned::AtCapacity => return Ok(OwnerOutcome::Conflict(State::Agent)),
        };
        self.tell(site, id, Notice::Resolved, None).await?;
        self.ask_rating(id).await?;
        Ok(OwnerOutcome::Done(seq))
    }

    /// Gives a resolved chat back to the bot, as a visitor's message to it does.
    pub async fn reopen(&self, id: ConversationId) -> Result<OwnerOutcome, StoreError> {
        Ok(match self.apply(id, Move::Reopen).await? {
            Transitioned::Done { event, .. } => OwnerOutcome::Done(event.seq),
            Transitioned::Refused { state } => OwnerOutcome::Conflict(state),
            Transitioned::NotHolder | Transitioned::AtCapacity => OwnerOutcome::Conflict(State::Resolved),
        })
    }
}
