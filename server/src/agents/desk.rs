//! What an agent does with a chat, and what their socket is sent. Every operation checks that
//! the chat is the agent's (or, for `accept`, that it is waiting), then acts; a change of
//! hands goes through the [`Router`], and the bot stops on its own when it sees the
//! conversation leave its states.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use uuid::Uuid;

use super::router::{Router, Taken};
use super::{info, queue, views};
use crate::attachments::{Attachments, Scope, Stored};
use crate::bot::assist::{Assist, latest_visitor_text};
use crate::config::AgentConfig;
use crate::conversation::machine::Move;
use crate::protocol::agent::{AgentEvent, AgentStatus, ConversationView, TransferTo};
use crate::protocol::{
    Author, ClientId, ConversationId, Ephemeral, ErrorCode, EventBody, Reason, Speaker, State, Text,
};
use crate::records::{Handback, Record};
use crate::sites::{Site, Sites};
use crate::store::{Appended, Assignment, Delivery, EventDraft, EventLog, Handoff, PubSub, StoreError, Stores, Topic};

/// Characters of an agent's words kept for the bot after a hand-back.
const HANDBACK_NOTE_CHARS: usize = 2_000;
/// Suggestions for the agent are drafted once the visitor has paused this long, so a visitor
/// typing in several short messages costs one round of drafts, not one each…
const SUGGEST_QUIET: Duration = Duration::from_millis(250);
/// … and at least this often while messages keep coming without a pause.
const SUGGEST_MAX_WAIT: Duration = Duration::from_secs(2);
const TRANSFER_NOTICE: &str = "I'm passing you to a colleague who can help with this. Please stay here.";

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

const NOT_YOURS: DeskError = DeskError::Forbidden("this chat is not yours");
const AT_CAPACITY: DeskError = DeskError::Forbidden("you are at your chat limit; resolve or hand back a chat first");

#[derive(Clone)]
pub struct Desk {
    router: Arc<Router>,
    log: Arc<dyn EventLog>,
    handoff: Arc<dyn Handoff>,
    pubsub: Arc<dyn PubSub>,
    sites: Sites,
    assist: Assist,
    attachments: Attachments,
    /// Conversations whose agent is about to get fresh suggestions, with the time of the
    /// visitor's newest message. Short-held: no lock is kept across an await.
    suggesting: Arc<Mutex<HashMap<ConversationId, Instant>>>,
}

impl Desk {
    pub fn new(router: Arc<Router>, stores: &Stores, sites: Sites, assist: Assist, attachments: Attachments) -> Desk {
        Desk {
            attachments,
            router,
            log: stores.log.clone(),
            handoff: stores.handoff.clone(),
            pubsub: stores.pubsub.clone(),
            sites,
            assist,
            suggesting: Arc::default(),
        }
    }

    /// The agent whose token this is.
    pub fn authenticate(&self, token: &str) -> Option<AgentConfig> {
        self.router.presences().directory().authenticate(token).cloned()
    }

    /// How often a connected socket keeps its agent present.
    pub fn presence_every(&self) -> Duration {
        self.router.presences().refresh_every()
    }

    /// The agent is here with this status; routing may use them (or not, when away).
    pub async fn keep_present(&self, agent: &AgentConfig, status: AgentStatus) -> Result<(), StoreError> {
        self.router.presences().keep(&agent.id, status).await
    }

    pub async fn set_status(&self, agent: &AgentConfig, status: AgentStatus) -> Result<(), DeskError> {
        self.keep_present(agent, status).await?;
        Ok(self.router.refresh().await?)
    }

    /// What a socket that just signed in is sent: the queue, the agent's chats (with the
    /// newest `seq` of each, to follow them from), and the left messages.
    pub async fn ready(&self, agent: &AgentConfig) -> Result<(AgentEvent, Vec<(ConversationId, u64)>), StoreError> {
        let sorted = queue::sorted(self.handoff.queue().await?);
        let items = views::queue_items(self.log.as_ref(), &sorted).await?;
        let mut conversations = Vec::new();
        let mut following = Vec::new();
        let mine = self.handoff.assignments().await?.into_iter().filter(|a| a.agent_id == agent.id);
        for assignment in mine {
            if let Some(view) = self.view(assignment.conversation_id).await? {
                following.push((view.conversation_id, view.events.last().map_or(0, |e| e.seq)));
                conversations.push(view);
            }
        }
        let left_messages = self.handoff.left_messages().await?;
        Ok((AgentEvent::Ready { agent: info(agent), queue: items, conversations, left_messages }, following))
    }

    /// The full view of a conversation, at once; with a model, its drafts for the agent who
    /// has the chat follow as a `suggestions` frame.
    pub async fn view(&self, id: ConversationId) -> Result<Option<ConversationView>, StoreError> {
        let mut view = views::conversation_view(self.log.as_ref(), &self.sites, &self.assist, id).await?;
        if let Some(view) = &mut view
            && let Some(site) = self.sites.get(&view.site)
        {
            view.attachments = self.attachments.grant(Scope::Read, &site.config, id);
        }
        if let Some(view) = &view
            && self.assist.has_model()
            && let Some(site) = self.sites.get(&view.site)
        {
            let (desk, site) = (self.clone(), site.clone());
            tokio::spawn(async move {
                if let Err(error) = desk.suggest(&site, id).await {
                    tracing::warn!(%error, conversation_id = %id, "no suggestions for the agent");
                }
            });
        }
        Ok(view)
    }

    /// A waiting chat's view for an agent deciding whether to take it; nothing changes hands
    /// and the agent does not follow it. Only queued chats: others belong to someone.
    pub async fn preview(&self, id: ConversationId) -> Result<ConversationView, DeskError> {
        match self.log.state(id).await? {
            None => return Err(DeskError::NotFound),
            Some(State::Queued) => {}
            Some(_) => return Err(DeskError::Forbidden("only a waiting chat can be previewed")),
        }
        self.view(id).await?.ok_or(DeskError::NotFound)
    }

    /// Assigns what routing can and tells agents and visitors (after a socket signs in).
    pub async fn refresh(&self) -> Result<(), StoreError> {
        self.router.refresh().await
    }

    /// Takes a waiting chat. Within capacity; exactly one racer wins.
    pub async fn accept(&self, agent: &AgentConfig, id: ConversationId) -> Result<(), DeskError> {
        let site = self.site_of(id).await?;
        match self.router.take(&site, id, agent, None).await? {
            Taken::Yes => {}
            Taken::AtCapacity => return Err(AT_CAPACITY),
            Taken::No | Taken::NotHolder => return self.not_waiting(agent, id).await,
        }
        self.router.broadcast().await?;
        Ok(())
    }

    /// Why a chat could not be taken: someone has it, or it is not waiting at all. An agent
    /// who already has it (routing gave it to them as they pressed accept) is told nothing.
    async fn not_waiting(&self, agent: &AgentConfig, id: ConversationId) -> Result<(), DeskError> {
        if self.handoff.assignment(id).await?.is_some_and(|a| a.agent_id == agent.id) {
            return Ok(());
        }
        Err(match self.log.state(id).await? {
            None => DeskError::NotFound,
            Some(State::Agent | State::Queued) => DeskError::AlreadyTaken,
            Some(State::Bot | State::Resolved) => DeskError::Forbidden("this chat is not waiting for a person"),
        })
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
        let seq = match self.log.append(id, draft).await? {
            Appended::New { event, .. } => event.seq,
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
        // The assignment said "yours"; the state is checked with the append, as for messages.
        match self.log.append(id, EventDraft::new(note).expect(&[State::Agent])).await? {
            Appended::Refused { .. } => Err(DeskError::Forbidden("this chat is no longer yours")),
            Appended::New { .. } | Appended::Duplicate { .. } => Ok(()),
        }
    }

    pub async fn typing(&self, agent: &AgentConfig, id: ConversationId, on: bool) -> Result<(), DeskError> {
        self.mine(agent, id).await?;
        self.pubsub.publish(id, &Ephemeral::Typing { conversation_id: id, from: Speaker::Agent, on }).await?;
        Ok(())
    }

    /// To another agent (who gets it at once, with everything) or back to a team's queue.
    pub async fn transfer(&self, agent: &AgentConfig, id: ConversationId, to: TransferTo) -> Result<(), DeskError> {
        self.mine(agent, id).await?;
        match to {
            TransferTo::Team(team) => {
                let holder = Some(agent.id.clone());
                if !self.router.requeue(id, holder, Some(Reason::Transfer), Some(team), TRANSFER_NOTICE).await? {
                    return Err(DeskError::Forbidden("this chat is no longer yours"));
                }
            }
            TransferTo::Agent(target_id) => {
                let target = self.router.presences().directory().get(&target_id).cloned().ok_or(DeskError::NotFound)?;
                let site = self.site_of(id).await?;
                match self.router.take(&site, id, &target, Some(&agent.id)).await? {
                    Taken::Yes => {}
                    Taken::AtCapacity => return Err(DeskError::Forbidden("that agent is at their chat limit")),
                    Taken::No | Taken::NotHolder => return Err(DeskError::Forbidden("this chat is no longer yours")),
                }
            }
        }
        self.router.refresh().await?;
        Ok(())
    }

    /// Returns the chat to the bot, with what the agent said kept for its prompt.
    pub async fn handback(&self, agent: &AgentConfig, id: ConversationId) -> Result<(), DeskError> {
        self.mine(agent, id).await?;
        let events = self.log.recent_events(id, views::MAX_VIEW_EVENTS).await?;
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
        self.log.set_record(id, Record::Handback(Handback { agent: agent.name.clone(), said: note })).await?;
        self.release(id, Move::HandBack { holder: agent.id.clone() }).await
    }

    /// Closes the chat and asks the visitor for a rating.
    pub async fn resolve(&self, agent: &AgentConfig, id: ConversationId) -> Result<(), DeskError> {
        self.mine(agent, id).await?;
        self.release(id, Move::Resolve { holder: agent.id.clone() }).await?;
        self.pubsub.publish(id, &Ephemeral::CsatRequest { conversation_id: id }).await?;
        Ok(())
    }

    async fn release(&self, id: ConversationId, m: Move) -> Result<(), DeskError> {
        if !self.router.release(id, m).await? {
            return Err(DeskError::Forbidden("this chat is no longer yours"));
        }
        self.router.refresh().await?;
        Ok(())
    }

    /// Fresh suggestions for the agent, once per burst of visitor messages: the first message
    /// schedules them, the rest of the burst pushes them on (up to [`SUGGEST_MAX_WAIT`]).
    pub fn suggest_soon(&self, site: &Arc<Site>, id: ConversationId) {
        let first = Instant::now();
        let lock = || self.suggesting.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if lock().insert(id, first).is_some() {
            return;
        }
        let (desk, site) = (self.clone(), site.clone());
        tokio::spawn(async move {
            loop {
                let newest = desk.suggesting().get(&id).copied();
                let due = (newest.unwrap_or(first) + SUGGEST_QUIET).min(first + SUGGEST_MAX_WAIT);
                if Instant::now() >= due {
                    break;
                }
                tokio::time::sleep_until(due.into()).await;
            }
            desk.suggesting().remove(&id);
            if let Err(error) = desk.suggest(&site, id).await {
                tracing::warn!(%error, conversation_id = %id, "no suggestions for the agent");
            }
        });
    }

    fn suggesting(&self) -> std::sync::MutexGuard<'_, HashMap<ConversationId, Instant>> {
        self.suggesting.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Fresh draft replies for the agent who has the chat, after a visitor message.
    async fn suggest(&self, site: &Site, id: ConversationId) -> Result<(), StoreError> {
        let Some(assignment) = self.handoff.assignment(id).await? else { return Ok(()) };
        let events = self.log.recent_events(id, self.assist.suggestion_events()).await?;
        if latest_visitor_text(&events).is_empty() {
            return Ok(());
        }
        let drafts = self.assist.suggestions(site, &events).await;
        let frame = AgentEvent::Suggestions { conversation_id: id, replies: drafts.value, source: drafts.source };
        self.pubsub.deliver(Delivery::frame(Topic::Agent(assignment.agent_id), &frame)).await
    }

    async fn site_of(&self, id: ConversationId) -> Result<Arc<Site>, DeskError> {
        let conversation = self.log.conversation(id).await?.ok_or(DeskError::NotFound)?;
        self.sites.get(&conversation.site).ok_or(DeskError::NotFound)
    }

    /// This agent has the chat (its assignment names them): one small read. What is then
    /// appended carries its own precondition where the state matters.
    async fn mine(&self, agent: &AgentConfig, id: ConversationId) -> Result<Assignment, DeskError> {
        match self.handoff.assignment(id).await? {
            Some(assignment) if assignment.agent_id == agent.id => Ok(assignment),
            Some(_) => Err(NOT_YOURS),
            None => match self.log.state(id).await? {
                None => Err(DeskError::NotFound),
                Some(_) => Err(NOT_YOURS),
            },
        }
    }
}
