//! The owner API on two nodes: a key's allowance is one bucket in the shared store, so a
//! client spreading its requests over nodes gets no more than on one.

use std::process::Command;

use super::*;

/// `baton keys create` against the nodes' shared archive: the key (its last line).
pub(crate) fn create_key(config: &Path, scope: &str) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_baton"))
        .args(["keys", "create", "--site", "demo", "--scope", scope])
        .env("BATON_CONFIG", config)
        .env("BATON__ARCHIVE__URL", format!("sqlite://{}/archive.sqlite", config.display()))
        .output()
        .expect("baton keys runs");
    assert!(output.status.success(), "baton keys failed: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap().lines().last().unwrap().to_owned()
}

#[tokio::test]
async fn a_keys_allowance_holds_across_nodes() {
    let redis = RedisServer::start();
    let config = ClusterConfig::new();
    let ns = namespace();
    let env = [("BATON__API__REQUESTS_PER_MINUTE", "1".to_owned()), ("BATON__API__BURST", "4".to_owned())];
    let node_a = Node::start_with(&config.dir, &redis, &ns, &env).await;
    let node_b = Node::start_with(&config.dir, &redis, &ns, &env).await;
    let key = create_key(&config.dir, "read");
    let mut statuses = Vec::new();
    for node in [&node_a, &node_b, &node_a, &node_b, &node_a, &node_b] {
        let response = reqwest::Client::new()
            .get(node.app.url("/v1/api/conversations?site=demo"))
            .bearer_auth(&key)
            .send()
            .await
            .unwrap();
        statuses.push(response.status().as_u16());
    }
    assert_eq!(statuses, [200, 200, 200, 200, 429, 429], "one burst of 4 for the key, not 4 a node");
}
