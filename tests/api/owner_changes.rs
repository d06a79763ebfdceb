//! The owner's changes through the API on one node, through real HTTP and sockets: pages of
//! the knowledge base (Markdown and HTML) used by the bot's next answer and gone once
//! deleted; site settings validated like the file (a bad escalation policy is 400 and the
//! old policy stays); agents made, changed, disabled and given a new token; the changes
//! kept across a restart; and a node that hears no notice catching up by polling.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{Client, FRAME_WAIT, Next, TestApp, spawn_app, spawn_app_with};
use crate::owner_api::{client, ready_with_key};

/// A question only the test's page answers.
const QUESTION: &str = "How do I redeem a zorblax voucher?";
const PAGE: &str = "# Zorblax vouchers\n\nA zorblax voucher is redeemed at checkout: type its twelve-letter \
                    code in the voucher field before you pay.\n";

pub(crate) async fn put_page(
    app: &TestApp,
    key: &str,
    path: &str,
    content_type: &str,
    body: &str,
) -> reqwest::Response {
    client()
        .put(app.url(&format!("/v1/api/sites/demo/kb/page?path={path}")))
        .bearer_auth(key)
        .header("Content-Type", content_type)
        .body(body.to_owned())
        .send()
        .await
        .unwrap()
}

async fn delete_page(app: &TestApp, key: &str, path: &str) -> StatusCode {
    let url = app.url(&format!("/v1/api/sites/demo/kb/page?path={path}"));
    client().delete(url).bearer_auth(key).send().await.unwrap().status()
}

/// A new visitor asks `question`; the bot's answer.
pub(crate) async fn answer(app: &TestApp, question: &str) -> Value {
    let (mut visitor, _) = app.connect_visitor().await;
    visitor.say("q1", question).await;
    visitor.next_bot_message().await
}

fn cites(reply: &Value, url_part: &str) -> bool {
    reply["sources"].as_array().is_some_and(|sources| {
        sources.iter().any(|source| source["url"].as_str().is_some_and(|url| url.contains(url_part)))
    })
}

pub(crate) async fn send(app: &TestApp, key: &str, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    let mut request = client().request(method.parse().unwrap(), app.url(path)).bearer_auth(key);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_page_uploaded_through_the_api_answers_the_next_question_and_once_deleted_no_longer_does() {
    let app = spawn_app().await;
    let key = ready_with_key(&app, "write").await;
    let before = answer(&app, QUESTION).await;
    assert!(!before["text"].as_str().unwrap().contains("twelve-letter"), "{before}");

    let response = put_page(&app, &key, "vouchers/zorblax.md", "text/markdown", PAGE).await;
    assert_eq!(response.status(), 200);
    let stored: Value = response.json().await.unwrap();
    assert_eq!((stored["title"].as_str(), stored["format"].as_str()), (Some("Zorblax vouchers"), Some("md")));
    let reply = answer(&app, QUESTION).await;
    assert!(reply["text"].as_str().unwrap().contains("twelve-letter code"), "{reply}");
    assert!(cites(&reply, "vouchers/zorblax"), "{reply}");

    let (status, list) = send(&app, &key, "GET", "/v1/api/sites/demo/kb", None).await;
    assert_eq!(status, 200);
    let items = list["items"].as_array().unwrap();
    let page = items.iter().find(|p| p["path"] == "vouchers/zorblax.md").expect("listed");
    assert_eq!((page["source"].as_str(), page["bytes"].as_u64()), (Some("api"), Some(PAGE.len() as u64)));
    assert!(items.iter().any(|p| p["source"] == "file" && p["path"] == "returns.md"), "{list}");

    assert_eq!(delete_page(&app, &key, "vouchers/zorblax.md").await, 204);
    let after = answer(&app, QUESTION).await;
    assert!(!after["text"].as_str().unwrap().contains("twelve-letter") && !cites(&after, "zorblax"), "{after}");
    assert_eq!(delete_page(&app, &key, "vouchers/zorblax.md").await, 404);
}

#[tokio::test]
async fn a_file_of_the_folder_is_replaced_or_hidden_by_a_page_of_its_path() {
    let app = spawn_app().await;
    let key = ready_with_key(&app, "write").await;
    assert!(cites(&answer(&app, "How do I return an item?").await, "returns#"));
    assert_eq!(delete_page(&app, &key, "returns.md").await, 204);
    let hidden = answer(&app, "How do I return an item?").await;
    assert!(!cites(&hidden, "/returns"), "the deleted file is no longer used: {hidden}");
    let (_, list) = send(&app, &key, "GET", "/v1/api/sites/demo/kb", None).await;
    assert!(!list["items"].as_array().unwrap().iter().any(|p| p["path"] == "returns.md"), "{list}");
}

#[tokio::test]
async fn an_html_page_is_indexed_as_its_text_without_its_scripts() {
    let app = spawn_app().await;
    let key = ready_with_key(&app, "write").await;
    let html = "<!doctype html><html><head><title>x</title><script>var secretScript = 'zorblax';</script></head>\
                <body><h1>Zorblax vouchers</h1><p>A zorblax voucher is redeemed at checkout: type its \
                <strong>twelve-letter code</strong> in the voucher field.</p>\
                <script>document.write('zorblax voucher injected')</script><style>.zorblax{}</style></body></html>";
    let response = put_page(&app, &key, "zorblax.md", "text/html; charset=utf-8", html).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.json::<Value>().await.unwrap()["format"], "html");
    let reply = answer(&app, QUESTION).await;
    let text = reply["text"].as_str().unwrap();
    assert!(text.contains("twelve-letter code"), "{reply}");
    assert!(!text.contains('<') && !text.contains("secretScript") && !text.contains("injected"), "{reply}");
}

#[tokio::test]
async fn a_page_too_large_of_another_type_or_badly_named_is_refused_and_nothing_changes() {
    let app = spawn_app_with(|settings| settings.api.max_page_bytes = 1000).await;
    let key = ready_with_key(&app, "write").await;
    let read = ready_with_key(&app, "read").await;
    let big = format!("# Zorblax\n\n{}", "zorblax voucher ".repeat(100));
    assert_eq!(put_page(&app, &key, "big.md", "text/markdown", &big).await.status(), 413);
    assert_eq!(put_page(&app, &key, "z.md", "application/pdf", PAGE).await.status(), 415);
    for path in ["../etc.md", "page.html", ".hidden.md"] {
        let response = put_page(&app, &key, path, "text/markdown", PAGE).await;
        assert_eq!(response.status(), 400, "{path}");
        assert_eq!(response.json::<Value>().await.unwrap()["error"], "invalid_request");
    }
    assert_eq!(put_page(&app, &read, "z.md", "text/markdown", PAGE).await.status(), 403, "read cannot write");
    let (_, list) = send(&app, &key, "GET", "/v1/api/sites/demo/kb", None).await;
    assert!(list["items"].as_array().unwrap().iter().all(|p| p["source"] == "file"), "{list}");
    assert!(!answer(&app, QUESTION).await["text"].as_str().unwrap().contains("twelve-letter"));
}

/// A new visitor's greeting (the bot's first message).
async fn greeting(app: &TestApp) -> String {
    let mut visitor = app.open_visitor("demo", Some("http://localhost:3000")).await.unwrap();
    visitor.send(json!({"type": "hello", "locale": "en"})).await;
    visitor.next_bot_message().await["text"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_bad_escalation_policy_is_a_400_with_the_loaders_message_and_the_old_settings_stay() {
    let app = spawn_app().await;
    let admin = ready_with_key(&app, "admin").await;
    let greeting_change = json!({"persona": {"greeting": "Welcome back to Northwind, changed live."}});
    let (status, body) = send(&app, &admin, "PATCH", "/v1/api/sites/demo", Some(greeting_change)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(greeting(&app).await, "Welcome back to Northwind, changed live.");

    let bad = json!({"escalation": {"low_confidence": 3.0}, "persona": {"greeting": "Never shown"}});
    let (status, body) = send(&app, &admin, "PATCH", "/v1/api/sites/demo", Some(bad)).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_request")), "{body}");
    assert!(body["message"].as_str().unwrap().contains("low_confidence"), "the loader's message: {body}");
    let typo = json!({"escalation": {"negative_sentimment": -0.5}});
    let (status, body) = send(&app, &admin, "PATCH", "/v1/api/sites/demo", Some(typo)).await;
    assert_eq!(status, 400);
    assert!(body["message"].as_str().unwrap().contains("negative_sentimment"), "{body}");
    let (status, _) = send(&app, &admin, "PATCH", "/v1/api/sites/demo", Some(json!({"allowed_origins": ["*"]}))).await;
    assert_eq!(status, 400, "the operator's keys are not the API's");

    assert_eq!(greeting(&app).await, "Welcome back to Northwind, changed live.", "nothing of the bad change applied");
    let (status, settings) = send(&app, &admin, "GET", "/v1/api/sites/demo", None).await;
    assert_eq!(status, 200);
    assert_eq!(settings["changes"], json!({"persona": {"greeting": "Welcome back to Northwind, changed live."}}));
    assert!(settings["file"]["escalation"].is_null() || settings["file"]["escalation"]["low_confidence"] != 3.0);
    assert!(settings["file"].get("identity_secret").is_none(), "the secret is never shown");
}

/// Signs in with `token`: the `ready` frame, or the close code.
pub(crate) async fn sign_in(app: &TestApp, token: &str) -> Result<(Client, Value), u16> {
    let mut agent = app.open_agent().await;
    agent.send(json!({"type": "auth", "token": token})).await;
    loop {
        match agent.next().await {
            Next::Frame(frame) if frame["type"] == "ready" => return Ok((agent, frame)),
            Next::Frame(_) => continue,
            Next::Closed(frame) => return Err(frame.map_or(1006, |f| f.code.into())),
        }
    }
}

/// The close code of a socket that is closed from the server's side.
pub(crate) async fn close_code(agent: &mut Client) -> (u16, String) {
    loop {
        match tokio::time::timeout(FRAME_WAIT, agent.ws.next_close()).await.expect("closed in time") {
            Some(frame) => return frame,
            None => continue,
        }
    }
}

trait NextClose {
    async fn next_close(&mut self) -> Option<(u16, String)>;
}

impl NextClose for tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>> {
    async fn next_close(&mut self) -> Option<(u16, String)> {
        use futures_util::StreamExt;
        use tokio_tungstenite::tungstenite::Message;
        match self.next().await {
            Some(Ok(Message::Close(frame))) => {
                Some(frame.map_or((1005, String::new()), |f| (f.code.into(), f.reason.to_string())))
            }
            Some(Ok(_)) => None,
            Some(Err(_)) | None => Some((1006, String::new())),
        }
    }
}

#[tokio::test]
async fn an_agent_made_through_the_api_signs_in_then_disabled_is_signed_out_and_their_chat_goes_back() {
    let app = spawn_app().await;
    let admin = ready_with_key(&app, "admin").await;
    let new = json!({"id": "cy", "name": "Cy", "teams": ["support"], "max_chats": 2});
    let (status, created) = send(&app, &admin, "POST", "/v1/api/agents", Some(new.clone())).await;
    assert_eq!(status, 201, "{created}");
    let token = created["token"].as_str().unwrap().to_owned();
    assert_eq!(created["sites"], json!(["demo"]));
    let (status, _) = send(&app, &admin, "POST", "/v1/api/agents", Some(new)).await;
    assert_eq!(status, 409, "ids are unique");

    let (mut cy, ready) = sign_in(&app, &token).await.expect("the new agent signs in");
    assert_eq!(ready["agent"]["id"], "cy", "{ready}");
    let (mut visitor, welcome) = app.escalated_visitor().await;
    let id = welcome["conversation_id"].clone();
    cy.send(json!({"type": "accept", "conversation_id": id})).await;
    cy.next_of_type("assigned").await;
    visitor.next_of_type("state").await;

    let (status, body) = send(&app, &admin, "PATCH", "/v1/api/agents/cy", Some(json!({"max_chats": 0}))).await;
    assert_eq!(status, 400, "{body}");
    let change = json!({"name": "Cy Lee", "teams": ["support", "billing"], "max_chats": 4});
    let (status, changed) = send(&app, &admin, "PATCH", "/v1/api/agents/cy", Some(change)).await;
    assert_eq!((status, changed["max_chats"].as_u64()), (200, Some(4)), "{changed}");
    let (_, again) = sign_in(&app, &token).await.expect("a change keeps the token");
    assert_eq!(again["agent"]["teams"], json!(["support", "billing"]), "{again}");
    assert_eq!((again["agent"]["name"].as_str(), again["agent"]["max_chats"].as_u64()), (Some("Cy Lee"), Some(4)));
    let (status, disabled) = send(&app, &admin, "POST", "/v1/api/agents/cy/disable", None).await;
    assert_eq!((status, disabled["disabled"].as_bool()), (200, Some(true)), "{disabled}");
    let (code, reason) = close_code(&mut cy).await;
    assert_eq!((code, reason.as_str()), (4001, "agent disabled"));
    let state = visitor.next_of_type("state").await;
    assert_eq!(state["state"], "queued", "the chat went back to the queue: {state}");
    assert_eq!(sign_in(&app, &token).await.err(), Some(4001), "a disabled agent cannot sign in");

    let (status, list) = send(&app, &admin, "GET", "/v1/api/agents?site=demo", None).await;
    assert_eq!(status, 200);
    let cy = list["items"].as_array().unwrap().iter().find(|a| a["id"] == "cy").cloned().unwrap();
    assert_eq!(cy["disabled"], true);
    assert!(!list.to_string().contains(&token), "no token is listed");
}

#[tokio::test]
async fn a_rotated_token_is_refused_and_its_socket_closed_while_the_new_one_signs_in() {
    let app = spawn_app().await;
    let admin = ready_with_key(&app, "admin").await;
    let new = json!({"id": "dee", "name": "Dee", "max_chats": 3});
    let (_, created) = send(&app, &admin, "POST", "/v1/api/agents", Some(new)).await;
    let old = created["token"].as_str().unwrap().to_owned();
    let (mut socket, _) = sign_in(&app, &old).await.unwrap();
    let (status, rotated) = send(&app, &admin, "POST", "/v1/api/agents/dee/token", None).await;
    assert_eq!(status, 200, "{rotated}");
    let fresh = rotated["token"].as_str().unwrap().to_owned();
    assert_ne!(fresh, old);
    assert_eq!(close_code(&mut socket).await.0, 4001);
    assert_eq!(sign_in(&app, &old).await.err(), Some(4001));
    assert!(sign_in(&app, &fresh).await.is_ok());
}

#[tokio::test]
async fn a_key_manages_only_the_agents_of_its_own_site_alone() {
    let app = spawn_app().await;
    let admin = ready_with_key(&app, "admin").await;
    let write = ready_with_key(&app, "write").await;
    let (status, _) =
        send(&app, &write, "POST", "/v1/api/agents", Some(json!({"id": "x", "name": "X", "max_chats": 1}))).await;
    assert_eq!(status, 403, "agents need the admin scope");
    // The shipped configuration's agent works for every site: the operator's, not a key's.
    let (status, list) = send(&app, &admin, "GET", "/v1/api/agents?site=demo", None).await;
    assert_eq!(status, 200);
    let shared = list["items"].as_array().unwrap().iter().find(|a| a["sites"] == json!(["*"])).cloned();
    if let Some(shared) = shared {
        let path = format!("/v1/api/agents/{}/disable", shared["id"].as_str().unwrap());
        let (status, body) = send(&app, &admin, "POST", &path, None).await;
        assert_eq!(status, 403, "{body}");
    }
    let (status, _) = send(&app, &admin, "POST", "/v1/api/agents/nobody/disable", None).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn a_restarted_node_keeps_the_apis_changes() {
    let first = spawn_app().await;
    let key = ready_with_key(&first, "admin").await;
    assert_eq!(put_page(&first, &key, "zorblax.md", "text/markdown", PAGE).await.status(), 200);
    let (_, created) =
        send(&first, &key, "POST", "/v1/api/agents", Some(json!({"id": "eve", "name": "Eve", "max_chats": 1}))).await;
    let token = created["token"].as_str().unwrap().to_owned();
    let greeting_change = json!({"persona": {"greeting": "Hello from the archive."}});
    assert_eq!(send(&first, &key, "PATCH", "/v1/api/sites/demo", Some(greeting_change)).await.0, 200);
    first.shutdown.cancel();

    let url = first._dir.as_ref().unwrap().sqlite_url();
    let second = spawn_app_with(move |settings| settings.archive.url = url.into()).await;
    assert!(answer(&second, QUESTION).await["text"].as_str().unwrap().contains("twelve-letter code"));
    assert!(sign_in(&second, &token).await.is_ok(), "the agent made before the restart signs in");
    assert_eq!(greeting(&second).await, "Hello from the archive.");
}

#[tokio::test]
async fn a_node_that_hears_no_notice_catches_up_by_polling() {
    // Two nodes on one archive but each with its own memory store: no notice passes between
    // them, only the archive's counters.
    let a = spawn_app_with(|settings| settings.api.changes_poll_ms = 100).await;
    let url = a._dir.as_ref().unwrap().sqlite_url();
    let b = spawn_app_with(move |settings| {
        settings.archive.url = url.into();
        settings.api.changes_poll_ms = 100;
    })
    .await;
    let key = ready_with_key(&a, "write").await;
    assert_eq!(put_page(&a, &key, "zorblax.md", "text/markdown", PAGE).await.status(), 200);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        if answer(&b, QUESTION).await["text"].as_str().unwrap().contains("twelve-letter code") {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "node b never used the page");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
