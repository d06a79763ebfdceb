//! The visitor socket: `hello` → `welcome` → replay → live frames.
//!
//! Replay and live delivery meet without loss or repetition: the session subscribes to the
//! hub *before* reading the store, remembers the newest `seq` it has sent, drops live events
//! at or below it, and fills any gap from the store before sending a newer one.

use std::sync::Arc;

use actix_ws::{AggregatedMessage, AggregatedMessageStream, ProtocolError, Session};
use futures_util::StreamExt;
use tokio::time::{Instant, interval_at, timeout};

use super::{CLOSE_FELL_BEHIND, Liveness, RateLimiter, close, send, send_error};
use crate::conversation::{OpenError, Opened};
use crate::hub::Outbox;
use crate::protocol::{ConversationId, Ephemeral, ErrorCode, Hello, Speaker, VisitorFrame, close as codes};
use crate::sites::Site;
use crate::startup::AppState;
use crate::store::{Delivery, StoreError};

/// Events read from the store per page while replaying.
const REPLAY_PAGE: usize = 256;

enum Flow {
    Continue,
    Stop,
}

struct Visitor {
    state: Arc<AppState>,
    site: Arc<Site>,
    session: Session,
    conversation_id: ConversationId,
    /// The newest event `seq` this socket has been sent.
    last_sent: u64,
}

pub async fn run(state: Arc<AppState>, site: Arc<Site>, mut session: Session, mut stream: AggregatedMessageStream) {
    let Some(hello) = wait_for_hello(&state, &mut session, &mut stream).await else { return };
    let opened = match state.conversations.open(&site, &hello).await {
        Ok(opened) => opened,
        Err(OpenError::BadToken) => return close(session, codes::BAD_TOKEN, "unknown token").await,
        Err(OpenError::Store(error)) => return unavailable(session, error).await,
    };
    let (outbox, mut rx) = Outbox::new(state.settings.limits.send_queue, false);
    let kicked = outbox.kicked.clone();
    let _subscription = state.hub.subscribe(opened.conversation.id, outbox);
    // A client claiming to have seen more than exists gets everything from its real position on.
    let last_sent = hello.last_seq.min(opened.conversation.last_seq);
    let mut visitor = Visitor { conversation_id: opened.conversation.id, state, site, session, last_sent };
    if visitor.welcome(&opened).await.is_err() {
        return;
    }
    if let Err(error) = visitor.replay_until(u64::MAX).await {
        return unavailable(visitor.session, error).await;
    }
    let limits = visitor.state.settings.limits.clone();
    let mut limiter = RateLimiter::new(limits.rate_per_sec, limits.rate_burst);
    let mut liveness = Liveness::new(limits.client_timeout());
    let mut heartbeat = interval_at(Instant::now() + limits.heartbeat(), limits.heartbeat());
    let shutdown = visitor.state.shutdown.clone();
    loop {
        let flow = tokio::select! {
            _ = shutdown.cancelled() => return close(visitor.session, 1001, "server going away: reconnect").await,
            _ = kicked.cancelled() => return close(visitor.session, CLOSE_FELL_BEHIND, "fell behind: reconnect").await,
            Some(delivery) = rx.recv() => visitor.deliver(delivery).await,
            _ = heartbeat.tick() => {
                if liveness.is_dead() {
                    return close(visitor.session, 1001, "no heartbeat").await;
                }
                visitor.session.ping(b"").await.map_or(Flow::Stop, |()| Flow::Continue)
            }
            message = stream.next() => {
                liveness.heard();
                visitor.incoming(message, &mut limiter).await
            }
        };
        if let Flow::Stop = flow {
            return;
        }
    }
}

async fn wait_for_hello(
    state: &AppState,
    session: &mut Session,
    stream: &mut AggregatedMessageStream,
) -> Option<Hello> {
    let deadline = tokio::time::Instant::now() + state.settings.limits.hello_timeout();
    loop {
        let message = match timeout(deadline - tokio::time::Instant::now(), stream.next()).await {
            Err(_) => {
                close(session.clone(), codes::NO_HELLO, "no hello in time").await;
                return None;
            }
            Ok(None | Some(Err(_))) => return None,
            Ok(Some(Ok(message))) => message,
        };
        let text = match message {
            AggregatedMessage::Text(text) => text,
            AggregatedMessage::Ping(bytes) => {
                session.pong(&bytes).await.ok()?;
                continue;
            }
            AggregatedMessage::Close(_) => return None,
            _ => {
                send_error(session, ErrorCode::InvalidFrame, "send a hello frame first").await.ok()?;
                continue;
            }
        };
        match VisitorFrame::parse(&text) {
            Ok(VisitorFrame::Hello(hello)) => return Some(hello),
            Ok(_) => send_error(session, ErrorCode::InvalidFrame, "send a hello frame first").await.ok()?,
            Err(error) => send_error(session, error.code(), error.to_string()).await.ok()?,
        }
    }
}

async fn unavailable(mut session: Session, error: StoreError) {
    tracing::warn!(%error, "visitor socket: store unavailable");
    let _ = send_error(&mut session, ErrorCode::Unavailable, "temporarily unavailable, reconnect shortly").await;
    close(session, 1011, "temporarily unavailable").await;
}

impl Visitor {
    async fn welcome(&mut self, opened: &Opened) -> Result<(), actix_ws::Closed> {
        let welcome = Ephemeral::Welcome {
            conversation_id: opened.conversation.id,
            token: opened.token.clone(),
            state: opened.conversation.state,
            last_seq: opened.conversation.last_seq,
            ai_notice: self.site.config.persona.ai_notice.clone(),
        };
        send(&mut self.session, &welcome).await
    }

    /// Sends every stored event after `last_sent` up to `until`, in order; notes stay with agents.
    async fn replay_until(&mut self, until: u64) -> Result<(), StoreError> {
        let store = self.state.conversations.store().clone();
        while self.last_sent < until {
            let page = store.events_after(self.conversation_id, self.last_sent, REPLAY_PAGE).await?;
            let Some(newest) = page.last().map(|e| e.seq) else { break };
            for event in page.iter().filter(|e| e.seq <= until) {
                if !event.body.is_agent_only() && send(&mut self.session, event.as_ref()).await.is_err() {
                    return Ok(());
                }
                self.last_sent = event.seq;
            }
            if newest > until || page.len() < REPLAY_PAGE {
                break;
            }
        }
        Ok(())
    }

    async fn deliver(&mut self, delivery: Delivery) -> Flow {
        match delivery.seq {
            Some(seq) if seq <= self.last_sent => return Flow::Continue,
            Some(seq) if seq > self.last_sent + 1 => {
                if let Err(error) = self.replay_until(seq - 1).await {
                    tracing::warn!(%error, "could not fill a gap before a live event");
                }
                self.last_sent = seq;
            }
            Some(seq) => self.last_sent = seq,
            None => {}
        }
        match self.session.text(delivery.json.to_string()).await {
            Ok(()) => Flow::Continue,
            Err(_) => Flow::Stop,
        }
    }

    async fn incoming(
        &mut self,
        message: Option<Result<AggregatedMessage, ProtocolError>>,
        limiter: &mut RateLimiter,
    ) -> Flow {
        let text = match message {
            None | Some(Ok(AggregatedMessage::Close(_))) => return Flow::Stop,
            Some(Err(ProtocolError::Overflow)) => {
                close(self.session.clone(), 1009, "frame too big").await;
                return Flow::Stop;
            }
            Some(Err(_)) => return Flow::Stop,
            Some(Ok(AggregatedMessage::Ping(bytes))) => return flow(self.session.pong(&bytes).await),
            Some(Ok(AggregatedMessage::Pong(_))) => return Flow::Continue,
            Some(Ok(AggregatedMessage::Binary(_))) => {
                let sent = send_error(
                    &mut self.session,
                    ErrorCode::InvalidFrame,
                    "binary frames are not part of the protocol",
                )
                .await;
                return flow(sent);
            }
            Some(Ok(AggregatedMessage::Text(text))) => text,
        };
        if !limiter.allow() {
            if limiter.strikes >= self.state.settings.limits.rate_strikes {
                close(self.session.clone(), codes::RATE_LIMITED, "rate limited: retry later").await;
                return Flow::Stop;
            }
            return flow(send_error(&mut self.session, ErrorCode::RateLimited, "slow down").await);
        }
        let result = match VisitorFrame::parse(&text) {
            Ok(frame) => self.handle(frame).await,
            Err(error) => send_error(&mut self.session, error.code(), error.to_string()).await,
        };
        flow(result)
    }

    #[tracing::instrument(name = "visitor_frame", skip_all, fields(conversation_id = %self.conversation_id))]
    async fn handle(&mut self, frame: VisitorFrame) -> Result<(), actix_ws::Closed> {
        tracing::debug!(?frame, "frame");
        let conversations = self.state.conversations.clone();
        let id = self.conversation_id;
        let result = match frame {
            VisitorFrame::Hello(_) => {
                return send_error(&mut self.session, ErrorCode::InvalidFrame, "already said hello").await;
            }
            VisitorFrame::Message { client_id, text } => match conversations
                .visitor_message(&self.site, id, &client_id, text)
                .await
            {
                Ok(seq) => {
                    return send(&mut self.session, &Ephemeral::Ack { client_id: client_id.as_str().to_owned(), seq })
                        .await;
                }
                Err(error) => Err(error),
            },
            VisitorFrame::Typing { on } => conversations.typing(id, Speaker::Visitor, on).await,
            VisitorFrame::RequestHuman => conversations.request_human(&self.site, id).await,
            VisitorFrame::Action { id: action } if action == crate::conversation::TALK_TO_PERSON => {
                conversations.request_human(&self.site, id).await
            }
            VisitorFrame::Action { .. } => {
                return send_error(&mut self.session, ErrorCode::NotFound, "unknown action").await;
            }
            VisitorFrame::LeaveMessage { email, text } => conversations.leave_message(id, email, text).await,
            VisitorFrame::Csat { score, comment } => conversations.csat(id, score, comment).await,
            VisitorFrame::End => conversations.end(id).await,
        };
        tracing::debug!(ok = result.is_ok(), "frame handled");
        match result {
            Ok(()) => Ok(()),
            Err(StoreError::Full(_)) => {
                send_error(&mut self.session, ErrorCode::Unavailable, "this conversation is full; start a new one")
                    .await
            }
            Err(error) => {
                tracing::warn!(%error, conversation_id = %id, "visitor frame failed");
                send_error(&mut self.session, ErrorCode::Unavailable, "temporarily unavailable; send it again").await
            }
        }
    }
}

fn flow(result: Result<(), actix_ws::Closed>) -> Flow {
    if result.is_ok() { Flow::Continue } else { Flow::Stop }
}
