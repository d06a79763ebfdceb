//! HTTP endpoints: health, the widget's site settings, and the socket upgrades (site and
//! origin are checked before the visitor's). The sessions get their own small contexts.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, web};
use serde::Deserialize;

use super::{Http, HttpError, assets};
use crate::protocol::MAX_FRAME_BYTES;
use crate::session;

/// Every route of the app.
pub fn configure(config: &mut web::ServiceConfig) {
    config
        .service(healthz)
        .service(readyz)
        .service(assets::demo_page)
        .service(assets::widget_js)
        .service(widget_settings)
        .service(visitor_ws)
        .service(agent_ws)
        .service(assets::console_page)
        .service(assets::console_js)
        .service(assets::console_css);
}

#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().body("ok")
}

#[get("/readyz")]
pub async fn readyz(http: web::Data<Http>) -> HttpResponse {
    let conversations = &http.visitor.conversations;
    match conversations.ready().await {
        Ok(()) => HttpResponse::Ok().body(format!("ready\n{}", conversations.model_status().await)),
        Err(error) => HttpResponse::ServiceUnavailable().body(format!("store unreachable: {error}")),
    }
}

/// Appearance defaults for the widget; readable from the site's allowed origins.
#[get("/v1/sites/{site}/widget")]
pub async fn widget_settings(
    req: HttpRequest,
    path: web::Path<String>,
    http: web::Data<Http>,
) -> Result<HttpResponse, HttpError> {
    let site = http.sites.get(&path).ok_or(HttpError::UnknownSite)?;
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
    http: web::Data<Http>,
) -> Result<HttpResponse, HttpError> {
    let site = http.sites.get(&query.site).ok_or(HttpError::UnknownSite)?;
    if !site.config.allows_origin(origin(&req)) {
        return Err(HttpError::ForbiddenOrigin);
    }
    let (response, ws, stream) = actix_ws::handle(&req, body).map_err(|e| HttpError::Upgrade(e.to_string()))?;
    let stream =
        stream.max_frame_size(MAX_FRAME_BYTES).aggregate_continuations().max_continuation_size(MAX_FRAME_BYTES);
    actix_web::rt::spawn(session::visitor::run(http.visitor.clone(), site, ws, stream));
    Ok(response)
}

/// The agent socket: no origin check (agents authenticate with their token in the first frame).
#[get("/v1/agent/ws")]
pub async fn agent_ws(req: HttpRequest, body: web::Payload, http: web::Data<Http>) -> Result<HttpResponse, HttpError> {
    let (response, ws, stream) = actix_ws::handle(&req, body).map_err(|e| HttpError::Upgrade(e.to_string()))?;
    let stream =
        stream.max_frame_size(MAX_FRAME_BYTES).aggregate_continuations().max_continuation_size(MAX_FRAME_BYTES);
    actix_web::rt::spawn(session::agent::run(http.agent.clone(), ws, stream));
    Ok(response)
}

fn origin(req: &HttpRequest) -> Option<&str> {
    req.headers().get(header::ORIGIN).and_then(|value| value.to_str().ok())
}
