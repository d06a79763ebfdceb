//! Cheap, explainable signals computed on every visitor turn.
//!
//! The escalation policy (`crate::escalation`) decides; this module only measures, so
//! that every number an agent or owner sees can be traced to words in the transcript:
//! which language the turn is in, its sentiment and the mood of the conversation, whether
//! the visitor asked for a person, how well the knowledge base and the model covered the
//! turn, whether the visitor is asking again, which sensitive topic it touched, and how
//! the bot has fared so far. Everything is lexicons and counting, parsed once per process
//! (lexicons) or once per site (topic rules), so one turn costs microseconds and the
//! signals can run inline on the socket's task. `docs/escalation.md` gives the method
//! and the figures measured on public data.
//!
//! # Layout
//! - `text`: folding and tokenising; `language`: which lexicon applies.
//! - `lexicon` and `sentiment`: VADER-style sentiment and the conversation's trend.
//! - `explicit`: requests for a person; `repeat` and `markers`: asking again.
//! - `topics`: per-site sensitive topics; `confidence`: model confidence from logprobs.

mod afinn;
mod confidence;
mod detect_more;
mod explicit;
mod explicit_more;
mod features;
mod language;
mod lexicon;
mod markers;
mod model;
mod needs;
mod repeat;
mod sentiment;
mod text;
mod topics;

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

pub use confidence::model_confidence;
pub use features::{BUCKETS, DENSE, SparseFeatures};
pub use language::Lang;
pub use model::{LinearModel, ModelError, softmax};
pub use needs::{NEEDS_FEATURES, NeedsModel};
pub use topics::{TopicMatch, TopicRule};

use language::{candidates, detect};
use markers::{Marker, joined};
use text::tokenize;
use topics::CompiledTopic;

/// Who wrote a turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Visitor,
    Bot,
    Agent,
}

/// One turn of the transcript.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Turn<'a> {
    pub role: Role,
    pub text: &'a str,
}

/// Everything the signals need about the visitor turn being scored.
#[derive(Debug, Clone, Copy)]
pub struct TurnContext<'a> {
    /// The conversation before this visitor turn, oldest first.
    pub history: &'a [Turn<'a>],
    /// This visitor turn.
    pub text: &'a str,
    /// How well the site's knowledge base covers this turn, in [0, 1]; `None` without one.
    pub kb_confidence: Option<f32>,
    /// The model's confidence in its last reply (see [`model_confidence`]), when known.
    pub model_confidence: Option<f32>,
    /// Bot replies that failed so far in this conversation (timeouts, provider errors).
    pub bot_errors: u32,
    /// The model called its `handoff_to_human` tool on its last reply.
    pub handoff_tool_called: bool,
}

impl<'a> TurnContext<'a> {
    /// A turn with nothing known beyond its text and history.
    pub fn new(history: &'a [Turn<'a>], text: &'a str) -> TurnContext<'a> {
        TurnContext {
            history,
            text,
            kb_confidence: None,
            model_confidence: None,
            bot_errors: 0,
            handoff_tool_called: false,
        }
    }
}

/// The signals of one visitor turn: what the policy decides on and agents are shown.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TurnSignals {
    /// ISO 639-1 code of the turn's language, or `und`.
    pub language: String,
    /// Sentiment of this turn, −1 (angry) … 1 (delighted).
    pub sentiment: f32,
    /// Mood of the conversation: recent visitor turns, newest weighted most, −1 … 1.
    pub sentiment_trend: f32,
    /// The visitor asked for a person.
    pub explicit_request: bool,
    /// Knowledge-base coverage of this turn, 0 … 1 (`None`: the site has no KB).
    pub confidence: Option<f32>,
    /// The model's confidence from its token log-probabilities, 0 … 1.
    pub model_confidence: Option<f32>,
    /// The model asked, through its tool, to hand over.
    pub handoff_tool_called: bool,
    /// How strongly this turn repeats an earlier answered one, 0 … 1.
    pub repeat_similarity: f32,
    /// `repeat_similarity` reached [`REPEAT_THRESHOLD`].
    pub repeated_question: bool,
    /// The most urgent sensitive topic the turn touched.
    pub topic: Option<TopicMatch>,
    /// The bot's previous reply admitted it could not help ("sorry, I don't know").
    pub bot_declined: bool,
    /// Bot replies so far in the conversation.
    pub bot_turns: u32,
    /// Failed bot replies so far in the conversation.
    pub bot_errors: u32,
    /// How much this turn needs a person, 0 … 1: see [`TurnSignals::compute_score`].
    pub escalation_score: f32,
    /// The learned probability that the visitor would want a person now, from this turn's
    /// mood, shape, repeats and the bot's last reply (`needs`); `None` if no model loaded.
    #[serde(default)]
    pub needs_person: Option<f32>,
}

/// Cut points that turn a sentiment into negative / neutral / positive (for the agent
/// console's mood and for the three-class evaluation), chosen with the learned model's
/// hyper-parameters by five-fold cross-validation on the XLM-T *train* split
/// (`examples/train_signals`): the sentiment is P(positive) − P(negative), so a turn is
/// negative when the model leans to negative by a quarter.
pub const NEGATIVE_CUT: f32 = -0.25;
pub const POSITIVE_CUT: f32 = 0.3;

/// Similarity from which a turn counts as a repeated question.
pub const REPEAT_THRESHOLD: f32 = 0.5;

/// Weights of the escalation score; each is the score that its signal alone gives at
/// full strength. Set as priors (an explicit request outweighs everything, one sad word
/// does not), then checked on the first half of the MWOZ satisfaction dialogues: a grid
/// search there gained nothing on the second half, so the priors stay
/// (`docs/escalation.md`).
const W_NEGATIVE: f32 = 0.6;
const W_TREND: f32 = 0.5;
const W_REPEAT: f32 = 0.6;
const W_LOW_KB: f32 = 0.4;
const W_LOW_MODEL: f32 = 0.3;
const W_DECLINED: f32 = 0.3;
const W_BOT_ERROR: f32 = 0.3;
const W_TOPIC: f32 = 0.9;

/// Errors in a site's signal configuration.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum SignalsError {
    #[error("a topic rule has an empty name")]
    EmptyTopicName,
    #[error("topic `{topic}` has neither phrases nor patterns")]
    EmptyTopic { topic: String },
    #[error("topic `{topic}` has priority {priority}; priorities go from 0 to 9")]
    TopicPriority { topic: String, priority: u8 },
    #[error("topic `{topic}` has an invalid pattern `{pattern}`: {reason}")]
    TopicPattern { topic: String, pattern: String, reason: String },
}

/// One site's signal scorer: its compiled topic rules. Immutable, so `Send + Sync`;
/// build it once when the site's configuration loads and share it.
#[derive(Debug)]
pub struct Signals {
    topics: Vec<CompiledTopic>,
}

impl Signals {
    /// Compiles a site's topic rules.
    pub fn new(topics: &[TopicRule]) -> Result<Signals, SignalsError> {
        let topics = topics.iter().map(CompiledTopic::compile).collect::<Result<_, _>>()?;
        Ok(Signals { topics })
    }

    /// Scores one visitor turn in its conversation.
    pub fn score(&self, ctx: &TurnContext) -> TurnSignals {
        self.score_with_features(ctx).0
    }

    /// The inputs of the learned "needs a person" part, named by [`NEEDS_FEATURES`], for
    /// its trainer (`examples/train_signals`).
    pub fn escalation_features(&self, ctx: &TurnContext) -> [f32; 12] {
        self.score_with_features(ctx).1
    }

    fn score_with_features(&self, ctx: &TurnContext) -> (TurnSignals, [f32; 12]) {
        let text = features::unescape(ctx.text);
        let tokens = tokenize(&text);
        let lang = detect(&text, &tokens);
        let words = joined(&tokens);
        let more = detect_more::detect(&text);
        let past = past_visitor_turns(ctx.history);
        let sentiment = sentiment::turn_score(lang, more, &text, &tokens);
        let mut moods: Vec<f32> = past.iter().map(|p| p.sentiment).collect();
        moods.push(sentiment);
        let answered: Vec<HashSet<String>> = past.into_iter().filter(|p| p.answered).map(|p| p.terms).collect();
        let repeat_similarity = repeat::repeat_similarity(lang, &tokens, &words, &answered);
        let mut signals = TurnSignals {
            language: more.unwrap_or(lang.code()).to_string(),
            sentiment,
            sentiment_trend: sentiment::trend(&moods),
            explicit_request: explicit::is_request(&candidates(&text, &tokens), &tokens)
                || detect_more::request_language(&text, more).is_some_and(|l| explicit_more::is_request(&text, l)),
            confidence: ctx.kb_confidence.map(|c| c.clamp(0.0, 1.0)),
            model_confidence: ctx.model_confidence.map(|c| c.clamp(0.0, 1.0)),
            handoff_tool_called: ctx.handoff_tool_called,
            repeat_similarity,
            repeated_question: repeat_similarity >= REPEAT_THRESHOLD,
            topic: topics::find(&self.topics, &text, &words),
            bot_declined: last_bot_declined(ctx.history),
            bot_turns: count(ctx.history, Role::Bot),
            bot_errors: ctx.bot_errors,
            escalation_score: 0.0,
            needs_person: None,
        };
        let features = needs::NeedsInput {
            lang,
            tokens: &tokens,
            sentiment,
            lexicon_sentiment: sentiment::lexicon_turn_score(lang, more, &text, &tokens),
            trend: signals.sentiment_trend,
            repeat_similarity,
            bot_declined: signals.bot_declined,
            bot_turns: signals.bot_turns,
        }
        .features();
        signals.needs_person = needs::probability(&features);
        signals.escalation_score = signals.compute_score();
        (signals, features)
    }
}

/// The sentiment model's input for one turn, for its trainer (`examples/train_signals`).
pub fn sentiment_features(text: &str) -> SparseFeatures {
    let text = features::unescape(text);
    let tokens = tokenize(&text);
    let lang = detect(&text, &tokens);
    features::extract(lang, &tokens, sentiment::score(lang, &tokens), afinn::score(lang.code(), &text, &tokens))
}

/// The lexicon (VADER-style) sentiment of a turn alone, before the learned model.
pub fn lexicon_sentiment(text: &str) -> f32 {
    let text = features::unescape(text);
    let tokens = tokenize(&text);
    sentiment::score(detect(&text, &tokens), &tokens)
}

/// True when the shipped sentiment model loaded (it always should; a test checks it).
pub fn sentiment_model_loaded() -> bool {
    sentiment::model_loaded()
}

impl TurnSignals {
    /// A continuous "needs a person" score in [0, 1]: a noisy-OR (`1 − Π(1 − pᵢ)`) of the
    /// learned [`TurnSignals::needs_person`] and the signals the rating data cannot teach
    /// (an explicit request or handoff tool 1.0, a topic 0.9, low knowledge-base and model
    /// confidence, bot errors), so signals add up without one weak signal ever reaching
    /// what an explicit request reaches alone. Without a learned part, the fixed weights
    /// of [`TurnSignals::noisy_or_score`].
    pub fn compute_score(&self) -> f32 {
        let Some(learned) = self.needs_person else {
            return self.noisy_or_score();
        };
        let low = |c: Option<f32>| c.map_or(0.0, |c| 1.0 - c);
        let parts = [
            if self.explicit_request || self.handoff_tool_called { 1.0 } else { 0.0 },
            if self.topic.is_some() { W_TOPIC } else { 0.0 },
            learned,
            W_LOW_KB * low(self.confidence),
            W_LOW_MODEL * low(self.model_confidence),
            1.0 - (1.0 - W_BOT_ERROR).powi(self.bot_errors.min(10) as i32),
        ];
        let keep = parts.iter().map(|p| 1.0 - p.clamp(0.0, 1.0)).product::<f32>();
        (1.0 - keep).clamp(0.0, 1.0)
    }

    /// The score with every signal at a fixed prior weight (the score before the learned
    /// part; kept as the fallback and the baseline it is measured against).
    pub fn noisy_or_score(&self) -> f32 {
        let low = |c: Option<f32>| c.map_or(0.0, |c| 1.0 - c);
        let parts = [
            if self.explicit_request || self.handoff_tool_called { 1.0 } else { 0.0 },
            if self.topic.is_some() { W_TOPIC } else { 0.0 },
            W_NEGATIVE * (-self.sentiment).max(0.0),
            W_TREND * (-self.sentiment_trend).max(0.0),
            W_REPEAT * self.repeat_similarity,
            W_LOW_KB * low(self.confidence),
            W_LOW_MODEL * low(self.model_confidence),
            if self.bot_declined { W_DECLINED } else { 0.0 },
            1.0 - (1.0 - W_BOT_ERROR).powi(self.bot_errors.min(10) as i32),
        ];
        let keep = parts.iter().map(|p| 1.0 - p.clamp(0.0, 1.0)).product::<f32>();
        (1.0 - keep).clamp(0.0, 1.0)
    }
}

/// What the score needs from an earlier visitor turn.
struct PastTurn {
    sentiment: f32,
    terms: HashSet<String>,
    answered: bool,
}

/// The last few visitor turns of the history, each tokenised once.
fn past_visitor_turns(history: &[Turn]) -> Vec<PastTurn> {
    let visitor_at: Vec<usize> = (0..history.len()).filter(|i| history[*i].role == Role::Visitor).collect();
    let start = visitor_at.len().saturating_sub(sentiment::TREND_TURNS);
    visitor_at[start..]
        .iter()
        .map(|&i| {
            let text = history[i].text;
            let tokens = tokenize(text);
            let lang = detect(text, &tokens);
            PastTurn {
                sentiment: sentiment::turn_score(lang, detect_more::detect(text), text, &tokens),
                terms: repeat::content_terms(&tokens),
                answered: history[i + 1..].iter().any(|t| t.role == Role::Bot),
            }
        })
        .collect()
}

fn last_bot_declined(history: &[Turn]) -> bool {
    history.iter().rev().find(|t| t.role == Role::Bot).is_some_and(|last| is_decline(last.text))
}

/// Whether a bot reply admits it could not help ("sorry, I couldn't find …"): what the
/// `bot_declined` signal reads in the bot's last reply.
pub fn is_decline(text: &str) -> bool {
    let tokens = tokenize(text);
    markers::has(Marker::Declined, detect(text, &tokens), &joined(&tokens))
}

fn count(history: &[Turn], role: Role) -> u32 {
    history.iter().filter(|t| t.role == role).count().try_into().unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn visitor(text: &str) -> Turn<'_> {
        Turn { role: Role::Visitor, text }
    }

    fn bot(text: &str) -> Turn<'_> {
        Turn { role: Role::Bot, text }
    }

    fn score(history: &[Turn], text: &str) -> TurnSignals {
        let signals = Signals::new(&[]).expect("no rules");
        signals.score(&TurnContext::new(history, text))
    }

    #[test]
    fn a_calm_question_scores_low_on_every_signal() {
        let s = score(&[], "What are your opening hours?");
        assert_eq!(s.language, "en");
        assert!(!s.explicit_request && !s.repeated_question && s.topic.is_none());
        assert!(s.escalation_score < 0.1, "{}", s.escalation_score);
    }

    #[test]
    fn an_explicit_request_alone_saturates_the_score() {
        let s = score(&[], "agent please");
        assert!(s.explicit_request);
        assert_eq!(s.escalation_score, 1.0);
    }

    #[test]
    fn a_question_asked_again_after_an_answer_is_repeated() {
        let history = [visitor("how do I reset my password"), bot("Click 'Forgot password'.")];
        let s = score(&history, "but how do I actually reset the password??");
        assert!(s.repeated_question, "{}", s.repeat_similarity);
        assert_eq!(s.bot_turns, 1);
    }

    #[test]
    fn building_frustration_scores_higher_than_one_sharp_word() {
        let calm = [visitor("where is my parcel"), bot("It ships today.")];
        let one = score(&calm, "this is annoying");
        let tense =
            [visitor("this is annoying"), bot("Sorry, I don't know."), visitor("this is ridiculous"), bot("Sorry.")];
        let building = score(&tense, "this is annoying");
        assert!(building.sentiment_trend < one.sentiment_trend);
        assert!(building.escalation_score > one.escalation_score);
        assert!(building.bot_declined);
    }

    #[test]
    fn low_confidence_and_bot_errors_raise_the_score() {
        let signals = Signals::new(&[]).expect("no rules");
        let mut ctx = TurnContext { kb_confidence: Some(0.9), ..TurnContext::new(&[], "do you ship to Canada") };
        let sure = signals.score(&ctx).escalation_score;
        ctx.kb_confidence = Some(0.1);
        ctx.bot_errors = 2;
        let unsure = signals.score(&ctx);
        assert!(unsure.escalation_score > sure + 0.3);
        assert_eq!(unsure.confidence, Some(0.1));
    }

    #[test]
    fn signals_serialise_for_agents_and_the_replay_command() {
        let json = serde_json::to_value(score(&[], "merci")).expect("serialise");
        assert_eq!(json["language"], "fr");
        assert!(json["sentiment"].as_f64().is_some_and(|s| s > 0.0));
    }

    #[test]
    fn the_shipped_sentiment_model_loads_and_reads_mood_in_its_languages() {
        assert!(sentiment_model_loaded());
        for angry in ["This is useless, I am so angry", "C'est nul, je suis vraiment déçu", "Das ist schrecklich"] {
            assert!(score(&[], angry).sentiment < NEGATIVE_CUT, "{angry}");
        }
        for happy in ["Thanks, that was really helpful!", "Merci, c'est parfait", "Grazie mille, perfetto"] {
            assert!(score(&[], happy).sentiment > POSITIVE_CUT, "{happy}");
        }
    }

    #[test]
    fn signals_can_be_shared_between_tasks() {
        fn shared<T: Send + Sync>() {}
        shared::<Signals>();
    }
}
