//! The OpenAPI document: served at `/v1/api/openapi.json`, valid OpenAPI 3 (checked by
//! `openapi-spec-validator`, in the venv `scripts/openapi-validator` makes), and matching
//! the routes: every documented operation is served, and every route under `/v1/api/` in
//! the source is documented.

use std::process::Command;

use serde_json::Value;

use crate::helpers::{repo_root, spawn_app};

#[tokio::test]
async fn the_served_document_validates_and_matches_the_routes() {
    let app = spawn_app().await;
    let response = app.get("/v1/api/openapi.json").await;
    assert_eq!(response.status(), 200);
    let text = response.text().await.unwrap();
    let document: Value = serde_json::from_str(&text).unwrap();

    let file = std::env::temp_dir().join(format!("baton-openapi-{}.json", app.port));
    std::fs::write(&file, &text).unwrap();
    let output =
        Command::new(repo_root().join("scripts/openapi-validator")).arg(&file).output().expect("validator runs");
    let _ = std::fs::remove_file(&file);
    assert!(
        output.status.success(),
        "openapi-spec-validator: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );

    let documented = operations(&document);
    assert!(documented.len() >= 7, "{documented:?}");
    for (method, path) in &documented {
        let url = app.url(&path.replace("{id}", "00000000-0000-0000-0000-000000000000"));
        let status = reqwest::Client::new().request(method.parse().unwrap(), url).send().await.unwrap().status();
        let public = path.ends_with("openapi.json") || path.ends_with("reference");
        let expected = if public { 200 } else { 401 };
        assert_eq!(status.as_u16(), expected, "{method} {path} is served");
    }
    let mut in_source = routes_in_source();
    in_source.sort();
    let mut documented: Vec<(String, String)> = documented;
    documented.sort();
    assert_eq!(in_source, documented, "every route in server/src/http/api is documented and no other");
}

#[tokio::test]
async fn the_reference_page_is_served_and_loads_nothing_from_elsewhere() {
    let app = spawn_app().await;
    let response = app.get("/v1/api/reference").await;
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    let page = response.text().await.unwrap();
    assert!(page.contains("openapi.json"));
    assert!(!page.contains("http://") && !page.contains("https://"), "no outside scripts or styles");
}

/// `(METHOD, path)` of each operation in the document.
fn operations(document: &Value) -> Vec<(String, String)> {
    let mut found = Vec::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            found.push((method.to_uppercase(), path.clone()));
        }
    }
    found
}

/// `(METHOD, path)` of each `#[get("/v1/api/…")]`-style route attribute in the API's source.
fn routes_in_source() -> Vec<(String, String)> {
    let folder = repo_root().join("server/src/http/api");
    let mut found = Vec::new();
    for entry in std::fs::read_dir(folder).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap_or_default();
        for line in text.lines().map(str::trim) {
            for method in ["get", "post", "put", "patch", "delete"] {
                if let Some(rest) = line.strip_prefix(&format!("#[{method}(\"")) {
                    let path = rest.split('"').next().unwrap();
                    found.push((method.to_uppercase(), path.to_owned()));
                }
            }
        }
    }
    found
}
