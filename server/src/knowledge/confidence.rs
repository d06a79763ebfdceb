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

    /// The confidence: the geometric mean of coverage and support, in [0, 1].
    pub(crate) fn confidence(&self) -> f32 {
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
        assert_eq!(evidence(5.0, 0.0, 0.0).confidence(), 0.0);
        assert_eq!(Evidence::default().confidence(), 0.0);
        assert!(evidence(5.0, -0.0, 0.0).confidence().is_sign_positive());
    }

    #[test]
    fn a_fully_covered_strong_match_is_confident() {
        assert!(evidence(6.0, 6.0, 40.0).confidence() > 0.9);
    }

    #[test]
    fn an_unseen_word_in_the_query_lowers_coverage() {
        let all_seen = evidence(3.0, 3.0, 6.0);
        let one_unseen = evidence(3.0 + 4.0, 3.0, 6.0);
        assert!(one_unseen.coverage() < 0.5 && all_seen.coverage() == 1.0);
        assert!(one_unseen.confidence() < all_seen.confidence());
    }

    #[test]
    fn a_weak_match_of_a_common_word_is_not_confident() {
        let common_word_only = evidence(0.5, 0.5, 0.6);
        assert_eq!(common_word_only.coverage(), 1.0);
        assert!(common_word_only.confidence() < 0.3);
    }

    #[test]
    fn restating_a_heading_raises_support_but_not_coverage() {
        let plain = evidence(2.0, 2.0, 3.0);
        let restated = Evidence { heading_weight: 2.0, heading_matched_weight: 2.0, ..plain };
        assert!(restated.support() > plain.support() + 0.3);
        assert_eq!(restated.coverage(), plain.coverage());
        let uncovered = Evidence { matched_weight: 0.0, ..restated };
        assert_eq!(uncovered.confidence(), 0.0);
    }

    #[test]
    fn confidence_stays_within_bounds() {
        for (q, m, s) in [(1.0, 2.0, 1e9), (1e-9, 1e-9, 1e-9), (3.0, 1.0, 0.1)] {
            let full = Evidence { heading_weight: 1.0, heading_matched_weight: 5.0, ..evidence(q, m, s) };
            for e in [evidence(q, m, s), full] {
                assert!((0.0..=1.0).contains(&e.confidence()), "{e:?}");
            }
        }
    }
}
