//! `/v1/api/reports` through real HTTP: the protocol's figures, the same numbers the
//! archive's report SQL gives, and only for the key's own site.

use baton::archive::keys::Scope;
use baton::archive::reports::{Period, ReportQuery};
use chrono::{Duration, Utc};
use serde_json::Value;

use crate::helpers::spawn_app;
use crate::owner_api::{client, direct_key, ready_with_key, three_conversations};

#[tokio::test]
async fn a_sites_report_has_the_protocols_figures_from_the_archives_report() {
    let app = spawn_app().await;
    let read = ready_with_key(&app, "read").await;
    three_conversations(&app).await;
    let (from, to) = (Utc::now() - Duration::days(1), Utc::now() + Duration::days(1));
    let range = format!("from={}&to={}", from.format("%Y-%m-%dT%H:%M:%SZ"), to.format("%Y-%m-%dT%H:%M:%SZ"));
    let response =
        client().get(app.url(&format!("/v1/api/reports?site=demo&{range}"))).bearer_auth(&read).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let report: Value = response.json().await.unwrap();
    for field in ["conversations", "resolved_by_bot", "bot_resolution_rate", "escalated", "handoff_rate"] {
        assert!(report[field].is_number(), "{field}: {report}");
    }
    assert!(report["handoffs_by_reason"].is_object());
    for field in ["first_response_secs", "wait_for_agent_secs"] {
        assert!(report[field].get("p50").is_some() && report[field].get("p90").is_some(), "{field}: {report}");
    }
    assert!(report["csat"].get("bot").is_some() && report["csat"].get("human").is_some());
    assert_eq!((report["conversations"].as_u64(), report["escalated"].as_u64()), (Some(3), Some(1)), "{report}");

    let query = ReportQuery {
        sites: vec!["demo".into()],
        from: report["from"].as_str().unwrap().parse().unwrap(),
        to: report["to"].as_str().unwrap().parse().unwrap(),
        team: None,
        agent: None,
        period: Period::Day,
    };
    let direct = app.archive.as_ref().unwrap().report(&query).await.unwrap();
    assert_eq!(report, serde_json::to_value(direct).unwrap(), "the archive's own report, as it is");

    let other = direct_key(&app, "other", Scope::Read).await;
    let response =
        client().get(app.url(&format!("/v1/api/reports?site=demo&{range}"))).bearer_auth(&other).send().await.unwrap();
    assert_eq!(response.status(), 403);
    let backwards = format!("/v1/api/reports?site=demo&from={}&to={}", to.to_rfc3339(), from.to_rfc3339());
    let response = client().get(app.url(&backwards)).bearer_auth(&read).send().await.unwrap();
    assert_eq!(response.status(), 400);
}
