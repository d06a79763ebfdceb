//! Files over HTTP (never over the socket): `POST /v1/attachments/SITE/CONVERSATION` sends one,
//! `GET /v1/attachments/SITE/CONVERSATION/FILE?t=TOKEN` fetches one. Who may send is checked
//! before the body is read: the visitor with their conversation's file token (from
//! `welcome`), an agent with their own token on a chat they have. The body is bounded by the
//! site's `max_bytes` as it arrives (a `Content-Length` above it is refused unread), and the
//! uploads in flight by `attachments.max_concurrent_uploads`.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, options, post, web};
use bytes::BytesMut;
use futures_util::StreamExt;
use serde::Deserialize;
use uuid::Uuid;

use super::{Http, HttpError};
use crate::attachments::{AttachmentError, Scope, Stored};
use crate::config::AgentConfig;
use crate::protocol::ConversationId;
use crate::sites::Site;

#[derive(Deserialize)]
pub struct UploadQuery {
    name: String,
}

/// Who is sending a file.
enum Sender {
    Visitor,
    Agent(AgentConfig),
}

/// A refusal carries the CORS headers too, so the widget on the site's page can read why.
#[post("/v1/attachments/{site}/{conversation}")]
pub async fn upload(
    req: HttpRequest,
    path: web::Path<(String, ConversationId)>,
    query: web::Query<UploadQuery>,
    body: web::Payload,
    http: web::Data<Http>,
) -> HttpResponse {
    let site = http.sites.get(&path.0);
    let origin = site.as_ref().and_then(|site| cors_origin(&req, site).ok().flatten()).map(str::to_owned);
    let mut response = match receive(&req, path.into_inner(), &query.name, body, &http).await {
        Ok(response) => response,
        Err(error) => actix_web::ResponseError::error_response(&error),
    };
    if let Some(origin) = origin
        && let Ok(value) = header::HeaderValue::from_str(&origin)
    {
        response.headers_mut().insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, value);
        response.headers_mut().insert(header::VARY, header::HeaderValue::from_static("Origin"));
    }
    response
}

async fn receive(
    req: &HttpRequest,
    (site_id, id): (String, ConversationId),
    name: &str,
    body: web::Payload,
    http: &Http,
) -> Result<HttpResponse, HttpError> {
    http.admit(req)?;
    let site = http.sites.get(&site_id).ok_or(HttpError::UnknownSite)?;
    cors_origin(req, &site)?;
    let files = &http.visitor.attachments;
    let sender = sender(req, http, &site_id, id)?;
    let policy = &site.config.attachments;
    if !policy.enabled {
        return Err(AttachmentError::Disabled.into());
    }
    let announced = req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if announced.is_some_and(|length| length > policy.max_bytes) {
        return Err(AttachmentError::TooLarge { max: policy.max_bytes }.into());
    }
    let _permit = files.admit_upload()?;
    let bytes = read_bounded(body, policy.max_bytes).await?;
    let stored = files.put(&site_id, id, name, bytes.freeze(), policy).await?;
    let seq = match post_event(http, &site, id, &sender, &stored).await {
        Ok(seq) => seq,
        Err(error) => {
            files.remove(&site_id, id, stored.id).await;
            return Err(error);
        }
    };
    Ok(HttpResponse::Created().json(serde_json::json!({
        "id": stored.id, "name": stored.name, "size": stored.size, "content_type": stored.content_type, "seq": seq,
    })))
}

/// The preflight a browser sends before a cross-origin upload with progress events.
#[options("/v1/attachments/{site}/{conversation}")]
pub async fn upload_preflight(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    http: web::Data<Http>,
) -> Result<HttpResponse, HttpError> {
    let site = http.sites.get(&path.0).ok_or(HttpError::UnknownSite)?;
    let mut response = HttpResponse::NoContent();
    if let Some(origin) = cors_origin(&req, &site)? {
        response
            .insert_header((header::ACCESS_CONTROL_ALLOW_ORIGIN, origin))
            .insert_header((header::ACCESS_CONTROL_ALLOW_METHODS, "POST"))
            .insert_header((header::ACCESS_CONTROL_ALLOW_HEADERS, "authorization, content-type"))
            .insert_header((header::ACCESS_CONTROL_MAX_AGE, "600"))
            .insert_header((header::VARY, "Origin"));
    }
    Ok(response.finish())
}

#[derive(Deserialize)]
pub struct FetchQuery {
    t: String,
    /// A name for the saved file (`Content-Disposition`).
    #[serde(default)]
    name: Option<String>,
}

#[get("/v1/attachments/{site}/{conversation}/{file}")]
pub async fn fetch(
    path: web::Path<(String, ConversationId, Uuid)>,
    query: web::Query<FetchQuery>,
    http: web::Data<Http>,
) -> Result<HttpResponse, HttpError> {
    let (site, id, file) = path.into_inner();
    let files = &http.visitor.attachments;
    if files.check(&query.t, &site, id).is_none() {
        return Err(HttpError::Forbidden("this link is not valid (or has expired)"));
    }
    let opened = files.open_file(&site, id, file).await?;
    let name = crate::attachments::kind::clean_name(query.name.as_deref().unwrap_or("file"));
    let disposition = if opened.content_type.starts_with("image/") { "inline" } else { "attachment" };
    Ok(HttpResponse::Ok()
        .content_type(opened.content_type)
        .insert_header((header::CONTENT_DISPOSITION, format!("{disposition}; filename=\"{name}\"")))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::CONTENT_SECURITY_POLICY, "default-src 'none'; sandbox"))
        .insert_header((header::CACHE_CONTROL, "private, max-age=300"))
        .no_chunking(opened.size)
        .streaming(opened.bytes))
}

/// The visitor's file token for this conversation, or an agent's own token.
fn sender(req: &HttpRequest, http: &Http, site: &str, id: ConversationId) -> Result<Sender, HttpError> {
    let token = super::bearer::token(req).ok_or(HttpError::Unauthorized)?;
    if http.visitor.attachments.check(token, site, id) == Some(Scope::Visitor) {
        return Ok(Sender::Visitor);
    }
    let client = http.client_ip(req);
    if !http.visitor.guards.auth_failures.would_allow(&crate::session::client_key(client)) {
        return Err(HttpError::RateLimited);
    }
    match http.agent.desk.authenticate(token) {
        Some(agent) => Ok(Sender::Agent(agent)),
        None => {
            http.visitor.guards.auth_failures.allow(&crate::session::client_key(client));
            Err(HttpError::Unauthorized)
        }
    }
}

async fn post_event(
    http: &Http,
    site: &std::sync::Arc<Site>,
    id: ConversationId,
    sender: &Sender,
    stored: &Stored,
) -> Result<u64, HttpError> {
    match sender {
        Sender::Visitor => match http.visitor.conversations.visitor_attachment(site, id, stored).await {
            Ok(Some(seq)) => Ok(seq),
            Ok(None) => Err(HttpError::Conflict("this chat has ended")),
            Err(error) => Err(HttpError::Unavailable(error.to_string())),
        },
        Sender::Agent(agent) => {
            http.agent.desk.attachment(agent, &site.config.id, id, stored).await.map_err(|error| match error {
                crate::agents::desk::DeskError::Store(error) => HttpError::Unavailable(error.to_string()),
                crate::agents::desk::DeskError::NotFound => HttpError::NoRoute,
                other => HttpError::Forbidden(if matches!(other, crate::agents::desk::DeskError::AlreadyTaken) {
                    "another agent has this chat"
                } else {
                    "this chat is not yours"
                }),
            })
        }
    }
}

/// The body, refused as soon as it grows past `max` bytes.
async fn read_bounded(mut body: web::Payload, max: u64) -> Result<BytesMut, HttpError> {
    let mut bytes = BytesMut::new();
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|e| HttpError::BadRequest(format!("the upload broke off: {e}")))?;
        if (bytes.len() + chunk.len()) as u64 > max {
            return Err(AttachmentError::TooLarge { max }.into());
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

/// The request's `Origin` when the site allows it (to echo in CORS headers); another is 403.
fn cors_origin<'a>(req: &'a HttpRequest, site: &Site) -> Result<Option<&'a str>, HttpError> {
    let origin = super::routes::origin(req)?;
    if let Some(origin) = origin
        && !super::routes::same_origin(req, origin)
        && !site.config.allows_origin(Some(origin))
    {
        return Err(HttpError::ForbiddenOrigin);
    }
    Ok(origin)
}
