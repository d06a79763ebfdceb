//! `/v1/api/webhooks`: a site's webhook subscriptions (made with a signing secret shown
//! once, listed, changed, deleted, their secret rotated with an overlap) and each one's delivery log
//! with manual redelivery. Admin scope on
//! the site; another site's subscription is not found.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::auth::Caller;
use super::body::{self, idempotent};
use super::{Api, ApiError, ErrorBody};
use crate::archive::keys::Scope;
use crate::archive::webhooks::outbox::DeliveryView;
use crate::archive::webhooks::{EventType, Subscription};
use crate::webhooks::target;

/// The longest URL a subscription may have (it is stored and listed).
const MAX_URL_CHARS: usize = 2_000;
/// Deliveries a log page holds at most (and by default).
const MAX_LOG: usize = 100;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateSubscription {
    pub site: String,
    /// `https://…` where deliveries are `POST`ed (`http://` only when the operator allows
    /// it); a public address only (400 `target_not_allowed` otherwise).
    pub url: String,
    /// The event types to receive (at least one).
    pub events: Vec<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateSubscription {
    /// A new `https://…` target (the SSRF guard checks it as at creation).
    pub url: Option<String>,
    /// The event types to receive from now on (at least one).
    pub events: Option<Vec<String>>,
}

#[derive(Serialize, ToSchema)]
pub struct CreatedSubscription {
    #[serde(flatten)]
    pub subscription: Subscription,
    /// The signing secret: shown here only (null in a replay).
    pub secret: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct SubscriptionList {
    pub items: Vec<Subscription>,
}

#[derive(Serialize, ToSchema)]
pub struct DeliveryList {
    pub items: Vec<DeliveryView>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SiteQuery {
    /// The site whose subscriptions to list.
    pub site: String,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LogQuery {
    /// Only deliveries in this state: `pending`, `delivered` or `failed`.
    pub status: Option<String>,
    /// Deliveries per answer, 1 to 100 (default 100), newest first.
    pub limit: Option<usize>,
}

/// The webhook endpoints, registered by [`super::services`].
pub fn services(config: &mut utoipa_actix_web::service_config::ServiceConfig) {
    config
        .service(create)
        .service(list)
        .service(remove)
        .service(update)
        .service(rotate)
        .service(deliveries)
        .service(delivery)
        .service(redeliver);
}

/// A URL that parses, within the length, and passes the SSRF guard ([`target::check`]:
/// 400 `target_not_allowed`).
fn valid_url(url: &str, policy: target::Policy) -> Result<reqwest::Url, ApiError> {
    let bad = |why: &str| ApiError::Invalid(format!("url: {why}"));
    if url.chars().count() > MAX_URL_CHARS {
        return Err(bad(&format!("at most {MAX_URL_CHARS} characters")));
    }
    let parsed = reqwest::Url::parse(url).map_err(|e| bad(&e.to_string()))?;
    target::check(&parsed, policy).map_err(refused)?;
    Ok(parsed)
}

fn refused(why: target::TargetError) -> ApiError {
    ApiError::TargetRefused(format!("url: {why}"))
}

/// [`valid_url`], then the name's addresses now; each delivery resolves it again and
/// connects only to the public ones.
async fn guarded(api: &Api, url: &str) -> Result<(), ApiError> {
    let policy = target::Policy::of(&api.webhooks);
    target::check_resolved(&valid_url(url, policy)?, policy).await.map_err(refused)
}

fn event_types(names: &[String]) -> Result<Vec<EventType>, ApiError> {
    if names.is_empty() {
        return Err(ApiError::Invalid("events: name at least one".into()));
    }
    names
        .iter()
        .map(|name| {
            EventType::parse(name).ok_or_else(|| {
                let known: Vec<&str> = EventType::ALL.iter().map(|t| t.name()).collect();
                ApiError::Invalid(format!("events: unknown type {name:?} (known: {})", known.join(", ")))
            })
        })
        .collect()
}

/// The caller's site's subscription `id` (admin scope), or 404.
async fn own_subscription(caller: &Caller, api: &Api, id: &str) -> Result<Subscription, ApiError> {
    let site = caller.key.site.clone();
    caller.require(&site, Scope::Admin)?;
    api.archive.subscription(&site, id).await?.ok_or(ApiError::NotFound("this site has no such subscription"))
}

/// Subscribes a URL to a site's events (admin scope); the answer holds the signing secret.
#[utoipa::path(
    operation_id = "create_webhook",
    tag = "webhooks",
    request_body = CreateSubscription,
    params(("Idempotency-Key" = Option<String>, Header, description = "Replays the stored answer for the same body")),
    responses(
        (status = 201, description = "The subscription, with its secret", body = CreatedSubscription),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 422, body = ErrorBody), (status = 429, body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[post("/v1/api/webhooks")]
pub async fn create(
    req: HttpRequest,
    caller: Caller,
    payload: web::Payload,
    api: web::Data<Api>,
) -> Result<HttpResponse, ApiError> {
    let bytes = body::read(&req, payload, api.settings.max_body_bytes).await?;
    let asked: CreateSubscription = body::json(&bytes)?;
    caller.require(&asked.site, Scope::Admin)?;
    let url = asked.url.trim();
    guarded(&api, url).await?;
    let events = event_types(&asked.events)?;
    let forget_secret = |value: &mut serde_json::Value| value["secret"] = serde_json::Value::Null;
    idempotent(&api, &caller, &req, &bytes, forget_secret, || async {
        let max = api.webhooks.max_subscriptions_per_site;
        let made = api.archive.create_subscription(&asked.site, url, &events, max).await?;
        let (subscription, secret) =
            made.ok_or_else(|| ApiError::Invalid(format!("site {:?} has {max} subscriptions already", asked.site)))?;
        let created = CreatedSubscription { subscription, secret: Some(secret) };
        Ok((StatusCode::CREATED, serde_json::to_value(created).unwrap_or_default()))
    })
    .await
}

/// A site's subscriptions, never their secrets (admin scope).
#[utoipa::path(
    operation_id = "list_webhooks",
    tag = "webhooks",
    params(SiteQuery),
    responses(
        (status = 200, body = SubscriptionList),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 429, body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[get("/v1/api/webhooks")]
pub async fn list(caller: Caller, query: web::Query<SiteQuery>, api: web::Data<Api>) -> Result<HttpResponse, ApiError> {
    caller.require(&query.site, Scope::Admin)?;
    Ok(HttpResponse::Ok().json(SubscriptionList { items: api.archive.subscriptions(&query.site).await? }))
}

/// Deletes a subscription with its deliveries, pending ones included (admin scope).
#[utoipa::path(
    operation_id = "delete_webhook",
    tag = "webhooks",
    params(("id" = String, Path, description = "The subscription's id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 429, body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[delete("/v1/api/webhooks/{id}")]
pub async fn remove(caller: Caller, path: web::Path<String>, api: web::Data<Api>) -> Result<HttpResponse, ApiError> {
    let site = caller.key.site.clone();
    caller.require(&site, Scope::Admin)?;
    match api.archive.delete_subscription(&site, &path).await? {
        true => Ok(HttpResponse::NoContent().finish()),
        false => Err(ApiError::NotFound("this site has no such subscription")),
    }
}

/// Changes a subscription's URL (checked by the SSRF guard as at creation) or its events
/// (admin scope).
#[utoipa::path(
    operation_id = "update_webhook",
    tag = "webhooks",
    request_body = UpdateSubscription,
    params(("id" = String, Path, description = "The subscription's id")),
    responses(
        (status = 200, description = "The subscription as it is now", body = Subscription),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 413, body = ErrorBody), (status = 429, body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[patch("/v1/api/webhooks/{id}")]
pub async fn update(
    req: HttpRequest,
    caller: Caller,
    path: web::Path<String>,
    payload: web::Payload,
    api: web::Data<Api>,
) -> Result<HttpResponse, ApiError> {
    let bytes = body::read(&req, payload, api.settings.max_body_bytes).await?;
    let asked: UpdateSubscription = body::json(&bytes)?;
    let subscription = own_subscription(&caller, &api, &path).await?;
    if asked.url.is_none() && asked.events.is_none() {
        return Err(ApiError::Invalid("give url, events or both".into()));
    }
    let url = asked.url.as_deref().map(str::trim);
    if let Some(url) = url {
        guarded(&api, url).await?;
    }
    let events = asked.events.as_deref().map(event_types).transpose()?;
    let updated = api.archive.update_subscription(&subscription.site, &subscription.id, url, events.as_deref()).await?;
    Ok(HttpResponse::Ok().json(updated.ok_or(ApiError::NotFound("this site has no such subscription"))?))
}

/// Issues a new signing secret (shown here only); for `webhooks.rotation_overlap_hours`
/// deliveries carry a signature with the old secret too (a second `v1=`), then only the
/// new one (admin scope).
#[utoipa::path(
    operation_id = "rotate_webhook_secret",
    tag = "webhooks",
    params(
        ("id" = String, Path, description = "The subscription's id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Replays the stored answer (without the secret)"),
    ),
    responses(
        (status = 200, description = "The subscription with its new secret", body = CreatedSubscription),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody), (status = 429, body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[post("/v1/api/webhooks/{id}/rotate")]
pub async fn rotate(
    req: HttpRequest,
    caller: Caller,
    path: web::Path<String>,
    payload: web::Payload,
    api: web::Data<Api>,
) -> Result<HttpResponse, ApiError> {
    let bytes = body::read(&req, payload, api.settings.max_body_bytes).await?;
    let subscription = own_subscription(&caller, &api, &path).await?;
    let forget_secret = |value: &mut serde_json::Value| value["secret"] = serde_json::Value::Null;
    idempotent(&api, &caller, &req, &bytes, forget_secret, || async {
        let overlap = api.webhooks.rotation_overlap();
        let rotated = api.archive.rotate_secret(&subscription.site, &subscription.id, overlap).await?;
        let (subscription, secret) = rotated.ok_or(ApiError::NotFound("this site has no such subscription"))?;
        let rotated = CreatedSubscription { subscription, secret: Some(secret) };
        Ok((StatusCode::OK, serde_json::to_value(rotated).unwrap_or_default()))
    })
    .await
}

/// A subscription's delivery log, newest first (admin scope).
#[utoipa::path(
    operation_id = "list_webhook_deliveries",
    tag = "webhooks",
    params(("id" = String, Path, description = "The subscription's id"), LogQuery),
    responses(
        (status = 200, body = DeliveryList),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 429, body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[get("/v1/api/webhooks/{id}/deliveries")]
pub async fn deliveries(
    caller: Caller,
    path: web::Path<String>,
    query: web::Query<LogQuery>,
    api: web::Data<Api>,
) -> Result<HttpResponse, ApiError> {
    let subscription = own_subscription(&caller, &api, &path).await?;
    let status = query.status.as_deref().filter(|s| !s.is_empty());
    if status.is_some_and(|s| !matches!(s, "pending" | "delivered" | "failed")) {
        return Err(ApiError::Invalid("status: pending, delivered or failed".into()));
    }
    let limit = query.limit.unwrap_or(MAX_LOG);
    if !(1..=MAX_LOG).contains(&limit) {
        return Err(ApiError::Invalid(format!("limit: 1 to {MAX_LOG}")));
    }
    let items = api.archive.webhook_deliveries(&subscription.id, status, limit).await?;
    Ok(HttpResponse::Ok().json(DeliveryList { items }))
}

/// One delivery with every attempt (admin scope).
#[utoipa::path(
    operation_id = "get_webhook_delivery",
    tag = "webhooks",
    params(
        ("id" = String, Path, description = "The subscription's id"),
        ("delivery_id" = String, Path, description = "The delivery's id"),
    ),
    responses(
        (status = 200, body = DeliveryView),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 429, body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[get("/v1/api/webhooks/{id}/deliveries/{delivery_id}")]
pub async fn delivery(
    caller: Caller,
    path: web::Path<(String, String)>,
    api: web::Data<Api>,
) -> Result<HttpResponse, ApiError> {
    let (id, delivery_id) = path.into_inner();
    let subscription = own_subscription(&caller, &api, &id).await?;
    let found = api.archive.webhook_delivery(&subscription.id, &delivery_id).await?;
    Ok(HttpResponse::Ok().json(found.ok_or(ApiError::NotFound("this subscription has no such delivery"))?))
}

/// Sends a delivery again now, with a fresh retry window; it keeps its place in its
/// conversation's order (admin scope).
#[utoipa::path(
    operation_id = "redeliver_webhook",
    tag = "webhooks",
    params(
        ("id" = String, Path, description = "The subscription's id"),
        ("delivery_id" = String, Path, description = "The delivery's id"),
    ),
    responses(
        (status = 202, description = "Queued again", body = DeliveryView),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 429, body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[post("/v1/api/webhooks/{id}/deliveries/{delivery_id}/redeliver")]
pub async fn redeliver(
    caller: Caller,
    path: web::Path<(String, String)>,
    api: web::Data<Api>,
) -> Result<HttpResponse, ApiError> {
    let (id, delivery_id) = path.into_inner();
    let subscription = own_subscription(&caller, &api, &id).await?;
    if !api.archive.redeliver_webhook(&subscription.id, &delivery_id).await? {
        return Err(ApiError::NotFound("this subscription has no such delivery"));
    }
    let found = api.archive.webhook_delivery(&subscription.id, &delivery_id).await?;
    Ok(HttpResponse::Accepted().json(found.ok_or(ApiError::NotFound("this subscription has no such delivery"))?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_guarded_urls_with_a_host_and_known_event_types_are_taken() {
        let strict = target::Policy { allow_http: false, allow_private: false };
        let open = target::Policy { allow_http: true, allow_private: true };
        assert!(valid_url("https://hooks.example.com/baton", strict).is_ok());
        assert!(valid_url("http://127.0.0.1:9000/in", open).is_ok());
        assert!(matches!(valid_url("http://127.0.0.1:9000/in", strict), Err(ApiError::TargetRefused(_))));
        assert!(matches!(valid_url("https://10.0.0.5/in", strict), Err(ApiError::TargetRefused(_))));
        for bad in ["ftp://example.com/x", "not a url", "https://", "file:///etc/passwd"] {
            assert!(valid_url(bad, open).is_err(), "{bad}");
        }
        assert!(valid_url(&format!("https://example.com/{}", "a".repeat(MAX_URL_CHARS)), open).is_err());
        let names = vec!["message.created".to_owned(), "csat.submitted".to_owned()];
        assert_eq!(event_types(&names).unwrap(), [EventType::MessageCreated, EventType::CsatSubmitted]);
        assert!(event_types(&[]).is_err());
        assert!(event_types(&["message.deleted".to_owned()]).is_err());
    }
}
