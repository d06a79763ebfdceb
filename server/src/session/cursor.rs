//! A socket's position in one conversation: the newest `seq` it has been sent. Replay and
//! live delivery meet here without loss or repetition: a socket subscribes to the hub before
//! it reads the store, drops live events at or below its position, and fills any gap from
//! the store before it sends a newer one. Visitor sockets skip internal notes.

use super::{Flow, Socket};
use crate::conversation::{Conversations, StoreError};
use crate::delivery::Delivery;
use crate::protocol::ConversationId;

/// Events read from the store per page while replaying.
const REPLAY_PAGE: usize = 256;

pub struct Cursor {
    pub conversation_id: ConversationId,
    /// The newest event `seq` this socket has been sent.
    pub last_sent: u64,
    pub sees_notes: bool,
}

impl Cursor {
    /// Sends every stored event after the position up to `until`, in order; `Stop` when the
    /// socket is gone.
    pub async fn replay_until(
        &mut self,
        conversations: &Conversations,
        session: &mut Socket,
        until: u64,
    ) -> Result<Flow, StoreError> {
        while self.last_sent < until {
            let page = conversations.events_after(self.conversation_id, self.last_sent, REPLAY_PAGE).await?;
            let Some(newest) = page.last().map(|e| e.seq) else { break };
            for event in page.iter().filter(|e| e.seq <= until) {
                let visible = self.sees_notes || !event.body.is_agent_only();
                if visible && super::send(session, event.as_ref()).await.is_err() {
                    return Ok(Flow::Stop);
                }
                self.last_sent = event.seq;
            }
            if newest > until || page.len() < REPLAY_PAGE {
                break;
            }
        }
        Ok(Flow::Continue)
    }

    /// Sends a live delivery of this conversation in its place.
    pub async fn deliver(&mut self, conversations: &Conversations, session: &mut Socket, delivery: &Delivery) -> Flow {
        match delivery.seq() {
            Some(seq) if seq <= self.last_sent => return Flow::Continue,
            Some(seq) if seq > self.last_sent + 1 => {
                // Boxed: a gap is rare, and inline its future would enlarge every session's.
                match Box::pin(self.replay_until(conversations, session, seq - 1)).await {
                    Ok(Flow::Continue) => {}
                    Ok(Flow::Stop) => return Flow::Stop,
                    Err(error) => {
                        // Sending the newer event would skip the gap for good: close instead,
                        // and the client resumes from its last seq once the store answers.
                        tracing::warn!(%error, "could not fill a gap before a live event");
                        Box::pin(super::close(session, 1011, "temporarily unavailable: reconnect")).await;
                        return Flow::Stop;
                    }
                }
                self.last_sent = seq;
            }
            Some(seq) => self.last_sent = seq,
            None => {}
        }
        crate::telemetry::metrics::hot().frame_out();
        super::flow(session.text(&delivery.json).await)
    }
}
