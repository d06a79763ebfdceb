//! `/v1/api/visitors`: one site's visitor, named by the site's `user_id` or by the email they
//! left or gave: who they are (the identity the site's page gave, verified or not), their
//! conversations (paged like the conversations list), everything Baton holds about them
//! (the privacy export `baton privacy export` prints) and erasing it (the erase `baton
//! privacy erase` runs: live store, attachments and archive, audited).
//!
//! Always on the key's own site: another site's visitor with the same email or user id is
//! another site's person, and none of their data is read, exported or erased here. Reading
//! needs the read scope; export and erase, admin.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::auth::Caller;
use super::body::{self, idempotent, keep_all};
use super::conversations::{ConversationPage, page};
use super::{Api, ApiError, ErrorBody};
use crate::archive::erasure::{EraseReport, Within};
use crate::archive::keys::Scope;
use crate::archive::listing::ListFilter;
use crate::archive::privacy::{PrivacyExport, Subject};

/// The longest email or user id taken (both are stored by the site's page, bounded there).
const MAX_NAME_CHARS: usize = 320;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WhoQuery {
    /// The key's site.
    pub site: String,
    /// The site's id for the visitor (`hello.visitor.user_id`) …
    pub user_id: Option<String>,
    /// … or the email they left or gave: exactly one of the two.
    pub email: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct VisitorPageQuery {
    /// The key's site.
    pub site: String,
    /// The site's id for the visitor …
    pub user_id: Option<String>,
    /// … or the email they left or gave: exactly one of the two.
    pub email: Option<String>,
    /// The previous page's `next_cursor`.
    pub cursor: Option<String>,
    /// Conversations per page, 1 to 100 (default 100).
    pub limit: Option<usize>,
}

/// Who a privacy request is about, on the key's site.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VisitorRequest {
    pub site: String,
    /// The site's id for the visitor …
    pub user_id: Option<String>,
    /// … or the email they left or gave: exactly one of the two.
    pub email: Option<String>,
}

/// The identity the site's page gave (`hello.visitor` or `identify`).
#[derive(Serialize, ToSchema)]
pub struct IdentityView {
    pub user_id: Option<String>,
    pub name: Option<String>,
    pub email: Option<String>,
    /// Whether `user_hash` matched the site's `identity_secret`.
    pub verified: bool,
    /// When the page gave it.
    pub at: DateTime<Utc>,
}

/// One site's visitor.
#[derive(Serialize, ToSchema)]
pub struct VisitorView {
    pub site: String,
    /// How they were asked for: `{"user_id": …}` or `{"email": …}`.
    #[schema(value_type = Object)]
    pub subject: serde_json::Value,
    /// Their newest identity record; null when the site's page never named them.
    pub identity: Option<IdentityView>,
    /// Their conversations on this site (archived).
    pub conversations: u64,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
}

/// The visitor endpoints, registered by [`super::services`].
pub fn services(config: &mut utoipa_actix_web::service_config::ServiceConfig) {
    config.service(identity).service(conversations).service(export).service(erase);
}

/// Exactly one of `user_id` and `email`, not blank, not too long.
fn subject(user_id: Option<&str>, email: Option<&str>) -> Result<Subject, ApiError> {
    let given = |value: Option<&str>| value.map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned);
    let subject = match (given(user_id), given(email)) {
        (Some(user_id), None) => Subject::UserId(user_id),
        (None, Some(email)) => Subject::Email(email),
        _ => return Err(ApiError::Invalid("give exactly one of user_id and email".into())),
    };
    let (Subject::UserId(value) | Subject::Email(value)) = &subject;
    if value.chars().count() > MAX_NAME_CHARS {
        return Err(ApiError::Invalid(format!("user_id or email: at most {MAX_NAME_CHARS} characters")));
    }
    Ok(subject)
}

/// Who an API key is in the audit log.
fn actor(caller: &Caller) -> String {
    format!("api:{}", caller.key.id)
}

/// A site's visitor: their identity and how many conversations they had (read scope).
#[utoipa::path(
    operation_id = "get_visitor",
    tag = "visitors",
    params(WhoQuery),
    responses(
        (status = 200, body = VisitorView),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 429, body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[get("/v1/api/visitors")]
pub async fn identity(
    caller: Caller,
    query: web::Query<WhoQuery>,
    api: web::Data<Api>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&query.site, Scope::Read)?;
    let subject = subject(query.user_id.as_deref(), query.email.as_deref())?;
    let found = api.archive.visitor(&query.site, &subject).await?;
    let record = found.ok_or(ApiError::NotFound("this site has no such visitor"))?;
    let identity = record.identity.map(|i| IdentityView {
        user_id: i.user_id,
        name: i.name,
        email: i.email,
        verified: i.verified,
        at: i.at,
    });
    Ok(HttpResponse::Ok().json(VisitorView {
        site: record.site,
        subject: subject.to_json(),
        identity,
        conversations: record.conversations,
        first_seen: record.first_seen,
        last_seen: record.last_seen,
    }))
}

/// A page of a visitor's conversations on the site, newest first (read scope).
#[utoipa::path(
    operation_id = "list_visitor_conversations",
    tag = "visitors",
    params(VisitorPageQuery),
    responses(
        (status = 200, body = ConversationPage),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 429, body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[get("/v1/api/visitors/conversations")]
pub async fn conversations(
    caller: Caller,
    query: web::Query<VisitorPageQuery>,
    api: web::Data<Api>,
) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    caller.require(&query.site, Scope::Read)?;
    let visitor = Some(subject(query.user_id.as_deref(), query.email.as_deref())?);
    let filter = ListFilter { site: query.site, state: None, since: None, until: None, visitor };
    Ok(HttpResponse::Ok().json(page(&api, &filter, query.cursor.as_deref(), query.limit).await?))
}

/// Reads a privacy request's body: the visitor, on a site the key has admin scope for.
async fn privacy_request(
    req: &HttpRequest,
    caller: &Caller,
    payload: web::Payload,
    api: &Api,
) -> Result<(bytes::Bytes, VisitorRequest, Subject), ApiError> {
    let bytes = body::read(req, payload, api.settings.max_body_bytes).await?;
    let asked: VisitorRequest = body::json(&bytes)?;
    caller.require(&asked.site, Scope::Admin)?;
    let subject = subject(asked.user_id.as_deref(), asked.email.as_deref())?;
    Ok((bytes, asked, subject))
}

/// Everything Baton holds about a site's visitor: their archived conversations with every
/// event, and the messages they left (admin scope; recorded in the audit log). Not replayed
/// by `Idempotency-Key`: a copy of the export is kept nowhere.
#[utoipa::path(
    operation_id = "export_visitor",
    tag = "visitors",
    request_body = VisitorRequest,
    responses(
        (status = 200, body = PrivacyExport),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 429, body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[post("/v1/api/visitors/export")]
pub async fn export(
    req: HttpRequest,
    caller: Caller,
    payload: web::Payload,
    api: web::Data<Api>,
) -> Result<HttpResponse, ApiError> {
    let (_, asked, subject) = privacy_request(&req, &caller, payload, &api).await?;
    let left = match &subject {
        Subject::Email(_) => api.privacy.left.left_messages().await?,
        Subject::UserId(_) => Vec::new(),
    };
    let held = api.archive.privacy_export(&subject, Some(&asked.site), left, &actor(&caller)).await?;
    Ok(HttpResponse::Ok().json(held))
}

/// Erases a site's visitor from the live store, the attachments and the archive, and
/// records it in the audit log with its counts (admin scope). The same visitor on another
/// site stays.
#[utoipa::path(
    operation_id = "erase_visitor",
    tag = "visitors",
    request_body = VisitorRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Replays the stored answer for the same body")),
    responses(
        (status = 200, description = "What was erased, by place", body = EraseReport),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 422, body = ErrorBody), (status = 429, body = ErrorBody),
        (status = 503, body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[post("/v1/api/visitors/erase")]
pub async fn erase(
    req: HttpRequest,
    caller: Caller,
    payload: web::Payload,
    api: web::Data<Api>,
) -> Result<HttpResponse, ApiError> {
    let (bytes, asked, subject) = privacy_request(&req, &caller, payload, &api).await?;
    idempotent(&api, &caller, &req, &bytes, keep_all, || async {
        let report = crate::archive::erasure::erase(
            &api.archive,
            Some(&*api.privacy.erase),
            Within::Site(&asked.site),
            api.privacy.attachments.as_ref(),
            &subject,
            &actor(&caller),
        )
        .await
        .map_err(|error| {
            tracing::warn!(%error, "visitor erase failed");
            ApiError::Unavailable(error.to_string())
        })?;
        Ok((StatusCode::OK, serde_json::to_value(report).unwrap_or_default()))
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_visitor_is_named_by_exactly_one_of_user_id_and_email() {
        assert_eq!(subject(Some("u-1"), None).unwrap(), Subject::UserId("u-1".into()));
        assert_eq!(subject(None, Some(" a@b.c ")).unwrap(), Subject::Email("a@b.c".into()));
        assert_eq!(subject(Some(" "), Some("a@b.c")).unwrap(), Subject::Email("a@b.c".into()), "blank is absent");
        for (user_id, email) in [(None, None), (Some("u-1"), Some("a@b.c")), (Some(""), Some(" "))] {
            assert!(subject(user_id, email).is_err(), "{user_id:?} {email:?}");
        }
        assert!(subject(Some(&"u".repeat(MAX_NAME_CHARS + 1)), None).is_err());
    }
}
