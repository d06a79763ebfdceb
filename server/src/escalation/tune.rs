//! `baton signals --tune`: per-site thresholds proposed from the agents' verdicts on past
//! escalations (the archive's verdict records), with how each change would have moved those
//! decisions.
//!
//! Each knob is a threshold on one signal value kept with the escalation (the turn's
//! [`TurnSignals`]): `negative_sentiment` (a turn at or below it is negative) and
//! `low_confidence` (confidence below it is low). A verdict says what the decision should
//! have been: "right call" and "should have come sooner" needed a person, "the bot could
//! have answered" did not. The proposal is the threshold that gets the most of those
//! decisions right, nearest the current one on a tie; "should have come sooner" cannot move
//! a threshold earlier than the turn that escalated (earlier turns' values are not kept
//! with the escalation), so those are counted apart as a hint to loosen.

use serde::Serialize;

use super::PolicyConfig;
use crate::protocol::Reason;
use crate::protocol::agent::Verdict;
use crate::signals::TurnSignals;

/// A step beyond an observed value, so a threshold can fall just either side of it.
const STEP: f32 = 0.01;

/// One judged escalation.
#[derive(Clone, Debug)]
pub struct Judged {
    pub conversation_id: String,
    pub reason: Reason,
    pub verdict: Verdict,
    pub signals: Option<TurnSignals>,
}

/// One past decision a proposal changes.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Moved {
    pub conversation_id: String,
    pub value: f32,
    pub verdict: &'static str,
    /// Whether it would still escalate under the proposal.
    pub escalates: bool,
}

/// What a knob's change would have done.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Proposal {
    pub knob: &'static str,
    pub current: f32,
    pub proposed: f32,
    /// Judged escalations of this knob's reason that carry its value.
    pub judged: usize,
    /// Decisions the verdicts call right, under the current threshold and the proposed one.
    pub right_now: usize,
    pub right_proposed: usize,
    /// "Should have come sooner" verdicts: a hint to loosen the threshold.
    pub late: usize,
    pub moved: Vec<Moved>,
}

struct Knob {
    name: &'static str,
    reason: Reason,
    current: f32,
    range: (f32, f32),
    value: fn(&TurnSignals) -> Option<f32>,
    escalates: fn(f32, f32) -> bool,
    /// The thresholds that put `value` just on each side.
    around: fn(f32) -> [f32; 2],
}

fn knobs(policy: &PolicyConfig) -> [Knob; 2] {
    [
        Knob {
            name: "negative_sentiment",
            reason: Reason::NegativeSentiment,
            current: policy.negative_sentiment,
            range: (-1.0, 0.0),
            value: |s| Some(s.sentiment),
            escalates: |value, threshold| value <= threshold,
            around: |value| [value, value - STEP],
        },
        Knob {
            name: "low_confidence",
            reason: Reason::LowConfidence,
            current: policy.low_confidence,
            range: (0.0, 1.0),
            value: |s| s.confidence.or(s.model_confidence),
            escalates: |value, threshold| value < threshold,
            around: |value| [value + STEP, value],
        },
    ]
}

fn needed_a_person(verdict: Verdict) -> bool {
    verdict != Verdict::BotCouldHaveAnswered
}

fn round(value: f32) -> f32 {
    (value * 100.0).round() / 100.0
}

/// A proposal per knob with at least one judged escalation.
pub fn propose(policy: &PolicyConfig, judged: &[Judged]) -> Vec<Proposal> {
    knobs(policy).iter().filter_map(|knob| propose_one(knob, judged)).collect()
}

fn propose_one(knob: &Knob, judged: &[Judged]) -> Option<Proposal> {
    let cases: Vec<(&Judged, f32)> = judged
        .iter()
        .filter(|j| j.reason == knob.reason)
        .filter_map(|j| j.signals.as_ref().and_then(knob.value).map(|v| (j, v)))
        .collect();
    if cases.is_empty() {
        return None;
    }
    let right = |threshold: f32| {
        cases.iter().filter(|(j, v)| (knob.escalates)(*v, threshold) == needed_a_person(j.verdict)).count()
    };
    let mut candidates: Vec<f32> = cases.iter().flat_map(|(_, v)| (knob.around)(*v)).map(round).collect();
    candidates.push(knob.current);
    let (low, high) = knob.range;
    let distance = |t: f32| (t - knob.current).abs();
    let proposed = candidates
        .into_iter()
        .map(|t| t.clamp(low, high))
        .max_by(|a, b| right(*a).cmp(&right(*b)).then(distance(*b).total_cmp(&distance(*a))))
        .unwrap_or(knob.current);
    let moved = cases
        .iter()
        .filter(|(_, v)| (knob.escalates)(*v, knob.current) != (knob.escalates)(*v, proposed))
        .map(|(j, v)| Moved {
            conversation_id: j.conversation_id.clone(),
            value: *v,
            verdict: j.verdict.name(),
            escalates: (knob.escalates)(*v, proposed),
        })
        .collect();
    Some(Proposal {
        knob: knob.name,
        current: knob.current,
        proposed,
        judged: cases.len(),
        right_now: right(knob.current),
        right_proposed: right(proposed),
        late: cases.iter().filter(|(j, _)| j.verdict == Verdict::ShouldHaveComeSooner).count(),
        moved,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn judged(reason: Reason, verdict: Verdict, sentiment: f32, confidence: Option<f32>) -> Judged {
        let signals = TurnSignals { sentiment, confidence, ..TurnSignals::default() };
        Judged { conversation_id: format!("{sentiment}"), reason, verdict, signals: Some(signals) }
    }

    #[test]
    fn a_threshold_that_escalated_chats_the_bot_could_answer_is_tightened_past_them() {
        let policy = PolicyConfig { negative_sentiment: -0.5, ..PolicyConfig::default() };
        let cases = [
            judged(Reason::NegativeSentiment, Verdict::BotCouldHaveAnswered, -0.55, None),
            judged(Reason::NegativeSentiment, Verdict::BotCouldHaveAnswered, -0.6, None),
            judged(Reason::NegativeSentiment, Verdict::RightCall, -0.8, None),
            judged(Reason::NegativeSentiment, Verdict::ShouldHaveComeSooner, -0.9, None),
        ];
        let proposals = propose(&policy, &cases);
        let p = &proposals[0];
        assert_eq!((p.knob, p.judged, p.right_now, p.right_proposed, p.late), ("negative_sentiment", 4, 2, 4, 1));
        assert_eq!(p.proposed, -0.61, "just past the nearest chat the bot could have answered");
        let moved: Vec<_> = p.moved.iter().map(|m| (m.value, m.escalates)).collect();
        assert_eq!(moved, [(-0.55, false), (-0.6, false)]);
    }

    #[test]
    fn verdicts_that_agree_with_the_policy_keep_the_threshold() {
        let policy = PolicyConfig { low_confidence: 0.3, ..PolicyConfig::default() };
        let cases = [
            judged(Reason::LowConfidence, Verdict::RightCall, 0.0, Some(0.1)),
            judged(Reason::LowConfidence, Verdict::RightCall, 0.0, Some(0.25)),
            judged(Reason::NegativeSentiment, Verdict::BotCouldHaveAnswered, -0.9, None),
        ];
        let low = propose(&policy, &cases).into_iter().find(|p| p.knob == "low_confidence").unwrap();
        assert_eq!((low.proposed, low.right_now, low.moved.len()), (0.3, 2, 0));
    }

    #[test]
    fn a_confidence_threshold_that_missed_right_calls_is_loosened_to_take_them() {
        let policy = PolicyConfig { low_confidence: 0.3, ..PolicyConfig::default() };
        // Escalated for low confidence under an earlier, looser setting, and judged right.
        let cases = [
            judged(Reason::LowConfidence, Verdict::RightCall, 0.0, Some(0.35)),
            judged(Reason::LowConfidence, Verdict::BotCouldHaveAnswered, 0.0, Some(0.5)),
        ];
        let p = propose(&policy, &cases).remove(0);
        assert_eq!((p.proposed, p.right_now, p.right_proposed), (0.36, 1, 2));
        assert_eq!(
            p.moved,
            [Moved { conversation_id: "0".into(), value: 0.35, verdict: "right_call", escalates: true }]
        );
    }
}
