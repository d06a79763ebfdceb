//! A site's settings changed through the API: one JSON object per site (the TOML file's
//! keys), merged over the file and validated by the file's own loader before it is stored.

use sqlx::Row;

use super::super::ArchiveError;
use super::super::sql::{SqlArchive, millis};
use super::{bump, site_scope};

impl SqlArchive {
    /// Replaces `site`'s stored settings patch (the whole object, already merged) if it is
    /// still `read` (what the merge started from; `None`: no patch yet). `false`, and nothing
    /// stored, when another request changed it in between: the caller merges again.
    pub async fn put_site_patch(
        &self,
        site: &str,
        read: Option<&serde_json::Value>,
        patch: &serde_json::Value,
    ) -> Result<bool, ArchiveError> {
        let mut tx = self.pool().begin().await?;
        let now = millis(chrono::Utc::now());
        let query = match read {
            None => sqlx::query(
                "INSERT INTO site_overrides (site, patch, updated_at) VALUES ($1, $2, $3) ON CONFLICT (site) DO NOTHING",
            )
            .bind(site.to_owned())
            .bind(patch.to_string())
            .bind(now),
            Some(read) => sqlx::query("UPDATE site_overrides SET patch = $1, updated_at = $2 WHERE site = $3 AND patch = $4")
                .bind(patch.to_string())
                .bind(now)
                .bind(site.to_owned())
                .bind(read.to_string()),
        };
        if query.execute(&mut *tx).await?.rows_affected() != 1 {
            return Ok(false);
        }
        bump(&mut tx, &site_scope(site)).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// `site`'s stored settings patch (`None`: the file as it is).
    pub async fn site_patch(&self, site: &str) -> Result<Option<serde_json::Value>, ArchiveError> {
        let row = sqlx::query("SELECT patch FROM site_overrides WHERE site = $1")
            .bind(site.to_owned())
            .fetch_optional(self.pool())
            .await?;
        let Some(row) = row else { return Ok(None) };
        let patch: String = row.try_get("patch")?;
        serde_json::from_str(&patch).map(Some).map_err(|error| ArchiveError::Corrupt(format!("site patch: {error}")))
    }
}
