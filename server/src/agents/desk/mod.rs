//! What an agent does with a chat, and what their socket is sent. Every operation checks that
//! the chat is the agent's (or, for `accept`, that it is waiting), then acts; a change of
//! hands goes through the [`Router`], and the bot stops on its own when it sees the
//! conversation leave its states.
//!
//! # Layout
//! - this file: the desk itself, sign-in (`ready`), views and previews, and the checks
//!   every operation starts with (`mine`, `may_take`);
//! - [`error`]: what an operation can be refused with; `lookup`: small reads for the owner API;
//! - `hands`: changes of hands: accept, transfer, hand back, resolve, and the verdict;
//! - `left`: left messages marked handled, for every agent of their site;
//! - `sign_out`: an agent the owner disabled: presence ended, chats given back;
//! - `writing`: what an agent writes into a chat they have: messages, files, notes, typing;
//! - `suggest`: draft replies for the agent, once per burst of visitor messages.

mod error;
mod hands;
mod left;
mod lookup;
mod sign_out;
mod suggest;
mod writing;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::roster::Roster;
use super::router::Router;
use super::{info, queue, views};
use crate::archive::audit::{AuditEntry, AuditLog};
use crate::attachments::{Attachments, Scope};
use crate::bot::assist::Assist;
use crate::config::AgentConfig;
use crate::mail::Mail;
use crate::protocol::agent::{AgentEvent, AgentStatus, ConversationView};
use crate::protocol::{ConversationId, State};
use crate::sites::{Site, Sites};
use crate::store::{Assignment, EventLog, Handoff, PubSub, StoreError, Stores, VisitorIndex};
pub use error::DeskError;
use error::{NOT_YOUR_SITE, NOT_YOUR_TEAM, NOT_YOURS};

#[derive(Clone)]
pub struct Desk {
    router: Arc<Router>,
    log: Arc<dyn EventLog>,
    handoff: Arc<dyn Handoff>,
    pubsub: Arc<dyn PubSub>,
    visitors: Arc<dyn VisitorIndex>,
    sites: Sites,
    assist: Assist,
    attachments: Attachments,
    /// Conversations whose agent is about to get fresh suggestions, with the time of the
    /// visitor's newest message. Short-held: no lock is kept across an await.
    suggesting: Arc<Mutex<HashMap<ConversationId, Instant>>>,
    /// Email (`None`: off): answers to left messages go out by email too.
    mail: Option<Mail>,
    /// `handoff.answer_timeout_secs` (`None`: no limit): views carry the deadline.
    answer_timeout: Option<chrono::Duration>,
    /// Where the agents' actions are recorded (none: not recorded, as in unit tests).
    audit: Option<AuditLog>,
}

impl Desk {
    pub fn new(router: Arc<Router>, stores: &Stores, sites: Sites, assist: Assist, attachments: Attachments) -> Desk {
        Desk {
            attachments,
            router,
            log: stores.log.clone(),
            handoff: stores.handoff.clone(),
            pubsub: stores.pubsub.clone(),
            visitors: stores.visitors.clone(),
            sites,
            assist,
            suggesting: Arc::default(),
            mail: None,
            answer_timeout: None,
            audit: None,
        }
    }

    /// Views of a chat its agent has not answered yet carry the deadline (`0`: no limit).
    pub fn with_answer_timeout(mut self, secs: u64) -> Desk {
        self.answer_timeout = (secs > 0).then(|| chrono::Duration::seconds(i64::try_from(secs).unwrap_or(i64::MAX)));
        self
    }

    pub fn with_mail(mut self, mail: Option<Mail>) -> Desk {
        self.mail = mail;
        self
    }

    /// Records every take, transfer, note, hand-back and resolve in `audit`.
    pub fn with_audit(mut self, audit: AuditLog) -> Desk {
        self.audit = Some(audit);
        self
    }

    /// The audit entry of `agent` doing `action` on the chat, made (timed) when the action
    /// starts, so that entries keep the order the actions were asked in; recorded by
    /// [`Self::audited`] once the action succeeded. Never what a note or message said.
    fn audit_entry(&self, agent: &AgentConfig, action: &str, id: ConversationId) -> Option<AuditEntry> {
        self.audit.as_ref()?;
        let mut entry = AuditEntry::now(&agent.id, action, "{}".to_owned());
        entry.conversation_id = Some(id.to_string());
        Some(entry)
    }

    async fn audited(&self, entry: Option<AuditEntry>, id: ConversationId) {
        let (Some(audit), Some(mut entry)) = (&self.audit, entry) else { return };
        if let Ok(Some(conversation)) = self.log.conversation(id).await {
            entry.site = Some(conversation.site);
        }
        audit.record(entry);
    }

    /// The agent whose token this is.
    pub fn authenticate(&self, token: &str) -> Option<AgentConfig> {
        self.router.presences().directory().authenticate(token)
    }

    /// How often a connected socket keeps its agent present.
    pub fn presence_every(&self) -> Duration {
        self.router.presences().refresh_every()
    }

    /// The agent is here with this status; routing may use them (or not, when away).
    pub async fn keep_present(&self, agent: &AgentConfig, status: AgentStatus) -> Result<(), StoreError> {
        self.router.presences().keep(&agent.id, status).await
    }

    /// The status another socket keeps this agent present with, if any.
    pub async fn current_status(&self, agent: &AgentConfig) -> Option<AgentStatus> {
        let presence = self.router.presences().all().await.ok()?;
        presence.get(&agent.id).filter(|p| p.until >= chrono::Utc::now()).map(|p| p.status)
    }

    /// Who can take a chat now, as `agent` may see it: the agents who work for one of their
    /// sites (no tenant sees another's staff), with presence and free capacity, and teams.
    /// For one of the agent's chats (`chat`), only the agents who work for that chat's site:
    /// the ones a transfer can go to.
    pub async fn roster(&self, agent: &AgentConfig, chat: Option<ConversationId>) -> Result<Roster, DeskError> {
        let presences = self.router.presences();
        let mut loads = presences.loads().await?;
        if let Some(id) = chat {
            self.mine(agent, id).await?;
            let site = self.site_of(id).await?;
            loads.retain(|load| load.agent.serves(&site.config.id));
        } else if let Some(sites) = agent.site_scope() {
            loads.retain(|load| sites.iter().any(|site| load.agent.serves(site)));
        }
        Ok(Roster::new(&loads, &presences.all().await?, chrono::Utc::now()))
    }

    pub async fn set_status(&self, agent: &AgentConfig, status: AgentStatus) -> Result<(), DeskError> {
        self.keep_present(agent, status).await?;
        Ok(self.router.refresh().await?)
    }

    /// What a socket that just signed in is sent: the queue, the agent's chats (with the
    /// newest `seq` of each, to follow them from), and the left messages.
    pub async fn ready(&self, agent: &AgentConfig) -> Result<(AgentEvent, Vec<(ConversationId, u64)>), StoreError> {
        let sorted = queue::sorted(self.handoff.queue().await?);
        let mut items = views::queue_items(self.log.as_ref(), &sorted).await?;
        items.retain(|item| agent.may_see(&item.site, item.team.as_deref()));
        let mut conversations = Vec::new();
        let mut following = Vec::new();
        let mine = self.handoff.assignments().await?.into_iter().filter(|a| a.agent_id == agent.id);
        for assignment in mine {
            if let Some(view) = self.view(assignment.conversation_id).await? {
                following.push((view.conversation_id, view.events.last().map_or(0, |e| e.seq)));
                conversations.push(view);
            }
        }
        let mut left_messages = self.handoff.left_messages().await?;
        left_messages.retain(|left| agent.serves(&left.site));
        let mail = match &self.mail {
            Some(mail) => super::follow_up::mail_views(mail, &left_messages).await,
            None => Vec::new(),
        };
        let ready = AgentEvent::Ready { agent: info(agent), queue: items, conversations, left_messages, mail };
        Ok((ready, following))
    }

    /// The full view of a conversation, at once; with a model, its drafts for the agent who
    /// has the chat follow as a `suggestions` frame.
    pub async fn view(&self, id: ConversationId) -> Result<Option<ConversationView>, StoreError> {
        let (log, visitors) = (self.log.as_ref(), self.visitors.as_ref());
        let mut view = views::conversation_view(log, visitors, &self.sites, &self.assist, id).await?;
        if let (Some(view), Some(timeout)) = (&mut view, self.answer_timeout)
            && let Some(assignment) = self.handoff.assignment(id).await?.filter(|a| !a.answered)
        {
            view.answer_by = Some(assignment.since + timeout);
        }
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
    pub async fn preview(&self, agent: &AgentConfig, id: ConversationId) -> Result<ConversationView, DeskError> {
        match self.log.state(id).await? {
            None => return Err(DeskError::NotFound),
            Some(State::Queued) => {}
            Some(_) => return Err(DeskError::Forbidden("only a waiting chat can be previewed")),
        }
        self.may_take(agent, id).await?;
        self.view(id).await?.ok_or(DeskError::NotFound)
    }

    /// Assigns what routing can and tells agents and visitors (after a socket signs in).
    pub async fn refresh(&self) -> Result<(), StoreError> {
        self.router.refresh().await
    }

    /// A waiting chat may be looked at and taken only by an agent who may see its line (its
    /// site and, when it was routed to one, its team). Not waiting: the take itself says why.
    async fn may_take(&self, agent: &AgentConfig, id: ConversationId) -> Result<(), DeskError> {
        let queue = self.handoff.queue().await?;
        match queue.iter().find(|entry| entry.conversation_id == id) {
            Some(entry) if !agent.may_see(&entry.site, entry.team.as_deref()) => Err(NOT_YOUR_TEAM),
            _ => Ok(()),
        }
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
            Some(_) if !self.site_of(id).await.is_ok_and(|site| agent.serves(&site.config.id)) => Err(NOT_YOUR_SITE),
            Some(_) => Err(NOT_YOURS),
            None => match self.log.state(id).await? {
                None => Err(DeskError::NotFound),
                Some(_) => Err(NOT_YOURS),
            },
        }
    }
}
