//! The model's confidence in its own reply, from token log-probabilities.
//!
//! When an OpenAI-compatible provider returns `logprobs`, the geometric mean of the
//! sampled tokens' probabilities, `exp(mean(logprob))`, is the inverse of the reply's
//! per-token perplexity: 1 when the model was sure of every token, lower when it hedged.
//! It is length-independent (a long answer is not less confident for being long) and
//! needs no calibration data, which a per-site threshold then supplies. Knowledge-base
//! coverage, the other confidence, is computed by the knowledge module and passed in.

/// Confidence in [0, 1] from the log-probabilities of a reply's tokens; `None` when
/// there are none (or none is a number), so "unknown" is never mistaken for "unsure".
pub fn model_confidence(logprobs: &[f32]) -> Option<f32> {
    let finite = logprobs.iter().filter(|l| l.is_finite() || **l == f32::NEG_INFINITY);
    let (sum, n) = finite.fold((0.0f64, 0u32), |(sum, n), l| (sum + f64::from(l.min(0.0)), n + 1));
    if n == 0 {
        return None;
    }
    let mean = sum / f64::from(n);
    Some((mean.exp() as f32).clamp(0.0, 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn certain_tokens_give_full_confidence() {
        assert_eq!(model_confidence(&[0.0, 0.0, 0.0]), Some(1.0));
    }

    #[test]
    fn hedging_tokens_lower_confidence_whatever_the_length() {
        let half = 0.5f32.ln();
        let short = model_confidence(&[half, half]).expect("tokens");
        let long = model_confidence(&[half; 40]).expect("tokens");
        assert!((short - 0.5).abs() < 1e-6 && (long - 0.5).abs() < 1e-6);
        assert!(model_confidence(&[0.0, -3.0]).expect("tokens") < 0.25);
    }

    #[test]
    fn no_tokens_or_no_numbers_mean_unknown_not_unsure() {
        assert_eq!(model_confidence(&[]), None);
        assert_eq!(model_confidence(&[f32::NAN]), None);
        assert_eq!(model_confidence(&[f32::NEG_INFINITY]), Some(0.0));
    }
}
