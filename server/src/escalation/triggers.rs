//! Which reason fires on a turn: the hard ones that escalate at once and the soft ones
//! that offer first. Kept apart from the decision flow in `mod.rs` so each reason's
//! evidence (the readable `detail`) sits next to the threshold it compares with.

use super::{PolicyConfig, Reason};
use crate::signals::TurnSignals;

/// A reason that fired, with its priority and the evidence behind it.
pub(super) struct Trigger {
    pub reason: Reason,
    pub priority: u8,
    pub detail: String,
}

/// Reasons that escalate at once, most specific first.
pub(super) fn hard(c: &PolicyConfig, s: &TurnSignals) -> Option<Trigger> {
    let p = &c.priorities;
    if let Some(topic) = &s.topic {
        let detail = format!("topic `{}` (priority {})", topic.name, topic.priority);
        return Some(Trigger { reason: Reason::Topic, priority: topic.priority, detail });
    }
    if s.explicit_request {
        let detail = "the visitor asked for a person".to_string();
        return Some(Trigger { reason: Reason::ExplicitRequest, priority: p.explicit_request, detail });
    }
    if let Some(trigger) = bot_errors(c, s.bot_errors) {
        return Some(trigger);
    }
    if s.handoff_tool_called {
        return Some(handoff_tool(c, None));
    }
    if c.max_bot_turns > 0 && s.bot_turns >= c.max_bot_turns {
        let detail = format!("{} bot replies (limit {})", s.bot_turns, c.max_bot_turns);
        return Some(Trigger { reason: Reason::MaxTurns, priority: p.max_turns, detail });
    }
    None
}

/// Failed bot replies at or past the limit (`max_bot_errors`, 0: never).
pub(super) fn bot_errors(c: &PolicyConfig, errors: u32) -> Option<Trigger> {
    (c.max_bot_errors > 0 && errors >= c.max_bot_errors).then(|| Trigger {
        reason: Reason::BotError,
        priority: c.priorities.bot_error,
        detail: format!("{errors} failed bot replies (limit {})", c.max_bot_errors),
    })
}

/// The model called its handoff tool, with the reason it gave when it gave one.
pub(super) fn handoff_tool(c: &PolicyConfig, why: Option<&str>) -> Trigger {
    let detail = match why {
        Some(why) => format!("the model called handoff_to_human: {why}"),
        None => "the model called handoff_to_human".to_string(),
    };
    Trigger { reason: Reason::ModelHandoff, priority: c.priorities.model_handoff, detail }
}

/// Reasons that offer first (or escalate, with `offer_first = false`).
pub(super) fn soft(c: &PolicyConfig, s: &TurnSignals) -> Option<Trigger> {
    let p = &c.priorities;
    if s.sentiment <= c.negative_sentiment || s.sentiment_trend <= c.negative_trend {
        let detail = format!(
            "sentiment {:.2} (threshold {:.2}), trend {:.2} (threshold {:.2})",
            s.sentiment, c.negative_sentiment, s.sentiment_trend, c.negative_trend
        );
        return Some(Trigger { reason: Reason::NegativeSentiment, priority: p.negative_sentiment, detail });
    }
    if s.repeated_question {
        let detail = format!("repeats an answered question (similarity {:.2})", s.repeat_similarity);
        return Some(Trigger { reason: Reason::RepeatedQuestion, priority: p.repeated_question, detail });
    }
    let low = [("knowledge-base", s.confidence), ("model", s.model_confidence)]
        .into_iter()
        .find_map(|(what, value)| value.filter(|v| *v < c.low_confidence).map(|v| (what, v)));
    low.map(|(what, value)| Trigger {
        reason: Reason::LowConfidence,
        priority: p.low_confidence,
        detail: format!("{what} confidence {value:.2} (threshold {:.2})", c.low_confidence),
    })
}

#[cfg(test)]
mod tests {
    use super::super::{Decision, Messages, PolicyState};
    use super::*;
    use crate::signals::{Role, Turn};

    use super::super::tests::support::{ctx, decide, policy, verdict};

    #[test]
    fn an_explicit_request_escalates_at_once_even_when_offering_first() {
        let p = policy(PolicyConfig::default());
        let mut state = PolicyState::default();
        let d = decide(&p, ctx(&[], "quiero hablar con una persona"), &mut state);
        assert_eq!(verdict(&d), Some((Reason::ExplicitRequest, true)));
        assert!(!state.offered);
    }

    #[test]
    fn a_sensitive_topic_escalates_with_its_rule_priority() {
        let p = policy(PolicyConfig::default());
        let d = decide(&p, ctx(&[], "I am going to call my lawyer"), &mut PolicyState::default());
        let Decision::Escalate { reason, priority, message, detail, .. } = d else { panic!("{d:?}") };
        assert_eq!((reason, priority), (Reason::Topic, 8));
        assert_eq!(message, Messages::default().topic);
        assert!(detail.contains("legal"), "{detail}");
    }

    #[test]
    fn repeated_bot_errors_escalate_at_once() {
        let p = policy(PolicyConfig::default());
        let mut context = ctx(&[], "hello?");
        context.bot_errors = 2;
        let d = decide(&p, context, &mut PolicyState::default());
        assert_eq!(verdict(&d), Some((Reason::BotError, true)));
    }

    #[test]
    fn the_bots_own_reports_escalate_by_the_same_thresholds_as_a_turn() {
        let p = policy(PolicyConfig::default());
        let limit = PolicyConfig::default().max_bot_errors;
        assert_eq!(p.after_bot(super::super::BotEvent::Failed { errors: limit - 1 }), None);
        let failed = p.after_bot(super::super::BotEvent::Failed { errors: limit }).expect("at the limit");
        assert_eq!(failed.reason, Reason::BotError);
        assert!(failed.detail.contains(&format!("limit {limit}")), "{}", failed.detail);
        let never = policy(PolicyConfig { max_bot_errors: 0, ..PolicyConfig::default() });
        assert_eq!(never.after_bot(super::super::BotEvent::Failed { errors: 99 }), None);
        let asked = p.after_bot(super::super::BotEvent::AskedForPerson { why: "refund exception" }).unwrap();
        assert_eq!(asked.reason, Reason::ModelHandoff);
        assert!(asked.detail.contains("refund exception"), "{}", asked.detail);
    }

    #[test]
    fn the_bot_turn_limit_escalates() {
        let p = policy(PolicyConfig { max_bot_turns: 2, ..PolicyConfig::default() });
        let history = [Turn { role: Role::Bot, text: "Hi!" }, Turn { role: Role::Bot, text: "Yes." }];
        let d = decide(&p, ctx(&history, "and then?"), &mut PolicyState::default());
        assert_eq!(verdict(&d), Some((Reason::MaxTurns, true)));
    }

    #[test]
    fn the_handoff_tool_escalates_with_its_own_reason() {
        let p = policy(PolicyConfig::default());
        let mut context = ctx(&[], "can you change the invoice address");
        context.handoff_tool_called = true;
        let d = decide(&p, context, &mut PolicyState::default());
        assert_eq!(verdict(&d), Some((Reason::ModelHandoff, true)));
    }

    #[test]
    fn soft_reasons_offer_a_person_first() {
        let p = policy(PolicyConfig::default());
        let d = decide(&p, ctx(&[], "this is terrible and useless"), &mut PolicyState::default());
        let Decision::Offer { reason, message, action_label, .. } = d else { panic!("{d:?}") };
        assert_eq!(reason, Reason::NegativeSentiment);
        assert_eq!(message, PolicyConfig::default().offer_text);
        assert_eq!(action_label, "Talk to a person");

        let mut low = ctx(&[], "do you sell gift cards");
        low.kb_confidence = Some(0.1);
        let d = decide(&p, low, &mut PolicyState::default());
        assert_eq!(verdict(&d), Some((Reason::LowConfidence, false)));

        let history = [
            Turn { role: Role::Visitor, text: "how do I reset my password" },
            Turn { role: Role::Bot, text: "Use the link on the login page." },
        ];
        let d = decide(&p, ctx(&history, "how can I reset the password?"), &mut PolicyState::default());
        assert_eq!(verdict(&d), Some((Reason::RepeatedQuestion, false)));
    }
}
