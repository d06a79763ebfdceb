//! The per-site policy that turns a turn's signals into a decision, with a reason.
//!
//! Two kinds of reason. Hard ones escalate at once, because waiting would be wrong: the
//! visitor asked for a person, the turn touched a sensitive topic (its rule's priority
//! goes to the queue), the bot failed repeatedly or reached the site's turn limit, or the
//! model itself called `handoff_to_human` (recorded as `model_handoff`, with the reason
//! the model gave). Soft ones (negative sentiment or mood, low knowledge-base or
//! model confidence, a repeated question) are ambiguous: a visitor may be cross with
//! their parcel, not with the bot. So by default they first *offer* a person, once per
//! conversation, as a bot message with a quick reply, and escalate only when the
//! escalation score then rises above its value at the offer. Every decision carries its
//! reason, a readable detail with the signal values and thresholds behind it, and the
//! signals themselves, for the agent's queue and the owner's tuning.

mod config;
mod triggers;
pub mod tune;

use serde::{Deserialize, Serialize};

pub use config::{Messages, PolicyConfig, Priorities, default_topics};

use crate::signals::{Signals, SignalsError, TurnSignals};
use triggers::Trigger;

/// Why a conversation went to a person: the protocol's escalation reasons.
pub use crate::protocol::Reason;

/// What the policy remembers about one conversation; the core stores it between turns.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PolicyState {
    /// A person was offered (at most once per conversation).
    pub offered: bool,
    /// Why, and the escalation score at that moment: "worse" is measured from it.
    pub offer_reason: Option<Reason>,
    pub offer_score: f32,
}

/// The policy's verdict on one visitor turn.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum Decision {
    /// The bot answers as usual.
    Continue,
    /// The bot sends `message` with one quick reply labelled `action_label`; choosing it
    /// is the visitor's `request_human`.
    Offer { reason: Reason, message: String, action_label: String, detail: String, signals: Box<TurnSignals> },
    /// The conversation is queued for a person with this reason and priority (0 … 9);
    /// `message` is shown to the visitor, `detail` and `signals` to agents.
    Escalate { reason: Reason, priority: u8, message: String, detail: String, signals: Box<TurnSignals> },
}

/// What the bot reports about a reply, outside any visitor turn.
#[derive(Debug, Clone, Copy)]
pub enum BotEvent<'a> {
    /// A reply failed; `errors` failures so far in the conversation.
    Failed { errors: u32 },
    /// The model asked, through its handoff tool, for a person.
    AskedForPerson { why: &'a str },
}

/// An escalation the bot's report calls for.
#[derive(Debug, Clone, PartialEq)]
pub struct BotEscalation {
    pub reason: Reason,
    pub priority: u8,
    pub detail: String,
}

/// Errors in a site's `[escalation]` section.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum PolicyError {
    #[error("escalation.{name} is {value}, outside {range}")]
    OutOfRange { name: &'static str, value: f32, range: &'static str },
    #[error("escalation.priorities.{name} is {value}; priorities go from 0 to 9")]
    Priority { name: &'static str, value: u8 },
    #[error(transparent)]
    Topics(#[from] SignalsError),
}

/// One site's policy, validated, with the signal scorer built from its topic rules.
#[derive(Debug)]
pub struct Policy {
    config: PolicyConfig,
    signals: Signals,
}

impl Policy {
    /// Validates a site's configuration and compiles its topic rules.
    pub fn new(config: &PolicyConfig) -> Result<Policy, PolicyError> {
        check_range("negative_sentiment", config.negative_sentiment, -1.0, 0.0, "[-1, 0]")?;
        check_range("negative_trend", config.negative_trend, -1.0, 0.0, "[-1, 0]")?;
        check_range("low_confidence", config.low_confidence, 0.0, 1.0, "[0, 1]")?;
        check_range("worse_by", config.worse_by, 0.0, 1.0, "[0, 1]")?;
        let p = &config.priorities;
        for (name, value) in [
            ("explicit_request", p.explicit_request),
            ("negative_sentiment", p.negative_sentiment),
            ("low_confidence", p.low_confidence),
            ("repeated_question", p.repeated_question),
            ("bot_error", p.bot_error),
            ("max_turns", p.max_turns),
            ("model_handoff", p.model_handoff),
        ] {
            if value > 9 {
                return Err(PolicyError::Priority { name, value });
            }
        }
        let signals = Signals::new(&config.topics)?;
        Ok(Policy { config: config.clone(), signals })
    }

    /// The signal scorer for this site (built from its topic rules).
    pub fn signals(&self) -> &Signals {
        &self.signals
    }

    /// Decides after one visitor turn, updating the conversation's state.
    pub fn decide(&self, signals: &TurnSignals, state: &mut PolicyState) -> Decision {
        if let Some(trigger) = triggers::hard(&self.config, signals) {
            return self.escalate(trigger, signals);
        }
        let Some(trigger) = triggers::soft(&self.config, signals) else {
            return Decision::Continue;
        };
        if !self.config.offer_first {
            return self.escalate(trigger, signals);
        }
        if !state.offered {
            state.offered = true;
            state.offer_reason = Some(trigger.reason);
            state.offer_score = signals.escalation_score;
            return Decision::Offer {
                reason: trigger.reason,
                message: self.config.offer_text.clone(),
                action_label: self.config.offer_action_label.clone(),
                detail: trigger.detail,
                signals: Box::new(signals.clone()),
            };
        }
        if signals.escalation_score > state.offer_score + self.config.worse_by {
            let detail = format!(
                "{}; escalation score {:.2} rose above {:.2} at the offer",
                trigger.detail, signals.escalation_score, state.offer_score
            );
            return self.escalate(Trigger { detail, ..trigger }, signals);
        }
        Decision::Continue
    }

    /// Whether something the bot reported outside a visitor turn escalates: the same
    /// triggers, and thresholds, as [`Policy::decide`] applies to a turn.
    pub fn after_bot(&self, event: BotEvent<'_>) -> Option<BotEscalation> {
        let trigger = match event {
            BotEvent::Failed { errors } => triggers::bot_errors(&self.config, errors)?,
            BotEvent::AskedForPerson { why } => triggers::handoff_tool(&self.config, Some(why)),
        };
        Some(BotEscalation { reason: trigger.reason, priority: trigger.priority, detail: trigger.detail })
    }

    fn escalate(&self, trigger: Trigger, signals: &TurnSignals) -> Decision {
        Decision::Escalate {
            reason: trigger.reason,
            priority: trigger.priority,
            message: self.message(trigger.reason).to_string(),
            detail: trigger.detail,
            signals: Box::new(signals.clone()),
        }
    }

    /// The visitor-facing text for a reason.
    pub fn message(&self, reason: Reason) -> &str {
        let m = &self.config.messages;
        match reason {
            Reason::ExplicitRequest => &m.explicit_request,
            Reason::NegativeSentiment => &m.negative_sentiment,
            Reason::LowConfidence => &m.low_confidence,
            Reason::RepeatedQuestion => &m.repeated_question,
            Reason::Topic => &m.topic,
            Reason::BotError => &m.bot_error,
            Reason::MaxTurns => &m.max_turns,
            Reason::Transfer => &m.transfer,
            Reason::ModelHandoff => &m.model_handoff,
        }
    }
}

fn check_range(name: &'static str, value: f32, min: f32, max: f32, range: &'static str) -> Result<(), PolicyError> {
    if (min..=max).contains(&value) { Ok(()) } else { Err(PolicyError::OutOfRange { name, value, range }) }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::signals::{Role, Turn};

    pub(super) use self::support::*;

    /// Helpers the policy's tests share (here and in `triggers`).
    pub(super) mod support {
        use super::super::{Decision, Policy, PolicyConfig, PolicyState, Reason};
        use crate::signals::{Turn, TurnContext};

        pub fn policy(config: PolicyConfig) -> Policy {
            Policy::new(&config).expect("valid config")
        }

        pub fn ctx<'a>(history: &'a [Turn<'a>], text: &'a str) -> TurnContext<'a> {
            TurnContext::new(history, text)
        }

        pub fn decide(policy: &Policy, context: TurnContext, state: &mut PolicyState) -> Decision {
            let signals = policy.signals().score(&context);
            policy.decide(&signals, state)
        }

        pub fn verdict(decision: &Decision) -> Option<(Reason, bool)> {
            match decision {
                Decision::Continue => None,
                Decision::Offer { reason, .. } => Some((*reason, false)),
                Decision::Escalate { reason, .. } => Some((*reason, true)),
            }
        }
    }

    #[test]
    fn a_calm_question_continues() {
        let p = policy(PolicyConfig::default());
        let d = decide(&p, ctx(&[], "What are your opening hours?"), &mut PolicyState::default());
        assert_eq!(d, Decision::Continue);
    }

    #[test]
    fn a_person_is_offered_at_most_once_per_conversation() {
        let p = policy(PolicyConfig::default());
        let mut state = PolicyState::default();
        let first = decide(&p, ctx(&[], "this is terrible"), &mut state);
        assert_eq!(verdict(&first), Some((Reason::NegativeSentiment, false)));
        assert!(state.offered);
        let calmer = decide(&p, ctx(&[], "this is bad"), &mut state);
        assert_eq!(calmer, Decision::Continue);
    }

    #[test]
    fn after_an_offer_things_getting_worse_escalate() {
        let p = policy(PolicyConfig::default());
        let mut state = PolicyState::default();
        decide(&p, ctx(&[], "this is bad"), &mut state);
        let history =
            [Turn { role: Role::Visitor, text: "this is bad" }, Turn { role: Role::Bot, text: "Sorry, I don't know." }];
        let d = decide(&p, ctx(&history, "this is TERRIBLE, what a useless waste of time!!"), &mut state);
        let Decision::Escalate { reason, priority, detail, .. } = d else { panic!("{d:?}") };
        assert_eq!((reason, priority), (Reason::NegativeSentiment, 6));
        assert!(detail.contains("rose above"), "{detail}");
    }

    #[test]
    fn without_offer_first_soft_reasons_escalate_at_once() {
        let p = policy(PolicyConfig { offer_first: false, ..PolicyConfig::default() });
        let d = decide(&p, ctx(&[], "c'est vraiment nul et inacceptable"), &mut PolicyState::default());
        assert_eq!(verdict(&d), Some((Reason::NegativeSentiment, true)));
    }

    #[test]
    fn each_reason_has_its_configured_message() {
        let mut config = PolicyConfig::default();
        config.messages.explicit_request = "Un instant.".to_string();
        let p = policy(config);
        assert_eq!(p.message(Reason::ExplicitRequest), "Un instant.");
        assert_eq!(p.message(Reason::Transfer), Messages::default().transfer);
    }

    #[test]
    fn out_of_range_settings_are_rejected() {
        let bad = PolicyConfig { negative_sentiment: 0.5, ..PolicyConfig::default() };
        assert!(matches!(Policy::new(&bad), Err(PolicyError::OutOfRange { .. })));
        let mut bad = PolicyConfig::default();
        bad.priorities.bot_error = 10;
        assert!(matches!(Policy::new(&bad), Err(PolicyError::Priority { .. })));
    }

    #[test]
    fn decisions_and_state_serialise_with_the_protocol_names() {
        let p = policy(PolicyConfig::default());
        let mut state = PolicyState::default();
        let d = decide(&p, ctx(&[], "agent please"), &mut state);
        let json = serde_json::to_value(&d).expect("serialise");
        assert_eq!(json["decision"], "escalate");
        assert_eq!(json["reason"], "explicit_request");
        assert_eq!(json["signals"]["explicit_request"], true);
        let offered = PolicyState { offered: true, offer_reason: Some(Reason::LowConfidence), offer_score: 0.3 };
        let text = serde_json::to_string(&offered).expect("serialise");
        assert!(text.contains("low_confidence"));
        assert_eq!(serde_json::from_str::<PolicyState>(&text).expect("parse"), offered);
    }
}
