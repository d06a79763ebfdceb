//! Files in a chat over real HTTP and sockets: sent by the visitor and by the agent who has
//! the chat, announced as `attachment` events, fetched only with the conversation's
//! signed, expiring token, refused by their bytes, and deleted by erase and retention; in
//! the local folder and in an S3-compatible server (moto) the test starts.

use baton::attachments::links::{Scope, Signer};
use baton::protocol::ConversationId;
use serde_json::{Value, json};

use crate::helpers::{Client, TestApp, agent, spawn_app_with};
use crate::s3_server::S3Server;

/// A 1×1 PNG.
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89\0\0\0\rIDATx\x9cc\xf8\x0f\0\0\x01\x01\0\x05\x18\xd8N\0\0\0\0IEND\xaeB`\x82";
const SECRET: &str = "attachment-test-secret";

fn with_agents(settings: &mut baton::config::Settings) {
    settings.agents = vec![agent("ana", "token-ana", &["support"], 3), agent("bo", "token-bo", &["support"], 3)];
    settings.attachments.secret = Some(SECRET.to_owned().into());
}

fn id_of(welcome: &Value) -> ConversationId {
    serde_json::from_value(welcome["conversation_id"].clone()).unwrap()
}

async fn upload(
    app: &TestApp,
    conversation: &Value,
    token: &str,
    name: &str,
    body: &'static [u8],
) -> reqwest::Response {
    let url = app.url(&format!("/v1/attachments/demo/{}?name={name}", conversation.as_str().unwrap()));
    let request = reqwest::Client::new().post(url).bearer_auth(token).body(body);
    request.send().await.expect("upload request")
}

fn file_url(app: &TestApp, conversation: &Value, file: &Value, token: &str) -> String {
    let (conversation, file) = (conversation.as_str().unwrap(), file.as_str().unwrap());
    app.url(&format!("/v1/attachments/demo/{conversation}/{file}?t={token}"))
}

/// A visitor sends a PNG: the `attachment` event reaches their socket and the file opens with
/// their token, and with nothing else. Returns the event.
async fn visitor_sends_a_picture(app: &TestApp) -> (Client, Value, Value) {
    let (mut visitor, welcome) = app.connect_visitor().await;
    let grant = &welcome["attachments"];
    assert_eq!(grant["max_bytes"], 10 * 1024 * 1024);
    assert!(grant["types"].as_array().unwrap().contains(&json!("image/png")));
    let token = grant["token"].as_str().unwrap().to_owned();
    let sent = upload(app, &welcome["conversation_id"], &token, "screen.png", PNG).await;
    assert_eq!(sent.status(), 201);
    let sent: Value = sent.json().await.unwrap();
    let event = visitor.next_of_type("attachment").await;
    assert_eq!((event["from"].clone(), event["name"].clone()), (json!("visitor"), json!("screen.png")));
    assert_eq!((event["size"].as_u64(), event["content_type"].clone()), (Some(PNG.len() as u64), json!("image/png")));
    assert_eq!((event["id"].clone(), event["seq"].clone()), (sent["id"].clone(), sent["seq"].clone()));

    let fetched = reqwest::get(file_url(app, &welcome["conversation_id"], &event["id"], &token)).await.unwrap();
    assert_eq!(fetched.status(), 200);
    assert_eq!(fetched.headers()["content-type"], "image/png");
    assert_eq!(fetched.headers()["x-content-type-options"], "nosniff");
    assert_eq!(fetched.headers()["content-length"], PNG.len().to_string().as_str());
    assert_eq!(&fetched.bytes().await.unwrap()[..], PNG);

    let forged = format!("{}.{}", i64::MAX, "0".repeat(64));
    let (_, other) = app.connect_visitor().await;
    let others_token = other["attachments"]["token"].as_str().unwrap();
    for wrong in ["", "nope", forged.as_str(), others_token] {
        let refused = reqwest::get(file_url(app, &welcome["conversation_id"], &event["id"], wrong)).await.unwrap();
        assert_eq!(refused.status(), 403, "token {wrong:?} must not open the file");
    }
    (visitor, welcome, event)
}

#[tokio::test]
async fn a_visitors_picture_is_announced_and_opens_only_with_its_conversations_token() {
    let app = spawn_app_with(with_agents).await;
    visitor_sends_a_picture(&app).await;
}

#[tokio::test]
async fn a_link_past_its_expiry_is_refused() {
    let app = spawn_app_with(with_agents).await;
    let (_visitor, welcome, event) = visitor_sends_a_picture(&app).await;
    let signer = Signer::new(SECRET.as_bytes().to_vec(), 60);
    let an_hour_ago = chrono::Utc::now().timestamp() - 3600;
    let (expired, _) = signer.issue(Scope::Visitor, "demo", id_of(&welcome), an_hour_ago);
    let (fresh, _) = signer.issue(Scope::Read, "demo", id_of(&welcome), chrono::Utc::now().timestamp());
    let url = |token: &str| file_url(&app, &welcome["conversation_id"], &event["id"], token);
    assert_eq!(reqwest::get(url(&expired)).await.unwrap().status(), 403);
    assert_eq!(reqwest::get(url(&fresh)).await.unwrap().status(), 200);
    assert_eq!(upload(&app, &welcome["conversation_id"], &expired, "a.png", PNG).await.status(), 401);
}

#[tokio::test]
async fn a_refused_file_gets_a_clear_error_and_leaves_nothing_behind() {
    let app = spawn_app_with(|s| {
        with_agents(s);
        let demo = s.sites.iter_mut().find(|site| site.id == "demo").unwrap();
        demo.attachments.max_bytes = 80;
        demo.attachments.types = vec!["image/png".into(), "text/plain".into()];
    })
    .await;
    let (mut visitor, welcome) = app.connect_visitor().await;
    let (conversation, token) = (&welcome["conversation_id"], welcome["attachments"]["token"].as_str().unwrap());
    let cases: [(&str, &'static [u8], u16, &str); 6] = [
        ("tool.exe", b"MZ\x90\0\x03\0\0\0\x04\0", 415, "unsupported_type"),
        ("page.html", b"<script>alert(1)</script>", 415, "unsupported_type"),
        ("invoice.pdf", PNG, 415, "unsupported_type"),
        ("doc.pdf", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n", 415, "unsupported_type"),
        ("big.txt", &[b'a'; 81], 413, "too_large"),
        ("empty.txt", b"", 415, "unsupported_type"),
    ];
    for (name, body, status, code) in cases {
        let refused = upload(&app, conversation, token, name, body).await;
        assert_eq!(refused.status(), status, "{name}");
        let error: Value = refused.json().await.unwrap();
        assert_eq!(error["error"], code, "{name}");
        assert!(!error["message"].as_str().unwrap().is_empty());
    }
    assert_eq!(upload(&app, conversation, "not-a-token", "a.png", PNG).await.status(), 401);
    // From the site's page: the refusal is readable there (CORS), and the preflight answers.
    let url = app.url(&format!("/v1/attachments/demo/{}?name=x.exe", conversation.as_str().unwrap()));
    let http = reqwest::Client::new();
    let from_page = http.post(&url).bearer_auth(token).header("Origin", "http://localhost:3000").body(&b"MZ\x90\0"[..]);
    let refused = from_page.send().await.unwrap();
    assert_eq!(refused.status(), 415);
    assert_eq!(refused.headers()["access-control-allow-origin"], "http://localhost:3000");
    let preflight =
        http.request(reqwest::Method::OPTIONS, &url).header("Origin", "http://localhost:3000").send().await.unwrap();
    assert_eq!(preflight.status(), 204);
    assert!(preflight.headers()["access-control-allow-headers"].to_str().unwrap().contains("authorization"));
    let stranger =
        http.request(reqwest::Method::OPTIONS, &url).header("Origin", "https://evil.example").send().await.unwrap();
    assert_eq!(stranger.status(), 403);
    assert_eq!(upload(&app, conversation, token, "notes.txt", b"it works").await.status(), 201);
    let event = visitor.next_of_type("attachment").await;
    assert_eq!((event["name"].clone(), event["content_type"].clone()), (json!("notes.txt"), json!("text/plain")));
    let events = app.store.log.events_after(id_of(&welcome), 0, 100).await.unwrap();
    let files = events.iter().filter(|e| matches!(e.body, baton::protocol::EventBody::Attachment { .. })).count();
    assert_eq!(files, 1, "only the accepted file is in the transcript");
    let folder = app._dir.as_ref().unwrap().0.join("attachments/demo").join(conversation.as_str().unwrap());
    let kept = std::fs::read_dir(folder).unwrap().count();
    assert_eq!(kept, 1, "only the accepted file is kept");
}

/// Ana takes the visitor's chat; returns both sockets, the welcome and Ana's view.
async fn taken(app: &TestApp) -> (Client, Client, Value, Value) {
    let (mut ana, _) = app.connect_agent("token-ana").await;
    let (visitor, welcome) = app.escalated_visitor().await;
    ana.send(json!({"type": "accept", "conversation_id": welcome["conversation_id"]})).await;
    let view = ana.next_of_type("assigned").await["conversation"].clone();
    (ana, visitor, welcome, view)
}

#[tokio::test]
async fn the_agent_who_has_the_chat_sends_a_file_and_reads_the_visitors() {
    let app = spawn_app_with(with_agents).await;
    let (mut ana, mut visitor, welcome, view) = taken(&app).await;
    let conversation = &welcome["conversation_id"];
    let read = view["attachments"]["token"].as_str().expect("the view carries a read token").to_owned();
    let visitor_token = welcome["attachments"]["token"].as_str().unwrap();

    assert_eq!(upload(&app, conversation, visitor_token, "mine.png", PNG).await.status(), 201);
    let from_visitor = ana.next_of_type("attachment").await;
    assert_eq!(visitor.next_of_type("attachment").await["id"], from_visitor["id"], "the visitor's own copy");
    assert_eq!(reqwest::get(file_url(&app, conversation, &from_visitor["id"], &read)).await.unwrap().status(), 200);
    assert_eq!(upload(&app, conversation, &read, "x.png", PNG).await.status(), 401, "a read token cannot send");

    assert_eq!(upload(&app, conversation, "token-ana", "guide.txt", b"Step 1: restart.").await.status(), 201);
    let from_ana = visitor.next_of_type("attachment").await;
    assert_eq!((from_ana["from"].clone(), from_ana["author"]["name"].clone()), (json!("agent"), json!("Agent ana")));
    let fetched = reqwest::get(file_url(&app, conversation, &from_ana["id"], visitor_token)).await.unwrap();
    assert_eq!(fetched.headers()["content-type"], "text/plain");
    assert_eq!(fetched.text().await.unwrap(), "Step 1: restart.");

    let (_bo, _) = app.connect_agent("token-bo").await;
    assert_eq!(upload(&app, conversation, "token-bo", "x.txt", b"not mine").await.status(), 403);
}

#[tokio::test]
async fn a_visitor_cannot_send_to_an_ended_chat() {
    let app = spawn_app_with(with_agents).await;
    let (mut visitor, welcome) = app.connect_visitor().await;
    visitor.send(json!({"type": "message", "client_id": "c1", "text": "hello"})).await;
    visitor.next_of_type("ack").await;
    visitor.send(json!({"type": "end"})).await;
    while visitor.next_of_type("state").await["state"] != "resolved" {}
    let token = welcome["attachments"]["token"].as_str().unwrap();
    let refused = upload(&app, &welcome["conversation_id"], token, "late.png", PNG).await;
    assert_eq!(refused.status(), 409);
}

/// Erase and retention delete a conversation's files (whatever store keeps them).
async fn erase_and_retention_delete_files(app: &TestApp) {
    let files = app.attachments.as_ref().unwrap();
    let (_visitor, welcome, event) = visitor_sends_a_picture(app).await;
    let token = welcome["attachments"]["token"].as_str().unwrap();
    let url = file_url(app, &welcome["conversation_id"], &event["id"], token);
    assert_eq!(files.erase_conversation(id_of(&welcome)).await.unwrap(), 1);
    assert_eq!(reqwest::get(&url).await.unwrap().status(), 404);

    let (_visitor, welcome, event) = visitor_sends_a_picture(app).await;
    let url =
        file_url(app, &welcome["conversation_id"], &event["id"], welcome["attachments"]["token"].as_str().unwrap());
    let now = chrono::Utc::now();
    files.enforce(&[("demo".into(), 1)], now).await;
    assert_eq!(reqwest::get(&url).await.unwrap().status(), 200, "a file younger than the retention stays");
    files.enforce(&[("demo".into(), 1)], now + chrono::Duration::days(2)).await;
    assert_eq!(reqwest::get(&url).await.unwrap().status(), 404, "an older one goes");
}

#[tokio::test]
async fn erase_and_retention_delete_files_in_the_local_folder() {
    let app = spawn_app_with(with_agents).await;
    erase_and_retention_delete_files(&app).await;
}

#[tokio::test]
async fn files_round_trip_through_an_s3_compatible_server() {
    let s3 = S3Server::start().await;
    let app = spawn_app_with(|s| {
        with_agents(s);
        s3.configure(s);
    })
    .await;
    let (_visitor, welcome, _event) = visitor_sends_a_picture(&app).await;
    let keys = s3.keys().await;
    assert_eq!(keys.len(), 1);
    assert!(keys[0].starts_with(&format!("demo/{}/", welcome["conversation_id"].as_str().unwrap())));
    erase_and_retention_delete_files(&app).await;
    assert!(s3.keys().await.is_empty(), "nothing is left in the bucket");
}
