//! Takeover, one conversation at a time with one agent online:
//! - manual routing (`benchm`): visitor `request_human` sent → the agent's `queue_snapshot`
//!   lists the chat; agent `accept` sent → the visitor reads `state agent`;
//! - least-busy routing (`bench`): `request_human` sent → the agent's `assigned`.
//!
//! Each chat is resolved afterwards so the agent's load stays the same.

use std::time::Instant;

use serde_json::{Value, json};

use crate::client::{self, Ws};
use crate::report::{self, Latency};
use crate::servers::TAKEOVER_TOKEN;

pub struct TakeoverRun {
    pub notified: Latency,
    pub accepted: Latency,
    pub auto_assigned: Latency,
}

fn lists(frame: &Value, id: &str) -> bool {
    frame["type"] == "queue_snapshot"
        && frame["items"].as_array().is_some_and(|items| items.iter().any(|i| i["conversation_id"] == id))
}

fn assigned(frame: &Value, id: &str) -> bool {
    frame["type"] == "assigned" && frame["conversation"]["conversation_id"] == id
}

fn micros(started: Instant) -> u64 {
    u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX).max(1)
}

async fn resolve(agent: &mut Ws, visitor: &mut Ws, id: &str) -> anyhow::Result<()> {
    client::send(agent, json!({"type": "resolve", "conversation_id": id})).await?;
    client::wait_for(visitor, client::is_state("resolved")).await?;
    let _ = visitor.close(None).await;
    Ok(())
}

pub async fn run(port: u16, samples: usize) -> anyhow::Result<TakeoverRun> {
    let mut agent = client::agent(port, TAKEOVER_TOKEN).await?;
    let (mut notified, mut accepted, mut auto) = (report::histogram(), report::histogram(), report::histogram());
    for _ in 0..samples {
        let (mut visitor, id) = client::visitor(port, "benchm").await?;
        let started = Instant::now();
        client::send(&mut visitor, json!({"type": "request_human"})).await?;
        client::wait_for(&mut agent, |f| lists(f, &id)).await?;
        notified.saturating_record(micros(started));
        let started = Instant::now();
        client::send(&mut agent, json!({"type": "accept", "conversation_id": id})).await?;
        client::wait_for(&mut visitor, client::is_state("agent")).await?;
        accepted.saturating_record(micros(started));
        resolve(&mut agent, &mut visitor, &id).await?;
    }
    for _ in 0..samples {
        let (mut visitor, id) = client::visitor(port, "bench").await?;
        let started = Instant::now();
        client::send(&mut visitor, json!({"type": "request_human"})).await?;
        client::wait_for(&mut agent, |f| assigned(f, &id)).await?;
        auto.saturating_record(micros(started));
        client::wait_for(&mut visitor, client::is_state("agent")).await?;
        resolve(&mut agent, &mut visitor, &id).await?;
    }
    Ok(TakeoverRun {
        notified: Latency::from_histogram(&notified),
        accepted: Latency::from_histogram(&accepted),
        auto_assigned: Latency::from_histogram(&auto),
    })
}
