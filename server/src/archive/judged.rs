//! The escalations agents judged (a verdict record), per site: what `baton signals --tune`
//! learns from. Paged through the shared conversation query, newest first.

use sqlx::Row;

use super::paging::{ConversationPage, Param};
use super::sql::{SqlArchive, from_millis};
use super::{ArchiveError, Cursor};
use crate::escalation::tune::Judged;
use crate::protocol::ConversationId;
use crate::records::{EscalationRecord, VerdictRecord};

/// Conversations read per query.
const PAGE: usize = 1000;

impl SqlArchive {
    /// Every judged escalation of `site`, with the signals the escalation kept.
    pub async fn judged(&self, site: &str) -> Result<Vec<Judged>, ArchiveError> {
        let mut out = Vec::new();
        let mut cursor: Option<Cursor> = None;
        loop {
            let mut page = ConversationPage::default();
            page.add("c.site = ?", vec![Param::Text(site.to_owned())]);
            page.add("c.records LIKE ?", vec![Param::Text("%\"verdict\"%".to_owned())]);
            page.after(cursor.as_ref());
            let sql = page.sql("c.id, c.started_at, c.records", PAGE);
            let rows = page.bind(sqlx::query(&sql)).fetch_all(self.pool()).await?;
            for row in &rows {
                let id: String = row.try_get("id")?;
                let records: String = row.try_get("records")?;
                out.extend(judged_of(&id, &records)?);
            }
            let Some(last) = rows.last().filter(|_| rows.len() == PAGE) else { return Ok(out) };
            let id: String = last.try_get("id")?;
            let id = uuid::Uuid::parse_str(&id).map_err(|_| ArchiveError::Corrupt(format!("conversation id {id}")))?;
            cursor = Some(Cursor { started_at: from_millis(last.try_get("started_at")?)?, id: ConversationId(id) });
        }
    }
}

/// The judged escalation in one conversation's records (`None` without a verdict).
fn judged_of(id: &str, records: &str) -> Result<Option<Judged>, ArchiveError> {
    let corrupt = |e: serde_json::Error| ArchiveError::Corrupt(format!("records of {id}: {e}"));
    let records: serde_json::Value = serde_json::from_str(records).map_err(corrupt)?;
    let Some(verdict) = records.get("verdict").filter(|v| !v.is_null()) else { return Ok(None) };
    let verdict: VerdictRecord = serde_json::from_value(verdict.clone()).map_err(corrupt)?;
    let escalation: Option<EscalationRecord> = match records.get("escalation").filter(|e| !e.is_null()) {
        Some(e) => Some(serde_json::from_value(e.clone()).map_err(corrupt)?),
        None => None,
    };
    Ok(Some(Judged {
        conversation_id: id.to_owned(),
        reason: verdict.reason,
        verdict: verdict.verdict,
        signals: escalation.and_then(|e| e.signals),
    }))
}
