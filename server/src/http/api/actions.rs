//! Acting on a live conversation (write scope): send a message as an agent or as the bot,
//! add a note, transfer, resolve, reopen. An agent's actions go through the desk, the same
//! calls the console's socket makes, so the same rules hold (the agent must hold the chat)
//! and every socket following it, on any node, sees the result live. A conversation the
//! live store does not have, or of another site, is 404; a move its state does not allow,
//! 409 (`conflict`).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, post, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::auth::Caller;
use super::body::{self, idempotent, keep_all};
use super::{Api, ApiError, ErrorBody};
use crate::agents::desk::DeskError;
use crate::archive::audit::AuditEntry;
use crate::archive::keys::Scope;
use crate::config::AgentConfig;
use crate::conversation::owner::OwnerOutcome;
use crate::protocol::agent::TransferTo;
use crate::protocol::{ClientId, ConversationId, Text};
use crate::sites::Site;

/// Who writes a message.
#[derive(Deserialize, ToSchema, Clone, Copy, PartialEq)]
#[serde(rename_all = "snake_case")]
pub enum Sender {
    /// The agent named by `agent`, who must hold the chat.
    Agent,
    /// The site's bot, while the bot has the chat or it waits for a person.
    Bot,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SendMessage {
    pub from: Sender,
    /// The agent's id (`[[agents]] id`); only with `"from": "agent"`.
    pub agent: Option<String>,
    pub text: String,
    /// A repeat with the same `client_id` is stored once (the first one's `seq` is answered).
    pub client_id: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddNote {
    /// The agent holding the chat, who signs the note.
    pub agent: String,
    pub text: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Transfer {
    /// The agent holding the chat.
    pub agent: String,
    /// To this agent (who must be able to take it now) …
    pub to_agent: Option<String>,
    /// … or back to this team's queue: exactly one of the two.
    pub to_team: Option<String>,
    /// A note for the next one.
    pub note: Option<String>,
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct Resolve {
    /// The agent holding the chat; absent: whoever holds it, or, when no person does (the
    /// bot has it, or it waits in the queue), the owner closes it.
    pub agent: Option<String>,
}

/// What an action did.
#[derive(Serialize, ToSchema)]
pub struct Acted {
    #[schema(value_type = String, format = Uuid)]
    pub conversation_id: ConversationId,
    /// The stored message's number, when the action stored one the answer can name.
    pub seq: Option<u64>,
}

fn text(raw: String, field: &str) -> Result<Text, ApiError> {
    Text::parse(raw).map_err(|error| ApiError::Invalid(format!("{field}: {error}")))
}

/// The key's site's live conversation named by the path (404 for none or another site's).
async fn conversation(
    api: &Api,
    caller: &Caller,
    path: &str,
) -> Result<(ConversationId, std::sync::Arc<Site>), ApiError> {
    caller.require(&caller.key.site, Scope::Write)?;
    let not_found = ApiError::NotFound("no such live conversation on this site");
    let id = uuid::Uuid::parse_str(path)
        .map(ConversationId)
        .map_err(|_| ApiError::NotFound("no such live conversation on this site"))?;
    match api.desk.site(id).await {
        Ok(site) if site.config.id == caller.key.site => Ok((id, site)),
        Ok(_) | Err(DeskError::NotFound) => Err(not_found),
        Err(error) => Err(desk_error(error)),
    }
}

/// A configured agent who works for the key's site (an unknown one is 400: the body named it).
fn agent(api: &Api, caller: &Caller, id: &str) -> Result<AgentConfig, ApiError> {
    let agent = api.desk.agent(id).ok_or_else(|| ApiError::Invalid(format!("agent: no agent {id:?}")))?;
    if !agent.serves(&caller.key.site) {
        return Err(ApiError::Forbidden(format!("agent {id:?} does not work for this site")));
    }
    Ok(agent)
}

/// The desk's refusals: a chat not held as the request says is a state conflict.
fn desk_error(error: DeskError) -> ApiError {
    match error {
        DeskError::NotFound => ApiError::NotFound("no such live conversation on this site"),
        DeskError::AlreadyTaken => ApiError::Conflict(error.to_string()),
        DeskError::Forbidden(why) => ApiError::Conflict(why.to_owned()),
        DeskError::TransferRefused(why) => ApiError::Conflict(why),
        DeskError::Store(error) => ApiError::Unavailable(error.to_string()),
    }
}

/// The owner's close in the audit log, as an agent's resolve is (`resolve`, by `api:KEY_ID`).
async fn audit_close(api: &Api, caller: &Caller, site: &Site, id: ConversationId) {
    let mut entry = AuditEntry::now(&format!("api:{}", caller.key.id), "resolve", r#"{"by":"owner"}"#.to_owned());
    entry.site = Some(site.config.id.clone());
    entry.conversation_id = Some(id.to_string());
    if let Err(error) = api.archive.record_audit(&entry).await {
        tracing::warn!(%error, conversation_id = %id, "an owner's close was not audited");
    }
}

fn outcome(id: ConversationId, done: OwnerOutcome) -> Result<(StatusCode, serde_json::Value), ApiError> {
    match done {
        OwnerOutcome::Done(seq) => Ok(acted(id, Some(seq))),
        OwnerOutcome::Conflict(state) => {
            Err(ApiError::Conflict(format!("the conversation is {}", serde_json::json!(state).as_str().unwrap_or("?"))))
        }
    }
}

fn acted(id: ConversationId, seq: Option<u64>) -> (StatusCode, serde_json::Value) {
    (StatusCode::OK, serde_json::to_value(Acted { conversation_id: id, seq }).unwrap_or_default())
}

/// Reads the body as `T` and finds the conversation, then runs `act` once per
/// `Idempotency-Key`.
async fn run<T, F, Fut>(
    req: HttpRequest,
    caller: Caller,
    path: web::Path<String>,
    payload: web::Payload,
    api: web::Data<Api>,
    act: F,
) -> Result<HttpResponse, ApiError>
where
    T: serde::de::DeserializeOwned,
    F: FnOnce(web::Data<Api>, Caller, ConversationId, std::sync::Arc<Site>, T) -> Fut,
    Fut: std::future::Future<Output = Result<(StatusCode, serde_json::Value), ApiError>>,
{
    let bytes = body::read(&req, payload, api.settings.max_body_bytes).await?;
    let asked: T = if bytes.is_empty() { body::json(b"{}")? } else { body::json(&bytes)? };
    let (id, site) = conversation(&api, &caller, &path).await?;
    let key = Caller { key: caller.key.clone() };
    idempotent(&api.clone(), &caller, &req, &bytes, keep_all, || act(api, key, id, site, asked)).await
}

/// Sends a message to the visitor as an agent holding the chat or as the bot (write scope).
#[utoipa::path(
    operation_id = "send_message",
    tag = "conversations",
    request_body = SendMessage,
    params(
        ("id" = String, Path, description = "The conversation's id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Replays the stored answer for the same body"),
    ),
    responses(
        (status = 200, description = "Stored and sent live", body = Acted),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 413, body = ErrorBody),
        (status = 422, body = ErrorBody), (status = 429, body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[post("/v1/api/conversations/{id}/messages")]
pub async fn send_message(
    req: HttpRequest,
    caller: Caller,
    path: web::Path<String>,
    payload: web::Payload,
    api: web::Data<Api>,
) -> Result<HttpResponse, ApiError> {
    run(req, caller, path, payload, api, |api, caller, id, site, asked: SendMessage| async move {
        let said = text(asked.text, "text")?;
        match (asked.from, asked.agent) {
            (Sender::Bot, None) => outcome(id, api.conversations.bot_says(&site, id, said, asked.client_id).await?),
            (Sender::Bot, Some(_)) => Err(ApiError::Invalid("agent: only with \"from\": \"agent\"".into())),
            (Sender::Agent, None) => Err(ApiError::Invalid("agent: required with \"from\": \"agent\"".into())),
            (Sender::Agent, Some(who)) => {
                let agent = agent(&api, &caller, &who)?;
                let client_id = asked.client_id.unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
                let client_id = ClientId::parse(client_id).map_err(|e| ApiError::Invalid(format!("client_id: {e}")))?;
                let seq = api.desk.message(&agent, id, &client_id, said).await.map_err(desk_error)?;
                Ok(acted(id, Some(seq)))
            }
        }
    })
    .await
}

/// Adds an internal note as the agent holding the chat; agents see it, the visitor never
/// does (write scope).
#[utoipa::path(
    operation_id = "add_note",
    tag = "conversations",
    request_body = AddNote,
    params(
        ("id" = String, Path, description = "The conversation's id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Replays the stored answer for the same body"),
    ),
    responses(
        (status = 200, body = Acted),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 429, body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[post("/v1/api/conversations/{id}/notes")]
pub async fn add_note(
    req: HttpRequest,
    caller: Caller,
    path: web::Path<String>,
    payload: web::Payload,
    api: web::Data<Api>,
) -> Result<HttpResponse, ApiError> {
    run(req, caller, path, payload, api, |api, caller, id, _, asked: AddNote| async move {
        let (agent, note) = (agent(&api, &caller, &asked.agent)?, text(asked.text, "text")?);
        api.desk.note(&agent, id, note).await.map_err(desk_error)?;
        Ok(acted(id, None))
    })
    .await
}

/// Transfers the chat from the agent holding it to another agent or a team's queue (write
/// scope). An agent who cannot take it now is 409, naming who can.
#[utoipa::path(
    operation_id = "transfer_conversation",
    tag = "conversations",
    request_body = Transfer,
    params(
        ("id" = String, Path, description = "The conversation's id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Replays the stored answer for the same body"),
    ),
    responses(
        (status = 200, body = Acted),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 429, body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[post("/v1/api/conversations/{id}/transfer")]
pub async fn transfer(
    req: HttpRequest,
    caller: Caller,
    path: web::Path<String>,
    payload: web::Payload,
    api: web::Data<Api>,
) -> Result<HttpResponse, ApiError> {
    run(req, caller, path, payload, api, |api, caller, id, _, asked: Transfer| async move {
        let from = agent(&api, &caller, &asked.agent)?;
        let to = match (asked.to_agent, asked.to_team) {
            (Some(target), None) => TransferTo::Agent(agent(&api, &caller, &target)?.id),
            (None, Some(team)) => TransferTo::Team(team),
            _ => return Err(ApiError::Invalid("give exactly one of to_agent and to_team".into())),
        };
        let note = asked.note.map(|note| text(note, "note")).transpose()?;
        api.desk.transfer(&from, id, to, note).await.map_err(desk_error)?;
        Ok(acted(id, None))
    })
    .await
}

/// Resolves a chat: one a person holds as they would, one the bot has or that waits in the
/// queue through the conversation's own state machine; either way the visitor's socket gets
/// `state resolved`, the resolved notice and the rating request (write scope).
#[utoipa::path(
    operation_id = "resolve_conversation",
    tag = "conversations",
    request_body = Resolve,
    params(
        ("id" = String, Path, description = "The conversation's id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Replays the stored answer for the same body"),
    ),
    responses(
        (status = 200, body = Acted),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 429, body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[post("/v1/api/conversations/{id}/resolve")]
pub async fn resolve(
    req: HttpRequest,
    caller: Caller,
    path: web::Path<String>,
    payload: web::Payload,
    api: web::Data<Api>,
) -> Result<HttpResponse, ApiError> {
    run(req, caller, path, payload, api, |api, caller, id, site, asked: Resolve| async move {
        let holder = match asked.agent {
            Some(who) => Some(agent(&api, &caller, &who)?),
            None => api.desk.holder(id).await.map_err(desk_error)?,
        };
        let Some(holder) = holder else {
            let closed = api.conversations.close(&site, id).await?;
            if let OwnerOutcome::Done(_) = closed {
                audit_close(&api, &caller, &site, id).await;
            }
            // A queued chat left the queue: agents' queues show it now (else at the janitor's
            // next round; the close itself is done).
            if let Err(error) = api.desk.refresh().await {
                tracing::warn!(%error, conversation_id = %id, "queues not refreshed after an owner's close");
            }
            return outcome(id, closed);
        };
        api.desk.resolve(&holder, id).await.map_err(desk_error)?;
        Ok(acted(id, None))
    })
    .await
}

/// Gives a resolved chat back to the bot (write scope).
#[utoipa::path(
    operation_id = "reopen_conversation",
    tag = "conversations",
    params(
        ("id" = String, Path, description = "The conversation's id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Replays the stored answer for the same body"),
    ),
    responses(
        (status = 200, body = Acted),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 429, body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[post("/v1/api/conversations/{id}/reopen")]
pub async fn reopen(
    req: HttpRequest,
    caller: Caller,
    path: web::Path<String>,
    payload: web::Payload,
    api: web::Data<Api>,
) -> Result<HttpResponse, ApiError> {
    run(req, caller, path, payload, api, |api, _, id, _, _: Resolve| async move {
        outcome(id, api.conversations.reopen(id).await?)
    })
    .await
}
