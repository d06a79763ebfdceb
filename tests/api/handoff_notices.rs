//! The moments of a handoff the visitor is told about, through real sockets: "X joined" when
//! the agent takes the chat (not when routing assigns it), hand-back and resolve in the
//! visitor's language and overridable per site, a full queue that says so and offers a
//! message, left messages marked handled for the whole site, and a transfer roster of the
//! chat's own site.

use std::time::Duration;

use baton::config::notices::NoticeTexts;
use baton::config::{Routing, Settings};
use serde_json::{Value, json};

use crate::helpers::{Client, TestApp, agent, spawn_app_with};
use crate::notices::built_in;
use crate::tenants::{never_hears_of, queued_on, refused, sees_in_queue, two_sites};

/// Long enough for a frame a pass sends to arrive on a quiet machine.
const QUIET: Duration = Duration::from_millis(400);

/// Agents ana and bo (support), two chats each, with `routing` on every site.
fn routed(routing: Routing) -> impl FnOnce(&mut Settings) {
    move |s: &mut Settings| {
        s.agents = vec![agent("ana", "token-ana", &["support"], 2), agent("bo", "token-bo", &["support"], 2)];
        s.sites.iter_mut().for_each(|site| site.handoff.routing = routing);
    }
}

/// A demo-site visitor whose `hello` says `locale`, who asked for a person.
async fn escalated_in(app: &TestApp, locale: &str) -> (Client, Value) {
    let mut visitor = app.open_visitor("demo", Some("http://localhost:3000")).await.unwrap();
    visitor.send(json!({"type": "hello", "locale": locale})).await;
    let welcome = visitor.next_of_type("welcome").await;
    visitor.send(json!({"type": "request_human"})).await;
    visitor.collect_until(|f| f["type"] == "state" && f["state"] == "queued").await;
    (visitor, welcome["conversation_id"].clone())
}

fn system_texts(frames: &[Value]) -> Vec<String> {
    frames.iter().filter(|f| f["type"] == "message" && f["from"] == "system").map(|f| f["text"].to_string()).collect()
}

fn said(frames: &[Value], text: &str) -> usize {
    frames.iter().filter(|f| f["type"] == "message" && f["from"] == "system" && f["text"] == text).count()
}

#[tokio::test]
async fn a_routed_chat_says_joined_when_its_agent_opens_it_not_when_it_is_assigned() {
    let app = spawn_app_with(routed(Routing::LeastBusy)).await;
    let (mut ana, _) = app.connect_agent("token-ana").await;
    let (mut visitor, id) = escalated_in(&app, "en").await;
    let assigned = ana.next_of_type("assigned").await;
    assert_eq!(assigned["conversation"]["conversation_id"], id);
    let frames = visitor.drain(QUIET).await;
    assert!(frames.iter().any(|f| f["type"] == "state" && f["state"] == "agent"), "assigned: {frames:?}");
    assert_eq!(said(&frames, "Agent ana joined the chat."), 0, "nobody looked yet: {:?}", system_texts(&frames));

    // Bo may not open ana's chat; ana opens it, from two sockets and twice: said once.
    let (mut bo, _) = app.connect_agent("token-bo").await;
    assert_eq!(refused(&mut bo, json!({"type": "open", "conversation_id": id})).await, "forbidden");
    let (mut ana_tab, _) = app.connect_agent("token-ana").await;
    let open = json!({"type": "open", "conversation_id": id});
    ana.send(open.clone()).await;
    ana_tab.send(open.clone()).await;
    ana.send(open).await;
    let frames = visitor.drain(QUIET).await;
    assert_eq!(said(&frames, "Agent ana joined the chat."), 1, "{:?}", system_texts(&frames));
}

#[tokio::test]
async fn an_agent_who_writes_to_a_routed_chat_before_opening_it_has_joined_first() {
    let app = spawn_app_with(routed(Routing::LeastBusy)).await;
    let (mut ana, _) = app.connect_agent("token-ana").await;
    let (mut visitor, id) = escalated_in(&app, "de").await;
    ana.next_of_type("assigned").await;
    ana.send(json!({"type": "message", "conversation_id": id, "client_id": "a1", "text": "Hallo!"})).await;
    ana.next_of_type("ack").await;
    let frames = visitor.collect_until(|f| f["from"] == "agent").await;
    let joined = built_in("de")["agent_joined"].replace("{name}", "Agent ana");
    let order: Vec<&str> = frames
        .iter()
        .filter(|f| f["type"] == "message" && f["from"] != "visitor")
        .filter_map(|f| f["text"].as_str())
        .filter(|t| *t == joined || *t == "Hallo!")
        .collect();
    assert_eq!(order, [joined.as_str(), "Hallo!"]);
}

#[tokio::test]
async fn a_transferred_chat_says_joined_once_the_next_agent_opens_it() {
    let app = spawn_app_with(routed(Routing::Manual)).await;
    let (mut ana, _) = app.connect_agent("token-ana").await;
    let (mut bo, _) = app.connect_agent("token-bo").await;
    let (mut visitor, id) = escalated_in(&app, "en").await;
    sees_in_queue(&mut ana, id.as_str().unwrap()).await;
    ana.send(json!({"type": "accept", "conversation_id": id})).await;
    ana.next_of_type("assigned").await;
    ana.send(json!({"type": "transfer", "conversation_id": id, "to": {"agent_id": "bo"}})).await;
    bo.next_of_type("assigned").await;
    let frames = visitor.drain(QUIET).await;
    assert_eq!(said(&frames, "Agent ana joined the chat."), 1);
    assert_eq!(said(&frames, "Agent bo from support will continue this chat with you."), 1);
    assert_eq!(said(&frames, "Agent bo joined the chat."), 0, "bo has not looked yet");
    bo.send(json!({"type": "open", "conversation_id": id})).await;
    let frames = visitor.drain(QUIET).await;
    assert_eq!(said(&frames, "Agent bo joined the chat."), 1);
}

#[tokio::test]
async fn system_messages_name_their_notice_live_and_in_a_replay_and_no_other_message_does() {
    let app = spawn_app_with(routed(Routing::LeastBusy)).await;
    let (mut ana, _) = app.connect_agent("token-ana").await;
    let mut visitor = app.open_visitor("demo", Some("http://localhost:3000")).await.unwrap();
    visitor.send(json!({"type": "hello", "locale": "fr"})).await;
    let welcome = visitor.next_of_type("welcome").await;
    visitor.send(json!({"type": "request_human"})).await;
    let id = ana.next_of_type("assigned").await["conversation"]["conversation_id"].clone();
    ana.send(json!({"type": "open", "conversation_id": id})).await;
    let live = visitor.collect_until(|f| f["notice"] == "agent_joined").await;
    let french = built_in("fr");
    let notices = |frames: &[Value]| -> Vec<(String, String)> {
        let system = frames.iter().filter(|f| f["type"] == "message" && f["from"] == "system");
        system.map(|f| (f["notice"].as_str().unwrap_or("none").to_owned(), f["text"].to_string())).collect()
    };
    let want = vec![
        ("explicit_request".to_owned(), json!(french["explicit_request"]).to_string()),
        ("agent_joined".to_owned(), json!(french["agent_joined"].replace("{name}", "Agent ana")).to_string()),
    ];
    assert_eq!(notices(&live), want, "the key is the notice's, whatever the language");

    // Stored with the event: a page that reloads replays the same marks; no other message has one.
    let mut reloaded = app.open_visitor("demo", Some("http://localhost:3000")).await.unwrap();
    reloaded.send(json!({"type": "hello", "token": welcome["token"], "last_seq": 0, "locale": "fr"})).await;
    let replay = reloaded.collect_until(|f| f["notice"] == "agent_joined").await;
    assert_eq!(notices(&replay), want);
    let others = replay.iter().filter(|f| f["type"] == "message" && f["from"] != "system");
    assert!(others.clone().count() > 0 && others.clone().all(|f| f.get("notice").is_none()), "{replay:?}");
}

#[tokio::test]
async fn hand_back_and_resolve_are_told_in_the_visitors_language_and_a_site_can_reword_them() {
    let app = spawn_app_with(|s| {
        routed(Routing::Manual)(s);
        let texts = NoticeTexts { resolved: Some("C'est terminé : à bientôt !".into()), ..Default::default() };
        s.sites.iter_mut().for_each(|site| drop(site.notices.insert("fr".into(), texts.clone())));
    })
    .await;
    let french = built_in("fr");
    let (mut ana, _) = app.connect_agent("token-ana").await;
    let (mut visitor, id) = escalated_in(&app, "fr-CA").await;
    sees_in_queue(&mut ana, id.as_str().unwrap()).await;
    ana.send(json!({"type": "accept", "conversation_id": id})).await;
    ana.next_of_type("assigned").await;
    ana.send(json!({"type": "handback", "conversation_id": id})).await;
    let frames = visitor.collect_until(|f| f["from"] == "system" && f["text"] == french["handed_back"]).await;
    assert!(frames.iter().any(|f| f["type"] == "state" && f["state"] == "bot"));
    let joined = french["agent_joined"].replace("{name}", "Agent ana");
    assert_eq!(said(&frames, &joined), 1, "{:?}", system_texts(&frames));

    visitor.send(json!({"type": "request_human"})).await;
    sees_in_queue(&mut ana, id.as_str().unwrap()).await;
    ana.send(json!({"type": "accept", "conversation_id": id})).await;
    ana.next_of_type("assigned").await;
    ana.send(json!({"type": "resolve", "conversation_id": id})).await;
    let frames = visitor.collect_until(|f| f["type"] == "csat_request").await;
    let state = frames.iter().position(|f| f["type"] == "state" && f["state"] == "resolved").expect("resolved");
    let told = frames.iter().position(|f| f["text"] == "C'est terminé : à bientôt !").expect("the site's own words");
    assert!(state < told, "the notice follows the change");
    assert_eq!(said(&frames, &french["resolved"]), 0, "the override replaces the built-in");
}

#[tokio::test]
async fn a_visitor_who_ends_the_chat_is_told_it_ended_in_their_language() {
    let app = spawn_app_with(routed(Routing::Manual)).await;
    let (mut visitor, _) = escalated_in(&app, "pl").await;
    visitor.send(json!({"type": "end"})).await;
    let frames = visitor.collect_until(|f| f["from"] == "system" && f["text"] == built_in("pl")["resolved"]).await;
    assert!(frames.iter().any(|f| f["type"] == "state" && f["state"] == "resolved"));
}

#[tokio::test]
async fn a_full_queue_keeps_the_chat_with_the_bot_and_says_so_once_with_a_way_to_leave_a_message() {
    let app = spawn_app_with(|s| {
        routed(Routing::Manual)(s);
        s.sites.iter_mut().for_each(|site| site.handoff.max_queue = 1);
    })
    .await;
    let (_ana, _) = app.connect_agent("token-ana").await;
    let (_first, _) = escalated_in(&app, "en").await;
    let (mut second, welcome) = app.connect_visitor().await;
    second.send(json!({"type": "request_human"})).await;
    let frames = second.collect_until(|f| f["from"] == "system").await;
    let full = built_in("en")["queue_full"].clone();
    let notice = frames.last().unwrap();
    assert_eq!(notice["text"], full.as_str());
    assert_eq!(notice["actions"][0]["id"], "leave_message");
    assert_eq!(notice["notice"], "queue_full");
    assert!(frames.iter().all(|f| f["type"] != "state"), "not queued: {frames:?}");
    // Asking again while nothing else was said does not repeat it; the chat stays the bot's.
    second.send(json!({"type": "request_human"})).await;
    assert_eq!(said(&second.drain(QUIET).await, &full), 0);
    assert_eq!(app.conversation(&welcome).await.state, baton::protocol::State::Bot);
    // The offer is real: the left message is taken and confirmed.
    second.send(json!({"type": "leave_message", "email": "kim@example.com", "text": "Call me"})).await;
    let frames = second.collect_until(|f| f["from"] == "system").await;
    assert!(frames.last().unwrap()["text"].as_str().unwrap().contains("kim@example.com"));
}

/// Leaves a message on `site` and returns its conversation id.
async fn left_on(app: &TestApp, site: &str) -> String {
    let (mut visitor, id) = queued_on(app, site, None).await;
    visitor.send(json!({"type": "leave_message", "email": "kim@example.com", "text": "Call me back"})).await;
    visitor.collect_until(|f| f["from"] == "system" && f["text"].as_str().unwrap().contains("kim@")).await;
    id
}

#[tokio::test]
async fn a_left_message_marked_handled_is_seen_so_by_every_agent_of_its_site_and_by_no_one_else() {
    let app = spawn_app_with(two_sites).await;
    let (mut dev, _) = app.connect_agent("t-dev").await;
    let (mut lea, _) = app.connect_agent("t-lea").await;
    let (mut bea, _) = app.connect_agent("t-bea").await;
    let id = left_on(&app, "demo").await;
    dev.collect_until(|f| f["type"] == "left_message").await;

    assert_eq!(
        refused(&mut bea, json!({"type": "handled", "conversation_id": id, "handled": true})).await,
        "forbidden"
    );
    dev.send(json!({"type": "handled", "conversation_id": id, "handled": true})).await;
    let told = lea.collect_until(|f| f["type"] == "left_message_handled").await;
    let mark = &told.last().unwrap()["handled"];
    assert_eq!(
        (told.last().unwrap()["conversation_id"].as_str(), mark["by"].as_str()),
        (Some(id.as_str()), Some("Agent dev"))
    );
    never_hears_of(&mut bea, &id).await;
    // A console signing in later reads it from the server, not from its browser.
    let (_, ready) = app.connect_agent("t-lea").await;
    let left = ready["left_messages"].as_array().unwrap().iter().find(|m| m["conversation_id"] == id).unwrap().clone();
    assert_eq!(left["handled"]["by"], "Agent dev");
    let (_, ready) = app.connect_agent("t-bea").await;
    assert!(ready["left_messages"].as_array().unwrap().is_empty());
    // Undone, for everyone again.
    lea.send(json!({"type": "handled", "conversation_id": id, "handled": false})).await;
    let told = dev.collect_until(|f| f["type"] == "left_message_handled" && f["handled"].is_null()).await;
    assert_eq!(told.iter().filter(|f| f["type"] == "left_message_handled").count(), 2, "dev's mark, then lea's undo");
    let unknown =
        json!({"type": "handled", "conversation_id": baton::protocol::ConversationId::new(), "handled": true});
    assert_eq!(refused(&mut dev, unknown).await, "not_found");
}

#[tokio::test]
async fn the_transfer_roster_of_a_chat_lists_only_agents_who_work_for_its_site() {
    let app = spawn_app_with(two_sites).await;
    let (mut all, _) = app.connect_agent("t-all").await;
    let (_bea, _) = app.connect_agent("t-bea").await;
    let (_dev, _) = app.connect_agent("t-dev").await;
    let (_visitor, id) = queued_on(&app, "shop", None).await;
    sees_in_queue(&mut all, &id).await;
    all.send(json!({"type": "accept", "conversation_id": id})).await;
    all.next_of_type("assigned").await;
    all.send(json!({"type": "roster", "conversation_id": id})).await;
    let roster = all.next_of_type("roster").await;
    let mut names: Vec<&str> = roster["agents"].as_array().unwrap().iter().map(|a| a["id"].as_str().unwrap()).collect();
    names.sort_unstable();
    assert_eq!(names, ["all", "bea"], "the shop's agents only, not demo's dev or lea");
    let teams: Vec<&str> = roster["teams"].as_array().unwrap().iter().map(|t| t["team"].as_str().unwrap()).collect();
    assert_eq!(teams, ["billing", "support"]);
    // A demo agent may not ask about the shop's chat, and a transfer to one is refused.
    let (mut dev, _) = app.connect_agent("t-dev").await;
    assert_eq!(refused(&mut dev, json!({"type": "roster", "conversation_id": id})).await, "forbidden");
    let to_dev = json!({"type": "transfer", "conversation_id": id, "to": {"agent_id": "dev"}});
    assert_eq!(refused(&mut all, to_dev).await, "forbidden");
}

#[tokio::test]
async fn a_routed_chat_whose_agent_leaves_without_opening_it_goes_back_without_saying_someone_left() {
    let app = spawn_app_with(|s| {
        routed(Routing::LeastBusy)(s);
        s.handoff.janitor_secs = 1;
        s.handoff.presence_grace_secs = 1;
    })
    .await;
    let (mut ana, _) = app.connect_agent("token-ana").await;
    let (mut visitor, id) = escalated_in(&app, "en").await;
    ana.next_of_type("assigned").await;
    drop(ana);
    let frames = visitor.collect_until(|f| f["type"] == "state" && f["state"] == "queued").await;
    assert!(frames.iter().any(|f| f["type"] == "state" && f["state"] == "agent"), "{frames:?}");
    let told = visitor.next_of_type("message").await;
    assert_eq!(told["from"], "system", "{told}");
    let text = told["text"].as_str().unwrap();
    assert!(!text.contains("had to leave"), "nobody had joined: {text}");
    assert!(text.contains("back at the front of the queue"), "{text}");
    assert_eq!(told["conversation_id"], id);
}
