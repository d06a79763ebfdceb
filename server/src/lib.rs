//! Baton: an embeddable customer-support chat server. Visitors chat with an AI assistant
//! grounded in the site's knowledge base; when they need a person, the conversation passes to
//! a queue of human agents, who answer on the same socket.
//!
//! # Layout
//! Floors, top down; each imports only floors below it (`startup` wires them, and nothing but
//! `main` uses it).
//! - [`startup`]: wiring and the HTTP server's life (graceful shutdown); [`cli`]: the command
//!   line; [`telemetry`]: structured logs; [`config`]: typed settings and per-site files,
//!   validated at start.
//! - [`http`]: transport: routes, the socket upgrade path, embedded browser code, and the
//!   owner API under `/v1/api/` (keys, scopes, limits, its OpenAPI document). Knows
//!   requests, frames and sockets, never the store.
//! - [`session`]: one socket's loop: frames in (decoded with a bound) and out, heartbeats, rate
//!   limits per socket, conversation and address. Talks to the
//!   conversation (visitors) and the agents' desk (agents), never to the store.
//! - [`agents`]: directory, presence, the router (the one way a chat is assigned or
//!   released), the janitor, the desk (what agents do), and the views they are sent.
//! - [`conversation`]: the state machine of a conversation (the only writer of state
//!   changes), the one builder of escalations, each turn through the policy, and scheduling
//!   the bot's replies.
//! - [`bot`]: prompts and streamed replies (the `Llm` seam: OpenAI-compatible, offline); it
//!   reports each reply's outcome to its caller.
//! - [`knowledge`]: Markdown knowledge bases and retrieval with a confidence score.
//! - [`signals`]: cheap per-turn signals: explicit requests, sentiment and its trend,
//!   repeats, sensitive topics, confidence; [`escalation`]: the per-site policy that turns
//!   signals into a decision with a reason. [`sites`]: the sites served, with their
//!   knowledge loaded.
//! - [`hub`]: which sockets on this node follow which topics; fan-out.
//! - [`archive`]: the durable record (SQLite or PostgreSQL), copied exactly once from the
//!   live store by an archiver on every node; exports and the owner API read it, and it
//!   keeps the API's keys (hashed) and idempotent answers.
//! - [`attachments`]: files sent in a chat, in a local folder or an S3-compatible bucket,
//!   behind signed, expiring links; deleted by retention and by a privacy erase.
//! - [`store`]: the live layer, split by role (event log, pub/sub, handoff records and the
//!   atomic change of hands, presence), in memory or on Redis for many nodes.
//! - [`records`]: the typed facts kept per conversation; [`delivery`]: what travels from the
//!   store to the sockets, typed; [`protocol`]: the wire types, validated once at the edge.

pub mod agents;
pub mod archive;
pub mod attachments;
pub mod bot;
pub mod cli;
pub mod config;
pub mod conversation;
pub mod delivery;
pub mod escalation;
pub mod http;
pub mod hub;
pub mod knowledge;
pub mod protocol;
pub mod records;
pub mod session;
pub mod signals;
pub mod sites;
pub mod startup;
pub mod store;
pub mod telemetry;
