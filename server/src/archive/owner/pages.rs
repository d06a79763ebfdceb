//! Knowledge-base pages uploaded through the API, by site and path. A page replaces the
//! site's file of the same path; a deleted page is kept as a tombstone that hides the file.

use chrono::{DateTime, Utc};
use sqlx::Row;

use super::super::ArchiveError;
use super::super::sql::{SqlArchive, from_millis, millis};
use super::{bump, site_scope};

/// How a page was uploaded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PageFormat {
    Md,
    Html,
}

impl PageFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            PageFormat::Md => "md",
            PageFormat::Html => "html",
        }
    }
}

/// One stored page.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredPage {
    pub path: String,
    pub format: PageFormat,
    /// As uploaded.
    pub body: String,
    /// What the indexer reads (the body itself for Markdown, its conversion for HTML).
    pub markdown: String,
    /// A tombstone: the path is deleted, the file of that path too.
    pub deleted: bool,
    pub updated_at: DateTime<Utc>,
}

impl SqlArchive {
    /// Stores (or replaces) `site`'s page at `page.path`.
    pub async fn put_page(&self, site: &str, page: &StoredPage) -> Result<(), ArchiveError> {
        let mut tx = self.pool().begin().await?;
        sqlx::query(
            "INSERT INTO kb_pages (site, path, format, body, markdown, deleted, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (site, path) DO UPDATE SET \
             format = excluded.format, body = excluded.body, markdown = excluded.markdown, \
             deleted = excluded.deleted, updated_at = excluded.updated_at",
        )
        .bind(site.to_owned())
        .bind(page.path.clone())
        .bind(page.format.as_str())
        .bind(page.body.clone())
        .bind(page.markdown.clone())
        .bind(i64::from(page.deleted))
        .bind(millis(page.updated_at))
        .execute(&mut *tx)
        .await?;
        bump(&mut tx, &site_scope(site)).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Every stored page of `site`, tombstones included, by path.
    pub async fn pages(&self, site: &str) -> Result<Vec<StoredPage>, ArchiveError> {
        let rows = sqlx::query(
            "SELECT path, format, body, markdown, deleted, updated_at FROM kb_pages WHERE site = $1 ORDER BY path",
        )
        .bind(site.to_owned())
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(read_page).collect()
    }
}

fn read_page(row: &sqlx::any::AnyRow) -> Result<StoredPage, ArchiveError> {
    let format: String = row.try_get("format")?;
    let format = match format.as_str() {
        "md" => PageFormat::Md,
        "html" => PageFormat::Html,
        other => return Err(ArchiveError::Corrupt(format!("page format {other}"))),
    };
    Ok(StoredPage {
        path: row.try_get("path")?,
        format,
        body: row.try_get("body")?,
        markdown: row.try_get("markdown")?,
        deleted: row.try_get::<i64, _>("deleted")? != 0,
        updated_at: from_millis(row.try_get("updated_at")?)?,
    })
}
