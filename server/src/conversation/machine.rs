//! The state machine of a conversation, as a table: each [`Move`] names the states it leaves
//! from, the state it goes to, and what happens to the queue entry and the assignment on the
//! way. This is the only place that builds `state` events; the store applies a move
//! atomically ([`crate::store::Handoff::transition`]), so the state, the queue and the
//! assignments never disagree, whichever node made the move and whatever crashed.
//!
//! ```text
//!            escalate               take / transfer
//!   bot ──────────────▶ queued ──────────────────▶ agent ──┐ transfer (agent → agent)
//!    ▲  ◀──── reopen ──  │ ▲ ◀──── requeue ─────────  │ ◀───┘
//!    │   resolved ◀──────┴─┼──── end / resolve ────── ┤
//!    └───────────── hand back ──────────────────────── ┘
//! ```
//! `end` (the visitor closes) leaves from any open state; `close` (the site's owner closes a
//! chat nobody holds) from `bot` and `queued`; `lapse` (an idle bot chat closed by the
//! inactivity rules) from `bot` only; `escalate` also leaves from `resolved` (a visitor who
//! comes back and asks for a person).

use crate::protocol::{AgentRef, EventBody, Reason, State};
use crate::store::{Assign, QueueChange, QueueEntry, Transition};

/// A change of hands.
#[derive(Clone, Debug)]
pub enum Move {
    /// To the queue, with the entry agents will see.
    Escalate { entry: QueueEntry },
    /// A person takes a waiting chat.
    Take { agent: AgentRef, max_chats: u32 },
    /// The agent who has the chat gives it to another agent.
    Transfer { from: String, to: AgentRef, max_chats: u32 },
    /// Back to the queue from an agent (`holder`: only if this agent still has it).
    Requeue { holder: Option<String>, entry: QueueEntry },
    /// The agent gives the chat back to the bot.
    HandBack { holder: String },
    /// The agent closes the chat.
    Resolve { holder: String },
    /// The visitor closes the chat.
    End,
    /// The site's owner closes a chat no person holds (the bot's, or one in the queue); a
    /// chat with an agent is resolved through that agent ([`Move::Resolve`]).
    Close,
    /// The bot's chat is closed after its visitor went quiet (`conversation::inactivity`):
    /// only from `bot`, so a visitor who has just asked for a person is never closed on.
    Lapse,
    /// A visitor writes to a closed chat: the bot has it again.
    Reopen,
}

/// The states each move leaves from.
const FROM_BOT: &[State] = &[State::Bot, State::Resolved];
const FROM_QUEUED: &[State] = &[State::Queued];
const FROM_AGENT: &[State] = &[State::Agent];
const FROM_OPEN: &[State] = &[State::Bot, State::Queued, State::Agent];
const FROM_UNHELD: &[State] = &[State::Bot, State::Queued];
const FROM_BOT_ONLY: &[State] = &[State::Bot];
const FROM_RESOLVED: &[State] = &[State::Resolved];

impl Move {
    /// `(from, to)`: the transition table.
    pub fn states(&self) -> (&'static [State], State) {
        match self {
            Move::Escalate { .. } => (FROM_BOT, State::Queued),
            Move::Take { .. } => (FROM_QUEUED, State::Agent),
            Move::Transfer { .. } => (FROM_AGENT, State::Agent),
            Move::Requeue { .. } => (FROM_AGENT, State::Queued),
            Move::HandBack { .. } => (FROM_AGENT, State::Bot),
            Move::Resolve { .. } => (FROM_AGENT, State::Resolved),
            Move::End => (FROM_OPEN, State::Resolved),
            Move::Close => (FROM_UNHELD, State::Resolved),
            Move::Lapse => (FROM_BOT_ONLY, State::Resolved),
            Move::Reopen => (FROM_RESOLVED, State::Bot),
        }
    }

    /// The atomic step the store applies.
    pub fn transition(self) -> Transition {
        let (from, to) = self.states();
        let event = |reason: Option<Reason>, agent: Option<AgentRef>| EventBody::State { state: to, reason, agent };
        let base = |event: EventBody| Transition {
            event,
            from,
            holder: None,
            assign: None,
            unassign: false,
            queue: QueueChange::Keep,
        };
        match self {
            Move::Escalate { entry } => {
                Transition { queue: QueueChange::Add(entry.clone()), ..base(event(Some(entry.reason), None)) }
            }
            Move::Take { agent, max_chats } => Transition {
                assign: Some(Assign { agent_id: agent.id.clone(), max_chats }),
                queue: QueueChange::Remove,
                ..base(event(None, Some(agent)))
            },
            Move::Transfer { from: holder, to: agent, max_chats } => Transition {
                holder: Some(holder),
                assign: Some(Assign { agent_id: agent.id.clone(), max_chats }),
                ..base(event(None, Some(agent)))
            },
            Move::Requeue { holder, entry } => Transition {
                holder,
                unassign: true,
                queue: QueueChange::Add(entry.clone()),
                ..base(event(Some(entry.reason), None))
            },
            Move::HandBack { holder } | Move::Resolve { holder } => {
                Transition { holder: Some(holder), unassign: true, ..base(event(None, None)) }
            }
            Move::End | Move::Lapse => {
                Transition { unassign: true, queue: QueueChange::Remove, ..base(event(None, None)) }
            }
            Move::Close => Transition { queue: QueueChange::Remove, ..base(event(None, None)) },
            Move::Reopen => base(event(None, None)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::ConversationId;

    fn entry(reason: Reason) -> QueueEntry {
        QueueEntry {
            conversation_id: ConversationId::new(),
            site: "demo".into(),
            team: None,
            reason,
            priority: 5,
            waiting_since: chrono::Utc::now(),
            returned: false,
        }
    }

    fn ana() -> AgentRef {
        AgentRef { id: "ana".into(), name: "Ana".into() }
    }

    #[test]
    fn every_move_appends_a_state_event_for_the_state_it_goes_to() {
        let moves = [
            Move::Escalate { entry: entry(Reason::Topic) },
            Move::Take { agent: ana(), max_chats: 2 },
            Move::Transfer { from: "bo".into(), to: ana(), max_chats: 2 },
            Move::Requeue { holder: None, entry: entry(Reason::Transfer) },
            Move::HandBack { holder: "ana".into() },
            Move::Resolve { holder: "ana".into() },
            Move::End,
            Move::Close,
            Move::Lapse,
            Move::Reopen,
        ];
        for m in moves {
            let (from, to) = m.states();
            let transition = m.clone().transition();
            assert_eq!(transition.from, from, "{m:?}");
            let EventBody::State { state, .. } = transition.event else { panic!("{m:?} builds no state event") };
            assert_eq!(state, to, "{m:?}");
            assert!(!from.contains(&to) || matches!(m, Move::Transfer { .. }), "{m:?} goes nowhere");
        }
    }

    #[test]
    fn taking_a_chat_assigns_within_capacity_and_leaves_the_queue() {
        let t = Move::Take { agent: ana(), max_chats: 3 }.transition();
        assert_eq!(t.assign, Some(Assign { agent_id: "ana".into(), max_chats: 3 }));
        assert_eq!(t.queue, QueueChange::Remove);
        let EventBody::State { agent, .. } = t.event else { unreachable!() };
        assert_eq!(agent, Some(ana()));
    }

    #[test]
    fn leaving_an_agent_needs_that_agent_and_drops_the_assignment() {
        for m in [Move::HandBack { holder: "ana".into() }, Move::Resolve { holder: "ana".into() }] {
            let t = m.transition();
            assert_eq!(t.holder.as_deref(), Some("ana"));
            assert!(t.unassign);
        }
        let requeue = Move::Requeue { holder: None, entry: entry(Reason::Transfer) }.transition();
        assert!(requeue.unassign && matches!(requeue.queue, QueueChange::Add(_)));
        let EventBody::State { reason, .. } = requeue.event else { unreachable!() };
        assert_eq!(reason, Some(Reason::Transfer));
    }

    #[test]
    fn the_visitor_can_end_from_any_open_state_and_nothing_is_left_behind() {
        let t = Move::End.transition();
        assert_eq!(t.from, FROM_OPEN);
        assert!(t.unassign && t.queue == QueueChange::Remove && t.holder.is_none());
    }

    #[test]
    fn the_owner_closes_only_a_chat_no_person_holds_and_it_leaves_the_queue() {
        let t = Move::Close.transition();
        assert_eq!(t.from, [State::Bot, State::Queued]);
        assert!(!t.from.contains(&State::Agent), "an agent's chat is resolved through the agent");
        assert!(t.queue == QueueChange::Remove && t.holder.is_none() && t.assign.is_none());
    }

    #[test]
    fn an_idle_bot_chat_lapses_but_a_chat_waiting_for_a_person_never_does() {
        let t = Move::Lapse.transition();
        assert_eq!(t.from, [State::Bot]);
        assert!(t.unassign && t.queue == QueueChange::Remove);
    }
}
