//! Streaming one reply from one answerer, with its limits: a free slot at the endpoint first
//! (bounded wait, not counted against the reply), then the first piece within
//! `first_token_timeout` and each next piece within it too, and the whole reply within
//! `timeout` counted from its first piece.
//!
//! A failed attempt is retried (at most `max_retries` times, with a short backoff) only while
//! nothing has reached the visitor, so a visitor never sees a reply start twice; a 404 is
//! never retried. An empty reply, or one that only echoes the prompt, is retried once. A
//! reply that times out after it started keeps what arrived (the caller marks it cut).

use std::time::Duration;

use futures_util::StreamExt;
use tokio::time::{Instant, timeout_at};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::echo::Echo;
use super::slots::Slots;
use super::{Chunk, Draft, Llm, LlmError, Prompt};
use crate::config::LlmSettings;
use crate::delivery::Delivery;
use crate::protocol::{ConversationId, Ephemeral};
use crate::store::PubSub;
use crate::telemetry::metrics;

/// Backoff before retry n (1-based) is this times 2^(n-1).
const RETRY_BACKOFF: Duration = Duration::from_millis(200);
/// Replies that were empty (or only an echo) are asked for again this many times.
const EMPTY_RETRIES: u32 = 1;

/// A reply as it streams: the model's text, and what of it the visitor was shown.
#[derive(Default)]
pub struct Progress {
    pub draft: Draft,
    /// The text sent as `bot_delta`s so far.
    pub shown: String,
    /// The clean text stopped extending what was shown (a finished line turned out to be an
    /// echo): no more deltas; the stored message has the clean text.
    diverged: bool,
    /// The first piece came then.
    first_piece: Option<Instant>,
}

/// How an attempt at streaming ended.
pub enum Streamed {
    Done(Progress),
    Cancelled { sent_any: bool },
    Failed { error: LlmError, sent_any: bool },
}

/// One reply's streaming: to whom, with what, under which limits.
pub struct Attempt<'a> {
    pub llm: &'a dyn Llm,
    pub prompt: &'a Prompt,
    /// `None`: the answerer's words are shown as they are (the offline answerer's quotes).
    pub echo: Option<&'a Echo>,
    pub slots: &'a Slots,
    pub settings: &'a LlmSettings,
    pub pubsub: &'a dyn PubSub,
    pub id: ConversationId,
    pub reply_id: Uuid,
}

impl Attempt<'_> {
    /// Streams the reply, retrying as the module says, until done, cancelled or failed.
    pub async fn run(&self, cancel: &CancellationToken, taken_over: impl std::future::Future<Output = ()>) -> Streamed {
        tokio::pin!(taken_over);
        let (mut retries, mut empty_retries) = (0, 0);
        loop {
            let mut progress = Progress::default();
            let result = tokio::select! {
                _ = cancel.cancelled() => None,
                () = &mut taken_over => None,
                result = self.once(&mut progress) => Some(result),
            };
            let sent_any = !progress.shown.is_empty();
            let Some(result) = result else { return Streamed::Cancelled { sent_any } };
            let error = match result {
                Ok(()) if self.usable(&progress) => return Streamed::Done(progress),
                Ok(()) if sent_any || empty_retries >= EMPTY_RETRIES => {
                    if self.llm.is_model() {
                        metrics::llm_failure(LlmError::Empty.kind());
                    }
                    LlmError::Empty
                }
                Ok(()) => {
                    empty_retries += 1;
                    tracing::info!("the model's reply was empty or only an echo of its prompt; asking again");
                    continue;
                }
                // Started, then too slow: what arrived stands (marked as cut by the caller).
                Err(LlmError::Timeout) if sent_any => return Streamed::Done(progress),
                Err(error) => error,
            };
            if sent_any || !error.is_retryable() || retries >= self.settings.max_retries {
                return Streamed::Failed { error, sent_any };
            }
            retries += 1;
            tracing::info!(%error, attempt = retries, "retrying the model");
            tokio::time::sleep(RETRY_BACKOFF * 2u32.pow(retries - 1)).await;
        }
    }

    /// Something to show or act on: not empty, not only an echo of the prompt.
    fn usable(&self, progress: &Progress) -> bool {
        let draft = &progress.draft;
        if draft.handoff().is_some() || draft.action_call().is_some() {
            return true;
        }
        match self.echo {
            Some(echo) => !echo.clean(&draft.text).text.is_empty(),
            None => !draft.is_empty(),
        }
    }

    /// One request; every piece that can be shown goes out as a `bot_delta` as it arrives.
    async fn once(&self, progress: &mut Progress) -> Result<(), LlmError> {
        let model = self.llm.is_model();
        let result = self.request(progress, model).await;
        if let (true, Err(error)) = (model, &result) {
            metrics::llm_failure(error.kind());
        }
        result
    }

    /// The request itself, counted and timed when it goes to a model.
    #[tracing::instrument(level = "debug", name = "llm.request", skip_all, fields(conversation_id = %self.id, model = model))]
    async fn request(&self, progress: &mut Progress, model: bool) -> Result<(), LlmError> {
        let _slot = if model { self.slots.acquire().await? } else { None };
        let stall = self.settings.first_token_timeout();
        let whole = self.settings.timeout();
        let sent = Instant::now();
        if model {
            metrics::llm_request();
        }
        let mut stream =
            timeout_at(Instant::now() + stall, self.llm.start(self.prompt)).await.map_err(|_| LlmError::Timeout)??;
        loop {
            let mut next = Instant::now() + stall;
            if let Some(first) = progress.first_piece {
                next = next.min(first + whole);
            }
            let Some(chunk) = timeout_at(next, stream.next()).await.map_err(|_| LlmError::Timeout)? else {
                return Ok(());
            };
            match chunk? {
                Chunk::Text(piece) => {
                    if progress.first_piece.is_none() && model {
                        metrics::llm_first_token(sent.elapsed());
                    }
                    progress.first_piece.get_or_insert_with(Instant::now);
                    progress.draft.text.push_str(&piece);
                    self.show(progress).await;
                }
                other => progress.draft.absorb(other),
            }
        }
    }

    /// Sends what newly became showable.
    pub async fn show(&self, progress: &mut Progress) {
        let visible = match self.echo {
            Some(echo) => echo.visible(&progress.draft.text),
            None => progress.draft.text.clone(),
        };
        self.show_text(progress, &visible).await;
    }

    /// Sends the part of `visible` not shown yet, when it extends what was shown.
    pub async fn show_text(&self, progress: &mut Progress, visible: &str) {
        if progress.diverged {
            return;
        }
        let Some(new) = visible.strip_prefix(progress.shown.as_str()) else {
            progress.diverged = true;
            return;
        };
        if new.is_empty() {
            return;
        }
        let delta = Ephemeral::BotDelta { conversation_id: self.id, reply_id: self.reply_id, text: new.to_owned() };
        progress.shown.push_str(new);
        // A delta that cannot be published is only a lost preview: the stored message follows.
        if let Err(error) = self.pubsub.publish(self.id, &delta).await {
            tracing::debug!(%error, "bot_delta not published");
        }
    }
}

/// Returns when a stored `state` event takes the conversation out of the bot's states.
pub async fn taken_over(events: &mut tokio::sync::mpsc::Receiver<Delivery>, bot_states: &[crate::protocol::State]) {
    while let Some(delivery) = events.recv().await {
        if delivery.change().is_some_and(|change| !bot_states.contains(&change.state)) {
            return;
        }
    }
    std::future::pending::<()>().await;
}
