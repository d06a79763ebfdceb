//! One visitor turn through the signals and the site's escalation policy. The live server
//! and `baton signals` both call [`evaluate`], so a transcript replayed offline gets exactly
//! the decisions the server made.

use crate::escalation::{Decision, PolicyState};
use crate::protocol::{Event, EventBody, Speaker};
use crate::signals::{Role, Turn, TurnContext, TurnSignals};
use crate::sites::Site;

/// Turns of history the signals look at (the newest). Sentiment trend, repeats and the bot
/// turn count are measured within this window, which keeps a turn's cost bounded however
/// long the conversation gets.
pub const HISTORY_TURNS: usize = 100;

/// What the transcript alone does not tell about a turn.
#[derive(Debug, Clone, Copy, Default)]
pub struct TurnFacts {
    /// Failed bot replies so far in the conversation.
    pub bot_errors: u32,
    /// The model's confidence in its last reply, when the provider gave log-probabilities.
    pub model_confidence: Option<f32>,
}

pub struct Evaluated {
    pub signals: TurnSignals,
    pub decision: Decision,
}

/// Scores `text` after `history` (oldest first) and decides, updating `state`.
pub fn evaluate(site: &Site, history: &[Turn<'_>], text: &str, facts: TurnFacts, state: &mut PolicyState) -> Evaluated {
    let window = &history[history.len().saturating_sub(HISTORY_TURNS)..];
    let kb_confidence = (!site.knowledge.is_empty()).then(|| site.knowledge.search(text, 0).confidence);
    let context = TurnContext {
        kb_confidence,
        model_confidence: facts.model_confidence,
        bot_errors: facts.bot_errors,
        ..TurnContext::new(window, text)
    };
    let signals = site.policy.signals().score(&context);
    let decision = site.policy.decide(&signals, state);
    Evaluated { signals, decision }
}

/// The transcript as signal turns: messages from the visitor, the bot and agents; system
/// messages and notes are not part of the conversation with the visitor.
pub fn turns(events: &[std::sync::Arc<Event>]) -> Vec<Turn<'_>> {
    events
        .iter()
        .filter_map(|event| match &event.body {
            EventBody::Message { from, text, .. } => {
                let role = match from {
                    Speaker::Visitor => Role::Visitor,
                    Speaker::Bot => Role::Bot,
                    Speaker::Agent => Role::Agent,
                    Speaker::System => return None,
                };
                Some(Turn { role, text })
            }
            _ => None,
        })
        .collect()
}
