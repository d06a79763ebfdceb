//! The agent socket: `auth` → `ready` → live frames for the queue, the agent's own chats,
//! and everything that happens in them.
//!
//! The session follows `Topic::Agents` (queue snapshots, left messages), `Topic::Agent(id)`
//! (assignments, suggestions) and each conversation the agent has. An `assigned` frame makes
//! it follow that conversation from the view's last `seq` (a [`Cursor`] fills any gap); a
//! `state` event that gives the conversation to anyone else makes it stop. While the socket
//! is open it keeps the agent's presence alive; after it closes, presence runs out after the
//! grace period and the janitor gives the agent's chats back to the queue.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use actix_ws::{AggregatedMessage, AggregatedMessageStream, ProtocolError, Session};
use futures_util::StreamExt;
use tokio::time::{Instant, interval_at};

use super::cursor::Cursor;
use super::{CLOSE_FELL_BEHIND, Flow, Liveness, RateLimiter, close, flow, frame_text, send, send_error};
use crate::agents::desk::DeskError;
use crate::agents::{info, queue, views};
use crate::config::AgentConfig;
use crate::hub::{Outbox, Subscription};
use crate::protocol::agent::{AgentEvent, AgentFrame, AgentStatus};
use crate::protocol::{ConversationId, Ephemeral, State, close as codes};
use crate::startup::AppState;
use crate::store::{Delivery, Presence, StoreError, Topic};

struct Agent {
    state: Arc<AppState>,
    agent: AgentConfig,
    session: Session,
    outbox: Outbox,
    status: AgentStatus,
    /// The conversations this socket follows, with its position in each.
    following: HashMap<ConversationId, (Cursor, Subscription)>,
}

pub async fn run(state: Arc<AppState>, mut session: Session, mut stream: AggregatedMessageStream) {
    let limit = state.settings.limits.hello_timeout();
    let auth = |text: &str| match AgentFrame::parse(text)? {
        AgentFrame::Auth { token } => Ok::<_, crate::protocol::FrameError>(Some(token)),
        _ => Ok(None),
    };
    let Some(token) = super::first_frame(&mut session, &mut stream, limit, "auth", auth).await else { return };
    let Some(agent) = state.desk.dispatch().directory().authenticate(&token).cloned() else {
        return close(session, codes::BAD_TOKEN, "unknown token").await;
    };
    tracing::info!(agent = %agent.id, "agent connected");
    let (outbox, mut inbox) = Outbox::socket(state.settings.limits.send_queue, true);
    let _agents = state.hub.subscribe(Topic::Agents, outbox.clone());
    let _mine = state.hub.subscribe(Topic::Agent(agent.id.clone()), outbox.clone());
    let mut this = Agent { state, agent, session, outbox, status: AgentStatus::Online, following: HashMap::new() };
    if let Err(error) = this.start().await {
        tracing::warn!(%error, "agent socket: store unavailable");
        let _ = send_error(
            &mut this.session,
            crate::protocol::ErrorCode::Unavailable,
            "temporarily unavailable, reconnect shortly",
        )
        .await;
        return close(this.session, 1011, "temporarily unavailable").await;
    }
    let limits = this.state.settings.limits.clone();
    let mut limiter = RateLimiter::new(limits.rate_per_sec, limits.rate_burst);
    let mut liveness = Liveness::new(limits.client_timeout());
    let mut heartbeat = interval_at(Instant::now() + limits.heartbeat(), limits.heartbeat());
    let refresh_every = presence_refresh(&this.state);
    let mut presence = interval_at(Instant::now() + refresh_every, refresh_every);
    let shutdown = this.state.shutdown.clone();
    loop {
        let flow = tokio::select! {
            _ = shutdown.cancelled() => return close(this.session, 1001, "server going away: reconnect").await,
            delivery = inbox.recv() => match delivery {
                Some(delivery) => this.deliver(delivery).await,
                None => return close(this.session, CLOSE_FELL_BEHIND, "fell behind: reconnect").await,
            },
            _ = presence.tick() => this.keep_present().await,
            _ = heartbeat.tick() => {
                if liveness.is_dead() {
                    return close(this.session, 1001, "no heartbeat").await;
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

/// Presence is pushed forward four times per grace period, so a late tick never lets it lapse.
fn presence_refresh(state: &AppState) -> Duration {
    (state.settings.handoff.presence_grace() / 4).max(Duration::from_millis(100))
}

impl Agent {
    /// Marks the agent present, follows their chats, sends `ready`, and lets routing use them.
    async fn start(&mut self) -> Result<(), StoreError> {
        self.keep_present().await;
        let store = self.state.conversations.store().clone();
        let dispatch = self.state.desk.dispatch().clone();
        let sorted = queue::sorted(store.queue().await?);
        let items = views::queue_items(store.as_ref(), &sorted).await?;
        let mut conversations = Vec::new();
        let mine: Vec<_> = store.assignments().await?.into_iter().filter(|a| a.agent_id == self.agent.id).collect();
        for assignment in mine {
            let id = assignment.conversation_id;
            let view = views::conversation_view(
                store.as_ref(),
                &self.state.sites,
                dispatch.assist(),
                id,
                dispatch.max_events(),
            )
            .await?;
            if let Some(view) = view {
                let last_seq = view.events.last().map_or(0, |e| e.seq);
                self.follow(id, last_seq);
                conversations.push(view);
            }
        }
        let left_messages = store.left_messages().await?;
        let ready = AgentEvent::Ready { agent: info(&self.agent), queue: items, conversations, left_messages };
        if send(&mut self.session, &ready).await.is_err() {
            return Ok(());
        }
        self.catch_up().await?;
        dispatch.refresh().await
    }

    async fn keep_present(&mut self) -> Flow {
        let until = chrono::Utc::now() + self.state.settings.handoff.presence_grace();
        let presence = Presence { status: self.status, until };
        if let Err(error) = self.state.conversations.store().set_presence(&self.agent.id, Some(presence)).await {
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
    async fn catch_up(&mut self) -> Result<(), StoreError> {
        let store = self.state.conversations.store().clone();
        for (cursor, _) in self.following.values_mut() {
            cursor.replay_until(store.as_ref(), &mut self.session, u64::MAX).await?;
        }
        Ok(())
    }

    async fn deliver(&mut self, delivery: Delivery) -> Flow {
        match &delivery.topic {
            Topic::Conversation(id) => {
                let id = *id;
                let store = self.state.conversations.store().clone();
                let Some((cursor, _)) = self.following.get_mut(&id) else { return Flow::Continue };
                let flow = cursor.deliver(store.as_ref(), &mut self.session, &delivery).await;
                if delivery.seq.is_some() && no_longer_mine(&delivery.json, &self.agent.id) {
                    self.following.remove(&id);
                }
                flow
            }
            Topic::Agent(_) => {
                let newly_assigned = assigned(&delivery.json);
                if let Some((id, last_seq)) = newly_assigned {
                    self.follow(id, last_seq);
                }
                let sent = flow(self.session.text(delivery.json.to_string()).await);
                if newly_assigned.is_some()
                    && let Err(error) = self.catch_up().await
                {
                    tracing::warn!(%error, "could not catch up a newly assigned chat");
                }
                sent
            }
            Topic::Agents => flow(self.session.text(delivery.json.to_string()).await),
        }
    }

    async fn incoming(
        &mut self,
        message: Option<Result<AggregatedMessage, ProtocolError>>,
        limiter: &mut RateLimiter,
    ) -> Flow {
        let strikes = self.state.settings.limits.rate_strikes;
        let text = match frame_text(&mut self.session, message, limiter, strikes).await {
            Ok(text) => text,
            Err(flow) => return flow,
        };
        let frame = match AgentFrame::parse(&text) {
            Ok(frame) => frame,
            Err(error) => return flow(send_error(&mut self.session, error.code(), error.to_string()).await),
        };
        let result = self.handle(frame).await;
        match result {
            Ok(()) => Flow::Continue,
            Err(error) => {
                if let DeskError::Store(store) = &error {
                    tracing::warn!(error = %store, agent = %self.agent.id, "agent frame failed");
                }
                flow(send_error(&mut self.session, error.code(), error.to_string()).await)
            }
        }
    }

    #[tracing::instrument(name = "agent_frame", skip_all, fields(agent = %self.agent.id))]
    async fn handle(&mut self, frame: AgentFrame) -> Result<(), DeskError> {
        tracing::debug!(?frame, "frame");
        let desk = self.state.desk.clone();
        let agent = &self.agent;
        match frame {
            AgentFrame::Auth { .. } => Err(DeskError::Forbidden("already authenticated")),
            AgentFrame::Status { status } => {
                self.status = status;
                self.keep_present().await;
                Ok(desk.dispatch().refresh().await?)
            }
            AgentFrame::Accept { conversation_id } => desk.accept(agent, conversation_id).await,
            AgentFrame::Message { conversation_id, client_id, text } => {
                let seq = desk.message(agent, conversation_id, &client_id, text).await?;
                let ack = Ephemeral::Ack { client_id: client_id.as_str().to_owned(), seq };
                send(&mut self.session, &ack).await.map_err(|_| DeskError::Forbidden("socket closed"))
            }
            AgentFrame::Note { conversation_id, text } => desk.note(agent, conversation_id, text).await,
            AgentFrame::Typing { conversation_id, on } => desk.typing(agent, conversation_id, on).await,
            AgentFrame::Transfer { conversation_id, to } => desk.transfer(agent, conversation_id, to).await,
            AgentFrame::Handback { conversation_id } => desk.handback(agent, conversation_id).await,
            AgentFrame::Resolve { conversation_id } => desk.resolve(agent, conversation_id).await,
        }
    }
}

/// The conversation and newest `seq` of an `assigned` frame.
fn assigned(json: &str) -> Option<(ConversationId, u64)> {
    // Suggestions come on the same topic, one per visitor message: parse only assignments.
    if !json.starts_with(r#"{"type":"assigned""#) {
        return None;
    }
    let value: serde_json::Value = serde_json::from_str(json).ok()?;
    if value["type"] != "assigned" {
        return None;
    }
    let conversation = &value["conversation"];
    let id = serde_json::from_value(conversation["conversation_id"].clone()).ok()?;
    let last_seq =
        conversation["events"].as_array().and_then(|e| e.last()).and_then(|e| e["seq"].as_u64()).unwrap_or(0);
    Some((id, last_seq))
}

/// A `state` event that gives the conversation to someone other than `agent_id`.
fn no_longer_mine(json: &str, agent_id: &str) -> bool {
    if !json.contains("\"type\":\"state\"") {
        return false;
    }
    let Ok(value) = serde_json::from_str::<serde_json::Value>(json) else { return false };
    let state: Option<State> = serde_json::from_value(value["state"].clone()).ok();
    state != Some(State::Agent) || value["agent"]["id"] != agent_id
}
