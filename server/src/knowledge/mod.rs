//! TEMPORARY stand-in with the agreed API; replaced by the real module.
use std::path::Path;
use std::sync::Arc;

#[derive(Clone, Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KnowledgeOptions {
    pub base_url: Option<String>,
    pub language: Option<String>,
}
pub struct Document { pub path: String, pub markdown: String }
#[derive(Debug)]
pub struct Passage { pub title: String, pub text: String, pub url: String }
#[derive(Clone, Debug)]
pub struct Hit { pub passage: Arc<Passage>, pub score: f32 }
#[derive(Clone, Debug, Default)]
pub struct Retrieval { pub hits: Vec<Hit>, pub confidence: f32 }
#[derive(Debug, thiserror::Error)]
pub enum KnowledgeError { #[error("cannot read {path}: {source}")] Read { path: String, source: std::io::Error } }
pub struct KnowledgeBase { passages: Vec<Arc<Passage>> }
impl KnowledgeBase {
    pub fn load(dir: &Path, options: &KnowledgeOptions) -> Result<KnowledgeBase, KnowledgeError> {
        let mut docs = Vec::new();
        if let Ok(entries) = std::fs::read_dir(dir) {
            for e in entries.flatten() {
                let p = e.path();
                if p.extension().is_some_and(|x| x == "md") {
                    let markdown = std::fs::read_to_string(&p).map_err(|source| KnowledgeError::Read { path: p.display().to_string(), source })?;
                    docs.push(Document { path: p.file_name().unwrap().to_string_lossy().into(), markdown });
                }
            }
        }
        Ok(Self::from_documents(docs, options))
    }
    pub fn from_documents(docs: Vec<Document>, _options: &KnowledgeOptions) -> KnowledgeBase {
        let mut passages = Vec::new();
        for d in docs {
            let mut title = String::new(); let mut text = String::new();
            for line in d.markdown.lines() {
                if line.starts_with('#') {
                    if !text.trim().is_empty() { passages.push(Arc::new(Passage { title: title.clone(), text: text.trim().into(), url: d.path.clone() })); }
                    title = line.trim_start_matches('#').trim().into(); text.clear();
                } else { text.push_str(line); text.push('\n'); }
            }
            if !text.trim().is_empty() { passages.push(Arc::new(Passage { title, text: text.trim().into(), url: d.path.clone() })); }
        }
        KnowledgeBase { passages }
    }
    pub fn search(&self, query: &str, limit: usize) -> Retrieval {
        let words: Vec<String> = query.to_lowercase().split(|c: char| !c.is_alphanumeric()).filter(|w| w.len() > 3).map(String::from).collect();
        let mut hits: Vec<Hit> = self.passages.iter().map(|p| {
            let hay = format!("{} {}", p.title, p.text).to_lowercase();
            Hit { passage: p.clone(), score: words.iter().filter(|w| hay.contains(w.as_str())).count() as f32 }
        }).filter(|h| h.score > 0.0).collect();
        hits.sort_by(|a, b| b.score.total_cmp(&a.score)); hits.truncate(limit);
        let confidence = hits.first().map_or(0.0, |h| (h.score / words.len().max(1) as f32).min(1.0));
        Retrieval { hits, confidence }
    }
    pub fn len(&self) -> usize { self.passages.len() }
    pub fn is_empty(&self) -> bool { self.passages.is_empty() }
}
