//! Opening a conversation from `hello`: resuming the one its token names, or starting a new
//! one with the greeting (a resume link from an email names one too), with the visitor's identity applied (see [`super::identity`]).

use super::identity::{self, IdentifyError};
use super::{Conversations, OpenError, Opened, StoreError, bot_message, clip, clip_page, hash_token, new_token};
use crate::mail::ResumeLinks;
use crate::protocol::{ConversationId, Hello, IdentityStatus, VisitorIdentity};
use crate::sites::Site;
use crate::store::{Conversation, EventDraft, NewConversation, Visitor};

impl Conversations {
    /// Resumes the conversation `hello.token` names, or starts a new one with the greeting,
    /// with the visitor's identity (`hello.visitor`) applied. A token of a conversation
    /// verified as another user's starts a new one instead: it is not this visitor's. A
    /// verified visitor's new conversation comes with their recent ones (`history`).
    pub async fn open(&self, site: &Site, hello: &Hello) -> Result<Opened, OpenError> {
        let claim = hello.visitor.as_ref().filter(|claim| !claim.is_empty());
        if let Some(token) = &hello.token {
            let conversation = self.by_token(token).await?;
            let Some(conversation) = conversation.filter(|c| c.site == site.config.id) else {
                return Err(OpenError::BadToken);
            };
            let id = conversation.id;
            match self.opened(site, conversation, token.clone(), claim).await {
                Err(IdentifyError::OtherUser) => {
                    tracing::info!(conversation_id = %id, "token of another verified visitor: starting anew");
                }
                Err(IdentifyError::Store(error)) => return Err(error.into()),
                Ok(opened) => return Ok(opened),
            }
        }
        let (conversation, token) = self.start(site, hello).await?;
        let mut opened = match self.opened(site, conversation, token, claim).await {
            Ok(opened) => opened,
            Err(IdentifyError::Store(error)) => return Err(error.into()),
            Err(IdentifyError::OtherUser) => return Err(StoreError::NotFound.into()),
        };
        if opened.identity == IdentityStatus::Verified {
            let id = opened.conversation.id;
            let stored = self.stores.log.conversation(id).await?.ok_or(StoreError::NotFound)?;
            opened.history = self.history(site, stored.records.identity.as_deref(), id).await?;
        }
        Ok(opened)
    }

    /// The conversation a token names: a resume link from an email (checked, `None` when
    /// forged, expired, or email is off) or the widget's stored token.
    async fn by_token(&self, token: &str) -> Result<Option<Conversation>, StoreError> {
        let log = &self.stores.log;
        match (&self.links, ResumeLinks::is_link(token)) {
            (Some(links), true) => match links.verify(token, chrono::Utc::now()) {
                Some(id) => log.conversation(id).await,
                None => Ok(None),
            },
            (None, true) => Ok(None),
            (_, false) => log.conversation_by_token(&hash_token(token)).await,
        }
    }

    async fn opened(
        &self,
        site: &Site,
        conversation: Conversation,
        token: String,
        claim: Option<&VisitorIdentity>,
    ) -> Result<Opened, IdentifyError> {
        let identity = match claim {
            Some(claim) => self.identify(site, &conversation, claim).await?,
            None => identity::status(conversation.records.identity.as_deref()),
        };
        Ok(Opened { conversation, token, identity, history: Vec::new() })
    }

    /// A new conversation with the greeting; returns it and its resume token.
    async fn start(&self, site: &Site, hello: &Hello) -> Result<(Conversation, String), StoreError> {
        let log = &self.stores.log;
        let token = new_token();
        let visitor =
            Visitor { locale: hello.locale.clone().map(|l| clip(l, 35)), page: hello.page.clone().map(clip_page) };
        let new = NewConversation {
            id: ConversationId::new(),
            site: site.config.id.clone(),
            token_hash: hash_token(&token),
            visitor,
        };
        let id = new.id;
        log.create_conversation(new).await?;
        let greeting = bot_message(site, site.config.persona.greeting.clone());
        log.append(id, EventDraft::new(greeting)).await?;
        let conversation = log.conversation(id).await?.ok_or(StoreError::NotFound)?;
        tracing::info!(conversation_id = %id, site = %site.config.id, "conversation started");
        Ok((conversation, token))
    }
}
