//! Redis Cluster (`store.redis_cluster`): the contract suite runs on a three-master cluster
//! (`redis_cluster_store`); here, what only a cluster has: several nodes of Baton on it,
//! where its keys live, a master lost under the pub/sub link, and the settings it refuses.

use baton::protocol::EventBody;
use baton::store::EventDraft;

use super::shared::{
    capacity_holds_across_two_nodes_round_after_round_on, two_nodes_see_one_conversation_in_seq_order,
};
use super::*;

#[tokio::test]
async fn two_nodes_on_one_cluster_see_one_conversation_in_seq_order() {
    two_nodes_see_one_conversation_in_seq_order(&RedisCluster::start()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn capacity_holds_across_two_nodes_on_a_cluster_round_after_round() {
    capacity_holds_across_two_nodes_round_after_round_on(&RedisCluster::start()).await;
}

/// Every key carries the namespace as its hash tag: one master holds them all, and the
/// others hold none.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_key_of_a_deployment_lives_in_the_slot_of_its_namespace() {
    let cluster = RedisCluster::start();
    let ns = namespace();
    let (stores, _, _) = redis_node_on(&cluster, &ns).await;
    for i in 0..20 {
        let id = new_conversation(&stores, &format!("slot-{i}")).await;
        stores.log.append(id, EventDraft::new(note("hello"))).await.unwrap();
        done(&stores, id, enqueue(id, 1)).await;
    }
    let owner = cluster.owner_of(&format!("{{{ns}}}:probe"));
    for port in cluster.ports() {
        let keys = cluster.info(port, "keyspace");
        if port == owner {
            assert!(keys.contains("db0:keys="), "the namespace's master holds the keys: {keys}");
        } else {
            assert!(!keys.contains("db0:keys="), "master {port} holds none of them: {keys}");
        }
    }
}

/// The pub/sub link subscribes through one master; with the two that do not hold Baton's
/// slot killed, wherever the link was, it is on the third: what was written meanwhile is
/// caught up (the newest event, as after any reconnect), and what follows is heard live.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_other_masters_killed_the_link_moves_to_the_one_left_and_hears_what_follows() {
    let mut cluster = RedisCluster::start();
    let ns = namespace();
    let (writer, _, _) = redis_node_on(&cluster, &ns).await;
    let (stores, delivered, follow) = redis_node_on(&cluster, &ns).await;
    let backend = Backend { stores, delivered, follow, _redis: None };
    let id = new_conversation(&writer, "moving-link").await;
    backend.follow(Topic::Conversation(id)).await;
    let owner = cluster.owner_of(&format!("{{{ns}}}:probe"));
    for port in cluster.ports().into_iter().filter(|port| *port != owner) {
        cluster.kill(port);
    }
    writer.log.append(id, EventDraft::new(note("while the link moves"))).await.expect("the slot's master serves");
    // Delivered live if the link was on the master left, else caught up once it moved there.
    backend.wait_for("the event written as the masters died", |d| seqs_of(d, id) == [1]).await;
    for i in 2..=5 {
        writer.log.append(id, EventDraft::new(note(&format!("after {i}")))).await.expect("the slot's master serves");
    }
    backend.wait_for("four more, live", |d| seqs_of(d, id).len() >= 5).await;
    assert_eq!(backend.delivered_seqs(id), (1..=5).collect::<Vec<_>>(), "each once, in order");
    backend.stores.log.ping().await.expect("ready: Baton's master answers and the link is up");
    let events = backend.stores.log.events_after(id, 0, 10).await.unwrap();
    assert!(matches!(&events[4].body, EventBody::Note { text, .. } if text == "after 5"));
}

/// Redis forgets its scripts when restarted or failed over. With the masters that hold no
/// Baton key down, the next append still gets `NOSCRIPT`, loads them again and is stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scripts_forgotten_by_the_slots_master_are_loaded_there_while_other_masters_are_down() {
    let mut cluster = RedisCluster::start();
    let ns = namespace();
    let (stores, _, _) = redis_node_on(&cluster, &ns).await;
    let id = new_conversation(&stores, "reload").await;
    stores.log.append(id, EventDraft::new(note("before"))).await.unwrap();
    let owner = cluster.owner_of(&format!("{{{ns}}}:probe"));
    for port in cluster.ports().into_iter().filter(|port| *port != owner) {
        cluster.kill(port);
    }
    assert_eq!(cluster.command(owner, &["SCRIPT", "FLUSH"]).trim(), "OK");
    let appended = stores.log.append(id, EventDraft::new(note("after the flush"))).await;
    assert!(matches!(appended, Ok(baton::store::Appended::New { .. })), "{appended:?}");
    assert_eq!(stores.log.conversation(id).await.unwrap().unwrap().last_seq, 2);
}

#[tokio::test]
async fn several_urls_need_the_cluster_setting_and_a_cluster_namespace_has_no_braces() {
    let (_, sink) = recorder();
    let several = redis_settings("redis://127.0.0.1:1,redis://127.0.0.1:2", &namespace());
    let error = RedisStore::connect(&several, sink.clone()).await.err().expect("two URLs for one Redis are refused");
    assert!(error.to_string().contains("store.redis_cluster"), "{error}");
    let mut braces = redis_settings("redis://127.0.0.1:1", "{team}");
    braces.redis_cluster = true;
    let error = RedisStore::connect(&braces, sink).await.err().expect("a namespace with braces is refused");
    assert!(error.to_string().contains("store.namespace"), "{error}");
}
