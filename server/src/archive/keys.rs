//! The owner API's keys and the responses it replays for idempotent POSTs. A key is shown
//! once, when made; the archive keeps only its SHA-256 (the key is 32 random bytes, so a
//! plain hash cannot be reversed by guessing) and a short prefix to recognise it by.

use chrono::{DateTime, Utc};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::Row;

use super::ArchiveError;
use super::sql::{SqlArchive, from_millis, millis};

/// What every key starts with, so a leaked one is recognisable in logs and scanners.
pub const KEY_PREFIX: &str = "bk_";
/// Characters of the key (after [`KEY_PREFIX`]) that lists show.
const SHOWN_CHARS: usize = 8;

/// What a key may do; each scope includes the ones below it (read < write < admin).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    Read,
    Write,
    Admin,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Write => "write",
            Scope::Admin => "admin",
        }
    }

    pub fn parse(text: &str) -> Option<Scope> {
        match text {
            "read" => Some(Scope::Read),
            "write" => Some(Scope::Write),
            "admin" => Some(Scope::Admin),
            _ => None,
        }
    }
}

/// A key as stored: never the key itself.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ApiKey {
    pub id: String,
    pub site: String,
    pub scope: Scope,
    pub name: String,
    /// The key's first characters, to recognise it by.
    pub prefix: String,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A stored response to replay for a repeated idempotent request.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredResponse {
    pub body_hash: String,
    pub status: u16,
    pub response: String,
}

/// The lowercase hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("{KEY_PREFIX}{}", bytes.iter().map(|b| format!("{b:02x}")).collect::<String>())
}

const KEY_COLUMNS: &str = "id, site, scope, name, prefix, created_at, revoked_at";

impl SqlArchive {
    /// Makes a key for `site`; returns it as stored and the key itself (shown only now).
    pub async fn create_key(&self, site: &str, scope: Scope, name: &str) -> Result<(ApiKey, String), ArchiveError> {
        let secret = new_secret();
        let key = ApiKey {
            id: uuid::Uuid::new_v4().to_string(),
            site: site.to_owned(),
            scope,
            name: name.to_owned(),
            prefix: secret[..KEY_PREFIX.len() + SHOWN_CHARS].to_owned(),
            created_at: from_millis(millis(Utc::now()))?,
            revoked_at: None,
        };
        sqlx::query(
            "INSERT INTO api_keys (id, site, scope, name, prefix, hash, created_at, revoked_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, NULL)",
        )
        .bind(key.id.clone())
        .bind(key.site.clone())
        .bind(scope.as_str())
        .bind(key.name.clone())
        .bind(key.prefix.clone())
        .bind(sha256_hex(secret.as_bytes()))
        .bind(millis(key.created_at))
        .execute(self.pool())
        .await?;
        Ok((key, secret))
    }

    /// The unrevoked key whose secret this is.
    pub async fn key_by_secret(&self, secret: &str) -> Result<Option<ApiKey>, ArchiveError> {
        let sql = format!("SELECT {KEY_COLUMNS} FROM api_keys WHERE hash = $1 AND revoked_at IS NULL");
        let row = sqlx::query(&sql).bind(sha256_hex(secret.as_bytes())).fetch_optional(self.pool()).await?;
        row.as_ref().map(read_key).transpose()
    }

    /// `site`'s keys, revoked ones included, oldest first.
    pub async fn keys(&self, site: &str) -> Result<Vec<ApiKey>, ArchiveError> {
        let sql = format!("SELECT {KEY_COLUMNS} FROM api_keys WHERE site = $1 ORDER BY created_at, id");
        let rows = sqlx::query(&sql).bind(site.to_owned()).fetch_all(self.pool()).await?;
        rows.iter().map(read_key).collect()
    }

    /// Revokes `site`'s key `id`; false when `site` has no such unrevoked key.
    pub async fn revoke_key(&self, site: &str, id: &str) -> Result<bool, ArchiveError> {
        let done =
            sqlx::query("UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND site = $3 AND revoked_at IS NULL")
                .bind(millis(Utc::now()))
                .bind(id.to_owned())
                .bind(site.to_owned())
                .execute(self.pool())
                .await?;
        Ok(done.rows_affected() == 1)
    }

    /// The unexpired response stored for this key's idempotency key on `route` (method and
    /// path), if any.
    pub async fn idempotent_response(
        &self,
        key_id: &str,
        route: &str,
        idem: &str,
    ) -> Result<Option<StoredResponse>, ArchiveError> {
        let row = sqlx::query(
            "SELECT body_hash, status, response FROM api_idempotency \
             WHERE key_id = $1 AND route = $2 AND idempotency_key = $3 AND expires_at > $4",
        )
        .bind(key_id.to_owned())
        .bind(route.to_owned())
        .bind(idem.to_owned())
        .bind(millis(Utc::now()))
        .fetch_optional(self.pool())
        .await?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some(StoredResponse {
            body_hash: row.try_get("body_hash")?,
            status: u16::try_from(row.try_get::<i64, _>("status")?).unwrap_or(500),
            response: row.try_get("response")?,
        }))
    }

    /// Stores a response to replay on `route` until `expires_at` (replacing an expired one);
    /// expired entries of every key are deleted on the way, so the table holds only live ones.
    pub async fn store_response(
        &self,
        key_id: &str,
        route: &str,
        idem: &str,
        stored: &StoredResponse,
        expires_at: DateTime<Utc>,
    ) -> Result<(), ArchiveError> {
        let mut tx = self.pool().begin().await?;
        sqlx::query("DELETE FROM api_idempotency WHERE expires_at <= $1")
            .bind(millis(Utc::now()))
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO api_idempotency (key_id, route, idempotency_key, body_hash, status, response, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (key_id, route, idempotency_key) DO NOTHING",
        )
        .bind(key_id.to_owned())
        .bind(route.to_owned())
        .bind(idem.to_owned())
        .bind(stored.body_hash.clone())
        .bind(i64::from(stored.status))
        .bind(stored.response.clone())
        .bind(millis(expires_at))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

fn read_key(row: &sqlx::any::AnyRow) -> Result<ApiKey, ArchiveError> {
    let scope: String = row.try_get("scope")?;
    Ok(ApiKey {
        id: row.try_get("id")?,
        site: row.try_get("site")?,
        scope: Scope::parse(&scope).ok_or_else(|| ArchiveError::Corrupt(format!("key scope {scope}")))?,
        name: row.try_get("name")?,
        prefix: row.try_get("prefix")?,
        created_at: from_millis(row.try_get("created_at")?)?,
        revoked_at: row.try_get::<Option<i64>, _>("revoked_at")?.map(from_millis).transpose()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_are_ordered_read_write_admin() {
        assert!(Scope::Read < Scope::Write && Scope::Write < Scope::Admin);
        for scope in [Scope::Read, Scope::Write, Scope::Admin] {
            assert_eq!(Scope::parse(scope.as_str()), Some(scope));
        }
        assert_eq!(Scope::parse("owner"), None);
    }

    #[test]
    fn secrets_are_long_random_and_prefixed() {
        let (a, b) = (new_secret(), new_secret());
        assert!(a.starts_with(KEY_PREFIX) && a.len() == KEY_PREFIX.len() + 64);
        assert_ne!(a, b);
    }
}
