//! The browser code and pages, compiled into the binary (no JS build to run Baton), and the
//! handlers that serve them.

use std::io::Write;
use std::sync::LazyLock;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get};
use flate2::Compression;
use flate2::write::GzEncoder;

/// The widget: the shared protocol client, the shared renderer, then the UI, compiled in (no
/// JS build to run Baton). The files and their order are those of `widget-js/bundles.json`
/// (`widget-js/test/bundles.test.js` checks both lists are the same).
const WIDGET_SOURCE: &str = concat!(
    include_str!("../../../widget-js/src/protocol.js"),
    "\n",
    include_str!("../../../widget-js/src/render.js"),
    "\n",
    include_str!("../../../widget-js/src/widget/strings.js"),
    "\n",
    include_str!("../../../widget-js/src/widget/styles.js"),
    "\n",
    include_str!("../../../widget-js/src/widget/model.js"),
    "\n",
    include_str!("../../../widget-js/src/widget/views.js"),
    "\n",
    include_str!("../../../widget-js/src/widget/frames.js"),
    "\n",
    include_str!("../../../widget-js/src/widget/files.js"),
    "\n",
    include_str!("../../../widget-js/src/widget/visitor.js"),
    "\n",
    include_str!("../../../widget-js/src/widget/proactive.js"),
    "\n",
    include_str!("../../../widget-js/src/widget/boot.js")
);
const DEMO_PAGE: &str = include_str!("../../../widget-js/demo/index.html");
/// The agent console: its page, its script (the shared protocol client and renderer, then the
/// console; the files of `widget-js/bundles.json`, as for the widget), and its styles.
const CONSOLE_PAGE: &str = include_str!("../../../widget-js/console/index.html");
const CONSOLE_JS: &str = concat!(
    include_str!("../../../widget-js/src/protocol.js"),
    "\n",
    include_str!("../../../widget-js/src/render.js"),
    "\n",
    include_str!("../../../widget-js/console/helpers.js"),
    "\n",
    include_str!("../../../widget-js/console/alerts.js"),
    "\n",
    include_str!("../../../widget-js/console/desk.js"),
    "\n",
    include_str!("../../../widget-js/console/frames.js"),
    "\n",
    include_str!("../../../widget-js/console/view.js"),
    "\n",
    include_str!("../../../widget-js/console/queue-view.js"),
    "\n",
    include_str!("../../../widget-js/console/chat-view.js"),
    "\n",
    include_str!("../../../widget-js/console/files-view.js"),
    "\n",
    include_str!("../../../widget-js/console/context-view.js"),
    "\n",
    include_str!("../../../widget-js/console/archive-view.js"),
    "\n",
    include_str!("../../../widget-js/console/reports-view.js"),
    "\n",
    include_str!("../../../widget-js/console/webhooks-view.js"),
    "\n",
    include_str!("../../../widget-js/console/keys-view.js"),
    "\n",
    include_str!("../../../widget-js/console/shortcuts.js"),
    "\n",
    include_str!("../../../widget-js/console/boot.js")
);
const CONSOLE_CSS: &str = include_str!("../../../widget-js/console/console.css");

/// The widget as served: a visitor downloads none of the lines that are only a comment (the
/// size budget in `widget-js/README.md#size` is measured on this; `widget-js/test-support/
/// helpers.js` strips the same lines).
static WIDGET_JS: LazyLock<String> = LazyLock::new(|| without_comment_lines(WIDGET_SOURCE));

/// Drops `//` lines and whole `/* … */` blocks that start a line; code is left as it is.
fn without_comment_lines(js: &str) -> String {
    let mut in_block = false;
    let kept: Vec<&str> = js
        .split('\n')
        .filter(|line| {
            let start = line.trim_start();
            if in_block {
                in_block = !line.contains("*/");
                return false;
            }
            if start.starts_with("/*") {
                in_block = !start.contains("*/");
                return false;
            }
            !start.starts_with("//")
        })
        .collect();
    kept.join("\n")
}

/// The widget gzipped once, at the best level: the compression middleware uses its fastest
/// level, which costs a visitor several kilobytes on every first load.
static WIDGET_JS_GZIP: LazyLock<Vec<u8>> = LazyLock::new(|| {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::best());
    // unwrap: writing to a Vec cannot fail.
    encoder.write_all(WIDGET_JS.as_bytes()).expect("gzip into memory");
    encoder.finish().expect("gzip into memory")
});

#[get("/")]
pub async fn demo_page() -> HttpResponse {
    HttpResponse::Ok().content_type("text/html; charset=utf-8").body(DEMO_PAGE)
}

#[get("/widget.js")]
pub async fn widget_js(req: HttpRequest) -> HttpResponse {
    let accepts_gzip = req
        .headers()
        .get(header::ACCEPT_ENCODING)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.split(',').any(|coding| coding.trim().starts_with("gzip")));
    let mut response = HttpResponse::Ok();
    response
        .content_type("application/javascript; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .insert_header((header::VARY, "Accept-Encoding"));
    if accepts_gzip {
        // A response that already has a Content-Encoding is left alone by the middleware.
        response.insert_header((header::CONTENT_ENCODING, "gzip")).body(WIDGET_JS_GZIP.as_slice())
    } else {
        response.body(WIDGET_JS.as_str())
    }
}

#[get("/console/")]
pub async fn console_page() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        // The token lives in sessionStorage and the page loads only its own assets.
        .insert_header((
            "Content-Security-Policy",
            "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:",
        ))
        .insert_header(("Referrer-Policy", "no-referrer"))
        .body(CONSOLE_PAGE)
}

#[get("/console/console.js")]
pub async fn console_js() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/javascript; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .body(CONSOLE_JS)
}

#[get("/console/console.css")]
pub async fn console_css() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .body(CONSOLE_CSS)
}

/// The icon browsers ask every origin for (a 32 px PNG inside an ICO): without it each first
/// visit to the console logs a 404.
const FAVICON: &[u8] = include_bytes!("../../../widget-js/favicon.ico");

#[get("/favicon.ico")]
pub async fn favicon() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("image/x-icon")
        .insert_header((header::CACHE_CONTROL, "public, max-age=86400"))
        .body(FAVICON)
}

/// `/console` is what people type; the page and its relative asset paths live at `/console/`.
#[get("/console")]
pub async fn console_redirect() -> HttpResponse {
    HttpResponse::PermanentRedirect().insert_header((header::LOCATION, "/console/")).finish()
}
