//! The Reports endpoint through the real path: a chat on real sockets (escalated, taken,
//! answered, resolved, rated, judged with a `verdict` frame) reaches the archive, and
//! `GET /v1/agent/reports` serves its numbers to an admin, as JSON and as CSV.

use std::time::Duration;

use baton::config::{AgentRole, Routing};
use serde_json::{Value, json};

use crate::helpers::{TestApp, agent, spawn_app_with};

pub(crate) async fn app() -> TestApp {
    spawn_app_with(|s| {
        let mut admin = agent("ana", "token-ana", &["support"], 2);
        admin.role = AgentRole::Admin;
        s.agents = vec![admin, agent("bo", "token-bo", &["support"], 2)];
        s.sites.iter_mut().for_each(|site| site.handoff.routing = Routing::Manual);
    })
    .await
}

pub(crate) async fn get(app: &TestApp, query: &str, token: Option<&str>) -> reqwest::Response {
    let mut request = reqwest::Client::new().get(app.url(&format!("/v1/agent/reports?{query}")));
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    request.send().await.unwrap()
}

const RANGE: &str = "from=2026-01-01T00:00:00Z&to=2028-01-01T00:00:00Z&site=demo";

/// Reads the report until `done` holds (the archiver copies within a poll or two).
pub(crate) async fn report_until(app: &TestApp, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let response = get(app, RANGE, Some("token-ana")).await;
        let status = response.status();
        let report: Value = response.json().await.unwrap();
        // 503 until the archiver has brought the new archive's schema up.
        assert!(status == 200 || status == 503, "{status}: {report}");
        if status == 200 && done(&report) {
            return report;
        }
        assert!(tokio::time::Instant::now() < deadline, "the report never showed the chat: {report}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn an_admin_reads_a_handled_chat_in_the_report_with_its_verdict_and_rating() {
    let app = app().await;
    let (mut ana, _) = app.connect_agent("token-ana").await;
    let (mut visitor, welcome) = app.escalated_visitor().await;
    let id = welcome["conversation_id"].clone();
    ana.send(json!({"type": "verdict", "conversation_id": id, "verdict": "right_call"})).await;
    assert_eq!(ana.next_of_type("error").await["code"], "forbidden", "no verdict before handling the chat");
    ana.send(json!({"type": "accept", "conversation_id": id})).await;
    ana.next_of_type("assigned").await;
    ana.send(json!({"type": "message", "conversation_id": id, "client_id": "a1", "text": "Hello, I can help."})).await;
    ana.next_of_type("ack").await;
    ana.send(json!({"type": "resolve", "conversation_id": id})).await;
    visitor.next_of_type("csat_request").await;
    visitor.send(json!({"type": "csat", "score": 4})).await;
    ana.send(json!({"type": "verdict", "conversation_id": id, "verdict": "should_have_come_sooner"})).await;

    let report =
        report_until(&app, |r| r["csat"]["human"] == 4.0 && !r["verdicts"].as_object().unwrap().is_empty()).await;
    assert_eq!(report["conversations"], 1);
    assert_eq!(report["escalated"], 1);
    assert_eq!(report["handoff_rate"], 1.0);
    assert_eq!(report["resolved_by_bot"], 0);
    assert_eq!(report["handoffs_by_reason"], json!({"explicit_request": 1}));
    assert_eq!(report["wait_for_agent_secs"]["count"], 1);
    assert_eq!(report["first_response_secs"]["count"], 1);
    assert_eq!(report["verdicts"]["explicit_request"]["should_have_come_sooner"], 1);
    assert_eq!(report["verdicts"]["explicit_request"]["lateness"], 1.0);
    assert_eq!(report["by_agent"][0]["key"], "ana");

    let csv = get(&app, &format!("{RANGE}&format=csv"), Some("token-ana")).await;
    assert_eq!(csv.status(), 200);
    assert!(csv.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
    let csv = csv.text().await.unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert!(lines[0].starts_with("slice,key,conversations,resolved_by_bot"), "{csv}");
    assert!(lines[1].starts_with("total,,1,0,"), "{csv}");
    assert!(lines.iter().any(|l| l.starts_with("agent,ana,1,")), "{csv}");
}

#[tokio::test]
async fn reports_need_an_admin_token_and_a_sound_range() {
    let app = app().await;
    let no_token = get(&app, RANGE, None).await;
    assert_eq!(no_token.status(), 401);
    assert_eq!(no_token.json::<Value>().await.unwrap()["error"], "unauthorized");
    assert_eq!(get(&app, RANGE, Some("wrong")).await.status(), 401);
    assert_eq!(get(&app, RANGE, Some("token-bo")).await.status(), 403, "bo is not an admin");
    let backwards = "from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z";
    assert_eq!(get(&app, backwards, Some("token-ana")).await.status(), 400);
    let unknown = "from=2026-01-01T00:00:00Z&to=2026-02-01T00:00:00Z&site=nowhere";
    assert_eq!(get(&app, unknown, Some("token-ana")).await.status(), 404);
    assert_eq!(get(&app, "from=yesterday&to=today", Some("token-ana")).await.status(), 400);
    let csv_or_json = format!("{RANGE}&format=xml");
    assert_eq!(get(&app, &csv_or_json, Some("token-ana")).await.status(), 400);
}

#[tokio::test]
async fn an_admin_of_one_site_reads_only_that_sites_report() {
    let app = spawn_app_with(|s| {
        crate::tenants::two_sites(s);
        let mut shop_admin = agent("sam", "token-sam", &["support"], 2);
        shop_admin.role = AgentRole::Admin;
        shop_admin.sites = Some(vec!["shop".into()]);
        s.agents = vec![shop_admin];
    })
    .await;
    let demo = "from=2026-01-01T00:00:00Z&to=2028-01-01T00:00:00Z&site=demo";
    let shop = "from=2026-01-01T00:00:00Z&to=2028-01-01T00:00:00Z&site=shop";
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    // 503 until the archiver has brought the new archive's schema up.
    while get(&app, shop, Some("token-sam")).await.status() == 503 {
        assert!(tokio::time::Instant::now() < deadline, "the archive never came up");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(get(&app, shop, Some("token-sam")).await.status(), 200);
    let other = get(&app, demo, Some("token-sam")).await;
    assert_eq!(other.status(), 403, "demo is not sam's site");
    assert_eq!(other.json::<Value>().await.unwrap()["error"], "forbidden");
}
