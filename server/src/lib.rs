//! Baton: an embeddable customer-support chat server. Visitors chat with an AI assistant
//! grounded in the site's knowledge base; when they need a person, the conversation passes to
//! a queue of human agents, who answer on the same socket.
//!
//! # Layout
//! - [`agents`]: human agents: the queue, routing, presence, and what agents do with chats.
//! - [`config`]: typed settings and per-site files, validated at start.
//! - [`startup`]: wiring and the HTTP server's life (graceful shutdown).
//! - [`telemetry`]: structured logs.
//! - [`protocol`]: the wire types; client frames are validated here, once.
//! - [`routes`]: HTTP endpoints and the socket upgrades.
//! - [`session`]: one socket's loop: frames in and out, heartbeats, rate limits.
//! - [`conversation`]: the state machine of a conversation; who speaks next.
//! - [`hub`]: which sockets on this node follow which conversations; fan-out.
//! - [`store`]: conversations, numbered events and the handoff records, and how they
//!   travel between nodes (the `Store` seam: in-memory, or Redis for many nodes).
//! - [`bot`]: prompts and streamed replies (the `Llm` seam: OpenAI-compatible, offline).
//! - [`knowledge`]: Markdown knowledge bases and retrieval with a confidence score.
//! - [`signals`]: cheap per-turn signals: explicit requests, sentiment and its trend,
//!   repeats, sensitive topics, confidence.
//! - [`escalation`]: the per-site policy that turns signals into a decision with a reason.
//! - [`sites`]: the sites served, with their knowledge loaded.
//! - [`cli`]: the command line.

pub mod agents;
pub mod bot;
pub mod cli;
pub mod config;
pub mod conversation;
pub mod escalation;
pub mod hub;
pub mod knowledge;
pub mod protocol;
pub mod routes;
pub mod session;
pub mod signals;
pub mod sites;
pub mod startup;
pub mod store;
pub mod telemetry;
