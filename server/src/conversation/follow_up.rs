//! When no one could take the chat: the visitor leaves a message for the team, kept as an
//! internal note and a left message for agents, confirmed in the chat and (with email on) by
//! an email whose resume link reopens this very conversation. And the transcript by email,
//! when the visitor asks for it.

use super::{Conversations, Notice, notices};
use crate::archive::outbox::MailKind;
use crate::mail::letters;
use crate::protocol::{Author, ConversationId, EventBody, Text};
use crate::records::{Contact, Record};
use crate::sites::Site;
use crate::store::{Appended, EventDraft, LeftMessage, StoreError};

/// Events a transcript email holds at most (the newest).
const TRANSCRIPT_EVENTS: usize = 500;

#[derive(Debug, thiserror::Error)]
pub enum TranscriptError {
    #[error("email is not configured on this server")]
    Off,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Outbox(String),
}

impl Conversations {
    /// The visitor left a message for the team (no one could take the chat).
    pub async fn leave_message(
        &self,
        site: &Site,
        id: ConversationId,
        email: String,
        text: Text,
    ) -> Result<(), StoreError> {
        let note = EventBody::Note {
            text: format!("Message left for the team (reply to {email}):\n{}", text.as_str()),
            author: Author { name: "Visitor".into() },
        };
        let event = match self.stores.log.append(id, EventDraft::new(note)).await? {
            Appended::New { event, .. } => event,
            _ => return Ok(()),
        };
        let left = LeftMessage {
            conversation_id: id,
            site: site.config.id.clone(),
            email: email.clone(),
            text: text.as_str().to_owned(),
            at: event.at,
            handled: None,
        };
        self.stores.handoff.add_left_message(left.clone()).await?;
        let contact = Contact { email: email.clone(), at: event.at, text: Some(text.as_str().to_owned()) };
        self.stores.log.set_record(id, Record::Contact(contact)).await?;
        if let Some(handoffs) = self.handoffs.get() {
            handoffs.left_message(&left).await?;
        }
        // The email is in the outbox before the visitor reads the confirmation in the chat.
        if let Some(mail) = &self.mail {
            let lang = self.language(site, id).await?;
            let letter = letters::confirmation(&site.config, lang, text.as_str(), &mail.resume_link(id));
            if let Err(error) = mail.queue(&site.config.id, id, MailKind::Confirmation, &email, letter).await {
                tracing::warn!(%error, conversation_id = %id, "left message kept, its confirmation email not queued");
            }
        }
        self.tell(site, id, Notice::LeftMessage { email }, None).await
    }

    /// Emails the visitor the conversation so far: to `email`, else to the address they left.
    pub async fn email_transcript(
        &self,
        site: &Site,
        id: ConversationId,
        email: Option<String>,
    ) -> Result<(), TranscriptError> {
        let Some(mail) = &self.mail else { return Err(TranscriptError::Off) };
        let conversation = self.stores.log.conversation(id).await?.ok_or(StoreError::NotFound)?;
        let to = email.or_else(|| conversation.records.contact.as_ref().map(|c| c.email.clone()));
        let Some(to) = to else { return Err(TranscriptError::Outbox("no email address to send it to".into())) };
        let events = self.stores.log.recent_events(id, TRANSCRIPT_EVENTS).await?;
        let lang = notices::conversation_language(&site.config, &conversation);
        let letter = letters::transcript(&site.config, lang, &events, &mail.resume_link(id));
        mail.queue(&site.config.id, id, MailKind::Transcript, &to, letter)
            .await
            .map_err(|e| TranscriptError::Outbox(e.to_string()))
    }
}
