//! Transport: HTTP routes, the socket upgrade path and the embedded browser code. It knows
//! requests, frames and sockets; what a socket does is the sessions' ([`crate::session`]).

pub mod assets;
pub mod metrics;
pub mod routes;
pub mod transport;

use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};

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
    #[error("{0}")]
    Forbidden(&'static str),
    #[error("missing or wrong bearer token")]
    Unauthorized,
}

impl ResponseError for HttpError {
    fn status_code(&self) -> StatusCode {
        match self {
            HttpError::UnknownSite => StatusCode::NOT_FOUND,
            HttpError::ForbiddenOrigin => StatusCode::FORBIDDEN,
            HttpError::Upgrade(_) | HttpError::BadRequest(_) => StatusCode::BAD_REQUEST,
            HttpError::NoRoute => StatusCode::NOT_FOUND,
            HttpError::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            HttpError::Forbidden(_) => StatusCode::FORBIDDEN,
            HttpError::Unauthorized => StatusCode::UNAUTHORIZED,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let code = match self {
            HttpError::UnknownSite | HttpError::NoRoute => "not_found",
            HttpError::ForbiddenOrigin | HttpError::Forbidden(_) => "forbidden",
            HttpError::Unauthorized => "unauthorized",
            HttpError::Upgrade(_) | HttpError::BadRequest(_) => "invalid_frame",
            HttpError::RateLimited => "rate_limited",
        };
        HttpResponse::build(self.status_code()).json(serde_json::json!({ "error": code, "message": self.to_string() }))
    }
}
