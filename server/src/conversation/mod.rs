//! One conversation's life: `bot → queued → agent → resolved`, with hand-back `agent → bot`
//! and re-opening `resolved → bot`. This is the one place that decides who speaks next:
//! sessions and agents ask it, and only its state machine ([`machine`]) changes a
//! conversation's state.
//!
//! Every change is an event appended to the store (numbered, stored, then delivered), so a
//! client that reconnects gets exactly what it missed by asking for events after its last
//! `seq`.
//!
//! Each visitor message in a bot conversation is first scored and judged by the site's
//! escalation policy ([`turn`]): it may go to a person at once, be answered with an offer of
//! a person, or simply be answered ([`replies`] schedules the bot). The decision, its reason
//! and the signal values behind it are kept as records ([`crate::records`]).
//!
//! # Layout
//! - [`machine`]: the transition table; [`escalate`]: the one builder of escalations.
//! - `open`: starting or resuming a conversation from `hello`; [`identity`]: who the
//!   visitor is, verified against the site's secret, and their history.
//! - `visitor`: a visitor message into the store, exactly once, and its judgement.
//! - [`turn`]: one visitor turn through the signals and the policy.
//! - [`replies`]: one bot reply at a time per conversation, and what its outcome leads to.
//! - `attachment`: a visitor's file, once kept, into the transcript.
//! - [`inactivity`]: the idle rules (nudge, resolve, SLA) and their moves; [`proactive`]: a
//!   trigger's opening message, once the server accepts it.

pub mod allowance;
mod attachment;
pub mod escalate;
pub mod follow_up;
pub mod identity;
pub mod inactivity;
pub mod machine;
pub mod notices;
mod open;
pub mod owner;
pub mod proactive;
mod rating;
mod replies;
pub mod turn;
mod visitor;

use std::collections::HashMap;
use std::sync::atomic::AtomicUsize;
use std::sync::{Arc, Mutex, OnceLock};

use async_trait::async_trait;
use rand::RngCore;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::bot::probe::ModelProbe;
use crate::bot::reply::Replier;
use crate::mail::{Mail, ResumeLinks};
use crate::protocol::{
    Action, Author, ConversationId, Ephemeral, Event, EventBody, IdentityStatus, PastConversation, Speaker, State,
};
use crate::records::Record;
use crate::sites::Site;
/// The live layer's errors, as this module's operations return them.
pub use crate::store::StoreError;
use crate::store::{Appended, Conversation, EventDraft, LeftMessage, Stores, Transitioned};
pub use escalate::Escalation;
pub use identity::IdentifyError;
use machine::Move;
pub use notices::Notice;
use replies::Running;

/// The quick-reply `id` that asks for a person (offered by the escalation policy).
pub const TALK_TO_PERSON: &str = "talk_to_person";
/// The quick reply under a "nobody can take this now" notice: the widget opens its form.
pub const LEAVE_MESSAGE: &str = "leave_message";

/// Events read back to see whether a stored escalation told the visitor (its notice follows
/// its state event at once, but bot messages may land between).
const UNTOLD_LOOKBACK: usize = 20;
/// Characters of the page fields kept.
const MAX_PAGE_FIELD_CHARS: usize = 512;
/// What the layer above (the agents) does when a conversation joins the queue or gets a
/// visitor message while a person has it. Set once, at wiring.
#[async_trait]
pub trait Handoffs: Send + Sync + 'static {
    /// What to tell the visitor instead of the escalation's notice when no one can take a
    /// chat for `team` now (no agents, outside hours); it comes with the leave-a-message reply.
    async fn nobody_available(&self, site: &Site, team: Option<&str>) -> Result<Option<Notice>, StoreError>;
    /// The conversation was just queued (to `team`): route it, tell agents.
    async fn queued(&self, site: &Site, id: ConversationId, team: Option<&str>) -> Result<(), StoreError>;
    /// The visitor wrote to a chat a person has.
    fn visitor_wrote(&self, site: &Arc<Site>, id: ConversationId);
    /// A visitor left a message for the team: tell the agents of its site (and only them).
    async fn left_message(&self, message: &LeftMessage) -> Result<(), StoreError>;
}

#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// Unknown, forged, or another site's token: the socket closes with 4001.
    #[error("unknown or invalid token")]
    BadToken,
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub struct Opened {
    pub conversation: Conversation,
    /// The resume token: only the hash is stored, so a resumed conversation echoes the
    /// client's own token back.
    pub token: String,
    /// The identity the conversation has now (`welcome.identity`).
    pub identity: IdentityStatus,
    /// A verified visitor's recent conversations, for a new conversation (`history`).
    pub history: Vec<PastConversation>,
}

#[derive(Clone)]
pub struct Conversations {
    stores: Stores,
    replier: Arc<Replier>,
    /// Bot replies under way on this node, one per conversation. Short-held: inserts, flags
    /// and removals only.
    running: Arc<Mutex<HashMap<ConversationId, Running>>>,
    handoffs: Arc<OnceLock<Arc<dyn Handoffs>>>,
    /// Background settles under way ([`Conversations::settle_later`]).
    settling: Arc<AtomicUsize>,
    /// The model endpoint's reachability, for `/readyz` (`None`: no model configured).
    model_probe: Option<Arc<ModelProbe>>,
    /// Email to visitors and the resume links in it (`None`: email is off).
    mail: Option<Mail>,
    links: Option<Arc<ResumeLinks>>,
}

impl Conversations {
    pub fn new(stores: Stores, replier: Replier) -> Conversations {
        let replier = Arc::new(replier);
        Conversations {
            stores,
            replier,
            running: Arc::default(),
            handoffs: Arc::default(),
            settling: Arc::default(),
            model_probe: None,
            mail: None,
            links: None,
        }
    }

    /// Turns email on: left messages are confirmed by email, resume links open conversations.
    pub fn with_mail(mut self, mail: Mail, links: Arc<ResumeLinks>) -> Conversations {
        self.mail = Some(mail);
        self.links = Some(links);
        self
    }

    /// Whether Baton sends email (the widget offers it only then).
    pub fn email_on(&self) -> bool {
        self.mail.is_some()
    }

    pub fn with_model_probe(mut self, probe: Option<Arc<ModelProbe>>) -> Conversations {
        self.model_probe = probe;
        self
    }

    /// The model endpoint's state in one line (`/readyz` reports it; it never fails readiness).
    pub async fn model_status(&self) -> String {
        match &self.model_probe {
            Some(probe) => probe.status().await,
            None => "model: none configured (the knowledge base answers)".to_owned(),
        }
    }

    /// Wires the agents in (once, at start).
    pub fn set_handoffs(&self, handoffs: Arc<dyn Handoffs>) {
        if self.handoffs.set(handoffs).is_err() {
            tracing::warn!("handoffs wired twice; keeping the first");
        }
    }

    /// Whether the live store takes requests (`/readyz`).
    pub async fn ready(&self) -> Result<(), StoreError> {
        self.stores.log.ping().await
    }

    /// The site of the conversation a resume link opens now (`None`: forged, expired, or email
    /// off).
    pub async fn resume_site(&self, link: &str) -> Result<Option<String>, StoreError> {
        let Some(id) = self.links.as_ref().and_then(|l| l.verify(link, chrono::Utc::now())) else { return Ok(None) };
        Ok(self.stores.log.conversation(id).await?.map(|c| c.site))
    }

    /// Events after `after`, oldest first, at most `limit`: what a socket replays.
    pub async fn events_after(
        &self,
        id: ConversationId,
        after: u64,
        limit: usize,
    ) -> Result<Vec<Arc<Event>>, StoreError> {
        self.stores.log.events_after(id, after, limit).await
    }

    pub async fn typing(&self, id: ConversationId, from: Speaker, on: bool) -> Result<(), StoreError> {
        self.stores.pubsub.publish(id, &Ephemeral::Typing { conversation_id: id, from, on }).await
    }

    /// The visitor's Confirm or Cancel of a bot action: for the reply waiting for it, on
    /// whichever node (one that waits for no such call ignores it).
    pub async fn action_answer(
        &self,
        id: ConversationId,
        call_id: uuid::Uuid,
        confirmed: bool,
    ) -> Result<(), StoreError> {
        self.stores.pubsub.deliver(crate::delivery::Delivery::action_answer(id, call_id, confirmed)).await
    }

    /// The visitor asked for a person (the button or the offer's quick reply).
    pub async fn request_human(&self, site: &Site, id: ConversationId) -> Result<(), StoreError> {
        self.escalate(site, id, Escalation::requested(site)).await
    }

    /// Stops the bot and queues the conversation (one already queued or with a person is
    /// left as it is), tells the visitor, and hands it to the agents.
    pub async fn escalate(&self, site: &Site, id: ConversationId, escalation: Escalation) -> Result<(), StoreError> {
        if self.queue_is_full(site, id).await? {
            return self.say_queue_full(site, id).await;
        }
        self.cancel_reply(id);
        let reason = escalation.record.reason;
        let team = escalation.record.team.clone();
        let entry = escalation.entry(&site.config.id, id, reason, false);
        match self.apply(id, Move::Escalate { entry }).await? {
            Transitioned::Done { .. } => {
                tracing::info!(conversation_id = %id, ?reason, ?team, "escalated");
                crate::telemetry::metrics::escalation(reason);
            }
            // Queued by an earlier attempt whose answer timed out (the store ran it after a
            // stall): that attempt told nobody, so this one finishes it.
            Transitioned::Refused { state: State::Queued } if self.queued_untold(id).await? => {
                tracing::info!(conversation_id = %id, ?reason, "escalation finished after a store fault");
            }
            _ => return Ok(()),
        }
        self.stores.log.set_record(id, Record::Escalation(escalation.record)).await?;
        let Some(handoffs) = self.handoffs.get() else { return self.tell(site, id, escalation.notice, None).await };
        // One notice: "a person will take over" is not true when nobody can.
        match handoffs.nobody_available(site, team.as_deref()).await? {
            Some(nobody) => self.tell(site, id, nobody, Some((LEAVE_MESSAGE, Notice::LeaveMessageAction))).await?,
            None => self.tell(site, id, escalation.notice, None).await?,
        }
        handoffs.queued(site, id, team.as_deref()).await
    }

    /// Whether the newest state event is `queued` with no system notice after it: an
    /// escalation whose transition was stored but whose caller failed before telling.
    async fn queued_untold(&self, id: ConversationId) -> Result<bool, StoreError> {
        let recent = self.stores.log.recent_events(id, UNTOLD_LOOKBACK).await?;
        for event in recent.iter().rev() {
            match &event.body {
                EventBody::Message { from: Speaker::System, .. } => return Ok(false),
                EventBody::State { state, .. } => return Ok(*state == State::Queued),
                _ => {}
            }
        }
        Ok(false)
    }

    /// Whether a chat the bot has would be one more than the site's `handoff.max_queue`. The
    /// count is read, then the chat queued: escalations racing on several nodes can each
    /// see room, so the line may pass the bound by as many as escalate at that instant.
    async fn queue_is_full(&self, site: &Site, id: ConversationId) -> Result<bool, StoreError> {
        if self.stores.log.state(id).await? != Some(State::Bot) {
            return Ok(false); // already waiting or with a person: the move below does nothing
        }
        let queue = self.stores.handoff.queue().await?;
        let waiting = queue.iter().filter(|entry| entry.site == site.config.id).count();
        Ok(waiting >= site.config.handoff.max_queue)
    }

    /// The bot keeps the chat; the visitor is told nobody can take it now and offered to
    /// leave a message, once, not again for each ask while nothing else was said.
    async fn say_queue_full(&self, site: &Site, id: ConversationId) -> Result<(), StoreError> {
        tracing::warn!(conversation_id = %id, site = %site.config.id, "the queue is full; the bot keeps the chat");
        crate::telemetry::metrics::queue_full(&site.config.id);
        let last = self.stores.log.recent_events(id, 1).await?;
        let said = notices::text(&site.config, self.language(site, id).await?, &Notice::QueueFull);
        if last
            .last()
            .is_some_and(|e| matches!(&e.body, EventBody::Message { from: Speaker::System, text, .. } if *text == said))
        {
            return Ok(());
        }
        self.tell(site, id, Notice::QueueFull, Some((LEAVE_MESSAGE, Notice::LeaveMessageAction))).await
    }

    pub(crate) async fn language(&self, site: &Site, id: ConversationId) -> Result<&'static str, StoreError> {
        let conversation = self.stores.log.conversation(id).await?.ok_or(StoreError::NotFound)?;
        Ok(notices::conversation_language(&site.config, &conversation))
    }

    /// Applies one move of the state machine, atomically with the handoff records.
    pub async fn apply(&self, id: ConversationId, m: Move) -> Result<Transitioned, StoreError> {
        let leaves_bot = !matches!(m, Move::Reopen | Move::HandBack { .. });
        let done = self.stores.handoff.transition(id, m.transition()).await?;
        if leaves_bot && matches!(done, Transitioned::Done { .. }) {
            self.cancel_reply(id);
        }
        Ok(done)
    }

    /// A system message to the visitor in the conversation's language ([`notices`]), with
    /// one quick reply (its `id` and label) when `action` is set.
    pub async fn tell(
        &self,
        site: &Site,
        id: ConversationId,
        notice: Notice,
        action: Option<(&str, Notice)>,
    ) -> Result<(), StoreError> {
        let body = self.notice_body(site, id, &notice, action).await?;
        self.stores.log.append(id, EventDraft::new(body)).await.map(drop)
    }

    /// [`Self::tell`], once per `key` and only while the conversation is in one of `states`:
    /// `true` when this call wrote it.
    pub async fn tell_once(
        &self,
        site: &Site,
        id: ConversationId,
        notice: Notice,
        key: String,
        states: &'static [State],
    ) -> Result<bool, StoreError> {
        let body = self.notice_body(site, id, &notice, None).await?;
        let appended = self.stores.log.append(id, EventDraft::new(body).dedupe(key).expect(states)).await?;
        Ok(matches!(appended, Appended::New { .. }))
    }

    async fn notice_body(
        &self,
        site: &Site,
        id: ConversationId,
        notice: &Notice,
        action: Option<(&str, Notice)>,
    ) -> Result<EventBody, StoreError> {
        let conversation = self.stores.log.conversation(id).await?.ok_or(StoreError::NotFound)?;
        let lang = notices::conversation_language(&site.config, &conversation);
        let mut body = system_message(notices::text(&site.config, lang, notice), notice.name());
        if let (EventBody::Message { actions, .. }, Some((action_id, label))) = (&mut body, action) {
            actions.push(Action { id: action_id.to_owned(), label: notices::text(&site.config, lang, &label) });
        }
        Ok(body)
    }
}

pub fn bot_message(site: &Site, text: String) -> EventBody {
    EventBody::Message {
        id: Uuid::new_v4(),
        from: Speaker::Bot,
        text,
        author: Some(Author { name: site.config.persona.bot_name.clone() }),
        client_id: None,
        sources: vec![],
        actions: vec![],
        notice: None,
    }
}

/// A message from Baton itself (not the bot's words, not a person's): the notice `key` in
/// `text`.
pub fn system_message(text: String, key: &str) -> EventBody {
    EventBody::Message {
        id: Uuid::new_v4(),
        from: Speaker::System,
        text,
        author: None,
        client_id: None,
        sources: vec![],
        actions: vec![],
        notice: Some(key.to_owned()),
    }
}

/// 256 random bits, hex: unguessable, and opaque to the client.
fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn hash_token(token: &str) -> String {
    Sha256::digest(token.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

fn clip(mut s: String, max_chars: usize) -> String {
    if let Some((cut, _)) = s.char_indices().nth(max_chars) {
        s.truncate(cut);
    }
    s
}

fn clip_page(page: crate::protocol::Page) -> crate::protocol::Page {
    crate::protocol::Page { url: clip(page.url, MAX_PAGE_FIELD_CHARS), title: clip(page.title, MAX_PAGE_FIELD_CHARS) }
}
