//! One site's visitor as the owner API shows them (`GET /v1/api/visitors`): found by the
//! email they left or gave, or by the site's user id, on that site only (the same address
//! on another site is another site's visitor); how many conversations they had, when, and
//! the identity the site's page last gave (issue 15's record, verified or not).

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::Row;

use super::ArchiveError;
use super::privacy::{Subject, bind_subject, by_subject};
use super::sql::{SqlArchive, from_millis};
use crate::records::Identity;

/// The newest conversations looked through for the identity record (one without it, a left
/// message by email, is skipped).
const IDENTITY_LOOKBACK: usize = 50;

/// What the archive knows of one visitor of one site.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct VisitorRecord {
    pub site: String,
    pub conversations: u64,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    /// The newest identity the site's page gave (`None`: it never named them).
    pub identity: Option<Identity>,
}

impl SqlArchive {
    /// The subject as a visitor of `site`; `None` when they had no conversation there.
    pub async fn visitor(&self, site: &str, subject: &Subject) -> Result<Option<VisitorRecord>, ArchiveError> {
        let condition = by_subject(subject, Some(site));
        let sql = format!(
            "SELECT COUNT(*) AS n, MIN(started_at) AS first, MAX(updated_at) AS last FROM conversations WHERE {condition}"
        );
        let row = bind_subject(sqlx::query(&sql), subject, Some(site)).fetch_one(self.pool()).await?;
        let count: i64 = row.try_get("n")?;
        if count == 0 {
            return Ok(None);
        }
        let (first, last): (i64, i64) = (row.try_get("first")?, row.try_get("last")?);
        let sql = format!(
            "SELECT records FROM conversations WHERE {condition} ORDER BY started_at DESC, id DESC LIMIT {IDENTITY_LOOKBACK}"
        );
        let rows = bind_subject(sqlx::query(&sql), subject, Some(site)).fetch_all(self.pool()).await?;
        let mut identity = None;
        for row in rows {
            let records: serde_json::Value = serde_json::from_str(&row.try_get::<String, _>("records")?)
                .map_err(|e| ArchiveError::Corrupt(format!("records: {e}")))?;
            if let Some(found) = records.get("identity").filter(|value| !value.is_null()) {
                let found = serde_json::from_value(found.clone())
                    .map_err(|e| ArchiveError::Corrupt(format!("identity record: {e}")))?;
                identity = Some(found);
                break;
            }
        }
        Ok(Some(VisitorRecord {
            site: site.to_owned(),
            conversations: u64::try_from(count).unwrap_or(0),
            first_seen: from_millis(first)?,
            last_seen: from_millis(last)?,
            identity,
        }))
    }
}
