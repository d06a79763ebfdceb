//! Redaction through the real path: what a visitor types reaches the scripted model masked
//! (the bot's prompt, the agent's summary and suggestions), while the visitor and the agent
//! see it as typed; the archive keeps it masked when the site says so, as typed when not.

use std::time::Duration;

use baton::protocol::ConversationId;
use serde_json::{Value, json};

use crate::archive_search::with_admin;
use crate::helpers::{TestApp, spawn_app_with_llm};

const SECRET: &str = "my card is 4111 1111 1111 1111, mail ann@example.com or call +44 20 7946 0958";
const MASKED: &str = "my card is [card], mail [email] or call [phone]";
const RAW_PIECES: [&str; 3] = ["4111 1111", "ann@example.com", "7946 0958"];

/// A visitor says the secret to the bot, then asks for a person, whom the agent takes and
/// who gets suggestions after the visitor's next message.
async fn secret_told(app: &TestApp) -> (ConversationId, Value) {
    let (mut visitor, welcome) = app.connect_visitor().await;
    visitor.send(json!({"type": "message", "client_id": "v1", "text": SECRET})).await;
    let echo = visitor.collect_until(|f| f["type"] == "message" && f["client_id"] == "v1").await;
    assert_eq!(echo.last().unwrap()["text"], SECRET, "the visitor sees what they typed");
    visitor.next_bot_message().await;
    visitor.send(json!({"type": "request_human"})).await;
    visitor.collect_until(|f| f["type"] == "state" && f["state"] == "queued").await;
    let id: ConversationId = serde_json::from_value(welcome["conversation_id"].clone()).unwrap();
    let (mut agent, _) = app.connect_agent("demo-agent-token").await;
    agent.send(json!({"type": "accept", "conversation_id": id})).await;
    let assigned = agent.next_of_type("assigned").await;
    visitor.say("v2", "my IBAN is DE89 3704 0044 0532 0130 00").await;
    // Suggestions drafted from the transcript with the second message in it.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !app.llm().requests().iter().any(|r| r.to_string().contains("[iban]")) {
        assert!(tokio::time::Instant::now() < deadline, "no prompt held the second message");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    agent.next_of_type("suggestions").await;
    (id, assigned)
}

fn assert_model_saw_only_masks(app: &TestApp) {
    let requests = app.llm().requests();
    assert!(requests.len() >= 3, "the bot's reply, the summary and suggestions: {}", requests.len());
    for request in &requests {
        let text = request.to_string();
        for raw in RAW_PIECES.iter().chain(&["DE89 3704"]) {
            assert!(!text.contains(raw), "the model was sent {raw:?}: {text}");
        }
    }
    let prompts: Vec<String> = requests.iter().map(|r| r["messages"].to_string()).collect();
    assert!(prompts.iter().any(|p| p.contains(MASKED)), "the bot's prompt carries the masks: {prompts:?}");
    assert!(requests.iter().any(|r| r.to_string().contains("[iban]")), "the suggestions' prompt too");
}

/// The archived copy once it holds the conversation's every live event.
async fn archived(app: &TestApp, id: ConversationId) -> Vec<Value> {
    let archive = app.archive.clone().unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let live = app.store.log.conversation(id).await.unwrap().unwrap();
        // An error is an archive not migrated yet (a loaded machine): try again.
        if let Ok(Some(copy)) = archive.conversation(id).await
            && copy.events.len() as u64 == live.last_seq
        {
            return copy.events;
        }
        assert!(tokio::time::Instant::now() < deadline, "the archive never caught up");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn visitor_texts(events: &[Value]) -> Vec<String> {
    events.iter().filter(|e| e["from"] == "visitor").map(|e| e["text"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn the_model_gets_masked_text_the_agent_sees_it_as_typed_and_the_archive_keeps_the_mask() {
    let app = spawn_app_with_llm(|settings| {
        with_admin(settings);
        settings.sites[0].privacy.redact_archive = true;
    })
    .await;
    let (id, assigned) = secret_told(&app).await;
    let shown = assigned["conversation"]["events"].to_string();
    assert!(shown.contains(SECRET), "the agent sees what the visitor typed: {shown}");
    assert_model_saw_only_masks(&app);

    let events = archived(&app, id).await;
    assert_eq!(visitor_texts(&events), [MASKED, "my IBAN is [iban]"]);
    let live = app.store.log.events_after(id, 0, 100).await.unwrap();
    let live: Vec<Value> = live.iter().map(|e| serde_json::to_value(&**e).unwrap()).collect();
    assert_eq!(visitor_texts(&live)[0], SECRET, "the live store keeps what was typed");
    // The archive's search works on the masked text: the raw number is not there to find.
    let (_, body) =
        crate::archive_search::get_json(&app, "/v1/agent/archive?text=4111", Some("demo-agent-token")).await;
    assert_eq!(body["items"], json!([]));
}

#[tokio::test]
async fn without_redact_archive_the_archive_keeps_what_was_typed_and_the_model_still_gets_masks() {
    let app = spawn_app_with_llm(with_admin).await;
    let (id, _) = secret_told(&app).await;
    assert_model_saw_only_masks(&app);
    let events = archived(&app, id).await;
    assert_eq!(visitor_texts(&events)[0], SECRET);
}
