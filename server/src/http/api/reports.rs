//! `GET /v1/api/reports`: every figure of a site's report (read scope), from the same SQL
//! over the archive's rollup as the console's Reports page (`crate::archive::reports`), with
//! the protocol's top-level names (Version 1.1): `conversations`, `resolved_by_bot`,
//! `bot_resolution_rate`, `escalated`, `handoff_rate`, `handoffs_by_reason`,
//! `first_response_secs`, `wait_for_agent_secs`, `csat`, and the rest beside them.

use actix_web::{HttpResponse, get, web};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use utoipa::IntoParams;

use super::auth::Caller;
use super::{Api, ApiError, ErrorBody};
use crate::archive::Archive;
use crate::archive::keys::Scope;
use crate::archive::reports::{Period, ReportQuery};
use crate::http::reports::MAX_RANGE_DAYS;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReportParams {
    /// The site (the key's own).
    pub site: String,
    /// Conversations started on the UTC days from this one's (RFC 3339) …
    pub from: DateTime<Utc>,
    /// … to the day before this one's.
    pub to: DateTime<Utc>,
    /// Only this team's conversations.
    pub team: Option<String>,
    /// Only this agent's (`[[agents]] id`).
    pub agent: Option<String>,
    /// `day` (default) or `week`: the series' periods.
    #[param(value_type = Option<String>)]
    pub period: Option<Period>,
}

/// A site's figures over a date range, with a series per day or week and breakdowns by
/// agent and team (read scope).
#[utoipa::path(
    operation_id = "get_report",
    tag = "reports",
    params(ReportParams),
    responses(
        (status = 200, description = "The report: `conversations`, `resolved_by_bot`, `bot_resolution_rate`, `escalated`, `handoff_rate`, `handoffs_by_reason`, `first_response_secs` and `wait_for_agent_secs` (`{p50,p90,count}`), `csat` (`{bot,human}`), … and `series`, `by_agent`, `by_team`", content_type = "application/json"),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 429, body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[get("/v1/api/reports")]
pub async fn get(
    caller: Caller,
    params: web::Query<ReportParams>,
    api: web::Data<Api>,
) -> Result<HttpResponse, ApiError> {
    let params = params.into_inner();
    caller.require(&params.site, Scope::Read)?;
    if params.to <= params.from {
        return Err(ApiError::Invalid("to: must be after from".into()));
    }
    if (params.to - params.from).num_days() > MAX_RANGE_DAYS {
        return Err(ApiError::Invalid(format!("a report covers at most {MAX_RANGE_DAYS} days")));
    }
    let given = |value: Option<String>| value.filter(|v| !v.is_empty());
    let query = ReportQuery {
        sites: vec![params.site],
        from: params.from,
        to: params.to,
        team: given(params.team),
        agent: given(params.agent),
        period: params.period.unwrap_or_default(),
    };
    Ok(HttpResponse::Ok().json(api.archive.report(&query).await?))
}
