//! `GET /metrics`: the Prometheus text format, on the same listener as everything else. A
//! scrape is allowed from the addresses `metrics.allow` names (loopback by default), and, when
//! `metrics.token` is set, only with `Authorization: Bearer TOKEN` as well; anything else is
//! 403 (address) or 401 (token). With `metrics.enabled = false` the path is 404.

use actix_web::{HttpRequest, HttpResponse, get, web};
use metrics_exporter_prometheus::PrometheusHandle;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

use super::{Http, HttpError};
use crate::agents::gauges::Gauges;
use crate::config::MetricsSettings;
use crate::telemetry::metrics;

/// What `/metrics` needs: the recorder's handle, the figures read at scrape, and who may ask.
pub struct Scrape {
    pub handle: PrometheusHandle,
    pub gauges: Gauges,
    allow: Vec<ipnet::IpNet>,
    /// SHA-256 of the token: compared digest to digest, so the comparison's time says nothing
    /// of the token.
    token: Option<[u8; 32]>,
}

impl Scrape {
    pub fn new(settings: &MetricsSettings, handle: PrometheusHandle, gauges: Gauges) -> Scrape {
        let token = settings.token.as_ref().map(|t: &SecretString| digest(t.expose_secret()));
        Scrape { handle, gauges, allow: settings.allow.clone(), token }
    }
}

fn digest(text: &str) -> [u8; 32] {
    Sha256::digest(text.as_bytes()).into()
}

#[get("/metrics")]
pub async fn scrape(req: HttpRequest, http: web::Data<Http>) -> Result<HttpResponse, HttpError> {
    let Some(scrape) = &http.metrics else { return Err(HttpError::NoRoute) };
    let client = http.client_ip(&req);
    if !scrape.allow.iter().any(|net| net.contains(&client)) {
        tracing::info!(%client, "metrics scrape from an address not in metrics.allow");
        return Err(HttpError::Forbidden("this address may not read metrics (metrics.allow)"));
    }
    if let Some(expected) = &scrape.token {
        let given = super::bearer::token(&req).map(digest);
        if given.as_ref() != Some(expected) {
            return Err(HttpError::Unauthorized);
        }
    }
    let snapshot = scrape.gauges.snapshot().await;
    let body = metrics::render(&scrape.handle, snapshot);
    Ok(HttpResponse::Ok().content_type("text/plain; version=0.0.4; charset=utf-8").body(body))
}
