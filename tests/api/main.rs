//! Integration tests: the real server on port 0, real sockets, a scripted model over real SSE.

mod archive;
mod archive_bench;
mod archive_contract;
mod bot;
mod capacity;
mod cluster;
mod escalation;
mod handoff;
mod health;
mod helpers;
mod hostile;
mod observe;
mod postgres_server;
mod preview;
mod privacy;
mod prometheus_server;
mod real_model;
mod redis_server;
mod scripted_llm;
mod store_contract;
mod strict_model;
mod visitor;
