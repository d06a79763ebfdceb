//! The archive over HTTP, for agents and admins signed in with their agent token
//! (`Authorization: Bearer TOKEN`):
//! - `GET /v1/agent/archive?visitor=&email=&text=&site=&from=&to=&reason=&agent=&limit=`:
//!   archived conversations of the agent's sites, newest first (the console's archive page);
//! - `GET /v1/agent/archive/{id}`: one, with its events as on the wire (read-only);
//! - `GET /v1/admin/audit?limit=`: the audit log, newest first (admins);
//! - `POST /v1/admin/privacy/erase` `{"email"} | {"user_id"}`: erases a visitor from the
//!   live store this server holds (memory or Redis), the attachments and the archive (admins).
//!
//! A missing or wrong token is 401, a wrong role or site 403, an archive that is down 503.

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::{Http, HttpError};
use crate::archive::Archive;
use crate::archive::privacy::Subject;
use crate::archive::search::SearchQuery;
use crate::config::AgentConfig;
use crate::protocol::{ConversationId, Reason};

/// Conversations a search returns unless it asks for fewer.
const DEFAULT_RESULTS: usize = 50;

/// The agent whose token the request carries.
fn agent(http: &Http, req: &HttpRequest) -> Result<AgentConfig, HttpError> {
    let token = super::bearer::token(req).ok_or(HttpError::Unauthorized)?;
    http.agent.desk.authenticate(token).ok_or(HttpError::Unauthorized)
}

/// The agent whose token the request carries, if they have the admin role (also the
/// Webhooks and API keys pages' check, [`super::webhooks`], [`super::keys`]).
pub(super) fn admin(http: &Http, req: &HttpRequest) -> Result<AgentConfig, HttpError> {
    let agent = agent(http, req)?;
    if !agent.is_admin() {
        return Err(HttpError::Forbidden("this needs an agent with role = \"admin\""));
    }
    Ok(agent)
}

/// An archive call failed: logged, and answered 503 (also the Webhooks and API keys pages').
pub(super) fn unavailable(error: impl std::fmt::Display) -> HttpError {
    tracing::warn!(%error, "archive request failed");
    HttpError::Unavailable("the archive is not reachable right now; try again".into())
}

/// The sites `admin` serves (every configured one for an admin of every site).
pub(super) fn admin_sites(http: &Http, admin: &AgentConfig) -> Vec<String> {
    http.sites.ids().into_iter().filter(|site| admin.serves(site)).collect()
}

/// The sites an admin's page shows: the one asked for (`forbidden` unless they serve it), or
/// every site they serve when none (or an empty form field) is asked for.
pub(super) fn admin_sites_asked(
    http: &Http,
    admin: &AgentConfig,
    site: Option<String>,
) -> Result<Vec<String>, HttpError> {
    match given(site) {
        Some(site) if admin.serves(&site) => Ok(vec![site]),
        Some(_) => Err(HttpError::Forbidden("you do not serve this site")),
        None => Ok(admin_sites(http, admin)),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SearchParams {
    visitor: Option<String>,
    email: Option<String>,
    text: Option<String>,
    site: Option<String>,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
    reason: Option<Reason>,
    agent: Option<String>,
    limit: Option<usize>,
}

/// Empty form fields mean "any".
fn given(value: Option<String>) -> Option<String> {
    value.filter(|v| !v.trim().is_empty())
}

#[get("/v1/agent/archive")]
pub async fn search(
    req: HttpRequest,
    params: web::Query<SearchParams>,
    http: web::Data<Http>,
) -> Result<HttpResponse, HttpError> {
    let agent = agent(&http, &req)?;
    let params = params.into_inner();
    let site = given(params.site);
    if let Some(site) = &site
        && !agent.serves(site)
    {
        return Err(HttpError::Forbidden("you do not serve this site"));
    }
    let query = SearchQuery {
        sites: agent.site_scope().map(<[String]>::to_vec),
        site,
        visitor: given(params.visitor),
        email: given(params.email),
        text: given(params.text),
        from: params.from,
        to: params.to,
        reason: params.reason,
        agent: given(params.agent),
        limit: params.limit.unwrap_or(DEFAULT_RESULTS),
    };
    let items = http.archive.search(&query).await.map_err(unavailable)?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "items": items })))
}

#[get("/v1/agent/archive/{id}")]
pub async fn transcript(
    req: HttpRequest,
    path: web::Path<String>,
    http: web::Data<Http>,
) -> Result<HttpResponse, HttpError> {
    let agent = agent(&http, &req)?;
    let id = uuid::Uuid::parse_str(&path).map_err(|_| HttpError::NotFound)?;
    let conversation = http.archive.conversation(ConversationId(id)).await.map_err(unavailable)?;
    // Another site's conversation is as unknown as a missing one.
    match conversation.filter(|c| agent.serves(&c.site)) {
        Some(conversation) => Ok(HttpResponse::Ok().json(conversation)),
        None => Err(HttpError::NotFound),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditParams {
    limit: Option<usize>,
}

#[get("/v1/admin/audit")]
pub async fn audit(
    req: HttpRequest,
    params: web::Query<AuditParams>,
    http: web::Data<Http>,
) -> Result<HttpResponse, HttpError> {
    let admin = admin(&http, &req)?;
    let limit = params.limit.unwrap_or(crate::archive::audit::MAX_ENTRIES);
    let items = http.archive.audit_entries(admin.site_scope(), limit).await.map_err(unavailable)?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "items": items })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EraseRequest {
    email: Option<String>,
    user_id: Option<String>,
}

#[post("/v1/admin/privacy/erase")]
pub async fn erase(
    req: HttpRequest,
    body: web::Json<EraseRequest>,
    http: web::Data<Http>,
) -> Result<HttpResponse, HttpError> {
    let admin = admin(&http, &req)?;
    if admin.site_scope().is_some() {
        return Err(HttpError::Forbidden("erasing a visitor needs an admin of every site"));
    }
    let subject = match (given(body.email.clone()), given(body.user_id.clone())) {
        (Some(email), None) => Subject::Email(email),
        (None, Some(user_id)) => Subject::UserId(user_id),
        _ => return Err(HttpError::BadRequest("give exactly one of `email` and `user_id`".into())),
    };
    let report = crate::archive::erasure::erase(
        &http.archive,
        Some(&*http.erase),
        crate::archive::erasure::Within::Every(&http.sites.ids()),
        Some(&http.visitor.attachments),
        &subject,
        &admin.id,
    )
    .await
    .map_err(unavailable)?;
    Ok(HttpResponse::Ok().json(report))
}
