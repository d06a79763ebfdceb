//! The agent socket: `auth` → `ready` → live frames for the queue, the agent's own chats,
//! and everything that happens in them.
//!
//! The session follows `Topic::Agent(id)` (its share of the queue, left messages of its
//! sites, assignments, suggestions) and each conversation the agent has. When a chat is assigned
//! to the agent, the session asks the desk for its view, sends `assigned` and follows the
//! conversation from the view's last `seq` (a [`Cursor`] fills any gap); a `state` event that
//! gives the conversation to anyone else makes it stop. While the socket
//! is open it keeps the agent's presence alive; after it closes, presence runs out after the
//! grace period and the janitor gives the agent's chats back to the queue.
//!
//! The session watches the directory: when the owner changes the agent (`changes`), it takes
//! their new teams and capacity; when they are disabled or their token was replaced, it
//! closes with 4001 and says which, and the console does not reconnect.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;

use futures_util::StreamExt;
use tokio::time::{Instant, interval_at};

use super::cursor::Cursor;
use super::{
    AgentContext, CLOSE_FELL_BEHIND, Flow, Frames, Incoming, Liveness, RateLimiter, Refused, Socket, close, flow,
    frame_text, send, send_error,
};
use crate::agents::desk::DeskError;
use crate::config::AgentConfig;
use crate::conversation::StoreError;
use crate::delivery::{Delivery, Kind, Topic};
use crate::hub::{Outbox, Subscription};
use crate::protocol::agent::{AgentEvent, AgentFrame, AgentStatus};
use crate::protocol::{ConversationId, Ephemeral, ErrorCode, State, close as codes};
use crate::telemetry::metrics::{OpenSocket, SocketKind};

struct Agent {
    state: Arc<AgentContext>,
    agent: AgentConfig,
    session: Socket,
    outbox: Outbox,
    status: AgentStatus,
    /// The conversations this socket follows, with its position in each.
    following: HashMap<ConversationId, (Cursor, Subscription)>,
}

pub async fn run(state: Arc<AgentContext>, mut session: Socket, mut stream: Frames, client: IpAddr) {
    let _open = OpenSocket::new(SocketKind::Agent);
    let auth = |text: &str| match AgentFrame::parse(text)? {
        AgentFrame::Auth { token, status } => Ok::<_, crate::protocol::FrameError>(Some((token, status))),
        _ => Ok(None),
    };
    let Some((token, status)) = super::first_frame(&mut session, &mut stream, &state.limits, "auth", auth).await else {
        return;
    };
    // Guessing tokens is throttled per address: past its refusals, the token is not even checked.
    if !state.guards.auth_failures.would_allow(&client) {
        return close(&mut session, codes::RATE_LIMITED, "too many failed logins: retry later").await;
    }
    let Some(agent) = state.desk.authenticate(&token) else {
        state.guards.auth_failures.allow(&client);
        tracing::info!(%client, "agent auth refused");
        return close(&mut session, codes::BAD_TOKEN, "unknown token").await;
    };
    stream.set_max_frame(crate::protocol::MAX_FRAME_BYTES);
    tracing::info!(agent = %agent.id, "agent connected");
    let (outbox, mut inbox) = Outbox::socket(state.limits.send_queue, true);
    let _mine = state.hub.subscribe(Topic::Agent(agent.id.clone()), outbox.clone());
    // An agent who was away stays away through a reconnect or a second tab: routing must not
    // hand them a chat in the moment before the console repeats its status.
    let status = match status {
        Some(status) => status,
        None => state.desk.current_status(&agent).await.unwrap_or(AgentStatus::Online),
    };
    let mut directory = state.desk.directory().watch();
    let mut this = Agent { state, agent, session, outbox, status, following: HashMap::new() };
    match this.start().await {
        Ok(Flow::Continue) => {}
        Ok(Flow::Stop) => return,
        Err(error) => {
            tracing::warn!(%error, "agent socket: store unavailable");
            let _ = send_error(&mut this.session, ErrorCode::Unavailable, "temporarily unavailable, reconnect shortly")
                .await;
            return close(&mut this.session, 1011, "temporarily unavailable").await;
        }
    }
    let limits = this.state.limits.clone();
    let mut limiter = RateLimiter::new(limits.rate_per_sec, limits.rate_burst);
    let mut liveness = Liveness::new(limits.client_timeout());
    let mut heartbeat = interval_at(Instant::now() + limits.heartbeat(), limits.heartbeat());
    let refresh_every = this.state.desk.presence_every();
    let mut presence = interval_at(Instant::now() + refresh_every, refresh_every);
    let shutdown = this.state.shutdown.clone();
    loop {
        let flow = tokio::select! {
            _ = shutdown.cancelled() => return close(&mut this.session, 1001, "server going away: reconnect").await,
            delivery = inbox.recv() => match delivery {
                Some(delivery) => this.deliver(delivery).await,
                None => return close(&mut this.session, CLOSE_FELL_BEHIND, "fell behind: reconnect").await,
            },
            _ = presence.tick() => this.keep_present().await,
            Ok(()) = directory.changed() => {
                if let Some(why) = this.still_signed_in() {
                    tracing::info!(agent = %this.agent.id, why, "agent signed out by the owner");
                    return close(&mut this.session, codes::BAD_TOKEN, why).await;
                }
                Flow::Continue
            }
            _ = heartbeat.tick() => {
                if liveness.is_dead() {
                    return close(&mut this.session, 1001, "no heartbeat").await;
                }
                flow(this.session.ping(b"").await)
            }
            message = stream.next() => {
                liveness.heard();
                this.incoming(message, &mut limiter).await
            }
        };
        if let Flow::Stop = flow {
            tracing::info!(agent = %this.agent.id, "agent disconnected");
            return;
        }
    }
}

impl Agent {
    /// Marks the agent present, follows their chats, sends `ready`, and lets routing use them.
    async fn start(&mut self) -> Result<Flow, StoreError> {
        self.keep_present().await;
        let (ready, following) = self.state.desk.ready(&self.agent).await?;
        for (id, last_seq) in following {
            self.follow(id, last_seq);
        }
        if send(&mut self.session, &ready).await.is_err() {
            return Ok(Flow::Stop);
        }
        if let Flow::Stop = self.catch_up().await? {
            return Ok(Flow::Stop);
        }
        self.state.desk.refresh().await?;
        Ok(Flow::Continue)
    }

    /// Takes the agent's record as the directory has it now; `Some(why)` when they may no
    /// longer be signed in with the token this socket used.
    fn still_signed_in(&mut self) -> Option<&'static str> {
        let Some(now) = self.state.desk.directory().get(&self.agent.id) else { return Some("agent disabled") };
        if !now.token_sha256.eq_ignore_ascii_case(&self.agent.token_sha256) {
            return Some("token replaced: sign in with the new one");
        }
        self.agent = now;
        None
    }

    async fn keep_present(&mut self) -> Flow {
        if let Err(error) = self.state.desk.keep_present(&self.agent, self.status).await {
            tracing::warn!(%error, agent = %self.agent.id, "presence not refreshed");
        }
        Flow::Continue
    }

    fn follow(&mut self, id: ConversationId, last_seq: u64) {
        let subscription = self.state.hub.subscribe(Topic::Conversation(id), self.outbox.clone());
        self.following
            .insert(id, (Cursor { conversation_id: id, last_sent: last_seq, sees_notes: true }, subscription));
    }

    /// Sends what happened in followed conversations between their views and the subscriptions.
    async fn catch_up(&mut self) -> Result<Flow, StoreError> {
        let conversations = self.state.conversations.clone();
        for (cursor, _) in self.following.values_mut() {
            if let Flow::Stop = cursor.replay_until(&conversations, &mut self.session, u64::MAX).await? {
                return Ok(Flow::Stop);
            }
        }
        Ok(Flow::Continue)
    }

    async fn deliver(&mut self, delivery: Delivery) -> Flow {
        match (&delivery.topic, &delivery.kind) {
            (_, Kind::Assigned { conversation_id }) => Box::pin(self.assigned(*conversation_id)).await,
            (Topic::Conversation(id), _) => {
                let id = *id;
                let conversations = self.state.conversations.clone();
                let Some((cursor, _)) = self.following.get_mut(&id) else { return Flow::Continue };
                let flow = cursor.deliver(&conversations, &mut self.session, &delivery).await;
                let mine = |agent_id: &Option<Arc<str>>| agent_id.as_deref() == Some(self.agent.id.as_str());
                if delivery.change().is_some_and(|change| change.state != State::Agent || !mine(&change.agent_id)) {
                    self.following.remove(&id);
                }
                flow
            }
            (Topic::Agent(_), _) => {
                crate::telemetry::metrics::hot().frame_out();
                flow(self.session.text(&delivery.json).await)
            }
            (Topic::Changes, _) => Flow::Continue,
        }
    }

    /// A chat is this agent's now: its view, then whatever happened since.
    async fn assigned(&mut self, id: ConversationId) -> Flow {
        let view = match self.state.desk.view(id).await {
            Ok(Some(view)) => view,
            Ok(None) => return Flow::Continue,
            Err(error) => {
                tracing::warn!(%error, conversation_id = %id, "no view of a newly assigned chat; reconnecting");
                close(&mut self.session, 1011, "temporarily unavailable: reconnect").await;
                return Flow::Stop;
            }
        };
        self.follow(id, view.events.last().map_or(0, |e| e.seq));
        if send(&mut self.session, &AgentEvent::Assigned { conversation: Box::new(view) }).await.is_err() {
            return Flow::Stop;
        }
        match self.catch_up().await {
            Ok(flow) => flow,
            Err(error) => {
                tracing::warn!(%error, "could not catch up a newly assigned chat");
                Flow::Continue
            }
        }
    }

    async fn incoming(&mut self, message: Option<Result<Incoming, Refused>>, limiter: &mut RateLimiter) -> Flow {
        let strikes = self.state.limits.rate_strikes;
        let text = match frame_text(&mut self.session, message, limiter, strikes).await {
            Ok(text) => text,
            Err(flow) => return flow,
        };
        let frame = match AgentFrame::parse(&text) {
            Ok(frame) => frame,
            Err(error) => return flow(send_error(&mut self.session, error.code(), error.to_string()).await),
        };
        match self.handle(frame).await {
            Ok(flow) => flow,
            Err(error) => {
                if let DeskError::Store(store) = &error {
                    tracing::warn!(error = %store, agent = %self.agent.id, "agent frame failed");
                }
                flow(send_error(&mut self.session, error.code(), error.to_string()).await)
            }
        }
    }

    #[tracing::instrument(name = "agent_frame", skip_all, fields(agent = %self.agent.id))]
    async fn handle(&mut self, frame: AgentFrame) -> Result<Flow, DeskError> {
        tracing::debug!(kind = frame.kind(), "frame");
        let desk = self.state.desk.clone();
        let agent = &self.agent;
        match frame {
            AgentFrame::Auth { .. } => return Err(DeskError::Forbidden("already authenticated")),
            AgentFrame::Status { status } => {
                self.status = status;
                desk.set_status(agent, status).await?
            }
            AgentFrame::Accept { conversation_id } => desk.accept(agent, conversation_id).await?,
            AgentFrame::Message { conversation_id, client_id, text } => {
                let seq = desk.message(agent, conversation_id, &client_id, text).await?;
                let ack = Ephemeral::Ack { client_id: client_id.as_str().to_owned(), seq };
                return Ok(flow(send(&mut self.session, &ack).await));
            }
            AgentFrame::Note { conversation_id, text } => desk.note(agent, conversation_id, text).await?,
            AgentFrame::Typing { conversation_id, on } => desk.typing(agent, conversation_id, on).await?,
            AgentFrame::Transfer { conversation_id, to, note } => {
                desk.transfer(agent, conversation_id, to, note).await?
            }
            AgentFrame::Handback { conversation_id } => desk.handback(agent, conversation_id).await?,
            AgentFrame::Resolve { conversation_id } => desk.resolve(agent, conversation_id).await?,
            AgentFrame::Verdict { conversation_id, verdict } => desk.verdict(agent, conversation_id, verdict).await?,
            AgentFrame::Open { conversation_id } => desk.join(agent, conversation_id).await?,
            AgentFrame::Handled { conversation_id, handled } => desk.handled(agent, conversation_id, handled).await?,
            AgentFrame::Preview { conversation_id } => {
                let conversation = Box::new(desk.preview(agent, conversation_id).await?);
                return Ok(flow(send(&mut self.session, &AgentEvent::Preview { conversation }).await));
            }
            AgentFrame::Roster { conversation_id } => {
                let roster = desk.roster(agent, conversation_id).await?;
                let frame = AgentEvent::Roster { agents: roster.agents, teams: roster.teams };
                return Ok(flow(send(&mut self.session, &frame).await));
            }
        }
        Ok(Flow::Continue)
    }
}
