//! The inactivity rules on three nodes sweeping one Redis: each rule runs once per
//! conversation per idle period, on one node, whichever sweeps first.

use super::*;

const NUDGE: &str = "Are you still there? Write here if you need anything else.";

/// Three nodes of one cluster, the demo site with every inactivity rule on and short.
async fn three_nodes(redis: &RedisServer, ns: &str) -> (ClusterConfig, Vec<Node>) {
    let config = ClusterConfig::with("manual", 5, &format!("{LIFTED_RATE}[handoff]\ninactivity_secs = 1\n"));
    let site = config.dir.join("sites/demo.toml");
    let text = std::fs::read_to_string(&site).unwrap();
    let rules = "\n[inactivity]\nnudge_after_secs = 1\nresolve_after_secs = 4\nagent_sla_secs = 1\n";
    std::fs::write(&site, format!("{text}{rules}")).unwrap();
    let mut nodes = Vec::new();
    for _ in 0..3 {
        nodes.push(Node::start(&config.dir, redis, ns).await);
    }
    (config, nodes)
}

#[tokio::test]
async fn three_nodes_sweeping_one_store_nudge_resolve_and_alert_once_each() {
    let redis = RedisServer::start();
    let ns = namespace();
    let (_config, nodes) = three_nodes(&redis, &ns).await;

    // A visitor the bot answered, on node 0: one nudge, one resolve, one rating request.
    let (mut visitor, _) = nodes[0].app.connect_visitor().await;
    visitor.say("m1", "How long does shipping take?").await;
    let frames = visitor.collect_until(|f| f["type"] == "csat_request").await;
    let later = visitor.drain(Duration::from_millis(2500)).await;
    let all: Vec<&Value> = frames.iter().chain(&later).collect();
    let nudges = all.iter().filter(|f| f["text"] == NUDGE).count();
    let resolved = all.iter().filter(|f| f["type"] == "state" && f["state"] == "resolved").count();
    let asked = all.iter().filter(|f| f["type"] == "csat_request").count();
    assert_eq!((nudges, resolved, asked), (1, 1, 1), "{all:?}");

    // A chat waiting on a person: Ana (node 1) and Bo (node 2) are each alerted once.
    let (mut ana, _) = nodes[1].app.connect_agent("token-ana").await;
    let (mut bo, _) = nodes[2].app.connect_agent("token-bo").await;
    let (_waiting, welcome) = nodes[0].app.escalated_visitor().await;
    for agent in [&mut ana, &mut bo] {
        let alert = agent.next_of_type("sla_breach").await;
        assert_eq!(alert["conversation_id"], welcome["conversation_id"]);
        let again = agent.drain(Duration::from_millis(2500)).await;
        assert!(!again.iter().any(|f| f["type"] == "sla_breach"), "once, not once per node: {again:?}");
    }
}
