//! The dense half of hybrid retrieval: passage vectors from an embedding model, ranked by
//! cosine similarity, fused with BM25's ranking by rank, and a confidence that reads both.
//!
//! Words alone cannot tell neighbouring topics apart ("transfer money" against a "bank
//! transfer" section) nor join synonyms ("broken kettle" and "faulty items"); an embedding
//! model's vectors carry meaning. The two rankings are fused by reciprocal rank (RRF:
//! `Σ 1 / (RRF_K + rank)`), which needs no common scale between a BM25 score and a cosine.
//!
//! The confidence is a weighted mean of the lexical confidence (`confidence`) and the best
//! passage's cosine mapped onto [0, 1] between [`Calibration::floor`] (unrelated text) and
//! [`Calibration::ceiling`] (a paraphrase). Cosines depend on the model, so those two are
//! settings (`knowledge.dense_floor`, `knowledge.dense_ceiling`); the defaults suit
//! all-MiniLM-L6-v2 and were chosen on CLINC150's training split (`examples/confidence_eval.rs
//! --train --embeddings URL`), never on its validation split.
//!
//! The vectors are computed outside this module (`bot::embeddings`), since that is network
//! work; this module is pure arithmetic over what it is given.

/// RRF's constant: how much a first place outweighs a tenth (60 is the usual choice, from
/// Cormack et al. 2009; anything from 10 to 100 ranks CLINC150 within 0.005 AUROC).
pub const RRF_K: f32 = 60.0;

/// How the best cosine becomes part of the confidence.
#[derive(Clone, Copy, Debug, PartialEq, serde::Deserialize)]
pub struct Calibration {
    /// The cosine at and below which the dense part is 0 (text about something else).
    pub floor: f32,
    /// The cosine at and above which the dense part is 1 (a paraphrase of the passage).
    pub ceiling: f32,
    /// The dense part's share of the confidence; the lexical confidence has the rest.
    pub weight: f32,
}

impl Default for Calibration {
    fn default() -> Calibration {
        Calibration { floor: 0.40, ceiling: 0.90, weight: 0.7 }
    }
}

impl Calibration {
    /// Why these values cannot calibrate anything, if they cannot.
    pub fn problem(&self) -> Option<String> {
        let in_range = |x: f32| (-1.0..=1.0).contains(&x);
        if !in_range(self.floor) || !in_range(self.ceiling) || self.floor >= self.ceiling {
            return Some(format!(
                "dense_floor ({}) must be below dense_ceiling ({}), both within -1 and 1",
                self.floor, self.ceiling
            ));
        }
        if !(0.0..=1.0).contains(&self.weight) {
            return Some(format!("dense_weight ({}) must be within 0 and 1", self.weight));
        }
        None
    }

    /// The confidence from the lexical one and the best passage's cosine, in [0, 1].
    pub fn confidence(&self, lexical: f32, best_cosine: f32) -> f32 {
        let dense = ((best_cosine - self.floor) / (self.ceiling - self.floor)).clamp(0.0, 1.0);
        (self.weight * dense + (1.0 - self.weight) * lexical).clamp(0.0, 1.0)
    }
}

/// Vectors of the passages' parts (see [`units`]), unit length, stored row after row, each
/// with the passage it belongs to.
#[derive(Clone, Debug)]
pub struct Vectors {
    dimensions: usize,
    rows: Vec<f32>,
    /// The passage of each row.
    owners: Vec<usize>,
    passages: usize,
}

impl Vectors {
    /// The vectors of `passages` passages' parts, `owners[i]` naming row `i`'s passage.
    /// `None` when they are unusable: no rows, rows of different lengths, a row of zeros or
    /// non-numbers, an owner out of range, or a passage without a row.
    pub fn new(rows: &[Vec<f32>], owners: &[usize], passages: usize) -> Option<Vectors> {
        let dimensions = rows.first()?.len();
        if owners.len() != rows.len() || owners.iter().any(|&o| o >= passages) {
            return None;
        }
        let mut seen = vec![false; passages];
        owners.iter().for_each(|&o| seen[o] = true);
        if seen.contains(&false) {
            return None;
        }
        let mut flat = Vec::with_capacity(rows.len() * dimensions);
        for row in rows {
            if row.len() != dimensions {
                return None;
            }
            flat.extend(unit(row)?);
        }
        Some(Vectors { dimensions, rows: flat, owners: owners.to_vec(), passages })
    }

    /// The number of passages.
    pub fn passages(&self) -> usize {
        self.passages
    }

    pub fn dimensions(&self) -> usize {
        self.dimensions
    }

    /// Every passage's cosine with `query` (a unit vector of the same length), in passage
    /// order: the best of its parts'. `None` when the lengths differ (a query embedded by
    /// another model).
    pub fn cosines(&self, query: &[f32]) -> Option<Vec<f32>> {
        if query.len() != self.dimensions || self.dimensions == 0 {
            return None;
        }
        let mut best = vec![f32::NEG_INFINITY; self.passages];
        for (row, &owner) in self.rows.chunks_exact(self.dimensions).zip(&self.owners) {
            best[owner] = best[owner].max(dot(row, query));
        }
        Some(best)
    }
}

/// Parts of a passage embedded beside the whole: at most this many of its sentences.
pub const MAX_SENTENCES: usize = 64;

/// Vectors one knowledge base holds at most (whole passages first, then sentences): at 384
/// dimensions 31 MB, and a search compares the question with each (about 3 ms here).
pub const MAX_UNITS: usize = 20_000;

/// Words a sentence needs to be embedded on its own.
const MIN_SENTENCE_WORDS: usize = 3;

/// What is embedded for one passage: its heading path with its text (the whole, as a model
/// cuts it), then each of its first [`MAX_SENTENCES`] sentences or lines of at least
/// three words, after the heading. A question usually restates one sentence of the page
/// ("how long do refunds take" and "Refunds reach your card within 5-10 business days"),
/// and a whole section's vector blurs its sentences together; the passage's cosine is the
/// best of its parts'.
pub fn units(title: &str, text: &str) -> Vec<String> {
    let mut units = vec![format!("{title}\n{text}")];
    let heading = title.rsplit(crate::knowledge::TITLE_SEPARATOR).next().unwrap_or(title);
    let unwrapped = unwrap_lines(text);
    let sentences = unwrapped
        .split(['\n', '.', '?', '!', '。', '？', '！'])
        .map(|s| s.trim_matches(|c: char| c.is_whitespace() || matches!(c, '-' | '*' | '#' | '>' | '|')))
        .filter(|s| s.split_whitespace().count() >= MIN_SENTENCE_WORDS);
    units.extend(sentences.take(MAX_SENTENCES).map(|sentence| format!("{heading}: {sentence}")));
    units
}

/// `vector` scaled to unit length; `None` for a zero vector or one with a non-number.
pub fn unit(vector: &[f32]) -> Option<Vec<f32>> {
    let norm = dot(vector, vector).sqrt();
    if !norm.is_finite() || norm <= f32::EPSILON {
        return None;
    }
    Some(vector.iter().map(|x| x / norm).collect())
}

/// Eight running sums, so the compiler can keep them in one SIMD register: a plain
/// `sum()` must add in order and runs several times slower.
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let (a_chunks, b_chunks) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f32 = a_chunks.remainder().iter().zip(b_chunks.remainder()).map(|(x, y)| x * y).sum();
    let mut sums = [0.0_f32; 8];
    for (x, y) in a_chunks.zip(b_chunks) {
        for lane in 0..8 {
            sums[lane] += x[lane] * y[lane];
        }
    }
    sums.iter().sum::<f32>() + tail
}

/// The passages in cosine order, best first, as (index, cosine); ties to the earlier passage.
pub fn rank(cosines: &[f32]) -> Vec<(usize, f32)> {
    let mut ranked: Vec<(usize, f32)> = cosines.iter().copied().enumerate().collect();
    ranked.sort_unstable_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    ranked
}

/// Both rankings fused by reciprocal rank, best first, at most `limit`, as (index, fused
/// score). A passage only one ranking lists gets that ranking's share alone; `dense` is
/// cut to as many places as `lexical` has, at least `limit`, so a passage that shares no
/// word with the question can win only when meaning ranks it high.
pub fn fuse(lexical: &[(usize, f32)], dense: &[(usize, f32)], limit: usize) -> Vec<(usize, f32)> {
    let depth = lexical.len().max(limit).max(1);
    let mut fused: Vec<(usize, f32)> = Vec::with_capacity(lexical.len() + depth);
    let mut add = |index: usize, rank: usize| {
        let share = 1.0 / (RRF_K + rank as f32 + 1.0);
        match fused.iter_mut().find(|(i, _)| *i == index) {
            Some(entry) => entry.1 += share,
            None => fused.push((index, share)),
        }
    };
    for (rank, &(index, _)) in lexical.iter().enumerate() {
        add(index, rank);
    }
    for (rank, &(index, _)) in dense.iter().take(depth).enumerate() {
        add(index, rank);
    }
    fused.sort_unstable_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    fused.truncate(limit);
    fused
}

/// Lines of at least this many characters that end without a stop are taken as prose
/// wrapped at a fixed width (Markdown's hard wrap), and joined with the next line.
const WRAPPED_LINE: usize = 60;

/// `text` with hard-wrapped paragraphs joined into one line each; short lines (a list of
/// questions, one per line) and lines that end a sentence stay as they are.
fn unwrap_lines(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        out.push_str(line.trim_end());
        let wrapped = line.chars().count() >= WRAPPED_LINE && !line.trim_end().ends_with(['.', '?', '!', ':', '|']);
        out.push(if wrapped { ' ' } else { '\n' });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vectors_are_stored_at_unit_length_and_compared_by_cosine() {
        let vectors = Vectors::new(&[vec![3.0, 4.0], vec![0.0, 2.0]], &[0, 1], 2).unwrap();
        let cosines = vectors.cosines(&unit(&[1.0, 0.0]).unwrap()).unwrap();
        assert!((cosines[0] - 0.6).abs() < 1e-6 && cosines[1].abs() < 1e-6, "{cosines:?}");
        assert_eq!((vectors.passages(), vectors.dimensions()), (2, 2));
    }

    #[test]
    fn the_dot_product_counts_every_entry() {
        for n in [0, 3, 8, 13, 384] {
            let a: Vec<f32> = (0..n).map(|i| i as f32).collect();
            let expected: f32 = a.iter().map(|x| x * 2.0).sum();
            assert_eq!(dot(&a, &vec![2.0; n]), expected, "{n}");
        }
    }

    #[test]
    fn a_passage_scores_its_best_part() {
        let vectors = Vectors::new(&[vec![0.0, 1.0], vec![1.0, 0.0], vec![0.6, 0.8]], &[0, 0, 1], 2).unwrap();
        assert_eq!(vectors.cosines(&[1.0, 0.0]).unwrap(), [1.0, 0.6]);
    }

    #[test]
    fn unusable_vectors_are_refused() {
        assert!(Vectors::new(&[], &[], 0).is_none());
        assert!(Vectors::new(&[vec![1.0, 0.0], vec![1.0]], &[0, 1], 2).is_none());
        assert!(Vectors::new(&[vec![0.0, 0.0]], &[0], 1).is_none());
        assert!(Vectors::new(&[vec![f32::NAN, 1.0]], &[0], 1).is_none());
        assert!(Vectors::new(&[vec![1.0, 0.0]], &[0], 2).is_none(), "a passage without a vector");
        assert!(Vectors::new(&[vec![1.0, 0.0]], &[3], 1).is_none());
        let vectors = Vectors::new(&[vec![1.0, 0.0]], &[0], 1).unwrap();
        assert!(vectors.cosines(&[1.0, 0.0, 0.0]).is_none(), "a query from another model");
    }

    #[test]
    fn a_passage_is_embedded_whole_and_by_sentence_under_its_heading() {
        let text = "Refunds reach your card in 5 days. Ask us.\n- Gift cards are refunded as credit\n\
                    A refund for an order paid in another currency is made in that\ncurrency, at the same rate.";
        let parts = units("Returns › Refunds", text);
        assert_eq!(
            parts[1..],
            [
                "Refunds: Refunds reach your card in 5 days",
                "Refunds: Gift cards are refunded as credit",
                "Refunds: A refund for an order paid in another currency is made in that currency, at the same rate",
            ]
        );
        assert_eq!(parts[0], format!("Returns › Refunds\n{text}"));
        let one_per_line = units("Balance", "what is my balance\nhow much money do i have\ntell me my balance");
        assert_eq!(one_per_line.len(), 4, "short lines are sentences of their own: {one_per_line:?}");
    }

    #[test]
    fn fusion_rewards_a_passage_both_rankings_place_high() {
        let lexical = [(0, 9.0), (1, 8.0)];
        let dense = [(2, 0.9), (1, 0.8)];
        let fused = fuse(&lexical, &dense, 3);
        assert_eq!(fused[0].0, 1, "second in both beats first in one alone: {fused:?}");
    }

    #[test]
    fn fusion_can_bring_in_a_passage_that_shares_no_word() {
        let fused = fuse(&[], &[(4, 0.8), (2, 0.3)], 1);
        assert_eq!(fused, [(4, 1.0 / (RRF_K + 1.0))]);
        let deep: Vec<(usize, f32)> = (0..50).map(|i| (i, 1.0)).collect();
        assert!(fuse(&[(0, 1.0)], &deep, 3).len() == 3);
    }

    #[test]
    fn fusion_keeps_at_most_the_limit_and_ties_go_to_the_earlier_passage() {
        let fused = fuse(&[(3, 1.0)], &[(1, 0.5)], 5);
        assert_eq!(fused.iter().map(|h| h.0).collect::<Vec<_>>(), [1, 3]);
        assert!(fuse(&[(3, 1.0)], &[(1, 0.5)], 0).is_empty());
    }

    #[test]
    fn the_confidence_reads_both_parts_and_stays_in_bounds() {
        let calibration = Calibration::default();
        let paraphrase = calibration.confidence(0.2, 0.9);
        let unrelated = calibration.confidence(0.2, 0.05);
        assert!(paraphrase > 0.7 && unrelated < 0.1, "{paraphrase} {unrelated}");
        assert!(calibration.confidence(0.9, 0.1) < calibration.confidence(0.9, 0.6));
        for (lexical, cosine) in [(0.0, -1.0), (1.0, 1.0), (2.0, 3.0)] {
            assert!((0.0..=1.0).contains(&calibration.confidence(lexical, cosine)));
        }
    }

    #[test]
    fn a_calibration_that_cannot_work_is_named() {
        assert!(Calibration::default().problem().is_none());
        assert!(Calibration { floor: 0.7, ceiling: 0.3, weight: 0.5 }.problem().is_some());
        assert!(Calibration { weight: 1.5, ..Calibration::default() }.problem().is_some());
    }
}
