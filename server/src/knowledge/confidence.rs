//! From a BM25 ranking to a confidence in [0, 1] that means the same for every query.
//!
//! A raw BM25 score grows with the number of query words, their rarity and repetition, so
//! a threshold on it would treat a long question and a short one differently. The
//! confidence is instead the geometric mean of two calibrated parts, both about the best
//! passage:
//!
//! - **coverage**: the IDF-weighted fraction of the query's terms that the passage
//!   contains. A term the knowledge base has never seen weighs the most (its IDF as if it
//!   occurred in no passage): "weather" and "Paris" in a shop's knowledge base are exactly
//!   the words that say the question is about something else. Stopwords never get here
//!   (see `stopwords`), and a word in most passages weighs little, so neither can make an
//!   unrelated question look covered.
//! - **support**: how strongly the passage is about the question, from two independent
//!   clues combined like probabilities (`1 - (1 - a)(1 - b)`):
//!   - *strength*, the passage's score squashed to [0, 1) as `1 - exp(-score /
//!     (STRENGTH_SCALE × max IDF))`; dividing by the largest possible IDF makes it
//!     independent of the size of the knowledge base. It keeps a question whose one
//!     informative word is common in the base from counting as covered because that word
//!     matched;
//!   - *heading match*, the IDF-weighted fraction of the passage's own heading that the
//!     query contains, times [`HEADING_SHARE`]. A question that restates a section's
//!     heading ("How do I return an item?" and "How to return an item") is answered there,
//!     even when its words are so common in a focused knowledge base that the score alone
//!     looks weak.
//!
//! Measured on CLINC150 (`examples/confidence_eval.rs`), each part helps: coverage alone
//! gives AUROC 0.73 (covered vs uncovered intents), with strength 0.78, with the heading
//! match 0.79. The best score's margin over the runner-up was tried too and was worse than
//! chance (AUROC 0.45): when a topic is well covered, its sibling sections and the chunks of
//! a long section score close together, so a small margin means "covered several times",
//! not "not covered".

use std::sync::LazyLock;

use super::bm25::K1;

/// The calibration's inputs, in the order of [`Evidence::features`] and of the weight file
/// (`server/models/retrieval_confidence.json`).
pub const CONFIDENCE_FEATURES: [&str; 12] = [
    "coverage",
    "strength",
    "heading_match",
    "prior_confidence",
    "score_vs_ideal",
    "unseen_share",
    "margin",
    "unmatched_max_idf",
    "log_query_terms",
    "matched_term_share",
    "sentence_recall",
    "sentence_precision",
];

/// A logistic calibration of the features: `sigmoid(w · (x − mean) / scale + bias)`,
/// fitted by `examples/train_signals` on CLINC150 *train* requests against knowledge
/// bases built from random halves of its intents (`server/models/README.md`).
#[derive(Debug, serde::Deserialize)]
pub struct ConfidenceModel {
    pub features: Vec<String>,
    pub mean: Vec<f32>,
    pub scale: Vec<f32>,
    pub weights: Vec<f32>,
    pub bias: f32,
}

impl ConfidenceModel {
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

/// The shipped calibration; `None` only if the file is unusable (a test rules that out),
/// and the confidence is then the geometric mean of coverage and support alone.
static MODEL: LazyLock<Option<ConfidenceModel>> = LazyLock::new(|| {
    let model: ConfidenceModel = serde_json::from_str(include_str!("../../models/retrieval_confidence.json")).ok()?;
    let fits = model.features.iter().map(String::as_str).eq(CONFIDENCE_FEATURES)
        && [&model.mean, &model.scale, &model.weights].iter().all(|v| v.len() == CONFIDENCE_FEATURES.len());
    fits.then_some(model)
});

/// Whether the shipped calibration loaded.
#[cfg(test)]
pub(crate) fn model_loaded() -> bool {
    MODEL.is_some()
}

/// Below this many passages, word rarity (IDF) is too coarse for the learned calibration,
/// which was fitted on bases of hundreds, and the prior confidence is used.
pub(crate) const MIN_CALIBRATED_PASSAGES: f32 = 10.0;

/// How many "rarest possible terms" of score make the strength reach 1 - 1/e (63%).
/// On CLINC150 anything from 1.5 to 4 is within 0.005 AUROC of the best.
pub(crate) const STRENGTH_SCALE: f32 = 3.0;

/// The most that matching a passage's whole heading adds to the support. Below 1, so that a
/// one-word question that happens to be a heading word ("times") is not fully certain.
pub(crate) const HEADING_SHARE: f32 = 0.5;

/// The weights behind one query's confidence, gathered by the ranker for its best passage.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct Evidence {
    /// The summed IDF of the query's distinct terms, terms unknown to the base included.
    pub(crate) query_weight: f32,
    /// The summed IDF of those query terms that the passage contains.
    pub(crate) matched_weight: f32,
    /// The passage's BM25 score; 0 when nothing matched.
    pub(crate) best_score: f32,
    /// The IDF of a term in no passage: the largest IDF in this knowledge base.
    pub(crate) unseen_weight: f32,
    /// The summed IDF of the distinct terms of the passage's own heading.
    pub(crate) heading_weight: f32,
    /// The summed IDF of those heading terms that the query contains.
    pub(crate) heading_matched_weight: f32,
    /// The runner-up's BM25 score; 0 when fewer than two passages matched.
    pub(crate) second_score: f32,
    /// The summed IDF of the query terms the base has never seen.
    pub(crate) unseen_query_weight: f32,
    /// The largest IDF among the query terms the best passage lacks.
    pub(crate) unmatched_max_weight: f32,
    /// Distinct query terms, and how many of them the best passage contains.
    pub(crate) query_terms: f32,
    pub(crate) matched_terms: f32,
    /// The best-matching sentence of the top passages: the IDF-weighted share of the query
    /// it contains, and the share of it that the query contains.
    pub(crate) sentence_recall: f32,
    pub(crate) sentence_precision: f32,
    /// Passages in the knowledge base.
    pub(crate) passages: f32,
}

impl Evidence {
    /// The IDF-weighted fraction of the query that the passage contains.
    pub(crate) fn coverage(&self) -> f32 {
        fraction(self.matched_weight, self.query_weight)
    }

    /// The passage's score squashed to [0, 1), relative to this base's IDF scale.
    pub(crate) fn strength(&self) -> f32 {
        if self.unseen_weight <= 0.0 || self.best_score <= 0.0 {
            return 0.0;
        }
        1.0 - (-self.best_score / (STRENGTH_SCALE * self.unseen_weight)).exp()
    }

    /// The IDF-weighted fraction of the passage's heading that the query contains.
    pub(crate) fn heading_match(&self) -> f32 {
        fraction(self.heading_matched_weight, self.heading_weight)
    }

    /// Strength and heading match, combined like independent probabilities.
    pub(crate) fn support(&self) -> f32 {
        1.0 - (1.0 - self.strength()) * (1.0 - HEADING_SHARE * self.heading_match())
    }

    /// The calibration's inputs, named by [`CONFIDENCE_FEATURES`].
    pub(crate) fn features(&self) -> [f32; 12] {
        // The most any passage could score: every query term, known or not, saturated.
        let ideal = (K1 + 1.0) * self.query_weight;
        let margin = if self.best_score > 0.0 { 1.0 - self.second_score / self.best_score } else { 0.0 };
        [
            self.coverage(),
            self.strength(),
            self.heading_match(),
            self.prior_confidence(),
            fraction(self.best_score, ideal),
            fraction(self.unseen_query_weight, self.query_weight),
            margin,
            fraction(self.unmatched_max_weight, self.unseen_weight),
            (1.0 + self.query_terms).ln(),
            fraction(self.matched_terms, self.query_terms),
            self.sentence_recall,
            self.sentence_precision,
        ]
    }

    /// The confidence in [0, 1]: the learned calibration of [`Evidence::features`], or
    /// without it the prior; 0 whenever the best passage shares nothing with the query.
    pub(crate) fn confidence(&self) -> f32 {
        if self.coverage() <= 0.0 {
            return 0.0;
        }
        match MODEL.as_ref().filter(|_| self.passages >= MIN_CALIBRATED_PASSAGES) {
            // A question that restates the best passage's own heading is answered there,
            // whatever the statistics say: in a knowledge base of prose a section's words
            // are few, so the learned part alone would doubt "How do I return an item?"
            // against "How to return an item".
            Some(model) => {
                let learned = model.probability(&self.features()).clamp(0.0, 1.0);
                let restated = HEADING_SHARE * self.heading_match() * self.coverage();
                1.0 - (1.0 - learned) * (1.0 - restated)
            }
            None => self.prior_confidence(),
        }
    }

    /// The hand-set confidence: the geometric mean of coverage and support, in [0, 1].
    pub(crate) fn prior_confidence(&self) -> f32 {
        let product = self.coverage() * self.support();
        // Not `clamp`: an empty f32 sum is -0.0, and the confidence should print as 0.
        if product > 0.0 { product.sqrt().min(1.0) } else { 0.0 }
    }
}

fn fraction(part: f32, whole: f32) -> f32 {
    if whole <= 0.0 { 0.0 } else { (part / whole).clamp(0.0, 1.0) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn evidence(query_weight: f32, matched_weight: f32, best_score: f32) -> Evidence {
        Evidence { query_weight, matched_weight, best_score, unseen_weight: 4.0, ..Evidence::default() }
    }

    #[test]
    fn nothing_matched_gives_zero() {
        assert_eq!(evidence(5.0, 0.0, 0.0).prior_confidence(), 0.0);
        assert_eq!(Evidence::default().prior_confidence(), 0.0);
        assert!(evidence(5.0, -0.0, 0.0).prior_confidence().is_sign_positive());
    }

    #[test]
    fn a_fully_covered_strong_match_is_confident() {
        assert!(evidence(6.0, 6.0, 40.0).prior_confidence() > 0.9);
    }

    #[test]
    fn an_unseen_word_in_the_query_lowers_coverage() {
        let all_seen = evidence(3.0, 3.0, 6.0);
        let one_unseen = evidence(3.0 + 4.0, 3.0, 6.0);
        assert!(one_unseen.coverage() < 0.5 && all_seen.coverage() == 1.0);
        assert!(one_unseen.prior_confidence() < all_seen.prior_confidence());
    }

    #[test]
    fn a_weak_match_of_a_common_word_is_not_confident() {
        let common_word_only = evidence(0.5, 0.5, 0.6);
        assert_eq!(common_word_only.coverage(), 1.0);
        assert!(common_word_only.prior_confidence() < 0.3);
    }

    #[test]
    fn restating_a_heading_raises_support_but_not_coverage() {
        let plain = evidence(2.0, 2.0, 3.0);
        let restated = Evidence { heading_weight: 2.0, heading_matched_weight: 2.0, ..plain };
        assert!(restated.support() > plain.support() + 0.3);
        assert_eq!(restated.coverage(), plain.coverage());
        let uncovered = Evidence { matched_weight: 0.0, ..restated };
        assert_eq!(uncovered.prior_confidence(), 0.0);
    }

    #[test]
    fn the_shipped_calibration_loads() {
        assert!(model_loaded());
    }

    #[test]
    fn the_learned_confidence_rises_with_coverage_and_stays_within_bounds() {
        let base = Evidence { unseen_weight: 6.0, passages: 200.0, query_terms: 3.0, ..Evidence::default() };
        let strong = Evidence {
            query_weight: 9.0,
            matched_weight: 9.0,
            matched_terms: 3.0,
            best_score: 30.0,
            sentence_recall: 1.0,
            sentence_precision: 0.8,
            ..base
        };
        let weak = Evidence {
            query_weight: 9.0,
            matched_weight: 2.0,
            matched_terms: 1.0,
            best_score: 3.0,
            unmatched_max_weight: 6.0,
            sentence_recall: 0.2,
            sentence_precision: 0.2,
            ..base
        };
        assert!(strong.confidence() > weak.confidence() + 0.3, "{} vs {}", strong.confidence(), weak.confidence());
        for e in [strong, weak, Evidence::default()] {
            assert!((0.0..=1.0).contains(&e.confidence()));
        }
        assert_eq!(Evidence { matched_weight: 0.0, ..strong }.confidence(), 0.0);
    }

    #[test]
    fn confidence_stays_within_bounds() {
        for (q, m, s) in [(1.0, 2.0, 1e9), (1e-9, 1e-9, 1e-9), (3.0, 1.0, 0.1)] {
            let full = Evidence { heading_weight: 1.0, heading_matched_weight: 5.0, ..evidence(q, m, s) };
            for e in [evidence(q, m, s), full] {
                assert!((0.0..=1.0).contains(&e.prior_confidence()), "{e:?}");
            }
        }
    }
}
