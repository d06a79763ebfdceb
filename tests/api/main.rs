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
mod postgres_server;
mod privacy;
mod redis_server;
mod scripted_llm;
mod store_contract;
mod visitor;
