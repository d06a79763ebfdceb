//! Baton's own notices, through real sockets: in the visitor's language, overridable per
//! site and locale, one per situation; transfers that say who continues and refuse an agent
//! who cannot take the chat; a chat that bounces keeps its clock and is apologised for once.

use std::collections::BTreeMap;
use std::time::Duration;

use baton::config::Routing;
use baton::config::Settings;
use baton::config::notices::NoticeTexts;
use serde_json::{Value, json};

use crate::helpers::{Client, TestApp, agent, repo_root, spawn_app_with};

/// Two agents: ana (support, billing) and bo (billing), two chats each; manual routing.
fn two_agents(s: &mut Settings) {
    s.agents = vec![agent("ana", "token-ana", &["support"], 2), agent("bo", "token-bo", &["billing"], 2)];
    s.handoff.janitor_secs = 1;
    s.handoff.presence_grace_secs = 2;
    s.sites.iter_mut().for_each(|site| site.handoff.routing = Routing::Manual);
}

/// The built-in texts of one locale, as shipped.
pub(crate) fn built_in(locale: &str) -> BTreeMap<String, String> {
    let path = repo_root().join(format!("server/src/conversation/notices/{locale}.toml"));
    toml::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// A demo-site visitor whose `hello` says `locale`.
async fn visitor_in(app: &TestApp, locale: &str) -> (Client, Value) {
    let mut client = app.open_visitor("demo", Some("http://localhost:3000")).await.unwrap();
    client.send(json!({"type": "hello", "locale": locale})).await;
    let welcome = client.next_of_type("welcome").await;
    client.next_of_type("message").await; // the greeting
    (client, welcome)
}

/// Every text Baton wrote to the visitor in `frames`: system messages and quick-reply labels.
fn written_by_baton(frames: &[Value]) -> Vec<String> {
    let mut texts = Vec::new();
    for f in frames.iter().filter(|f| f["type"] == "message" && f["from"] != "visitor") {
        if f["from"] == "system" {
            texts.push(f["text"].as_str().unwrap().to_owned());
        }
        for action in f["actions"].as_array().into_iter().flatten() {
            texts.push(action["label"].as_str().unwrap().to_owned());
        }
    }
    texts
}

fn id_of(welcome: &Value) -> Value {
    welcome["conversation_id"].clone()
}

async fn accept(agent: &mut Client, id: &Value) {
    loop {
        let snapshot = agent.next_of_type("queue_snapshot").await;
        if snapshot["items"].as_array().unwrap().iter().any(|i| i["conversation_id"] == *id) {
            break;
        }
    }
    agent.send(json!({"type": "accept", "conversation_id": id})).await;
    agent.next_of_type("assigned").await;
}

#[tokio::test]
async fn a_french_visitor_hears_no_english_through_escalation_no_agents_and_a_left_message() {
    let app = spawn_app_with(two_agents).await;
    let (english, french) = (built_in("en"), built_in("fr"));
    // Escalation with a person online.
    let (_ana, _) = app.connect_agent("token-ana").await;
    let (mut first, _) = visitor_in(&app, "fr-FR").await;
    first.send(json!({"type": "request_human"})).await;
    let frames = first.collect_until(|f| f["from"] == "system").await;
    assert_eq!(written_by_baton(&frames), [french["explicit_request"].clone()]);
    drop(_ana);
    // Nobody online (an app with no one signed in), then a left message.
    let app = spawn_app_with(two_agents).await;
    let (mut visitor, _) = visitor_in(&app, "fr").await;
    visitor.send(json!({"type": "request_human"})).await;
    let mut frames = visitor.collect_until(|f| f["from"] == "system").await;
    visitor.send(json!({"type": "leave_message", "email": "lea@example.fr", "text": "Rappelez-moi"})).await;
    frames.extend(visitor.collect_until(|f| f["from"] == "system").await);
    frames.extend(visitor.drain(Duration::from_millis(300)).await);
    let told = written_by_baton(&frames);
    let left = french["left_message"].replace("{email}", "lea@example.fr");
    assert_eq!(told, [french["no_agents"].clone(), french["leave_message_action"].clone(), left], "one notice each");
    // No English notice, nor the start of one (the part before a placeholder), reached them.
    let english_heads: Vec<&str> =
        english.values().filter_map(|e| e.split('{').next()).filter(|h| h.trim().len() > 8).collect();
    for text in &told {
        assert!(!english_heads.iter().any(|head| text.contains(head)), "English in {text:?}");
    }
}

#[tokio::test]
async fn a_visitor_without_a_locale_is_told_in_the_language_they_write() {
    let app = spawn_app_with(two_agents).await;
    let mut visitor = app.open_visitor("demo", Some("http://localhost:3000")).await.unwrap();
    visitor.send(json!({"type": "hello"})).await;
    visitor.next_of_type("welcome").await;
    visitor.say("c1", "Je voudrais parler à une personne, s'il vous plaît").await;
    let frames = visitor.collect_until(|f| f["from"] == "system").await;
    assert_eq!(written_by_baton(&frames)[0], built_in("fr")["no_agents"]);
}

#[tokio::test]
async fn a_visitor_without_a_locale_who_asks_for_a_person_in_one_of_the_five_newer_languages_is_answered_in_it() {
    let app = spawn_app_with(two_agents).await;
    let (_ana, _) = app.connect_agent("token-ana").await;
    let asks = [
        ("ru", "Соедините с оператором"),
        ("tr", "müşteri temsilcisiyle görüşmek istiyorum"),
        ("ja", "担当者と話したいです"),
        ("hi", "mujhe kisi insaan se baat karni hai"),
        ("ar", "أريد التحدث مع موظف"),
    ];
    for (locale, text) in asks {
        let mut visitor = app.open_visitor("demo", Some("http://localhost:3000")).await.unwrap();
        visitor.send(json!({"type": "hello"})).await;
        visitor.next_of_type("welcome").await;
        visitor.say("c1", text).await;
        let frames = visitor.collect_until(|f| f["from"] == "system").await;
        assert_eq!(written_by_baton(&frames), [built_in(locale)["explicit_request"].clone()], "{text}");
    }
}

#[tokio::test]
async fn a_site_replaces_a_notice_for_one_locale_only() {
    let app = spawn_app_with(|s| {
        two_agents(s);
        let texts = NoticeTexts { no_agents: Some("Personne n'est là ce soir.".into()), ..Default::default() };
        s.sites.iter_mut().for_each(|site| drop(site.notices.insert("fr".into(), texts.clone())));
    })
    .await;
    let (mut french, _) = visitor_in(&app, "fr").await;
    french.send(json!({"type": "request_human"})).await;
    let frames = french.collect_until(|f| f["from"] == "system").await;
    assert_eq!(frames.last().unwrap()["text"], "Personne n'est là ce soir.");
    let (mut german, _) = visitor_in(&app, "de").await;
    german.send(json!({"type": "request_human"})).await;
    let frames = german.collect_until(|f| f["from"] == "system").await;
    assert_eq!(frames.last().unwrap()["text"], built_in("de")["no_agents"].as_str());
}

#[tokio::test]
async fn a_transfer_tells_the_visitor_who_continues_and_gives_the_next_agent_the_note() {
    let app = spawn_app_with(two_agents).await;
    let (mut ana, _) = app.connect_agent("token-ana").await;
    let (mut bo, _) = app.connect_agent("token-bo").await;
    let (mut visitor, welcome) = visitor_in(&app, "en").await;
    visitor.send(json!({"type": "request_human"})).await;
    accept(&mut ana, &id_of(&welcome)).await;
    let to_bo = json!({"type": "transfer", "conversation_id": id_of(&welcome), "to": {"agent_id": "bo"},
        "note": "Refund for order 1042 approved, needs the payout"});
    ana.send(to_bo).await;
    let assigned = bo.next_of_type("assigned").await;
    let events = assigned["conversation"]["events"].as_array().unwrap();
    assert!(events.iter().any(|e| e["type"] == "note" && e["text"].as_str().unwrap().contains("order 1042")));
    let frames =
        visitor.collect_until(|f| f["from"] == "system" && f["text"].as_str().unwrap().contains("continue")).await;
    assert_eq!(frames.last().unwrap()["text"], "Agent bo from billing will continue this chat with you.");
    assert!(frames.iter().all(|f| f["type"] != "note"), "the note is for agents only");
}

#[tokio::test]
async fn a_transfer_to_an_agent_who_is_away_or_offline_is_refused_with_who_can_take_it() {
    let app = spawn_app_with(|s| {
        two_agents(s);
        s.agents.push(agent("cy", "token-cy", &["billing"], 1));
    })
    .await;
    let (mut ana, _) = app.connect_agent("token-ana").await;
    let (mut cy, _) = app.connect_agent("token-cy").await;
    let (mut visitor, welcome) = visitor_in(&app, "en").await;
    visitor.send(json!({"type": "request_human"})).await;
    accept(&mut ana, &id_of(&welcome)).await;
    ana.send(json!({"type": "transfer", "conversation_id": id_of(&welcome), "to": {"agent_id": "bo"}})).await;
    let error = ana.next_of_type("error").await;
    assert_eq!(error["code"], "transfer_refused");
    assert_eq!(
        error["message"],
        "Agent bo is offline. Who can take it now: Agent cy (billing, 1 free), team billing (1 free)."
    );
    cy.send(json!({"type": "status", "status": "away"})).await;
    cy.drain(Duration::from_millis(300)).await;
    ana.send(json!({"type": "transfer", "conversation_id": id_of(&welcome), "to": {"agent_id": "cy"}})).await;
    let error = ana.next_of_type("error").await;
    assert_eq!(error["message"], "Agent cy is away. Who can take it now: nobody.");
    // Nothing moved: Ana still has the chat and the visitor was told nothing.
    ana.send(json!({"type": "note", "conversation_id": id_of(&welcome), "text": "still mine"})).await;
    ana.next_of_type("note").await;
    let frames = visitor.drain(Duration::from_millis(300)).await;
    assert!(frames.iter().all(|f| f["from"] != "system" || !f["text"].as_str().unwrap().contains("continue")));
}

#[tokio::test]
async fn the_roster_lists_agents_and_teams_with_presence_and_free_capacity() {
    let app = spawn_app_with(two_agents).await;
    let (mut ana, _) = app.connect_agent("token-ana").await;
    let (mut bo, _) = app.connect_agent("token-bo").await;
    bo.send(json!({"type": "status", "status": "away"})).await;
    bo.drain(Duration::from_millis(300)).await;
    ana.send(json!({"type": "roster"})).await;
    let roster = ana.next_of_type("roster").await;
    let agents: Vec<(&str, &str, u64)> = roster["agents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["id"].as_str().unwrap(), a["presence"].as_str().unwrap(), a["free"].as_u64().unwrap()))
        .collect();
    assert_eq!(agents, [("ana", "online", 2), ("bo", "away", 0)]);
    assert_eq!(
        roster["teams"],
        json!([{"team": "billing", "online": 0, "free": 0}, {"team": "support", "online": 1, "free": 2}])
    );
}

#[tokio::test]
async fn an_away_agent_is_not_given_chats_when_signing_in_again() {
    let app = spawn_app_with(|s| {
        two_agents(s);
        s.sites.iter_mut().for_each(|site| site.handoff.routing = Routing::LeastBusy);
    })
    .await;
    let (mut first_tab, _) = app.connect_agent("token-ana").await;
    first_tab.send(json!({"type": "status", "status": "away"})).await;
    first_tab.drain(Duration::from_millis(300)).await;
    let (mut visitor, welcome) = visitor_in(&app, "en").await;
    visitor.send(json!({"type": "request_human"})).await;
    visitor.collect_until(|f| f["from"] == "system").await;
    // A second tab (no status in `auth`) and a reconnect that says away: neither is given it.
    let (mut second_tab, _) = app.connect_agent("token-ana").await;
    let mut reconnect = app.open_agent().await;
    reconnect.send(json!({"type": "auth", "token": "token-ana", "status": "away"})).await;
    reconnect.next_of_type("ready").await;
    for socket in [&mut first_tab, &mut second_tab, &mut reconnect] {
        let frames = socket.drain(Duration::from_millis(400)).await;
        assert!(frames.iter().all(|f| f["type"] != "assigned"), "{frames:?}");
    }
    assert_eq!(app.conversation(&welcome).await.state, baton::protocol::State::Queued);
}

#[tokio::test]
async fn a_chat_that_bounces_keeps_its_waiting_time_and_reason_and_is_apologised_for_once() {
    let app = spawn_app_with(|s| {
        two_agents(s);
        s.handoff.answer_timeout_secs = 1;
    })
    .await;
    let (mut ana, _) = app.connect_agent("token-ana").await;
    let (mut visitor, welcome) = visitor_in(&app, "en").await;
    visitor.send(json!({"type": "request_human"})).await;
    let first = loop {
        let snapshot = ana.next_of_type("queue_snapshot").await;
        if let Some(item) = snapshot["items"].as_array().unwrap().first() {
            break item.clone();
        }
    };
    for _ in 0..2 {
        ana.send(json!({"type": "accept", "conversation_id": id_of(&welcome)})).await;
        ana.next_of_type("assigned").await;
        // Ana does not answer: the janitor gives the chat back.
        let again = loop {
            let snapshot = ana.next_of_type("queue_snapshot").await;
            if let Some(item) = snapshot["items"].as_array().unwrap().first() {
                break item.clone();
            }
        };
        assert_eq!((&again["waiting_since"], &again["reason"]), (&first["waiting_since"], &first["reason"]));
    }
    let frames = visitor.drain(Duration::from_millis(300)).await;
    let sorry = written_by_baton(&frames).iter().filter(|t| t.starts_with("Sorry for the wait")).count();
    assert_eq!(sorry, 1, "{frames:?}");
}
