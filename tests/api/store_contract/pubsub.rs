//! `PubSub`: frames that are not stored reach a node's followers, with their kind and
//! audience as sent.

use std::sync::Arc;

use baton::delivery::{Change, Kind};
use baton::protocol::{ConversationId, Ephemeral, Speaker, State};
use baton::store::{Audience, Delivery, Topic};

use super::*;

contract!(ephemeral_frames_reach_followers_and_are_not_stored, deliveries_arrive_with_the_kind_and_audience_sent);

async fn ephemeral_frames_reach_followers_and_are_not_stored(backend: Backend) {
    let Stores { log, pubsub, .. } = &backend.stores;
    let id = new_conversation(&backend.stores, "t7").await;
    backend.follow(Topic::Conversation(id)).await;
    backend.follow(Topic::Agent("ana".into())).await;
    pubsub.publish(id, &Ephemeral::Typing { conversation_id: id, from: Speaker::Agent, on: true }).await.unwrap();
    pubsub.deliver(Delivery::frame(Topic::Agent("ana".into()), &serde_json::json!({"type": "hello"}))).await.unwrap();
    backend
        .wait_for("typing and hello", |d| {
            d.iter().any(|d| d.topic == Topic::Conversation(id) && d.json.contains("typing") && d.kind == Kind::Frame)
                && d.iter().any(|d| d.topic == Topic::Agent("ana".into()) && d.json.contains("hello"))
        })
        .await;
    assert_eq!(log.conversation(id).await.unwrap().unwrap().last_seq, 0);
}

/// Every kind of delivery, on the topics `deliveries_arrive_with_the_kind_and_audience_sent`
/// follows (events on a fresh conversation, with rising `seq`s).
pub fn every_kind(id: ConversationId, agent: &str) -> Vec<Delivery> {
    let change = |state, agent: Option<&str>| Some(Change { state, agent_id: agent.map(Arc::from) });
    let conversation = Topic::Conversation(id);
    let with = |topic: &Topic, kind, audience, json: &str| Delivery {
        topic: topic.clone(),
        kind,
        audience,
        json: json.into(),
    };
    vec![
        with(&conversation, Kind::Frame, Audience::Agents, r#"{"type":"x","text":"a: b"}"#),
        with(&conversation, Kind::Event { seq: 1, change: None }, Audience::Everyone, r#"{"seq":1}"#),
        with(&conversation, Kind::Event { seq: 2, change: change(State::Queued, None) }, Audience::Everyone, "{}"),
        with(&conversation, Kind::Event { seq: 3, change: change(State::Agent, Some(agent)) }, Audience::Agents, "{}"),
        Delivery::assigned(agent, id),
        Delivery::frame(Topic::Agent(agent.into()), &serde_json::json!({"type": "queue"})),
    ]
}

async fn deliveries_arrive_with_the_kind_and_audience_sent(backend: Backend) {
    let id = ConversationId::new();
    let agent = "ana:2.7 ✓";
    for topic in [Topic::Conversation(id), Topic::Agent(agent.into())] {
        backend.follow(topic).await;
    }
    let sent = every_kind(id, agent);
    for delivery in &sent {
        backend.stores.pubsub.deliver(delivery.clone()).await.unwrap();
    }
    backend.wait_for("every kind", |d| d.len() >= sent.len()).await;
    let got = backend.delivered.lock().unwrap().clone();
    let view = |d: &Delivery| (d.topic.clone(), d.kind.clone(), d.audience, d.json.to_string());
    let mut got: Vec<_> = got.iter().map(view).collect();
    let mut sent: Vec<_> = sent.iter().map(view).collect();
    // One node receives each channel in order, but channels may interleave.
    got.sort_by_key(|d| format!("{d:?}"));
    sent.sort_by_key(|d| format!("{d:?}"));
    assert_eq!(got, sent);
}
