//! The owner's API under `/v1/api/` (docs/api.md): JSON over HTTP for a site's owner and
//! the console's admin pages, authenticated by per-site keys with scopes ([`auth`]),
//! limited per key, with bounded bodies and idempotent POSTs ([`body`]). Its OpenAPI
//! document is generated from these handlers ([`reference`]): [`services`] registers them,
//! and the same function, run on a throwaway app, collects the document, so a route cannot
//! be served without being documented.

pub mod actions;
pub mod agents;
pub mod auth;
pub mod body;
pub mod conversations;
pub mod keys;
pub mod knowledge;
pub mod reference;
pub mod reports;
pub mod sites;
pub mod visitors;
pub mod webhooks;

use std::sync::Arc;
use std::time::Duration;

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::agents::desk::Desk;
use crate::archive::ArchiveError;
use crate::archive::sql::SqlArchive;
use crate::changes::Changes;
use crate::config::ApiSettings;
use crate::config::webhooks::WebhookSettings;
use crate::conversation::Conversations;
use crate::session::AgentContext;
use crate::session::limits::KeyedLimiter;
use crate::sites::Sites;
use crate::store::Stores;
use crate::store::allowance::{Allowances, Bucket};

/// What the API's handlers share. A key's allowance is a token bucket in the live store
/// (`allowances`), so it holds across every node; `limiter`, this node's own bucket per key
/// (its own owner: a short-held mutex inside), turns a flood away before it costs a store
/// round trip and still limits per node while the store cannot answer.
pub struct Api {
    pub archive: Arc<SqlArchive>,
    pub sites: Sites,
    pub allowances: Arc<dyn Allowances>,
    pub limiter: KeyedLimiter<String>,
    pub settings: ApiSettings,
    /// The live side: agents' actions (the console's own) and the bot's.
    pub desk: Desk,
    pub conversations: Conversations,
    /// Set by [`Api::with_webhooks`]; the shipped defaults until then.
    pub webhooks: WebhookSettings,
    /// Where the owner's changes (agents, sites, pages) are stored and applied; set by
    /// [`Api::with_changes`].
    pub changes: Option<Changes>,
    /// What a visitor's export and erase reach besides the archive.
    pub privacy: Privacy,
}

/// The live side of a visitor's privacy requests ([`visitors`]): the live store's eraser,
/// its left messages, and the attachments (`None` until [`Api::with_attachments`]).
pub struct Privacy {
    pub erase: Arc<dyn crate::store::erase::Erase>,
    pub left: Arc<dyn crate::store::Handoff>,
    pub attachments: Option<crate::attachments::Attachments>,
}

impl Api {
    pub fn new(
        archive: Arc<SqlArchive>,
        sites: Sites,
        stores: &Stores,
        settings: ApiSettings,
        live: &AgentContext,
    ) -> Api {
        let limiter = KeyedLimiter::per_minute(settings.requests_per_minute, settings.burst, settings.tracked_keys);
        let allowances = stores.allowances.clone();
        let (desk, conversations) = (live.desk.clone(), live.conversations.clone());
        let webhooks = WebhookSettings::default();
        let privacy = Privacy { erase: stores.erase.clone(), left: stores.handoff.clone(), attachments: None };
        Api { archive, sites, allowances, limiter, settings, desk, conversations, webhooks, privacy, changes: None }
    }

    pub fn with_attachments(mut self, attachments: crate::attachments::Attachments) -> Api {
        self.privacy.attachments = Some(attachments);
        self
    }

    /// Takes one request from the key's allowance: this node's bucket first, then the one
    /// every node shares. A store that cannot answer leaves this node's verdict standing.
    pub async fn allow(&self, key_id: &str) -> bool {
        if !self.limiter.allow(&key_id.to_owned()) {
            return false;
        }
        let bucket = Bucket {
            key: format!("api:key:{key_id}"),
            rate: f64::from(self.settings.requests_per_minute) / 60.0,
            burst: self.settings.burst,
        };
        match self.allowances.take(std::slice::from_ref(&bucket)).await {
            Ok(taken) => taken,
            Err(error) => {
                tracing::warn!(%error, "shared API allowances unavailable; counting this node's only");
                true
            }
        }
    }

    pub fn with_webhooks(mut self, webhooks: WebhookSettings) -> Api {
        self.webhooks = webhooks;
        self
    }

    pub fn with_changes(mut self, changes: Changes) -> Api {
        self.changes = Some(changes);
        self
    }

    /// The owner's changes (503 where they are not wired, which the server always does).
    pub fn changes(&self) -> Result<&Changes, ApiError> {
        self.changes.as_ref().ok_or_else(|| ApiError::Unavailable("owner changes are not configured".into()))
    }

    /// How long a refused client should wait for one more token.
    fn retry_after(&self) -> Duration {
        Duration::from_secs(60u64.div_ceil(u64::from(self.settings.requests_per_minute.max(1))))
    }
}

/// Every endpoint of the API; also what [`reference::document`] collects the document from.
pub fn services(config: &mut ServiceConfig) {
    config
        .service(reference::openapi_json)
        .service(reference::reference_page)
        .service(keys::create)
        .service(keys::list)
        .service(keys::revoke)
        .service(conversations::list)
        .service(conversations::get)
        .service(actions::send_message)
        .service(actions::add_note)
        .service(actions::transfer)
        .service(actions::resolve)
        .service(actions::reopen)
        .service(reports::get)
        .configure(visitors::services)
        .service(knowledge::list)
        .service(knowledge::put)
        .service(knowledge::remove)
        .configure(agents::services)
        .service(sites::get)
        .service(sites::patch)
        .configure(webhooks::services);
}

/// Every refusal of the API, as `{"error": CODE, "message": TEXT}` with its status.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("a valid API key is required (Authorization: Bearer KEY)")]
    Unauthorized,
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(&'static str),
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Unsupported(String),
    #[error("the request body is larger than {0} bytes")]
    TooLarge(usize),
    #[error("too many requests for this key: retry after {} s", .0.as_secs())]
    RateLimited(Duration),
    #[error("{0}")]
    Conflict(String),
    #[error("this Idempotency-Key was used with a different body")]
    IdempotencyMismatch,
    #[error("temporarily unavailable: {0}")]
    Unavailable(String),
    /// A webhook URL the SSRF guard refuses (`crate::webhooks::target`).
    #[error("{0}")]
    TargetRefused(String),
}

impl From<crate::store::StoreError> for ApiError {
    fn from(error: crate::store::StoreError) -> ApiError {
        match error {
            crate::store::StoreError::NotFound => ApiError::NotFound("no such live conversation on this site"),
            other => ApiError::Unavailable(other.to_string()),
        }
    }
}

impl From<ArchiveError> for ApiError {
    fn from(error: ArchiveError) -> ApiError {
        ApiError::Unavailable(error.to_string())
    }
}

/// The error body (documented once, used by every endpoint).
#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// `unauthorized`, `forbidden`, `not_found`, `invalid_request`, `unsupported_media_type`,
    /// `too_large`, `rate_limited`, `conflict`, `idempotency_mismatch`, `unavailable` or
    /// `target_not_allowed` (a webhook URL to a non-public address or scheme).
    pub error: String,
    pub message: String,
}

impl ApiError {
    fn code(&self) -> &'static str {
        match self {
            ApiError::Unauthorized => "unauthorized",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::NotFound(_) => "not_found",
            ApiError::Invalid(_) => "invalid_request",
            ApiError::Unsupported(_) => "unsupported_media_type",
            ApiError::TooLarge(_) => "too_large",
            ApiError::RateLimited(_) => "rate_limited",
            ApiError::Conflict(_) => "conflict",
            ApiError::IdempotencyMismatch => "idempotency_mismatch",
            ApiError::Unavailable(_) => "unavailable",
            ApiError::TargetRefused(_) => "target_not_allowed",
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Invalid(_) => StatusCode::BAD_REQUEST,
            ApiError::Unsupported(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::RateLimited(_) => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::IdempotencyMismatch => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::TargetRefused(_) => StatusCode::BAD_REQUEST,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status_code());
        match self {
            ApiError::RateLimited(wait) => {
                response.insert_header((header::RETRY_AFTER, wait.as_secs().max(1).to_string()));
            }
            ApiError::Unauthorized => {
                response.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
            }
            _ => {}
        }
        response.json(ErrorBody { error: self.code().to_owned(), message: self.to_string() })
    }
}
