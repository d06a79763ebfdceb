//! What an agent writes into a chat they have: messages (emailed too when the chat is a left
//! message's), files, internal notes, and typing. Each append carries its own precondition
//! (the chat is with a person), so a chat that changed hands meanwhile refuses it.

use uuid::Uuid;

use super::{Desk, DeskError, NOT_YOURS};
use crate::attachments::Stored;
use crate::config::AgentConfig;
use crate::protocol::{Author, ClientId, ConversationId, Ephemeral, EventBody, Speaker, State, Text};
use crate::store::{Appended, EventDraft};

impl Desk {
    /// Writes to the visitor; returns the `seq` to ack (the same for a repeated `client_id`).
    pub async fn message(
        &self,
        agent: &AgentConfig,
        id: ConversationId,
        client_id: &ClientId,
        text: Text,
    ) -> Result<u64, DeskError> {
        let assignment = self.mine(agent, id).await?;
        if !assignment.answered {
            self.join(agent, id).await?;
        }
        let text = text.into_inner();
        let body = EventBody::Message {
            id: Uuid::new_v4(),
            from: Speaker::Agent,
            text: text.clone(),
            author: Some(Author { name: agent.name.clone() }),
            client_id: Some(client_id.as_str().to_owned()),
            sources: vec![],
            actions: vec![],
            notice: None,
        };
        let draft =
            EventDraft::new(body).dedupe(format!("a:{}:{}", agent.id, client_id.as_str())).expect(&[State::Agent]);
        let seq = match self.log.append(id, draft).await? {
            Appended::New { event, .. } => {
                if let Some(mail) = &self.mail {
                    super::super::follow_up::email_reply(mail, self.log.as_ref(), &self.sites, &agent.name, id, &text)
                        .await?;
                }
                event.seq
            }
            Appended::Duplicate { seq } => seq,
            Appended::Refused { .. } => return Err(DeskError::Forbidden("this chat is no longer yours")),
        };
        if !assignment.answered {
            self.handoff.mark_answered(id).await?;
        }
        Ok(seq)
    }

    /// Posts the agent's file (already kept) to the visitor, as a message is posted. The chat
    /// must be the agent's and of `site` (the file was kept under it).
    pub async fn attachment(
        &self,
        agent: &AgentConfig,
        site: &str,
        id: ConversationId,
        file: &Stored,
    ) -> Result<u64, DeskError> {
        let assignment = self.mine(agent, id).await?;
        if !assignment.answered {
            self.join(agent, id).await?;
        }
        let conversation = self.log.conversation(id).await?.ok_or(DeskError::NotFound)?;
        if conversation.site != site {
            return Err(NOT_YOURS);
        }
        let body = EventBody::Attachment {
            id: file.id,
            from: Speaker::Agent,
            name: file.name.clone(),
            size: file.size,
            content_type: file.content_type.to_owned(),
            author: Some(Author { name: agent.name.clone() }),
        };
        let seq = match self.log.append(id, EventDraft::new(body).expect(&[State::Agent])).await? {
            Appended::New { event, .. } => event.seq,
            Appended::Duplicate { seq } => seq,
            Appended::Refused { .. } => return Err(DeskError::Forbidden("this chat is no longer yours")),
        };
        if !assignment.answered {
            self.handoff.mark_answered(id).await?;
        }
        Ok(seq)
    }

    /// An internal note: agents see it in the transcript, the visitor never does.
    pub async fn note(&self, agent: &AgentConfig, id: ConversationId, text: Text) -> Result<(), DeskError> {
        self.mine(agent, id).await?;
        let note = EventBody::Note { text: text.into_inner(), author: Author { name: agent.name.clone() } };
        let mut entry = self.audit_entry(agent, "note", id);
        // The assignment said "yours"; the state is checked with the append, as for messages.
        match self.log.append(id, EventDraft::new(note).expect(&[State::Agent])).await? {
            Appended::Refused { .. } => Err(DeskError::Forbidden("this chat is no longer yours")),
            Appended::New { event, .. } => {
                if let Some(entry) = &mut entry {
                    entry.detail = serde_json::json!({ "seq": event.seq }).to_string();
                }
                self.audited(entry, id).await;
                Ok(())
            }
            Appended::Duplicate { .. } => Ok(()),
        }
    }

    pub async fn typing(&self, agent: &AgentConfig, id: ConversationId, on: bool) -> Result<(), DeskError> {
        self.mine(agent, id).await?;
        self.pubsub.publish(id, &Ephemeral::Typing { conversation_id: id, from: Speaker::Agent, on }).await?;
        Ok(())
    }
}
