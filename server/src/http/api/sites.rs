//! `/v1/api/sites/{site}`: a site's settings as its file says them with the owner's changes
//! over them (read scope), and changed (admin scope) with a JSON merge patch of the file's
//! own keys: persona, widget colours, bot texts, the escalation policy, handoff settings and
//! canned replies, notices, model settings. A change is validated by the file's loader and
//! the site built from it before anything is stored: a bad one is 400 with the loader's
//! message and changes nothing. It applies from the next turn on every node (`changes`).

use actix_web::{HttpRequest, HttpResponse, get, patch, web};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::auth::Caller;
use super::{Api, ApiError, ErrorBody, body};
use crate::archive::keys::Scope;
use crate::changes::{build_site, scope_of_site, settings};

#[derive(Serialize, ToSchema)]
pub struct SiteSettings {
    pub site: String,
    /// The site's file (`sites/SITE.toml`) as JSON, its identity secret left out.
    #[schema(value_type = Object)]
    pub file: Value,
    /// The owner's changes over the file, merged into one object (`{}`: none).
    #[schema(value_type = Object)]
    pub changes: Value,
    /// The top-level keys a change may touch.
    pub changeable: Vec<String>,
}

async fn current(api: &Api, site: &str) -> Result<SiteSettings, ApiError> {
    let changes = api.changes()?;
    let base = changes.base_site(site).ok_or(ApiError::NotFound("no such site"))?;
    let file = settings::file_settings(base).map_err(ApiError::Unavailable)?;
    let stored = changes.archive().site_patch(site).await?.unwrap_or_else(|| Value::Object(Default::default()));
    let changeable = settings::CHANGEABLE.iter().map(|key| (*key).to_owned()).collect();
    Ok(SiteSettings { site: site.to_owned(), file, changes: stored, changeable })
}

/// The site's settings: its file, and the owner's changes over it (read scope).
#[utoipa::path(
    operation_id = "get_site",
    tag = "sites",
    params(("site" = String, Path, description = "The site")),
    responses(
        (status = 200, body = SiteSettings),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 429, body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[get("/v1/api/sites/{site}")]
pub async fn get(caller: Caller, site: web::Path<String>, api: web::Data<Api>) -> Result<HttpResponse, ApiError> {
    caller.require(&site, Scope::Read)?;
    Ok(HttpResponse::Ok().json(current(&api, &site).await?))
}

/// Changes the site's settings (admin scope) with a JSON merge patch of the file's keys
/// (`null` puts the file's value back); validated exactly as the file is.
#[utoipa::path(
    operation_id = "update_site",
    tag = "sites",
    params(("site" = String, Path, description = "The site")),
    request_body(content = Object, description = "A merge patch of the site file's keys"),
    responses(
        (status = 200, body = SiteSettings),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 413, body = ErrorBody),
        (status = 429, body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[patch("/v1/api/sites/{site}")]
pub async fn patch(
    req: HttpRequest,
    caller: Caller,
    site: web::Path<String>,
    payload: web::Payload,
    api: web::Data<Api>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&site, Scope::Admin)?;
    let changes = api.changes()?;
    let base = changes.base_site(&site).ok_or(ApiError::NotFound("no such site"))?.clone();
    let bytes = body::read(&req, payload, api.settings.max_body_bytes).await?;
    let change: Value = body::json(&bytes)?;
    let read = changes.archive().site_patch(&site).await?;
    let mut merged = read.clone().unwrap_or_else(|| Value::Object(Default::default()));
    settings::merge_patch(&mut merged, &change).map_err(ApiError::Invalid)?;
    // Patches merge, so the stored one is bounded as a body is.
    if merged.to_string().len() > api.settings.max_body_bytes {
        return Err(ApiError::TooLarge(api.settings.max_body_bytes));
    }
    let pages = changes.archive().pages(&site).await?;
    let candidate = merged.clone();
    let built = tokio::task::spawn_blocking(move || build_site(&base, Some(&candidate), &pages))
        .await
        .map_err(|error| ApiError::Unavailable(error.to_string()))?;
    if let Err(error) = built {
        return Err(ApiError::Invalid(format!("{error:#}")));
    }
    if !changes.archive().put_site_patch(&site, read.as_ref(), &merged).await? {
        return Err(ApiError::Conflict("the site's settings changed meanwhile: send the change again".into()));
    }
    changes.announce(&scope_of_site(&site)).await?;
    Ok(HttpResponse::Ok().json(current(&api, &site).await?))
}
