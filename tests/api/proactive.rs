//! Proactive messages (`[[proactive]]`) through a real socket: the widget asks with a
//! `proactive` frame and the server decides. A trigger's message enters the conversation as
//! the bot's only when the trigger exists, its identity condition holds, the conversation has
//! not begun and the visitor's caps allow it; it leaves nothing in the archive on its own.

use baton::config::proactive::ProactiveTrigger;
use serde_json::{Value, json};

use crate::helpers::{Client, TestApp, spawn_app_with};
use crate::identity::{SECRET, hello, user_hash};

const PRICING: &str = "Questions about our plans? I can help you pick one.";

fn trigger(toml_text: &str) -> ProactiveTrigger {
    toml::from_str(toml_text).expect("trigger parses")
}

async fn app() -> TestApp {
    spawn_app_with(|s| {
        for site in &mut s.sites {
            site.identity_secret = Some(SECRET.to_owned().into());
            site.proactive = vec![
                trigger(&format!(
                    "id = \"pricing\"\nurl = \"*/pricing*\"\nafter_secs = 5\ntext = {{ en = \"{PRICING}\", fr = \"Des questions ?\" }}"
                )),
                trigger("id = \"vip\"\nidentity = { email = \"vip@shop.example\" }\ntext = { en = \"Welcome back!\" }"),
            ];
        }
    })
    .await
}

/// Sends `proactive` for `trigger` and returns the next message or error frame.
async fn ask(visitor: &mut Client, trigger: &str, key: &str) -> Value {
    visitor.send(json!({"type": "proactive", "trigger": trigger, "visitor_key": key})).await;
    let frames = visitor.collect_until(|f| f["type"] == "message" || f["type"] == "error").await;
    frames.last().cloned().unwrap()
}

#[tokio::test]
async fn a_triggers_message_is_the_bots_once_per_conversation_and_refused_past_the_visitors_cap() {
    let app = app().await;
    let (mut first, welcome) = app.connect_visitor().await;
    let message = ask(&mut first, "pricing", "visitor-key-1").await;
    assert_eq!((message["from"].as_str(), message["text"].as_str()), (Some("bot"), Some(PRICING)), "{message}");
    assert!(message["author"]["name"].is_string(), "signed by the bot, which `welcome.ai_notice` discloses: {message}");
    assert!(welcome["ai_notice"].as_str().is_some_and(|n| !n.is_empty()));

    let again = ask(&mut first, "pricing", "visitor-key-1").await;
    assert_eq!(again["code"], "forbidden", "one opening message per conversation: {again}");

    // The same visitor on a new conversation (another tab, a later page): past the cap.
    let (mut second, _) = app.connect_visitor().await;
    let capped = ask(&mut second, "pricing", "visitor-key-1").await;
    assert_eq!(capped["code"], "rate_limited", "{capped}");
    assert!(capped["message"].as_str().unwrap().contains("pricing"), "the error names the trigger: {capped}");

    // Another visitor has caps of their own.
    let (mut other, _) = app.connect_visitor().await;
    assert_eq!(ask(&mut other, "pricing", "visitor-key-2").await["text"], PRICING);

    // Nobody wrote back: nothing for the archive (the conversations stay provisional).
    assert_eq!(app.store.feed.backlog().await.unwrap(), 0, "a proactive message alone is not archived");
    let conversation = app.conversation(&welcome).await;
    assert_eq!(conversation.last_seq, 2, "the greeting and the proactive message, nothing else");
}

#[tokio::test]
async fn an_unknown_trigger_and_a_trigger_for_another_identity_are_refused_with_clear_errors() {
    let app = app().await;
    let (mut visitor, welcome) = app.connect_visitor().await;
    let unknown = ask(&mut visitor, "no-such-trigger", "k").await;
    assert_eq!(unknown["code"], "not_found", "{unknown}");
    assert!(unknown["message"].as_str().unwrap().contains("no-such-trigger"), "{unknown}");
    let vip = ask(&mut visitor, "vip", "k").await;
    assert_eq!(vip["code"], "forbidden", "an unverified visitor is not the VIP: {vip}");
    let long = ask(&mut visitor, &"x".repeat(65), "k").await;
    assert_eq!(long["code"], "invalid_frame", "{long}");
    assert_eq!(app.conversation(&welcome).await.last_seq, 1, "nothing was posted");
    // What was refused costs no cap: the valid trigger still opens this conversation.
    assert_eq!(ask(&mut visitor, "pricing", "k").await["text"], PRICING);
}

#[tokio::test]
async fn the_widget_settings_carry_each_triggers_page_conditions_but_not_its_texts_or_identity() {
    let app = app().await;
    let response = reqwest::Client::new()
        .get(app.url("/v1/sites/demo/widget"))
        .header("Origin", "http://localhost:3000")
        .send()
        .await
        .unwrap();
    let settings: Value = response.json().await.unwrap();
    let triggers = settings["proactive"].as_array().expect("triggers served");
    assert_eq!(triggers.len(), 2);
    assert_eq!(
        triggers[0],
        json!({"id": "pricing", "url": "*/pricing*", "after_secs": 5, "returning": false,
               "max_per_visitor": 1, "min_interval_hours": 24, "verified_only": false})
    );
    assert_eq!(triggers[1]["verified_only"], true, "the widget fires it for verified visitors only");
    assert!(triggers[1].get("identity").is_none() && triggers[1].get("text").is_none(), "{}", triggers[1]);
}

#[tokio::test]
async fn a_trigger_for_an_identity_speaks_only_to_that_verified_visitor_and_caps_by_their_user_id() {
    let app = app().await;
    let vip =
        json!({"visitor": {"user_id": "u-7", "email": "VIP@shop.example", "user_hash": user_hash(SECRET, "u-7")}});
    let (mut first, welcome, _) = hello(&app, "demo", vip.clone()).await;
    assert_eq!(welcome["identity"], "verified");
    assert_eq!(ask(&mut first, "vip", "key-a").await["text"], "Welcome back!");
    // The same user on another device, with another visitor key: the caps follow the user.
    let (mut second, _, _) = hello(&app, "demo", vip).await;
    assert_eq!(ask(&mut second, "vip", "key-b").await["code"], "rate_limited");
    // Claiming the address without the site's signature is not being that visitor.
    let forged = json!({"visitor": {"user_id": "u-8", "email": "vip@shop.example"}});
    let (mut third, welcome, _) = hello(&app, "demo", forged).await;
    assert_eq!(welcome["identity"], "unverified");
    assert_eq!(ask(&mut third, "vip", "key-c").await["code"], "forbidden");
}
