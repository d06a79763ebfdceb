//! The wire contract (`docs/protocol.md`). Every frame is one JSON object with a snake_case
//! `type`. Client frames are parsed here, once, into validated types; the rest of the server
//! never sees raw JSON. Names in this file are a contract with every client: add, never rename.

pub mod agent;
pub mod identity;

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub use identity::{IdentityStatus, PastConversation, PastMessage, VisitorIdentity};

/// A frame larger than this closes the socket with 1009.
pub const MAX_FRAME_BYTES: usize = 64 * 1024;
/// The longest message text, in characters (not bytes: a Chinese sentence is as long as an English one).
pub const MAX_TEXT_CHARS: usize = 4_000;
/// `client_id` length bounds.
pub const MAX_CLIENT_ID_CHARS: usize = 64;

/// Close codes (the protocol's "Close codes").
pub mod close {
    pub const NO_HELLO: u16 = 4000;
    pub const BAD_TOKEN: u16 = 4001;
    pub const RATE_LIMITED: u16 = 4008;
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ConversationId(pub Uuid);

impl ConversationId {
    pub fn new() -> ConversationId {
        ConversationId(Uuid::new_v4())
    }
}

impl Default for ConversationId {
    fn default() -> Self {
        ConversationId::new()
    }
}

impl fmt::Display for ConversationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    Bot,
    Queued,
    Agent,
    Resolved,
}

/// Who wrote a message (`from`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Speaker {
    Visitor,
    Bot,
    Agent,
    System,
}

/// Why a conversation was escalated to people.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    ExplicitRequest,
    NegativeSentiment,
    LowConfidence,
    RepeatedQuestion,
    Topic,
    BotError,
    MaxTurns,
    Transfer,
    /// The model called its handoff tool (with its own reason in the detail).
    ModelHandoff,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Author {
    pub name: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Source {
    pub title: String,
    pub url: String,
}

/// A quick reply offered under a message.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Action {
    pub id: String,
    pub label: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AgentRef {
    pub id: String,
    pub name: String,
}

/// What happened, without the numbering the store gives it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EventBody {
    Message {
        id: Uuid,
        from: Speaker,
        text: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        author: Option<Author>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        client_id: Option<String>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        sources: Vec<Source>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        actions: Vec<Action>,
        /// (1.1) Which notice a `system` message is (its key, e.g. `agent_joined`), so a
        /// client can act on it whatever the language; absent on every other message, and on
        /// system messages stored before 1.1.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        notice: Option<String>,
    },
    State {
        state: State,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<Reason>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        agent: Option<AgentRef>,
    },
    /// Internal agent note: delivered to agents only, never to a visitor.
    Note { text: String, author: Author },
    /// A file sent by the visitor or an agent; its bytes are fetched over HTTP with the
    /// conversation's file token (see `docs/attachments.md`).
    Attachment {
        id: Uuid,
        from: Speaker,
        name: String,
        size: u64,
        content_type: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        author: Option<Author>,
    },
}

impl EventBody {
    pub fn is_agent_only(&self) -> bool {
        matches!(self, EventBody::Note { .. })
    }
}

/// A stored, numbered conversation event.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub seq: u64,
    pub conversation_id: ConversationId,
    pub at: DateTime<Utc>,
    #[serde(flatten)]
    pub body: EventBody,
}

/// What a socket may do with its conversation's files: the token for the HTTP endpoints
/// (until `expires_at`) and the site's limits, so a client refuses what the server would.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AttachmentGrant {
    pub token: String,
    pub expires_at: DateTime<Utc>,
    pub max_bytes: u64,
    pub types: Vec<String>,
}

/// Socket error codes (`{"type":"error","code":…}`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    InvalidFrame,
    TooLong,
    RateLimited,
    NotFound,
    AlreadyTaken,
    Forbidden,
    Unavailable,
    /// A transfer to an agent who cannot take the chat now (offline, away, full).
    TransferRefused,
}

/// Frames the server sends that are not stored events.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Ephemeral {
    /// `email`: whether this server sends email (the widget offers transcripts only then).
    Welcome {
        conversation_id: ConversationId,
        token: String,
        state: State,
        last_seq: u64,
        ai_notice: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        attachments: Option<AttachmentGrant>,
        email: bool,
        identity: IdentityStatus,
    },
    /// The transcript the visitor asked for is in the outbox.
    TranscriptQueued {
        conversation_id: ConversationId,
    },
    /// The answer to `identify`: what the conversation's identity is now.
    Identity {
        identity: IdentityStatus,
    },
    /// A verified visitor's recent conversations on this site (other devices included), sent
    /// after `welcome` when a new conversation starts.
    History {
        conversations: Vec<PastConversation>,
    },
    Ack {
        client_id: String,
        seq: u64,
    },
    BotDelta {
        conversation_id: ConversationId,
        reply_id: Uuid,
        text: String,
    },
    BotCancelled {
        conversation_id: ConversationId,
        reply_id: Uuid,
    },
    Typing {
        conversation_id: ConversationId,
        from: Speaker,
        on: bool,
    },
    Queue {
        conversation_id: ConversationId,
        position: u32,
        eta_seconds: Option<u32>,
    },
    CsatRequest {
        conversation_id: ConversationId,
    },
    /// The bot wants to run an action that changes something: nothing is called until the
    /// visitor answers with `action_answer` (1.1).
    ConfirmAction {
        conversation_id: ConversationId,
        call_id: Uuid,
        /// The action's name.
        action: String,
        /// What will be done, as the site wrote it, with the arguments filled in.
        summary: String,
    },
    /// The visitor answered a `confirm_action` (on this tab or another): the card is done (1.1).
    ActionAnswered {
        conversation_id: ConversationId,
        call_id: Uuid,
        confirmed: bool,
    },
    Error {
        code: ErrorCode,
        message: String,
    },
}

impl Ephemeral {
    pub fn error(code: ErrorCode, message: impl Into<String>) -> Ephemeral {
        Ephemeral::Error { code, message: message.into() }
    }
}

/// `hello` as sent by the visitor.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct Hello {
    #[serde(default)]
    pub token: Option<String>,
    #[serde(default)]
    pub last_seq: u64,
    #[serde(default)]
    pub locale: Option<String>,
    #[serde(default)]
    pub page: Option<Page>,
    /// Who the site says the visitor is (validated as it is parsed).
    #[serde(default)]
    pub visitor: Option<VisitorIdentity>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Page {
    #[serde(default)]
    pub url: String,
    #[serde(default)]
    pub title: String,
}

/// Raw visitor frames as they arrive; [`VisitorFrame::parse`] validates them.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum RawVisitorFrame {
    Hello(Hello),
    Message {
        client_id: String,
        text: String,
    },
    Typing {
        on: bool,
    },
    RequestHuman {},
    Action {
        id: String,
    },
    LeaveMessage {
        email: String,
        text: String,
    },
    Csat {
        score: u8,
        #[serde(default)]
        comment: Option<String>,
    },
    End {},
    EmailTranscript {
        #[serde(default)]
        email: Option<String>,
    },
    Identify {
        visitor: VisitorIdentity,
    },
    Proactive {
        trigger: String,
        #[serde(default)]
        visitor_key: Option<String>,
    },
    ActionAnswer {
        call_id: Uuid,
        confirmed: bool,
    },
}

/// A validated visitor frame.
#[derive(Debug, Clone)]
pub enum VisitorFrame {
    Hello(Hello),
    Message {
        client_id: ClientId,
        text: Text,
    },
    Typing {
        on: bool,
    },
    RequestHuman,
    Action {
        id: String,
    },
    LeaveMessage {
        email: String,
        text: Text,
    },
    Csat {
        score: u8,
        comment: Option<Text>,
    },
    End,
    /// Email the transcript, to `email` or else the address the visitor left.
    EmailTranscript {
        email: Option<String>,
    },
    /// Who the visitor is, said after `hello` (a sign-in on the page).
    Identify {
        visitor: VisitorIdentity,
    },
    /// The widget saw a proactive trigger's page conditions hold (`visitor_key`: the widget's
    /// own random id for the visitor, which the caps count by when no identity is verified).
    Proactive {
        trigger: String,
        visitor_key: Option<String>,
    },
    /// Confirm (or cancel) the action a `confirm_action` asked about.
    ActionAnswer {
        call_id: Uuid,
        confirmed: bool,
    },
}

impl VisitorFrame {
    /// The frame's `type`: what logs print (never the frame: it holds what the visitor typed).
    pub fn kind(&self) -> &'static str {
        match self {
            VisitorFrame::Hello(_) => "hello",
            VisitorFrame::Message { .. } => "message",
            VisitorFrame::Typing { .. } => "typing",
            VisitorFrame::RequestHuman => "request_human",
            VisitorFrame::Action { .. } => "action",
            VisitorFrame::LeaveMessage { .. } => "leave_message",
            VisitorFrame::Csat { .. } => "csat",
            VisitorFrame::End => "end",
            VisitorFrame::EmailTranscript { .. } => "email_transcript",
            VisitorFrame::Identify { .. } => "identify",
            VisitorFrame::Proactive { .. } => "proactive",
            VisitorFrame::ActionAnswer { .. } => "action_answer",
        }
    }
}

/// Why a client frame was refused; maps to an `error` frame and leaves the socket open.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    #[error("{0}")]
    Invalid(String),
    #[error("text is longer than {MAX_TEXT_CHARS} characters")]
    TooLong,
}

impl FrameError {
    pub fn code(&self) -> ErrorCode {
        match self {
            FrameError::Invalid(_) => ErrorCode::InvalidFrame,
            FrameError::TooLong => ErrorCode::TooLong,
        }
    }
}

impl VisitorFrame {
    pub fn parse(json: &str) -> Result<VisitorFrame, FrameError> {
        let raw: RawVisitorFrame =
            serde_json::from_str(json).map_err(|e| FrameError::Invalid(describe_json_error(&e)))?;
        Ok(match raw {
            RawVisitorFrame::Hello(hello) => VisitorFrame::Hello(hello),
            RawVisitorFrame::Message { client_id, text } => {
                VisitorFrame::Message { client_id: ClientId::parse(client_id)?, text: Text::parse(text)? }
            }
            RawVisitorFrame::Typing { on } => VisitorFrame::Typing { on },
            RawVisitorFrame::RequestHuman {} => VisitorFrame::RequestHuman,
            RawVisitorFrame::Action { id } => {
                VisitorFrame::Action { id: bounded(id, "action id", MAX_CLIENT_ID_CHARS)? }
            }
            RawVisitorFrame::LeaveMessage { email, text } => {
                VisitorFrame::LeaveMessage { email: Email::parse(email)?.0, text: Text::parse(text)? }
            }
            RawVisitorFrame::Csat { score, comment } => {
                if !(1..=5).contains(&score) {
                    return Err(FrameError::Invalid("csat score must be 1 to 5".into()));
                }
                let comment = comment.filter(|c| !c.trim().is_empty()).map(Text::parse).transpose()?;
                VisitorFrame::Csat { score, comment }
            }
            RawVisitorFrame::End {} => VisitorFrame::End,
            RawVisitorFrame::EmailTranscript { email } => {
                VisitorFrame::EmailTranscript { email: email.map(Email::parse).transpose()?.map(|e| e.0) }
            }
            RawVisitorFrame::Identify { visitor } => VisitorFrame::Identify { visitor },
            RawVisitorFrame::Proactive { trigger, visitor_key } => VisitorFrame::Proactive {
                trigger: bounded(trigger, "trigger", MAX_CLIENT_ID_CHARS)?,
                visitor_key: visitor_key.map(|k| bounded(k, "visitor_key", MAX_CLIENT_ID_CHARS)).transpose()?,
            },
            RawVisitorFrame::ActionAnswer { call_id, confirmed } => VisitorFrame::ActionAnswer { call_id, confirmed },
        })
    }
}

/// serde's messages are precise but name Rust types; keep the useful part for clients.
/// Long values the client sent are clipped: an error never echoes a whole frame back.
pub(crate) fn describe_json_error(error: &serde_json::Error) -> String {
    let message = error.to_string();
    if message.starts_with("unknown variant") {
        let kind = message.split('`').nth(1).unwrap_or("?");
        return format!("unknown frame type {:?}", clip_chars(kind, 40));
    }
    if message.contains("missing field `type`") {
        return "a frame needs a \"type\"".into();
    }
    format!("malformed frame: {}", clip_chars(&message, 200))
}

fn clip_chars(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

/// A client's idempotency key: 1-64 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ClientId(String);

impl ClientId {
    pub fn parse(raw: String) -> Result<ClientId, FrameError> {
        bounded(raw, "client_id", MAX_CLIENT_ID_CHARS).map(ClientId)
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Message text: 1-4,000 characters, with something visible in it (not only whitespace,
/// control characters, zero-width or bidi marks).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Text(String);

/// Characters that show nothing: whitespace, controls (NUL included), zero-width characters,
/// bidi marks and overrides, the BOM and variation selectors.
fn is_invisible(c: char) -> bool {
    c.is_whitespace()
        || c.is_control()
        || matches!(c,
            '\u{00AD}' | '\u{034F}' | '\u{061C}' | '\u{115F}' | '\u{1160}' | '\u{17B4}' | '\u{17B5}'
            | '\u{180B}'..='\u{180F}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{206F}' | '\u{3164}' | '\u{FE00}'..='\u{FE0F}' | '\u{FEFF}' | '\u{FFA0}'
            | '\u{E0000}'..='\u{E007F}')
}

impl Text {
    pub fn parse(raw: String) -> Result<Text, FrameError> {
        if raw.chars().all(is_invisible) {
            return Err(FrameError::Invalid("text must have something visible in it".into()));
        }
        if raw.chars().count() > MAX_TEXT_CHARS {
            return Err(FrameError::TooLong);
        }
        Ok(Text(raw))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
    pub fn into_inner(self) -> String {
        self.0
    }
}

pub(crate) struct Email(pub(crate) String);

impl Email {
    /// An address agents can write to and a `mailto:` link cannot be bent by: the local part
    /// of RFC 5322's dot-atoms (no quoted strings), a domain of letter-digit-hyphen labels
    /// with a dot, 254 bytes at most; so no `?`, `&`, `%`, `/`, `#` or spaces.
    pub(crate) fn parse(raw: String) -> Result<Email, FrameError> {
        let trimmed = raw.trim();
        let atom = |part: &str, extra: &str| {
            !part.is_empty()
                && !part.starts_with('.')
                && !part.ends_with('.')
                && !part.contains("..")
                && part.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || extra.contains(c))
        };
        let label = |l: &str| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        };
        let valid = trimmed.len() <= 254
            && trimmed.split_once('@').is_some_and(|(user, domain)| {
                user.len() <= 64 && atom(user, "!$'*+-=^_`{|}~") && domain.contains('.') && domain.split('.').all(label)
            });
        if valid {
            Ok(Email(trimmed.to_owned()))
        } else {
            Err(FrameError::Invalid("email is not a valid address".into()))
        }
    }
}

fn bounded(raw: String, what: &str, max: usize) -> Result<String, FrameError> {
    let chars = raw.chars().count();
    if chars == 0 || chars > max {
        return Err(FrameError::Invalid(format!("{what} must be 1 to {max} characters")));
    }
    Ok(raw)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_frame_is_validated_at_the_edge() {
        let frame = VisitorFrame::parse(r#"{"type":"message","client_id":"c1","text":"Hi"}"#).unwrap();
        assert!(matches!(frame, VisitorFrame::Message { ref text, .. } if text.as_str() == "Hi"));
    }

    #[test]
    fn unknown_fields_are_ignored_and_unknown_types_refused() {
        assert!(VisitorFrame::parse(r#"{"type":"end","extra":1}"#).is_ok());
        let error = VisitorFrame::parse(r#"{"type":"dance"}"#).unwrap_err();
        assert_eq!(error.code(), ErrorCode::InvalidFrame);
        assert!(error.to_string().contains("dance"), "{error}");
    }

    #[test]
    fn text_is_counted_in_characters_not_bytes() {
        assert!(Text::parse("é".repeat(MAX_TEXT_CHARS)).is_ok());
        assert_eq!(Text::parse("a".repeat(MAX_TEXT_CHARS + 1)).unwrap_err(), FrameError::TooLong);
        assert!(Text::parse("   ".into()).is_err());
    }

    #[test]
    fn client_id_and_csat_are_bounded() {
        assert!(ClientId::parse(String::new()).is_err());
        assert!(ClientId::parse("x".repeat(65)).is_err());
        assert!(VisitorFrame::parse(r#"{"type":"csat","score":6}"#).is_err());
        assert!(VisitorFrame::parse(r#"{"type":"leave_message","email":"nope","text":"hi"}"#).is_err());
    }

    #[test]
    fn text_with_nothing_visible_and_addresses_that_would_bend_a_mailto_link_are_refused() {
        for invisible in ["\u{200B}\u{200D}", "\0\0", "\u{202E}\u{2066}", " \u{FEFF}\t"] {
            assert!(Text::parse(invisible.into()).is_err(), "{invisible:?}");
        }
        assert!(Text::parse("\u{200B}hi".into()).is_ok());
        for bad in
            ["a@b.c?bcc=attacker@evil.example&body=x", "a@b.c#x", "a b@c.d", "a@b", "a@-b.c", "a..b@c.d", "a@b.c/x"]
        {
            assert!(Email::parse(bad.into()).is_err(), "{bad}");
        }
        for good in ["ana@shop.example", "first.last+tag@mail.co.uk", "O'Brien@example.ie"] {
            assert!(Email::parse(good.into()).is_ok(), "{good}");
        }
    }

    #[test]
    fn events_serialise_flat_with_their_type() {
        let event = Event {
            seq: 3,
            conversation_id: ConversationId::new(),
            at: Utc::now(),
            body: EventBody::State { state: State::Queued, reason: Some(Reason::ExplicitRequest), agent: None },
        };
        let json: serde_json::Value = serde_json::to_value(&event).unwrap();
        assert_eq!(json["type"], "state");
        assert_eq!(json["seq"], 3);
        assert_eq!(json["reason"], "explicit_request");
        let back: Event = serde_json::from_value(json).unwrap();
        assert_eq!(back, event);
    }

    #[test]
    fn a_system_message_stored_before_notices_had_keys_reads_without_one() {
        let stored = r#"{"seq":4,"conversation_id":"6f1c1c3e-4d7a-4c56-9d3e-0c0c8e3f5a10","at":"2025-01-01T00:00:00Z","type":"message","id":"6f1c1c3e-4d7a-4c56-9d3e-0c0c8e3f5a11","from":"system","text":"Ana joined the chat."}"#;
        let event: Event = serde_json::from_str(stored).unwrap();
        assert!(matches!(event.body, EventBody::Message { notice: None, .. }));
        assert!(serde_json::to_value(&event).unwrap().get("notice").is_none(), "absent, not null");
    }
}
