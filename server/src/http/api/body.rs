//! Request bodies: read up to `api.max_body_bytes` (413 past it, before reading when the
//! `Content-Length` says so), parsed with the failing field named; and idempotent POSTs: a
//! request with `Idempotency-Key` runs once per key, API key and route (method and path: the
//! same key on another route is another request), later ones with the same body get the
//! stored response again (`Idempotent-Replayed: true`), with another body 422.
//! Only successes are stored (a failure may be retried), for `api.idempotency_hours`.

use std::future::Future;

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use bytes::{Bytes, BytesMut};
use futures_util::StreamExt;
use serde::de::DeserializeOwned;

use super::auth::Caller;
use super::{Api, ApiError};
use crate::archive::keys::{StoredResponse, sha256_hex};

/// The header a client names a POST's idempotency key in.
pub const IDEMPOTENCY_KEY: &str = "Idempotency-Key";
/// The header a replayed response carries.
pub const REPLAYED: &str = "Idempotent-Replayed";
/// An idempotency key longer than this is refused (it is stored).
const MAX_IDEMPOTENCY_KEY: usize = 200;

/// The body, at most `max` bytes.
pub async fn read(req: &HttpRequest, mut payload: web::Payload, max: usize) -> Result<Bytes, ApiError> {
    let declared = req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<usize>().ok());
    if declared.is_some_and(|length| length > max) {
        return Err(ApiError::TooLarge(max));
    }
    let mut body = BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|error| ApiError::Invalid(format!("could not read the body: {error}")))?;
        if body.len() + chunk.len() > max {
            return Err(ApiError::TooLarge(max));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// The body as `T`; a bad one is 400 naming the field.
pub fn json<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    let mut reader = serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(&mut reader).map_err(|error| ApiError::Invalid(format!("body: {error}")))
}

/// Runs `handler` unless this request's `Idempotency-Key` was already answered; `redact`
/// removes from the stored copy what must not be kept (a new key's secret).
pub async fn idempotent<F, Fut>(
    api: &Api,
    caller: &Caller,
    req: &HttpRequest,
    body: &[u8],
    redact: fn(&mut serde_json::Value),
    handler: F,
) -> Result<HttpResponse, ApiError>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<(StatusCode, serde_json::Value), ApiError>>,
{
    let Some(idem) = idempotency_key(req)? else {
        let (status, value) = handler().await?;
        return Ok(HttpResponse::build(status).json(value));
    };
    let body_hash = sha256_hex(body);
    let route = format!("{} {}", req.method(), req.path());
    if let Some(stored) = api.archive.idempotent_response(&caller.key.id, &route, &idem).await? {
        if stored.body_hash != body_hash {
            return Err(ApiError::IdempotencyMismatch);
        }
        let status = StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK);
        return Ok(HttpResponse::build(status)
            .insert_header((REPLAYED, "true"))
            .content_type("application/json")
            .body(stored.response));
    }
    let (status, value) = handler().await?;
    let mut kept = value.clone();
    redact(&mut kept);
    let stored = StoredResponse { body_hash, status: status.as_u16(), response: kept.to_string() };
    let expires =
        chrono::Utc::now() + chrono::Duration::hours(i64::try_from(api.settings.idempotency_hours).unwrap_or(24));
    api.archive.store_response(&caller.key.id, &route, &idem, &stored, expires).await?;
    Ok(HttpResponse::build(status).json(value))
}

fn idempotency_key(req: &HttpRequest) -> Result<Option<String>, ApiError> {
    let Some(value) = req.headers().get(IDEMPOTENCY_KEY) else { return Ok(None) };
    let value = value.to_str().map_err(|_| ApiError::Invalid("Idempotency-Key must be text".into()))?.trim();
    if value.is_empty() || value.len() > MAX_IDEMPOTENCY_KEY {
        return Err(ApiError::Invalid(format!("Idempotency-Key must be 1 to {MAX_IDEMPOTENCY_KEY} characters")));
    }
    Ok(Some(value.to_owned()))
}

/// Nothing to remove.
pub fn keep_all(_: &mut serde_json::Value) {}
