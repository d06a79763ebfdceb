//! Visitor identity through the real socket: `hello.visitor` and `identify`, verified with
//! the site's `identity_secret`, shown to agents, and a verified visitor's history on a
//! device that has no resume token.

use baton::config::Settings;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::helpers::{Client, TestApp, spawn_app_with};
use crate::tenants::{refused, two_sites};

pub(crate) const SECRET: &str = "test-identity-secret";

/// What a site's backend computes: lowercase hex HMAC-SHA256 of the user id.
pub(crate) fn user_hash(secret: &str, user_id: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(user_id.as_bytes());
    mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect()
}

/// The two sites of the tenants tests; demo verifies with [`SECRET`], shop has no secret.
fn with_secret(settings: &mut Settings) {
    two_sites(settings);
    let demo = settings.sites.iter_mut().find(|s| s.id == "demo").unwrap();
    demo.identity_secret = Some(SECRET.to_owned().into());
}

fn ana(hash: Option<String>) -> Value {
    json!({"user_id": "user-42", "name": "Ana Lima", "email": "ana@example.com", "user_hash": hash})
}

/// Opens a socket on `site` with this `hello`; returns the socket, `welcome` and the frames
/// up to the end of the replay (a `history` frame among them when one was sent).
pub(crate) async fn hello(app: &TestApp, site: &str, hello: Value) -> (Client, Value, Vec<Value>) {
    let mut client = app.open_visitor(site, Some("http://localhost:3000")).await.unwrap();
    let mut frame = json!({"type": "hello", "locale": "en"});
    frame.as_object_mut().unwrap().extend(hello.as_object().unwrap().clone());
    client.send(frame).await;
    let welcome = client.next_of_type("welcome").await;
    let last = welcome["last_seq"].as_u64().unwrap();
    let frames = client.collect_until(|f| f["seq"].as_u64() == Some(last)).await;
    (client, welcome, frames)
}

fn history(frames: &[Value]) -> Option<&Value> {
    frames.iter().find(|f| f["type"] == "history")
}

/// An agent's view of the conversation `welcome` names, after the visitor asked for a person.
async fn agent_view(app: &TestApp, visitor: &mut Client, welcome: &Value) -> Value {
    visitor.send(json!({"type": "request_human"})).await;
    while visitor.next_of_type("state").await["state"] != "queued" {}
    let (mut dev, _) = app.connect_agent("t-dev").await;
    dev.send(json!({"type": "preview", "conversation_id": welcome["conversation_id"]})).await;
    dev.next_of_type("preview").await["conversation"].clone()
}

#[tokio::test]
async fn a_signed_identity_is_verified_and_agents_see_it_marked_so() {
    let app = spawn_app_with(with_secret).await;
    let good = Some(user_hash(SECRET, "user-42"));
    let (mut visitor, welcome, _) = hello(&app, "demo", json!({"visitor": ana(good)})).await;
    assert_eq!(welcome["identity"], "verified");
    let view = agent_view(&app, &mut visitor, &welcome).await;
    let identity = &view["visitor"]["identity"];
    assert_eq!((identity["user_id"].as_str(), identity["verified"].as_bool()), (Some("user-42"), Some(true)));
    assert_eq!(identity["name"], "Ana Lima");
    let stored = app.conversation(&welcome).await.records.identity.expect("stored as a record");
    assert!(stored.verified);
}

#[tokio::test]
async fn a_wrong_hash_a_site_without_a_secret_or_no_hash_is_unverified_and_nothing_is_none() {
    let app = spawn_app_with(with_secret).await;
    let forged = Some(user_hash("guessed-secret", "user-42"));
    let (mut visitor, welcome, _) = hello(&app, "demo", json!({"visitor": ana(forged)})).await;
    assert_eq!(welcome["identity"], "unverified");
    let view = agent_view(&app, &mut visitor, &welcome).await;
    assert_eq!(view["visitor"]["identity"]["verified"], false, "{view}");
    let signed_for_demo = Some(user_hash(SECRET, "user-42"));
    let (_, welcome, _) = hello(&app, "shop", json!({"visitor": ana(signed_for_demo)})).await;
    assert_eq!(welcome["identity"], "unverified", "shop has no secret: nothing can be verified there");
    let (_, welcome, _) = hello(&app, "demo", json!({"visitor": ana(None)})).await;
    assert_eq!(welcome["identity"], "unverified");
    let (_, welcome, _) = hello(&app, "demo", json!({})).await;
    assert_eq!(welcome["identity"], "none");
}

#[tokio::test]
async fn bad_identity_fields_get_a_clear_error_and_the_socket_waits_for_a_good_hello() {
    let app = spawn_app_with(with_secret).await;
    let mut client = app.open_visitor("demo", Some("http://localhost:3000")).await.unwrap();
    let bad_email = json!({"type": "hello", "visitor": {"user_id": "u", "email": "not an address"}});
    client.send(bad_email).await;
    let error = client.next_of_type("error").await;
    assert_eq!(error["code"], "invalid_frame");
    assert!(error["message"].as_str().unwrap().contains("visitor.email"), "{error}");
    let long_id = json!({"type": "hello", "visitor": {"user_id": "x".repeat(129)}});
    client.send(long_id).await;
    assert_eq!(client.next_of_type("error").await["code"], "invalid_frame");
    client.send(json!({"type": "hello"})).await;
    assert_eq!(client.next_of_type("welcome").await["identity"], "none");
}

#[tokio::test]
async fn a_verified_visitor_on_another_device_sees_their_recent_conversations_and_a_claim_alone_sees_none() {
    let app = spawn_app_with(with_secret).await;
    let good = || json!({"visitor": ana(Some(user_hash(SECRET, "user-42")))});
    let (mut first, first_welcome, frames) = hello(&app, "demo", good()).await;
    assert!(history(&frames).is_none(), "nothing earlier yet");
    first.say("m1", "Where is my order 1042?").await;

    let (_, second, frames) = hello(&app, "demo", good()).await;
    assert_ne!(second["conversation_id"], first_welcome["conversation_id"], "a new device, a new conversation");
    let past = history(&frames).expect("a history frame");
    let earlier = &past["conversations"][0];
    assert_eq!(earlier["conversation_id"], first_welcome["conversation_id"]);
    let texts: Vec<&str> = earlier["messages"].as_array().unwrap().iter().filter_map(|m| m["text"].as_str()).collect();
    assert!(texts.contains(&"Where is my order 1042?"), "{texts:?}");

    // The same user id without the signature, or on another site, is shown nothing.
    let (_, _, frames) = hello(&app, "demo", json!({"visitor": ana(None)})).await;
    assert!(history(&frames).is_none(), "an unverified claim reads no one's history");
    let (_, _, frames) = hello(&app, "demo", json!({"visitor": ana(Some(user_hash("x", "user-42")))})).await;
    assert!(history(&frames).is_none());

    // Agents see the visitor's previous conversations in the view.
    let (mut third, third_welcome, _) = hello(&app, "demo", good()).await;
    let view = agent_view(&app, &mut third, &third_welcome).await;
    let previous: Vec<&Value> = view["previous"].as_array().unwrap().iter().map(|p| &p["conversation_id"]).collect();
    assert!(previous.contains(&&first_welcome["conversation_id"]), "{view}");
    assert!(!previous.contains(&&third_welcome["conversation_id"]));
}

#[tokio::test]
async fn a_token_of_a_conversation_verified_as_someone_else_never_resumes_it() {
    let app = spawn_app_with(with_secret).await;
    let as_user = |user: &str| json!({"user_id": user, "user_hash": user_hash(SECRET, user)});
    let (_, ana_welcome, _) = hello(&app, "demo", json!({"visitor": as_user("ana")})).await;
    let token = ana_welcome["token"].clone();
    let (_, bo_welcome, _) = hello(&app, "demo", json!({"token": token, "visitor": as_user("bo")})).await;
    assert_ne!(bo_welcome["conversation_id"], ana_welcome["conversation_id"], "bo got a conversation of his own");
    assert_eq!(bo_welcome["identity"], "verified");
    // An unverified claim with ana's token resumes (the token is the credential) but changes
    // nothing: the conversation stays verified as ana's.
    let (_, resumed, _) = hello(&app, "demo", json!({"token": token, "visitor": {"user_id": "mallory"}})).await;
    assert_eq!(resumed["conversation_id"], ana_welcome["conversation_id"]);
    assert_eq!(resumed["identity"], "verified");
    let stored = app.conversation(&ana_welcome).await.records.identity.unwrap();
    assert_eq!(stored.user_id.as_deref(), Some("ana"));
}

#[tokio::test]
async fn a_later_identify_frame_is_verified_answered_and_cannot_take_over_a_verified_conversation() {
    let app = spawn_app_with(with_secret).await;
    let (mut visitor, welcome, _) = hello(&app, "demo", json!({})).await;
    assert_eq!(welcome["identity"], "none");
    visitor.send(json!({"type": "identify", "visitor": {"user_id": "ana", "name": "Ana"}})).await;
    assert_eq!(visitor.next_of_type("identity").await["identity"], "unverified");
    let signed = json!({"user_id": "ana", "name": "Ana", "user_hash": user_hash(SECRET, "ana")});
    visitor.send(json!({"type": "identify", "visitor": signed})).await;
    assert_eq!(visitor.next_of_type("identity").await["identity"], "verified");
    let other = json!({"user_id": "bo", "user_hash": user_hash(SECRET, "bo")});
    assert_eq!(refused(&mut visitor, json!({"type": "identify", "visitor": other})).await, "forbidden");
    let bad = json!({"type": "identify", "visitor": {"email": "nope"}});
    assert_eq!(refused(&mut visitor, bad).await, "invalid_frame");
    let stored = app.conversation(&welcome).await.records.identity.unwrap();
    assert_eq!((stored.user_id.as_deref(), stored.verified), (Some("ana"), true));
}
