//! What an agent does with a chat, and what their socket is sent. Every operation checks that
//! the chat is the agent's (or, for `accept`, that it is waiting), then acts; a change of
//! hands goes through the [`Router`], and the bot stops on its own when it sees the
//! conversation leave its states.

mod lookup;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use uuid::Uuid;

use super::roster::{Roster, Seen};
use super::router::{Router, Taken};
use super::{info, queue, views};
use crate::archive::audit::{AuditEntry, AuditLog};
use crate::attachments::{Attachments, Scope, Stored};
use crate::bot::assist::{Assist, latest_visitor_text};
use crate::config::AgentConfig;
use crate::conversation::Notice;
use crate::conversation::machine::Move;
use crate::mail::Mail;
use crate::protocol::agent::{AgentEvent, AgentStatus, ConversationView, TransferTo, Verdict};
use crate::protocol::{Author, ClientId, ConversationId, Ephemeral, ErrorCode, EventBody, Speaker, State, Text};
use crate::records::{Handback, Record, VerdictRecord};
use crate::sites::{Site, Sites};
use crate::store::{
    Appended, Assignment, Delivery, EventDraft, EventLog, Handoff, PubSub, StoreError, Stores, Topic, VisitorIndex,
};

/// Characters of an agent's words kept for the bot after a hand-back.
const HANDBACK_NOTE_CHARS: usize = 2_000;
/// Suggestions for the agent are drafted once the visitor has paused this long, so a visitor
/// typing in several short messages costs one round of drafts, not one each…
const SUGGEST_QUIET: Duration = Duration::from_millis(250);
/// … and at least this often while messages keep coming without a pause.
const SUGGEST_MAX_WAIT: Duration = Duration::from_secs(2);

#[derive(Debug, thiserror::Error)]
pub enum DeskError {
    #[error("another agent took this chat first")]
    AlreadyTaken,
    #[error("no such conversation")]
    NotFound,
    #[error("{0}")]
    Forbidden(&'static str),
    /// A transfer the named agent cannot take now, with who can.
    #[error("{0}")]
    TransferRefused(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl DeskError {
    pub fn code(&self) -> ErrorCode {
        match self {
            DeskError::AlreadyTaken => ErrorCode::AlreadyTaken,
            DeskError::NotFound => ErrorCode::NotFound,
            DeskError::Forbidden(_) => ErrorCode::Forbidden,
            DeskError::TransferRefused(_) => ErrorCode::TransferRefused,
            DeskError::Store(_) => ErrorCode::Unavailable,
        }
    }
}

const NOT_YOURS: DeskError = DeskError::Forbidden("this chat is not yours");
const NOT_YOUR_SITE: DeskError = DeskError::Forbidden("this chat belongs to a site you do not work for");
const NOT_YOUR_TEAM: DeskError = DeskError::Forbidden("this chat is waiting for another team");
const AT_CAPACITY: DeskError = DeskError::Forbidden("you are at your chat limit; resolve or hand back a chat first");

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

    /// The status another socket keeps this agent present with, if any.
    pub async fn current_status(&self, agent: &AgentConfig) -> Option<AgentStatus> {
        let presence = self.router.presences().all().await.ok()?;
        presence.get(&agent.id).filter(|p| p.until >= chrono::Utc::now()).map(|p| p.status)
    }

    /// Who can take a chat now, as `agent` may see it: the agents who work for one of their
    /// sites (no tenant sees another's staff), with presence and free capacity, and teams.
    pub async fn roster(&self, agent: &AgentConfig) -> Result<Roster, StoreError> {
        let presences = self.router.presences();
        let mut loads = presences.loads().await?;
        if let Some(sites) = agent.site_scope() {
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

    /// Takes a waiting chat. Within capacity; exactly one racer wins.
    pub async fn accept(&self, agent: &AgentConfig, id: ConversationId) -> Result<(), DeskError> {
        let site = self.site_of(id).await?;
        if !agent.serves(&site.config.id) {
            return Err(NOT_YOUR_SITE);
        }
        self.may_take(agent, id).await?;
        let entry = self.audit_entry(agent, "take", id);
        match self.router.take(&site, id, agent, None).await? {
            Taken::Yes => {}
            Taken::AtCapacity => return Err(AT_CAPACITY),
            Taken::No | Taken::NotHolder => return self.not_waiting(agent, id).await,
        }
        self.audited(entry, id).await;
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
        let text = text.into_inner();
        let body = EventBody::Message {
            id: Uuid::new_v4(),
            from: Speaker::Agent,
            text: text.clone(),
            author: Some(Author { name: agent.name.clone() }),
            client_id: Some(client_id.as_str().to_owned()),
            sources: vec![],
            actions: vec![],
        };
        let draft =
            EventDraft::new(body).dedupe(format!("a:{}:{}", agent.id, client_id.as_str())).expect(&[State::Agent]);
        let seq = match self.log.append(id, draft).await? {
            Appended::New { event, .. } => {
                if let Some(mail) = &self.mail {
                    super::follow_up::email_reply(mail, self.log.as_ref(), &self.sites, &agent.name, id, &text).await?;
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

    /// To another agent (who gets it at once, with everything) or back to a team's queue,
    /// with the giving agent's `note` for the next one. The visitor is told who continues. An
    /// agent who cannot take it now (offline, away, full) is refused before anything moves.
    pub async fn transfer(
        &self,
        agent: &AgentConfig,
        id: ConversationId,
        to: TransferTo,
        note: Option<Text>,
    ) -> Result<(), DeskError> {
        self.mine(agent, id).await?;
        let target = match &to {
            TransferTo::Agent(target_id) => {
                let target = self.router.presences().directory().get(target_id).cloned().ok_or(DeskError::NotFound)?;
                if !target.serves(&self.site_of(id).await?.config.id) {
                    return Err(DeskError::Forbidden("that agent does not work for this chat's site"));
                }
                self.check_can_take(agent, &target).await?;
                Some(target)
            }
            TransferTo::Team(_) => None,
        };
        if let Some(note) = note {
            self.note(agent, id, note).await?;
        }
        let mut entry = self.audit_entry(agent, "transfer", id);
        if let Some(entry) = &mut entry {
            entry.detail = match &to {
                TransferTo::Team(team) => serde_json::json!({ "to_team": team }),
                TransferTo::Agent(target) => serde_json::json!({ "to_agent": target }),
            }
            .to_string();
        }
        match (to, target) {
            (TransferTo::Team(team), _) => {
                if !self.router.transfer_to_team(id, agent.id.clone(), team).await? {
                    return Err(DeskError::Forbidden("this chat is no longer yours"));
                }
            }
            (TransferTo::Agent(_), Some(target)) => {
                let site = self.site_of(id).await?;
                match self.router.take(&site, id, &target, Some(&agent.id)).await? {
                    Taken::Yes => {}
                    Taken::AtCapacity => return Err(DeskError::Forbidden("that agent is at their chat limit")),
                    Taken::No | Taken::NotHolder => return Err(DeskError::Forbidden("this chat is no longer yours")),
                }
                let notice = Notice::TransferToAgent { name: target.name.clone(), team: target.teams.first().cloned() };
                self.router.tell(id, notice).await?;
            }
            (TransferTo::Agent(_), None) => return Err(DeskError::NotFound),
        }
        self.audited(entry, id).await;
        self.router.refresh().await?;
        Ok(())
    }

    /// Refuses a transfer to an agent who is offline, away or full, naming who can take it.
    async fn check_can_take(&self, agent: &AgentConfig, target: &AgentConfig) -> Result<(), DeskError> {
        let roster = self.roster(agent).await?;
        let Some(seen) = roster.agents.iter().find(|a| a.id == target.id) else { return Err(DeskError::NotFound) };
        let why = match seen.presence {
            _ if seen.free > 0 => return Ok(()),
            Seen::Offline => "is offline",
            Seen::Away => "is away",
            Seen::Online => "is at their chat limit",
        };
        let who = roster.who_can_take(&agent.id);
        Err(DeskError::TransferRefused(format!("{} {why}. Who can take it now: {who}.", target.name)))
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
        let entry = self.audit_entry(agent, "handback", id);
        self.log.set_record(id, Record::Handback(Handback { agent: agent.name.clone(), said: note })).await?;
        self.release(id, Move::HandBack { holder: agent.id.clone() }).await?;
        self.audited(entry, id).await;
        Ok(())
    }

    /// Closes the chat and asks the visitor for a rating.
    pub async fn resolve(&self, agent: &AgentConfig, id: ConversationId) -> Result<(), DeskError> {
        self.mine(agent, id).await?;
        let entry = self.audit_entry(agent, "resolve", id);
        self.release(id, Move::Resolve { holder: agent.id.clone() }).await?;
        self.audited(entry, id).await;
        self.pubsub.publish(id, &Ephemeral::CsatRequest { conversation_id: id }).await?;
        Ok(())
    }

    /// The agent's verdict on the escalation of a chat they took part in (kept as a record:
    /// the archive's reports read it; a second verdict replaces the first).
    pub async fn verdict(&self, agent: &AgentConfig, id: ConversationId, verdict: Verdict) -> Result<(), DeskError> {
        let conversation = self.log.conversation(id).await?.ok_or(DeskError::NotFound)?;
        let Some(escalation) = conversation.records.escalation.as_deref() else {
            return Err(DeskError::Forbidden("this chat was not escalated"));
        };
        let events = self.log.events_after(id, 0, usize::MAX).await?;
        let took_part = events.iter().any(|event| {
            matches!(&event.body, EventBody::State { state: State::Agent, agent: Some(a), .. } if a.id == agent.id)
        });
        if !took_part {
            return Err(DeskError::Forbidden("only an agent who handled this chat can judge its escalation"));
        }
        let record =
            VerdictRecord { agent: agent.id.clone(), verdict, reason: escalation.reason, at: chrono::Utc::now() };
        self.log.set_record(id, Record::Verdict(record)).await?;
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
