//! Reading the development data (`shared/data/README.md`).

use std::path::Path;

pub const LANGUAGES: [&str; 6] = ["english", "french", "german", "italian", "portuguese", "spanish"];

pub fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// One XLM-T split of one language: texts and labels (0 negative, 1 neutral, 2 positive).
pub fn xlmt(dir: &Path, language: &str, split: &str) -> (Vec<String>, Vec<usize>) {
    let base = dir.join("xlmt-sentiment").join(language);
    let texts = read(&base.join(format!("{split}_text.txt"))).lines().map(String::from).collect();
    let labels = read(&base.join(format!("{split}_labels.txt")))
        .lines()
        .map(|l| l.trim().parse().expect("label 0, 1 or 2"))
        .collect();
    (texts, labels)
}

/// The UCI review sentences, as (text, 0 negative | 2 positive).
pub fn uci(dir: &Path) -> Vec<(String, usize)> {
    let mut out = Vec::new();
    for set in ["amazon", "imdb", "yelp"] {
        let rows: Vec<serde_json::Value> =
            serde_json::from_str(&read(&dir.join("uci-sentiment").join(format!("{set}.json")))).expect("JSON");
        for r in rows {
            let text = r["text"].as_str().unwrap_or_default().to_string();
            out.push((text, if r["class"].as_u64() == Some(1) { 2 } else { 0 }));
        }
    }
    out
}

/// One MWOZ dialogue: (visitor?, text, mean rating of a user turn).
pub type Dialogue = Vec<(bool, String, Option<f32>)>;

/// The MWOZ per-turn satisfaction dialogues (`uss/MWOZ.txt`).
pub fn mwoz(dir: &Path) -> Vec<Dialogue> {
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
        let ratings: Vec<f32> = fields.get(3).map_or(vec![], |r| r.split(',').filter_map(|x| x.parse().ok()).collect());
        let mean = (!ratings.is_empty()).then(|| ratings.iter().sum::<f32>() / ratings.len() as f32);
        if let Some(last) = dialogues.last_mut() {
            last.push((fields[0] == "USER", fields[1].to_string(), mean));
        }
    }
    dialogues.retain(|d| !d.is_empty());
    dialogues
}

/// The fixed dialogue-level split: dialogue `i` (0-based, in file order) is validation
/// when the low bit of splitmix64(i) is set. Chosen before any model was fitted.
pub fn is_validation_dialogue(i: usize) -> bool {
    let mut z = (i as u64).wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    (z ^ (z >> 31)) & 1 == 1
}

/// The in-scope CLINC150 training requests (text only).
pub fn clinc_requests(dir: &Path) -> Vec<String> {
    let data: serde_json::Value = serde_json::from_str(&read(&dir.join("clinc150-dev.json"))).expect("CLINC150 JSON");
    let rows = data["train"].as_array().cloned().unwrap_or_default();
    rows.iter().filter_map(|r| r[0].as_str().map(String::from)).collect()
}
