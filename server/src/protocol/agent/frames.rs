//! What the console sends on the agent socket, parsed once at the edge into [`AgentFrame`]:
//! texts and client ids validated, a transfer's target exactly one of agent or team.

use serde::Deserialize;

use super::{AgentStatus, Verdict};
use crate::protocol::{ClientId, ConversationId, FrameError, Text, describe_json_error};

#[derive(Debug, Deserialize)]
struct Target {
    #[serde(default)]
    agent_id: Option<String>,
    #[serde(default)]
    team: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum RawAgentFrame {
    Auth {
        token: String,
        #[serde(default)]
        status: Option<AgentStatus>,
    },
    Status {
        status: AgentStatus,
    },
    Accept {
        conversation_id: ConversationId,
    },
    Message {
        conversation_id: ConversationId,
        client_id: String,
        text: String,
    },
    Note {
        conversation_id: ConversationId,
        text: String,
    },
    Typing {
        conversation_id: ConversationId,
        on: bool,
    },
    Transfer {
        conversation_id: ConversationId,
        to: Target,
        #[serde(default)]
        note: Option<String>,
    },
    Handback {
        conversation_id: ConversationId,
    },
    Resolve {
        conversation_id: ConversationId,
    },
    Preview {
        conversation_id: ConversationId,
    },
    Verdict {
        conversation_id: ConversationId,
        verdict: Verdict,
    },
    Roster {
        #[serde(default)]
        conversation_id: Option<ConversationId>,
    },
    Open {
        conversation_id: ConversationId,
    },
    Handled {
        conversation_id: ConversationId,
        handled: bool,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransferTo {
    Agent(String),
    Team(String),
}

/// A validated agent frame.
#[derive(Debug, Clone)]
pub enum AgentFrame {
    /// `status`: the one the console had before (a reconnect keeps an agent away); absent:
    /// the agent's current one if another socket keeps them present, else online.
    Auth {
        token: String,
        status: Option<AgentStatus>,
    },
    Status {
        status: AgentStatus,
    },
    Accept {
        conversation_id: ConversationId,
    },
    Message {
        conversation_id: ConversationId,
        client_id: ClientId,
        text: Text,
    },
    Note {
        conversation_id: ConversationId,
        text: Text,
    },
    Typing {
        conversation_id: ConversationId,
        on: bool,
    },
    /// `note`: for the next agent (an internal note, stored before the chat changes hands).
    Transfer {
        conversation_id: ConversationId,
        to: TransferTo,
        note: Option<Text>,
    },
    Handback {
        conversation_id: ConversationId,
    },
    Resolve {
        conversation_id: ConversationId,
    },
    /// A read-only look at a waiting chat before taking it.
    Preview {
        conversation_id: ConversationId,
    },
    /// Who can take a chat now (for the transfer form): answered with a `roster` frame; for
    /// one of the agent's chats (`conversation_id`), those who work for its site.
    Roster {
        conversation_id: Option<ConversationId>,
    },
    /// The agent's judgement of the escalation of a chat they handled.
    Verdict {
        conversation_id: ConversationId,
        verdict: Verdict,
    },
    /// The agent opened a chat they have: the visitor is told they joined (once per take).
    Open {
        conversation_id: ConversationId,
    },
    /// Marks the left messages of a conversation handled (or not) for the site's agents.
    Handled {
        conversation_id: ConversationId,
        handled: bool,
    },
}

impl AgentFrame {
    /// The frame's `type`: what logs print (never the frame: it holds tokens and text).
    pub fn kind(&self) -> &'static str {
        match self {
            AgentFrame::Auth { .. } => "auth",
            AgentFrame::Status { .. } => "status",
            AgentFrame::Accept { .. } => "accept",
            AgentFrame::Message { .. } => "message",
            AgentFrame::Note { .. } => "note",
            AgentFrame::Typing { .. } => "typing",
            AgentFrame::Transfer { .. } => "transfer",
            AgentFrame::Handback { .. } => "handback",
            AgentFrame::Resolve { .. } => "resolve",
            AgentFrame::Preview { .. } => "preview",
            AgentFrame::Verdict { .. } => "verdict",
            AgentFrame::Roster { .. } => "roster",
            AgentFrame::Open { .. } => "open",
            AgentFrame::Handled { .. } => "handled",
        }
    }

    pub fn parse(json: &str) -> Result<AgentFrame, FrameError> {
        let raw: RawAgentFrame =
            serde_json::from_str(json).map_err(|e| FrameError::Invalid(describe_json_error(&e)))?;
        Ok(match raw {
            RawAgentFrame::Auth { token, status } => AgentFrame::Auth { token, status },
            RawAgentFrame::Status { status } => AgentFrame::Status { status },
            RawAgentFrame::Accept { conversation_id } => AgentFrame::Accept { conversation_id },
            RawAgentFrame::Message { conversation_id, client_id, text } => AgentFrame::Message {
                conversation_id,
                client_id: ClientId::parse(client_id)?,
                text: Text::parse(text)?,
            },
            RawAgentFrame::Note { conversation_id, text } => {
                AgentFrame::Note { conversation_id, text: Text::parse(text)? }
            }
            RawAgentFrame::Typing { conversation_id, on } => AgentFrame::Typing { conversation_id, on },
            RawAgentFrame::Transfer { conversation_id, to, note } => {
                let to = match (to.agent_id, to.team) {
                    (Some(agent), None) => TransferTo::Agent(agent),
                    (None, Some(team)) => TransferTo::Team(team),
                    _ => return Err(FrameError::Invalid("transfer `to` needs exactly one of agent_id or team".into())),
                };
                let note = note.filter(|n| !n.trim().is_empty()).map(Text::parse).transpose()?;
                AgentFrame::Transfer { conversation_id, to, note }
            }
            RawAgentFrame::Handback { conversation_id } => AgentFrame::Handback { conversation_id },
            RawAgentFrame::Preview { conversation_id } => AgentFrame::Preview { conversation_id },
            RawAgentFrame::Resolve { conversation_id } => AgentFrame::Resolve { conversation_id },
            RawAgentFrame::Roster { conversation_id } => AgentFrame::Roster { conversation_id },
            RawAgentFrame::Verdict { conversation_id, verdict } => AgentFrame::Verdict { conversation_id, verdict },
            RawAgentFrame::Open { conversation_id } => AgentFrame::Open { conversation_id },
            RawAgentFrame::Handled { conversation_id, handled } => AgentFrame::Handled { conversation_id, handled },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_transfer_names_exactly_one_target() {
        let id = ConversationId::new();
        let to_agent = format!(r#"{{"type":"transfer","conversation_id":"{id}","to":{{"agent_id":"ana"}}}}"#);
        assert!(
            matches!(AgentFrame::parse(&to_agent).unwrap(), AgentFrame::Transfer { to: TransferTo::Agent(a), .. } if a == "ana")
        );
        let both = format!(r#"{{"type":"transfer","conversation_id":"{id}","to":{{"agent_id":"ana","team":"x"}}}}"#);
        assert!(AgentFrame::parse(&both).is_err());
    }

    #[test]
    fn agent_messages_are_bounded_like_visitor_messages() {
        let id = ConversationId::new();
        let long =
            format!(r#"{{"type":"message","conversation_id":"{id}","client_id":"c","text":"{}"}}"#, "a".repeat(4001));
        assert_eq!(AgentFrame::parse(&long).unwrap_err(), FrameError::TooLong);
        assert!(AgentFrame::parse(r#"{"type":"accept","conversation_id":"not-a-uuid"}"#).is_err());
    }
}
