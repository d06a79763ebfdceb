//! Transport: HTTP routes, the socket upgrade path and the embedded browser code. It knows
//! requests, frames and sockets; what a socket does is the sessions' ([`crate::session`]).

pub mod assets;
pub mod routes;
pub mod transport;

use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};

use crate::session::{AgentContext, VisitorContext};
use crate::sites::Sites;

/// What the routes share: the sites served and the sessions' contexts.
pub struct Http {
    pub sites: Sites,
    pub visitor: Arc<VisitorContext>,
    pub agent: Arc<AgentContext>,
}

#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("unknown site")]
    UnknownSite,
    #[error("this origin may not open a chat on this site")]
    ForbiddenOrigin,
    #[error("could not open the socket: {0}")]
    Upgrade(String),
}

impl ResponseError for HttpError {
    fn status_code(&self) -> StatusCode {
        match self {
            HttpError::UnknownSite => StatusCode::NOT_FOUND,
            HttpError::ForbiddenOrigin => StatusCode::FORBIDDEN,
            HttpError::Upgrade(_) => StatusCode::BAD_REQUEST,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let code = match self {
            HttpError::UnknownSite => "not_found",
            HttpError::ForbiddenOrigin => "forbidden",
            HttpError::Upgrade(_) => "invalid_frame",
        };
        HttpResponse::build(self.status_code()).json(serde_json::json!({ "error": code, "message": self.to_string() }))
    }
}
