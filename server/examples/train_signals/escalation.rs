//! Trains the learned part of the escalation score (`signals::needs`) on MWOZ per-turn
//! satisfaction: a user turn rated ≤ 2 on average needs a person. Dialogues are split once,
//! by a hash of their index (`data::is_validation_dialogue`); cross-validation over the
//! training dialogues chooses the L2 strength; validation dialogues are only scored.

use std::path::Path;

use baton::signals::{NEEDS_FEATURES, NeedsModel, Role, Signals, SparseFeatures, Turn, TurnContext};

use crate::data::{Dialogue, is_validation_dialogue, mwoz};
use crate::linear::{Fit, train};
use crate::metrics::auroc;

const LOW_RATING: f32 = 2.0;
const MODEL_PATH: &str = "src/signals/models/escalation.json";
/// The intercept is moved so that an average turn scores this probability rather than
/// MWOZ's 0.6%: support chats reach for a person far more often than booking dialogues,
/// and the score must stay comparable with the noisy-OR priors it is combined with.
const PRIOR: f32 = 0.1;
const FOLDS: usize = 5;

struct Rated {
    dialogue: usize,
    x: [f32; 12],
    y: bool,
    /// The fixed-weight noisy-OR score (the baseline).
    noisy_or: f32,
    lexicon: f32,
}

pub fn run(dir: &Path) {
    let signals = Signals::new(&[]).expect("no topic rules");
    let dialogues = mwoz(dir);
    let rated = rate(&dialogues, &signals);
    let (train_set, val): (Vec<&Rated>, Vec<&Rated>) = rated.iter().partition(|r| !is_validation_dialogue(r.dialogue));
    let count = |s: &[&Rated]| (s.len(), s.iter().filter(|r| r.y).count());
    println!("MWOZ: train {:?}, validation {:?} (turns, low-rated)", count(&train_set), count(&val));
    let (mean, scale) = standardise(&train_set);
    let mut best = (0.0, 0.0);
    for l2 in [1e-3, 1e-2, 1e-1, 3e-1, 1.0] {
        let mut scores = Vec::new();
        for fold in 0..FOLDS {
            let (fit_on, held): (Vec<&Rated>, Vec<&Rated>) = train_set.iter().partition(|r| r.dialogue % FOLDS != fold);
            let model = fit(&fit_on, &mean, &scale, l2);
            scores.extend(held.iter().map(|r| (model.probability(&r.x), r.y)));
        }
        let a = auroc(&scores);
        println!("cv l2 {l2}: AUROC {a:.3}");
        if a > best.0 {
            best = (a, l2);
        }
    }
    let model = fit(&train_set, &mean, &scale, best.1);
    println!("chosen l2 {}; weights (per standard deviation):", best.1);
    for (name, w) in NEEDS_FEATURES.iter().zip(&model.weights) {
        println!("  {name:<22} {w:+.3}");
    }
    std::fs::write(MODEL_PATH, to_json(&model.features, &model.mean, &model.scale, &model.weights, model.bias))
        .expect("write the weights");
    println!("wrote {MODEL_PATH}");
    report(&val, &model);
}

fn rate(dialogues: &[Dialogue], signals: &Signals) -> Vec<Rated> {
    let mut out = Vec::new();
    for (d, dialogue) in dialogues.iter().enumerate() {
        let turns: Vec<Turn> = dialogue
            .iter()
            .map(|(visitor, text, _)| Turn { role: if *visitor { Role::Visitor } else { Role::Bot }, text })
            .collect();
        for (i, (visitor, text, rating)) in dialogue.iter().enumerate() {
            let (true, Some(rating)) = (visitor, rating) else { continue };
            let ctx = TurnContext::new(&turns[..i], text);
            let s = signals.score(&ctx);
            out.push(Rated {
                dialogue: d,
                x: signals.escalation_features(&ctx),
                y: *rating <= LOW_RATING,
                noisy_or: s.noisy_or_score(),
                lexicon: -baton::signals::lexicon_sentiment(text),
            });
        }
    }
    out
}

fn standardise(rows: &[&Rated]) -> (Vec<f32>, Vec<f32>) {
    let n = rows.len() as f32;
    let mean: Vec<f32> = (0..12).map(|j| rows.iter().map(|r| r.x[j]).sum::<f32>() / n).collect();
    let scale =
        (0..12).map(|j| (rows.iter().map(|r| (r.x[j] - mean[j]).powi(2)).sum::<f32>() / n).sqrt().max(1e-3)).collect();
    (mean, scale)
}

fn fit(rows: &[&Rated], mean: &[f32], scale: &[f32], l2: f32) -> NeedsModel {
    let xs: Vec<SparseFeatures> = rows
        .iter()
        .map(|r| SparseFeatures { entries: (0..12).map(|j| (j as u32, (r.x[j] - mean[j]) / scale[j])).collect() })
        .collect();
    let ys: Vec<usize> = rows.iter().map(|r| usize::from(r.y)).collect();
    let positives = ys.iter().sum::<usize>().max(1) as f32;
    let negatives = (ys.len() as f32 - positives).max(1.0);
    // Balanced classes for the fit; the intercept is re-set to the prior afterwards.
    let ws: Vec<f32> =
        ys.iter().map(|y| if *y == 1 { 0.5 / positives } else { 0.5 / negatives } * ys.len() as f32).collect();
    let refs: Vec<&SparseFeatures> = xs.iter().collect();
    let w = train(&refs, &ys, &ws, 12, 2, Fit { l2, epochs: 30, rate: 0.1 });
    let weights: Vec<f32> = (0..12).map(|j| w.w[j * 2 + 1] - w.w[j * 2]).collect();
    // Balanced weighting makes the intercept that of a 50% base rate; move it to PRIOR.
    let bias = w.b[1] - w.b[0] + (PRIOR / (1.0 - PRIOR)).ln();
    NeedsModel {
        features: NEEDS_FEATURES.iter().map(|s| s.to_string()).collect(),
        mean: mean.to_vec(),
        scale: scale.to_vec(),
        weights,
        bias,
    }
}

/// A small JSON weight file, one list per line, six decimals.
pub fn to_json(features: &[String], mean: &[f32], scale: &[f32], weights: &[f32], bias: f32) -> String {
    let list = |v: &[f32]| v.iter().map(|x| format!("{x:.6}")).collect::<Vec<_>>().join(", ");
    let names = features.iter().map(|f| format!("\"{f}\"")).collect::<Vec<_>>().join(", ");
    format!(
        "{{\n  \"features\": [{names}],\n  \"mean\": [{}],\n  \"scale\": [{}],\n  \"weights\": [{}],\n  \"bias\": {bias:.6}\n}}\n",
        list(mean),
        list(scale),
        list(weights)
    )
}

fn report(val: &[&Rated], model: &NeedsModel) {
    let learned: Vec<(f32, bool)> = val.iter().map(|r| (model.probability(&r.x), r.y)).collect();
    let noisy: Vec<(f32, bool)> = val.iter().map(|r| (r.noisy_or, r.y)).collect();
    let lexicon: Vec<(f32, bool)> = val.iter().map(|r| (r.lexicon, r.y)).collect();
    println!(
        "validation AUROC: learned {:.3}, noisy-OR (fixed weights) {:.3}, −lexicon sentiment {:.3}",
        auroc(&learned),
        auroc(&noisy),
        auroc(&lexicon)
    );
    println!("| threshold | flagged turns | precision | recall |\n|---|---|---|---|");
    let positives = learned.iter().filter(|s| s.1).count().max(1) as f32;
    for t in [0.05, 0.1, 0.2, 0.3, 0.4, 0.5] {
        let flagged: Vec<&(f32, bool)> = learned.iter().filter(|s| s.0 >= t).collect();
        let tp = flagged.iter().filter(|s| s.1).count() as f32;
        println!(
            "| {t:.2} | {} ({:.1}%) | {:.3} | {:.3} |",
            flagged.len(),
            100.0 * flagged.len() as f32 / learned.len() as f32,
            tp / flagged.len().max(1) as f32,
            tp / positives
        );
    }
}
