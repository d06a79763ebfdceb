//! The conversation state machine: `bot → queued → agent → resolved`, with hand-back
//! `agent → bot` and re-opening `resolved → bot`. This is the one place that decides who
//! speaks next; sessions only translate frames into calls here.
//!
//! Every change is an event appended to the store (numbered, stored, then delivered), so a
//! client that reconnects gets exactly what it missed by asking for events after its last
//! `seq`.
//!
//! Each visitor message in a bot conversation is first scored and judged by the site's
//! escalation policy ([`turn`]): it may go to a person at once, be answered with an offer of
//! a person, or simply be answered. The decision, its reason and the signal values behind it
//! are kept on the conversation (`attrs`: `signals`, `policy`, `escalation`) for agents and
//! owners.

pub mod turn;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::RngCore;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::agents::desk::Desk;
use crate::agents::dispatch::Escalation;
use crate::bot::reply::{Replier, system_message};
use crate::escalation::{Decision, PolicyState};
use crate::protocol::agent::AgentEvent;
use crate::protocol::{
    Action, Author, ClientId, ConversationId, Ephemeral, EventBody, Hello, Reason, Speaker, State, Text,
};
use crate::signals::TurnSignals;
use crate::sites::Site;
use crate::store::{
    Appended, Conversation, Counter, Delivery, EventDraft, LeftMessage, NewConversation, Store, StoreError, Topic,
    Visitor,
};
use turn::TurnFacts;

/// The quick-reply `id` that asks for a person (offered by the escalation policy).
pub const TALK_TO_PERSON: &str = "talk_to_person";

/// Suggestions for the agent are drafted once the visitor has paused this long, so a visitor
/// typing in several short messages costs one round of drafts, not one each…
const SUGGEST_QUIET: Duration = Duration::from_millis(250);
/// … and at least this often while messages keep coming without a pause.
const SUGGEST_MAX_WAIT: Duration = Duration::from_secs(2);

/// Characters of the page fields kept.
const MAX_PAGE_FIELD_CHARS: usize = 512;

/// What happens after a visitor message.
enum Verdict {
    /// The bot answers; `follow_up` (an offer of a person) is stored after its reply.
    Answer { follow_up: Option<EventBody> },
    /// A person has the conversation, or it just went to the queue.
    Silent,
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
}

#[derive(Clone)]
pub struct Conversations {
    store: Arc<dyn Store>,
    replier: Arc<Replier>,
    desk: Desk,
    /// Conversations whose agent is about to get fresh suggestions, with the time of the
    /// visitor's newest message. Short-held: no lock is kept across an await.
    suggesting: Arc<Mutex<HashMap<ConversationId, Instant>>>,
}

impl Conversations {
    pub fn new(store: Arc<dyn Store>, replier: Arc<Replier>, desk: Desk) -> Conversations {
        Conversations { store, replier, desk, suggesting: Arc::default() }
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// Resumes the conversation `hello.token` names, or starts a new one with the greeting.
    pub async fn open(&self, site: &Site, hello: &Hello) -> Result<Opened, OpenError> {
        if let Some(token) = &hello.token {
            let conversation = self.store.conversation_by_token(&hash_token(token)).await?;
            return match conversation {
                Some(conversation) if conversation.site == site.config.id => {
                    Ok(Opened { conversation, token: token.clone() })
                }
                _ => Err(OpenError::BadToken),
            };
        }
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
        self.store.create_conversation(new).await?;
        let greeting = bot_message(site, site.config.persona.greeting.clone());
        self.store.append(id, EventDraft::new(greeting)).await?;
        let conversation = self.store.conversation(id).await?.ok_or(StoreError::NotFound)?;
        tracing::info!(conversation_id = %id, site = %site.config.id, "conversation started");
        Ok(Opened { conversation, token })
    }

    /// Stores the visitor's message (once per `client_id`) and returns the `seq` to ack.
    ///
    /// One store round trip in the usual case: the message is appended unless the chat is
    /// resolved, and the append reports the state the message landed in. A message to a
    /// resolved chat reopens it first (a `state bot` event before the message).
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
        let dedupe = format!("v:{}", client_id.as_str());
        let open = &[State::Bot, State::Queued, State::Agent];
        let mut appended =
            self.store.append(id, EventDraft::new(body.clone()).dedupe(dedupe.clone()).expect(open)).await?;
        if let Appended::Refused { state: State::Resolved } = appended {
            let reopen = EventBody::State { state: State::Bot, reason: None, agent: None };
            self.store.append(id, EventDraft::new(reopen).expect(&[State::Resolved])).await?;
            appended = self.store.append(id, EventDraft::new(body).dedupe(dedupe).expect(open)).await?;
        }
        match appended {
            Appended::New { event, state } => {
                self.after_visitor_message(site, id, event.seq, state).await?;
                Ok(event.seq)
            }
            Appended::Duplicate { seq } => Ok(seq),
            // Resolved again between the reopening and the message: the agent's or the
            // visitor's own `end` won that race; the visitor gets an error and can resend.
            Appended::Refused { .. } => {
                Err(StoreError::Unavailable("the chat was closed while this message was sent".into()))
            }
        }
    }

    /// Judges the new message (while the bot owns the conversation) and gets it answered.
    async fn after_visitor_message(
        &self,
        site: &Arc<Site>,
        id: ConversationId,
        seq: u64,
        state: State,
    ) -> Result<(), StoreError> {
        let verdict = match state {
            State::Bot => {
                let conversation = self.store.conversation(id).await?.ok_or(StoreError::NotFound)?;
                self.judge(site, &conversation, seq).await?
            }
            State::Queued if site.config.handoff.bot_while_queued => Verdict::Answer { follow_up: None },
            State::Agent => {
                self.suggest_soon(site, id);
                Verdict::Silent
            }
            State::Queued | State::Resolved => Verdict::Silent,
        };
        if let Verdict::Answer { follow_up } = verdict {
            self.replier.request(site.clone(), id, follow_up);
        }
        Ok(())
    }

    /// Runs the escalation policy on message `seq`.
    async fn judge(&self, site: &Site, conversation: &Conversation, seq: u64) -> Result<Verdict, StoreError> {
        let id = conversation.id;
        let events = self.store.recent_events(id, turn::HISTORY_TURNS + 1).await?;
        let answer = Verdict::Answer { follow_up: None };
        let Some((current, earlier)) = events.split_last().filter(|(last, _)| last.seq == seq) else {
            return Ok(answer); // another message landed first; its own turn judges the conversation
        };
        let EventBody::Message { text, .. } = &current.body else { return Ok(answer) };
        let mut state: PolicyState = attr(conversation, "policy").unwrap_or_default();
        let facts = TurnFacts {
            bot_errors: u32::try_from(conversation.counter(Counter::BotErrors)).unwrap_or(u32::MAX),
            model_confidence: attr(conversation, "model_confidence"),
        };
        let evaluated = turn::evaluate(site, &turn::turns(earlier), text, facts, &mut state);
        self.store.set_attr(id, "signals", json(&evaluated.signals)).await?;
        self.store.set_attr(id, "policy", json(&state)).await?;
        Ok(match evaluated.decision {
            Decision::Continue => answer,
            // The bot still answers; the offer follows its reply.
            Decision::Offer { message, action_label, .. } => {
                let mut offer = bot_message(site, message);
                if let EventBody::Message { actions, .. } = &mut offer {
                    actions.push(Action { id: TALK_TO_PERSON.into(), label: action_label });
                }
                Verdict::Answer { follow_up: Some(offer) }
            }
            Decision::Escalate { reason, priority, message, detail, signals } => {
                let record = escalation_record(reason, priority, &detail, Some(&signals));
                let topic = signals.topic.as_ref().map(|t| t.name.clone());
                self.escalate(site, id, Escalation { reason, priority, notice: message, record, topic }).await?;
                Verdict::Silent
            }
        })
    }

    /// Fresh suggestions for the agent, once per burst of visitor messages: the first message
    /// schedules them, the rest of the burst pushes them on (up to [`SUGGEST_MAX_WAIT`]).
    fn suggest_soon(&self, site: &Arc<Site>, id: ConversationId) {
        let first = Instant::now();
        let lock = || self.suggesting.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if lock().insert(id, first).is_some() {
            return;
        }
        let (desk, suggesting, site) = (self.desk.clone(), self.suggesting.clone(), site.clone());
        tokio::spawn(async move {
            loop {
                let newest = suggesting.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).get(&id).copied();
                let due = (newest.unwrap_or(first) + SUGGEST_QUIET).min(first + SUGGEST_MAX_WAIT);
                if Instant::now() >= due {
                    break;
                }
                tokio::time::sleep_until(due.into()).await;
            }
            suggesting.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).remove(&id);
            if let Err(error) = desk.suggest(&site, id).await {
                tracing::warn!(%error, conversation_id = %id, "no suggestions for the agent");
            }
        });
    }

    pub async fn typing(&self, id: ConversationId, from: Speaker, on: bool) -> Result<(), StoreError> {
        self.store.publish(id, &Ephemeral::Typing { conversation_id: id, from, on }).await
    }

    /// The visitor asked for a person (the button or the offer's quick reply).
    pub async fn request_human(&self, site: &Site, id: ConversationId) -> Result<(), StoreError> {
        let reason = Reason::ExplicitRequest;
        let priority = site.config.escalation.priorities.explicit_request;
        let record = escalation_record(reason, priority, "the visitor pressed \"talk to a person\"", None);
        let notice = site.policy.message(reason).to_owned();
        self.escalate(site, id, Escalation { reason, priority, notice, record, topic: None }).await
    }

    /// Stops the bot and queues the conversation.
    pub async fn escalate(&self, site: &Site, id: ConversationId, escalation: Escalation) -> Result<(), StoreError> {
        self.replier.cancel(id);
        self.desk.dispatch().escalate(site, id, escalation).await
    }

    /// The visitor left a message for the team (no one could take the chat): kept as an
    /// internal note, so agents see it in the transcript, and confirmed to the visitor.
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
        let event = match self.store.append(id, EventDraft::new(note)).await? {
            Appended::New { event, .. } => event,
            _ => return Ok(()),
        };
        let left = LeftMessage {
            conversation_id: id,
            site: site.config.id.clone(),
            email: email.clone(),
            text: text.as_str().to_owned(),
            at: event.at,
        };
        self.store.add_left_message(left.clone()).await?;
        self.store.deliver(Delivery::frame(Topic::Agents, &AgentEvent::LeftMessage { message: left })).await?;
        let confirm = system_message(format!("Thanks, your message is with our team. We'll reply to {email}."));
        self.store.append(id, EventDraft::new(confirm)).await.map(drop)
    }

    pub async fn csat(&self, id: ConversationId, score: u8, comment: Option<Text>) -> Result<(), StoreError> {
        let value =
            serde_json::json!({ "score": score, "comment": comment.map(Text::into_inner), "at": chrono::Utc::now() });
        self.store.set_attr(id, "csat", value).await
    }

    /// The visitor closed the conversation.
    pub async fn end(&self, id: ConversationId) -> Result<(), StoreError> {
        self.replier.cancel(id);
        let state = EventBody::State { state: State::Resolved, reason: None, agent: None };
        self.store.append(id, EventDraft::new(state).expect(&[State::Bot, State::Queued, State::Agent])).await.map(drop)
    }
}

/// Why a conversation was escalated, as agents and owners see it: the reason, the queue
/// priority, a readable detail with the values behind it, and the turn's signals.
pub fn escalation_record(
    reason: Reason,
    priority: u8,
    detail: &str,
    signals: Option<&TurnSignals>,
) -> serde_json::Value {
    serde_json::json!({ "reason": reason, "priority": priority, "detail": detail, "signals": signals, "at": chrono::Utc::now() })
}

fn attr<T: serde::de::DeserializeOwned>(conversation: &Conversation, key: &str) -> Option<T> {
    conversation.attrs.get(key).and_then(|value| serde_json::from_value(value.clone()).ok())
}

fn json<T: serde::Serialize>(value: &T) -> serde_json::Value {
    // unwrap: signals and policy state are plain numbers, strings and booleans.
    serde_json::to_value(value).expect("serialisable")
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
