//! Tenants apart across nodes: two real `baton` processes on one real Redis, agents of two
//! sites and of a legal team on different nodes from the visitors. What one node fans out
//! through Redis reaches only the agents who may see it.

use serde_json::json;

use crate::cluster::{ClusterConfig, Node, copy_dir};
use crate::redis_server::{RedisServer, namespace};
use crate::tenants::{LAWYER, never_hears_of, queued_on, refused, sees_in_queue};

/// The cluster's demo site (manual routing) with legal matters sent to the `legal` team, a
/// second site `shop`, and agents `dev` (demo, support), `lea` (demo, legal), `bea` (shop).
fn two_sites() -> ClusterConfig {
    let config = ClusterConfig::new();
    let sites = config.dir.join("sites");
    let demo = std::fs::read_to_string(sites.join("demo.toml")).unwrap();
    std::fs::write(sites.join("demo.toml"), format!("{demo}\n[handoff.topic_teams]\nlegal = \"legal\"\n")).unwrap();
    std::fs::write(sites.join("shop.toml"), &demo).unwrap();
    copy_dir(&sites.join("demo"), &sites.join("shop"));
    let agents: String = [("dev", "support", "demo"), ("lea", "legal", "demo"), ("bea", "billing", "shop")]
        .iter()
        .map(|(id, team, site)| {
            let hash = crate::helpers::agent(id, &format!("token-{id}"), &[], 5).token_sha256;
            format!(
                "[[agents]]\nid = \"{id}\"\nname = \"Agent {id}\"\nteams = [\"{team}\"]\nsites = [\"{site}\"]\nmax_chats = 5\ntoken_sha256 = \"{hash}\"\n\n"
            )
        })
        .collect();
    std::fs::write(config.dir.join("local.toml"), agents).unwrap();
    config
}

#[tokio::test]
async fn across_two_nodes_an_agent_hears_of_and_takes_only_chats_of_their_own_site_and_team() {
    let redis = RedisServer::start();
    let config = two_sites();
    let ns = namespace();
    let visitors = Node::start(&config.dir, &redis, &ns).await;
    let agents = Node::start(&config.dir, &redis, &ns).await;
    let (mut dev, _) = agents.app.connect_agent("token-dev").await;
    let (mut bea, _) = agents.app.connect_agent("token-bea").await;
    let (mut lea, _) = visitors.app.connect_agent("token-lea").await;

    // A support chat of the demo site: dev's business, never bea's (the leak the issue saw:
    // a billing agent accepting a support chat).
    let (_visitor, id) = queued_on(&visitors.app, "demo", None).await;
    sees_in_queue(&mut dev, &id).await;
    never_hears_of(&mut bea, &id).await;
    assert_eq!(refused(&mut bea, json!({"type": "accept", "conversation_id": id})).await, "forbidden");
    dev.send(json!({"type": "accept", "conversation_id": id})).await;
    dev.next_of_type("assigned").await;
    let note = json!({"type": "note", "conversation_id": id, "text": "not mine"});
    assert_eq!(refused(&mut bea, note).await, "forbidden");

    // A legal chat: shown to and taken by the legal team only, on whichever node.
    let (_lawyer, legal_id) = queued_on(&visitors.app, "demo", Some(LAWYER)).await;
    sees_in_queue(&mut lea, &legal_id).await;
    never_hears_of(&mut dev, &legal_id).await;
    assert_eq!(refused(&mut dev, json!({"type": "accept", "conversation_id": legal_id})).await, "forbidden");
    lea.send(json!({"type": "accept", "conversation_id": legal_id})).await;
    lea.next_of_type("assigned").await;

    // A message left on the shop, with the visitor's email: bea's only.
    let (mut shopper, shop_id) = queued_on(&visitors.app, "shop", None).await;
    let email = "shop.visitor@example.com";
    shopper.send(json!({"type": "leave_message", "email": email, "text": "Call me back"})).await;
    let left = bea.next_of_type("left_message").await;
    assert_eq!(left["message"]["conversation_id"], shop_id);
    for frame in dev.drain(std::time::Duration::from_millis(400)).await {
        assert!(!frame.to_string().contains(email), "an email leaked across sites: {frame}");
    }
    let (_, ready) = agents.app.connect_agent("token-dev").await;
    assert!(!ready.to_string().contains(email), "{ready}");
}

#[tokio::test]
async fn across_two_nodes_a_left_message_marked_handled_reaches_the_sites_agents_on_the_other_node_only() {
    let redis = RedisServer::start();
    let config = two_sites();
    let ns = namespace();
    let one = Node::start(&config.dir, &redis, &ns).await;
    let other = Node::start(&config.dir, &redis, &ns).await;
    let (mut dev, _) = one.app.connect_agent("token-dev").await;
    let (mut lea, _) = other.app.connect_agent("token-lea").await;
    let (mut bea, _) = other.app.connect_agent("token-bea").await;
    let (mut visitor, id) = queued_on(&one.app, "demo", None).await;
    visitor.send(json!({"type": "leave_message", "email": "kim@example.com", "text": "Call me back"})).await;
    lea.next_of_type("left_message").await;

    dev.send(json!({"type": "handled", "conversation_id": id, "handled": true})).await;
    let told = lea.next_of_type("left_message_handled").await;
    assert_eq!(
        (told["conversation_id"].as_str(), told["handled"]["by"].as_str()),
        (Some(id.as_str()), Some("Agent dev"))
    );
    never_hears_of(&mut bea, &id).await;
    let (_, ready) = other.app.connect_agent("token-lea").await;
    let left = &ready["left_messages"].as_array().unwrap()[0];
    assert_eq!(
        (left["conversation_id"].as_str(), left["handled"]["by"].as_str()),
        (Some(id.as_str()), Some("Agent dev"))
    );
}
