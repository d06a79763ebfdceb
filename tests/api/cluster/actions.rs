//! A bot action's confirmation across nodes: the reply that waits for it runs on the node
//! that took the visitor's message, and the visitor confirms from a tab on the other node.

use super::*;
use crate::action_endpoint::Endpoint;
use crate::scripted_llm::{Script, ScriptedLlm, pieces};

#[tokio::test]
async fn a_confirmation_answered_on_another_node_reaches_the_reply_waiting_for_it() {
    let redis = RedisServer::start();
    let config = ClusterConfig::with("manual", 5, "[actions]\nallow_http = true\nallow_private_targets = true\n");
    let endpoint = Endpoint::start(r#"{"refunded":true}"#);
    let site = config.dir.join("sites/demo.toml");
    let action = format!(
        "\n[[actions]]\nname = \"refund\"\ndescription = \"Refund an order.\"\nendpoint = \"{}\"\nsecret = \"s\"\n\
         confirm = true\nparameters = '{{\"type\":\"object\",\"properties\":{{\"order_id\":{{\"type\":\"string\"}}}}}}'\n",
        endpoint.url
    );
    std::fs::write(&site, std::fs::read_to_string(&site).unwrap() + &action).unwrap();
    let llm = ScriptedLlm::start().await;
    let arguments = json!({"order_id": "A-9"}).to_string();
    llm.push(Script::ToolCall { text: String::new(), tool: "refund".into(), arguments });
    llm.push(Script::Reply { pieces: pieces(&["Refunded."]), delay: Duration::ZERO });
    let model = [
        ("BATON__LLM__BASE_URL", llm.base_url.clone()),
        ("BATON__LLM__API_KEY", "test".to_owned()),
        ("BATON__LLM__MODEL", "scripted".to_owned()),
    ];
    let ns = namespace();
    let node_a = Node::start_with(&config.dir, &redis, &ns, &model).await;
    let node_b = Node::start_with(&config.dir, &redis, &ns, &model).await;

    let (mut here, welcome) = node_a.app.connect_visitor().await;
    let token = welcome["token"].as_str().unwrap();
    let (mut there, again) = node_b.app.resume_visitor(token, 0).await;
    let newest = again["last_seq"].as_u64().unwrap();
    there.collect_until(|f| f["seq"].as_u64() == Some(newest)).await;
    here.say("m1", "Refund order A-9, please.").await;
    let asked = there.next_of_type("confirm_action").await;
    assert!(endpoint.calls().is_empty());
    there.send(json!({"type": "action_answer", "call_id": asked["call_id"], "confirmed": true})).await;
    assert_eq!(here.next_of_type("action_answered").await["call_id"], asked["call_id"], "every tab closes the card");
    assert_eq!(here.next_bot_message().await["text"], "Refunded.");
    assert_eq!(endpoint.calls().len(), 1);
    assert_eq!(endpoint.calls()[0].body["arguments"]["order_id"], "A-9");
}
