//! Human agents: who they are, whether they are here, the queue of chats waiting for them,
//! who takes which chat, and what they do with it.
//!
//! - [`directory`]: the agents from configuration and token checks.
//! - [`presence`]: who is signed in, and each agent's load (what routing needs).
//! - [`router`]: the queue: routing out of it (the one way a chat is assigned), the wait
//!   estimates and `queue` frames visitors get, and the snapshot agents get.
//! - [`janitor`]: gives back chats of agents who left or did not answer.
//! - [`inactivity`]: the sweep that nudges and resolves idle chats and alerts on the SLA.
//! - [`desk`]: what an agent does with a chat: accept, write, note, transfer, hand back,
//!   resolve; and what their socket is sent (`ready`, views, suggestions).
//! - [`roster`]: who can take a chat now (presence and free capacity), for transfers.
//! - [`follow_up`]: an agent's answer to a left message, emailed to the visitor.
//! - [`views`]: the queue items and conversation views agents are sent.
//! - [`queue`], [`routing`]: the pure rules (order and estimates, who gets a chat).
//! - [`gauges`]: the queue, presence and archive figures `/metrics` reports.
//!
//! Shared state lives in the store (queue entries, assignments, presence), so any node can
//! serve any agent; every change of hands is one atomic move of the conversation's state
//! machine ([`crate::conversation::machine`]), so capacity and "exactly one winner" hold on
//! every node.

pub mod desk;
pub mod directory;
pub mod follow_up;
pub mod gauges;
pub mod inactivity;
pub mod janitor;
pub mod presence;
pub mod queue;
pub mod roster;
pub mod router;
pub mod routing;
pub mod views;

pub use directory::{Directory, info};
