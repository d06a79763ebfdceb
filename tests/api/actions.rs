//! Bot actions through the real path: the scripted model (real HTTP, real SSE) calls a
//! site's action as an OpenAI tool, Baton checks the arguments against the action's schema
//! and calls a real local endpoint with the secret header and the verified identity, streams
//! the progress line, and feeds the result back to the model, whose answer reaches the
//! visitor. Confirmations go through the visitor's socket; every call is a note for agents.

use std::time::Duration;

use baton::config::{ActionConfig, Routing, Settings};
use baton::store::Counter;
use serde_json::{Value, json};

use crate::action_endpoint::Endpoint;
use crate::helpers::{Client, TestApp, spawn_app_with_llm};
use crate::identity::user_hash;
use crate::scripted_llm::{Script, pieces};

const SECRET: &str = "action-secret-s3cret";
/// The demo site's identity secret (`config/sites/demo.toml`).
const DEMO_IDENTITY_SECRET: &str = "demo-identity-secret";

/// An action of the demo site, as its TOML would declare it.
fn action(name: &str, endpoint: &Endpoint, extra: &str) -> ActionConfig {
    let text = format!(
        "name = \"{name}\"\ndescription = \"Look up an order's status by its number.\"\nendpoint = \"{}\"\n\
         secret = \"{SECRET}\"\nparameters = '{{\"type\":\"object\",\"properties\":{{\"order_id\":{{\"type\":\"string\",\
         \"pattern\":\"^A-[0-9]+$\"}},\"amount\":{{\"type\":\"number\"}}}},\"required\":[\"order_id\"]}}'\n{extra}",
        endpoint.url
    );
    let mut action: ActionConfig = toml::from_str(&text).unwrap();
    action.validate("actions[0]").unwrap();
    action
}

/// The app with the demo site's actions, http and private targets allowed (the endpoint
/// listens on 127.0.0.1).
async fn app_with(actions: Vec<ActionConfig>, tweak: impl FnOnce(&mut Settings)) -> TestApp {
    spawn_app_with_llm(move |settings| {
        settings.actions.allow_http = true;
        settings.actions.allow_private_targets = true;
        let demo = settings.sites.iter_mut().find(|s| s.id == "demo").unwrap();
        demo.actions = actions;
        // Agents pick chats: the one that previews a transcript never takes it by routing.
        demo.handoff.routing = Routing::Manual;
        tweak(settings);
    })
    .await
}

fn tool_call(name: &str, arguments: Value) -> Script {
    Script::ToolCall { text: String::new(), tool: name.into(), arguments: arguments.to_string() }
}

fn reply(words: &[&str]) -> Script {
    Script::Reply { pieces: pieces(words), delay: Duration::ZERO }
}

/// A verified visitor (`user-42`) on the demo site, past the greeting.
async fn verified_visitor(app: &TestApp) -> (Client, Value) {
    let mut client = app.open_visitor("demo", Some("http://localhost:3000")).await.unwrap();
    let hash = user_hash(DEMO_IDENTITY_SECRET, "user-42");
    let visitor = json!({"user_id": "user-42", "name": "Ana Lima", "user_hash": hash});
    client.send(json!({"type": "hello", "locale": "en", "visitor": visitor})).await;
    let welcome = client.next_of_type("welcome").await;
    assert_eq!(welcome["identity"], "verified");
    let last = welcome["last_seq"].as_u64().unwrap();
    client.collect_until(|f| f["seq"].as_u64() == Some(last)).await;
    (client, welcome)
}

/// The notes an agent sees in the conversation's transcript, on the agent's socket: the
/// visitor asks for a person and the development agent previews the waiting chat.
async fn notes(app: &TestApp, visitor: &mut Client, welcome: &Value) -> Vec<String> {
    visitor.send(json!({"type": "request_human"})).await;
    while visitor.next_of_type("state").await["state"] != "queued" {}
    let (mut agent, _) = app.connect_agent("demo-agent-token").await;
    agent.send(json!({"type": "preview", "conversation_id": welcome["conversation_id"]})).await;
    let preview = agent.next_of_type("preview").await;
    let events = preview["conversation"]["events"].as_array().unwrap().clone();
    let notes = events.iter().filter(|e| e["type"] == "note" && e["author"]["name"] == "Bot action");
    notes.map(|e| e["text"].as_str().unwrap().to_owned()).collect()
}

/// The messages of the model's request `n` whose role is `role`.
fn with_role(app: &TestApp, n: usize, role: &str) -> Vec<Value> {
    let request = &app.llm().requests()[n];
    request["messages"].as_array().unwrap().iter().filter(|m| m["role"] == role).cloned().collect()
}

#[tokio::test]
async fn the_model_calls_an_action_and_its_answer_from_the_result_reaches_the_visitor() {
    let endpoint = Endpoint::start(r#"{"order_id":"A-1001","status":"shipped","carrier":"DHL"}"#);
    let progress = "progress = \"Looking up your order…\"\n";
    let app = app_with(vec![action("order_status", &endpoint, progress)], |_| {}).await;
    app.llm().push(tool_call("order_status", json!({"order_id": "A-1001"})));
    app.llm().push(reply(&["Your order A-1001 ", "has shipped with DHL."]));
    let (mut visitor, welcome) = verified_visitor(&app).await;
    visitor.say("m1", "Where is my order A-1001?").await;
    let frames = visitor.collect_until(|f| f["type"] == "message" && f["from"] == "bot").await;

    let deltas: String =
        frames.iter().filter(|f| f["type"] == "bot_delta").map(|f| f["text"].as_str().unwrap()).collect();
    assert!(deltas.contains("Looking up your order…"), "the progress line is streamed: {deltas}");
    assert_eq!(frames.last().unwrap()["text"], "Your order A-1001 has shipped with DHL.");
    assert!(frames.iter().all(|f| f["type"] != "note"), "the visitor never sees the call's record");

    let calls = endpoint.calls();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].secret.as_deref(), Some(SECRET));
    assert_eq!(calls[0].body["action"], "order_status");
    assert_eq!(calls[0].body["arguments"], json!({"order_id": "A-1001"}));
    assert_eq!(calls[0].body["identity"]["user_id"], "user-42");
    assert_eq!(calls[0].body["identity"]["verified"], true);
    assert_eq!(calls[0].body["conversation_id"], welcome["conversation_id"]);

    let first = &app.llm().requests()[0];
    let offered: Vec<&str> =
        first["tools"].as_array().unwrap().iter().filter_map(|t| t["function"]["name"].as_str()).collect();
    assert!(offered.contains(&"order_status"), "{offered:?}");
    let answered = with_role(&app, 1, "tool");
    assert!(answered[0]["content"].as_str().unwrap().contains("shipped"), "the result goes back to the model");
    let asked = with_role(&app, 1, "assistant");
    let call = &asked.last().unwrap()["tool_calls"][0];
    assert_eq!((&call["function"]["name"], &call["id"]), (&json!("order_status"), &answered[0]["tool_call_id"]));

    let recorded = notes(&app, &mut visitor, &welcome).await;
    let note = recorded.iter().find(|n| n.starts_with("order_status: answered")).expect("the call is recorded");
    assert!(note.contains(r#""order_id":"A-1001""#) && note.contains("carrier"), "arguments and result: {note}");
    assert!(!note.contains(SECRET), "never the secret");
}

#[tokio::test]
async fn an_unverified_identity_is_never_passed_to_an_endpoint() {
    let endpoint = Endpoint::start(r#"{"status":"shipped"}"#);
    let app = app_with(vec![action("order_status", &endpoint, "")], |_| {}).await;
    app.llm().push(tool_call("order_status", json!({"order_id": "A-7"})));
    app.llm().push(reply(&["Shipped."]));
    let mut client = app.open_visitor("demo", Some("http://localhost:3000")).await.unwrap();
    let claim = json!({"user_id": "user-42", "name": "Someone Else"});
    client.send(json!({"type": "hello", "locale": "en", "visitor": claim})).await;
    let welcome = client.next_of_type("welcome").await;
    assert_eq!(welcome["identity"], "unverified");
    client.say("m1", "Where is order A-7?").await;
    assert_eq!(client.next_bot_message().await["text"], "Shipped.");
    assert_eq!(endpoint.calls()[0].body["identity"], Value::Null);
}

#[tokio::test]
async fn arguments_the_schema_refuses_never_reach_the_endpoint_and_the_model_is_told_why() {
    let endpoint = Endpoint::start(r#"{"status":"shipped"}"#);
    let app = app_with(vec![action("order_status", &endpoint, "")], |_| {}).await;
    app.llm().push(tool_call("order_status", json!({"order_id": 1001})));
    app.llm().push(reply(&["Which order number do you mean? It starts with A-."]));
    let (mut visitor, welcome) = verified_visitor(&app).await;
    visitor.say("m1", "Where is my order?").await;
    assert_eq!(visitor.next_bot_message().await["text"], "Which order number do you mean? It starts with A-.");
    assert!(endpoint.calls().is_empty(), "refused arguments are never sent");
    let told = with_role(&app, 1, "tool");
    let content = told[0]["content"].as_str().unwrap();
    assert!(content.contains("invalid arguments") && content.contains("order_id"), "{content}");
    let recorded = notes(&app, &mut visitor, &welcome).await;
    assert!(recorded.iter().any(|n| n.starts_with("order_status: refused: invalid arguments")), "{recorded:?}");
}

#[tokio::test]
async fn a_slow_endpoint_times_out_with_a_clear_message_and_counts_as_a_bot_error() {
    let endpoint = Endpoint::start(r#"{"status":"late"}"#);
    endpoint.delay(Duration::from_secs(30));
    let app = app_with(vec![action("order_status", &endpoint, "timeout_ms = 300\n")], |_| {}).await;
    app.llm().push(tool_call("order_status", json!({"order_id": "A-1"})));
    let (mut visitor, welcome) = verified_visitor(&app).await;
    visitor.say("m1", "Where is order A-1?").await;
    let told = visitor.next_bot_message().await;
    assert_eq!(told["from"], "system");
    assert!(told["text"].as_str().unwrap().starts_with("Sorry, I couldn't get that done just now."), "{told}");
    assert_eq!(endpoint.calls().len(), 1);
    assert_eq!(app.conversation(&welcome).await.counter(Counter::BotErrors), 1);
    assert_eq!(app.llm().requests().len(), 1, "no answer is asked of the model after a failed call");
    let recorded = notes(&app, &mut visitor, &welcome).await;
    assert!(
        recorded.iter().any(|n| n.contains("timeout") && n.contains("did not answer within 300 ms")),
        "{recorded:?}"
    );
    let metrics = app.get("/metrics").await.text().await.unwrap();
    assert!(metrics.contains(r#"baton_bot_action_calls_total{outcome="timeout"}"#), "{metrics}");
}

/// The app with a refund that needs the visitor's confirmation; returns the visitor past the
/// `confirm_action` frame, with it.
async fn asked_to_confirm(endpoint: &Endpoint, then: &[&str]) -> (TestApp, Client, Value, Value) {
    let summary = "confirm = true\nsummary = \"Refund {amount} € on order {order_id}\"\n";
    let app = app_with(vec![action("refund", endpoint, summary)], |_| {}).await;
    app.llm().push(tool_call("refund", json!({"order_id": "A-1001", "amount": 20})));
    app.llm().push(reply(then));
    let (mut visitor, welcome) = verified_visitor(&app).await;
    visitor.say("m1", "Please refund order A-1001.").await;
    let asked = visitor.next_of_type("confirm_action").await;
    (app, visitor, welcome, asked)
}

#[tokio::test]
async fn a_confirm_action_waits_for_the_visitor_and_cancel_never_calls_the_endpoint() {
    let endpoint = Endpoint::start(r#"{"refunded":true}"#);
    let (app, mut visitor, welcome, asked) = asked_to_confirm(&endpoint, &["All right, nothing was refunded."]).await;
    assert_eq!(asked["summary"], "Refund 20 € on order A-1001");
    assert_eq!(asked["action"], "refund");
    visitor.assert_silent(Duration::from_millis(300)).await;
    assert!(endpoint.calls().is_empty(), "nothing is called before the visitor answers");
    visitor.send(json!({"type": "action_answer", "call_id": asked["call_id"], "confirmed": false})).await;
    let answered = visitor.next_of_type("action_answered").await;
    assert_eq!((&answered["call_id"], &answered["confirmed"]), (&asked["call_id"], &json!(false)));
    assert_eq!(visitor.next_bot_message().await["text"], "All right, nothing was refunded.");
    assert!(endpoint.calls().is_empty(), "Cancel never calls the endpoint");
    let told = with_role(&app, 1, "tool");
    assert!(told[0]["content"].as_str().unwrap().contains("Cancel"), "the model is told the visitor declined");
    assert!(notes(&app, &mut visitor, &welcome).await.iter().any(|n| n.starts_with("refund: declined")));
}

#[tokio::test]
async fn a_visitor_who_writes_instead_of_answering_has_not_confirmed() {
    let endpoint = Endpoint::start(r#"{"refunded":true}"#);
    let (app, mut visitor, _welcome, asked) = asked_to_confirm(&endpoint, &["Nothing was refunded."]).await;
    // A question the knowledge base answers: the policy keeps the chat with the bot.
    visitor.say("m2", "How do I return an item?").await;
    let closed = visitor.next_of_type("action_answered").await;
    assert_eq!((&closed["call_id"], &closed["confirmed"]), (&asked["call_id"], &json!(false)), "the card goes");
    assert_eq!(visitor.next_bot_message().await["text"], "Nothing was refunded.");
    assert!(endpoint.calls().is_empty());
    let told = with_role(&app, 1, "tool");
    assert!(told[0]["content"].as_str().unwrap().contains("wrote something else"), "{told:?}");
}

#[tokio::test]
async fn confirming_calls_the_endpoint_once_and_the_model_answers_from_it() {
    let endpoint = Endpoint::start(r#"{"refunded":true,"amount":20}"#);
    let (app, mut visitor, _welcome, asked) = asked_to_confirm(&endpoint, &["Done: 20 € are on their way back."]).await;
    assert!(endpoint.calls().is_empty());
    visitor.send(json!({"type": "action_answer", "call_id": asked["call_id"], "confirmed": true})).await;
    assert_eq!(visitor.next_bot_message().await["text"], "Done: 20 € are on their way back.");
    let calls = endpoint.calls();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].body["arguments"], json!({"order_id": "A-1001", "amount": 20}));
    assert!(with_role(&app, 1, "tool")[0]["content"].as_str().unwrap().contains("refunded"));
}

#[tokio::test]
async fn a_reply_makes_at_most_max_calls_per_turn_then_the_model_must_answer() {
    let endpoint = Endpoint::start(r#"{"status":"shipped"}"#);
    let app = app_with(vec![action("order_status", &endpoint, "")], |s| s.actions.max_calls_per_turn = 2).await;
    app.llm().push(tool_call("order_status", json!({"order_id": "A-1"})));
    app.llm().push(tool_call("order_status", json!({"order_id": "A-2"})));
    app.llm().push(reply(&["Both have shipped."]));
    let (mut visitor, _) = verified_visitor(&app).await;
    visitor.say("m1", "Where are A-1 and A-2?").await;
    assert_eq!(visitor.next_bot_message().await["text"], "Both have shipped.");
    assert_eq!(endpoint.calls().len(), 2);
    let requests = app.llm().requests();
    assert_eq!(requests.len(), 3);
    let offered =
        |r: &Value| r["tools"].as_array().is_some_and(|t| t.iter().any(|t| t["function"]["name"] == "order_status"));
    assert!(offered(&requests[1]) && !offered(&requests[2]), "the last request offers no action");
}

#[tokio::test]
async fn a_model_that_calls_past_the_bound_and_writes_nothing_is_a_failed_reply() {
    let endpoint = Endpoint::start(r#"{"status":"shipped"}"#);
    let app = app_with(vec![action("order_status", &endpoint, "")], |s| s.actions.max_calls_per_turn = 1).await;
    app.llm().push(tool_call("order_status", json!({"order_id": "A-1"})));
    app.llm().push(tool_call("order_status", json!({"order_id": "A-2"})));
    let (mut visitor, welcome) = verified_visitor(&app).await;
    visitor.say("m1", "Where are A-1 and A-2?").await;
    let told = visitor.next_bot_message().await;
    assert_eq!(told["from"], "system", "the visitor is told the reply failed: {told}");
    assert_eq!(endpoint.calls().len(), 1, "the call past the bound is never made");
    assert_eq!(app.conversation(&welcome).await.counter(Counter::BotErrors), 1);
}

#[tokio::test]
async fn an_http_endpoint_is_refused_at_start_unless_the_operator_allows_it() {
    let endpoint = Endpoint::start("{}");
    let mut settings = Settings::load_from(&crate::helpers::repo_root().join("config")).unwrap();
    settings.server.port = 0;
    settings.sites.iter_mut().find(|s| s.id == "demo").unwrap().actions = vec![action("order_status", &endpoint, "")];
    let error = baton::startup::Application::build(settings).await.err().expect("refused").to_string();
    assert!(error.contains("actions[0].endpoint") && error.contains("https"), "{error}");
}

#[tokio::test]
async fn a_loopback_endpoint_is_refused_at_start_with_a_clear_error_unless_the_operator_allows_it() {
    let endpoint = Endpoint::start("{}");
    let load = |allow_private: bool| {
        let mut settings = Settings::load_from(&crate::helpers::repo_root().join("config")).unwrap();
        settings.server.port = 0;
        settings.actions.allow_http = true;
        settings.actions.allow_private_targets = allow_private;
        settings.sites.iter_mut().find(|s| s.id == "demo").unwrap().actions =
            vec![action("order_status", &endpoint, "")];
        settings
    };
    let error = baton::startup::Application::build(load(false)).await.err().expect("refused").to_string();
    assert!(
        error.contains("actions[0].endpoint") && error.contains("127.0.0.1") && error.contains("allow_private_targets"),
        "{error}"
    );
    assert!(baton::startup::Application::build(load(true)).await.is_ok(), "the operator may allow it");
}

/// This machine's name, which its resolver answers with one of its own (non-public) addresses.
async fn own_hostname() -> String {
    let name = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap().trim().to_owned();
    let found: Vec<_> = tokio::net::lookup_host((name.as_str(), 0)).await.unwrap().map(|a| a.ip()).collect();
    assert!(!found.is_empty() && found.iter().all(|ip| !baton::webhooks::target::is_public(*ip)), "{found:?}");
    name
}

#[tokio::test]
async fn a_name_that_resolves_to_batons_own_network_is_refused_when_the_call_connects() {
    let mut endpoint = Endpoint::start(r#"{"status":"shipped"}"#);
    // A name passes the check at start; its addresses are checked as the call connects.
    endpoint.url = endpoint.url.replace("127.0.0.1", &own_hostname().await);
    let app = app_with(vec![action("order_status", &endpoint, "")], |s| s.actions.allow_private_targets = false).await;
    app.llm().push(tool_call("order_status", json!({"order_id": "A-1"})));
    let (mut visitor, welcome) = verified_visitor(&app).await;
    visitor.say("m1", "Where is order A-1?").await;
    let told = visitor.next_bot_message().await;
    assert!(told["text"].as_str().unwrap().starts_with("Sorry, I couldn't get that done just now."), "{told}");
    assert!(endpoint.calls().is_empty(), "nothing reached the endpoint");
    assert_eq!(app.conversation(&welcome).await.counter(Counter::BotErrors), 1);
    let recorded = notes(&app, &mut visitor, &welcome).await;
    assert!(
        recorded
            .iter()
            .any(|n| n.contains("not allowed") && n.contains("non-public") && n.contains("allow_private_targets")),
        "{recorded:?}"
    );
}
