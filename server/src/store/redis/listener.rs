//! The node's pub/sub link: one connection that SUBSCRIBEs to the channels of the topics this
//! node's sockets follow, and hands what arrives to the hub through the same [`Deliver`] sink
//! the memory store calls.
//!
//! One task owns the connection and the set of followed channels (it is their only owner, so
//! no lock is needed). The hub's watcher sends it [`Interest`] changes in order over an
//! unbounded channel; the task applies them to the set at once, and to Redis while connected.
//! When the connection is lost it reconnects with backoff and subscribes to the whole set
//! again, and `/readyz` answers 503 until it has.
//!
//! A subscription takes a moment to be confirmed, and a socket may read the store before it
//! is: an event appended in between would reach that socket only with the next event (its
//! cursor fills gaps). So after every SUBSCRIBE to a conversation's channel (and after every
//! reconnect) the task reads the conversation's newest events and delivers them; cursors drop
//! what they already sent and fill any gap before what they had not. Events already delivered
//! are never delivered again: the task keeps the newest `seq` it handed over per channel, which
//! also keeps deliveries in `seq` order.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use ::redis::aio::PubSubSink;
use ::redis::{Client, Msg};
use futures_util::StreamExt;
use tokio::sync::mpsc;
use tokio::time::timeout;
use tokio_util::sync::CancellationToken;

use super::connection::Conn;
use super::keys::Keys;
use super::records;
use crate::delivery::Interest;
use crate::protocol::{ConversationId, Event};
use crate::store::{Audience, Deliver, Delivery, Topic};

/// Waits between reconnect attempts: doubling from the first to the second.
const RECONNECT_MIN: Duration = Duration::from_millis(100);
const RECONNECT_MAX: Duration = Duration::from_secs(2);
/// How long a connect, SUBSCRIBE or PING on the link may take before the link counts as lost.
const REPLY_TIMEOUT: Duration = Duration::from_secs(3);
/// The link is pinged this often, so a silently dead connection (no FIN) is noticed.
const PING_EVERY: Duration = Duration::from_secs(5);
/// Channels per SUBSCRIBE when subscribing to everything again after a reconnect.
const SUBSCRIBE_BATCH: usize = 200;
/// Conversations read per pipelined round trip when catching up.
const CATCH_UP_BATCH: usize = 100;
/// Newest events read per conversation when catching up: enough to find the newest event a
/// visitor may see behind a few internal notes.
const CATCH_UP_EVENTS: isize = 16;

pub type Changes = mpsc::UnboundedSender<(Topic, Interest)>;

/// Starts the task; returns where the hub's watcher sends changes, and whether the link is up.
pub fn spawn(
    clients: Vec<Client>,
    conn: Conn,
    keys: Keys,
    deliver: Deliver,
    stop: CancellationToken,
) -> (Changes, Arc<AtomicBool>) {
    let (tx, changes) = mpsc::unbounded_channel();
    let up = Arc::new(AtomicBool::new(false));
    let listener = Listener {
        clients,
        next_client: 0,
        conn,
        keys,
        deliver,
        changes,
        followed: HashMap::new(),
        newest: HashMap::new(),
        up: up.clone(),
        stop,
    };
    tokio::spawn(listener.run());
    (tx, up)
}

struct Listener {
    /// Where the link may subscribe: one Redis, or any node of a cluster (tried in turn).
    clients: Vec<Client>,
    next_client: usize,
    /// The store's command connection, for catch-up reads.
    conn: Conn,
    keys: Keys,
    deliver: Deliver,
    changes: mpsc::UnboundedReceiver<(Topic, Interest)>,
    /// Channel → topic, for every topic some socket on this node follows.
    followed: HashMap<String, Topic>,
    /// Channel → the newest event `seq` handed to the hub (conversation channels only).
    newest: HashMap<String, u64>,
    up: Arc<AtomicBool>,
    stop: CancellationToken,
}

/// Why a connected link stopped serving.
enum End {
    /// The store is gone: the task ends.
    Stopped,
    /// The connection failed: reconnect.
    Lost(String),
}

impl Listener {
    async fn run(mut self) {
        let mut backoff = RECONNECT_MIN;
        loop {
            let client = &self.clients[self.next_client % self.clients.len()];
            self.next_client = self.next_client.wrapping_add(1);
            let end = match timeout(REPLY_TIMEOUT, client.get_async_pubsub()).await {
                Ok(Ok(pubsub)) => {
                    backoff = RECONNECT_MIN;
                    let (sink, stream) = pubsub.split();
                    self.serve(sink, stream).await
                }
                Ok(Err(error)) => End::Lost(error.to_string()),
                Err(_) => End::Lost("connect timed out".into()),
            };
            if self.up.swap(false, Ordering::SeqCst) {
                tracing::warn!("redis pub/sub link lost; reconnecting");
            }
            match end {
                End::Stopped => return,
                End::Lost(error) => tracing::debug!(%error, ?backoff, "redis pub/sub link down"),
            }
            if !self.pause(backoff).await {
                return;
            }
            backoff = (backoff * 2).min(RECONNECT_MAX);
        }
    }

    /// Waits `wait` while keeping the followed set up to date; `false` when the store is gone.
    async fn pause(&mut self, wait: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            tokio::select! {
                () = self.stop.cancelled() => return false,
                () = tokio::time::sleep_until(deadline) => return true,
                change = self.changes.recv() => match change {
                    None => return false,
                    Some((topic, interest)) => {
                        self.record(topic, interest);
                    }
                },
            }
        }
    }

    /// Notes a change in the followed set; returns the channel when the set changed.
    fn record(&mut self, topic: Topic, interest: Interest) -> Option<String> {
        let channel = self.keys.channel(&topic);
        match interest {
            Interest::Started => self.followed.insert(channel.clone(), topic).is_none().then_some(channel),
            Interest::Stopped => {
                self.newest.remove(&channel);
                self.followed.remove(&channel).is_some().then_some(channel)
            }
        }
    }

    async fn serve(&mut self, mut sink: PubSubSink, mut stream: ::redis::aio::PubSubStream) -> End {
        let channels: Vec<String> = self.followed.keys().cloned().collect();
        for batch in channels.chunks(SUBSCRIBE_BATCH) {
            if let Err(error) = reply(sink.subscribe(batch)).await {
                return End::Lost(error);
            }
        }
        let conversations: Vec<String> =
            channels.into_iter().filter(|c| matches!(self.followed.get(c), Some(Topic::Conversation(_)))).collect();
        self.catch_up(&conversations).await;
        self.up.store(true, Ordering::SeqCst);
        tracing::info!(channels = self.followed.len(), "redis pub/sub link up");
        let mut ping = tokio::time::interval_at(tokio::time::Instant::now() + PING_EVERY, PING_EVERY);
        loop {
            tokio::select! {
                () = self.stop.cancelled() => return End::Stopped,
                change = self.changes.recv() => {
                    let Some((topic, interest)) = change else { return End::Stopped };
                    if let Err(error) = self.apply(&mut sink, topic, interest).await {
                        return End::Lost(error);
                    }
                }
                message = stream.next() => match message {
                    Some(message) => self.handle(&message),
                    None => return End::Lost("connection closed".into()),
                },
                _ = ping.tick() => {
                    if let Err(error) = reply(sink.ping::<::redis::Value>()).await {
                        return End::Lost(error);
                    }
                }
            }
        }
    }

    async fn apply(&mut self, sink: &mut PubSubSink, topic: Topic, interest: Interest) -> Result<(), String> {
        let Some(channel) = self.record(topic, interest) else { return Ok(()) };
        match interest {
            Interest::Started => {
                reply(sink.subscribe(&channel)).await?;
                if matches!(self.followed.get(&channel), Some(Topic::Conversation(_))) {
                    self.catch_up(std::slice::from_ref(&channel)).await;
                }
                Ok(())
            }
            Interest::Stopped => reply(sink.unsubscribe(&channel)).await,
        }
    }

    fn handle(&mut self, message: &Msg) {
        let channel = message.get_channel_name();
        // A message already in flight when its channel was unsubscribed: nobody here wants it.
        let Some(topic) = self.followed.get(channel) else { return };
        let Some((audience, kind, json)) = records::parse_payload(message.get_payload_bytes()) else {
            tracing::warn!(channel, "unreadable pub/sub payload dropped");
            return;
        };
        let delivery = Delivery { topic: topic.clone(), kind, audience, json: json.into() };
        self.hand_over(channel.to_owned(), delivery);
    }

    /// Gives a delivery to the hub unless an event at or past its `seq` was given already.
    fn hand_over(&mut self, channel: String, delivery: Delivery) {
        if let Some(seq) = delivery.seq() {
            let newest = self.newest.entry(channel).or_insert(0);
            if seq <= *newest {
                return;
            }
            *newest = seq;
        }
        (self.deliver)(delivery);
    }

    /// Delivers the newest events of these conversation channels (see the module doc): the
    /// newest event a visitor may see, then the newest event if it is an internal note, so
    /// every socket's cursor reaches the conversation's end.
    async fn catch_up(&mut self, channels: &[String]) {
        for batch in channels.chunks(CATCH_UP_BATCH) {
            let ids: Vec<(String, ConversationId)> = batch
                .iter()
                .filter_map(|c| match self.followed.get(c) {
                    Some(Topic::Conversation(id)) => Some((c.clone(), *id)),
                    _ => None,
                })
                .collect();
            let mut pipe = ::redis::pipe();
            for (_, id) in &ids {
                pipe.lrange(self.keys.events(*id), -CATCH_UP_EVENTS, -1);
            }
            let pages: Vec<Vec<String>> = match pipe.query_async(&mut self.conn).await {
                Ok(pages) => pages,
                Err(error) => {
                    tracing::warn!(%error, "catch-up after subscribing failed; cursors fill gaps on the next event");
                    return;
                }
            };
            for ((channel, _), page) in ids.into_iter().zip(pages) {
                for delivery in newest_deliveries(&page) {
                    self.hand_over(channel.clone(), delivery);
                }
            }
        }
    }
}

/// The newest event visible to everyone and, when newer, the newest event (a note), in order.
fn newest_deliveries(page: &[String]) -> Vec<Delivery> {
    let events: Vec<Event> = page.iter().filter_map(|json| serde_json::from_str(json).ok()).collect();
    let newest = events.last().map(Delivery::event);
    let visible = events.iter().rev().find(|e| !e.body.is_agent_only()).map(Delivery::event);
    match (visible, newest) {
        (Some(visible), Some(newest)) if newest.seq() > visible.seq() && newest.audience == Audience::Agents => {
            vec![visible, newest]
        }
        (Some(visible), _) => vec![visible],
        (None, newest) => newest.into_iter().collect(),
    }
}

/// A reply on the link within [`REPLY_TIMEOUT`].
async fn reply<T>(request: impl Future<Output = ::redis::RedisResult<T>>) -> Result<(), String> {
    match timeout(REPLY_TIMEOUT, request).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(error)) => Err(error.to_string()),
        Err(_) => Err("no reply in time".into()),
    }
}
