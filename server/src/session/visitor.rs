//! The visitor socket: `hello` → `welcome` → replay → live frames. The session subscribes to
//! the hub before it replays, and its [`Cursor`] keeps the two in order.

use std::future::Future;
use std::net::IpAddr;
use std::sync::Arc;

use futures_util::StreamExt;
use std::time::Duration;
use tokio::time::{Instant, interval_at};

use super::cursor::Cursor;
use super::{
    CLOSE_FELL_BEHIND, Closed, Flow, Frames, Incoming, Liveness, RateLimiter, Refused, Socket, VisitorContext, close,
    flow, frame_text, send, send_error,
};
use crate::attachments::Scope;
use crate::conversation::{IdentifyError, LEAVE_MESSAGE, OpenError, Opened, StoreError, TALK_TO_PERSON};
use crate::delivery::Topic;
use crate::hub::{Inbox, Outbox, Subscription};
use crate::protocol::{ConversationId, Ephemeral, ErrorCode, Hello, Speaker, VisitorFrame, close as codes};
use crate::sites::Site;
use crate::telemetry::metrics::{OpenSocket, SocketKind};

struct Visitor {
    state: Arc<VisitorContext>,
    site: Arc<Site>,
    session: Socket,
    conversation_id: ConversationId,
    cursor: Cursor,
    /// Following the conversation lasts as long as the session.
    _following: Subscription,
}

/// The session of one visitor socket, for as long as it is open.
///
/// Its future is allocated once per socket and lives as long as the socket, so it is kept
/// small: not an `async fn` (whose arguments would be stored twice in the future: as
/// arguments and as the locals they move into), and the large one-off or per-frame work
/// (opening the conversation, handling a frame, closing) runs in boxed futures of its own.
#[allow(clippy::manual_async_fn)] // deliberately not `async fn`: see above
pub fn run(
    state: Arc<VisitorContext>,
    site: Arc<Site>,
    mut session: Socket,
    mut stream: Frames,
    client: IpAddr,
) -> impl Future<Output = ()> + 'static {
    async move {
        let _open = OpenSocket::new(SocketKind::Visitor);
        let Some(hello) = wait_for_hello(&state, &mut session, &mut stream).await else { return };
        if hello.token.is_none() && !may_start(&state, client, &site.config.id).await {
            tracing::info!(%client, site = %site.config.id, "too many new conversations; refusing one");
            return close(&mut session, codes::RATE_LIMITED, "too many new conversations: retry later").await;
        }
        stream.set_max_frame(crate::protocol::MAX_FRAME_BYTES);
        let Some((mut visitor, mut inbox)) = Box::pin(start(state, site, session, hello)).await else { return };
        visitor.serve(&mut stream, &mut inbox).await;
    }
}

/// Whether `client` may start a conversation on `site`: this node's buckets first (a flood
/// is turned away without a store round trip), then the ones every node shares.
async fn may_start(state: &VisitorContext, client: IpAddr, site: &str) -> bool {
    let client = super::client_key(client);
    state.guards.new_conversation(client, site) && state.conversations.may_start(client, site, &state.limits).await
}

/// Opens (or resumes) the conversation, follows it, sends `welcome` and replays what the
/// client has not seen. `None`: the socket is closed or gone.
async fn start(
    state: Arc<VisitorContext>,
    site: Arc<Site>,
    mut session: Socket,
    hello: Hello,
) -> Option<(Visitor, Inbox)> {
    let opened = match state.conversations.open(&site, &hello).await {
        Ok(opened) => opened,
        Err(OpenError::BadToken) => {
            close(&mut session, codes::BAD_TOKEN, "unknown token").await;
            return None;
        }
        Err(OpenError::Store(error)) => {
            unavailable(session, error).await;
            return None;
        }
    };
    let (outbox, inbox) = Outbox::socket(state.limits.send_queue, false);
    let following = state.hub.subscribe(Topic::Conversation(opened.conversation.id), outbox);
    // A client claiming to have seen more than exists gets everything from its real position on.
    let last_sent = hello.last_seq.min(opened.conversation.last_seq);
    let id = opened.conversation.id;
    let cursor = Cursor { conversation_id: id, last_sent, sees_notes: false };
    let mut visitor = Visitor { conversation_id: id, state, site, session, cursor, _following: following };
    if visitor.welcome(&opened).await.is_err() {
        return None;
    }
    let conversations = visitor.state.conversations.clone();
    match visitor.cursor.replay_until(&conversations, &mut visitor.session, u64::MAX).await {
        Ok(Flow::Continue) => {}
        Ok(Flow::Stop) => return None,
        Err(error) => {
            unavailable(visitor.session, error).await;
            return None;
        }
    }
    Some((visitor, inbox))
}

async fn wait_for_hello(state: &VisitorContext, session: &mut Socket, stream: &mut Frames) -> Option<Hello> {
    let first = |text: &str| match VisitorFrame::parse(text)? {
        VisitorFrame::Hello(hello) => Ok(Some(hello)),
        _ => Ok(None),
    };
    super::first_frame(session, stream, &state.limits, "hello", first).await
}

async fn unavailable(mut session: Socket, error: StoreError) {
    tracing::warn!(%error, "visitor socket: store unavailable");
    let _ = send_error(&mut session, ErrorCode::Unavailable, "temporarily unavailable, reconnect shortly").await;
    close(&mut session, 1011, "temporarily unavailable").await;
}

impl Visitor {
    /// The live loop: frames from the conversation, frames from the client, heartbeats.
    async fn serve(&mut self, stream: &mut Frames, inbox: &mut Inbox) {
        let limits = &self.state.limits;
        let mut limiter = RateLimiter::new(limits.rate_per_sec, limits.rate_burst);
        let mut liveness = Liveness::new(limits.client_timeout());
        let mut heartbeat = interval_at(Instant::now() + limits.heartbeat(), limits.heartbeat());
        let shutdown = self.state.shutdown.clone();
        // The bot-only rating request: once per socket, after this long with nothing either way.
        let idle_after = Duration::from_secs(self.site.config.bot.rating_after_idle_secs);
        let mut rating_asked = idle_after.is_zero();
        let idle = tokio::time::sleep(idle_after);
        tokio::pin!(idle);
        loop {
            let flow = tokio::select! {
                _ = shutdown.cancelled() => return self.close(1001, "server going away: reconnect").await,
                () = &mut idle, if !rating_asked => {
                    rating_asked = true;
                    Box::pin(self.ask_rating_if_due()).await
                }
                delivery = inbox.recv() => match delivery {
                    Some(delivery) => {
                        idle.as_mut().reset(Instant::now() + idle_after);
                        self.cursor.deliver(&self.state.conversations, &mut self.session, &delivery).await
                    }
                    None => return self.close(CLOSE_FELL_BEHIND, "fell behind: reconnect").await,
                },
                _ = heartbeat.tick() => {
                    if liveness.is_dead() {
                        return self.close(1001, "no heartbeat").await;
                    }
                    Box::pin(self.session.ping(b"")).await.map_or(Flow::Stop, |()| Flow::Continue)
                }
                message = stream.next() => {
                    liveness.heard();
                    if !matches!(message, Some(Ok(Incoming::Ping(_) | Incoming::Pong))) {
                        idle.as_mut().reset(Instant::now() + idle_after);
                    }
                    Box::pin(self.incoming(message, &mut limiter)).await
                }
            };
            if let Flow::Stop = flow {
                return;
            }
        }
    }

    fn close(&mut self, code: u16, description: &'static str) -> impl Future<Output = ()> + '_ {
        Box::pin(close(&mut self.session, code, description))
    }

    /// Asks this socket's visitor for a rating if the bot alone handled the chat and none
    /// was given ([`crate::conversation::Conversations::bot_rating_due`]).
    async fn ask_rating_if_due(&mut self) -> Flow {
        match self.state.conversations.bot_rating_due(self.conversation_id).await {
            Ok(true) => {
                let frame = Ephemeral::CsatRequest { conversation_id: self.conversation_id };
                flow(send(&mut self.session, &frame).await)
            }
            Ok(false) => Flow::Continue,
            Err(error) => {
                tracing::warn!(%error, "rating check failed; not asked");
                Flow::Continue
            }
        }
    }

    async fn welcome(&mut self, opened: &Opened) -> Result<(), Closed> {
        let welcome = Ephemeral::Welcome {
            conversation_id: opened.conversation.id,
            token: opened.token.clone(),
            state: opened.conversation.state,
            last_seq: opened.conversation.last_seq,
            ai_notice: self.site.config.persona.ai_notice.clone(),
            email: self.state.conversations.email_on(),
            identity: opened.identity,
            attachments: self.state.attachments.grant(Scope::Visitor, &self.site.config, opened.conversation.id),
        };
        send(&mut self.session, &welcome).await?;
        if !opened.history.is_empty() {
            send(&mut self.session, &Ephemeral::History { conversations: opened.history.clone() }).await?;
        }
        Ok(())
    }

    /// A later `identify` (the visitor signed in on the page): answered with the identity the
    /// conversation has now, or `forbidden` when it is verified as someone else's.
    async fn identify(&mut self, claim: crate::protocol::VisitorIdentity) -> Result<(), Closed> {
        let conversations = &self.state.conversations;
        match conversations.identify_later(&self.site, self.conversation_id, &claim).await {
            Ok(identity) => send(&mut self.session, &Ephemeral::Identity { identity }).await,
            Err(error @ IdentifyError::OtherUser) => {
                send_error(&mut self.session, ErrorCode::Forbidden, error.to_string()).await
            }
            Err(IdentifyError::Store(error)) => {
                tracing::warn!(%error, "identify failed");
                send_error(&mut self.session, ErrorCode::Unavailable, "temporarily unavailable, try again").await
            }
        }
    }

    async fn incoming(&mut self, message: Option<Result<Incoming, Refused>>, limiter: &mut RateLimiter) -> Flow {
        let strikes = self.state.limits.rate_strikes;
        let counted = matches!(message, Some(Ok(Incoming::Text(_) | Incoming::Binary)));
        let text = match frame_text(&mut self.session, message, limiter, strikes).await {
            Ok(text) => text,
            Err(flow) => return flow,
        };
        // The conversation's own bucket: ten sockets on one conversation send no more than one.
        if counted && !self.state.guards.per_conversation.allow(&self.conversation_id) {
            return flow(send_error(&mut self.session, ErrorCode::RateLimited, "slow down").await);
        }
        let result = match VisitorFrame::parse(&text) {
            Ok(frame) => self.handle(frame).await,
            Err(error) => send_error(&mut self.session, error.code(), error.to_string()).await,
        };
        flow(result)
    }

    #[tracing::instrument(name = "visitor_frame", skip_all, fields(conversation_id = %self.conversation_id))]
    async fn handle(&mut self, frame: VisitorFrame) -> Result<(), Closed> {
        tracing::debug!(kind = frame.kind(), "frame");
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
            VisitorFrame::Action { id: action } if action == TALK_TO_PERSON => {
                conversations.request_human(&self.site, id).await
            }
            // The client's own form opens; nothing happens on the server.
            VisitorFrame::Action { id: action } if action == LEAVE_MESSAGE => Ok(()),
            VisitorFrame::Action { .. } => {
                return send_error(&mut self.session, ErrorCode::NotFound, "unknown action").await;
            }
            VisitorFrame::LeaveMessage { email, text } => {
                conversations.leave_message(&self.site, id, email, text).await
            }
            VisitorFrame::Csat { score, comment } => conversations.csat(id, score, comment).await,
            VisitorFrame::End => conversations.end(&self.site, id).await,
            VisitorFrame::EmailTranscript { email } => {
                return match conversations.email_transcript(&self.site, id, email).await {
                    Ok(()) => send(&mut self.session, &Ephemeral::TranscriptQueued { conversation_id: id }).await,
                    Err(error) => send_error(&mut self.session, ErrorCode::Unavailable, error.to_string()).await,
                };
            }
            VisitorFrame::Identify { visitor } => return Box::pin(self.identify(visitor)).await,
            VisitorFrame::Proactive { trigger, visitor_key } => {
                return match conversations.proactive(&self.site, id, &trigger, visitor_key.as_deref()).await {
                    Ok(_) => Ok(()),
                    Err(error) => send_error(&mut self.session, error.code(), error.to_string()).await,
                };
            }
            VisitorFrame::ActionAnswer { call_id, confirmed } => {
                conversations.action_answer(id, call_id, confirmed).await
            }
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
