//! The agent socket's frames (`GET /v1/agent/ws`): what the console sends ([`frames`],
//! validated there once), and what it is sent (here).

mod frames;

pub use frames::{AgentFrame, TransferTo};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{ConversationId, Event, Page, Reason, State};

/// An agent's availability for new chats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AgentStatus {
    Online,
    Away,
}

/// An agent's judgement of an escalation they handled (the `verdict` frame).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// A person was needed, and the bot handed over at the right time.
    RightCall,
    /// The bot could have answered: the escalation was not needed.
    BotCouldHaveAnswered,
    /// A person was needed, earlier than the bot handed over.
    ShouldHaveComeSooner,
}

impl Verdict {
    pub const ALL: [Verdict; 3] = [Verdict::RightCall, Verdict::BotCouldHaveAnswered, Verdict::ShouldHaveComeSooner];

    /// The wire name.
    pub fn name(self) -> &'static str {
        match self {
            Verdict::RightCall => "right_call",
            Verdict::BotCouldHaveAnswered => "bot_could_have_answered",
            Verdict::ShouldHaveComeSooner => "should_have_come_sooner",
        }
    }
}

/// Who an agent is, as the console shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AgentInfo {
    pub id: String,
    pub name: String,
    pub teams: Vec<String>,
    pub max_chats: u32,
    /// Whether the agent has the admin role (the console then offers the Reports page; the
    /// server checks the role on each admin request).
    #[serde(default)]
    pub admin: bool,
}

/// One waiting chat in the agents' queue.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QueueItem {
    pub conversation_id: ConversationId,
    pub site: String,
    pub reason: Reason,
    pub priority: u8,
    pub waiting_since: DateTime<Utc>,
    /// 1-based, within the chat's own line (site and team).
    pub position: u32,
    pub summary: String,
    /// The visitor's latest sentiment in [-1, 1], when scored.
    pub sentiment: Option<f32>,
    pub last_message: Option<String>,
    pub team: Option<String>,
}

/// An agent's presence as other agents see it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Seen {
    Online,
    Away,
    Offline,
}

/// An agent in the `roster` frame.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RosterAgent {
    pub id: String,
    pub name: String,
    pub teams: Vec<String>,
    pub presence: Seen,
    pub chats: u32,
    pub max_chats: u32,
    /// Chats they could take now: 0 unless online.
    pub free: u32,
}

/// A team in the `roster` frame.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RosterTeam {
    pub team: String,
    /// Agents of the team online now.
    pub online: u32,
    /// Chats the team's online agents could take now.
    pub free: u32,
}

/// What the visitor told us about themselves.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct VisitorView {
    pub page: Option<Page>,
    pub locale: Option<String>,
    /// Who the site says the visitor is; `verified` only when its backend signed the user id.
    #[serde(default)]
    pub identity: Option<IdentityView>,
}

/// The visitor's identity as agents see it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IdentityView {
    pub user_id: Option<String>,
    pub name: Option<String>,
    pub email: Option<String>,
    pub verified: bool,
}

/// One earlier conversation of the same verified visitor on the same site.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PreviousConversation {
    pub conversation_id: ConversationId,
    pub started_at: DateTime<Utc>,
    pub state: State,
    pub last_message: Option<String>,
}

/// A ready-made reply.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CannedReply {
    pub title: String,
    pub text: String,
}

/// Where a summary or draft replies came from: the model, or (at once, or when the model's
/// was not usable) the extractive summary or the knowledge base's passages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AssistSource {
    Model,
    Extractive,
    KnowledgeBase,
}

/// Everything an agent needs to help without asking the visitor to repeat themselves.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ConversationView {
    pub conversation_id: ConversationId,
    pub site: String,
    pub state: State,
    pub visitor: VisitorView,
    pub reason: Option<Reason>,
    /// The escalation's readable detail: the values and thresholds behind the reason.
    pub detail: Option<String>,
    pub summary: String,
    /// `model` when the summary is the model's, else `extractive` (a model's may follow as a
    /// `summary` frame).
    pub summary_source: AssistSource,
    /// The last turn's signal values (sentiment, trend, confidence, …).
    pub signals: serde_json::Value,
    /// The whole transcript, internal notes included.
    pub events: Vec<std::sync::Arc<Event>>,
    /// Drafts from the knowledge base (a view never waits on a model; a model's follow as a
    /// `suggestions` frame).
    pub suggestions: Vec<String>,
    pub canned: Vec<CannedReply>,
    /// When the agent who has the chat must have written to the visitor by, or lose it to
    /// the queue (`handoff.answer_timeout_secs`); `None` once they have, or with no limit.
    pub answer_by: Option<DateTime<Utc>>,
    /// The same verified visitor's recent conversations on this site, newest first (empty
    /// for an unverified or anonymous visitor: a claim alone shows no one's history).
    pub previous: Vec<PreviousConversation>,
    /// A read token for the conversation's files (agents send files with their own token).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attachments: Option<super::AttachmentGrant>,
    /// The visitor's rating, once given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rating: Option<RatingView>,
}

/// A visitor's rating of the chat, as agents see it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RatingView {
    pub score: u8,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    pub at: DateTime<Utc>,
}

/// A message a visitor left when no one could take the chat.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LeftMessage {
    pub conversation_id: ConversationId,
    pub site: String,
    pub email: String,
    pub text: String,
    pub at: DateTime<Utc>,
    /// Who marked it handled, and when (`None`: not handled). One mark per conversation: it
    /// covers every message its visitor left.
    #[serde(default)]
    pub handled: Option<HandledMark>,
}

/// A left message marked handled, for every agent of its site to see.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HandledMark {
    /// The name of the agent who marked it.
    pub by: String,
    pub at: DateTime<Utc>,
}

/// An email to a visitor, as the console shows it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MailView {
    pub conversation_id: ConversationId,
    /// `confirmation`, `reply` or `transcript`.
    pub kind: String,
    pub recipient: String,
    /// `pending` (not yet sent), `sent`, or `failed` (given up after its attempts).
    pub status: String,
    pub attempts: u32,
    pub last_error: Option<String>,
}

/// Frames only agents receive.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum AgentEvent {
    Ready {
        agent: AgentInfo,
        queue: Vec<QueueItem>,
        conversations: Vec<ConversationView>,
        left_messages: Vec<LeftMessage>,
        /// The emails of those left messages' conversations, and where each stands
        /// (`pending`: not yet sent). Empty when email is off.
        mail: Vec<MailView>,
    },
    QueueSnapshot {
        items: Vec<QueueItem>,
    },
    Assigned {
        conversation: Box<ConversationView>,
    },
    /// Draft replies for the agent who has the chat, after a view or a visitor message.
    Suggestions {
        conversation_id: ConversationId,
        replies: Vec<String>,
        source: AssistSource,
    },
    /// A summary of the chat, once the model's is written (or found not usable: then the
    /// extractive one, so marked).
    Summary {
        conversation_id: ConversationId,
        text: String,
        source: AssistSource,
    },
    /// A visitor left a message for the team.
    LeftMessage {
        message: LeftMessage,
    },
    /// A conversation's left messages were marked handled (or not): to the agents of its site.
    LeftMessageHandled {
        conversation_id: ConversationId,
        handled: Option<HandledMark>,
    },
    /// The visitor rated the chat (after it was resolved, usually): for the agents of its site.
    Rated {
        conversation_id: ConversationId,
        rating: RatingView,
    },
    /// The answer to `preview`: a waiting chat's view, sent to the asking socket only.
    Preview {
        conversation: Box<ConversationView>,
    },
    /// The answer to `roster`: every agent with presence and free capacity, every team.
    Roster {
        agents: Vec<RosterAgent>,
        teams: Vec<RosterTeam>,
    },
    /// A chat has waited on a person past its site's `inactivity.agent_sla_secs` (queued, or
    /// its agent not answering): to the site's agents of its team, once per wait.
    SlaBreach {
        conversation_id: ConversationId,
        site: String,
        state: State,
        team: Option<String>,
        waited_secs: u64,
    },
}
