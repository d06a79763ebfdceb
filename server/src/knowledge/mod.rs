//! A site's knowledge base: its Markdown help pages, split into passages and searchable.
//!
//! The bot grounds its answers in the passages that [`KnowledgeBase::search`] returns, and
//! the escalation policy reads the search's [`Retrieval::confidence`] to decide whether the
//! bot can answer at all. That second use is why the confidence exists apart from the raw
//! scores: a raw BM25 score says which passage is best *for this query*, but means nothing
//! across queries, while the confidence is calibrated to mean the same everywhere ("how
//! much of what the visitor asked does the knowledge base cover"), so one threshold in a
//! site's policy works for every question. The `confidence` module says how it is derived.
//!
//! # Layout
//! - `folder`: reading the folder's Markdown files, in a stable order.
//! - `markdown`: front matter, splitting a page at its headings into passages.
//! - `chunk`: cutting sections longer than [`MAX_PASSAGE_CHARS`] into several passages.
//! - `text`: normalising and tokenising, identical for passages and queries (accents,
//!   stemming, stopwords, CJK bigrams).
//! - `bm25`: the inverted index and ranker behind the [`Ranker`] seam.
//! - `confidence`: from a ranking to a number in [0, 1].
//! - `dense`: the passages' embedding vectors, fused with BM25 by rank (hybrid retrieval).
//!
//! A knowledge base is built once when a site is loaded and is immutable afterwards, so it
//! is shared as an `Arc<KnowledgeBase>` without locks; reloading a site builds a new one.
//! Two things arrive later, when a site names an embedding model: the passages' vectors,
//! installed once ([`KnowledgeBase::install_vectors`]), and the vectors of the texts about
//! to be searched ([`KnowledgeBase::remember_query`]), computed by `bot::embeddings` before
//! the turn is judged and answered. A search uses the hybrid ranking when it has both, and
//! BM25 alone otherwise, so the policy, the bot and the agent's drafts, which search the
//! same texts after the same preparation, agree.

mod bm25;
mod chunk;
mod confidence;
pub mod dense;
mod folder;
mod markdown;
mod stopwords;
mod text;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use hashlink::LruCache;

pub use chunk::MAX_PASSAGE_CHARS;
pub use markdown::{SPLIT_DEPTH, TITLE_SEPARATOR, page_title};

/// The language assumed when a site does not name one.
pub const DEFAULT_LANGUAGE: &str = "en";

/// Query vectors kept per knowledge base (the newest texts searched); a turn's texts are
/// remembered just before its searches, so this only has to outlast one turn's work.
pub const QUERY_VECTORS: usize = 2048;

/// BM25 places fed into the fusion, however few hits the caller wants: the fused order
/// needs both rankings' view of the likely passages, not only of the top few.
const FUSION_DEPTH: usize = 20;

/// A site's searchable help pages.
pub struct KnowledgeBase {
    passages: Vec<Arc<Passage>>,
    /// Ranks indices into `passages`; built over exactly that list, in that order.
    ranker: Box<dyn Ranker>,
    /// The passages' embedding vectors, once an embedding model has given them.
    vectors: OnceLock<dense::Vectors>,
    /// Embedding vectors of texts about to be searched, by text.
    queries: Mutex<LruCache<String, Arc<[f32]>>>,
    calibration: dense::Calibration,
}

/// Per-site knowledge settings, from the site's configuration.
#[derive(Clone, Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KnowledgeOptions {
    /// Public URL prefix of the help pages, e.g. "https://shop.example/help/"; a passage's
    /// url is base_url + the file's path without ".md" + "#" + heading slug (a `/` is put
    /// between them if base_url lacks one). None: a relative url like
    /// "returns#how-to-return-an-item". A page's front matter `url` overrides both.
    pub base_url: Option<String>,
    /// Language of the knowledge base (ISO 639-1 like "en", "fr"), chooses the stemmer and
    /// stopwords; None = [`DEFAULT_LANGUAGE`].
    pub language: Option<String>,
    /// With an embedding model (`llm.embedding_model`): the cosine at which a passage counts
    /// as unrelated to the question, and the one at which it counts as a paraphrase. Both
    /// depend on the model; the defaults ([`dense::Calibration`]) suit all-MiniLM-L6-v2.
    pub dense_floor: Option<f32>,
    pub dense_ceiling: Option<f32>,
    /// The cosine's share of the confidence (the BM25 confidence has the rest).
    pub dense_weight: Option<f32>,
}

impl KnowledgeOptions {
    /// The hybrid confidence's calibration: the defaults with this site's values over them.
    pub fn calibration(&self) -> dense::Calibration {
        let default = dense::Calibration::default();
        dense::Calibration {
            floor: self.dense_floor.unwrap_or(default.floor),
            ceiling: self.dense_ceiling.unwrap_or(default.ceiling),
            weight: self.dense_weight.unwrap_or(default.weight),
        }
    }
}

/// One Markdown file, before splitting.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Document {
    /// The file's path relative to the knowledge-base folder, `/`-separated: "returns.md".
    pub path: String,
    pub markdown: String,
}

/// One section of a help page: what the bot quotes and links to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Passage {
    /// The heading path, "Returns and refunds › How to return an item".
    pub title: String,
    /// The Markdown body under that heading, trimmed; at most [`MAX_PASSAGE_CHARS`].
    pub text: String,
    /// Where the section can be read: the page url and the heading's anchor.
    pub url: String,
}

/// One retrieved passage.
#[derive(Clone, Debug)]
pub struct Hit {
    pub passage: Arc<Passage>,
    /// The ranker's raw score: higher is better, comparable only within one search.
    pub score: f32,
}

/// The answer to one search.
#[derive(Clone, Debug, Default)]
pub struct Retrieval {
    /// Best first, at most the limit asked for.
    pub hits: Vec<Hit>,
    /// In [0, 1]: how well the knowledge base covers the query. 0 for an empty query or base.
    pub confidence: f32,
}

/// Ranks a fixed list of passages for a query: the seam where BM25 could give way to an
/// embedding ranker.
///
/// Contract: a ranker is built over one list of passages and never changes. `rank` returns
/// at most `limit` hits as (index into that list, score), best first, every score positive
/// and only comparable within the call; passages that do not match at all are left out.
/// `confidence` is in [0, 1] and is calibrated across queries: the same value means the
/// same coverage whatever the query, since one threshold is applied to all of them. It is
/// computed from the whole ranking, so it does not depend on `limit` (even 0).
pub trait Ranker: Send + Sync {
    fn rank(&self, query: &str, limit: usize) -> Ranking;
}

/// What a [`Ranker`] returns.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Ranking {
    /// (passage index, score), best first.
    pub hits: Vec<(usize, f32)>,
    pub confidence: f32,
}

/// Why a knowledge base could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum KnowledgeError {
    #[error("Failed to list the knowledge-base folder {path}")]
    ReadDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("Failed to read the knowledge-base file {path} (it must be UTF-8 text)")]
    ReadFile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl KnowledgeBase {
    /// Loads every `*.md` under `dir` (recursively, in sorted path order). An absent dir
    /// gives an empty base.
    #[tracing::instrument(name = "load_knowledge_base", skip(options))]
    pub fn load(dir: &Path, options: &KnowledgeOptions) -> Result<KnowledgeBase, KnowledgeError> {
        let documents = folder::read_documents(dir)?;
        let base = KnowledgeBase::from_documents(documents, options);
        tracing::info!(passages = base.len(), "Loaded the knowledge base");
        Ok(base)
    }

    /// Every `*.md` under `dir` as documents, as [`KnowledgeBase::load`] reads them.
    pub fn read_folder(dir: &Path) -> Result<Vec<Document>, KnowledgeError> {
        folder::read_documents(dir)
    }

    /// Builds from documents (a folder's, the owner's pages, tests').
    pub fn from_documents(docs: Vec<Document>, options: &KnowledgeOptions) -> KnowledgeBase {
        let passages: Vec<Arc<Passage>> =
            docs.iter().flat_map(|doc| markdown::passages(doc, options)).map(Arc::new).collect();
        let language = options.language.as_deref().unwrap_or(DEFAULT_LANGUAGE);
        let ranker = Box::new(bm25::Bm25::new(&passages, text::Analyzer::new(language)));
        KnowledgeBase {
            passages,
            ranker,
            vectors: OnceLock::new(),
            queries: Mutex::new(LruCache::new(QUERY_VECTORS)),
            calibration: options.calibration(),
        }
    }

    /// The best passages for `query`, at most `limit`, and how well they cover it: hybrid
    /// when the passages' vectors are installed and `query`'s is remembered, BM25 otherwise.
    pub fn search(&self, query: &str, limit: usize) -> Retrieval {
        if self.passages.is_empty() {
            return Retrieval::default();
        }
        let query_vector = self.vectors.get().and_then(|vectors| Some((vectors, self.query_vector(query)?)));
        let cosines = query_vector.and_then(|(vectors, vector)| vectors.cosines(&vector));
        let Some(cosines) = cosines else {
            let ranking = self.ranker.rank(query, limit);
            return Retrieval { hits: self.hits(ranking.hits), confidence: ranking.confidence };
        };
        let lexical = self.ranker.rank(query, limit.max(FUSION_DEPTH));
        let dense = dense::rank(&cosines);
        let best_cosine = dense.first().map_or(0.0, |&(_, cosine)| cosine);
        let confidence = self.calibration.confidence(lexical.confidence, best_cosine);
        Retrieval { hits: self.hits(dense::fuse(&lexical.hits, &dense, limit)), confidence }
    }

    fn hits(&self, ranked: Vec<(usize, f32)>) -> Vec<Hit> {
        ranked.into_iter().map(|(index, score)| Hit { passage: Arc::clone(&self.passages[index]), score }).collect()
    }

    /// What an embedding model is given, as (passage index, text): each passage whole and
    /// its sentences ([`dense::units`]), in passage order. At most [`dense::MAX_UNITS`]:
    /// every passage whole, then sentences while they fit, so a very large base costs a
    /// bounded memory and search time and is matched on its passages alone past that.
    pub fn embedding_units(&self) -> Vec<(usize, String)> {
        let mut budget = dense::MAX_UNITS.saturating_sub(self.passages.len());
        let mut units = Vec::new();
        for (i, passage) in self.passages.iter().enumerate() {
            let mut parts = dense::units(&passage.title, &passage.text).into_iter();
            units.extend(parts.next().map(|whole| (i, whole)));
            let sentences: Vec<String> = parts.take(budget).collect();
            budget -= sentences.len();
            units.extend(sentences.into_iter().map(|text| (i, text)));
        }
        units
    }

    /// Installs the vectors of [`Self::embedding_units`], in that order. False, and nothing
    /// installed, when they do not fit (another count, mixed lengths, zero rows) or when
    /// vectors were installed already.
    pub fn install_vectors(&self, rows: &[Vec<f32>]) -> bool {
        let owners: Vec<usize> = self.embedding_units().into_iter().map(|(owner, _)| owner).collect();
        match dense::Vectors::new(rows, &owners, self.passages.len()) {
            Some(vectors) => self.vectors.set(vectors).is_ok(),
            None => false,
        }
    }

    /// The passages' vectors are installed: searches of remembered texts are hybrid.
    pub fn has_vectors(&self) -> bool {
        self.vectors.get().is_some()
    }

    /// Keeps `vector` as `text`'s embedding for the searches that follow.
    pub fn remember_query(&self, text: &str, vector: &[f32]) {
        let Some(vector) = dense::unit(vector) else { return };
        self.queries.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).insert(text.to_owned(), vector.into());
    }

    /// Whether `text`'s embedding is remembered.
    pub fn knows_query(&self, text: &str) -> bool {
        self.queries.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).contains_key(text)
    }

    fn query_vector(&self, text: &str) -> Option<Arc<[f32]>> {
        self.queries.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).get(text).cloned()
    }

    /// The number of passages.
    pub fn len(&self) -> usize {
        self.passages.len()
    }

    pub fn is_empty(&self) -> bool {
        self.passages.is_empty()
    }
}

impl std::fmt::Debug for KnowledgeBase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KnowledgeBase").field("passages", &self.passages.len()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn document(path: &str, markdown: &str) -> Document {
        Document { path: path.to_owned(), markdown: markdown.to_owned() }
    }

    fn shop() -> KnowledgeBase {
        let documents = vec![
            document(
                "returns.md",
                "# Returns and refunds\n\nMost items can be sent back within 30 days.\n\n\
                 ## How to return an item\n\n1. Open your orders.\n2. Choose Return items.\n3. Print the label.\n\n\
                 ## Refunds\n\nRefunds reach your card within 5-10 business days.\n",
            ),
            document(
                "shipping.md",
                "# Shipping\n\n## Delivery times\n\nEU orders arrive in 2-5 business days.\n\n\
                 ## Countries\n\nWe deliver to the EU, the United Kingdom, the United States and Canada.\n",
            ),
            document(
                "payments.md",
                "# Payments\n\n## Payment methods\n\nWe accept Visa, Mastercard, PayPal and Apple Pay.\n",
            ),
            document("zh/help.md", "# 帮助\n\n## 联系人工客服\n\n点击右下角的按钮，即可联系人工客服。\n"),
        ];
        KnowledgeBase::from_documents(documents, &KnowledgeOptions::default())
    }

    #[test]
    fn the_section_that_answers_the_question_comes_first_with_high_confidence() {
        let retrieval = shop().search("How do I return an item?", 3);
        assert_eq!(retrieval.hits[0].passage.title, "Returns and refunds › How to return an item");
        assert_eq!(retrieval.hits[0].passage.url, "returns#how-to-return-an-item");
        assert!(retrieval.confidence > 0.6, "{}", retrieval.confidence);
    }

    #[test]
    fn unrelated_questions_have_low_confidence() {
        let base = shop();
        for question in ["what is the weather in Paris", "what's the capital of France", "tell me a joke"] {
            let confidence = base.search(question, 3).confidence;
            assert!(confidence < 0.3, "{question}: {confidence}");
        }
    }

    #[test]
    fn common_words_do_not_make_a_question_look_covered() {
        let base = shop();
        let covered = base.search("do you deliver to Canada", 3).confidence;
        let uncovered = base.search("do you deliver pizza to the moon", 3).confidence;
        assert!(uncovered < covered - 0.2, "{uncovered} vs {covered}");
    }

    #[test]
    fn an_empty_query_gives_no_hits_and_zero_confidence() {
        for query in ["", "   ", "?!", "what is it"] {
            let retrieval = shop().search(query, 3);
            assert!(retrieval.hits.is_empty() && retrieval.confidence == 0.0, "{query:?}");
        }
    }

    #[test]
    fn a_one_passage_base_still_separates_related_and_unrelated_questions() {
        let markdown = "# Returns\n\n## How to return an item\n\nPrint the return label within 30 days.\n";
        let base = KnowledgeBase::from_documents(vec![document("returns.md", markdown)], &KnowledgeOptions::default());
        assert!(base.search("How do I return an item?", 3).confidence > 0.6);
        assert_eq!(base.search("zebra quantum", 3).confidence, 0.0);
    }

    #[test]
    fn an_empty_base_gives_no_hits_and_zero_confidence() {
        let base = KnowledgeBase::from_documents(Vec::new(), &KnowledgeOptions::default());
        let retrieval = base.search("How do I return an item?", 3);
        assert!(base.is_empty() && retrieval.hits.is_empty() && retrieval.confidence == 0.0);
    }

    #[test]
    fn hits_are_best_first_and_limited() {
        let hits = shop().search("refunds for returned items", 2).hits;
        assert_eq!(hits.len(), 2);
        assert!(hits[0].score >= hits[1].score);
    }

    #[test]
    fn a_chinese_question_finds_the_chinese_passage() {
        let retrieval = shop().search("人工客服", 3);
        assert_eq!(retrieval.hits[0].passage.title, "帮助 › 联系人工客服");
        assert!(retrieval.confidence > 0.6, "{}", retrieval.confidence);
    }

    #[test]
    fn a_french_base_matches_inflections_and_unaccented_spellings() {
        let documents = vec![document(
            "retours.md",
            "# Retours\n\n## Comment retourner un article\n\nVous êtes remboursé sous 10 jours.\n\n\
             ## Livraison\n\nNous livrons en Belgique.\n",
        )];
        let options = KnowledgeOptions { language: Some("fr".into()), ..Default::default() };
        let base = KnowledgeBase::from_documents(documents, &options);
        let retrieval = base.search("je voudrais retourner mes articles, serai-je rembourse ?", 3);
        assert_eq!(retrieval.hits[0].passage.title, "Retours › Comment retourner un article");
        assert!(retrieval.confidence > 0.5, "{}", retrieval.confidence);
    }

    #[test]
    fn load_reads_a_folder_and_an_absent_one_is_empty() {
        let dir = std::env::temp_dir().join(format!("baton-kb-load-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("faq.md"), "# FAQ\n\n## Opening hours\n\nWe answer from 9 to 17.\n").unwrap();
        let options = KnowledgeOptions { base_url: Some("https://s.example/help/".into()), ..Default::default() };
        let base = KnowledgeBase::load(&dir, &options).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(base.len(), 1);
        assert_eq!(base.search("opening hours", 1).hits[0].passage.url, "https://s.example/help/faq#opening-hours");
        assert!(KnowledgeBase::load(&dir, &options).unwrap().is_empty());
    }

    #[test]
    fn options_are_read_from_configuration_and_reject_unknown_keys() {
        let options: KnowledgeOptions = serde_json::from_str(r#"{"language": "de"}"#).unwrap();
        assert_eq!((options.language.as_deref(), options.base_url), (Some("de"), None));
        assert!(serde_json::from_str::<KnowledgeOptions>(r#"{"lang": "de"}"#).is_err());
    }

    /// Vectors for `base`'s units: 1 in the dimension of the first concept whose words the
    /// unit contains, else in the next one (a stand-in for a model that knows those words
    /// mean one thing each); one more dimension is left for questions about none of it.
    fn concept_vectors(base: &KnowledgeBase, concepts: &[&[&str]]) -> Vec<Vec<f32>> {
        let vector = |text: &str| {
            let lower = text.to_lowercase();
            let mut v = vec![0.0; concepts.len() + 2];
            let hit = concepts.iter().position(|words| words.iter().any(|w| lower.contains(w)));
            v[hit.unwrap_or(concepts.len())] = 1.0;
            v
        };
        base.embedding_units().iter().map(|(_, text)| vector(text)).collect()
    }

    #[test]
    fn with_vectors_a_remembered_question_is_ranked_and_trusted_by_meaning() {
        let base = shop();
        let concepts: &[&[&str]] = &[&["card", "visa", "pay"], &["refund", "money back"]];
        let question = "can I get my money back";
        let before = base.search(question, 3);
        assert!(base.install_vectors(&concept_vectors(&base, concepts)));
        assert!(!base.install_vectors(&concept_vectors(&base, concepts)), "installed once");
        assert_eq!(base.search(question, 3).confidence, before.confidence, "not remembered: BM25 alone");
        base.remember_query(question, &[0.0, 1.0, 0.0, 0.0]);
        let after = base.search(question, 3);
        assert!(after.hits[0].passage.title.to_lowercase().contains("refund"), "{:?}", after.hits[0].passage.title);
        assert!(after.confidence > before.confidence + 0.3, "{} -> {}", before.confidence, after.confidence);
        base.remember_query("tell me a joke", &[0.0, 0.0, 0.0, 1.0]);
        assert!(base.search("tell me a joke", 3).confidence < 0.3);
    }

    #[test]
    fn vectors_that_do_not_fit_the_passages_are_refused() {
        let base = shop();
        let mut rows = concept_vectors(&base, &[&["card"]]);
        rows.pop();
        assert!(!base.install_vectors(&rows) && !base.has_vectors());
        base.remember_query("refund", &[1.0, 0.0, 0.0, 0.0]);
        assert!(base.search("refund", 3).confidence > 0.0, "still searched by words");
    }

    #[test]
    fn a_huge_base_embeds_every_passage_and_sentences_up_to_the_bound() {
        let sections: String = (0..8000)
            .map(|i| {
                format!("## Topic {i}\n\nThe first sentence about {i} here. The second sentence about {i} here.\n\n")
            })
            .collect();
        let base = KnowledgeBase::from_documents(
            vec![document("big.md", &format!("# Big\n\n{sections}"))],
            &KnowledgeOptions::default(),
        );
        let units = base.embedding_units();
        assert_eq!(units.len(), dense::MAX_UNITS.max(base.len()));
        let owners: std::collections::BTreeSet<usize> = units.iter().map(|(i, _)| *i).collect();
        assert_eq!(owners.len(), base.len(), "every passage has its whole vector");
    }

    #[test]
    fn a_knowledge_base_can_be_shared_across_threads() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<KnowledgeBase>();
        assert_send_sync::<Retrieval>();
    }

    /// Prints the time per search over a few hundred passages; no assertion, since timing
    /// depends on the machine (run with `--release --nocapture` to see a meaningful number).
    #[test]
    fn searching_a_few_hundred_passages_is_timed() {
        let topics = ["delivery", "returns", "payment", "account", "warranty", "invoice", "gift", "order"];
        let documents = (0..60)
            .map(|i| {
                let sections: String = (0..5)
                    .map(|j| {
                        format!(
                            "## {} {i} {j}\n\nText about {} number {i}, step {j}.\n\n",
                            topics[j],
                            topics[(i + j) % 8]
                        )
                    })
                    .collect();
                document(&format!("page{i}.md"), &format!("# Page {i}\n\n{sections}"))
            })
            .collect();
        let base = KnowledgeBase::from_documents(documents, &KnowledgeOptions::default());
        let queries = ["how long does delivery take", "return an item for a refund", "change my account email"];
        let rounds = 1000;
        let started = std::time::Instant::now();
        for i in 0..rounds {
            std::hint::black_box(base.search(queries[i % queries.len()], 5));
        }
        let micros = started.elapsed().as_secs_f64() * 1e6 / rounds as f64;
        println!("{} passages: {micros:.1} µs per search", base.len());
    }
}
