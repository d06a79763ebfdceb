//! Requests in flight to the model endpoint from this node, bounded (`llm.max_concurrent`):
//! a local server often has one generation slot, and a second request either cuts the first
//! short or waits inside its stream, where no timeout can tell waiting from thinking. So the
//! wait happens here, in the open: the visitor sees the bot typing meanwhile, the reply's
//! timeouts start once a slot is free, and the wait itself is bounded
//! (`llm.queue_timeout_secs`). Replies and the agents' summaries and suggestions share the
//! slots, since they share the endpoint.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::LlmError;

#[derive(Clone)]
pub struct Slots {
    /// `None`: no limit (`llm.max_concurrent = 0`).
    semaphore: Option<Arc<Semaphore>>,
    queue_timeout: Duration,
}

impl Slots {
    pub fn new(max_concurrent: usize, queue_timeout: Duration) -> Slots {
        Slots { semaphore: (max_concurrent > 0).then(|| Arc::new(Semaphore::new(max_concurrent))), queue_timeout }
    }

    /// Waits (bounded) for a free slot; it is freed when the permit is dropped.
    pub async fn acquire(&self) -> Result<Option<OwnedSemaphorePermit>, LlmError> {
        let Some(semaphore) = &self.semaphore else { return Ok(None) };
        match tokio::time::timeout(self.queue_timeout, semaphore.clone().acquire_owned()).await {
            Ok(Ok(permit)) => Ok(Some(permit)),
            // The semaphore is never closed; a timeout is a full queue.
            Ok(Err(_)) | Err(_) => Err(LlmError::Busy),
        }
    }

    /// Whether a request now would have to wait.
    pub fn is_full(&self) -> bool {
        self.semaphore.as_ref().is_some_and(|s| s.available_permits() == 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_full_endpoint_queues_and_the_wait_is_bounded() {
        let slots = Slots::new(1, Duration::from_millis(50));
        let held = slots.acquire().await.unwrap();
        assert!(slots.is_full());
        assert!(matches!(slots.acquire().await, Err(LlmError::Busy)));
        drop(held);
        assert!(slots.acquire().await.unwrap().is_some());
        assert!(Slots::new(0, Duration::ZERO).acquire().await.unwrap().is_none());
    }
}
