//! What travels from the store to the sockets: a [`Delivery`] is one frame for the followers
//! of a [`Topic`], its JSON made once and shared, with a typed [`Kind`] beside it so that no
//! receiver ever has to look inside the JSON to learn what it is.
//!
//! Both the hub (which hands deliveries to this node's sockets) and the store (which makes
//! them, and carries them between nodes) import this module; neither imports the other.

use std::sync::Arc;

use serde::Serialize;

use crate::protocol::{ConversationId, Ephemeral, Event, EventBody, State};

/// What a socket follows: a conversation, or the frames for one agent (their share of the
/// queue, left messages of their sites, assignments, suggestions). There is deliberately no
/// topic for every agent: agents see only their own sites and teams, so each frame about a
/// chat they do not have is addressed to the agents who may see it
/// (`agents::router::Router::tell_agents`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Topic {
    Conversation(ConversationId),
    Agent(String),
    /// The owner changed agents, a site's settings or its knowledge base (`changes`): every
    /// node follows it, no socket does.
    Changes,
}

/// Who may see a delivered frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Audience {
    Everyone,
    /// Internal notes: agents only.
    Agents,
}

/// A conversation's new state, as a stored `state` event set it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    pub state: State,
    /// The agent who has the conversation now (`state` is `agent`).
    pub agent_id: Option<Arc<str>>,
}

/// What a delivery is, so receivers act on it without parsing its JSON.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A stored event with its `seq`; `change` is set when the event changed the state.
    Event { seq: u64, change: Option<Change> },
    /// The conversation was just given to the agent this delivery is addressed to
    /// ([`Topic::Agent`]); the JSON is empty: the agent's session builds the view.
    Assigned { conversation_id: ConversationId },
    /// Any other frame (ephemeral or agent frames): sent as it is.
    Frame,
    /// The visitor answered a bot action's confirmation (the JSON is the `action_answered`
    /// frame, sent as it is): the reply waiting for it, on whichever node, reads this.
    ActionAnswer { call_id: uuid::Uuid, confirmed: bool },
}

/// One frame on its way to the sockets that follow a topic.
#[derive(Clone, Debug)]
pub struct Delivery {
    pub topic: Topic,
    pub kind: Kind,
    pub audience: Audience,
    /// The frame as sockets send it (empty for [`Kind::Assigned`]).
    pub json: Arc<str>,
}

impl Delivery {
    pub fn event(event: &Event) -> Delivery {
        let audience = if event.body.is_agent_only() { Audience::Agents } else { Audience::Everyone };
        // unwrap: an Event is plain data (strings, numbers, enums) and always serialises.
        let json = serde_json::to_string(event).expect("events serialise");
        Delivery {
            topic: Topic::Conversation(event.conversation_id),
            kind: Kind::Event { seq: event.seq, change: change_of(&event.body) },
            audience,
            json: json.into(),
        }
    }

    pub fn ephemeral(conversation_id: ConversationId, frame: &Ephemeral) -> Delivery {
        Delivery::frame(Topic::Conversation(conversation_id), frame)
    }

    /// The visitor's answer to a bot action's confirmation, to every follower of the conversation.
    pub fn action_answer(conversation_id: ConversationId, call_id: uuid::Uuid, confirmed: bool) -> Delivery {
        let frame = Ephemeral::ActionAnswered { conversation_id, call_id, confirmed };
        Delivery { kind: Kind::ActionAnswer { call_id, confirmed }, ..Delivery::ephemeral(conversation_id, &frame) }
    }

    /// Any other frame (agent frames) to a topic.
    pub fn frame<T: Serialize>(topic: Topic, frame: &T) -> Delivery {
        // unwrap: protocol frames are plain data and always serialise.
        let json = serde_json::to_string(frame).expect("frames serialise");
        Delivery { topic, kind: Kind::Frame, audience: Audience::Everyone, json: json.into() }
    }

    /// Tells `agent_id`'s sockets that the conversation is theirs now.
    pub fn assigned(agent_id: &str, conversation_id: ConversationId) -> Delivery {
        Delivery {
            topic: Topic::Agent(agent_id.to_owned()),
            kind: Kind::Assigned { conversation_id },
            audience: Audience::Agents,
            json: Arc::from(""),
        }
    }

    /// The `seq` of a stored event; `None` for every other kind.
    pub fn seq(&self) -> Option<u64> {
        match self.kind {
            Kind::Event { seq, .. } => Some(seq),
            _ => None,
        }
    }

    /// The state change a stored `state` event made.
    pub fn change(&self) -> Option<&Change> {
        match &self.kind {
            Kind::Event { change, .. } => change.as_ref(),
            _ => None,
        }
    }
}

/// The state change an event body makes, if it is a `state` event.
pub fn change_of(body: &EventBody) -> Option<Change> {
    match body {
        EventBody::State { state, agent, .. } => {
            Some(Change { state: *state, agent_id: agent.as_ref().map(|a| Arc::from(a.id.as_str())) })
        }
        _ => None,
    }
}

/// The sink a store hands deliveries to (the hub, on each node). Called in `seq` order per
/// conversation; must not block.
pub type Deliver = Arc<dyn Fn(Delivery) + Send + Sync>;

/// A change in what this node follows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Interest {
    /// The topic got its first follower on this node.
    Started,
    /// The topic lost its last follower on this node.
    Stopped,
}

/// Told of every [`Interest`] change, in the order they happen. It is called with the hub's
/// lock held (that is what keeps the order), so it must not block and must not call the hub:
/// hand the change to a task (an unbounded channel send) and return.
pub type Watcher = Arc<dyn Fn(&Topic, Interest) + Send + Sync>;
