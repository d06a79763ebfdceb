//! `/v1/api/agents`: a site's agents, made, changed, disabled and given a new token (admin
//! scope), effective at once on every node (`changes`). A key is one site's, so it manages
//! only the agents who work for that site alone (`sites = [SITE]`): an agent shared by
//! several sites, or on `*`, is the operator's, changed in the settings file, and a key's
//! request for them is 403. A token is shown once, in the answer that made it; the archive
//! keeps only its SHA-256, as the file does.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, patch, post, web};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::auth::Caller;
use super::body::{self, idempotent};
use super::{Api, ApiError, ErrorBody};
use crate::agents::directory::token_digest;
use crate::archive::keys::Scope;
use crate::archive::owner::AGENTS;
use crate::archive::owner::agents::StoredAgent;
use crate::config::AgentRole;

/// Bounds on what an agent record holds (it is in every node's memory and every roster).
const MAX_NAME_CHARS: usize = 100;
const MAX_TEAMS: usize = 20;
const MAX_TEAM_CHARS: usize = 64;
const MAX_CHATS: u32 = 100;
/// Agents the API may make for one site (each is in every node's directory).
const MAX_AGENTS_PER_SITE: usize = 500;
/// What every agent token made by the API starts with.
const TOKEN_PREFIX: &str = "bt_";

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAgent {
    /// 1-64 of a-z, 0-9, `-` and `_`; unique among the file's agents and the API's.
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub teams: Vec<String>,
    /// At most this many chats at once (1-100).
    pub max_chats: u32,
    #[serde(default)]
    pub role: AgentRole,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AgentChange {
    pub name: Option<String>,
    pub teams: Option<Vec<String>>,
    pub max_chats: Option<u32>,
    pub role: Option<AgentRole>,
}

/// An agent as the API shows it (never the token).
#[derive(Serialize, ToSchema)]
pub struct Agent {
    pub id: String,
    pub name: String,
    pub teams: Vec<String>,
    /// The sites the agent works for (`["*"]`: every site).
    pub sites: Vec<String>,
    pub max_chats: u32,
    pub role: AgentRole,
    pub disabled: bool,
    /// `file` (the settings' `[[agents]]`, unchanged) or `api`.
    pub source: String,
}

#[derive(Serialize, ToSchema)]
pub struct AgentWithToken {
    #[serde(flatten)]
    pub agent: Agent,
    /// The agent's token: shown here only (absent in a replay).
    pub token: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct AgentList {
    pub items: Vec<Agent>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SiteQuery {
    /// The site whose agents to list.
    pub site: String,
}

pub fn services(config: &mut utoipa_actix_web::service_config::ServiceConfig) {
    config.service(list).service(create).service(change).service(disable).service(rotate);
}

fn show(record: &StoredAgent, source: &str) -> Agent {
    Agent {
        id: record.id.clone(),
        name: record.name.clone(),
        teams: record.teams.clone(),
        sites: record.sites.clone().unwrap_or_else(|| vec![crate::config::agent::ALL_SITES.to_owned()]),
        max_chats: record.max_chats,
        role: record.role,
        disabled: record.disabled,
        source: source.to_owned(),
    }
}

/// Every agent as it stands: the API's records over the file's, by id.
async fn agents(api: &Api) -> Result<Vec<(StoredAgent, &'static str)>, ApiError> {
    let changes = api.changes()?;
    let stored = changes.archive().stored_agents().await?;
    let mut all: Vec<(StoredAgent, &'static str)> = changes
        .base_agents()
        .iter()
        .filter(|agent| !stored.iter().any(|s| s.id == agent.id))
        .map(|agent| (StoredAgent::from_config(agent), "file"))
        .collect();
    all.extend(stored.into_iter().map(|record| (record, "api")));
    Ok(all)
}

/// The agent `id` when the caller's key may manage them (admin, and the agent works for
/// the key's site alone), with their stored record (`None`: the file's, never changed).
async fn managed(api: &Api, caller: &Caller, id: &str) -> Result<(StoredAgent, Option<StoredAgent>), ApiError> {
    let site = caller.key.site.clone();
    caller.require(&site, Scope::Admin)?;
    let (record, source) = agents(api).await?.into_iter().find(|(a, _)| a.id == id).ok_or(NOT_FOUND)?;
    if record.sites.as_deref() != Some(std::slice::from_ref(&site)) {
        let serves = record.sites.as_ref().is_none_or(|sites| sites.iter().any(|s| s == &site || s == "*"));
        if !serves {
            return Err(NOT_FOUND);
        }
        return Err(ApiError::Forbidden(format!(
            "agent {id:?} works for other sites too: the operator changes them in the settings file"
        )));
    }
    let stored = (source == "api").then(|| record.clone());
    Ok((record, stored))
}

const NOT_FOUND: ApiError = ApiError::NotFound("no such agent on this site");

fn check(record: &StoredAgent) -> Result<(), ApiError> {
    let bad = |why: String| Err(ApiError::Invalid(why));
    let name = record.name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
        return bad(format!("name: 1 to {MAX_NAME_CHARS} characters"));
    }
    if record.teams.len() > MAX_TEAMS {
        return bad(format!("teams: at most {MAX_TEAMS}"));
    }
    if let Some(team) = record.teams.iter().find(|t| t.trim().is_empty() || t.chars().count() > MAX_TEAM_CHARS) {
        return bad(format!("teams: {team:?} must be 1 to {MAX_TEAM_CHARS} characters"));
    }
    if !(1..=MAX_CHATS).contains(&record.max_chats) {
        return bad(format!("max_chats: 1 to {MAX_CHATS}"));
    }
    Ok(())
}

fn new_token() -> (String, String) {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let token = format!("{TOKEN_PREFIX}{}", crate::hex::encode(&bytes));
    let digest = token_digest(&token);
    (token, digest)
}

/// Stores the record over `previous` (what it was read as) and applies it here and on every
/// node; 409 when another request changed the agent in between.
async fn save(api: &Api, record: &StoredAgent, previous: Option<&StoredAgent>) -> Result<(), ApiError> {
    let changes = api.changes()?;
    if !changes.archive().put_agent(record, previous).await? {
        return Err(ApiError::Conflict(format!("agent {:?} was changed meanwhile: send the change again", record.id)));
    }
    changes.announce(AGENTS).await?;
    Ok(())
}

fn forget_token(value: &mut serde_json::Value) {
    value["token"] = serde_json::Value::Null;
}

/// The agents who work for a site, disabled ones included (admin scope).
#[utoipa::path(
    operation_id = "list_agents",
    tag = "agents",
    params(SiteQuery),
    responses(
        (status = 200, body = AgentList),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 429, body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[get("/v1/api/agents")]
pub async fn list(caller: Caller, query: web::Query<SiteQuery>, api: web::Data<Api>) -> Result<HttpResponse, ApiError> {
    caller.require(&query.site, Scope::Admin)?;
    let items = agents(&api)
        .await?
        .into_iter()
        .filter(|(record, _)| record.config().serves(&query.site))
        .map(|(record, source)| show(&record, source))
        .collect();
    Ok(HttpResponse::Ok().json(AgentList { items }))
}

/// Makes an agent of the key's site (admin scope); the answer carries their token, once.
#[utoipa::path(
    operation_id = "create_agent",
    tag = "agents",
    request_body = NewAgent,
    params(("Idempotency-Key" = Option<String>, Header, description = "Replays the stored answer for the same body")),
    responses(
        (status = 201, description = "The new agent, with their token", body = AgentWithToken),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 413, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 429, body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[post("/v1/api/agents")]
pub async fn create(
    req: HttpRequest,
    caller: Caller,
    payload: web::Payload,
    api: web::Data<Api>,
) -> Result<HttpResponse, ApiError> {
    let site = caller.key.site.clone();
    caller.require(&site, Scope::Admin)?;
    let bytes = body::read(&req, payload, api.settings.max_body_bytes).await?;
    let asked: NewAgent = body::json(&bytes)?;
    let id_ok = !asked.id.is_empty()
        && asked.id.len() <= 64
        && asked.id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
    if !id_ok {
        return Err(ApiError::Invalid("id: 1-64 of a-z, 0-9, - and _".into()));
    }
    idempotent(&api, &caller, &req, &bytes, forget_token, || async {
        let all = agents(&api).await?;
        if all.iter().any(|(a, _)| a.id == asked.id) {
            return Err(ApiError::Conflict(format!("an agent {:?} exists already", asked.id)));
        }
        let own = all
            .iter()
            .filter(|(a, source)| *source == "api" && a.sites.as_deref() == Some(std::slice::from_ref(&site)));
        if own.count() >= MAX_AGENTS_PER_SITE {
            return Err(ApiError::Conflict(format!(
                "the site has {MAX_AGENTS_PER_SITE} agents made through the API, the most it may"
            )));
        }
        let (token, digest) = new_token();
        let record = StoredAgent {
            id: asked.id.clone(),
            name: asked.name.trim().to_owned(),
            teams: asked.teams.clone(),
            sites: Some(vec![site.clone()]),
            max_chats: asked.max_chats,
            token_sha256: digest,
            role: asked.role,
            disabled: false,
        };
        check(&record)?;
        let changes = api.changes()?;
        if !changes.archive().put_agent(&record, None).await? {
            return Err(ApiError::Conflict(format!("an agent {:?} exists already", record.id)));
        }
        changes.announce(AGENTS).await?;
        let created = AgentWithToken { agent: show(&record, "api"), token: Some(token) };
        Ok((StatusCode::CREATED, serde_json::to_value(created).unwrap_or_default()))
    })
    .await
}

/// Changes an agent's name, teams, capacity or role (admin scope); their open sockets take
/// the change at once.
#[utoipa::path(
    operation_id = "update_agent",
    tag = "agents",
    request_body = AgentChange,
    params(("id" = String, Path, description = "The agent's id")),
    responses(
        (status = 200, body = Agent),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 413, body = ErrorBody), (status = 429, body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[patch("/v1/api/agents/{id}")]
pub async fn change(
    req: HttpRequest,
    caller: Caller,
    path: web::Path<String>,
    payload: web::Payload,
    api: web::Data<Api>,
) -> Result<HttpResponse, ApiError> {
    let bytes = body::read(&req, payload, api.settings.max_body_bytes).await?;
    let asked: AgentChange = body::json(&bytes)?;
    let (mut record, previous) = managed(&api, &caller, &path).await?;
    if let Some(name) = asked.name {
        record.name = name.trim().to_owned();
    }
    record.teams = asked.teams.unwrap_or(record.teams);
    record.max_chats = asked.max_chats.unwrap_or(record.max_chats);
    record.role = asked.role.unwrap_or(record.role);
    check(&record)?;
    save(&api, &record, previous.as_ref()).await?;
    Ok(HttpResponse::Ok().json(show(&record, "api")))
}

/// Disables an agent (admin scope): they cannot sign in, their sockets on every node close
/// (4001, "agent disabled") and their chats go back to the queue.
#[utoipa::path(
    operation_id = "disable_agent",
    tag = "agents",
    params(("id" = String, Path, description = "The agent's id")),
    responses(
        (status = 200, body = Agent),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 429, body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[post("/v1/api/agents/{id}/disable")]
pub async fn disable(caller: Caller, path: web::Path<String>, api: web::Data<Api>) -> Result<HttpResponse, ApiError> {
    let (mut record, previous) = managed(&api, &caller, &path).await?;
    record.disabled = true;
    save(&api, &record, previous.as_ref()).await?;
    let returned = api.desk.sign_out(&record.id).await?;
    tracing::info!(agent = %record.id, returned, "agent disabled");
    Ok(HttpResponse::Ok().json(show(&record, "api")))
}

/// Gives an agent a new token (admin scope; this also enables a disabled agent): the old
/// one is refused at once on every node and the sockets signed in with it close.
#[utoipa::path(
    operation_id = "rotate_agent_token",
    tag = "agents",
    params(
        ("id" = String, Path, description = "The agent's id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Replays the stored answer"),
    ),
    responses(
        (status = 200, description = "The agent, with their new token", body = AgentWithToken),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody), (status = 429, body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[post("/v1/api/agents/{id}/token")]
pub async fn rotate(
    req: HttpRequest,
    caller: Caller,
    path: web::Path<String>,
    api: web::Data<Api>,
) -> Result<HttpResponse, ApiError> {
    let (current, previous) = managed(&api, &caller, &path).await?;
    idempotent(&api, &caller, &req, path.as_bytes(), forget_token, || async {
        let mut record = current.clone();
        let (token, digest) = new_token();
        record.token_sha256 = digest;
        record.disabled = false;
        save(&api, &record, previous.as_ref()).await?;
        let rotated = AgentWithToken { agent: show(&record, "api"), token: Some(token) };
        Ok((StatusCode::OK, serde_json::to_value(rotated).unwrap_or_default()))
    })
    .await
}
