//! The console's Webhooks page, for agents with the admin role (`Authorization: Bearer
//! TOKEN`, the agent's token, as the Reports page): the same archive calls and the same
//! views as the owner API's `/v1/api/webhooks` endpoints, over the admin's sites.
//! - `GET /v1/agent/webhooks[?site=]`: the subscriptions of the admin's sites (or of one),
//!   each with its newest deliveries: status, attempts, next retry, last error;
//! - `POST /v1/agent/webhooks/{id}/deliveries/{delivery_id}/redeliver`: sends one again now
//!   (with a fresh retry window), as `POST /v1/api/webhooks/{id}/deliveries/{delivery_id}/redeliver`.
//!
//! A subscription of a site the admin does not serve is not found.

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use serde::{Deserialize, Serialize};

use super::archive::{admin, admin_sites, admin_sites_asked, unavailable};
use super::{Http, HttpError};
use crate::archive::webhooks::Subscription;
use crate::archive::webhooks::outbox::DeliveryView;

/// Deliveries the page shows per subscription, newest first.
pub const SHOWN_DELIVERIES: usize = 20;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PageParams {
    site: Option<String>,
}

/// A subscription as the page shows it.
#[derive(Serialize)]
pub struct SubscriptionLog {
    #[serde(flatten)]
    pub subscription: Subscription,
    pub deliveries: Vec<DeliveryView>,
}

#[get("/v1/agent/webhooks")]
pub async fn page(
    req: HttpRequest,
    params: web::Query<PageParams>,
    http: web::Data<Http>,
) -> Result<HttpResponse, HttpError> {
    let admin = admin(&http, &req)?;
    let sites = admin_sites_asked(&http, &admin, params.into_inner().site)?;
    let mut items = Vec::new();
    for site in &sites {
        for subscription in http.archive.subscriptions(site).await.map_err(unavailable)? {
            let deliveries =
                http.archive.webhook_deliveries(&subscription.id, None, SHOWN_DELIVERIES).await.map_err(unavailable)?;
            items.push(SubscriptionLog { subscription, deliveries });
        }
    }
    Ok(HttpResponse::Ok().json(serde_json::json!({ "items": items })))
}

#[post("/v1/agent/webhooks/{id}/deliveries/{delivery_id}/redeliver")]
pub async fn redeliver(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    http: web::Data<Http>,
) -> Result<HttpResponse, HttpError> {
    let admin = admin(&http, &req)?;
    let (id, delivery_id) = path.into_inner();
    let mut found = None;
    for site in admin_sites(&http, &admin) {
        if let Some(subscription) = http.archive.subscription(&site, &id).await.map_err(unavailable)? {
            found = Some(subscription);
            break;
        }
    }
    let subscription = found.ok_or(HttpError::NotFound)?;
    if !http.archive.redeliver_webhook(&subscription.id, &delivery_id).await.map_err(unavailable)? {
        return Err(HttpError::NotFound);
    }
    tracing::info!(agent = %admin.id, subscription = %subscription.id, delivery = %delivery_id, "webhook redelivered");
    let delivery = http.archive.webhook_delivery(&subscription.id, &delivery_id).await.map_err(unavailable)?;
    Ok(HttpResponse::Accepted().json(delivery.ok_or(HttpError::NotFound)?))
}
