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
//! - [`turn`]: one visitor turn through the signals and the policy.
//! - [`replies`]: one bot reply at a time per conversation, and what its outcome leads to.
//! - `attachment`: a visitor's file, once kept, into the transcript.

pub mod allowance;
mod attachment;
pub mod escalate;
pub mod follow_up;
pub mod identity;
pub mod machine;
pub mod notices;
mod open;
pub mod owner;
mod rating;
mod replies;
pub mod turn;

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use async_trait::async_trait;
use rand::RngCore;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::bot::probe::ModelProbe;
use crate::bot::reply::Replier;
use crate::escalation::Decision;
use crate::mail::{Mail, ResumeLinks};
use crate::protocol::{
    Action, Author, ClientId, ConversationId, Ephemeral, Event, EventBody, IdentityStatus, PastConversation, Reason,
    Speaker, State, Text,
};
use crate::records::Record;
use crate::sites::Site;
/// The live layer's errors, as this module's operations return them.
pub use crate::store::StoreError;
use crate::store::{Appended, Conversation, Counter, EventDraft, LeftMessage, Stores, Transitioned};
pub use escalate::Escalation;
pub use identity::IdentifyError;
use machine::Move;
pub use notices::Notice;
use replies::{NextReply, Running, offer};
use turn::TurnFacts;

/// The quick-reply `id` that asks for a person (offered by the escalation policy).
pub const TALK_TO_PERSON: &str = "talk_to_person";
/// The quick reply under a "nobody can take this now" notice: the widget opens its form.
pub const LEAVE_MESSAGE: &str = "leave_message";

/// Times a message to a closed chat reopens it before giving up (each time, someone closed
/// it again between the reopening and the message).
const REOPEN_ATTEMPTS: usize = 3;
/// Events read back to see whether a stored escalation told the visitor (its notice follows
/// its state event at once, but bot messages may land between).
const UNTOLD_LOOKBACK: usize = 20;
/// Characters of the page fields kept.
const MAX_PAGE_FIELD_CHARS: usize = 512;
/// Visitor messages being settled in the background after a store failure, at most.
const MAX_SETTLING: usize = 1024;
/// How long a message whose store outcome is unknown keeps being settled.
const SETTLE_FOR: std::time::Duration = std::time::Duration::from_secs(120);
const SETTLE_FIRST_WAIT: std::time::Duration = std::time::Duration::from_millis(250);
const SETTLE_MAX_WAIT: std::time::Duration = std::time::Duration::from_secs(4);

/// A visitor message on its way into the store, as every attempt to store it sends it.
struct VisitorTurn {
    site: Arc<Site>,
    id: ConversationId,
    dedupe: String,
    body: EventBody,
    /// Who claims its turn (the same for every attempt, so a retry keeps the claim).
    claimant: String,
}

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

    /// Stores the visitor's message (once per `client_id`) and returns the `seq` to ack.
    ///
    /// Every stored visitor message is judged and answered (or escalated) exactly once,
    /// whichever attempt stored it: the one that stored it, a resend that finds it stored
    /// (`Duplicate`), or, when the store did not answer in time (the script may still run
    /// once Redis is back), a background attempt that settles it ([`Conversations::settle_later`]).
    /// A turn claim in the store ([`crate::store::EventLog::claim_turn`]) picks the one.
    pub async fn visitor_message(
        &self,
        site: &Arc<Site>,
        id: ConversationId,
        client_id: &ClientId,
        text: Text,
    ) -> Result<u64, StoreError> {
        let body = EventBody::Message {
            id: Uuid::new_v4(),
            from: Speaker::Visitor,
            text: text.into_inner(),
            author: None,
            client_id: Some(client_id.as_str().to_owned()),
            sources: vec![],
            actions: vec![],
        };
        let turn = Arc::new(VisitorTurn {
            site: site.clone(),
            id,
            dedupe: format!("v:{}", client_id.as_str()),
            body,
            claimant: Uuid::new_v4().to_string(),
        });
        match self.store_visitor_message(&turn).await {
            Err(StoreError::Unavailable(why)) => {
                self.settle_later(turn);
                Err(StoreError::Unavailable(why))
            }
            other => other,
        }
    }

    /// One round trip in the usual case: the message is appended unless the chat is
    /// resolved, and the append reports the state the message landed in. A message to a
    /// resolved chat reopens it first.
    async fn store_visitor_message(&self, turn: &VisitorTurn) -> Result<u64, StoreError> {
        let open = &[State::Bot, State::Queued, State::Agent];
        let (log, id) = (&self.stores.log, turn.id);
        let draft = || EventDraft::new(turn.body.clone()).dedupe(turn.dedupe.clone()).expect(open);
        let mut landed = None;
        for _ in 0..REOPEN_ATTEMPTS {
            match log.append(id, draft()).await? {
                Appended::New { event, state } => landed = Some((event.seq, state)),
                // Stored by an earlier attempt, which may not have lived to judge it.
                Appended::Duplicate { seq } => landed = Some((seq, log.state(id).await?.ok_or(StoreError::NotFound)?)),
                // A closed chat is reopened for the message; if it is closed again before the
                // message lands (an agent's or the visitor's own `end` won), it is reopened again.
                Appended::Refused { .. } => drop(self.apply(id, Move::Reopen).await?),
            }
            if landed.is_some() {
                break;
            }
        }
        let Some((seq, state)) = landed else {
            return Err(StoreError::Unavailable("the chat kept closing while this message was sent".into()));
        };
        if log.claim_turn(id, seq, &turn.claimant).await? {
            self.after_visitor_message(&turn.site, id, seq, state).await?;
        }
        Ok(seq)
    }

    /// The store did not answer about a visitor message (it may have stored it, or may yet):
    /// keep trying in the background until it answers, and judge the message if this
    /// attempt wins its turn claim. Bounded: [`MAX_SETTLING`] at once, each for [`SETTLE_FOR`].
    fn settle_later(&self, turn: Arc<VisitorTurn>) {
        if self.settling.fetch_add(1, Ordering::SeqCst) >= MAX_SETTLING {
            self.settling.fetch_sub(1, Ordering::SeqCst);
            tracing::warn!(conversation_id = %turn.id, "too many messages to settle; the client's resend will");
            return;
        }
        let this = self.clone();
        tokio::spawn(async move {
            let deadline = tokio::time::Instant::now() + SETTLE_FOR;
            let mut wait = SETTLE_FIRST_WAIT;
            loop {
                tokio::time::sleep(wait).await;
                match this.store_visitor_message(&turn).await {
                    Ok(seq) => {
                        tracing::info!(conversation_id = %turn.id, seq, "visitor message settled after a store failure");
                        break;
                    }
                    Err(StoreError::Unavailable(_)) if tokio::time::Instant::now() < deadline => {
                        wait = (wait * 2).min(SETTLE_MAX_WAIT);
                    }
                    Err(error) => {
                        tracing::warn!(conversation_id = %turn.id, %error, "visitor message not settled");
                        break;
                    }
                }
            }
            this.settling.fetch_sub(1, Ordering::SeqCst);
        });
    }

    /// Judges the new message (while the bot owns the conversation) and gets it answered.
    async fn after_visitor_message(
        &self,
        site: &Arc<Site>,
        id: ConversationId,
        seq: u64,
        state: State,
    ) -> Result<(), StoreError> {
        let next = match state {
            State::Bot => match self.judge(site, id, seq).await? {
                Some(next) => next,
                None => return Ok(()),
            },
            State::Queued if site.config.handoff.bot_while_queued => NextReply::default(),
            State::Agent => {
                if let Some(handoffs) = self.handoffs.get() {
                    handoffs.visitor_wrote(site, id);
                }
                return Ok(());
            }
            State::Queued | State::Resolved => return Ok(()),
        };
        self.request_reply(site.clone(), id, next);
        Ok(())
    }

    /// Runs the escalation policy on message `seq`: `Some(next)` when the bot answers (with
    /// the offer of a person to store after its reply, if any), `None` when the conversation
    /// went to people. An upset visitor is offered a person at once, with an apology, before
    /// any answer.
    #[tracing::instrument(level = "debug", name = "policy", skip_all, fields(conversation_id = %id, seq = seq))]
    async fn judge(&self, site: &Site, id: ConversationId, seq: u64) -> Result<Option<NextReply>, StoreError> {
        let log = &self.stores.log;
        let conversation = log.conversation(id).await?.ok_or(StoreError::NotFound)?;
        let events = log.recent_events(id, turn::HISTORY_TURNS + 1).await?;
        let Some((current, earlier)) = events.split_last().filter(|(last, _)| last.seq == seq) else {
            return Ok(Some(NextReply::default())); // another message landed first; its own turn judges the conversation
        };
        let EventBody::Message { text, .. } = &current.body else { return Ok(Some(NextReply::default())) };
        let mut state = conversation.records.policy.clone();
        let facts = TurnFacts {
            bot_errors: u32::try_from(conversation.counter(Counter::BotErrors)).unwrap_or(u32::MAX),
            model_confidence: conversation.records.model_confidence,
        };
        let evaluated = turn::evaluate(site, &turn::turns(earlier), text, facts, &mut state);
        let locale = conversation.visitor.locale.as_deref();
        let lang = notices::language(&site.config, locale, Some(&evaluated.signals.language));
        log.set_record(id, Record::Signals(evaluated.signals)).await?;
        if state != conversation.records.policy {
            log.set_record(id, Record::Policy(state)).await?;
        }
        Ok(match evaluated.decision {
            Decision::Continue => Some(NextReply::default()),
            // An upset visitor hears the apology and the offer first; the bot then answers
            // what it can, and says nothing more when it cannot.
            Decision::Offer { reason: Reason::NegativeSentiment, .. } => {
                let answered = earlier
                    .iter()
                    .rev()
                    .find(|e| matches!(&e.body, EventBody::Message { from, .. } if *from != Speaker::Visitor));
                let after = Some(answered.map_or(0, |e| e.seq));
                let apology = offer(site, lang, Notice::ApologyOffer);
                log.append(id, EventDraft::new(apology).expect(crate::bot::reply::BOT_STATES)).await?;
                Some(NextReply { offer: None, apologised: true, after })
            }
            // The bot still answers; the offer follows its reply.
            Decision::Offer { .. } => {
                Some(NextReply { offer: Some(offer(site, lang, Notice::Offer)), ..NextReply::default() })
            }
            Decision::Escalate { reason, priority, detail, signals, .. } => {
                self.escalate(site, id, Escalation::new(site, reason, priority, detail, Some(*signals))).await?;
                None
            }
        })
    }

    pub async fn typing(&self, id: ConversationId, from: Speaker, on: bool) -> Result<(), StoreError> {
        self.stores.pubsub.publish(id, &Ephemeral::Typing { conversation_id: id, from, on }).await
    }

    /// The visitor asked for a person (the button or the offer's quick reply).
    pub async fn request_human(&self, site: &Site, id: ConversationId) -> Result<(), StoreError> {
        self.escalate(site, id, Escalation::requested(site)).await
    }

    /// Stops the bot and queues the conversation (one already queued or with a person is
    /// left as it is), tells the visitor, and hands it to the agents.
    pub async fn escalate(&self, site: &Site, id: ConversationId, escalation: Escalation) -> Result<(), StoreError> {
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
        let conversation = self.stores.log.conversation(id).await?.ok_or(StoreError::NotFound)?;
        let lang = notices::conversation_language(&site.config, &conversation);
        let mut body = system_message(notices::text(&site.config, lang, &notice));
        if let (EventBody::Message { actions, .. }, Some((action_id, label))) = (&mut body, action) {
            actions.push(Action { id: action_id.to_owned(), label: notices::text(&site.config, lang, &label) });
        }
        self.stores.log.append(id, EventDraft::new(body)).await.map(drop)
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
    }
}

/// A message from Baton itself (not the bot's words, not a person's).
pub fn system_message(text: String) -> EventBody {
    EventBody::Message {
        id: Uuid::new_v4(),
        from: Speaker::System,
        text,
        author: None,
        client_id: None,
        sources: vec![],
        actions: vec![],
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
