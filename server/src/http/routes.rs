//! HTTP endpoints: health, the widget's site settings, and the socket upgrades (the client's
//! upgrade rate, then site and origin, are checked before the upgrade). The sessions get
//! their own small contexts. Every error is JSON, the 404 of an unknown path included.

use std::net::IpAddr;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, route, web};
use serde::Deserialize;

use super::takeover::Takeover;
use super::{Http, HttpError, api, assets, resume, uploads};
use crate::session::{self, Frames, Socket};

/// The largest JSON body a request may carry (the admin requests are a few fields).
const JSON_BODY_BYTES: usize = 4096;

/// Every route of the app.
pub fn configure(config: &mut web::ServiceConfig) {
    let bad_query = |error: actix_web::error::QueryPayloadError, _: &HttpRequest| {
        actix_web::Error::from(HttpError::BadRequest(error.to_string()))
    };
    let bad_json = |error: actix_web::error::JsonPayloadError, _: &HttpRequest| {
        actix_web::Error::from(HttpError::BadRequest(error.to_string()))
    };
    config
        .app_data(web::QueryConfig::default().error_handler(bad_query))
        .app_data(web::JsonConfig::default().limit(JSON_BODY_BYTES).error_handler(bad_json))
        .default_service(web::to(|| async { Err::<HttpResponse, _>(HttpError::NoRoute) }))
        .service(healthz)
        .service(readyz)
        .service(super::metrics::scrape)
        .service(assets::demo_page)
        .service(assets::widget_js)
        .service(widget_settings)
        .service(visitor_ws)
        .service(resume::resume_page)
        .service(agent_ws)
        .service(super::archive::search)
        .service(super::archive::transcript)
        .service(super::archive::audit)
        .service(super::archive::erase)
        .service(super::reports::agent_reports)
        .service(super::webhooks::page)
        .service(super::webhooks::redeliver)
        .service(super::keys::page)
        .service(super::keys::create)
        .service(super::keys::revoke)
        .service(assets::console_page)
        .service(assets::console_js)
        .service(assets::console_css)
        .service(assets::console_redirect)
        .service(assets::favicon)
        .service(uploads::upload)
        .service(uploads::upload_preflight)
        .service(uploads::fetch);
    api::services(&mut utoipa_actix_web::service_config::ServiceConfig::new(config));
}

#[route("/healthz", method = "GET", method = "HEAD")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().body("ok")
}

#[route("/readyz", method = "GET", method = "HEAD")]
pub async fn readyz(http: web::Data<Http>) -> HttpResponse {
    let conversations = &http.visitor.conversations;
    match conversations.ready().await {
        Ok(()) => HttpResponse::Ok().body(format!("ready\n{}", conversations.model_status().await)),
        Err(error) => HttpResponse::ServiceUnavailable().body(format!("store not ready: {error}")),
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
    let origin = origin(&req)?;
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
        "attachments": config.attachments.enabled.then(|| serde_json::json!({
            "max_bytes": config.attachments.max_bytes, "types": config.attachments.types,
        })),
        // What the widget evaluates on the page (the texts and identity conditions stay here).
        "proactive": config.proactive.iter().map(|t| t.widget_view()).collect::<Vec<_>>(),
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
    let client = http.admit(&req)?;
    let site = http.sites.get(&query.site).ok_or(HttpError::UnknownSite)?;
    if !site.config.allows_origin(origin(&req)?) {
        return Err(HttpError::ForbiddenOrigin);
    }
    let (response, takeover, frames) = upgrade(&req, body, http.visitor.limits.first_frame_bytes)?;
    let (state, write_timeout) = (http.visitor.clone(), http.visitor.limits.client_timeout());
    takeover.start(move |conn| session::visitor::run(state, site, Socket::new(conn, write_timeout), frames, client));
    Ok(response)
}

/// The agent socket. Agents authenticate with their token in the first frame; a browser's
/// `Origin` must be this server's own (the console) or one of `server.agent_origins`.
#[get("/v1/agent/ws")]
pub async fn agent_ws(req: HttpRequest, body: web::Payload, http: web::Data<Http>) -> Result<HttpResponse, HttpError> {
    let client = http.admit(&req)?;
    if let Some(origin) = origin(&req)?
        && !same_origin(&req, origin)
        && !http.agent_origins.iter().any(|pattern| pattern.matches(origin))
    {
        return Err(HttpError::ForbiddenOrigin);
    }
    let (response, takeover, frames) = upgrade(&req, body, http.agent.limits.first_frame_bytes)?;
    let (state, write_timeout) = (http.agent.clone(), http.agent.limits.client_timeout());
    takeover.start(move |conn| session::agent::run(state, Socket::new(conn, write_timeout), frames, client));
    Ok(response)
}

/// The handshake's `101` (empty: the session writes the frames itself, see [`Takeover`]),
/// the socket's takeover, and the client's frames read through [`Frames`] (which refuses an
/// oversized frame at its header).
fn upgrade(
    req: &HttpRequest,
    body: web::Payload,
    first_frame_bytes: usize,
) -> Result<(HttpResponse, Takeover, Frames), HttpError> {
    let mut handshake = actix_http::ws::handshake(req.head()).map_err(|e| HttpError::Upgrade(e.to_string()))?;
    let takeover = Takeover::of(req).ok_or_else(|| HttpError::Upgrade("the connection was not upgraded".into()))?;
    let response = HttpResponse::from(handshake.finish().map_into_boxed_body());
    Ok((response, takeover, Frames::new(body.into_inner(), first_frame_bytes)))
}

/// The `Origin` header; one that is not text is refused, never taken for "no origin".
pub(super) fn origin(req: &HttpRequest) -> Result<Option<&str>, HttpError> {
    match req.headers().get(header::ORIGIN) {
        None => Ok(None),
        Some(value) => value.to_str().map(Some).map_err(|_| HttpError::ForbiddenOrigin),
    }
}

/// The origin is this server's own: its `host[:port]` is the request's `Host`.
pub(super) fn same_origin(req: &HttpRequest, origin: &str) -> bool {
    let host = req.headers().get(header::HOST).and_then(|h| h.to_str().ok());
    let authority = origin.split_once("://").map(|(_, rest)| rest);
    matches!((host, authority), (Some(host), Some(authority)) if host.eq_ignore_ascii_case(authority))
}

impl Http {
    /// The client's address (see [`Http::client_ip`]) if it may open another socket now.
    pub(super) fn admit(&self, req: &HttpRequest) -> Result<IpAddr, HttpError> {
        let client = self.client_ip(req);
        if !self.visitor.guards.upgrades.allow(&session::client_key(client)) {
            tracing::info!(%client, "too many socket upgrades; refusing one");
            return Err(HttpError::RateLimited);
        }
        Ok(client)
    }

    /// The TCP peer's address, or, from a trusted proxy, the address it puts in
    /// `limits.client_ip_header` (the last entry of a list: the one the proxy added).
    pub fn client_ip(&self, req: &HttpRequest) -> IpAddr {
        let peer = req.peer_addr().map_or(IpAddr::from([0, 0, 0, 0]), |a| a.ip());
        let limits = &self.visitor.limits;
        let Some(name) = &limits.client_ip_header else { return peer };
        if !limits.trusted_proxies.is_empty() && !limits.trusted_proxies.contains(&peer) {
            return peer;
        }
        let forwarded = req.headers().get(name.as_str()).and_then(|value| value.to_str().ok());
        forwarded.and_then(|list| list.rsplit(',').next()).and_then(|ip| ip.trim().parse().ok()).unwrap_or(peer)
    }
}
