//! Transport: HTTP routes, the socket upgrade path and the embedded browser code. It knows
//! requests, frames and sockets; what a socket does is the sessions' ([`crate::session`]).

pub mod api;
pub mod archive;
pub mod assets;
pub mod bearer;
pub mod keys;
pub mod metrics;
pub mod reports;
pub mod resume;
pub mod routes;
pub mod takeover;
pub mod transport;
pub mod uploads;
pub mod webhooks;

use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};

use crate::attachments::AttachmentError;
use crate::config::OriginPattern;
use crate::session::{AgentContext, VisitorContext};
use crate::sites::Sites;

/// What the routes share: the sites served and the sessions' contexts.
pub struct Http {
    pub sites: Sites,
    pub visitor: Arc<VisitorContext>,
    pub agent: Arc<AgentContext>,
    /// Browser origins besides Baton's own that may open an agent socket.
    pub agent_origins: Vec<OriginPattern>,
    /// The archive (search, transcripts, audit log, erasure) and the live store's eraser.
    pub archive: Arc<crate::archive::sql::SqlArchive>,
    pub erase: Arc<dyn crate::store::erase::Erase>,
    /// `None`: `/metrics` is off (`metrics.enabled = false`).
    pub metrics: Option<metrics::Scrape>,
}

#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("unknown site")]
    UnknownSite,
    #[error("this origin may not open a chat on this site")]
    ForbiddenOrigin,
    #[error("could not open the socket: {0}")]
    Upgrade(String),
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error("no such endpoint")]
    NoRoute,
    #[error("too many requests from this address: retry later")]
    RateLimited,
    #[error("a valid token is required")]
    Unauthorized,
    #[error("{0}")]
    Forbidden(&'static str),
    #[error("{0}")]
    Conflict(&'static str),
    #[error("temporarily unavailable: {0}")]
    Unavailable(String),
    #[error(transparent)]
    Attachment(#[from] AttachmentError),
    #[error("no such conversation")]
    NotFound,
    /// Not found, saying what was looked for.
    #[error("{0}")]
    Missing(&'static str),
}

impl ResponseError for HttpError {
    fn status_code(&self) -> StatusCode {
        match self {
            HttpError::UnknownSite => StatusCode::NOT_FOUND,
            HttpError::ForbiddenOrigin => StatusCode::FORBIDDEN,
            HttpError::Upgrade(_) | HttpError::BadRequest(_) => StatusCode::BAD_REQUEST,
            HttpError::NoRoute => StatusCode::NOT_FOUND,
            HttpError::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            HttpError::Unauthorized => StatusCode::UNAUTHORIZED,
            HttpError::Forbidden(_) => StatusCode::FORBIDDEN,
            HttpError::NotFound | HttpError::Missing(_) => StatusCode::NOT_FOUND,
            HttpError::Conflict(_) => StatusCode::CONFLICT,
            HttpError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            HttpError::Attachment(error) => match error {
                AttachmentError::Disabled => StatusCode::FORBIDDEN,
                AttachmentError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
                AttachmentError::Refused(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
                AttachmentError::NotFound => StatusCode::NOT_FOUND,
                AttachmentError::Busy | AttachmentError::Store(_) => StatusCode::SERVICE_UNAVAILABLE,
            },
        }
    }

    fn error_response(&self) -> HttpResponse {
        let code = match self {
            HttpError::UnknownSite | HttpError::NoRoute | HttpError::NotFound | HttpError::Missing(_) => "not_found",
            HttpError::ForbiddenOrigin => "forbidden",
            HttpError::Upgrade(_) | HttpError::BadRequest(_) => "invalid_frame",
            HttpError::RateLimited => "rate_limited",
            HttpError::Unauthorized => "unauthorized",
            HttpError::Forbidden(_) | HttpError::Attachment(AttachmentError::Disabled) => "forbidden",
            HttpError::Conflict(_) => "conflict",
            HttpError::Attachment(AttachmentError::TooLarge { .. }) => "too_large",
            HttpError::Attachment(AttachmentError::Refused(_)) => "unsupported_type",
            HttpError::Attachment(AttachmentError::NotFound) => "not_found",
            HttpError::Unavailable(_) | HttpError::Attachment(AttachmentError::Busy | AttachmentError::Store(_)) => {
                "unavailable"
            }
        };
        HttpResponse::build(self.status_code()).json(serde_json::json!({ "error": code, "message": self.to_string() }))
    }
}
