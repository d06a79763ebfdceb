//! One generation slot, as llama-cpp-python's server has: one model, one lock. A request holds
//! the slot from its arrival until its stream ends (or its client goes away).
//!
//! With `--interrupt_requests true` (its default) a stream checks, before each chunk, whether
//! another request is waiting; if one is, it sends `data: [DONE]` and stops, so the first
//! reply ends early, perhaps empty. With `false` the second request waits for the first.

use std::sync::Arc;

use tokio::sync::{Mutex, OwnedMutexGuard, watch};

/// How the scripted server handles a request that arrives while another streams.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub enum SlotMode {
    /// Any number of streams at once (the hosted APIs; the default).
    #[default]
    Unlimited,
    /// One slot; a new request ends the running stream early (`--interrupt_requests true`).
    Interrupt,
    /// One slot; a new request waits until the running stream ends (`--interrupt_requests false`).
    Queue,
}

/// The slot and the count of requests that ever asked for it. Owned by the scripted server,
/// shared by its handlers: the mutex is the slot; the counter lets a stream notice a newer
/// request without holding anything.
#[derive(Clone)]
pub struct Slot {
    lock: Arc<Mutex<()>>,
    arrivals: Arc<watch::Sender<u64>>,
}

impl Default for Slot {
    fn default() -> Slot {
        Slot { lock: Arc::default(), arrivals: Arc::new(watch::channel(0).0) }
    }
}

/// A request's hold on the slot; dropping it frees the slot.
pub struct SlotGuard {
    _held: Option<OwnedMutexGuard<()>>,
    ticket: u64,
    arrivals: watch::Receiver<u64>,
    interruptible: bool,
}

impl Slot {
    /// Waits for the slot as `mode` says (not at all when unlimited).
    pub async fn enter(&self, mode: SlotMode) -> SlotGuard {
        let mut ticket = 0;
        self.arrivals.send_modify(|n| {
            *n += 1;
            ticket = *n;
        });
        let held = match mode {
            SlotMode::Unlimited => None,
            SlotMode::Interrupt | SlotMode::Queue => Some(self.lock.clone().lock_owned().await),
        };
        SlotGuard {
            _held: held,
            ticket,
            arrivals: self.arrivals.subscribe(),
            interruptible: mode == SlotMode::Interrupt,
        }
    }
}

impl SlotGuard {
    /// Whether a later request has arrived and this stream must give way.
    pub fn is_interrupted(&self) -> bool {
        self.interruptible && *self.arrivals.borrow() > self.ticket
    }

    /// Resolves once this stream must give way (never, unless interruptible).
    pub async fn interrupted(&mut self) {
        if !self.interruptible {
            return std::future::pending().await;
        }
        let ticket = self.ticket;
        // The sender lives as long as the server; if it were gone nothing could interrupt.
        if self.arrivals.wait_for(|n| *n > ticket).await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn in_interrupt_mode_a_second_request_interrupts_the_first() {
        let slot = Slot::default();
        let mut first = slot.enter(SlotMode::Interrupt).await;
        assert!(!first.is_interrupted());
        let second = tokio::spawn({
            let slot = slot.clone();
            async move { slot.enter(SlotMode::Interrupt).await.is_interrupted() }
        });
        tokio::time::timeout(Duration::from_secs(5), first.interrupted()).await.expect("interrupted");
        drop(first);
        assert!(!second.await.unwrap(), "the newest request is not interrupted");
    }

    #[tokio::test]
    async fn in_queue_mode_a_second_request_waits_for_the_first() {
        let slot = Slot::default();
        let first = slot.enter(SlotMode::Queue).await;
        let second = tokio::spawn({
            let slot = slot.clone();
            async move { slot.enter(SlotMode::Queue).await.is_interrupted() }
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!second.is_finished(), "waits while the first holds the slot");
        assert!(!first.is_interrupted());
        drop(first);
        assert!(!second.await.unwrap());
    }

    #[tokio::test]
    async fn unlimited_requests_neither_wait_nor_interrupt() {
        let slot = Slot::default();
        let first = slot.enter(SlotMode::Unlimited).await;
        let second = slot.enter(SlotMode::Unlimited).await;
        assert!(!first.is_interrupted() && !second.is_interrupted());
    }
}
