//! Who is calling: the key in `Authorization: Bearer KEY`, looked up by its hash, then its
//! allowance taken (shared by every node, [`Api::allow`]). A missing, unknown or revoked
//! key is 401; [`Caller::require`] makes a wrong scope or another site's data 403.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};

use super::{Api, ApiError};
use crate::archive::keys::{ApiKey, Scope};

/// An authenticated request's key.
pub struct Caller {
    pub key: ApiKey,
}

impl Caller {
    /// The key is `site`'s and has at least `scope`.
    pub fn require(&self, site: &str, scope: Scope) -> Result<(), ApiError> {
        if self.key.site != site {
            return Err(ApiError::Forbidden(format!("this key is not for site {site:?}")));
        }
        if self.key.scope < scope {
            return Err(ApiError::Forbidden(format!("this needs the {} scope", scope.as_str())));
        }
        Ok(())
    }
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Caller, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let api = req.app_data::<web::Data<Api>>().cloned();
        let secret = crate::http::bearer::token(req).map(str::to_owned);
        Box::pin(async move {
            let api = api.ok_or_else(|| ApiError::Unavailable("the API is not configured".into()))?;
            let secret = secret.ok_or(ApiError::Unauthorized)?;
            let key = api.archive.key_by_secret(&secret).await?.ok_or(ApiError::Unauthorized)?;
            if !api.allow(&key.id).await {
                return Err(ApiError::RateLimited(api.retry_after()));
            }
            Ok(Caller { key })
        })
    }
}
