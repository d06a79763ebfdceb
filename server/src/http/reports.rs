//! `GET /v1/agent/reports`: the console's Reports page reads its numbers here, as JSON or
//! (`format=csv`) as a CSV download. An agent's token (`Authorization: Bearer TOKEN`) with
//! the `admin` role; the numbers are over the sites the admin works for (`[[agents]] sites`),
//! one named by `site` when given (403 for a site the admin does not serve).

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, web};
use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::{Http, HttpError};
use crate::archive::Archive;
use crate::archive::reports::csv::to_csv;
use crate::archive::reports::{Period, ReportQuery};
use crate::config::AgentRole;

/// The longest date range one report covers (days): a bound on what one request sums.
pub const MAX_RANGE_DAYS: i64 = 3 * 366;

#[derive(Deserialize)]
pub struct ReportParams {
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    #[serde(default)]
    site: Option<String>,
    #[serde(default)]
    team: Option<String>,
    #[serde(default)]
    agent: Option<String>,
    #[serde(default)]
    period: Period,
    #[serde(default)]
    format: Option<String>,
}

#[get("/v1/agent/reports")]
pub async fn agent_reports(
    req: HttpRequest,
    params: web::Query<ReportParams>,
    http: web::Data<Http>,
) -> Result<HttpResponse, HttpError> {
    let token = super::bearer::token(&req).ok_or(HttpError::Unauthorized)?;
    let agent = http.agent.desk.authenticate(token).ok_or(HttpError::Unauthorized)?;
    if agent.role != AgentRole::Admin {
        return Err(HttpError::Forbidden("reports are for agents with the admin role"));
    }
    let params = params.into_inner();
    let csv = match params.format.as_deref() {
        None | Some("json") => false,
        Some("csv") => true,
        Some(other) => return Err(HttpError::BadRequest(format!("format must be json or csv, not {other:?}"))),
    };
    let query = validate(&http, &agent, params.site, params.team, params.agent, params.from, params.to, params.period)?;
    let report = http.archive.report(&query).await.map_err(|e| HttpError::Unavailable(e.to_string()))?;
    tracing::info!(agent = %agent.id, sites = ?query.sites, from = %query.from, to = %query.to, "report read");
    if !csv {
        return Ok(HttpResponse::Ok().json(report));
    }
    let body = to_csv(&report).map_err(|e| HttpError::Unavailable(e.to_string()))?;
    let name = format!("baton-report-{}-{}.csv", query.from.date_naive(), query.to.date_naive());
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/csv; charset=utf-8"))
        .insert_header((header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")))
        .body(body))
}

#[allow(clippy::too_many_arguments)]
fn validate(
    http: &Http,
    admin: &crate::config::AgentConfig,
    site: Option<String>,
    team: Option<String>,
    agent: Option<String>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    period: Period,
) -> Result<ReportQuery, HttpError> {
    if to <= from {
        return Err(HttpError::BadRequest("`to` must be after `from`".into()));
    }
    if (to - from).num_days() > MAX_RANGE_DAYS {
        return Err(HttpError::BadRequest(format!("a report covers at most {MAX_RANGE_DAYS} days")));
    }
    let sites = match site.filter(|s| !s.is_empty()) {
        Some(site) => {
            let id = http.sites.get(&site).ok_or(HttpError::UnknownSite)?.config.id.clone();
            if !admin.serves(&id) {
                return Err(HttpError::Forbidden("this site is not one the agent works for"));
            }
            vec![id]
        }
        None => http.sites.ids().into_iter().filter(|id| admin.serves(id)).collect(),
    };
    let blank = |value: Option<String>| value.filter(|v| !v.is_empty());
    Ok(ReportQuery { sites, from, to, team: blank(team), agent: blank(agent), period })
}
