//! Measures how well the knowledge base's retrieval confidence separates questions it
//! covers from questions it does not, on CLINC150 (see `shared/data/README.md`).
//!
//! Every other intent (in sorted order) becomes one document whose text is that intent's
//! training requests; the others are left out. Then the validation requests are searched:
//! those of covered intents should score high, those of uncovered intents and the
//! out-of-scope ones low. Printed: AUROC for covered vs uncovered and covered vs
//! out-of-scope, the threshold with the best F1 (answer when confidence ≥ threshold), and
//! the mean time per search. If the demo site's knowledge base is found, a few questions
//! against it are printed too.
//!
//! Run from the repository: `cargo run --release --example confidence_eval [PATH]`, where
//! PATH defaults to `shared/data/clinc150-dev.json` beside the repository.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Instant;

use baton::knowledge::{Document, KnowledgeBase, KnowledgeOptions};

/// (request, intent) pairs.
type Labelled = Vec<(String, String)>;

/// Confidences of the three groups of validation requests.
struct Scores {
    covered: Vec<f32>,
    uncovered: Vec<f32>,
    out_of_scope: Vec<f32>,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let tune = args.iter().any(|a| a == "--train");
    let path = args.iter().find(|a| !a.starts_with("--")).map(PathBuf::from).unwrap_or_else(default_data_path);
    let json = std::fs::read_to_string(&path).map_err(|e| format!("Failed to read {}: {e}", path.display()))?;
    let data: serde_json::Value = serde_json::from_str(&json)?;
    let (train, val, oos) = match tune {
        // Tuning: the base from four fifths of the training lines, queries from the rest
        // and the out-of-scope training requests; the validation split is not read.
        true => {
            let all = labelled(&data["train"]);
            let (held, kept): (Vec<_>, Vec<_>) = all.into_iter().enumerate().partition(|(i, _)| i % 5 == 0);
            let strip = |v: Vec<(usize, (String, String))>| v.into_iter().map(|(_, pair)| pair).collect::<Labelled>();
            (strip(kept), strip(held), labelled(&data["oos_train"]))
        }
        false => (labelled(&data["train"]), labelled(&data["val"]), labelled(&data["oos_val"])),
    };
    println!(
        "split: {}",
        if tune { "train (tuning: 4/5 of train as the base, 1/5 and oos_train as queries)" } else { "validation" }
    );
    let intents: BTreeSet<&str> = train.iter().map(|(_, intent)| intent.as_str()).collect();
    let covered: BTreeSet<&str> = intents.iter().copied().step_by(2).collect();
    let base = KnowledgeBase::from_documents(documents(&train, &covered), &KnowledgeOptions::default());
    println!("{} intents, {} covered, {} passages", intents.len(), covered.len(), base.len());

    let started = Instant::now();
    let scores = score(&base, &val, &oos, &covered);
    let searches = val.len() + oos.len();
    let micros = started.elapsed().as_secs_f64() * 1e6 / searches as f64;

    print_thresholds(&scores);
    println!("mean search time: {micros:.1} µs over {searches} searches");
    print_demo();
    Ok(())
}

fn default_data_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/clinc150-dev.json")
}

fn labelled(value: &serde_json::Value) -> Labelled {
    let pairs = value.as_array().map(Vec::as_slice).unwrap_or_default();
    let text = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_owned();
    pairs.iter().map(|pair| (text(&pair[0]), text(&pair[1]))).collect()
}

/// One document per covered intent: its name as the title, its requests as the text.
fn documents(train: &Labelled, covered: &BTreeSet<&str>) -> Vec<Document> {
    let documents = covered.iter().map(|intent| {
        let lines: Vec<&str> = train.iter().filter(|(_, i)| i == intent).map(|(t, _)| t.as_str()).collect();
        let markdown = format!("# {}\n\n{}\n", intent.replace('_', " "), lines.join("\n"));
        Document { path: format!("{intent}.md"), markdown }
    });
    documents.collect()
}

fn score(base: &KnowledgeBase, val: &Labelled, oos: &Labelled, covered: &BTreeSet<&str>) -> Scores {
    let mut scores = Scores { covered: Vec::new(), uncovered: Vec::new(), out_of_scope: Vec::new() };
    for (text, intent) in val {
        let confidence = base.search(text, 3).confidence;
        match covered.contains(intent.as_str()) {
            true => scores.covered.push(confidence),
            false => scores.uncovered.push(confidence),
        }
    }
    scores.out_of_scope = oos.iter().map(|(text, _)| base.search(text, 3).confidence).collect();
    scores
}

/// The probability that a random positive outscores a random negative (ties count half),
/// from the Mann-Whitney rank sum with tied values given their average rank.
fn auroc(positives: &[f32], negatives: &[f32]) -> f64 {
    if positives.is_empty() || negatives.is_empty() {
        return f64::NAN;
    }
    let mut all: Vec<(f32, bool)> = positives.iter().map(|&v| (v, true)).collect();
    all.extend(negatives.iter().map(|&v| (v, false)));
    all.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut positive_rank_sum = 0.0;
    let mut start = 0;
    while start < all.len() {
        let end = start + all[start..].iter().take_while(|(v, _)| *v == all[start].0).count();
        let average_rank = (start + 1 + end) as f64 / 2.0;
        positive_rank_sum += average_rank * all[start..end].iter().filter(|(_, p)| *p).count() as f64;
        start = end;
    }
    let (p, n) = (positives.len() as f64, negatives.len() as f64);
    (positive_rank_sum - p * (p + 1.0) / 2.0) / (p * n)
}

/// Precision and recall of "answer" (confidence ≥ threshold) for covered requests, with
/// uncovered and out-of-scope requests as the negatives.
fn precision_recall(scores: &Scores, threshold: f32) -> (f64, f64) {
    let answered = |v: &[f32]| v.iter().filter(|&&c| c >= threshold).count() as f64;
    let true_positives = answered(&scores.covered);
    let false_positives = answered(&scores.uncovered) + answered(&scores.out_of_scope);
    let precision = true_positives / (true_positives + false_positives).max(1.0);
    (precision, true_positives / scores.covered.len().max(1) as f64)
}

fn print_thresholds(scores: &Scores) {
    let (uncovered, out_of_scope) = (&scores.uncovered, &scores.out_of_scope);
    println!("AUROC covered vs uncovered:    {:.3}", auroc(&scores.covered, uncovered));
    println!("AUROC covered vs out-of-scope: {:.3}", auroc(&scores.covered, out_of_scope));
    let negatives: Vec<f32> = uncovered.iter().chain(out_of_scope).copied().collect();
    println!("AUROC covered vs uncovered and out-of-scope: {:.3}", auroc(&scores.covered, &negatives));
    let f1 = |(p, r): (f64, f64)| {
        if p + r > 0.0 { 2.0 * p * r / (p + r) } else { 0.0 }
    };
    let candidates = (1..100).map(|i| i as f32 / 100.0);
    let best = candidates.max_by(|a, b| f1(precision_recall(scores, *a)).total_cmp(&f1(precision_recall(scores, *b))));
    let best = best.unwrap_or(0.5);
    let (p, r) = precision_recall(scores, best);
    println!("suggested threshold (best F1): {best:.2}: precision {p:.3}, recall {r:.3}, F1 {:.3}", f1((p, r)));
    let above = |v: &[f32]| v.iter().filter(|&&c| c >= best).count() as f64 / v.len().max(1) as f64;
    println!(
        "  answered at that threshold: covered {:.1}%, uncovered {:.1}%, out-of-scope {:.1}%",
        100.0 * above(&scores.covered),
        100.0 * above(&scores.uncovered),
        100.0 * above(&scores.out_of_scope)
    );
    for threshold in [0.2, 0.3, 0.4, 0.5, 0.6] {
        let (p, r) = precision_recall(scores, threshold);
        println!("  threshold {threshold:.2}: precision {p:.3}, recall {r:.3}");
    }
}

/// The demo site's knowledge base, if this runs inside the repository.
fn demo_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../config/sites/demo/kb")
}

fn print_demo() {
    let Ok(base) = KnowledgeBase::load(&demo_dir(), &KnowledgeOptions::default()) else {
        return;
    };
    if base.is_empty() {
        return;
    }
    println!("demo site ({} passages):", base.len());
    for question in DEMO_QUESTIONS {
        let retrieval = base.search(question, 1);
        let title = retrieval.hits.first().map_or("-", |hit| hit.passage.title.as_str());
        println!("  {:.2}  {question:<45} {title}", retrieval.confidence);
    }
}

/// Shop questions the demo covers, then ones it does not (including a request for a person,
/// which is the signals module's job, not the knowledge base's).
const DEMO_QUESTIONS: [&str; 28] = [
    "How do I return an item?",
    "how long does a refund take",
    "do you ship to Canada?",
    "how much is shipping to Germany",
    "I forgot my password",
    "delete my account",
    "can I cancel my order",
    "can I change my delivery address",
    "where is my order",
    "my parcel never arrived",
    "do you take paypal",
    "is there a warranty on headphones",
    "what's the capital of France",
    "tell me a joke",
    "what is the weather in Paris",
    "who won the football match yesterday",
    "how are you",
    "what time is it",
    "do you sell laptops",
    "what is the price of a toaster",
    "can I pay with bitcoin",
    "where is your store in London",
    "what is your phone number",
    "is this product good for cooking",
    "I want a refund for my broken kettle",
    "Damaged lamp, I need a refund",
    "bonjour, je voudrais retourner un article",
    "I want to talk to a human",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auroc_is_one_for_perfect_separation_and_half_for_ties() {
        assert_eq!(auroc(&[0.9, 0.8], &[0.1, 0.2]), 1.0);
        assert_eq!(auroc(&[0.1], &[0.9]), 0.0);
        assert_eq!(auroc(&[0.5, 0.5], &[0.5]), 0.5);
        assert_eq!(auroc(&[0.5, 0.9], &[0.5, 0.1]), 0.875);
    }

    #[test]
    fn the_demo_site_answers_shop_questions_and_not_others() {
        let dir = demo_dir();
        if !dir.exists() {
            eprintln!("skipped: no demo knowledge base at {}", dir.display());
            return;
        }
        let base = KnowledgeBase::load(&dir, &KnowledgeOptions::default()).expect("demo loads");
        let returns = base.search("How do I return an item?", 3);
        assert_eq!(returns.hits[0].passage.title, "Returns and refunds › How to return an item");
        assert_eq!(returns.hits[0].passage.url, "https://northwind.example/help/returns#how-to-return-an-item");
        assert!(returns.confidence > 0.6, "{}", returns.confidence);
        for unrelated in ["what's the capital of France", "tell me a joke", "what is the weather in Paris"] {
            let confidence = base.search(unrelated, 3).confidence;
            assert!(confidence < 0.3, "{unrelated}: {confidence}");
        }
    }
}
