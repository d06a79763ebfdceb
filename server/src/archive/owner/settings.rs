//! A site's settings changed through the API: one JSON object per site (the TOML file's
//! keys), merged over the file and validated by the file's own loader before it is stored.

use sqlx::Row;

use super::super::ArchiveError;
use super::super::sql::{SqlArchive, millis};
use super::{bump, site_scope};

impl SqlArchive {
    /// Replaces `site`'s stored settings patch (the whole object, already merged).
    pub async fn put_site_patch(&self, site: &str, patch: &serde_json::Value) -> Result<(), ArchiveError> {
        let mut tx = self.pool().begin().await?;
        sqlx::query(
            "INSERT INTO site_overrides (site, patch, updated_at) VALUES ($1, $2, $3) \
             ON CONFLICT (site) DO UPDATE SET patch = excluded.patch, updated_at = excluded.updated_at",
        )
        .bind(site.to_owned())
        .bind(patch.to_string())
        .bind(millis(chrono::Utc::now()))
        .execute(&mut *tx)
        .await?;
        bump(&mut tx, &site_scope(site)).await?;
        tx.commit().await?;
        Ok(())
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
