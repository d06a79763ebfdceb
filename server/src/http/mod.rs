//! Transport: HTTP routes, the socket upgrade path and the embedded browser code. It knows
//! requests, frames and sockets; what a socket does is the sessions' ([`crate::session`]).

pub mod assets;
pub mod reports;
pub mod routes;
pub mod transport;

use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};

use crate::archive::Archive;
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
    /// The durable record: the Reports page's numbers.
    pub archive: Arc<dyn Archive>,
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
    #[error("a valid agent token is needed (Authorization: Bearer TOKEN)")]
    Unauthorized,
    #[error("{0}")]
    Forbidden(&'static str),
    #[error("the archive is unavailable: {0}")]
    Unavailable(String),
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
            HttpError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let code = match self {
            HttpError::UnknownSite | HttpError::NoRoute => "not_found",
            HttpError::ForbiddenOrigin | HttpError::Forbidden(_) => "forbidden",
            HttpError::Unauthorized => "unauthorized",
            HttpError::Unavailable(_) => "unavailable",
            HttpError::Upgrade(_) | HttpError::BadRequest(_) => "invalid_frame",
            HttpError::RateLimited => "rate_limited",
        };
        HttpResponse::build(self.status_code()).json(serde_json::json!({ "error": code, "message": self.to_string() }))
    }
}
