//! A real Prometheus server (Debian's `prometheus`, installed by `scripts/test`) per test, on
//! a free port, with a generated configuration scraping one target every second and a data
//! folder of its own; killed and removed when dropped. Tests ask its HTTP API for series.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use baton::protocol::ConversationId;
use serde_json::Value;

use crate::redis_server::free_port;

/// How long the server may take to answer `/-/ready`.
const START_WAIT: Duration = Duration::from_secs(30);

pub struct PrometheusServer {
    pub port: u16,
    dir: PathBuf,
    child: Child,
}

impl PrometheusServer {
    /// Scrapes `http://127.0.0.1:{target_port}/metrics` every second, sending `token` as a
    /// bearer token when given.
    pub async fn scraping(target_port: u16, token: Option<&str>) -> PrometheusServer {
        let dir = std::env::temp_dir().join(format!("baton-prometheus-{}", ConversationId::new()));
        std::fs::create_dir_all(dir.join("data")).expect("create the Prometheus folder");
        let authorization = token.map(|t| format!("    authorization:\n      credentials: {t}\n")).unwrap_or_default();
        let config = format!(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n  - job_name: baton\n    \
             metrics_path: /metrics\n{authorization}    static_configs:\n      - targets: ['127.0.0.1:{target_port}']\n"
        );
        std::fs::write(dir.join("prometheus.yml"), config).expect("write the Prometheus config");
        let port = free_port();
        let child = Command::new(std::env::var("PROMETHEUS").unwrap_or_else(|_| "prometheus".into()))
            .arg(format!("--config.file={}", dir.join("prometheus.yml").display()))
            .arg(format!("--storage.tsdb.path={}", dir.join("data").display()))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(if std::env::var("TEST_LOG").is_ok() { Stdio::inherit() } else { Stdio::null() })
            .spawn()
            .expect("prometheus starts (scripts/test installs Debian's `prometheus` package)");
        let server = PrometheusServer { port, dir, child };
        server.wait_ready().await;
        server
    }

    async fn wait_ready(&self) {
        let deadline = tokio::time::Instant::now() + START_WAIT;
        let url = format!("http://127.0.0.1:{}/-/ready", self.port);
        while !reqwest::get(&url).await.is_ok_and(|r| r.status().is_success()) {
            assert!(tokio::time::Instant::now() < deadline, "prometheus never became ready");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The result of an instant query (`data.result`: one object per series).
    pub async fn query(&self, promql: &str) -> Vec<Value> {
        let url = format!("http://127.0.0.1:{}/api/v1/query", self.port);
        let answer: Value = reqwest::Client::new()
            .get(url)
            .query(&[("query", promql)])
            .send()
            .await
            .expect("prometheus answers")
            .json()
            .await
            .expect("prometheus answers JSON");
        assert_eq!(answer["status"], "success", "query {promql}: {answer}");
        answer["data"]["result"].as_array().cloned().unwrap_or_default()
    }

    /// Polls `promql` until it has a series, within `within`; returns them.
    pub async fn wait_for(&self, promql: &str, within: Duration) -> Vec<Value> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let result = self.query(promql).await;
            if !result.is_empty() {
                return result;
            }
            assert!(tokio::time::Instant::now() < deadline, "no series for {promql} within {within:?}");
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    /// The scrape target's health as Prometheus saw it last (`up`, `down`, `unknown`) and its error.
    pub async fn target(&self) -> (String, String) {
        let url = format!("http://127.0.0.1:{}/api/v1/targets", self.port);
        let answer: Value = reqwest::get(url).await.expect("targets").json().await.expect("targets JSON");
        let target = &answer["data"]["activeTargets"][0];
        (target["health"].as_str().unwrap_or("").to_owned(), target["lastError"].as_str().unwrap_or("").to_owned())
    }
}

impl Drop for PrometheusServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The sample value of an instant-query series, as a number.
pub fn value(series: &Value) -> f64 {
    series["value"][1].as_str().and_then(|v| v.parse().ok()).unwrap_or(f64::NAN)
}
