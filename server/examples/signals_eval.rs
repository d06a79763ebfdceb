//! Measures the escalation signals on the development data (`docs/escalation.md`).
//!
//! `cargo run --release --example signals_eval [DATA_DIR] [--tune]`, from the repository
//! root; DATA_DIR defaults to `../shared/data`. Prints sentiment macro-F1 per language on
//! the XLM-T validation split (ours and a plain VADER-style baseline), accuracy on the UCI
//! review sentences, the AUROC of the escalation score against MWOZ user turns rated
//! low, explicit-request precision and recall on `src/signals/testdata`, and the mean
//! cost of `Signals::score`. `--tune` also searches the sentiment cut points on the XLM-T
//! *train* split (the shipped constants came from that search).

#[path = "common/metrics.rs"]
mod metrics;

use std::collections::{HashMap, HashSet};
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::Instant;

use baton::escalation::{Decision, Policy, PolicyConfig, PolicyState, Reason};
use baton::signals::{NEGATIVE_CUT, POSITIVE_CUT, Role, Signals, Turn, TurnContext, TurnSignals};

const LANGUAGES: [&str; 6] = ["english", "french", "german", "italian", "portuguese", "spanish"];
/// A MWOZ user turn is "needs a person" when its raters' mean score is at most this.
const LOW_RATING: f32 = 2.0;
/// VADER's own cut points for its compound score.
const VADER_CUT: f32 = 0.05;
const EXPLICIT_SET: &str = include_str!("../src/signals/testdata/explicit_requests.tsv");
/// The first held-out set: its misses guided the second revision of the rules, so it is
/// reported as seen. The second one was written before that revision and never edited.
const EXPLICIT_HOLDOUT_V1: &str = include_str!("../src/signals/testdata/explicit_requests_holdout_v1.tsv");
const EXPLICIT_HOLDOUT_V2: &str = include_str!("../src/signals/testdata/explicit_requests_holdout_v2.tsv");
/// Written before Russian, Turkish, Japanese, Arabic and Hindi had any rules, and before
/// the typo, indirect and mixed-language changes; never edited afterwards.
const EXPLICIT_HOLDOUT_V3: &str = include_str!("../src/signals/testdata/explicit_requests_holdout_v3.tsv");
/// Mostly English typos and indirect requests, mixed-language and short forms; written
/// before the rules were changed for it and never edited.
const EXPLICIT_HOLDOUT_V4: &str = include_str!("../src/signals/testdata/explicit_requests_holdout_v4.tsv");
/// Written after v4's first run and before the rules changed for v3's and v4's misses; first
/// run after those changes.
const EXPLICIT_HOLDOUT_V5: &str = include_str!("../src/signals/testdata/explicit_requests_holdout_v5.tsv");
/// Russian, Turkish, Japanese, Arabic and Hindi only (issue 19), written before the rules changed for it.
const EXPLICIT_HOLDOUT_V6: &str = include_str!("../src/signals/testdata/explicit_requests_holdout_v6.tsv");
/// The same five languages, written after the rules changed on v6 and run once.
const EXPLICIT_HOLDOUT_V7: &str = include_str!("../src/signals/testdata/explicit_requests_holdout_v7.tsv");
const ENGLISH_LEXICON: &str = include_str!("../src/signals/lexicon/sentiment_en.txt");

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let tune = args.iter().any(|a| a == "--tune");
    // `--explicit`: only the explicit-request sets (no data folder needed).
    let explicit_only = args.iter().any(|a| a == "--explicit");
    let dir = args.iter().find(|a| !a.starts_with("--")).map_or("../shared/data", |a| a);
    let dir = PathBuf::from(dir);
    // unwrap: no topic rules, so nothing can be rejected.
    let signals = Signals::new(&[]).expect("no topic rules");
    let vader = Vader::new();
    if explicit_only {
        explicit_sets(&signals);
        return;
    }
    if tune {
        tune_cuts(&dir, &signals, &vader);
    }
    xlmt(&dir, &signals, &vader);
    uci(&dir, &signals, &vader);
    let dialogues = mwoz(&dir);
    mwoz_auroc(&dialogues, &signals, &vader);
    mwoz_policy(&dialogues);
    explicit_sets(&signals);
    bench(&dialogues, &signals);
}

fn explicit_sets(signals: &Signals) {
    explicit(signals, "explicit_requests.tsv (development: rules fixed on it)", EXPLICIT_SET);
    explicit(signals, "explicit_requests_holdout_v1.tsv (seen during the second revision)", EXPLICIT_HOLDOUT_V1);
    explicit(signals, "explicit_requests_holdout_v2.tsv (held out)", EXPLICIT_HOLDOUT_V2);
    explicit(signals, "explicit_requests_holdout_v3.tsv (held out, new languages)", EXPLICIT_HOLDOUT_V3);
    explicit(signals, "explicit_requests_holdout_v4.tsv (seen: typos and indirect requests)", EXPLICIT_HOLDOUT_V4);
    explicit(signals, "explicit_requests_holdout_v5.tsv (held out, typos and indirect requests)", EXPLICIT_HOLDOUT_V5);
    explicit(signals, "explicit_requests_holdout_v6.tsv (seen: five newer languages)", EXPLICIT_HOLDOUT_V6);
    explicit(signals, "explicit_requests_holdout_v7.tsv (held out, five newer languages)", EXPLICIT_HOLDOUT_V7);
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

fn sentiment(signals: &Signals, text: &str) -> f32 {
    signals.score(&context(&[], text)).sentiment
}

fn context<'a>(history: &'a [Turn<'a>], text: &'a str) -> TurnContext<'a> {
    TurnContext::new(history, text)
}

// ---------------------------------------------------------------- sentiment

fn class(score: f32, negative_below: f32, positive_above: f32) -> usize {
    if score < negative_below {
        0
    } else if score > positive_above {
        2
    } else {
        1
    }
}

fn macro_f1(gold: &[usize], predicted: &[usize]) -> f32 {
    let f1 = |c: usize| {
        let tp = gold.iter().zip(predicted).filter(|(g, p)| **g == c && **p == c).count() as f32;
        let fp = gold.iter().zip(predicted).filter(|(g, p)| **g != c && **p == c).count() as f32;
        let fn_ = gold.iter().zip(predicted).filter(|(g, p)| **g == c && **p != c).count() as f32;
        if tp == 0.0 { 0.0 } else { 2.0 * tp / (2.0 * tp + fp + fn_) }
    };
    (f1(0) + f1(1) + f1(2)) / 3.0
}

fn xlmt_split(dir: &Path, language: &str, split: &str) -> (Vec<String>, Vec<usize>) {
    let base = dir.join("xlmt-sentiment").join(language);
    let texts = read(&base.join(format!("{split}_text.txt"))).lines().map(String::from).collect();
    let labels = read(&base.join(format!("{split}_labels.txt")))
        .lines()
        .map(|l| l.trim().parse().expect("label 0, 1 or 2"))
        .collect();
    (texts, labels)
}

fn f1_at(scores: &[f32], gold: &[usize], neg: f32, pos: f32) -> f32 {
    let predicted: Vec<usize> = scores.iter().map(|s| class(*s, neg, pos)).collect();
    macro_f1(gold, &predicted)
}

fn tune_cuts(dir: &Path, signals: &Signals, vader: &Vader) {
    let (mut ours, mut base, mut gold) = (Vec::new(), Vec::new(), Vec::new());
    for language in LANGUAGES {
        let (texts, labels) = xlmt_split(dir, language, "train");
        ours.extend(texts.iter().map(|t| sentiment(signals, t)));
        base.extend(texts.iter().map(|t| vader.score(t)));
        gold.extend(labels);
    }
    for (name, scores) in [("ours", &ours), ("vader", &base)] {
        let grid: Vec<f32> = (0..60).map(|i| i as f32 * 0.01).collect();
        let mut best = (0.0, 0.0, 0.0);
        for &n in &grid {
            for &p in &grid {
                let f = f1_at(scores, &gold, -n, p);
                if f > best.0 {
                    best = (f, -n, p);
                }
            }
        }
        println!("tune {name}: train macro-F1 {:.3} at cuts ({:.2}, {:.2})", best.0, best.1, best.2);
    }
}

fn xlmt(dir: &Path, signals: &Signals, vader: &Vader) {
    println!("\n## Sentiment, XLM-T val, macro-F1 (neg < {NEGATIVE_CUT}, pos > {POSITIVE_CUT})");
    println!("| language | ours | VADER-style (±{VADER_CUT}) | VADER-style (our cuts) |");
    println!("|---|---|---|---|");
    let (mut sums, mut n) = ([0.0; 3], 0.0);
    for language in LANGUAGES {
        let (texts, gold) = xlmt_split(dir, language, "val");
        let ours: Vec<f32> = texts.iter().map(|t| sentiment(signals, t)).collect();
        let base: Vec<f32> = texts.iter().map(|t| vader.score(t)).collect();
        let row = [
            f1_at(&ours, &gold, NEGATIVE_CUT, POSITIVE_CUT),
            f1_at(&base, &gold, -VADER_CUT, VADER_CUT),
            f1_at(&base, &gold, NEGATIVE_CUT, POSITIVE_CUT),
        ];
        println!("| {language} | {:.3} | {:.3} | {:.3} |", row[0], row[1], row[2]);
        for (s, r) in sums.iter_mut().zip(row) {
            *s += r;
        }
        n += 1.0;
    }
    println!("| mean | {:.3} | {:.3} | {:.3} |", sums[0] / n, sums[1] / n, sums[2] / n);
}

fn uci(dir: &Path, signals: &Signals, vader: &Vader) {
    println!("\n## Sentiment, UCI review sentences, accuracy (positive when score >= 0)");
    println!("| set | ours | VADER-style |\n|---|---|---|");
    for set in ["amazon", "imdb", "yelp"] {
        let rows: Vec<serde_json::Value> =
            serde_json::from_str(&read(&dir.join("uci-sentiment").join(format!("{set}.json"))))
                .expect("a JSON array of {text, class}");
        let accuracy = |score: &dyn Fn(&str) -> f32| {
            let right = rows.iter().filter(|r| {
                let text = r["text"].as_str().unwrap_or_default();
                (score(text) >= 0.0) == (r["class"].as_u64() == Some(1))
            });
            right.count() as f32 / rows.len() as f32
        };
        let ours = accuracy(&|t| sentiment(signals, t));
        let base = accuracy(&|t| vader.score(t));
        println!("| {set} | {ours:.3} | {base:.3} |");
    }
}

// ---------------------------------------------------------------- escalation score

/// One MWOZ dialogue: (role, text, mean rating for user turns).
type Dialogue = Vec<(Role, String, Option<f32>)>;

fn mwoz(dir: &Path) -> Vec<Dialogue> {
    let mut dialogues = vec![Vec::new()];
    for line in read(&dir.join("uss").join("MWOZ.txt")).lines() {
        let fields: Vec<&str> = line.split('\t').collect();
        if line.trim().is_empty() {
            dialogues.push(Vec::new());
            continue;
        }
        if fields.len() < 2 || fields[1] == "OVERALL" {
            continue;
        }
        let role = if fields[0] == "USER" { Role::Visitor } else { Role::Bot };
        let ratings: Vec<f32> = fields.get(3).map_or(vec![], |r| r.split(',').filter_map(|x| x.parse().ok()).collect());
        let mean = (!ratings.is_empty()).then(|| ratings.iter().sum::<f32>() / ratings.len() as f32);
        if let Some(last) = dialogues.last_mut() {
            last.push((role, fields[1].to_string(), mean));
        }
    }
    dialogues.retain(|d| !d.is_empty());
    dialogues
}

/// Scores every rated user turn with its history: (signals, needs a person).
fn scored_turns(dialogues: &[Dialogue], signals: &Signals) -> Vec<(TurnSignals, bool)> {
    let mut out = Vec::new();
    for dialogue in dialogues {
        let turns: Vec<Turn> = dialogue.iter().map(|(role, text, _)| Turn { role: *role, text }).collect();
        for (i, (role, text, rating)) in dialogue.iter().enumerate() {
            if let (Role::Visitor, Some(rating)) = (role, rating) {
                let s = signals.score(&context(&turns[..i], text));
                out.push((s, *rating <= LOW_RATING));
            }
        }
    }
    out
}

/// Area under the ROC curve, as the trainer measures it.
fn auroc(scores: &[(f32, bool)]) -> f32 {
    metrics::auroc(scores) as f32
}

fn mwoz_auroc(dialogues: &[Dialogue], signals: &Signals, vader: &Vader) {
    let half = dialogues.len() / 2;
    println!("\n## Escalation score, MWOZ user turns, AUROC (positive: mean rating <= {LOW_RATING})");
    println!("| score | dialogues 1-{half} (tuning) | {}-{} (held out) | all |", half + 1, dialogues.len());
    println!("|---|---|---|---|");
    let parts = [scored_turns(&dialogues[..half], signals), scored_turns(&dialogues[half..], signals)];
    let columns: [&dyn Fn(&TurnSignals) -> f32; 5] =
        [&|s| s.escalation_score, &|s| -s.sentiment, &|s| -s.sentiment_trend, &|s| s.repeat_similarity, &|s| {
            if s.bot_declined { 1.0 } else { 0.0 }
        }];
    let names = ["escalation_score", "−sentiment", "−sentiment_trend", "repeat_similarity", "bot_declined"];
    for (name, column) in names.iter().zip(columns) {
        let pick = |turns: &[(TurnSignals, bool)]| -> Vec<(f32, bool)> {
            turns.iter().map(|(s, y)| (column(s), *y)).collect()
        };
        let (a, b) = (pick(&parts[0]), pick(&parts[1]));
        let all: Vec<(f32, bool)> = a.iter().chain(&b).copied().collect();
        println!("| {name} | {:.3} | {:.3} | {:.3} |", auroc(&a), auroc(&b), auroc(&all));
    }
    let all: Vec<(f32, bool)> = dialogues
        .iter()
        .flat_map(|d| d.iter().filter(|t| t.0 == Role::Visitor && t.2.is_some()))
        .map(|(_, text, r)| (-vader.score(text), r.is_some_and(|r| r <= LOW_RATING)))
        .collect();
    let positives = all.iter().filter(|t| t.1).count();
    println!("| VADER-style −compound | | | {:.3} |", auroc(&all));
    println!("({} rated user turns, {positives} positive)", all.len());
}

/// Replays every dialogue through the default policy, as `baton signals` does.
fn mwoz_policy(dialogues: &[Dialogue]) {
    // unwrap: the default configuration is valid (a unit test checks it).
    let policy = Policy::new(&PolicyConfig::default()).expect("default policy");
    let (mut fired, mut fired_low, mut low, mut turns) = (0, 0, 0, 0);
    let mut reasons: HashMap<Reason, (u32, u32)> = HashMap::new();
    for dialogue in dialogues {
        let history: Vec<Turn> = dialogue.iter().map(|(role, text, _)| Turn { role: *role, text }).collect();
        let mut state = PolicyState::default();
        for (i, (role, text, rating)) in dialogue.iter().enumerate() {
            let (Role::Visitor, Some(rating)) = (role, rating) else {
                continue;
            };
            let is_low = *rating <= LOW_RATING;
            let decision = policy.decide(&policy.signals().score(&context(&history[..i], text)), &mut state);
            turns += 1;
            low += u32::from(is_low);
            let (reason, escalated) = match decision {
                Decision::Continue => continue,
                Decision::Offer { reason, .. } => (reason, false),
                Decision::Escalate { reason, .. } => (reason, true),
            };
            fired += 1;
            fired_low += u32::from(is_low);
            let entry = reasons.entry(reason).or_default();
            if escalated { entry.1 += 1 } else { entry.0 += 1 }
        }
    }
    println!("\n## Default policy replayed on MWOZ (offers and escalations per user turn)");
    println!(
        "fires on {fired} of {turns} user turns ({:.1}%); on {fired_low} of {low} low-rated turns ({:.1}%)",
        100.0 * fired as f32 / turns as f32,
        100.0 * fired_low as f32 / low as f32
    );
    let mut reasons: Vec<_> = reasons.into_iter().collect();
    reasons.sort_by_key(|(r, _)| format!("{r:?}"));
    for (reason, (offers, escalations)) in reasons {
        println!("  {reason:?}: {offers} offers, {escalations} escalations");
    }
}

// ---------------------------------------------------------------- explicit requests

fn explicit(signals: &Signals, name: &str, set: &str) {
    println!("\n## Explicit request, labelled set src/signals/testdata/{name}");
    println!("| language | positives | negatives | precision | recall |\n|---|---|---|---|---|");
    let mut counts: HashMap<&str, [u32; 4]> = HashMap::new(); // tp, fp, fn, tn
    let mut order: Vec<&str> = Vec::new();
    for line in set.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()) {
        let mut fields = line.splitn(3, '\t');
        let (Some(lang), Some(label), Some(text)) = (fields.next(), fields.next(), fields.next()) else {
            continue;
        };
        let predicted = signals.score(&context(&[], text)).explicit_request;
        let cell = match (label == "1", predicted) {
            (true, true) => 0,
            (false, true) => 1,
            (true, false) => 2,
            (false, false) => 3,
        };
        if !order.contains(&lang) {
            order.push(lang);
        }
        counts.entry(lang).or_default()[cell] += 1;
        if (label == "1") != predicted {
            println!("  miss [{lang}] expected {label}: {text}");
        }
    }
    let mut total = [0u32; 4];
    for lang in order {
        let c = counts[lang];
        print_pr(lang, c);
        for (t, x) in total.iter_mut().zip(c) {
            *t += x;
        }
    }
    print_pr("all", total);
}

fn print_pr(name: &str, [tp, fp, fn_, tn]: [u32; 4]) {
    let precision = tp as f32 / (tp + fp).max(1) as f32;
    let recall = tp as f32 / (tp + fn_).max(1) as f32;
    println!("| {name} | {} | {} | {precision:.3} | {recall:.3} |", tp + fn_, fp + tn);
}

// ---------------------------------------------------------------- cost

fn bench(dialogues: &[Dialogue], signals: &Signals) {
    let mut turns = 0u64;
    let start = Instant::now();
    for _ in 0..3 {
        for dialogue in dialogues {
            let history: Vec<Turn> = dialogue.iter().map(|(role, text, _)| Turn { role: *role, text }).collect();
            for (i, (role, text, _)) in dialogue.iter().enumerate() {
                if *role == Role::Visitor {
                    black_box(signals.score(&context(&history[..i], text)));
                    turns += 1;
                }
            }
        }
    }
    let nanos = start.elapsed().as_nanos() as f64 / turns as f64;
    println!("\n## Cost: Signals::score over {turns} MWOZ user turns with their histories");
    println!("mean {:.0} ns per turn ({:.1} µs)", nanos, nanos / 1000.0);
}

// ---------------------------------------------------------------- baseline

/// A plain VADER-style scorer: Baton's English lexicon matched word for word (no stems,
/// no other language, no emoji), with VADER's negation, booster, capitals, "but" and
/// exclamation rules and its normalisation.
struct Vader {
    valence: HashMap<String, f32>,
    negators: HashSet<String>,
    boosters: HashMap<String, f32>,
}

impl Vader {
    fn new() -> Vader {
        let mut vader = Vader { valence: HashMap::new(), negators: HashSet::new(), boosters: HashMap::new() };
        for line in ENGLISH_LEXICON.lines().filter(|l| !l.starts_with('#')) {
            let Some((term, value)) = line.rsplit_once(' ') else {
                continue;
            };
            let term = term.trim_end_matches('*').replace('_', " ");
            match value {
                "NEG" => drop(vader.negators.insert(term)),
                "BOOST" => drop(vader.boosters.insert(term, 0.293)),
                "DAMP" => drop(vader.boosters.insert(term, -0.293)),
                "BUT" => {}
                v => drop(v.parse().map(|v| vader.valence.insert(term, v))),
            }
        }
        vader
    }

    fn score(&self, text: &str) -> f32 {
        let raw: Vec<&str> = text.split_whitespace().collect();
        let words: Vec<String> =
            raw.iter().map(|w| w.trim_matches(|c: char| !c.is_alphanumeric() && c != '\'').to_lowercase()).collect();
        let mixed = raw.iter().any(|w| w.chars().any(char::is_lowercase));
        let but = words.iter().position(|w| w == "but");
        let mut sum = 0.0;
        for (i, word) in words.iter().enumerate() {
            let Some(&v) = self.valence.get(word) else {
                continue;
            };
            let mut v = v;
            let shouted = mixed && raw[i].chars().any(char::is_alphabetic) && !raw[i].chars().any(char::is_lowercase);
            if shouted {
                v += v.signum() * 0.733;
            }
            for back in 1..=3.min(i) {
                let before = &words[i - back];
                if let Some(b) = self.boosters.get(before) {
                    v += v.signum() * b * [1.0, 0.95, 0.9][back - 1];
                }
                if self.negators.contains(before) || before.ends_with("n't") {
                    v *= -0.74;
                }
            }
            match but {
                Some(b) if i < b => v *= 0.5,
                Some(b) if i > b => v *= 1.5,
                _ => {}
            }
            sum += v;
        }
        let bangs = text.matches('!').count().min(4) as f32 * 0.292;
        if sum != 0.0 {
            sum += sum.signum() * bangs;
        }
        sum / (sum * sum + 15.0f32).sqrt()
    }
}
