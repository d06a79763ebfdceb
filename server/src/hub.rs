//! Which sockets on this node follow which conversations, and handing each delivery to them.
//!
//! The store calls [`Hub::deliver`] (through the sink from [`Hub::sink`]) in `seq` order per
//! conversation. Delivery never waits: each socket has a bounded queue, and a socket whose
//! queue is full is kicked (its session closes it with 1013, and the client resumes from its
//! last `seq`), so one slow phone cannot hold up a conversation or grow memory without bound.
//!
//! A [`Watcher`] (set by a shared store, see [`Hub::set_watcher`]) is told when a topic gets
//! its first follower on this node and when it loses its last one, so that the node listens
//! across the cluster only to what its own sockets follow. With no watcher (the memory store)
//! nothing else happens.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::{Notify, mpsc};
use tokio_util::sync::CancellationToken;

use crate::delivery::{Audience, Deliver, Delivery, Topic};
pub use crate::delivery::{Interest, Watcher};

/// Cheap to clone; all clones share one table.
#[derive(Clone, Default)]
pub struct Hub {
    /// Short-held: every operation is a map lookup plus non-blocking sends.
    inner: Arc<Mutex<Inner>>,
}

#[derive(Default)]
struct Inner {
    next_id: u64,
    followers: HashMap<Topic, Vec<Follower>>,
    watcher: Option<Watcher>,
}

struct Follower {
    id: u64,
    outbox: Outbox,
}

/// One follower's end: where its frames go, whether it may see agent-only frames, and how to
/// tell it that it fell behind.
#[derive(Clone)]
pub struct Outbox {
    queue: Queue,
    pub sees_notes: bool,
}

#[derive(Clone)]
enum Queue {
    /// A tokio channel, for listeners inside the server (the bot watching for a takeover).
    Channel { tx: mpsc::Sender<Delivery>, kicked: CancellationToken },
    /// A socket's queue (see [`Inbox`]).
    Socket(Arc<SocketQueue>),
}

impl Outbox {
    /// A new outbox with a queue of `capacity` frames, and its receiving end. A follower whose
    /// queue is full is skipped from then on; nothing tells it (sockets use [`Outbox::socket`]).
    pub fn new(capacity: usize, sees_notes: bool) -> (Outbox, mpsc::Receiver<Delivery>) {
        let (tx, rx) = mpsc::channel(capacity);
        (Outbox { queue: Queue::Channel { tx, kicked: CancellationToken::new() }, sees_notes }, rx)
    }

    /// A socket's outbox with a queue of at most `capacity` frames, and its receiving end.
    /// It holds no frame storage while nothing waits in it: an idle socket costs one small
    /// allocation here, where a channel would allocate a block of slots up front.
    pub fn socket(capacity: usize, sees_notes: bool) -> (Outbox, Inbox) {
        let queue = Arc::new(SocketQueue {
            pending: Mutex::new(Pending { frames: VecDeque::new(), kicked: false }),
            ready: Notify::new(),
            capacity,
        });
        (Outbox { queue: Queue::Socket(queue.clone()), sees_notes }, Inbox { queue })
    }

    /// Queues a copy of `delivery` without waiting; a full queue kicks the follower instead.
    fn offer(&self, delivery: &Delivery) {
        match &self.queue {
            Queue::Channel { tx, kicked } => {
                if kicked.is_cancelled() {
                    return;
                }
                if let Err(mpsc::error::TrySendError::Full(_)) = tx.try_send(delivery.clone()) {
                    tracing::warn!(topic = ?delivery.topic, "socket fell behind; closing it so it resumes");
                    kicked.cancel();
                }
            }
            Queue::Socket(queue) => {
                let mut pending = queue.lock();
                if pending.kicked {
                    return;
                }
                if pending.frames.len() >= queue.capacity {
                    tracing::warn!(topic = ?delivery.topic, "socket fell behind; closing it so it resumes");
                    pending.kicked = true;
                    // The session closes the socket without sending these.
                    pending.frames = VecDeque::new();
                } else {
                    pending.frames.push_back(delivery.clone());
                }
                drop(pending);
                queue.ready.notify_one();
            }
        }
    }
}

/// Frames queued for one socket, at most `capacity`. Short-held lock: a push or a pop.
struct SocketQueue {
    pending: Mutex<Pending>,
    /// Woken after each push (and on a kick); one waiter, the socket's session.
    ready: Notify,
    capacity: usize,
}

struct Pending {
    frames: VecDeque<Delivery>,
    /// The queue overflowed: the session closes the socket and the client resumes.
    kicked: bool,
}

impl SocketQueue {
    fn lock(&self) -> MutexGuard<'_, Pending> {
        self.pending.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Frames queued beyond this many slots are given back once the queue drains, so a burst
/// does not leave an idle socket holding a large buffer.
const KEEP_SLOTS: usize = 8;

/// The receiving end of [`Outbox::socket`], held by the socket's session.
pub struct Inbox {
    queue: Arc<SocketQueue>,
}

impl Inbox {
    /// The next frame, oldest first; `None` once the socket fell behind (its queue
    /// overflowed), and from then on. Cancel-safe: a frame is taken only when returned.
    pub async fn recv(&mut self) -> Option<Delivery> {
        loop {
            {
                let mut pending = self.queue.lock();
                if pending.kicked {
                    return None;
                }
                if let Some(delivery) = pending.frames.pop_front() {
                    if pending.frames.is_empty() && pending.frames.capacity() > KEEP_SLOTS {
                        pending.frames = VecDeque::new();
                    }
                    return Some(delivery);
                }
            }
            // A push between the check and this wait leaves a permit: the wait ends at once.
            self.queue.ready.notified().await;
        }
    }
}

/// Following a conversation lasts as long as this value.
pub struct Subscription {
    hub: Hub,
    topic: Topic,
    id: u64,
}

impl Drop for Subscription {
    fn drop(&mut self) {
        let mut inner = self.hub.lock();
        if let Some(list) = inner.followers.get_mut(&self.topic) {
            list.retain(|follower| follower.id != self.id);
            if list.is_empty() {
                inner.followers.remove(&self.topic);
                if let Some(watcher) = &inner.watcher {
                    watcher(&self.topic, Interest::Stopped);
                }
            }
        }
    }
}

impl Hub {
    pub fn new() -> Hub {
        Hub::default()
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The sink to give the store.
    pub fn sink(&self) -> Deliver {
        let hub = self.clone();
        Arc::new(move |delivery| hub.deliver(delivery))
    }

    /// Sets the watcher, and tells it at once of every topic already followed.
    pub fn set_watcher(&self, watcher: Watcher) {
        let mut inner = self.lock();
        for topic in inner.followers.keys() {
            watcher(topic, Interest::Started);
        }
        inner.watcher = Some(watcher);
    }

    pub fn subscribe(&self, topic: Topic, outbox: Outbox) -> Subscription {
        let mut inner = self.lock();
        inner.next_id += 1;
        let id = inner.next_id;
        // Most topics have one follower (a visitor's socket): no room for four up front.
        let followers = inner.followers.entry(topic.clone()).or_insert_with(|| Vec::with_capacity(1));
        followers.push(Follower { id, outbox });
        if followers.len() == 1
            && let Some(watcher) = &inner.watcher
        {
            watcher(&topic, Interest::Started);
        }
        Subscription { hub: self.clone(), topic, id }
    }

    pub fn deliver(&self, delivery: Delivery) {
        let inner = self.lock();
        let Some(followers) = inner.followers.get(&delivery.topic) else { return };
        for follower in followers {
            let outbox = &follower.outbox;
            if delivery.audience == Audience::Agents && !outbox.sees_notes {
                continue;
            }
            outbox.offer(&delivery);
        }
    }

    /// Sockets following `topic` on this node.
    pub fn followers(&self, topic: &Topic) -> usize {
        self.lock().followers.get(topic).map_or(0, Vec::len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::delivery::Kind;
    use crate::protocol::{ConversationId, Ephemeral};

    fn topic(id: ConversationId) -> Topic {
        Topic::Conversation(id)
    }

    fn delivery(id: ConversationId, audience: Audience) -> Delivery {
        let mut d = Delivery::ephemeral(id, &Ephemeral::CsatRequest { conversation_id: id });
        d.audience = audience;
        d
    }

    #[test]
    fn deliveries_reach_only_followers_of_that_conversation() {
        let hub = Hub::new();
        let (a, b) = (ConversationId::new(), ConversationId::new());
        let (outbox, mut rx) = Outbox::new(4, false);
        let _sub = hub.subscribe(topic(a), outbox);
        hub.deliver(delivery(b, Audience::Everyone));
        hub.deliver(delivery(a, Audience::Everyone));
        assert_eq!(rx.try_recv().unwrap().topic, topic(a));
        assert!(rx.try_recv().is_err());
    }

    #[test]
    fn notes_skip_visitor_sockets() {
        let hub = Hub::new();
        let id = ConversationId::new();
        let (visitor, mut visitor_rx) = Outbox::new(4, false);
        let (agent, mut agent_rx) = Outbox::new(4, true);
        let _v = hub.subscribe(topic(id), visitor);
        let _a = hub.subscribe(topic(id), agent);
        hub.deliver(delivery(id, Audience::Agents));
        assert!(visitor_rx.try_recv().is_err());
        assert!(agent_rx.try_recv().is_ok());
    }

    #[tokio::test]
    async fn a_full_queue_kicks_the_socket_instead_of_blocking() {
        let hub = Hub::new();
        let id = ConversationId::new();
        let (outbox, mut inbox) = Outbox::socket(2, false);
        let _sub = hub.subscribe(topic(id), outbox);
        hub.deliver(delivery(id, Audience::Everyone));
        hub.deliver(delivery(id, Audience::Everyone));
        assert!(inbox.recv().await.is_some(), "a queue under its bound delivers");
        hub.deliver(delivery(id, Audience::Everyone));
        hub.deliver(delivery(id, Audience::Everyone));
        assert!(inbox.recv().await.is_none(), "the third frame waiting overflows a queue of two");
        hub.deliver(delivery(id, Audience::Everyone));
        assert!(inbox.recv().await.is_none(), "a kicked socket gets nothing more");
    }

    #[test]
    fn a_full_channel_skips_its_listener_instead_of_blocking() {
        let hub = Hub::new();
        let id = ConversationId::new();
        let (outbox, mut rx) = Outbox::new(1, false);
        let _sub = hub.subscribe(topic(id), outbox);
        hub.deliver(delivery(id, Audience::Everyone));
        hub.deliver(delivery(id, Audience::Everyone));
        assert!(rx.try_recv().is_ok());
        hub.deliver(delivery(id, Audience::Everyone));
        assert!(rx.try_recv().is_err(), "skipped after it fell behind");
    }

    #[tokio::test]
    async fn a_socket_queue_delivers_in_order_and_wakes_its_session() {
        let hub = Hub::new();
        let id = ConversationId::new();
        let (outbox, mut inbox) = Outbox::socket(64, false);
        let _sub = hub.subscribe(topic(id), outbox);
        let waiting = tokio::spawn(async move {
            let mut seqs = Vec::new();
            while seqs.len() < 20 {
                seqs.push(inbox.recv().await.expect("not kicked").seq());
            }
            seqs
        });
        tokio::task::yield_now().await;
        for seq in 1..=20 {
            let mut d = delivery(id, Audience::Everyone);
            d.kind = Kind::Event { seq, change: None };
            hub.deliver(d);
        }
        let seqs = tokio::time::timeout(std::time::Duration::from_secs(5), waiting).await.unwrap().unwrap();
        assert_eq!(seqs, (1..=20).map(Some).collect::<Vec<_>>());
    }

    #[tokio::test]
    async fn a_drained_socket_queue_gives_its_buffer_back() {
        let (outbox, mut inbox) = Outbox::socket(64, false);
        let id = ConversationId::new();
        for _ in 0..40 {
            outbox.offer(&delivery(id, Audience::Everyone));
        }
        for _ in 0..40 {
            assert!(inbox.recv().await.is_some());
        }
        assert_eq!(inbox.queue.lock().frames.capacity(), 0);
    }

    /// A watcher that records every change on a channel, as the Redis store's does.
    fn watched(hub: &Hub) -> mpsc::UnboundedReceiver<(Topic, Interest)> {
        let (tx, rx) = mpsc::unbounded_channel();
        hub.set_watcher(Arc::new(move |topic: &Topic, interest| {
            let _ = tx.send((topic.clone(), interest));
        }));
        rx
    }

    #[test]
    fn the_watcher_hears_of_a_topics_first_follower_and_of_its_last_leaving() {
        let hub = Hub::new();
        let mut changes = watched(&hub);
        let id = ConversationId::new();
        let (a, _rx_a) = Outbox::new(1, false);
        let (b, _rx_b) = Outbox::new(1, true);
        let first = hub.subscribe(topic(id), a);
        let second = hub.subscribe(topic(id), b);
        assert_eq!(changes.try_recv().unwrap(), (topic(id), Interest::Started));
        assert!(changes.try_recv().is_err(), "a second follower changes nothing");
        drop(first);
        assert!(changes.try_recv().is_err(), "one follower is left");
        drop(second);
        assert_eq!(changes.try_recv().unwrap(), (topic(id), Interest::Stopped));
        let again = hub.subscribe(topic(id), Outbox::new(1, false).0);
        assert_eq!(changes.try_recv().unwrap(), (topic(id), Interest::Started));
        drop(again);
        assert_eq!(changes.try_recv().unwrap(), (topic(id), Interest::Stopped));
    }

    #[test]
    fn a_watcher_set_late_hears_of_the_topics_already_followed() {
        let hub = Hub::new();
        let (outbox, _rx) = Outbox::new(1, true);
        let _ana = hub.subscribe(Topic::Agent("ana".into()), outbox.clone());
        let _bo = hub.subscribe(Topic::Agent("bo".into()), outbox);
        let mut changes = watched(&hub);
        let mut started = vec![changes.try_recv().unwrap(), changes.try_recv().unwrap()];
        started.sort_by_key(|(topic, _)| format!("{topic:?}"));
        assert_eq!(
            started,
            [(Topic::Agent("ana".into()), Interest::Started), (Topic::Agent("bo".into()), Interest::Started)]
        );
        assert!(changes.try_recv().is_err());
    }

    #[test]
    fn without_a_watcher_following_works_as_before() {
        let hub = Hub::new();
        let id = ConversationId::new();
        let (outbox, mut rx) = Outbox::new(1, false);
        let _sub = hub.subscribe(topic(id), outbox);
        hub.deliver(delivery(id, Audience::Everyone));
        assert!(rx.try_recv().is_ok());
    }

    #[test]
    fn dropping_the_subscription_unfollows() {
        let hub = Hub::new();
        let id = ConversationId::new();
        let (outbox, _rx) = Outbox::new(1, false);
        let sub = hub.subscribe(topic(id), outbox);
        assert_eq!(hub.followers(&topic(id)), 1);
        drop(sub);
        assert_eq!(hub.followers(&topic(id)), 0);
    }
}
