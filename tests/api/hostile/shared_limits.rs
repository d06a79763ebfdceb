//! The limits on new conversations hold across nodes: two real `baton` processes on one real
//! Redis share one allowance per client address and one per site (counted in the store), so
//! a client cannot get N times as many by spreading its `hello`s over N nodes.

use serde_json::json;

use super::raw::{Raw, ServerFrame};
use crate::cluster::{ClusterConfig, Node};
use crate::redis_server::{RedisServer, namespace};

const VISITOR: &str = "/v1/visitor/ws?site=demo";

/// A `hello` without a token on `node`: `None` when it was welcomed, else its close code.
async fn new_conversation(node: &Node) -> Option<u16> {
    let mut socket = Raw::open(node.app.port, VISITOR, &[]).await.expect("upgraded");
    socket.send_text(&json!({"type": "hello"}).to_string()).await;
    match socket.next().await {
        Some(ServerFrame::Text(text)) if text.contains("\"welcome\"") => None,
        Some(ServerFrame::Close(code)) => code,
        other => panic!("neither a welcome nor a close: {:?}", other.map(|f| matches!(f, ServerFrame::Other))),
    }
}

/// Two nodes with an allowance of 3 (refilling at 1 an hour) under `burst_setting`.
async fn two_nodes(burst_setting: &str, rate_setting: &str) -> (RedisServer, ClusterConfig, Node, Node) {
    let redis = RedisServer::start();
    let config = ClusterConfig::new();
    let ns = namespace();
    let env = [(burst_setting, "3".to_owned()), (rate_setting, "1".to_owned())];
    let a = Node::start_with(&config.dir, &redis, &ns, &env).await;
    let b = Node::start_with(&config.dir, &redis, &ns, &env).await;
    (redis, config, a, b)
}

/// Three welcomed across both nodes, then both refuse with 4008 (each alone would allow 3).
async fn the_allowance_is_shared(a: &Node, b: &Node) {
    assert_eq!(new_conversation(a).await, None);
    assert_eq!(new_conversation(a).await, None);
    assert_eq!(new_conversation(b).await, None, "the third, on the other node");
    assert_eq!(new_conversation(b).await, Some(4008), "node b counts what node a gave");
    assert_eq!(new_conversation(a).await, Some(4008));
}

#[tokio::test]
async fn new_conversations_per_address_are_limited_across_nodes() {
    let (_redis, _config, a, b) =
        two_nodes("BATON__LIMITS__CONVERSATIONS_PER_IP_BURST", "BATON__LIMITS__CONVERSATIONS_PER_IP_PER_HOUR").await;
    the_allowance_is_shared(&a, &b).await;
}

#[tokio::test]
async fn new_conversations_per_site_are_limited_across_nodes() {
    let (_redis, _config, a, b) =
        two_nodes("BATON__LIMITS__CONVERSATIONS_PER_SITE_BURST", "BATON__LIMITS__CONVERSATIONS_PER_SITE_PER_HOUR")
            .await;
    the_allowance_is_shared(&a, &b).await;
}
