//! HTTP endpoints: health, the demo page, the widget script, the widget's site settings, and
//! the visitor socket's upgrade (site and origin are checked before it).

use std::io::Write;
use std::sync::{Arc, LazyLock};

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, ResponseError, get, web};
use flate2::Compression;
use flate2::write::GzEncoder;
use serde::Deserialize;

use crate::protocol::MAX_FRAME_BYTES;
use crate::session;
use crate::startup::AppState;

/// The widget: the shared protocol client, the shared renderer, then the UI, compiled in (no
/// JS build to run Baton). The files and their order are those of `widget-js/bundles.json`
/// (`widget-js/test/bundles.test.js` checks both lists are the same).
const WIDGET_JS: &str = concat!(
    include_str!("../../widget-js/src/protocol.js"),
    "\n",
    include_str!("../../widget-js/src/render.js"),
    "\n",
    include_str!("../../widget-js/src/widget/strings.js"),
    "\n",
    include_str!("../../widget-js/src/widget/styles.js"),
    "\n",
    include_str!("../../widget-js/src/widget/model.js"),
    "\n",
    include_str!("../../widget-js/src/widget/views.js"),
    "\n",
    include_str!("../../widget-js/src/widget/frames.js"),
    "\n",
    include_str!("../../widget-js/src/widget/visitor.js"),
    "\n",
    include_str!("../../widget-js/src/widget/boot.js")
);
const DEMO_PAGE: &str = include_str!("../../widget-js/demo/index.html");
/// The agent console: its page, its script (the shared protocol client and renderer, then the
/// console; the files of `widget-js/bundles.json`, as for the widget), and its styles.
const CONSOLE_PAGE: &str = include_str!("../../widget-js/console/index.html");
const CONSOLE_JS: &str = concat!(
    include_str!("../../widget-js/src/protocol.js"),
    "\n",
    include_str!("../../widget-js/src/render.js"),
    "\n",
    include_str!("../../widget-js/console/helpers.js"),
    "\n",
    include_str!("../../widget-js/console/alerts.js"),
    "\n",
    include_str!("../../widget-js/console/desk.js"),
    "\n",
    include_str!("../../widget-js/console/frames.js"),
    "\n",
    include_str!("../../widget-js/console/view.js"),
    "\n",
    include_str!("../../widget-js/console/queue-view.js"),
    "\n",
    include_str!("../../widget-js/console/chat-view.js"),
    "\n",
    include_str!("../../widget-js/console/context-view.js"),
    "\n",
    include_str!("../../widget-js/console/shortcuts.js"),
    "\n",
    include_str!("../../widget-js/console/boot.js")
);
const CONSOLE_CSS: &str = include_str!("../../widget-js/console/console.css");

/// The widget gzipped once, at the best level: the compression middleware uses its fastest
/// level, which costs a visitor several kilobytes on every first load.
static WIDGET_JS_GZIP: LazyLock<Vec<u8>> = LazyLock::new(|| {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::best());
    // unwrap: writing to a Vec cannot fail.
    encoder.write_all(WIDGET_JS.as_bytes()).expect("gzip into memory");
    encoder.finish().expect("gzip into memory")
});

#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("unknown site")]
    UnknownSite,
    #[error("this origin may not open a chat on this site")]
    ForbiddenOrigin,
    #[error("could not open the socket: {0}")]
    Upgrade(String),
}

impl ResponseError for HttpError {
    fn status_code(&self) -> StatusCode {
        match self {
            HttpError::UnknownSite => StatusCode::NOT_FOUND,
            HttpError::ForbiddenOrigin => StatusCode::FORBIDDEN,
            HttpError::Upgrade(_) => StatusCode::BAD_REQUEST,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let code = match self {
            HttpError::UnknownSite => "not_found",
            HttpError::ForbiddenOrigin => "forbidden",
            HttpError::Upgrade(_) => "invalid_frame",
        };
        HttpResponse::build(self.status_code()).json(serde_json::json!({ "error": code, "message": self.to_string() }))
    }
}

#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().body("ok")
}

#[get("/readyz")]
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    match state.conversations.store().ping().await {
        Ok(()) => HttpResponse::Ok().body("ready"),
        Err(error) => HttpResponse::ServiceUnavailable().body(format!("store unreachable: {error}")),
    }
}

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
        response.body(WIDGET_JS)
    }
}

/// Appearance defaults for the widget; readable from the site's allowed origins.
#[get("/v1/sites/{site}/widget")]
pub async fn widget_settings(
    req: HttpRequest,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, HttpError> {
    let site = state.sites.get(&path).ok_or(HttpError::UnknownSite)?;
    let origin = origin(&req);
    if !site.config.allows_origin(origin) {
        return Err(HttpError::ForbiddenOrigin);
    }
    let config = &site.config;
    let mut response = HttpResponse::Ok();
    if let Some(origin) = origin {
        response.insert_header((header::ACCESS_CONTROL_ALLOW_ORIGIN, origin)).insert_header((header::VARY, "Origin"));
    }
    Ok(response.json(serde_json::json!({
        "site": config.id,
        "title": config.title,
        "bot_name": config.persona.bot_name,
        "greeting": config.persona.greeting,
        "ai_notice": config.persona.ai_notice,
        "color": config.widget.color,
        "position": config.widget.position,
        "locale": config.widget.locale,
    })))
}

#[derive(Deserialize)]
pub struct VisitorQuery {
    site: String,
}

#[get("/v1/visitor/ws")]
pub async fn visitor_ws(
    req: HttpRequest,
    body: web::Payload,
    query: web::Query<VisitorQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, HttpError> {
    let site = state.sites.get(&query.site).ok_or(HttpError::UnknownSite)?;
    if !site.config.allows_origin(origin(&req)) {
        return Err(HttpError::ForbiddenOrigin);
    }
    let (response, ws, stream) = actix_ws::handle(&req, body).map_err(|e| HttpError::Upgrade(e.to_string()))?;
    let stream =
        stream.max_frame_size(MAX_FRAME_BYTES).aggregate_continuations().max_continuation_size(MAX_FRAME_BYTES);
    let state: Arc<AppState> = state.into_inner();
    actix_web::rt::spawn(session::visitor::run(state, site, ws, stream));
    Ok(response)
}

/// The agent socket: no origin check (agents authenticate with their token in the first frame).
#[get("/v1/agent/ws")]
pub async fn agent_ws(
    req: HttpRequest,
    body: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, HttpError> {
    let (response, ws, stream) = actix_ws::handle(&req, body).map_err(|e| HttpError::Upgrade(e.to_string()))?;
    let stream =
        stream.max_frame_size(MAX_FRAME_BYTES).aggregate_continuations().max_continuation_size(MAX_FRAME_BYTES);
    actix_web::rt::spawn(session::agent::run(state.into_inner(), ws, stream));
    Ok(response)
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

fn origin(req: &HttpRequest) -> Option<&str> {
    req.headers().get(header::ORIGIN).and_then(|value| value.to_str().ok())
}
