//! HTTP endpoints: health, the demo page, the widget script, the widget's site settings, and
//! the visitor socket's upgrade (site and origin are checked before it).

use std::sync::Arc;

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, ResponseError, get, web};
use serde::Deserialize;

use crate::protocol::MAX_FRAME_BYTES;
use crate::session;
use crate::startup::AppState;

/// The widget: the shared protocol client, then the UI, compiled in (no JS build to run Baton).
const WIDGET_JS: &str =
    concat!(include_str!("../../widget-js/src/protocol.js"), "\n", include_str!("../../widget-js/src/widget.js"));
const DEMO_PAGE: &str = include_str!("../../widget-js/demo/index.html");

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
pub async fn widget_js() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/javascript; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .body(WIDGET_JS)
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

fn origin(req: &HttpRequest) -> Option<&str> {
    req.headers().get(header::ORIGIN).and_then(|value| value.to_str().ok())
}
