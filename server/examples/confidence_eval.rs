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
//!
//! With `--embeddings URL` (an OpenAI-compatible base URL, e.g. `scripts/embedding-server`'s
//! `http://127.0.0.1:18432/v1`) and optionally `--model NAME`, the same searches are hybrid:
//! the passages and every request are embedded through the server's code
//! (`bot::embeddings`), and the BM25-only figures are printed beside the hybrid ones.
//! `--grid` also prints the AUROC over a grid of calibrations (tune on `--train` only), and
//! `--dump FILE` writes each request's group, BM25 confidence and best cosine.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use baton::bot::embeddings::Embedder;
use baton::knowledge::dense::Calibration;
use baton::knowledge::{Document, KnowledgeBase, KnowledgeOptions};

/// Requests embedded at a time, well under what a knowledge base remembers.
const QUERY_CHUNK: usize = 256;

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
    let takes_value = |i: usize| i > 0 && ["--embeddings", "--model", "--dump"].contains(&args[i - 1].as_str());
    let positional = (0..args.len()).find(|&i| !args[i].starts_with("--") && !takes_value(i));
    let path = positional.map(|i| PathBuf::from(&args[i])).unwrap_or_else(default_data_path);
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
    let Some(url) = value_of(&args, "--embeddings") else {
        print_demo(None);
        return Ok(());
    };
    let model = value_of(&args, "--model").unwrap_or_else(|| "all-minilm-l6-v2".into());
    let embedder = embedder(&url, &model)?;
    let runtime = tokio::runtime::Runtime::new()?;
    println!("\nhybrid (BM25 + {model} at {url}), calibration {:?}:", Calibration::default());
    let options = KnowledgeOptions::default();
    let hybrid = KnowledgeBase::from_documents(documents(&train, &covered), &options);
    let started = Instant::now();
    runtime.block_on(embedder.index(&hybrid))?;
    println!("{} passages embedded in {:.1} s", hybrid.len(), started.elapsed().as_secs_f64());
    let started = Instant::now();
    let scores = runtime.block_on(score_embedded(&embedder, &hybrid, &val, &oos, &covered));
    let millis = started.elapsed().as_secs_f64() * 1e3 / searches as f64;
    print_thresholds(&scores);
    println!("mean time per request, embedding included: {millis:.1} ms over {searches} requests");
    // The search alone, every text's vector remembered: the last chunk's requests again.
    let remembered: Vec<&str> = val.iter().chain(&oos).rev().take(QUERY_CHUNK).map(|(t, _)| t.as_str()).collect();
    let rounds = 20;
    let started = Instant::now();
    for _ in 0..rounds {
        remembered.iter().for_each(|text| drop(std::hint::black_box(hybrid.search(text, 3))));
    }
    let micros = started.elapsed().as_secs_f64() * 1e6 / (rounds * remembered.len()) as f64;
    println!(
        "mean hybrid search time, vectors remembered: {micros:.1} µs ({} vectors)",
        hybrid.embedding_units().len()
    );
    let dump = value_of(&args, "--dump");
    if args.iter().any(|a| a == "--grid") || dump.is_some() {
        // The cosine alone: weight 1 over the whole range gives (cosine + 1) / 2.
        let whole =
            KnowledgeOptions { dense_floor: Some(-1.0), dense_ceiling: Some(1.0), dense_weight: Some(1.0), ..options };
        let raw = KnowledgeBase::from_documents(documents(&train, &covered), &whole);
        runtime.block_on(embedder.index(&raw))?;
        let cosines = runtime.block_on(score_embedded(&embedder, &raw, &val, &oos, &covered));
        let lexical = score(&base, &val, &oos, &covered);
        if let Some(path) = dump {
            write_dump(&path, &lexical, &cosines)?;
        }
        print_grid(&lexical, &cosines);
    }
    print_demo(Some((&runtime, &embedder)));
    Ok(())
}

fn value_of(args: &[String], name: &str) -> Option<String> {
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned()
}

fn embedder(url: &str, model: &str) -> Result<Arc<Embedder>, Box<dyn std::error::Error>> {
    let mut settings = baton::config::Settings::from_toml("")?.llm;
    settings.embedding_model = Some(model.to_owned());
    settings.embedding_base_url = Some(url.to_owned());
    settings.embedding_timeout_ms = 60_000;
    Ok(Embedder::from_settings(&settings)?.ok_or("no embedder")?)
}

/// As [`score`], each chunk of requests embedded first, as a turn's texts are.
async fn score_embedded(
    embedder: &Embedder,
    base: &KnowledgeBase,
    val: &Labelled,
    oos: &Labelled,
    covered: &BTreeSet<&str>,
) -> Scores {
    let mut scores = Scores { covered: Vec::new(), uncovered: Vec::new(), out_of_scope: Vec::new() };
    let labelled = val.iter().map(|(t, i)| (t, Some(i))).chain(oos.iter().map(|(t, _)| (t, None)));
    let all: Vec<(&String, Option<&String>)> = labelled.collect();
    for chunk in all.chunks(QUERY_CHUNK) {
        let texts: Vec<&str> = chunk.iter().map(|(t, _)| t.as_str()).collect();
        embedder.prepare(base, &texts).await;
        for (text, intent) in chunk {
            let confidence = base.search(text, 3).confidence;
            match intent {
                Some(intent) if covered.contains(intent.as_str()) => scores.covered.push(confidence),
                Some(_) => scores.uncovered.push(confidence),
                None => scores.out_of_scope.push(confidence),
            }
        }
    }
    scores
}

/// One line per request: its group (covered, uncovered, oos), its BM25 confidence and its
/// best cosine, for tuning the calibration elsewhere.
fn write_dump(path: &str, lexical: &Scores, halves: &Scores) -> std::io::Result<()> {
    let mut out = String::from("group\tlexical\tcosine\n");
    let groups = [("covered", &lexical.covered, &halves.covered), ("uncovered", &lexical.uncovered, &halves.uncovered)];
    let oos = ("oos", &lexical.out_of_scope, &halves.out_of_scope);
    for (name, lexical, halves) in groups.into_iter().chain([oos]) {
        for (l, h) in lexical.iter().zip(halves.iter()) {
            out.push_str(&format!("{name}\t{l}\t{}\n", 2.0 * h - 1.0));
        }
    }
    std::fs::write(path, out)
}

/// AUROC (covered vs the rest) for calibrations around the default, from each request's
/// BM25 confidence and its best cosine (recovered from a (cosine + 1) / 2 run).
fn print_grid(lexical: &Scores, halves: &Scores) {
    let groups = |s: &Scores| [s.covered.clone(), s.uncovered.clone(), s.out_of_scope.clone()];
    let (lexical, halves) = (groups(lexical), groups(halves));
    println!("grid: floor ceiling weight -> AUROC covered vs uncovered and out-of-scope");
    let mut best = (0.0, Calibration::default());
    for floor in [0.1, 0.2, 0.3, 0.4, 0.5, 0.6] {
        for ceiling in [0.6, 0.7, 0.8, 0.9, 1.0] {
            for weight in [0.5, 0.6, 0.7, 0.8, 0.9, 1.0] {
                let calibration = Calibration { floor, ceiling, weight };
                let mixed: Vec<Vec<f32>> = (0..3)
                    .map(|g| {
                        let pairs = lexical[g].iter().zip(&halves[g]);
                        pairs.map(|(&l, &h)| calibration.confidence(l, 2.0 * h - 1.0)).collect()
                    })
                    .collect();
                let negatives: Vec<f32> = mixed[1].iter().chain(&mixed[2]).copied().collect();
                let value = auroc(&mixed[0], &negatives);
                if value > best.0 {
                    best = (value, calibration);
                }
            }
        }
    }
    println!("  best: {:.3} at {:?}", best.0, best.1);
    for weight in [0.5, 0.6, 0.7, 0.8, 0.9, 1.0] {
        let c = Calibration { weight, ..best.1 };
        let mixed: Vec<Vec<f32>> = (0..3)
            .map(|g| lexical[g].iter().zip(&halves[g]).map(|(&l, &h)| c.confidence(l, 2.0 * h - 1.0)).collect())
            .collect();
        let negatives: Vec<f32> = mixed[1].iter().chain(&mixed[2]).copied().collect();
        println!("  weight {weight:.1}: {:.3}", auroc(&mixed[0], &negatives));
    }
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

/// The demo site's `[knowledge]` settings (its calibration among them), as the server reads them.
fn demo_options() -> KnowledgeOptions {
    let file = demo_dir().join("../../demo.toml");
    let site: Option<toml::Table> = std::fs::read_to_string(file).ok().and_then(|text| text.parse().ok());
    let knowledge = site.and_then(|mut site| site.remove("knowledge"));
    knowledge.and_then(|table| table.try_into().ok()).unwrap_or_default()
}

fn print_demo(embedded: Option<(&tokio::runtime::Runtime, &Embedder)>) {
    let Ok(base) = KnowledgeBase::load(&demo_dir(), &demo_options()) else {
        return;
    };
    if base.is_empty() {
        return;
    }
    if let Some((runtime, embedder)) = embedded
        && runtime.block_on(embedder.index(&base)).is_ok()
    {
        runtime.block_on(embedder.prepare(&base, &DEMO_QUESTIONS));
    }
    println!("demo site ({} passages{}):", base.len(), if base.has_vectors() { ", hybrid" } else { "" });
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
