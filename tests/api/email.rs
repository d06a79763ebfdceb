//! Follow-up by email, against a real SMTP server (aiosmtpd) the test starts: the
//! confirmation of a left message with its resume link, followed through the real HTTP path
//! and the real socket; the agent's answer by email; transcripts; a mail server that is down
//! loses nothing.

use std::time::Duration;

use baton::config::Routing;
use baton::config::Settings;
use baton::config::email::SmtpSecurity;
use serde_json::{Value, json};

use crate::helpers::{Client, TestApp, agent, spawn_app_with};
use crate::redis_server::free_port;
use crate::smtp_server::SmtpServer;

/// Email through 127.0.0.1:`port` (no TLS: a local test server), quick retries, one agent.
fn email_on(port: u16, auth: Option<(&str, &str)>) -> impl FnOnce(&mut Settings) {
    let auth = auth.map(|(u, p)| (u.to_owned(), p.to_owned()));
    move |s: &mut Settings| {
        s.agents = vec![agent("ana", "token-ana", &["support"], 2)];
        s.sites.iter_mut().for_each(|site| site.handoff.routing = Routing::Manual);
        let email = &mut s.email;
        email.smtp_host = Some("127.0.0.1".into());
        email.smtp_port = port;
        email.security = SmtpSecurity::None;
        email.from = "Northwind Support <support@northwind.example>".into();
        email.link_secret = Some("test link secret".to_owned().into());
        email.outbox_poll_ms = 50;
        email.retry_first_secs = 1;
        email.retry_max_secs = 1;
        email.timeout_secs = 5;
        if let Some((user, password)) = auth {
            email.username = Some(user);
            email.password = Some(password.into());
        }
    }
}

/// A visitor who asked for a person while nobody was online and left a message.
async fn left_a_message(app: &TestApp, email: &str, text: &str) -> (Client, Value) {
    let (mut visitor, welcome) = app.escalated_visitor().await;
    visitor.collect_until(|f| f["actions"][0]["id"] == "leave_message").await;
    visitor.send(json!({"type": "leave_message", "email": email, "text": text})).await;
    visitor.collect_until(|f| f["from"] == "system" && f["text"].as_str().unwrap().contains(email)).await;
    (visitor, welcome)
}

async fn accept(agent: &mut Client, id: &Value) {
    agent.send(json!({"type": "accept", "conversation_id": id})).await;
    agent.next_of_type("assigned").await;
}

#[tokio::test]
async fn a_left_message_is_confirmed_by_email_and_the_agents_answer_reaches_the_visitor_who_comes_back_live() {
    let smtp = SmtpServer::with_auth("baton:s3cret");
    let app = spawn_app_with(email_on(smtp.port, Some(("baton", "s3cret")))).await;
    let (visitor, welcome) = left_a_message(&app, "lea@example.com", "Where is order 1042?").await;
    drop(visitor);
    let confirmation = smtp.wait_for(1).await.remove(0);
    assert!(confirmation.header("X-Envelope-To").unwrap().contains("lea@example.com"));
    assert!(confirmation.header("Subject").unwrap().contains("we got your message"));
    assert!(confirmation.body().contains("Where is order 1042?"));
    let link = confirmation.resume_token();
    assert!(!confirmation.raw.contains(welcome["token"].as_str().unwrap()), "never the raw resume token");
    // The link leads, through the real HTTP path, to a page that opens this conversation.
    let page = app.get(&format!("/v1/resume?t={link}")).await;
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains(&format!("data-resume=\"{link}\"")));
    // An agent answers in the conversation itself; the answer goes out by email too.
    let (mut ana, ready) = app.connect_agent("token-ana").await;
    assert_eq!(ready["left_messages"][0]["email"], "lea@example.com");
    let id = welcome["conversation_id"].clone();
    accept(&mut ana, &id).await;
    let answer = json!({"type": "message", "conversation_id": id, "client_id": "a1", "text": "It ships tomorrow."});
    ana.send(answer).await;
    ana.next_of_type("ack").await;
    let reply = smtp.wait_for(2).await.remove(1);
    assert!(reply.header("X-Envelope-To").unwrap().contains("lea@example.com"));
    assert!(reply.body().contains("It ships tomorrow."));
    // The visitor opens the link from the reply: the whole thread, then live.
    let (mut back, again) = app.resume_visitor(&reply.resume_token(), 0).await;
    assert_eq!(again["conversation_id"], id);
    let thread = back.collect_until(|f| f["text"] == "It ships tomorrow.").await;
    assert!(thread.iter().any(|f| f["from"] == "system" && f["text"].as_str().unwrap().contains("lea@example.com")));
    back.say("v2", "Great, thanks!").await;
    let heard = ana.collect_until(|f| f["type"] == "message" && f["from"] == "visitor").await;
    assert_eq!(heard.last().unwrap()["text"], "Great, thanks!");
    ana.send(json!({"type": "message", "conversation_id": id, "client_id": "a2", "text": "You're welcome."})).await;
    ana.next_of_type("ack").await;
    back.collect_until(|f| f["text"] == "You're welcome.").await;
    // Back in the chat, the visitor reads answers live: no third email was queued.
    let (_console, ready) = app.connect_agent("token-ana").await;
    let kinds: Vec<(&str, &str)> = ready["mail"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["kind"].as_str().unwrap(), m["status"].as_str().unwrap()))
        .collect();
    assert_eq!(kinds, [("confirmation", "sent"), ("reply", "sent")]);
}

#[tokio::test]
async fn a_mail_server_that_is_down_loses_nothing_and_the_console_shows_not_yet_sent() {
    let port = free_port();
    let app = spawn_app_with(email_on(port, None)).await;
    let (_visitor, welcome) = left_a_message(&app, "sam@example.com", "Call me back please").await;
    // The console shows it as not yet sent, with why, once an attempt failed.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let mail = loop {
        assert!(tokio::time::Instant::now() < deadline, "no attempt was made");
        let (_ana, ready) = app.connect_agent("token-ana").await;
        let mail = ready["mail"][0].clone();
        // Absent only while a just-started archive is not migrated yet (queued in the background).
        if mail.is_null() {
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        }
        assert_eq!((mail["kind"].as_str(), mail["status"].as_str()), (Some("confirmation"), Some("pending")));
        if mail["attempts"].as_u64() >= Some(1) {
            break mail;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(mail["conversation_id"], welcome["conversation_id"]);
    assert!(mail["last_error"].as_str().unwrap().contains("SMTP"), "{mail}");
    // The server comes up on that port: the retry delivers it.
    let smtp = SmtpServer::on_port(port, None);
    let delivered = smtp.wait_for(1).await;
    assert!(delivered[0].body().contains("Call me back please"));
    // The sender marks it sent just after the server took it: the console says so then.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let mail = loop {
        let (_console, ready) = app.connect_agent("token-ana").await;
        let mail = ready["mail"][0].clone();
        if mail["status"] == "sent" {
            break mail;
        }
        assert!(tokio::time::Instant::now() < deadline, "still {mail}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(mail["attempts"].as_u64().unwrap() >= 2, "{mail}");
}

#[tokio::test]
async fn a_visitor_can_have_the_transcript_emailed_without_the_agents_notes() {
    let smtp = SmtpServer::start();
    let app = spawn_app_with(email_on(smtp.port, None)).await;
    let (mut ana, _) = app.connect_agent("token-ana").await;
    let (mut visitor, welcome) = app.escalated_visitor().await;
    let id = welcome["conversation_id"].clone();
    ana.next_of_type("queue_snapshot").await;
    accept(&mut ana, &id).await;
    ana.send(json!({"type": "note", "conversation_id": id, "text": "internal: VIP"})).await;
    ana.next_of_type("note").await;
    ana.send(json!({"type": "message", "conversation_id": id, "client_id": "a1", "text": "Refund done."})).await;
    ana.next_of_type("ack").await;
    ana.send(json!({"type": "resolve", "conversation_id": id})).await;
    visitor.next_of_type("csat_request").await;
    visitor.send(json!({"type": "email_transcript", "email": "kim@example.com"})).await;
    assert_eq!(visitor.next_of_type("transcript_queued").await["conversation_id"], id);
    let transcript = smtp.wait_for(1).await.remove(0);
    assert!(transcript.header("X-Envelope-To").unwrap().contains("kim@example.com"));
    let body = transcript.body();
    assert!(body.contains("Agent ana: Refund done."), "{body}");
    assert!(!body.contains("VIP"), "notes stay internal: {body}");
    assert!(body.contains("/v1/resume?t="));
}

#[tokio::test]
async fn a_forged_resume_link_opens_nothing() {
    let smtp = SmtpServer::start();
    let app = spawn_app_with(email_on(smtp.port, None)).await;
    let (_visitor, welcome) = app.connect_visitor().await;
    let id = welcome["conversation_id"].as_str().unwrap().replace('-', "");
    let forged = format!("r1.{id}.9999999999.{}", "00".repeat(32));
    assert_eq!(app.get(&format!("/v1/resume?t={forged}")).await.status(), 410);
    let mut client = app.open_visitor("demo", None).await.unwrap();
    client.send(json!({"type": "hello", "token": forged})).await;
    assert_eq!(client.closed_with().await, 4001);
}

#[tokio::test]
async fn with_email_off_the_widget_is_not_promised_email() {
    let app = spawn_app_with(|_| {}).await;
    let (mut visitor, welcome) = app.connect_visitor().await;
    assert_eq!(welcome["email"], false);
    visitor.send(json!({"type": "email_transcript", "email": "kim@example.com"})).await;
    let error = visitor.next_of_type("error").await;
    assert_eq!(error["message"], "email is not configured on this server");
    visitor.assert_silent(Duration::from_millis(200)).await;
}

#[tokio::test]
async fn a_french_visitors_emails_are_in_french_from_confirmation_to_reply_to_transcript() {
    let smtp = SmtpServer::start();
    let app = spawn_app_with(email_on(smtp.port, None)).await;
    let mut visitor = app.open_visitor("demo", Some("http://localhost:3000")).await.unwrap();
    visitor.send(json!({"type": "hello", "locale": "fr-FR"})).await;
    let id = visitor.next_of_type("welcome").await["conversation_id"].clone();
    visitor.send(json!({"type": "request_human"})).await;
    visitor.collect_until(|f| f["actions"][0]["id"] == "leave_message").await;
    visitor.send(json!({"type": "leave_message", "email": "lea@example.fr", "text": "Rappelez-moi"})).await;
    let confirmation = smtp.wait_for(1).await.remove(0).body();
    assert!(confirmation.contains("Votre message :\nRappelez-moi"), "{confirmation}");
    assert!(!confirmation.contains("Your message") && !confirmation.contains("Thanks"), "{confirmation}");

    let (mut ana, _) = app.connect_agent("token-ana").await;
    accept(&mut ana, &id).await;
    ana.send(json!({"type": "message", "conversation_id": id, "client_id": "a1", "text": "C'est fait."})).await;
    ana.next_of_type("ack").await;
    let reply = smtp.wait_for(2).await.remove(1).body();
    assert!(reply.contains("Agent ana a écrit :\n\nC'est fait."), "{reply}");
    assert!(!reply.contains("wrote"), "{reply}");

    visitor.say("v1", "Merci beaucoup").await;
    ana.send(json!({"type": "resolve", "conversation_id": id})).await;
    visitor.next_of_type("csat_request").await;
    visitor.send(json!({"type": "email_transcript"})).await;
    visitor.next_of_type("transcript_queued").await;
    let transcript = smtp.wait_for(3).await.remove(2).body();
    assert!(
        transcript.contains("Votre conversation avec") && transcript.contains("Vous: Merci beaucoup"),
        "{transcript}"
    );
    assert!(transcript.contains("Rouvrir la conversation :"), "{transcript}");
}
