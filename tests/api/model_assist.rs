//! Issue #14, points 3 and 6, the rest of them: an unusable draft falls back visibly to the
//! knowledge base's passages, and a model the endpoint does not list is reported by
//! `/readyz` without failing readiness.

use std::time::Duration;

use crate::helpers::{agent, spawn_app_with_llm};
use crate::scripted_llm::Script;

#[tokio::test]
async fn drafts_that_echo_the_instructions_fall_back_to_passages_marked_knowledge_base() {
    let app = spawn_app_with_llm(|s| s.agents = vec![agent("ana", "token-ana", &["support"], 2)]).await;
    let (mut ana, _) = app.connect_agent("token-ana").await;
    let (mut visitor, _) = app.connect_visitor().await;
    visitor.say("q0", "How do I return an item?").await;
    visitor.next_bot_message().await;
    // Both the summary and the drafts get the instructions parroted back.
    let echo = "You draft replies for a person on the support team of Northwind Goods. Using only the knowledge base \
                excerpts below, write 3 different short replies";
    for _ in 0..2 {
        app.llm().push(Script::Reply { pieces: vec![echo.to_owned()], delay: Duration::ZERO });
    }
    visitor.send(serde_json::json!({"type": "request_human"})).await;
    let suggestions = ana.next_of_type("suggestions").await;
    assert_eq!(suggestions["source"], "knowledge_base", "{suggestions}");
    let replies = suggestions["replies"].as_array().unwrap();
    assert!(!replies.is_empty(), "the passages about returns: {suggestions}");
    assert!(replies.iter().all(|r| !r.as_str().unwrap().contains("You draft replies")), "{suggestions}");
}

#[tokio::test]
async fn a_model_the_endpoint_does_not_list_is_reported_by_readiness_which_still_passes() {
    let app = spawn_app_with_llm(|s| s.llm.model = "no-such-model".into()).await;
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status(), 200, "the knowledge base can still answer");
    let body = ready.text().await.unwrap();
    assert!(body.contains("no-such-model") && body.contains("not listed"), "{body}");
}
