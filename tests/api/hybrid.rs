//! Hybrid retrieval through the real path: a node with `llm.embedding_model` embeds the demo
//! site's passages at the scripted server's `/v1/embeddings`, then embeds each visitor turn
//! before judging and answering it. The scripted model knows only the synonym groups each
//! test gives it (`scripted_llm/embeddings.rs`), so what it changes is visible: a question
//! in words the help pages never use is answered from the right passage, and an embedding
//! server that fails or is slow leaves the turn to BM25 without losing it.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::helpers::{TestApp, spawn_app, spawn_app_with};
use crate::owner_api::ready_with_key;
use crate::owner_changes::send;
use crate::scripted_llm::ScriptedLlm;

/// The demo's "Faulty items and warranty" section, in words it does not contain.
const BUSTED: &str = "My kettle is busted, what now?";
/// What only that section says.
const WARRANTY: &str = "2-year warranty";
const MODEL: &str = "scripted-embedding";

fn text(message: &Value) -> &str {
    message["text"].as_str().unwrap_or_default()
}

/// An embedding server where a busted kettle means a faulty item.
async fn embeddings() -> ScriptedLlm {
    let server = ScriptedLlm::start().await;
    server.synonyms(&["faulty", "fault", "busted", "broken"]);
    server.synonyms(&["electronics", "kettle", "appliance"]);
    server
}

async fn app_embedding_at(server: &ScriptedLlm, timeout_ms: u64) -> TestApp {
    let url = server.base_url.clone();
    spawn_app_with(move |s| {
        s.llm.embedding_model = Some(MODEL.into());
        s.llm.embedding_base_url = Some(url);
        s.llm.embedding_timeout_ms = timeout_ms;
    })
    .await
}

/// The page list's `search` status, once `embedded` is `want` (within 20 s).
async fn search_status(app: &TestApp, key: &str, want: bool) -> Value {
    let started = Instant::now();
    loop {
        let (status, list) = send(app, key, "GET", "/v1/api/sites/demo/kb", None).await;
        assert_eq!(status, 200, "{list}");
        if list["search"]["embedded"] == want || started.elapsed() > Duration::from_secs(20) {
            return list["search"].clone();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn answer(app: &TestApp, question: &str) -> Value {
    let (mut visitor, _) = app.connect_visitor().await;
    visitor.say("q1", question).await;
    visitor.next_bot_message().await
}

#[tokio::test]
async fn a_question_in_words_the_pages_never_use_is_answered_from_the_right_passage() {
    let server = embeddings().await;
    let app = app_embedding_at(&server, 2_000).await;
    let key = ready_with_key(&app, "read").await;
    let search = search_status(&app, &key, true).await;
    assert_eq!(
        (search["embedded"].as_bool(), search["embedding_model"].as_str()),
        (Some(true), Some(MODEL)),
        "{search}"
    );
    assert!(search["passages"].as_u64().unwrap() > 20, "{search}");
    let embedded = server.embedded();
    assert!(embedded.iter().any(|t| t.starts_with("Faulty items and warranty: ")), "passages by sentence");

    let reply = answer(&app, BUSTED).await;
    assert!(text(&reply).contains(WARRANTY), "{reply}");
    assert!(server.embedded().iter().any(|t| t == BUSTED), "the turn was embedded");

    // The same question on a node searching by words alone finds nothing to quote.
    let words_only = answer(&spawn_app().await, BUSTED).await;
    assert!(!text(&words_only).contains(WARRANTY), "{words_only}");
}

#[tokio::test]
async fn a_failing_or_slow_embedding_server_leaves_the_turn_to_words_and_loses_nothing() {
    let server = embeddings().await;
    let app = app_embedding_at(&server, 300).await;
    let key = ready_with_key(&app, "read").await;
    assert_eq!(search_status(&app, &key, true).await["embedded"], true);

    server.slow_embeddings(Duration::from_secs(5));
    let started = Instant::now();
    let reply = answer(&app, "How long does a refund take?").await;
    assert!(text(&reply).contains("business days"), "answered from BM25: {reply}");
    assert!(started.elapsed() < Duration::from_secs(5), "the turn waited past its bound: {:?}", started.elapsed());

    // Within the pause after a failure, turns are not even sent.
    server.slow_embeddings(Duration::ZERO);
    server.fail_embeddings(Some(500));
    let reply = answer(&app, "How do I return an item?").await;
    assert!(text(&reply).starts_with("1. Sign in and go to"), "answered from BM25: {reply}");
    assert!(!server.embedded().iter().any(|t| t == "How do I return an item?"), "asked within the pause");

    // Past it, a failing server is asked and the turn is searched by words alone.
    tokio::time::sleep(baton::bot::embeddings::PAUSE_AFTER_FAILURE).await;
    assert!(!text(&answer(&app, BUSTED).await).contains(WARRANTY));
    assert!(server.embedded().iter().any(|t| t == BUSTED));

    // Once it answers again (and the pause that failure began is over), meaning is back.
    server.fail_embeddings(None);
    tokio::time::sleep(baton::bot::embeddings::PAUSE_AFTER_FAILURE).await;
    assert!(text(&answer(&app, BUSTED).await).contains(WARRANTY));
}

#[tokio::test]
async fn pages_embedded_while_the_server_is_away_are_embedded_when_it_returns() {
    let server = embeddings().await;
    server.fail_embeddings(Some(503));
    let app = app_embedding_at(&server, 2_000).await;
    let key = ready_with_key(&app, "read").await;
    let search = send(&app, &key, "GET", "/v1/api/sites/demo/kb", None).await.1["search"].clone();
    assert_eq!(search["embedded"], false, "{search}");
    let reply = answer(&app, "How do I return an item?").await;
    assert!(text(&reply).starts_with("1. Sign in and go to"), "BM25 meanwhile: {reply}");

    server.fail_embeddings(None);
    assert_eq!(search_status(&app, &key, true).await["embedded"], true, "retried");
    assert!(text(&answer(&app, BUSTED).await).contains(WARRANTY));
}
