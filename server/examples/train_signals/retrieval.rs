//! Trains the knowledge base's confidence calibration (`knowledge::confidence`) on CLINC150
//! *train* requests only: three times, a random half of the intents becomes a knowledge
//! base (one section per intent, four fifths of its training lines); the remaining fifth
//! of a covered intent's lines are positives, a fifth of each uncovered intent's lines and
//! the out-of-scope training requests are negatives. Cross-validation across the three
//! draws chooses the L2 strength. The validation protocol of `examples/confidence_eval.rs`
//! (every other intent in sorted order, validation requests) is only scored at the end.

use std::collections::BTreeSet;
use std::path::Path;

use baton::knowledge::{CONFIDENCE_FEATURES, ConfidenceModel, Document, KnowledgeBase, KnowledgeOptions};
use baton::signals::SparseFeatures;

use crate::data::read;
use crate::linear::{Fit, Rng, auroc, train};

const MODEL_PATH: &str = "models/retrieval_confidence.json";
const DRAWS: u64 = 6;
/// Lines per section in each draw's knowledge base (0: one section per intent). Bases of
/// several shapes, so that the calibration does not learn one shape's score scale: a
/// help centre's sections are a few sentences each, CLINC's intents a hundred lines.
const SECTION_LINES: [usize; 3] = [0, 10, 3];
const N: usize = CONFIDENCE_FEATURES.len();

type Labelled = Vec<(String, String)>;

struct Query {
    draw: u64,
    x: Vec<f32>,
    y: bool,
}

fn labelled(value: &serde_json::Value) -> Labelled {
    let pairs = value.as_array().map(Vec::as_slice).unwrap_or_default();
    let text = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_owned();
    pairs.iter().map(|pair| (text(&pair[0]), text(&pair[1]))).collect()
}

fn base(lines: &[(&str, &str)], covered: &BTreeSet<&str>, section_lines: usize) -> KnowledgeBase {
    let documents = covered
        .iter()
        .map(|intent| {
            let text: Vec<&str> = lines.iter().filter(|(_, i)| i == intent).map(|(t, _)| *t).collect();
            let title = intent.replace('_', " ");
            let markdown = if section_lines == 0 {
                format!("# {title}\n\n{}\n", text.join("\n"))
            } else {
                let sections: Vec<String> = text
                    .chunks(section_lines)
                    .enumerate()
                    .map(|(k, chunk)| format!("## {title} {}\n\n{}\n", k + 1, chunk.join(". ")))
                    .collect();
                format!("# {title}\n\n{}", sections.join("\n"))
            };
            Document { path: format!("{intent}.md"), markdown }
        })
        .collect();
    KnowledgeBase::from_documents(documents, &KnowledgeOptions::default())
}

pub fn run(dir: &Path) {
    let data: serde_json::Value = serde_json::from_str(&read(&dir.join("clinc150-dev.json"))).expect("CLINC150 JSON");
    let (train_lines, oos_train) = (labelled(&data["train"]), labelled(&data["oos_train"]));
    let intents: Vec<&str> = train_lines.iter().map(|(_, i)| i.as_str()).collect::<BTreeSet<_>>().into_iter().collect();
    let mut queries = Vec::new();
    for draw in 0..DRAWS {
        let mut shuffled = intents.clone();
        Rng(0x5eed + draw * 7919).shuffle(&mut shuffled);
        let covered: BTreeSet<&str> = shuffled[..intents.len() / 2].iter().copied().collect();
        let (mut kb, mut held) = (Vec::new(), Vec::new());
        for (i, (text, intent)) in train_lines.iter().enumerate() {
            if i % 5 == draw as usize % 5 {
                held.push((text, intent))
            } else {
                kb.push((text.as_str(), intent.as_str()))
            }
        }
        let base = base(&kb, &covered, SECTION_LINES[draw as usize % SECTION_LINES.len()]);
        for (text, intent) in held {
            queries.push(Query { draw, x: base.confidence_features(text), y: covered.contains(intent.as_str()) });
        }
        for (text, _) in &oos_train {
            queries.push(Query { draw, x: base.confidence_features(text), y: false });
        }
    }
    println!("{} training queries, {} covered", queries.len(), queries.iter().filter(|q| q.y).count());
    let rows: Vec<&Query> = queries.iter().collect();
    let (mean, scale) = standardise(&rows);
    let mut best = (0.0, 0.0);
    for l2 in [1e-4, 1e-3, 1e-2, 1e-1] {
        let mut scores = Vec::new();
        for draw in 0..DRAWS {
            let (fit_on, held): (Vec<&Query>, Vec<&Query>) = rows.iter().partition(|q| q.draw != draw);
            let model = fit(&fit_on, &mean, &scale, l2);
            scores.extend(held.iter().map(|q| (model.probability(&q.x), q.y)));
        }
        let a = auroc(&scores);
        println!("cv l2 {l2}: AUROC {a:.3}");
        if a > best.0 {
            best = (a, l2);
        }
    }
    let model = fit(&rows, &mean, &scale, best.1);
    println!("chosen l2 {}; weights (per standard deviation):", best.1);
    for (name, w) in CONFIDENCE_FEATURES.iter().zip(&model.weights) {
        println!("  {name:<20} {w:+.3}");
    }
    std::fs::write(
        MODEL_PATH,
        crate::escalation::to_json(&model.features, &model.mean, &model.scale, &model.weights, model.bias),
    )
    .expect("write the calibration");
    println!("wrote {MODEL_PATH}");
    validate(&data, &model);
}

fn standardise(rows: &[&Query]) -> (Vec<f32>, Vec<f32>) {
    let n = rows.len() as f32;
    let mean: Vec<f32> = (0..N).map(|j| rows.iter().map(|r| r.x[j]).sum::<f32>() / n).collect();
    let scale =
        (0..N).map(|j| (rows.iter().map(|r| (r.x[j] - mean[j]).powi(2)).sum::<f32>() / n).sqrt().max(1e-3)).collect();
    (mean, scale)
}

fn fit(rows: &[&Query], mean: &[f32], scale: &[f32], l2: f32) -> ConfidenceModel {
    let xs: Vec<SparseFeatures> = rows
        .iter()
        .map(|r| SparseFeatures { entries: (0..N).map(|j| (j as u32, (r.x[j] - mean[j]) / scale[j])).collect() })
        .collect();
    let ys: Vec<usize> = rows.iter().map(|r| usize::from(r.y)).collect();
    let refs: Vec<&SparseFeatures> = xs.iter().collect();
    let w = train(&refs, &ys, &vec![1.0; ys.len()], N, 2, Fit { l2, epochs: 20, rate: 0.1 });

    ConfidenceModel {
        features: CONFIDENCE_FEATURES.iter().map(|s| s.to_string()).collect(),
        mean: mean.to_vec(),
        scale: scale.to_vec(),
        weights: (0..N).map(|j| w.w[j * 2 + 1] - w.w[j * 2]).collect(),
        bias: w.b[1] - w.b[0],
    }
}

/// The protocol of `examples/confidence_eval.rs`, with the model just fitted.
fn validate(data: &serde_json::Value, model: &ConfidenceModel) {
    let (train_lines, val, oos) = (labelled(&data["train"]), labelled(&data["val"]), labelled(&data["oos_val"]));
    let intents: BTreeSet<&str> = train_lines.iter().map(|(_, i)| i.as_str()).collect();
    let covered: BTreeSet<&str> = intents.iter().copied().step_by(2).collect();
    let lines: Vec<(&str, &str)> = train_lines.iter().map(|(t, i)| (t.as_str(), i.as_str())).collect();
    let base = base(&lines, &covered, 0);
    for (name, how) in [("learned", 0), ("prior", 1), ("mean", 2), ("geometric mean", 3)] {
        let score = |t: &str| {
            let x = base.confidence_features(t);
            let (l, p) = if x[0] <= 0.0 { (0.0, 0.0) } else { (model.probability(&x), x[3]) };
            [l, p, (l + p) / 2.0, (l * p).sqrt()][how]
        };
        report(name, &val, &oos, &covered, &score);
    }
}

fn report(name: &str, val: &Labelled, oos: &Labelled, covered: &BTreeSet<&str>, score: &dyn Fn(&str) -> f32) {
    let (mut cov, mut unc) = (Vec::new(), Vec::new());
    for (text, intent) in val {
        if covered.contains(intent.as_str()) { cov.push(score(text)) } else { unc.push(score(text)) }
    }
    let out: Vec<f32> = oos.iter().map(|(t, _)| score(t)).collect();
    let pairs = |neg: &[f32]| -> Vec<(f32, bool)> {
        cov.iter().map(|s| (*s, true)).chain(neg.iter().map(|s| (*s, false))).collect()
    };
    let both: Vec<f32> = unc.iter().chain(&out).copied().collect();
    println!(
        "{name}: validation AUROC (covered vs): uncovered {:.3}, out-of-scope {:.3}, both {:.3}",
        auroc(&pairs(&unc)),
        auroc(&pairs(&out)),
        auroc(&pairs(&both))
    );
}
