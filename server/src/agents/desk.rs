//! What an agent does with a chat. Every operation checks that the chat is the agent's (or,
//! for `accept`, that it is waiting), then appends events; the bot stops on its own when it
//! sees the conversation leave its states.

use std::sync::Arc;

use serde_json::Value;
use uuid::Uuid;

use super::dispatch::Dispatch;
use crate::bot::assist::latest_visitor_text;
use crate::config::AgentConfig;
use crate::protocol::agent::{AgentEvent, TransferTo};
use crate::protocol::{
    AgentRef, Author, ClientId, ConversationId, Ephemeral, ErrorCode, EventBody, Reason, Speaker, State, Text,
};
use crate::sites::{Site, Sites};
use crate::store::{Appended, Assignment, Conversation, Delivery, EventDraft, Store, StoreError, Topic};

/// Characters of an agent's words kept for the bot after a hand-back.
const HANDBACK_NOTE_CHARS: usize = 2_000;

#[derive(Debug, thiserror::Error)]
pub enum DeskError {
    #[error("another agent took this chat first")]
    AlreadyTaken,
    #[error("no such conversation")]
    NotFound,
    #[error("{0}")]
    Forbidden(&'static str),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl DeskError {
    pub fn code(&self) -> ErrorCode {
        match self {
            DeskError::AlreadyTaken => ErrorCode::AlreadyTaken,
            DeskError::NotFound => ErrorCode::NotFound,
            DeskError::Forbidden(_) => ErrorCode::Forbidden,
            DeskError::Store(_) => ErrorCode::Unavailable,
        }
    }
}

#[derive(Clone)]
pub struct Desk {
    store: Arc<dyn Store>,
    sites: Sites,
    dispatch: Arc<Dispatch>,
}

impl Desk {
    pub fn new(store: Arc<dyn Store>, sites: Sites, dispatch: Arc<Dispatch>) -> Desk {
        Desk { store, sites, dispatch }
    }

    pub fn dispatch(&self) -> &Arc<Dispatch> {
        &self.dispatch
    }

    /// Takes a waiting chat. Within capacity; exactly one racer wins.
    pub async fn accept(&self, agent: &AgentConfig, id: ConversationId) -> Result<(), DeskError> {
        let conversation = self.conversation(id).await?;
        let held = self.store.assignments().await?.iter().filter(|a| a.agent_id == agent.id).count();
        if u32::try_from(held).unwrap_or(u32::MAX) >= agent.max_chats {
            return Err(DeskError::Forbidden("you are at your chat limit; resolve or hand back a chat first"));
        }
        let site = self.sites.get(&conversation.site).ok_or(DeskError::NotFound)?;
        if !self.dispatch.assign(&site, id, agent).await? {
            return Err(DeskError::AlreadyTaken);
        }
        self.dispatch.broadcast().await?;
        Ok(())
    }

    /// Writes to the visitor; returns the `seq` to ack (the same for a repeated `client_id`).
    pub async fn message(
        &self,
        agent: &AgentConfig,
        id: ConversationId,
        client_id: &ClientId,
        text: Text,
    ) -> Result<u64, DeskError> {
        let assignment = self.mine(agent, id).await?;
        let body = EventBody::Message {
            id: Uuid::new_v4(),
            from: Speaker::Agent,
            text: text.into_inner(),
            author: Some(Author { name: agent.name.clone() }),
            client_id: Some(client_id.as_str().to_owned()),
            sources: vec![],
            actions: vec![],
        };
        let draft =
            EventDraft::new(body).dedupe(format!("a:{}:{}", agent.id, client_id.as_str())).expect(&[State::Agent]);
        let seq = match self.store.append(id, draft).await? {
            Appended::New { event, .. } => event.seq,
            Appended::Duplicate { seq } => seq,
            Appended::Refused { .. } => return Err(DeskError::Forbidden("this chat is no longer yours")),
        };
        if !assignment.answered {
            self.store.mark_answered(id).await?;
        }
        Ok(seq)
    }

    /// An internal note: agents see it in the transcript, the visitor never does.
    pub async fn note(&self, agent: &AgentConfig, id: ConversationId, text: Text) -> Result<(), DeskError> {
        self.mine(agent, id).await?;
        let note = EventBody::Note { text: text.into_inner(), author: Author { name: agent.name.clone() } };
        // The assignment said "yours"; the state is checked with the append, as for messages.
        match self.store.append(id, EventDraft::new(note).expect(&[State::Agent])).await? {
            Appended::Refused { .. } => Err(DeskError::Forbidden("this chat is no longer yours")),
            Appended::New { .. } | Appended::Duplicate { .. } => Ok(()),
        }
    }

    pub async fn typing(&self, agent: &AgentConfig, id: ConversationId, on: bool) -> Result<(), DeskError> {
        self.mine(agent, id).await?;
        self.store.publish(id, &Ephemeral::Typing { conversation_id: id, from: Speaker::Agent, on }).await?;
        Ok(())
    }

    /// To another agent (who gets it at once, with everything) or back to a team's queue.
    pub async fn transfer(&self, agent: &AgentConfig, id: ConversationId, to: TransferTo) -> Result<(), DeskError> {
        self.mine(agent, id).await?;
        match to {
            TransferTo::Team(team) => {
                let notice = "I'm passing you to a colleague who can help with this. Please stay here.";
                self.dispatch.requeue(id, Reason::Transfer, Some(team), notice).await?;
            }
            TransferTo::Agent(target_id) => {
                let target = self.dispatch.directory().get(&target_id).cloned().ok_or(DeskError::NotFound)?;
                let target_ref = AgentRef { id: target.id.clone(), name: target.name.clone() };
                let state = EventBody::State { state: State::Agent, reason: None, agent: Some(target_ref.clone()) };
                if !matches!(
                    self.store.append(id, EventDraft::new(state).expect(&[State::Agent])).await?,
                    Appended::New { .. }
                ) {
                    return Err(DeskError::Forbidden("this chat is no longer yours"));
                }
                let since = chrono::Utc::now();
                self.store
                    .assign(Assignment { agent_id: target.id.clone(), conversation_id: id, since, answered: false })
                    .await?;
                self.store.set_attr(id, "agent", serde_json::to_value(&target_ref).unwrap_or_default()).await?;
                self.dispatch.send_assigned(&target.id, id).await?;
            }
        }
        self.dispatch.refresh().await?;
        Ok(())
    }

    /// Returns the chat to the bot, with what the agent said kept for its prompt.
    pub async fn handback(&self, agent: &AgentConfig, id: ConversationId) -> Result<(), DeskError> {
        self.mine(agent, id).await?;
        let events = self.store.events_after(id, 0, self.dispatch.max_events()).await?;
        let said: Vec<&str> = events
            .iter()
            .filter_map(|e| match &e.body {
                EventBody::Message { from: Speaker::Agent, text, .. } => Some(text.as_str()),
                _ => None,
            })
            .collect();
        let mut note = said.join("\n");
        if let Some((cut, _)) = note.char_indices().nth(HANDBACK_NOTE_CHARS) {
            note.truncate(cut);
        }
        self.store.set_attr(id, "handback", serde_json::json!({ "agent": agent.name, "said": note })).await?;
        self.release(id, State::Bot).await?;
        Ok(())
    }

    /// Closes the chat and asks the visitor for a rating.
    pub async fn resolve(&self, agent: &AgentConfig, id: ConversationId) -> Result<(), DeskError> {
        self.mine(agent, id).await?;
        self.release(id, State::Resolved).await?;
        self.store.publish(id, &Ephemeral::CsatRequest { conversation_id: id }).await?;
        Ok(())
    }

    async fn release(&self, id: ConversationId, to: State) -> Result<(), DeskError> {
        let state = EventBody::State { state: to, reason: None, agent: None };
        if !matches!(self.store.append(id, EventDraft::new(state).expect(&[State::Agent])).await?, Appended::New { .. })
        {
            return Err(DeskError::Forbidden("this chat is no longer yours"));
        }
        self.store.unassign(id).await?;
        self.store.set_attr(id, "agent", Value::Null).await?;
        self.dispatch.refresh().await?;
        Ok(())
    }

    /// Fresh draft replies for the agent who has the chat, after a visitor message.
    pub async fn suggest(&self, site: &Site, id: ConversationId) -> Result<(), StoreError> {
        let Some(assignment) = self.store.assignment(id).await? else { return Ok(()) };
        let assist = self.dispatch.assist();
        let events = self.store.recent_events(id, assist.suggestion_events()).await?;
        if latest_visitor_text(&events).is_empty() {
            return Ok(());
        }
        let replies = assist.suggestions(site, &events).await;
        let frame = AgentEvent::Suggestions { conversation_id: id, replies };
        self.store.deliver(Delivery::frame(Topic::Agent(assignment.agent_id), &frame)).await
    }

    async fn conversation(&self, id: ConversationId) -> Result<Conversation, DeskError> {
        self.store.conversation(id).await?.ok_or(DeskError::NotFound)
    }

    /// This agent has the chat (its assignment names them): one small read. What is then
    /// appended carries its own precondition where the state matters.
    async fn mine(&self, agent: &AgentConfig, id: ConversationId) -> Result<Assignment, DeskError> {
        match self.store.assignment(id).await? {
            Some(assignment) if assignment.agent_id == agent.id => Ok(assignment),
            Some(_) => Err(DeskError::Forbidden("this chat is not yours")),
            None => match self.store.state(id).await? {
                None => Err(DeskError::NotFound),
                Some(_) => Err(DeskError::Forbidden("this chat is not yours")),
            },
        }
    }
}
