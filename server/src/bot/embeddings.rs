//! Embedding vectors from the configured OpenAI-compatible server (`POST {base}/embeddings`),
//! for the knowledge base's hybrid retrieval (`knowledge::dense`).
//!
//! Two kinds of text are embedded:
//! - **passages**, once per knowledge-base build, in the background ([`Embedder::index`]),
//!   retried with a growing pause while the server is away. The vectors are cached by
//!   model and text, so rebuilding a site after one page changed embeds only that page's
//!   passages. Until a base has its vectors it is searched with BM25 alone.
//! - **the texts a turn searches** (the visitor's message, the question the bot answers and
//!   its parts), just before the turn is judged and answered ([`Embedder::prepare`]), in one
//!   request bounded by `llm.embedding_timeout_ms`. Past it, or when the server fails, the
//!   turn is searched with BM25 alone: a slow embedding server delays no reply by more than
//!   that bound and loses nothing.

use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use async_openai::Client;
use async_openai::config::OpenAIConfig;
use async_openai::types::embeddings::{CreateEmbeddingRequest, EmbeddingInput};
use hashlink::LruCache;
use secrecy::ExposeSecret;
use sha2::{Digest, Sha256};

use crate::config::LlmSettings;
use crate::knowledge::KnowledgeBase;
use crate::sites::Site;

/// Texts sent in one request (servers cap it: OpenAI at 2,048, llama.cpp by its batch).
pub const BATCH: usize = 32;

/// Characters of one text sent; longer ones are cut (passages are shorter already).
pub const MAX_CHARS: usize = 2_000;

/// Numbers (vector entries) of passage vectors cached across knowledge-base builds, by model
/// and text: 64 MB, a full base ([`crate::knowledge::dense::MAX_UNITS`]) at 768
/// dimensions, or several smaller ones; the least recently used go first.
pub const CACHED_FLOATS: usize = 16 << 20;

/// One batch of passages may take this long (a local server on a busy machine is slow).
const INDEX_TIMEOUT: Duration = Duration::from_secs(120);

/// After a turn's texts failed to be embedded, later turns are searched by words alone for
/// this long without asking, so a server that is away delays one turn, not every turn.
pub const PAUSE_AFTER_FAILURE: Duration = Duration::from_secs(5);

/// The pause after a failed indexing attempt, doubled each time up to [`RETRY_MAX`].
const RETRY_FIRST: Duration = Duration::from_secs(2);
const RETRY_MAX: Duration = Duration::from_secs(60);

#[derive(Debug, thiserror::Error)]
pub enum EmbedError {
    #[error("the embedding server did not answer within {0:?}")]
    Timeout(Duration),
    #[error("the embedding request failed: {0}")]
    Request(#[from] async_openai::error::OpenAIError),
    #[error("the embedding server answered {got} vectors for {sent} texts")]
    Count { sent: usize, got: usize },
    #[error("the embedding server's vectors do not fit the passages' (another length, or zero)")]
    Unusable,
}

/// The client for one embedding model; shared by every site of a node.
pub struct Embedder {
    client: Client<OpenAIConfig>,
    model: String,
    timeout: Duration,
    passages: Mutex<Cache>,
    /// When a turn's embedding last failed.
    failed_at: Mutex<Option<std::time::Instant>>,
}

/// Passage vectors by key, bounded by their total length.
struct Cache {
    vectors: LruCache<[u8; 32], Arc<[f32]>>,
    floats: usize,
}

impl Cache {
    fn get(&mut self, key: &[u8; 32]) -> Option<Arc<[f32]>> {
        self.vectors.get(key).cloned()
    }

    fn insert(&mut self, key: [u8; 32], vector: Arc<[f32]>) {
        self.floats += vector.len();
        if let Some(old) = self.vectors.insert(key, vector) {
            self.floats -= old.len();
        }
        while self.floats > CACHED_FLOATS {
            let Some((_, evicted)) = self.vectors.remove_lru() else { break };
            self.floats -= evicted.len();
        }
    }
}

impl std::fmt::Debug for Embedder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Embedder").field("model", &self.model).finish()
    }
}

impl Embedder {
    /// The embedder the settings name, or `None` when they name no embedding model.
    pub fn from_settings(settings: &LlmSettings) -> anyhow::Result<Option<Arc<Embedder>>> {
        let (Some(model), Some(base_url)) = (&settings.embedding_model, settings.embedding_endpoint()) else {
            return Ok(None);
        };
        let api_key = settings.api_key.as_ref().map_or_else(|| "none".to_owned(), |k| k.expose_secret().to_owned());
        let config = OpenAIConfig::new().with_api_base(base_url.trim_end_matches('/')).with_api_key(api_key);
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .build()
            .map_err(|e| anyhow::anyhow!("Failed to build the HTTP client: {e}"))?;
        Ok(Some(Arc::new(Embedder {
            client: Client::with_config(config).with_http_client(http),
            model: model.clone(),
            timeout: Duration::from_millis(settings.embedding_timeout_ms),
            passages: Mutex::new(Cache { vectors: LruCache::new_unbounded(), floats: 0 }),
            failed_at: Mutex::new(None),
        })))
    }

    pub fn model(&self) -> &str {
        &self.model
    }

    /// Embeds `texts` (at most [`BATCH`] per request, each cut to [`MAX_CHARS`]), in order.
    pub async fn embed(&self, texts: &[String], timeout: Duration) -> Result<Vec<Vec<f32>>, EmbedError> {
        let mut vectors = Vec::with_capacity(texts.len());
        for batch in texts.chunks(BATCH) {
            let input: Vec<String> = batch.iter().map(|text| cut(text).to_owned()).collect();
            let request = CreateEmbeddingRequest {
                model: self.model.clone(),
                input: EmbeddingInput::StringArray(input),
                ..Default::default()
            };
            let embeddings = self.client.embeddings();
            let call = embeddings.create(request);
            let started = std::time::Instant::now();
            let response = tokio::time::timeout(timeout, call).await.map_err(|_| EmbedError::Timeout(timeout));
            metrics::histogram!("baton_embedding_seconds").record(started.elapsed().as_secs_f64());
            let response = response.and_then(|result| result.map_err(EmbedError::from)).inspect_err(|error| {
                metrics::counter!("baton_embedding_failures_total", "kind" => kind(error)).increment(1);
            })?;
            let mut data = response.data;
            if data.len() != batch.len() {
                return Err(EmbedError::Count { sent: batch.len(), got: data.len() });
            }
            data.sort_by_key(|embedding| embedding.index);
            vectors.extend(data.into_iter().map(|embedding| embedding.embedding));
        }
        Ok(vectors)
    }

    /// Gives `knowledge` its passages' vectors, from the cache where it has them.
    pub async fn index(&self, knowledge: &KnowledgeBase) -> Result<(), EmbedError> {
        if knowledge.is_empty() || knowledge.has_vectors() {
            return Ok(());
        }
        let texts: Vec<String> = knowledge.embedding_units().into_iter().map(|(_, text)| text).collect();
        let keys: Vec<[u8; 32]> = texts.iter().map(|text| self.key(text)).collect();
        let mut found: Vec<Option<Arc<[f32]>>> = {
            let mut cache = self.cache();
            keys.iter().map(|key| cache.get(key)).collect()
        };
        let missing: Vec<usize> = (0..texts.len()).filter(|&i| found[i].is_none()).collect();
        let asked: Vec<String> = missing.iter().map(|&i| texts[i].clone()).collect();
        let vectors = self.embed(&asked, INDEX_TIMEOUT).await?;
        {
            let mut cache = self.cache();
            for (&i, vector) in missing.iter().zip(vectors) {
                let vector: Arc<[f32]> = vector.into();
                cache.insert(keys[i], vector.clone());
                found[i] = Some(vector);
            }
        }
        let rows: Vec<Vec<f32>> = found.into_iter().map(|v| v.map(|v| v.to_vec()).unwrap_or_default()).collect();
        match knowledge.install_vectors(&rows) || knowledge.has_vectors() {
            true => Ok(()),
            false => Err(EmbedError::Unusable),
        }
    }

    /// Embeds those of `texts` that `knowledge` does not know yet and remembers them, within
    /// the turn's bound. Does nothing while the base has no vectors, or within
    /// [`PAUSE_AFTER_FAILURE`] of a failure; a failure is logged and leaves those texts to BM25.
    pub async fn prepare(&self, knowledge: &KnowledgeBase, texts: &[&str]) {
        let failed_at = *self.failed_at.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if !knowledge.has_vectors() || failed_at.is_some_and(|at| at.elapsed() < PAUSE_AFTER_FAILURE) {
            return;
        }
        let mut asked: Vec<String> = Vec::new();
        for text in texts {
            if !text.trim().is_empty() && !knowledge.knows_query(text) && !asked.iter().any(|a| a == text) {
                asked.push((*text).to_owned());
            }
        }
        if asked.is_empty() {
            return;
        }
        match self.embed(&asked, self.timeout).await {
            Ok(vectors) => asked.iter().zip(vectors).for_each(|(text, vector)| knowledge.remember_query(text, &vector)),
            Err(error) => {
                *self.failed_at.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) =
                    Some(std::time::Instant::now());
                tracing::warn!(%error, model = %self.model, pause = ?PAUSE_AFTER_FAILURE, "question not embedded; searched by words alone");
            }
        }
    }

    /// Indexes `site`'s knowledge base in the background until it has its vectors or the
    /// site is dropped (replaced by a newer build).
    pub fn spawn_index(self: &Arc<Self>, site: &Arc<Site>) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else { return };
        let (embedder, site): (Arc<Embedder>, Weak<Site>) = (self.clone(), Arc::downgrade(site));
        runtime.spawn(async move {
            let mut pause = RETRY_FIRST;
            loop {
                let Some(site) = site.upgrade() else { return };
                let started = std::time::Instant::now();
                match embedder.index(&site.knowledge).await {
                    Ok(()) => {
                        let millis = started.elapsed().as_millis();
                        tracing::info!(site = %site.config.id, passages = site.knowledge.len(), millis, "knowledge base embedded");
                        return;
                    }
                    Err(error) => tracing::warn!(site = %site.config.id, %error, ?pause, "knowledge base not embedded; trying again"),
                }
                drop(site);
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(RETRY_MAX);
            }
        });
    }

    fn key(&self, text: &str) -> [u8; 32] {
        let mut hash = Sha256::new();
        hash.update(self.model.as_bytes());
        hash.update([0]);
        hash.update(cut(text).as_bytes());
        hash.finalize().into()
    }

    fn cache(&self) -> std::sync::MutexGuard<'_, Cache> {
        self.passages.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// `text` cut to at most [`MAX_CHARS`] characters.
fn cut(text: &str) -> &str {
    text.char_indices().nth(MAX_CHARS).map_or(text, |(end, _)| &text[..end])
}

fn kind(error: &EmbedError) -> &'static str {
    match error {
        EmbedError::Timeout(_) => "timeout",
        EmbedError::Request(_) => "request",
        EmbedError::Count { .. } | EmbedError::Unusable => "malformed",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cache_keeps_the_newest_vectors_within_its_bound() {
        let mut cache = Cache { vectors: LruCache::new_unbounded(), floats: 0 };
        let vector = |n: usize| -> Arc<[f32]> { vec![1.0; n].into() };
        cache.insert([1; 32], vector(CACHED_FLOATS / 2));
        cache.insert([2; 32], vector(CACHED_FLOATS / 2));
        assert!(cache.get(&[1; 32]).is_some(), "both fit");
        cache.insert([3; 32], vector(10));
        assert!(cache.get(&[2; 32]).is_none(), "the least recently used went");
        assert!(cache.get(&[1; 32]).is_some() && cache.get(&[3; 32]).is_some());
        assert_eq!(cache.floats, CACHED_FLOATS / 2 + 10);
    }

    #[test]
    fn long_texts_are_cut_at_a_character_boundary() {
        let text = "é".repeat(MAX_CHARS + 5);
        assert_eq!(cut(&text).chars().count(), MAX_CHARS);
        assert_eq!(cut("short"), "short");
    }

    #[test]
    fn no_embedding_model_means_no_embedder() {
        let settings: LlmSettings = crate::config::Settings::from_toml("").unwrap().llm;
        assert!(Embedder::from_settings(&settings).unwrap().is_none());
        let named = LlmSettings { embedding_model: Some("all-minilm".into()), ..settings.clone() };
        assert!(Embedder::from_settings(&named).unwrap().is_none(), "no server to ask");
        let served = LlmSettings { embedding_base_url: Some("http://127.0.0.1:9/v1".into()), ..named };
        assert_eq!(Embedder::from_settings(&served).unwrap().unwrap().model(), "all-minilm");
    }
}
