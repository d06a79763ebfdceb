//! The console's API keys page, for agents with the admin role (`Authorization: Bearer
//! TOKEN`, the agent's token, as the Webhooks page): the same archive calls as the owner
//! API's `/v1/api/keys` endpoints, over the admin's sites.
//! - `GET /v1/agent/keys[?site=]`: the keys of the admin's sites (or of one), revoked ones
//!   included, never their secrets nor their hashes;
//! - `POST /v1/agent/keys` `{"site", "scope", "name"}`: makes one; its secret is in this
//!   answer only;
//! - `DELETE /v1/agent/keys/{id}`: revokes one; it authenticates nothing after.
//!
//! A key of a site the admin does not serve is not found; making one for it is 403.

use actix_web::{HttpRequest, HttpResponse, delete, get, post, web};
use serde::Deserialize;

use super::api::keys::{CreateKey, CreatedKey, MAX_NAME_CHARS};
use super::archive::{admin, admin_sites, admin_sites_asked, unavailable};
use super::{Http, HttpError};
use crate::archive::keys::ApiKey;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PageParams {
    site: Option<String>,
}

#[get("/v1/agent/keys")]
pub async fn page(
    req: HttpRequest,
    params: web::Query<PageParams>,
    http: web::Data<Http>,
) -> Result<HttpResponse, HttpError> {
    let admin = admin(&http, &req)?;
    let sites = admin_sites_asked(&http, &admin, params.into_inner().site)?;
    let mut items: Vec<ApiKey> = Vec::new();
    for site in &sites {
        items.extend(http.archive.keys(site).await.map_err(unavailable)?);
    }
    Ok(HttpResponse::Ok().json(serde_json::json!({ "items": items, "sites": sites })))
}

#[post("/v1/agent/keys")]
pub async fn create(
    req: HttpRequest,
    body: web::Json<CreateKey>,
    http: web::Data<Http>,
) -> Result<HttpResponse, HttpError> {
    let admin = admin(&http, &req)?;
    let asked = body.into_inner();
    if !admin_sites(&http, &admin).contains(&asked.site) {
        return Err(HttpError::Forbidden("you do not serve this site"));
    }
    let name = asked.name.trim();
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(HttpError::BadRequest(format!("name: at most {MAX_NAME_CHARS} characters")));
    }
    let (record, secret) = http.archive.create_key(&asked.site, asked.scope, name).await.map_err(unavailable)?;
    tracing::info!(agent = %admin.id, site = %record.site, key = %record.id, scope = record.scope.as_str(), "API key created");
    Ok(HttpResponse::Created().json(CreatedKey { record, key: Some(secret) }))
}

#[delete("/v1/agent/keys/{id}")]
pub async fn revoke(
    req: HttpRequest,
    path: web::Path<String>,
    http: web::Data<Http>,
) -> Result<HttpResponse, HttpError> {
    let admin = admin(&http, &req)?;
    let id = path.into_inner();
    for site in admin_sites(&http, &admin) {
        if http.archive.revoke_key(&site, &id).await.map_err(unavailable)? {
            tracing::info!(agent = %admin.id, %site, key = %id, "API key revoked");
            return Ok(HttpResponse::NoContent().finish());
        }
    }
    Err(HttpError::Missing("your sites have no such unrevoked key"))
}
