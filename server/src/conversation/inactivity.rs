//! The inactivity rules of a site (`[inactivity]`): who a conversation is waiting on, since
//! when, and what is due — a nudge to a visitor who went quiet, then resolving the chat; an
//! alert to the team when a chat waits on a person past the SLA. The rules are pure
//! ([`waiting`], [`next_step`]); `agents::inactivity` sweeps the conversations the store says
//! are due (`store::idle`) and acts on the step, and the moves here do the acting.
//!
//! An idle period is counted from the last message of the visitor, the bot or an agent (a
//! notice of Baton's, the nudge included, does not start a new one), so each rule runs once
//! per period: the nudge and the alert through a once-only allowance keyed by that message's
//! `seq` (every node shares it), the resolve through the state machine.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::machine::Move;
use super::{Conversations, Notice, StoreError};
use crate::config::inactivity::{MAX_INACTIVITY_SECS, SiteInactivity};
use crate::protocol::{ConversationId, Ephemeral, Event, EventBody, Speaker, State};
use crate::sites::Site;
use crate::store::Transitioned;
use crate::store::allowance::Bucket;

/// Events read back to find the last message and the last change of hands.
pub const LOOKBACK: usize = 200;

/// Who the conversation waits on, since the event numbered `seq` at `since`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Waiting {
    /// The bot or an agent wrote last.
    OnVisitor { seq: u64, since: DateTime<Utc> },
    /// Queued, or with an agent who has not answered the visitor (or not written since
    /// taking the chat).
    OnAgent { seq: u64, since: DateTime<Utc> },
    /// Resolved, or the bot is answering.
    Nobody,
}

/// What the sweep does with a conversation now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// Nothing is due until the conversation changes.
    Idle,
    /// Look again then.
    At(DateTime<Utc>),
    /// Ask the visitor whether they are still there (once for `seq`), then look again at
    /// `then` (the resolve) if set.
    Nudge {
        seq: u64,
        then: Option<DateTime<Utc>>,
    },
    Resolve,
    /// Alert the team (once for `seq`): the chat has waited this long.
    Alert {
        seq: u64,
        waited_secs: u64,
    },
}

/// The message that counts for the idle period: the visitor's, the bot's or an agent's,
/// text or file.
fn speaker(event: &Event) -> Option<Speaker> {
    match &event.body {
        EventBody::Message { from, .. } | EventBody::Attachment { from, .. } if *from != Speaker::System => Some(*from),
        _ => None,
    }
}

/// Who `events` (the newest, oldest first) of a conversation in `state` wait on.
pub fn waiting(state: State, events: &[Arc<Event>]) -> Waiting {
    let last_change = events.iter().rposition(|e| matches!(e.body, EventBody::State { .. }));
    let at = |e: &Event| (e.seq, e.at);
    let since_change = || last_change.map(|i| at(&events[i])).or_else(|| events.first().map(|e| at(e)));
    let on_agent = |(seq, since): (u64, DateTime<Utc>)| Waiting::OnAgent { seq, since };
    match state {
        State::Resolved => Waiting::Nobody,
        State::Queued => since_change().map_or(Waiting::Nobody, on_agent),
        State::Agent => {
            let after = &events[last_change.map_or(0, |i| i + 1)..];
            match after.iter().rev().find_map(|e| speaker(e).map(|s| (s, at(e)))) {
                Some((Speaker::Visitor, last)) => on_agent(last),
                Some((_, (seq, since))) => Waiting::OnVisitor { seq, since },
                None => since_change().map_or(Waiting::Nobody, on_agent),
            }
        }
        State::Bot => match events.iter().rev().find_map(|e| speaker(e).map(|s| (s, at(e)))) {
            Some((Speaker::Bot | Speaker::Agent, (seq, since))) => Waiting::OnVisitor { seq, since },
            _ => Waiting::Nobody,
        },
    }
}

fn after(since: DateTime<Utc>, secs: u64) -> DateTime<Utc> {
    since + chrono::Duration::seconds(i64::try_from(secs).unwrap_or(i64::MAX).min(MAX_INACTIVITY_SECS as i64))
}

/// What the rules ask for now (a rule set to 0 is off).
pub fn next_step(rules: &SiteInactivity, waiting: Waiting, now: DateTime<Utc>) -> Step {
    match waiting {
        Waiting::Nobody => Step::Idle,
        Waiting::OnVisitor { seq, since } => {
            let resolve = (rules.resolve_after_secs > 0).then(|| after(since, rules.resolve_after_secs));
            let nudge = (rules.nudge_after_secs > 0).then(|| after(since, rules.nudge_after_secs));
            match (nudge, resolve) {
                (_, Some(at)) if at <= now => Step::Resolve,
                (Some(at), then) if at <= now => Step::Nudge { seq, then },
                (Some(at), _) | (None, Some(at)) => Step::At(at),
                (None, None) => Step::Idle,
            }
        }
        Waiting::OnAgent { seq, since } if rules.agent_sla_secs > 0 => {
            let due = after(since, rules.agent_sla_secs);
            if due <= now {
                Step::Alert { seq, waited_secs: u64::try_from((now - since).num_seconds()).unwrap_or(0) }
            } else {
                Step::At(due)
            }
        }
        Waiting::OnAgent { .. } => Step::Idle,
    }
}

/// The once-only allowance of a rule for one idle period: full (one token) when first taken,
/// refilling only after twice the longest rule, when no period of the conversation can still
/// be open; then the store forgets it.
pub fn once(rule: &str, id: ConversationId, seq: u64) -> Bucket {
    Bucket { key: format!("idle:{rule}:{id}:{seq}"), rate: 1.0 / (2 * MAX_INACTIVITY_SECS) as f64, burst: 1 }
}

impl Conversations {
    /// Asks a visitor who went quiet whether they are still there, once for the idle period
    /// that began with event `seq`: `true` when this call asked.
    pub async fn nudge_idle(&self, site: &Site, id: ConversationId, seq: u64) -> Result<bool, StoreError> {
        if !self.stores.allowances.take(&[once("nudge", id, seq)]).await? {
            return Ok(false);
        }
        self.tell(site, id, Notice::IdleNudge, None).await?;
        crate::telemetry::metrics::idle_rule(&site.config.id, "nudge");
        Ok(true)
    }

    /// Resolves a chat left idle by its visitor with `m` (the bot's: [`Move::Lapse`]; an
    /// agent's: [`Move::Resolve`] naming them: neither leaves from `queued`), tells the visitor why and asks for a rating
    /// unless they gave one: `true` when this call resolved it.
    pub async fn resolve_idle(&self, site: &Site, id: ConversationId, m: Move) -> Result<bool, StoreError> {
        let Transitioned::Done { .. } = self.apply(id, m).await? else { return Ok(false) };
        self.tell(site, id, Notice::IdleResolved, None).await?;
        crate::telemetry::metrics::idle_rule(&site.config.id, "resolve");
        let rated = self.stores.log.conversation(id).await?.is_some_and(|c| c.records.rating.is_some());
        if !rated {
            self.stores.pubsub.publish(id, &Ephemeral::CsatRequest { conversation_id: id }).await?;
        }
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{AgentRef, Author};

    fn at(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + secs, 0).unwrap()
    }

    fn message(seq: u64, secs: i64, from: Speaker) -> Arc<Event> {
        let body = EventBody::Message {
            id: uuid::Uuid::new_v4(),
            from,
            text: "hi".into(),
            author: (from != Speaker::Visitor).then(|| Author { name: "n".into() }),
            client_id: None,
            sources: vec![],
            actions: vec![],
            notice: None,
        };
        Arc::new(Event { seq, conversation_id: ConversationId::new(), at: at(secs), body })
    }

    fn state(seq: u64, secs: i64, state: State) -> Arc<Event> {
        let agent = (state == State::Agent).then(|| AgentRef { id: "ana".into(), name: "Ana".into() });
        let body = EventBody::State { state, reason: None, agent };
        Arc::new(Event { seq, conversation_id: ConversationId::new(), at: at(secs), body })
    }

    fn rules(nudge: u64, resolve: u64, sla: u64) -> SiteInactivity {
        SiteInactivity { nudge_after_secs: nudge, resolve_after_secs: resolve, agent_sla_secs: sla }
    }

    #[test]
    fn a_bot_answer_waits_on_the_visitor_and_a_system_notice_does_not_start_a_new_period() {
        let events = [
            message(1, 0, Speaker::Bot),
            message(2, 5, Speaker::Visitor),
            message(3, 9, Speaker::Bot),
            message(4, 70, Speaker::System),
        ];
        assert_eq!(waiting(State::Bot, &events), Waiting::OnVisitor { seq: 3, since: at(9) });
        assert_eq!(waiting(State::Bot, &events[..2]), Waiting::Nobody, "the bot is answering");
        assert_eq!(waiting(State::Resolved, &events), Waiting::Nobody);
    }

    #[test]
    fn a_queued_chat_and_an_unanswered_visitor_with_an_agent_wait_on_the_agent() {
        let queued = [message(1, 0, Speaker::Bot), message(2, 5, Speaker::Visitor), state(3, 6, State::Queued)];
        assert_eq!(waiting(State::Queued, &queued), Waiting::OnAgent { seq: 3, since: at(6) });
        let mut taken = queued.to_vec();
        taken.push(state(4, 20, State::Agent));
        assert_eq!(
            waiting(State::Agent, &taken),
            Waiting::OnAgent { seq: 4, since: at(20) },
            "not written since taking"
        );
        taken.push(message(5, 30, Speaker::Agent));
        assert_eq!(waiting(State::Agent, &taken), Waiting::OnVisitor { seq: 5, since: at(30) });
        taken.push(message(6, 40, Speaker::Visitor));
        assert_eq!(waiting(State::Agent, &taken), Waiting::OnAgent { seq: 6, since: at(40) });
    }

    #[test]
    fn the_nudge_comes_first_then_the_resolve_each_at_its_time() {
        let idle = Waiting::OnVisitor { seq: 3, since: at(0) };
        let r = rules(60, 300, 0);
        assert_eq!(next_step(&r, idle, at(59)), Step::At(at(60)));
        assert_eq!(next_step(&r, idle, at(60)), Step::Nudge { seq: 3, then: Some(at(300)) });
        assert_eq!(next_step(&r, idle, at(299)), Step::Nudge { seq: 3, then: Some(at(300)) });
        assert_eq!(next_step(&r, idle, at(300)), Step::Resolve);
        assert_eq!(next_step(&rules(60, 0, 0), idle, at(61)), Step::Nudge { seq: 3, then: None });
        assert_eq!(next_step(&rules(0, 300, 0), idle, at(1)), Step::At(at(300)));
        assert_eq!(next_step(&rules(0, 0, 30), idle, at(1000)), Step::Idle, "rules off: nothing");
    }

    #[test]
    fn a_chat_waiting_on_a_person_alerts_after_the_sla_with_how_long_it_waited() {
        let wait = Waiting::OnAgent { seq: 7, since: at(100) };
        let r = rules(60, 300, 120);
        assert_eq!(next_step(&r, wait, at(219)), Step::At(at(220)));
        assert_eq!(next_step(&r, wait, at(225)), Step::Alert { seq: 7, waited_secs: 125 });
        assert_eq!(next_step(&rules(60, 300, 0), wait, at(10_000)), Step::Idle);
    }

    #[tokio::test(start_paused = true)]
    async fn each_rule_runs_once_per_idle_period_on_a_shared_store() {
        use crate::store::allowance::Allowances;
        let store = crate::store::memory::MemoryStore::new(Arc::new(|_| {}), 100, std::time::Duration::from_secs(3600));
        let id = ConversationId::new();
        assert!(store.take(&[once("nudge", id, 3)]).await.unwrap());
        tokio::time::advance(std::time::Duration::from_secs(MAX_INACTIVITY_SECS)).await;
        assert!(!store.take(&[once("nudge", id, 3)]).await.unwrap(), "once for the period that began at 3");
        assert!(store.take(&[once("nudge", id, 9)]).await.unwrap(), "a new period, a new nudge");
        assert!(store.take(&[once("sla", id, 3)]).await.unwrap(), "rules are apart");
    }
}
