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
//! - [`bot`]: prompts and streamed replies (the `Llm` seam: OpenAI-compatible, offline), and
//!   the site's actions the model may call (schema-checked, confirmed, recorded); it reports
//!   each reply's outcome to its caller.
//! - [`knowledge`]: Markdown knowledge bases and retrieval with a confidence score.
//! - [`signals`]: cheap per-turn signals: explicit requests, sentiment and its trend,
//!   repeats, sensitive topics, confidence; [`escalation`]: the per-site policy that turns
//!   signals into a decision with a reason. [`sites`]: the sites served, with their
//!   knowledge loaded; [`changes`]: the owner's changes through the API (agents, site
//!   settings, knowledge-base pages), stored in the archive and applied on every node.
//! - [`hub`]: which sockets on this node follow which topics; fan-out.
//! - [`mail`]: email to visitors (SMTP through a durable outbox in the archive), and the
//!   signed resume links in it.
//! - [`webhooks`]: the owner's webhooks, sent signed from a durable outbox in the archive
//!   (which every archive write fills in its own transaction), retried with backoff, only to
//!   public addresses (the SSRF guard, `webhooks::target`).
//! - [`archive`]: the durable record (SQLite or PostgreSQL), copied exactly once from the
//!   live store by an archiver on every node; exports and the owner API read it, and it
//!   keeps the API's keys (hashed), idempotent answers and the webhook outbox.
//! - [`attachments`]: files sent in a chat, in a local folder or an S3-compatible bucket,
//!   behind signed, expiring links; deleted by retention and by a privacy erase.
//! - [`store`]: the live layer, split by role (event log, pub/sub, handoff records and the
//!   atomic change of hands, presence, the verified visitors' index), in memory or on Redis
//!   for many nodes.
//! - [`fuzzing`]: entry points for the fuzzers (`fuzz/`) and their corpus replay: each
//!   parser of outside input with the properties it keeps whatever arrives.
//! - [`redact`]: masking personal data (emails, phone, card and IBAN numbers, national ids)
//!   before text reaches a model, the logs or (when a site asks) the archive.
//! - [`records`]: the typed facts kept per conversation; [`delivery`]: what travels from the
//!   store to the sockets, typed; [`protocol`]: the wire types, validated once at the edge.

pub mod agents;
pub mod archive;
pub mod attachments;
pub mod bot;
pub mod changes;
pub mod cli;
pub mod config;
pub mod conversation;
pub mod delivery;
pub mod escalation;
pub mod fuzzing;
pub mod hex;
pub mod http;
pub mod hub;
pub mod knowledge;
pub mod mail;
pub mod protocol;
pub mod records;
pub mod redact;
pub mod session;
pub mod signals;
pub mod sites;
pub mod startup;
pub mod store;
pub mod telemetry;
pub mod webhooks;
