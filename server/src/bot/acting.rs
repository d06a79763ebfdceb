//! The model's calls of the site's actions within one reply ([`super::actions`] makes each
//! call): the arguments checked first (refused ones never reach the endpoint; the model is
//! told why), the visitor's confirmation asked first when the action says so, the progress
//! line streamed while the endpoint works, every call recorded for agents as a note, and the
//! result fed back to the model, which then writes the reply or calls again, at most
//! `actions.max_calls_per_turn` times (then it is offered no actions and must answer).
//!
//! An endpoint that fails or is too slow ends the reply: the caller tells the visitor and
//! counts a bot error. A call under way is never cut off by a takeover (it may be changing
//! something): it finishes within its timeout and is recorded, and the reply stops after it.

use std::time::Duration;

use serde_json::Value;
use tokio::sync::mpsc::Receiver;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::actions::{ActionError, Asking, check_arguments, summary};
use super::attempt::{Streamed, taken_over};
use super::reply::{BOT_STATES, Replier, Turn};
use super::{LlmError, Prompt, ToolRound};
use crate::config::ActionConfig;
use crate::delivery::{Delivery, Kind};
use crate::protocol::{Author, Ephemeral, EventBody, MAX_TEXT_CHARS};
use crate::store::{EventDraft, StoreError};
use crate::telemetry::metrics;

/// The author of the notes that record calls (agents see it in the transcript).
pub const ACTION_AUTHOR: &str = "Bot action";

/// How the model's calls in one reply ended.
pub enum Acted {
    /// The model's last request, which the reply is made of.
    Streamed(Streamed),
    /// An endpoint failed or was too slow: no reply (the caller tells the visitor).
    Failed { error: ActionError, sent_any: bool },
}

/// What came of one call.
enum Came {
    Answered(String),
    /// Not called: no such action, or arguments its schema refuses.
    Refused(String),
    /// The visitor pressed Cancel, did not answer in time, or wrote something else instead.
    Declined(&'static str),
    Failed(ActionError),
    /// A person took over or the visitor ended the chat (before or after the call).
    Gone,
}

impl Came {
    /// What the model is told.
    fn for_model(&self) -> String {
        match self {
            Came::Answered(body) => body.clone(),
            Came::Refused(why) => serde_json::json!({ "error": why, "called": false }).to_string(),
            Came::Declined(how) => serde_json::json!({ "declined": how, "called": false }).to_string(),
            Came::Failed(_) | Came::Gone => String::new(),
        }
    }

    /// The outcome label of `baton_bot_action_calls_total`, and the agents' note's words.
    fn kind(&self) -> &'static str {
        match self {
            Came::Answered(_) => "answered",
            Came::Refused(_) => "refused",
            Came::Declined(_) => "declined",
            Came::Failed(error) => error.kind(),
            Came::Gone => "gone",
        }
    }
}

impl Replier {
    /// Follows the model's calls until it writes its reply (or a call fails).
    pub(super) async fn follow_calls(
        &self,
        turn: &Turn<'_>,
        prompt: &mut Prompt,
        mut streamed: Streamed,
        cancel: &CancellationToken,
        events: &mut Receiver<Delivery>,
    ) -> Result<Acted, StoreError> {
        let mut shown = false;
        let max = self.caller.settings.max_calls_per_turn as usize;
        while prompt.rounds.len() < max {
            let Streamed::Done(progress) = &streamed else { break };
            let Some((name, arguments)) = progress.draft.action_call() else { break };
            let (name, arguments, said) = (name.to_owned(), arguments.to_owned(), progress.draft.text.clone());
            shown |= !progress.shown.is_empty();
            let came = self.call(turn, (&name, &arguments), &mut shown, cancel, events).await?;
            match came {
                Came::Failed(error) => return Ok(Acted::Failed { error, sent_any: shown }),
                Came::Gone => return Ok(Acted::Streamed(Streamed::Cancelled { sent_any: shown })),
                _ if cancel.is_cancelled() => return Ok(Acted::Streamed(Streamed::Cancelled { sent_any: shown })),
                _ => {}
            }
            let id = format!("call_{}", Uuid::new_v4().simple());
            prompt.rounds.push(ToolRound { id, name, arguments, said, result: came.for_model() });
            if prompt.rounds.len() >= max {
                prompt.tools.clear();
            }
            self.typing(turn.id, true).await?;
            let attempt = self.attempt(turn, self.llm.as_ref(), prompt);
            streamed = attempt.run(cancel, taken_over(events, BOT_STATES)).await;
        }
        Ok(Acted::Streamed(match streamed {
            Streamed::Cancelled { sent_any } => Streamed::Cancelled { sent_any: sent_any || shown },
            Streamed::Failed { error, sent_any } => Streamed::Failed { error, sent_any: sent_any || shown },
            // Offered no more actions, the model called one all the same and wrote nothing:
            // there is no reply (a failed one: the visitor is told).
            Streamed::Done(progress)
                if progress.draft.action_call().is_some() && progress.draft.text.trim().is_empty() =>
            {
                tracing::warn!(max, "the model called an action past actions.max_calls_per_turn and wrote no reply");
                Streamed::Failed { error: LlmError::Empty, sent_any: shown || !progress.shown.is_empty() }
            }
            done => done,
        }))
    }

    /// One call: checked, confirmed when the action asks, made, recorded.
    async fn call(
        &self,
        turn: &Turn<'_>,
        (name, arguments): (&str, &str),
        shown: &mut bool,
        cancel: &CancellationToken,
        events: &mut Receiver<Delivery>,
    ) -> Result<Came, StoreError> {
        let mut offered = turn.site.config.actions.iter().take(self.caller.settings.max_per_site);
        let Some(action) = offered.find(|a| a.name == name) else {
            let came = Came::Refused(format!("there is no action called {name:?}"));
            return self.record(turn, name, arguments, came).await;
        };
        let checked = match check_arguments(action, arguments) {
            Ok(checked) => checked,
            Err(why) => {
                return self.record(turn, name, arguments, Came::Refused(format!("invalid arguments: {why}"))).await;
            }
        };
        let call_id = Uuid::new_v4();
        if action.confirm {
            match self.confirm(turn, (action, call_id, &checked), cancel, events).await? {
                Answer::Confirmed => {}
                Answer::Gone => return Ok(Came::Gone),
                not => return self.record(turn, name, arguments, Came::Declined(not.declined())).await,
            }
        }
        self.show_progress(turn, action, shown).await;
        let asking =
            Asking { site: &turn.site.config.id, conversation_id: turn.id, call_id, identity: turn.identity.as_ref() };
        let came = match self.caller.call(action, &asking, &checked).await {
            Ok(body) => Came::Answered(body),
            Err(error) => {
                tracing::warn!(%error, "a bot action failed");
                Came::Failed(error)
            }
        };
        self.record(turn, name, arguments, came).await
    }

    /// Asks the visitor and waits for the answer, within `actions.confirm_timeout_secs`. A
    /// visitor who writes instead of answering has moved on: that is no Confirm. Every tab is
    /// told when the question is over.
    async fn confirm(
        &self,
        turn: &Turn<'_>,
        (action, call_id, arguments): (&ActionConfig, Uuid, &Value),
        cancel: &CancellationToken,
        events: &mut Receiver<Delivery>,
    ) -> Result<Answer, StoreError> {
        self.typing(turn.id, false).await?;
        // What was stored before the question (this reply's own notes among it) is no answer.
        while let Ok(delivery) = events.try_recv() {
            if delivery.change().is_some_and(|change| !BOT_STATES.contains(&change.state)) {
                return Ok(Answer::Gone);
            }
        }
        let summary = summary(action, arguments);
        let frame =
            Ephemeral::ConfirmAction { conversation_id: turn.id, call_id, action: action.name.clone(), summary };
        self.pubsub.publish(turn.id, &frame).await?;
        let wait = Duration::from_secs(self.caller.settings.confirm_timeout_secs);
        let answer = tokio::select! {
            _ = cancel.cancelled() => Answer::Gone,
            answer = tokio::time::timeout(wait, answer_to(events, call_id)) => answer.unwrap_or(Answer::TimedOut),
        };
        // The visitor's own answer closed the card on every tab already.
        if !matches!(answer, Answer::Confirmed | Answer::Cancelled) {
            self.pubsub.deliver(Delivery::action_answer(turn.id, call_id, false)).await?;
        }
        Ok(answer)
    }

    /// The action's progress line ("Looking up your order…"), streamed into the reply.
    async fn show_progress(&self, turn: &Turn<'_>, action: &ActionConfig, shown: &mut bool) {
        let line = action.progress.as_deref().unwrap_or(turn.progress);
        let text = format!("{}_{}_\n\n", if *shown { "\n\n" } else { "" }, line.trim());
        let delta = Ephemeral::BotDelta { conversation_id: turn.id, reply_id: turn.reply_id, text };
        *shown = true;
        // Like any delta, a lost one is only a lost preview.
        if let Err(error) = self.pubsub.publish(turn.id, &delta).await {
            tracing::debug!(%error, "action progress not published");
        }
    }

    /// The call as agents see it (a note: never the visitor), counted; returns what came.
    async fn record(&self, turn: &Turn<'_>, name: &str, arguments: &str, came: Came) -> Result<Came, StoreError> {
        metrics::bot_action(came.kind());
        let detail = match &came {
            Came::Refused(why) => format!(": {why}"),
            Came::Declined(how) => format!(": {how}"),
            Came::Failed(error) => format!(": {error}"),
            Came::Answered(_) | Came::Gone => String::new(),
        };
        let mut text = format!("{name}: {}{detail}\narguments: {}", came.kind(), arguments.trim());
        if let Came::Answered(body) = &came {
            text.push_str(&format!("\nresult: {}", body.trim()));
        }
        if let Some((cut, _)) = text.char_indices().nth(MAX_TEXT_CHARS) {
            text.truncate(cut);
            text.push('…');
        }
        let note = EventBody::Note { text, author: Author { name: ACTION_AUTHOR.into() } };
        self.log.append(turn.id, EventDraft::new(note)).await?;
        Ok(came)
    }
}

/// What the visitor did about a confirmation.
enum Answer {
    Confirmed,
    Cancelled,
    /// Something was stored meanwhile (the visitor wrote): the question is taken as dropped.
    MovedOn,
    TimedOut,
    /// The chat left the bot's hands.
    Gone,
}

impl Answer {
    /// What the model is told of an answer that is not Confirm.
    fn declined(&self) -> &'static str {
        match self {
            Answer::Cancelled => "the visitor pressed Cancel: nothing was done",
            Answer::MovedOn => "the visitor wrote something else instead of confirming: nothing was done",
            _ => "the visitor did not confirm in time: nothing was done",
        }
    }
}

/// Waits for the visitor's answer to `call_id` on the conversation's deliveries.
async fn answer_to(events: &mut Receiver<Delivery>, call_id: Uuid) -> Answer {
    while let Some(delivery) = events.recv().await {
        match &delivery.kind {
            Kind::ActionAnswer { call_id: answered, confirmed } if *answered == call_id => {
                return if *confirmed { Answer::Confirmed } else { Answer::Cancelled };
            }
            Kind::Event { change: Some(change), .. } if !BOT_STATES.contains(&change.state) => return Answer::Gone,
            Kind::Event { .. } => return Answer::MovedOn,
            _ => {}
        }
    }
    Answer::Gone
}
