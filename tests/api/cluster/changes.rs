//! The owner's changes on two real nodes sharing Redis and one archive: a change made
//! through one node's API applies on the other within seconds. The nodes' polling is set
//! to a minute, so what carries the change here is the pub/sub notice (polling alone is
//! `owner_changes::a_node_that_hears_no_notice_catches_up_by_polling`).

use serde_json::json;

use super::api::create_key;
use super::*;
use crate::owner_changes::{answer, close_code, put_page, send, sign_in};

/// Within this the other node must have applied a change (it is usually milliseconds).
const APPLIED_WITHIN: Duration = Duration::from_secs(5);

async fn two_nodes(redis: &RedisServer, config: &ClusterConfig) -> (Node, Node) {
    let ns = namespace();
    let env = [("BATON__API__CHANGES_POLL_MS", "60000".to_owned())];
    let a = Node::start_with(&config.dir, redis, &ns, &env).await;
    let b = Node::start_with(&config.dir, redis, &ns, &env).await;
    (a, b)
}

/// Polls `check` until it holds, failing after [`APPLIED_WITHIN`].
async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + APPLIED_WITHIN;
    while !check().await {
        assert!(tokio::time::Instant::now() < deadline, "{what} never happened");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_page_uploaded_on_one_node_answers_on_the_other_within_seconds() {
    let redis = RedisServer::start();
    let config = ClusterConfig::new();
    let (a, b) = two_nodes(&redis, &config).await;
    let key = create_key(&config.dir, "write");
    let page = "# Zorblax vouchers\n\nA zorblax voucher is redeemed at checkout with its twelve-letter code.\n";
    assert_eq!(put_page(&a.app, &key, "zorblax.md", "text/markdown", page).await.status(), 200);
    eventually("node b answering from the page", || async {
        let reply = answer(&b.app, "How do I redeem a zorblax voucher?").await;
        reply["text"].as_str().unwrap_or_default().contains("twelve-letter code")
    })
    .await;
}

#[tokio::test]
async fn an_agent_made_on_one_node_signs_in_on_the_other_and_is_signed_out_there_when_disabled() {
    let redis = RedisServer::start();
    let config = ClusterConfig::new();
    let (a, b) = two_nodes(&redis, &config).await;
    let key = create_key(&config.dir, "admin");
    let new = json!({"id": "cy", "name": "Cy", "teams": ["support"], "max_chats": 2});
    let (status, created) = send(&a.app, &key, "POST", "/v1/api/agents", Some(new)).await;
    assert_eq!(status, 201, "{created}");
    let token = created["token"].as_str().unwrap().to_owned();
    let deadline = tokio::time::Instant::now() + APPLIED_WITHIN;
    let (mut cy, _) = loop {
        match sign_in(&b.app, &token).await {
            Ok(signed_in) => break signed_in,
            Err(code) => assert!(tokio::time::Instant::now() < deadline, "never signed in on node b ({code})"),
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let (status, _) = send(&a.app, &key, "POST", "/v1/api/agents/cy/disable", None).await;
    assert_eq!(status, 200);
    assert_eq!(close_code(&mut cy).await, (4001, "agent disabled".to_owned()), "closed on node b");
    assert_eq!(sign_in(&b.app, &token).await.err(), Some(4001));
}

#[tokio::test]
async fn a_token_rotated_on_one_node_is_refused_on_the_other() {
    let redis = RedisServer::start();
    let config = ClusterConfig::new();
    let (a, b) = two_nodes(&redis, &config).await;
    let key = create_key(&config.dir, "admin");
    let (_, created) =
        send(&a.app, &key, "POST", "/v1/api/agents", Some(json!({"id": "dee", "name": "Dee", "max_chats": 1}))).await;
    let old = created["token"].as_str().unwrap().to_owned();
    eventually("the agent known on node b", || async { sign_in(&b.app, &old).await.is_ok() }).await;
    let (mut socket, _) = sign_in(&b.app, &old).await.unwrap();
    let (status, rotated) = send(&a.app, &key, "POST", "/v1/api/agents/dee/token", None).await;
    assert_eq!(status, 200);
    assert_eq!(close_code(&mut socket).await.0, 4001, "the socket on node b using the old token closes");
    assert_eq!(sign_in(&b.app, &old).await.err(), Some(4001), "the old token is refused on node b");
    assert!(sign_in(&b.app, rotated["token"].as_str().unwrap()).await.is_ok());
}
