//! The learned part of the escalation score: how likely this turn is one where the visitor
//! would want a person, from the turn's own signals and shape, by a logistic regression
//! fitted on per-turn satisfaction ratings (MWOZ, turns rated ≤ 2; `models/README.md`).
//!
//! Only signals that the rating data contains are learned here; an explicit request, a
//! sensitive topic, bot errors and knowledge-base or model confidence stay priors in the
//! noisy-OR of [`super::TurnSignals::compute_score`], because MWOZ has (almost) none of
//! them. Features are standardised with the training split's means and deviations, which
//! the weight file carries, so the file alone defines the model.

use std::sync::LazyLock;

use serde::Deserialize;

use super::language::Lang;
use super::lexicon::{Entry, lookup};
use super::text::{Kind, Tokens};

/// The features, in the order of [`NeedsInput::features`] and of the weight file.
pub const NEEDS_FEATURES: [&str; 12] = [
    "negative_sentiment",
    "positive_sentiment",
    "negative_trend",
    "repeat_similarity",
    "bot_declined",
    "log_words",
    "question",
    "exclamation",
    "shouted",
    "starts_with_negation",
    "log_bot_turns",
    "lexicon_negative",
];

/// What the features are computed from.
pub(crate) struct NeedsInput<'a> {
    pub lang: Lang,
    pub tokens: &'a Tokens,
    pub sentiment: f32,
    pub lexicon_sentiment: f32,
    pub trend: f32,
    pub repeat_similarity: f32,
    pub bot_declined: bool,
    pub bot_turns: u32,
}

impl NeedsInput<'_> {
    pub(crate) fn features(&self) -> [f32; 12] {
        let words = self.tokens.tokens.iter().filter(|t| t.kind != Kind::Symbol).count();
        let first_negates = self
            .tokens
            .tokens
            .first()
            .is_some_and(|t| t.kind == Kind::Word && lookup(self.lang, &t.text) == Some(Entry::Negator));
        let flag = |b: bool| if b { 1.0 } else { 0.0 };
        [
            (-self.sentiment).max(0.0),
            self.sentiment.max(0.0),
            (-self.trend).max(0.0),
            self.repeat_similarity,
            flag(self.bot_declined),
            (1.0 + words as f32).ln(),
            flag(self.tokens.questions > 0),
            flag(self.tokens.exclamations > 0),
            flag(self.tokens.mixed_case && self.tokens.tokens.iter().any(|t| t.caps)),
            flag(first_negates),
            (1.0 + self.bot_turns as f32).ln(),
            (-self.lexicon_sentiment).max(0.0),
        ]
    }
}

/// The weight file (`models/escalation.json`), written by `examples/train_signals`.
#[derive(Debug, Deserialize)]
pub struct NeedsModel {
    pub features: Vec<String>,
    pub mean: Vec<f32>,
    pub scale: Vec<f32>,
    pub weights: Vec<f32>,
    pub bias: f32,
}

static MODEL: LazyLock<Option<NeedsModel>> = LazyLock::new(|| {
    let model: NeedsModel = serde_json::from_str(include_str!("models/escalation.json")).ok()?;
    let fits = model.features.iter().map(String::as_str).eq(NEEDS_FEATURES)
        && [&model.mean, &model.scale, &model.weights].iter().all(|v| v.len() == NEEDS_FEATURES.len());
    fits.then_some(model)
});

impl NeedsModel {
    /// The probability for standardised-by-the-file features.
    pub fn probability(&self, x: &[f32]) -> f32 {
        let z: f32 = x
            .iter()
            .zip(&self.mean)
            .zip(&self.scale)
            .zip(&self.weights)
            .map(|(((x, m), s), w)| w * (x - m) / s.max(1e-6))
            .sum::<f32>()
            + self.bias;
        1.0 / (1.0 + (-z).exp())
    }
}

/// The learned probability, or `None` when the shipped file is unusable (a test rules
/// that out; the score then falls back to its fixed weights).
pub(crate) fn probability(x: &[f32; 12]) -> Option<f32> {
    MODEL.as_ref().map(|m| m.probability(x))
}
