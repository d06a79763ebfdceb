//! `/v1/api/conversations`: a site's archived conversations, listed newest first in pages
//! (`next_cursor` continues where a page ended), and one with its events as they went on
//! the wire (notes included). A conversation of another site is not found.

use actix_web::{HttpResponse, get, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::auth::Caller;
use super::{Api, ApiError, ErrorBody};
use crate::archive::keys::Scope;
use crate::archive::listing::ListFilter;
use crate::archive::{Archive, ArchivedConversation, Cursor};
use crate::protocol::ConversationId;

/// Conversations per page unless `limit` says fewer; also the most a page holds.
const MAX_PAGE: usize = 100;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// The site whose conversations to list (the key's own).
    pub site: String,
    /// Only conversations in this state (`bot`, `queued`, `assigned`, `resolved`, …).
    pub state: Option<String>,
    /// Only conversations started at or after this (RFC 3339).
    pub since: Option<DateTime<Utc>>,
    /// Only conversations started before this (RFC 3339).
    pub until: Option<DateTime<Utc>>,
    /// The previous page's `next_cursor`.
    pub cursor: Option<String>,
    /// Conversations per page, 1 to 100 (default 100).
    pub limit: Option<usize>,
}

/// A conversation without its events.
#[derive(Serialize, ToSchema)]
pub struct ConversationSummary {
    #[schema(value_type = String, format = Uuid)]
    pub conversation_id: ConversationId,
    pub site: String,
    pub state: String,
    pub started_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub last_seq: u64,
    /// What the visitor's `hello` said about them.
    #[schema(value_type = Object)]
    pub visitor: serde_json::Value,
    /// The address the visitor left, if any.
    pub email: Option<String>,
    pub user_id: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ConversationPage {
    pub items: Vec<ConversationSummary>,
    /// Pass as `cursor` for the next page; null on the last.
    pub next_cursor: Option<String>,
}

/// A conversation with its records and every event as on the wire.
#[derive(Serialize, ToSchema)]
pub struct ConversationDetail {
    #[serde(flatten)]
    pub summary: ConversationSummary,
    /// Escalation with its signals, rating, summary, … by field name.
    #[schema(value_type = Object)]
    pub records: serde_json::Value,
    #[schema(value_type = Object)]
    pub counters: serde_json::Value,
    /// Events in `seq` order, exactly as sent on the sockets (notes included).
    #[schema(value_type = Vec<Object>)]
    pub events: Vec<serde_json::Value>,
}

impl From<ArchivedConversation> for ConversationDetail {
    fn from(c: ArchivedConversation) -> ConversationDetail {
        let summary = ConversationSummary {
            conversation_id: c.conversation_id,
            site: c.site,
            state: c.state,
            started_at: c.started_at,
            updated_at: c.updated_at,
            last_seq: c.last_seq,
            visitor: c.visitor,
            email: c.email,
            user_id: c.user_id,
        };
        ConversationDetail { summary, records: c.records, counters: c.counters, events: c.events }
    }
}

fn encode_cursor(cursor: &Cursor) -> String {
    format!("{}_{}", cursor.started_at.timestamp_millis(), cursor.id)
}

fn decode_cursor(text: &str) -> Result<Cursor, ApiError> {
    let bad = || ApiError::Invalid("cursor: not a cursor this API gave".into());
    let (ms, id) = text.split_once('_').ok_or_else(bad)?;
    let started_at = DateTime::from_timestamp_millis(ms.parse().map_err(|_| bad())?).ok_or_else(bad)?;
    Ok(Cursor { started_at, id: ConversationId(uuid::Uuid::parse_str(id).map_err(|_| bad())?) })
}

/// A page of a site's conversations, newest first (read scope).
#[utoipa::path(
    operation_id = "list_conversations",
    tag = "conversations",
    params(ListQuery),
    responses(
        (status = 200, body = ConversationPage),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 429, body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[get("/v1/api/conversations")]
pub async fn list(caller: Caller, query: web::Query<ListQuery>, api: web::Data<Api>) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    caller.require(&query.site, Scope::Read)?;
    let filter =
        ListFilter { site: query.site, state: query.state, since: query.since, until: query.until, visitor: None };
    Ok(HttpResponse::Ok().json(page(&api, &filter, query.cursor.as_deref(), query.limit).await?))
}

/// One page of `filter`'s conversations, `limit` (1 to 100, default 100) after `cursor`:
/// this list's and a visitor's ([`super::visitors`]).
pub(super) async fn page(
    api: &Api,
    filter: &ListFilter,
    cursor: Option<&str>,
    limit: Option<usize>,
) -> Result<ConversationPage, ApiError> {
    let limit = limit.unwrap_or(MAX_PAGE);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(ApiError::Invalid(format!("limit: 1 to {MAX_PAGE}")));
    }
    let cursor = cursor.map(decode_cursor).transpose()?;
    let page = api.archive.list(filter, cursor.as_ref(), limit).await?;
    let next_cursor = (page.len() == limit).then(|| page.last().map(|c| encode_cursor(&c.cursor()))).flatten();
    let items = page.into_iter().map(|c| ConversationDetail::from(c).summary).collect();
    Ok(ConversationPage { items, next_cursor })
}

/// One conversation with its events (read scope; only the key's own site's).
#[utoipa::path(
    operation_id = "get_conversation",
    tag = "conversations",
    params(("id" = String, Path, description = "The conversation's id")),
    responses(
        (status = 200, body = ConversationDetail),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 429, body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[get("/v1/api/conversations/{id}")]
pub async fn get(caller: Caller, path: web::Path<String>, api: web::Data<Api>) -> Result<HttpResponse, ApiError> {
    let site = caller.key.site.clone();
    caller.require(&site, Scope::Read)?;
    let not_found = ApiError::NotFound("no such conversation on this site");
    let Ok(id) = uuid::Uuid::parse_str(&path) else { return Err(not_found) };
    match api.archive.conversation(ConversationId(id)).await? {
        Some(conversation) if conversation.site == site => {
            Ok(HttpResponse::Ok().json(ConversationDetail::from(conversation)))
        }
        _ => Err(not_found),
    }
}
