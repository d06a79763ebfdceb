//! A visitor's file joins the transcript as an `attachment` event once the file is kept (the
//! HTTP layer keeps it through [`crate::attachments`] first).

use std::sync::Arc;

use super::Conversations;
use crate::attachments::Stored;
use crate::protocol::{ConversationId, EventBody, Speaker, State};
use crate::sites::Site;
use crate::store::{Appended, EventDraft, StoreError};

impl Conversations {
    /// Stores the visitor's file as an `attachment` event (the file is already kept); a chat
    /// a person has tells them, as a message does. `Ok(None)`: the chat is closed.
    pub async fn visitor_attachment(
        &self,
        site: &Arc<Site>,
        id: ConversationId,
        file: &Stored,
    ) -> Result<Option<u64>, StoreError> {
        let body = EventBody::Attachment {
            id: file.id,
            from: Speaker::Visitor,
            name: file.name.clone(),
            size: file.size,
            content_type: file.content_type.to_owned(),
            author: None,
        };
        let open = &[State::Bot, State::Queued, State::Agent];
        match self.stores.log.append(id, EventDraft::new(body).expect(open)).await? {
            Appended::New { event, state } => {
                if let (State::Agent, Some(handoffs)) = (state, self.handoffs.get()) {
                    handoffs.visitor_wrote(site, id);
                }
                Ok(Some(event.seq))
            }
            Appended::Duplicate { seq } => Ok(Some(seq)),
            Appended::Refused { .. } => Ok(None),
        }
    }
}
