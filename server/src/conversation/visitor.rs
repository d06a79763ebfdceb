//! A visitor message on its way in: stored once per `client_id` (reopening a closed chat),
//! judged and answered exactly once whichever attempt stored it, and settled in the
//! background when the store did not answer in time.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use uuid::Uuid;

use super::machine::Move;
use super::replies::{NextReply, offer};
use super::turn::{self, TurnFacts};
use super::{Conversations, Escalation, Notice, StoreError, notices};
use crate::escalation::Decision;
use crate::protocol::{ClientId, ConversationId, EventBody, Reason, Speaker, State, Text};
use crate::records::Record;
use crate::sites::Site;
use crate::store::{Appended, Counter, EventDraft};

/// Times a message to a closed chat reopens it before giving up (each time, someone closed
/// it again between the reopening and the message).
const REOPEN_ATTEMPTS: usize = 3;
/// Visitor messages being settled in the background after a store failure, at most.
const MAX_SETTLING: usize = 1024;
/// How long a message whose store outcome is unknown keeps being settled.
const SETTLE_FOR: std::time::Duration = std::time::Duration::from_secs(120);
const SETTLE_FIRST_WAIT: std::time::Duration = std::time::Duration::from_millis(250);
const SETTLE_MAX_WAIT: std::time::Duration = std::time::Duration::from_secs(4);

/// A visitor message on its way into the store, as every attempt to store it sends it.
struct VisitorTurn {
    site: Arc<Site>,
    id: ConversationId,
    dedupe: String,
    body: EventBody,
    /// Who claims its turn (the same for every attempt, so a retry keeps the claim).
    claimant: String,
}

impl Conversations {
    /// Stores the visitor's message (once per `client_id`) and returns the `seq` to ack.
    ///
    /// Every stored visitor message is judged and answered (or escalated) exactly once,
    /// whichever attempt stored it: the one that stored it, a resend that finds it stored
    /// (`Duplicate`), or, when the store did not answer in time (the script may still run
    /// once Redis is back), a background attempt that settles it ([`Conversations::settle_later`]).
    /// A turn claim in the store ([`crate::store::EventLog::claim_turn`]) picks the one.
    pub async fn visitor_message(
        &self,
        site: &Arc<Site>,
        id: ConversationId,
        client_id: &ClientId,
        text: Text,
    ) -> Result<u64, StoreError> {
        let body = EventBody::Message {
            id: Uuid::new_v4(),
            from: Speaker::Visitor,
            text: text.into_inner(),
            author: None,
            client_id: Some(client_id.as_str().to_owned()),
            sources: vec![],
            actions: vec![],
            notice: None,
        };
        let turn = Arc::new(VisitorTurn {
            site: site.clone(),
            id,
            dedupe: format!("v:{}", client_id.as_str()),
            body,
            claimant: Uuid::new_v4().to_string(),
        });
        match self.store_visitor_message(&turn).await {
            Err(StoreError::Unavailable(why)) => {
                self.settle_later(turn);
                Err(StoreError::Unavailable(why))
            }
            other => other,
        }
    }

    /// One round trip in the usual case: the message is appended unless the chat is
    /// resolved, and the append reports the state the message landed in. A message to a
    /// resolved chat reopens it first.
    async fn store_visitor_message(&self, turn: &VisitorTurn) -> Result<u64, StoreError> {
        let open = &[State::Bot, State::Queued, State::Agent];
        let (log, id) = (&self.stores.log, turn.id);
        let draft = || EventDraft::new(turn.body.clone()).dedupe(turn.dedupe.clone()).expect(open);
        let mut landed = None;
        for _ in 0..REOPEN_ATTEMPTS {
            match log.append(id, draft()).await? {
                Appended::New { event, state } => landed = Some((event.seq, state)),
                // Stored by an earlier attempt, which may not have lived to judge it.
                Appended::Duplicate { seq } => landed = Some((seq, log.state(id).await?.ok_or(StoreError::NotFound)?)),
                // A closed chat is reopened for the message; if it is closed again before the
                // message lands (an agent's or the visitor's own `end` won), it is reopened again.
                Appended::Refused { .. } => drop(self.apply(id, Move::Reopen).await?),
            }
            if landed.is_some() {
                break;
            }
        }
        let Some((seq, state)) = landed else {
            return Err(StoreError::Unavailable("the chat kept closing while this message was sent".into()));
        };
        if log.claim_turn(id, seq, &turn.claimant).await? {
            self.after_visitor_message(&turn.site, id, seq, state).await?;
        }
        Ok(seq)
    }

    /// The store did not answer about a visitor message (it may have stored it, or may yet):
    /// keep trying in the background until it answers, and judge the message if this
    /// attempt wins its turn claim. Bounded: [`MAX_SETTLING`] at once, each for [`SETTLE_FOR`].
    fn settle_later(&self, turn: Arc<VisitorTurn>) {
        if self.settling.fetch_add(1, Ordering::SeqCst) >= MAX_SETTLING {
            self.settling.fetch_sub(1, Ordering::SeqCst);
            tracing::warn!(conversation_id = %turn.id, "too many messages to settle; the client's resend will");
            return;
        }
        let this = self.clone();
        tokio::spawn(async move {
            let deadline = tokio::time::Instant::now() + SETTLE_FOR;
            let mut wait = SETTLE_FIRST_WAIT;
            loop {
                tokio::time::sleep(wait).await;
                match this.store_visitor_message(&turn).await {
                    Ok(seq) => {
                        tracing::info!(conversation_id = %turn.id, seq, "visitor message settled after a store failure");
                        break;
                    }
                    Err(StoreError::Unavailable(_)) if tokio::time::Instant::now() < deadline => {
                        wait = (wait * 2).min(SETTLE_MAX_WAIT);
                    }
                    Err(error) => {
                        tracing::warn!(conversation_id = %turn.id, %error, "visitor message not settled");
                        break;
                    }
                }
            }
            this.settling.fetch_sub(1, Ordering::SeqCst);
        });
    }

    /// Judges the new message (while the bot owns the conversation) and gets it answered.
    async fn after_visitor_message(
        &self,
        site: &Arc<Site>,
        id: ConversationId,
        seq: u64,
        state: State,
    ) -> Result<(), StoreError> {
        let next = match state {
            State::Bot => match self.judge(site, id, seq).await? {
                Some(next) => next,
                None => return Ok(()),
            },
            State::Queued if site.config.handoff.bot_while_queued => NextReply::default(),
            State::Agent => {
                if let Some(handoffs) = self.handoffs.get() {
                    handoffs.visitor_wrote(site, id);
                }
                return Ok(());
            }
            State::Queued | State::Resolved => return Ok(()),
        };
        self.request_reply(site.clone(), id, next);
        Ok(())
    }

    /// Runs the escalation policy on message `seq`: `Some(next)` when the bot answers (with
    /// the offer of a person to store after its reply, if any), `None` when the conversation
    /// went to people. An upset visitor is offered a person at once, with an apology, before
    /// any answer.
    #[tracing::instrument(level = "debug", name = "policy", skip_all, fields(conversation_id = %id, seq = seq))]
    async fn judge(&self, site: &Site, id: ConversationId, seq: u64) -> Result<Option<NextReply>, StoreError> {
        let log = &self.stores.log;
        let conversation = log.conversation(id).await?.ok_or(StoreError::NotFound)?;
        let events = log.recent_events(id, turn::HISTORY_TURNS + 1).await?;
        let Some((current, earlier)) = events.split_last().filter(|(last, _)| last.seq == seq) else {
            return Ok(Some(NextReply::default())); // another message landed first; its own turn judges the conversation
        };
        let EventBody::Message { text, .. } = &current.body else { return Ok(Some(NextReply::default())) };
        let mut state = conversation.records.policy.clone();
        let facts = TurnFacts {
            bot_errors: u32::try_from(conversation.counter(Counter::BotErrors)).unwrap_or(u32::MAX),
            model_confidence: conversation.records.model_confidence,
        };
        site.prepare_search(&[text.as_str()]).await;
        let evaluated = turn::evaluate(site, &turn::turns(earlier), text, facts, &mut state);
        let locale = conversation.visitor.locale.as_deref();
        let lang = notices::language(&site.config, locale, Some(&evaluated.signals.language));
        log.set_record(id, Record::Signals(evaluated.signals)).await?;
        if state != conversation.records.policy {
            log.set_record(id, Record::Policy(state)).await?;
        }
        Ok(match evaluated.decision {
            Decision::Continue => Some(NextReply::default()),
            // An upset visitor hears the apology and the offer first; the bot then answers
            // what it can, and says nothing more when it cannot.
            Decision::Offer { reason: Reason::NegativeSentiment, .. } => {
                let answered = earlier
                    .iter()
                    .rev()
                    .find(|e| matches!(&e.body, EventBody::Message { from, .. } if *from != Speaker::Visitor));
                let after = Some(answered.map_or(0, |e| e.seq));
                let apology = offer(site, lang, Notice::ApologyOffer);
                log.append(id, EventDraft::new(apology).expect(crate::bot::reply::BOT_STATES)).await?;
                Some(NextReply { offer: None, apologised: true, after })
            }
            // The bot still answers; the offer follows its reply.
            Decision::Offer { .. } => {
                Some(NextReply { offer: Some(offer(site, lang, Notice::Offer)), ..NextReply::default() })
            }
            Decision::Escalate { reason, priority, detail, signals, .. } => {
                self.escalate(site, id, Escalation::new(site, reason, priority, detail, Some(*signals))).await?;
                None
            }
        })
    }
}
