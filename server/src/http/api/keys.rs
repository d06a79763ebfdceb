//! `/v1/api/keys`: a site's keys, made, listed and revoked with an admin key of that site.
//! A new key's secret is in the creation's answer only; a replay of that POST (same
//! `Idempotency-Key`) answers the same key without it, since only its hash is kept.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, delete, get, post, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::auth::Caller;
use super::body::{self, idempotent};
use super::{Api, ApiError, ErrorBody};
use crate::archive::keys::{ApiKey, Scope};

/// A key's name is a label for people; bounded because it is stored and listed.
pub const MAX_NAME_CHARS: usize = 100;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateKey {
    pub site: String,
    pub scope: Scope,
    /// A label to recognise the key by (where it is used).
    #[serde(default)]
    pub name: String,
}

#[derive(Serialize, ToSchema)]
pub struct CreatedKey {
    #[serde(flatten)]
    pub record: ApiKey,
    /// The key itself: shown here only (absent in a replay).
    pub key: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SiteQuery {
    /// The site whose keys to list.
    pub site: String,
}

#[derive(Serialize, ToSchema)]
pub struct KeyList {
    pub items: Vec<ApiKey>,
}

/// Makes a key for a site (admin scope on that site).
#[utoipa::path(
    operation_id = "create_key",
    tag = "keys",
    request_body = CreateKey,
    params(("Idempotency-Key" = Option<String>, Header, description = "Replays the stored answer for the same body")),
    responses(
        (status = 201, description = "The new key, with its secret", body = CreatedKey),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 422, body = ErrorBody), (status = 429, body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[post("/v1/api/keys")]
pub async fn create(
    req: HttpRequest,
    caller: Caller,
    payload: web::Payload,
    api: web::Data<Api>,
) -> Result<HttpResponse, ApiError> {
    let bytes = body::read(&req, payload, api.settings.max_body_bytes).await?;
    let asked: CreateKey = body::json(&bytes)?;
    caller.require(&asked.site, Scope::Admin)?;
    if asked.name.chars().count() > MAX_NAME_CHARS {
        return Err(ApiError::Invalid(format!("name: at most {MAX_NAME_CHARS} characters")));
    }
    let forget_secret = |value: &mut serde_json::Value| value["key"] = serde_json::Value::Null;
    idempotent(&api, &caller, &req, &bytes, forget_secret, || async {
        let (record, secret) = api.archive.create_key(&asked.site, asked.scope, asked.name.trim()).await?;
        let created = CreatedKey { record, key: Some(secret) };
        Ok((StatusCode::CREATED, serde_json::to_value(created).unwrap_or_default()))
    })
    .await
}

/// A site's keys, revoked ones included, never their secrets (admin scope).
#[utoipa::path(
    operation_id = "list_keys",
    tag = "keys",
    params(SiteQuery),
    responses(
        (status = 200, body = KeyList),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 429, body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[get("/v1/api/keys")]
pub async fn list(caller: Caller, query: web::Query<SiteQuery>, api: web::Data<Api>) -> Result<HttpResponse, ApiError> {
    caller.require(&query.site, Scope::Admin)?;
    Ok(HttpResponse::Ok().json(KeyList { items: api.archive.keys(&query.site).await? }))
}

/// Revokes one of the caller's site's keys (admin scope); it authenticates nothing after.
#[utoipa::path(
    operation_id = "revoke_key",
    tag = "keys",
    params(("id" = String, Path, description = "The key's id")),
    responses(
        (status = 204, description = "Revoked"),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 429, body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[delete("/v1/api/keys/{id}")]
pub async fn revoke(caller: Caller, path: web::Path<String>, api: web::Data<Api>) -> Result<HttpResponse, ApiError> {
    let site = caller.key.site.clone();
    caller.require(&site, Scope::Admin)?;
    match api.archive.revoke_key(&site, &path).await? {
        true => Ok(HttpResponse::NoContent().finish()),
        false => Err(ApiError::NotFound("this site has no such unrevoked key")),
    }
}
