//! A site's model spend cap, `llm.daily_token_budget`, through the real socket and a real
//! (scripted) OpenAI-compatible server: the server's own usage count is charged when it sends
//! one, an estimate when it does not; a spent budget sends no request to the model, the
//! knowledge base answers where it can, the visitor is told otherwise; and the budget is one
//! for every node on a shared Redis.

use std::time::Duration;

use serde_json::Value;

use crate::helpers::{Client, TestApp, spawn_app_with_llm};
use crate::redis_server::{RedisServer, namespace};
use crate::scripted_llm::Behaviour;

/// What an English visitor is told when the budget is spent and the knowledge base has nothing.
const BUDGET_NOTICE: &str =
    "Our assistant has answered all it can for today. You can ask to talk to a person, or try our help pages.";

fn with_budget(tokens: u64) -> impl FnOnce(&mut baton::config::Settings) {
    move |s| {
        for site in &mut s.sites {
            site.llm.daily_token_budget = Some(tokens);
        }
    }
}

/// Frames until the next `message` not from the visitor; returns that message.
async fn reply_to(visitor: &mut Client, client_id: &str, text: &str) -> Value {
    visitor.say(client_id, text).await;
    let frames = visitor.collect_until(|f| f["type"] == "message" && f["from"] != "visitor").await;
    // The charge of the request that made this reply is stored as its stream ends; give the
    // store a moment before the next question is judged against it.
    tokio::time::sleep(Duration::from_millis(200)).await;
    frames.last().cloned().expect("a reply")
}

#[tokio::test]
async fn a_spent_budget_asks_the_model_nothing_the_knowledge_base_answers_and_otherwise_the_visitor_is_told() {
    // The scripted server counts every request as 1,000 prompt tokens plus one per piece, so
    // the first reply (1,003 tokens) spends a budget of 1,000.
    let app = spawn_app_with_llm(with_budget(1_000)).await;
    let (mut visitor, _) = app.connect_visitor().await;

    let first = reply_to(&mut visitor, "q1", "How do I return an item?").await;
    assert_eq!(first["text"], "This is the scripted model's answer.", "{first}");
    let requests = app.llm().requests();
    assert_eq!(requests[0]["stream_options"]["include_usage"], true, "the server's count is asked for");

    // Spent: the knowledge base answers a question it covers, and the model is not asked.
    let second = reply_to(&mut visitor, "q2", "How long does shipping take?").await;
    assert_eq!(second["from"], "bot", "{second}");
    assert_ne!(second["text"], first["text"], "not the model's words: {second}");
    assert_eq!(second["sources"].as_array().map(Vec::len), Some(1), "a passage, cited: {second}");
    assert_eq!(app.llm().requests().len(), 1, "nothing was sent to the model");

    // A question it does not cover: one notice saying what happened, and still no request.
    let third = reply_to(&mut visitor, "q3", "What is the airspeed velocity of an unladen swallow?").await;
    assert_eq!((third["from"].as_str(), third["text"].as_str()), (Some("system"), Some(BUDGET_NOTICE)), "{third}");
    assert_eq!(app.llm().requests().len(), 1);
}

#[tokio::test]
async fn a_site_without_a_budget_sends_no_usage_request_and_is_never_refused() {
    let app = spawn_app_with_llm(|_| {}).await;
    let (mut visitor, _) = app.connect_visitor().await;
    for (i, question) in
        ["How do I return an item?", "How long does shipping take?", "Can I pay with PayPal?"].iter().enumerate()
    {
        let reply = reply_to(&mut visitor, &format!("q{i}"), question).await;
        assert_eq!(reply["text"], "This is the scripted model's answer.", "{reply}");
    }
    let requests = app.llm().requests();
    assert_eq!(requests.len(), 3);
    assert!(requests.iter().all(|r| r.get("stream_options").is_none()), "no budget, no usage asked for");
}

#[tokio::test]
async fn a_server_that_reports_no_usage_is_charged_an_estimate_of_the_prompt_and_reply() {
    // The prompt alone (instructions and passages) is well over 50 tokens at four characters
    // a token, so one request spends a budget of 50.
    let app = spawn_app_with_llm(with_budget(50)).await;
    app.llm().set_behaviour(Behaviour::default().ignore_usage());
    let (mut visitor, _) = app.connect_visitor().await;
    let first = reply_to(&mut visitor, "q1", "How do I return an item?").await;
    assert_eq!(first["text"], "This is the scripted model's answer.", "{first}");
    let third = reply_to(&mut visitor, "q2", "What is the airspeed velocity of an unladen swallow?").await;
    assert_eq!(third["text"], BUDGET_NOTICE, "{third}");
    assert_eq!(app.llm().requests().len(), 1, "the estimate spent the budget");
}

async fn node_on(redis: &RedisServer, ns: &str, budget: u64) -> TestApp {
    let (url, ns) = (redis.url(), ns.to_owned());
    spawn_app_with_llm(move |s| {
        with_budget(budget)(s);
        s.store.redis_url = Some(url.into());
        s.store.namespace = ns;
    })
    .await
}

#[tokio::test]
async fn the_budget_is_one_for_every_node_on_a_shared_redis() {
    let redis = RedisServer::start();
    let ns = namespace();
    let (a, b) = (node_on(&redis, &ns, 1_000).await, node_on(&redis, &ns, 1_000).await);
    let (mut on_a, _) = a.connect_visitor().await;
    let first = reply_to(&mut on_a, "q1", "How do I return an item?").await;
    assert_eq!(first["text"], "This is the scripted model's answer.", "{first}");
    // Another visitor, on the other node, after node A spent the site's budget.
    let (mut on_b, _) = b.connect_visitor().await;
    let other = reply_to(&mut on_b, "q1", "What is the airspeed velocity of an unladen swallow?").await;
    assert_eq!(other["text"], BUDGET_NOTICE, "{other}");
    assert!(b.llm().requests().is_empty(), "node B asked its model nothing");
}
