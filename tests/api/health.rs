use crate::helpers::spawn_app;

#[tokio::test]
async fn health_and_readiness_answer_200_on_the_memory_store() {
    let app = spawn_app().await;
    assert_eq!(app.get("/healthz").await.status(), 200);
    assert_eq!(app.get("/readyz").await.status(), 200);
}

#[tokio::test]
async fn the_demo_page_and_the_widget_script_are_served() {
    let app = spawn_app().await;
    let page = app.get("/").await;
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("/widget.js"));
    let script = app.get("/widget.js").await;
    assert_eq!(script.status(), 200);
    assert!(script.headers()["content-type"].to_str().unwrap().starts_with("application/javascript"));
}

#[tokio::test]
async fn the_widget_script_is_sent_compressed_to_browsers_that_accept_gzip() {
    let app = spawn_app().await;
    let response =
        reqwest::Client::new().get(app.url("/widget.js")).header("accept-encoding", "gzip").send().await.unwrap();
    assert_eq!(response.headers().get("content-encoding").map(|v| v.to_str().unwrap()), Some("gzip"));
    let compressed = response.bytes().await.unwrap();
    // The budget and why it is what it is: widget-js/README.md#size.
    assert!(compressed.len() <= 30_000, "widget.js is {} bytes gzipped, over the 30,000-byte budget", compressed.len());
    let mut plain = String::new();
    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&compressed[..]), &mut plain).unwrap();
    assert!(plain.contains("BatonProtocol"), "the gzip body is the widget");
}

#[tokio::test]
async fn a_favicon_is_served_and_console_without_a_slash_redirects_to_the_console() {
    let app = spawn_app().await;
    let icon = app.get("/favicon.ico").await;
    assert_eq!(icon.status(), 200);
    assert_eq!(icon.headers()["content-type"], "image/x-icon");
    assert_eq!(&icon.bytes().await.unwrap()[..4], &[0, 0, 1, 0], "an ICO header");
    let no_follow = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let redirect = no_follow.get(app.url("/console")).send().await.unwrap();
    assert_eq!(redirect.status(), 308);
    assert_eq!(redirect.headers()["location"], "/console/");
    let page = app.get("/console").await; // followed
    assert!(page.text().await.unwrap().contains("console.js"));
}

#[tokio::test]
async fn widget_settings_come_from_the_site_config_and_unknown_sites_are_404() {
    let app = spawn_app().await;
    let settings: serde_json::Value = app.get("/v1/sites/demo/widget").await.json().await.unwrap();
    assert_eq!(settings["bot_name"], "Nori");
    assert!(settings["ai_notice"].as_str().unwrap().contains("AI"));
    assert_eq!(app.get("/v1/sites/nope/widget").await.status(), 404);
}
