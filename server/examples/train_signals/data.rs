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
