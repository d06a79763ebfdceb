//! The soak's people: visitors who chat with the bot, ask for a person now and then, drop
//! their socket and resume, rate and start again; agents who answer their assigned chats a
//! few times and resolve them. Each is one task with its own socket; frames are read as they
//! come so no outbox fills behind a sleeping client.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::time::Duration;

use futures_util::StreamExt;
use serde_json::{Value, json};
use tokio::time::{Instant, sleep_until};
use tokio_tungstenite::tungstenite::Message;

use super::Shared;
use crate::client::{self, Ws};

/// Questions the demo knowledge base answers, and some it does not.
const QUESTIONS: [&str; 6] = [
    "How do I return an item?",
    "When will my order arrive?",
    "Do you ship to Canada?",
    "My lamp arrived broken",
    "Can I change the delivery address?",
    "What payment methods do you take?",
];

/// A visitor's pause between actions, drawn uniformly.
const THINK: (Duration, Duration) = (Duration::from_secs(4), Duration::from_secs(16));
/// An agent answers a visitor's message after this long.
const AGENT_ANSWER: Duration = Duration::from_millis(800);
/// An agent resolves a chat after this many answers, or when it has been quiet this long.
const AGENT_ANSWERS_PER_CHAT: u32 = 2;
const AGENT_QUIET_CHAT: Duration = Duration::from_secs(30);

/// A tiny deterministic generator (xorshift64*): each visitor has its own, seeded by its index.
pub struct Dice(u64);

impl Dice {
    pub fn new(seed: u64) -> Dice {
        Dice(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    /// Uniform in [0, 1).
    pub fn roll(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    }
    fn between(&mut self, (low, high): (Duration, Duration)) -> Duration {
        low + (high - low).mul_f64(self.roll())
    }
}

/// What a visitor's socket ended with.
enum Ended {
    /// The visitor chose to drop the socket: resume the same conversation.
    Dropped,
    /// The conversation was resolved: start a new one.
    Resolved,
    /// The soak is over.
    Deadline,
}

/// The conversation a visitor resumes after a reconnect.
#[derive(Default)]
struct Visit {
    token: Option<String>,
    last_seq: u64,
    /// Messages sent and not yet acknowledged: resent with the same `client_id` after a
    /// resume (Baton stores each once), and timed only on the socket they were first sent on.
    unacked: HashMap<String, String>,
    /// Questions asked so far: a visitor never repeats one (a repeat is an escalation signal)
    /// and ends the chat once all are asked.
    asked: usize,
}

pub async fn visitor(port: u16, index: usize, shared: &Shared, deadline: Instant) {
    let mut dice = Dice::new(index as u64 + 1);
    // Spread the arrivals over the first think time, as real traffic would.
    sleep_until(Instant::now() + dice.between((Duration::ZERO, THINK.1))).await;
    let mut visit = Visit::default();
    let mut sent = 0u64;
    while Instant::now() < deadline {
        match visit_once(port, index, &mut visit, &mut sent, &mut dice, shared, deadline).await {
            Ok(Ended::Dropped) => {
                shared.counters.reconnects.fetch_add(1, Ordering::Relaxed);
            }
            Ok(Ended::Resolved) => visit = Visit::default(),
            Ok(Ended::Deadline) => break,
            Err(_) => {
                shared.counters.errors.fetch_add(1, Ordering::Relaxed);
                sleep_until(Instant::now() + Duration::from_secs(1)).await;
            }
        }
    }
    shared.counters.unacked_at_end.fetch_add(visit.unacked.len() as u64, Ordering::Relaxed);
}

async fn visit_once(
    port: u16,
    index: usize,
    visit: &mut Visit,
    sent: &mut u64,
    dice: &mut Dice,
    shared: &Shared,
    deadline: Instant,
) -> anyhow::Result<Ended> {
    let mut ws = client::connect(&format!("ws://127.0.0.1:{port}/v1/visitor/ws?site=bench")).await?;
    let hello = match &visit.token {
        Some(token) => json!({"type": "hello", "token": token, "last_seq": visit.last_seq, "locale": "en"}),
        None => json!({"type": "hello", "locale": "en"}),
    };
    client::send(&mut ws, hello).await?;
    let welcome = client::wait_for(&mut ws, client::of_type("welcome")).await?;
    if visit.token.is_none() {
        shared.counters.conversations.fetch_add(1, Ordering::Relaxed);
    }
    visit.token = welcome["token"].as_str().map(str::to_owned);
    for (client_id, text) in &visit.unacked {
        client::send(&mut ws, json!({"type": "message", "client_id": client_id, "text": text})).await?;
    }
    let mut timed: HashMap<String, Instant> = HashMap::new();
    let mut state = welcome["state"].as_str().unwrap_or("bot").to_owned();
    let mut next = Instant::now() + dice.between(THINK);
    loop {
        tokio::select! {
            frame = ws.next() => {
                let Some(frame) = json_frame(frame, "visitor")? else { continue };
                if let Some(seq) = frame["seq"].as_u64() {
                    visit.last_seq = visit.last_seq.max(seq);
                }
                match frame["type"].as_str() {
                    Some("ack") => {
                        let id = frame["client_id"].as_str().unwrap_or_default();
                        visit.unacked.remove(id);
                        if let Some(at) = timed.remove(id) {
                            shared.record_ack(at.elapsed());
                        }
                    }
                    Some("state") => {
                        state = frame["state"].as_str().unwrap_or_default().to_owned();
                        let counter = match state.as_str() {
                            "queued" => &shared.counters.escalations,
                            "agent" => &shared.counters.takeovers,
                            "resolved" => &shared.counters.resolved,
                            _ => continue,
                        };
                        counter.fetch_add(1, Ordering::Relaxed);
                    }
                    Some("csat_request") if state == "resolved" => {
                        if dice.roll() < 0.5 {
                            let score = 1 + (dice.roll() * 5.0) as u64;
                            client::send(&mut ws, json!({"type": "csat", "score": score.min(5)})).await?;
                        }
                        let _ = ws.close(None).await;
                        return Ok(Ended::Resolved);
                    }
                    _ => {}
                }
            }
            _ = sleep_until(next.min(deadline)) => {
                if Instant::now() >= deadline {
                    let _ = ws.close(None).await;
                    return Ok(Ended::Deadline);
                }
                let roll = dice.roll();
                if roll < 0.04 {
                    let _ = ws.close(None).await;
                    return Ok(Ended::Dropped);
                }
                if state == "resolved" {
                    // Rated (or not) and gone: the next visit starts a new conversation.
                    let _ = ws.close(None).await;
                    return Ok(Ended::Resolved);
                }
                if (0.04..0.055).contains(&roll) && state == "bot" {
                    client::send(&mut ws, json!({"type": "request_human"})).await?;
                } else if visit.asked == QUESTIONS.len() {
                    client::send(&mut ws, json!({"type": "end"})).await?;
                } else {
                    *sent += 1;
                    let client_id = format!("s{index}-{sent}");
                    let text = QUESTIONS[(index + visit.asked) % QUESTIONS.len()];
                    visit.asked += 1;
                    client::send(&mut ws, json!({"type": "message", "client_id": client_id, "text": text})).await?;
                    shared.counters.messages.fetch_add(1, Ordering::Relaxed);
                    visit.unacked.insert(client_id.clone(), text.to_owned());
                    timed.insert(client_id, Instant::now());
                }
                next = Instant::now() + dice.between(THINK);
            }
        }
    }
}

/// The JSON of a text frame, `None` for any other frame, an error once the socket ended.
fn json_frame(
    frame: Option<Result<Message, tokio_tungstenite::tungstenite::Error>>,
    who: &str,
) -> anyhow::Result<Option<Value>> {
    match frame {
        Some(Ok(Message::Text(text))) => Ok(Some(serde_json::from_str(&text)?)),
        None | Some(Err(_)) | Some(Ok(Message::Close(_))) => anyhow::bail!("{who} socket ended"),
        Some(Ok(_)) => Ok(None),
    }
}

/// A chat an agent holds: answers still owed, answers given, when it last moved.
struct Chat {
    owed: Vec<Instant>,
    answered: u32,
    moved: Instant,
}

pub async fn agent(port: u16, token: String, shared: &Shared, deadline: Instant) {
    while Instant::now() < deadline {
        if agent_once(port, &token, shared, deadline).await.is_err() {
            shared.counters.errors.fetch_add(1, Ordering::Relaxed);
            sleep_until(Instant::now() + Duration::from_secs(1)).await;
        }
    }
}

async fn agent_once(port: u16, token: &str, shared: &Shared, deadline: Instant) -> anyhow::Result<()> {
    let mut ws: Ws = client::agent(port, token).await?;
    let mut chats: HashMap<String, Chat> = HashMap::new();
    // `client_id`s are idempotency keys per agent: unique across this agent's reconnects.
    let connection = crate::sys::now_ns();
    let mut replies = 0u64;
    let mut ticker = tokio::time::interval(Duration::from_millis(250));
    loop {
        tokio::select! {
            frame = ws.next() => {
                let Some(frame) = json_frame(frame, "agent")? else { continue };
                match frame["type"].as_str() {
                    Some("assigned") => {
                        if let Some(id) = frame["conversation"]["conversation_id"].as_str() {
                            chats.entry(id.to_owned()).or_insert(Chat { owed: Vec::new(), answered: 0, moved: Instant::now() });
                        }
                    }
                    Some("message") if frame["from"] == "visitor" => {
                        if let Some(chat) = frame["conversation_id"].as_str().and_then(|id| chats.get_mut(id)) {
                            chat.owed.push(Instant::now() + AGENT_ANSWER);
                            chat.moved = Instant::now();
                        }
                    }
                    Some("state") if frame["state"] == "resolved" => {
                        if let Some(id) = frame["conversation_id"].as_str() {
                            chats.remove(id);
                        }
                    }
                    _ => {}
                }
            }
            _ = ticker.tick() => {
                if Instant::now() >= deadline {
                    let _ = ws.close(None).await;
                    return Ok(());
                }
                let now = Instant::now();
                let mut done = Vec::new();
                for (id, chat) in &mut chats {
                    let due = chat.owed.iter().filter(|at| **at <= now).count();
                    chat.owed.retain(|at| *at > now);
                    for _ in 0..due {
                        replies += 1;
                        let reply = json!({"type": "message", "conversation_id": id, "client_id": format!("a{connection}-{replies}"), "text": "Let me check that for you."});
                        client::send(&mut ws, reply).await?;
                        shared.counters.agent_replies.fetch_add(1, Ordering::Relaxed);
                        chat.answered += 1;
                        chat.moved = now;
                    }
                    if chat.answered >= AGENT_ANSWERS_PER_CHAT || now.duration_since(chat.moved) > AGENT_QUIET_CHAT {
                        done.push(id.clone());
                    }
                }
                for id in done {
                    client::send(&mut ws, json!({"type": "resolve", "conversation_id": id})).await?;
                    chats.remove(&id);
                }
            }
        }
    }
}
