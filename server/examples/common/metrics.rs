//! Measures shared by the examples that train and evaluate the signals (each example is a
//! crate of its own, so they include this file with `#[path]`).

/// Area under the ROC curve (Mann–Whitney, ties count half).
pub fn auroc(scores: &[(f32, bool)]) -> f64 {
    let mut sorted = scores.to_vec();
    sorted.sort_by(|a, b| a.0.total_cmp(&b.0));
    let positives = sorted.iter().filter(|s| s.1).count() as f64;
    let negatives = sorted.len() as f64 - positives;
    let (mut rank_sum, mut i) = (0.0f64, 0);
    while i < sorted.len() {
        let j = (i..sorted.len()).find(|&j| sorted[j].0 != sorted[i].0).unwrap_or(sorted.len());
        let mean_rank = (i + 1 + j) as f64 / 2.0;
        rank_sum += mean_rank * sorted[i..j].iter().filter(|s| s.1).count() as f64;
        i = j;
    }
    (rank_sum - positives * (positives + 1.0) / 2.0) / (positives * negatives)
}

#[cfg(test)]
mod tests {
    use super::auroc;

    #[test]
    fn auroc_is_one_for_perfect_separation_and_half_for_ties() {
        assert_eq!(auroc(&[(0.9, true), (0.1, false)]), 1.0);
        assert_eq!(auroc(&[(0.1, true), (0.9, false)]), 0.0);
        assert_eq!(auroc(&[(0.5, true), (0.5, false)]), 0.5);
    }
}
