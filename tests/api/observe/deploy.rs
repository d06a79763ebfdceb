//! What `deploy/` holds for monitoring, checked against the code with Prometheus's own tool:
//! the alerting rules parse and behave as their unit tests say, the Prometheus configuration
//! is valid, the dashboard's queries parse and name only metrics the server exports, every
//! exported metric is documented, and `/metrics` passes `promtool check metrics`.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::helpers::{TempDir, repo_root, spawn_app};

fn promtool(args: &[&str], cwd: &Path, stdin: Option<&str>) -> String {
    let mut child = Command::new(std::env::var("PROMTOOL").unwrap_or_else(|_| "promtool".into()))
        .args(args)
        .current_dir(cwd)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool runs (scripts/test installs Debian's `prometheus` package)");
    child.stdin.take().unwrap().write_all(stdin.unwrap_or("").as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "promtool {args:?} failed:\n{text}");
    text
}

/// The metric names the server describes (`describe_…!("baton_…"` in telemetry/metrics.rs).
fn described() -> BTreeSet<String> {
    let source = std::fs::read_to_string(repo_root().join("server/src/telemetry/metrics.rs")).unwrap();
    source
        .split("describe_")
        .skip(1)
        .filter_map(|rest| rest.split_once("!(").and_then(|(_, tail)| tail.trim_start().strip_prefix('"')))
        .filter_map(|tail| tail.split_once('"').map(|(name, _)| name.to_owned()))
        .filter(|name| name.starts_with("baton_"))
        .collect()
}

/// Every `baton_…` name in `text`, histogram suffixes removed.
fn names_in(text: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for (start, _) in text.match_indices("baton_") {
        let name: String =
            text[start..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect::<String>();
        let name =
            ["_bucket", "_count", "_sum"].iter().fold(name, |n, s| n.strip_suffix(s).map_or(n.clone(), String::from));
        names.insert(name);
    }
    names
}

fn dashboard() -> Value {
    let text = std::fs::read_to_string(repo_root().join("deploy/grafana/dashboards/baton.json")).unwrap();
    serde_json::from_str(&text).expect("the dashboard is JSON")
}

fn dashboard_queries() -> Vec<String> {
    let dashboard = dashboard();
    let panels = dashboard["panels"].as_array().unwrap();
    panels
        .iter()
        .flat_map(|p| p["targets"].as_array().cloned().unwrap_or_default())
        .map(|t| t["expr"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn the_alerting_rules_parse_and_pass_their_unit_tests() {
    let deploy = repo_root().join("deploy");
    promtool(&["check", "rules", "alerts.yml"], &deploy, None);
    let tested = promtool(&["test", "rules", "alerts_test.yml"], &deploy, None);
    assert!(tested.contains("SUCCESS"), "{tested}");
    let dir = TempDir::new("prometheus-config");
    let config = std::fs::read_to_string(deploy.join("prometheus.yml")).unwrap();
    let alerts = deploy.join("alerts.yml");
    let config = config.replace("/etc/prometheus/alerts.yml", alerts.to_str().unwrap());
    std::fs::write(dir.0.join("prometheus.yml"), config).unwrap();
    promtool(&["check", "config", "prometheus.yml"], &dir.0, None);
}

#[test]
fn the_dashboard_queries_parse_and_name_only_exported_metrics() {
    let queries = dashboard_queries();
    assert!(queries.len() >= 15, "{queries:?}");
    // Each query as a recording rule, so promtool parses its PromQL.
    let rules: String = queries
        .iter()
        .enumerate()
        .map(|(i, q)| {
            format!(
                "      - record: dashboard:query{i}\n        expr: '{}'\n",
                q.replace("$__rate_interval", "5m").replace('\'', "''")
            )
        })
        .collect();
    let dir = TempDir::new("dashboard-rules");
    std::fs::write(dir.0.join("rules.yml"), format!("groups:\n  - name: dashboard\n    rules:\n{rules}")).unwrap();
    promtool(&["check", "rules", "rules.yml"], &dir.0, None);

    let exported = described();
    let alerts = std::fs::read_to_string(repo_root().join("deploy/alerts.yml")).unwrap();
    let used = names_in(&queries.join("\n")).union(&names_in(&alerts)).cloned().collect::<BTreeSet<_>>();
    let unknown: Vec<&String> = used.difference(&exported).collect();
    assert!(unknown.is_empty(), "the dashboard or alerts use metrics the server does not export: {unknown:?}");
    let shown = names_in(&queries.join("\n"));
    let missing: Vec<&String> = exported.difference(&shown).collect();
    assert!(missing.is_empty(), "exported metrics missing from the dashboard: {missing:?}");

    let datasource =
        std::fs::read_to_string(repo_root().join("deploy/grafana/provisioning/datasources/prometheus.yml")).unwrap();
    let uid = dashboard()["panels"][1]["datasource"]["uid"].as_str().unwrap().to_owned();
    assert!(datasource.contains(&format!("uid: {uid}")), "the dashboard's data source is the provisioned one");
}

#[test]
fn every_exported_metric_is_documented_and_the_compose_file_mounts_what_exists() {
    let operations = std::fs::read_to_string(repo_root().join("docs/operations.md")).unwrap();
    let undocumented: Vec<String> =
        described().into_iter().filter(|name| !operations.contains(&format!("`{name}"))).collect();
    assert!(undocumented.is_empty(), "docs/operations.md does not name {undocumented:?}");
    let alerts = std::fs::read_to_string(repo_root().join("deploy/alerts.yml")).unwrap();
    for alert in alerts.lines().filter_map(|l| l.trim().strip_prefix("- alert: ")) {
        assert!(operations.contains(alert), "docs/operations.md does not explain the alert {alert}");
    }
    let compose = std::fs::read_to_string(repo_root().join("docker-compose.yml")).unwrap();
    let mounts: Vec<&str> =
        compose.lines().filter_map(|l| l.trim().strip_prefix("- ./")).map(|m| m.split(':').next().unwrap()).collect();
    assert!(
        mounts.iter().any(|m| m.starts_with("deploy/grafana")) && mounts.contains(&"deploy/alerts.yml"),
        "{mounts:?}"
    );
    for mount in mounts {
        assert!(repo_root().join(mount).exists(), "docker-compose.yml mounts {mount}, which does not exist");
    }
}

#[tokio::test]
async fn the_metrics_text_passes_promtool_check_metrics() {
    let app = spawn_app().await;
    let text = app.get("/metrics").await.text().await.unwrap();
    assert!(text.contains("baton_store_write_seconds_bucket"), "{text}");
    let verdict = promtool(&["check", "metrics"], &repo_root(), Some(&text));
    assert!(!verdict.contains("problem") && !verdict.contains("error"), "{verdict}");
}
