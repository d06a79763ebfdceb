//! Files sent in a chat: kept through `object_store` (a local folder by default, an
//! S3-compatible bucket when configured) under `SITE/CONVERSATION/ATTACHMENT`, reached only
//! with a signed, expiring token for their conversation ([`links`]), judged by their bytes
//! ([`kind`]), and deleted with their conversation: by the site's retention
//! ([`Attachments::expire`]) and by a privacy erase ([`Attachments::erase_conversation`], the
//! one hook for it).
//!
//! This module knows objects and bytes, never HTTP or the live store: the HTTP layer checks
//! who may send, and the conversation (or the agents' desk) stores the `attachment` event.

pub mod kind;
pub mod links;

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use futures_util::{StreamExt, TryStreamExt};
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use rand::RngCore;
use secrecy::ExposeSecret;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::config::{AttachmentSettings, SiteAttachments, SiteConfig};
use crate::protocol::{AttachmentGrant, ConversationId};
pub use kind::Refusal;
pub use links::Scope;

/// How often each node deletes the files its sites' retention has expired.
const RETENTION_EVERY: Duration = Duration::from_secs(3600);
const RETENTION_FIRST_AFTER: Duration = Duration::from_secs(90);

#[derive(Debug, thiserror::Error)]
pub enum AttachmentError {
    #[error("this site does not accept files")]
    Disabled,
    #[error("the file is larger than this site accepts ({max} bytes at most)")]
    TooLarge { max: u64 },
    #[error(transparent)]
    Refused(#[from] Refusal),
    #[error("too many uploads at once: retry shortly")]
    Busy,
    #[error("no such file")]
    NotFound,
    #[error("the file store failed: {0}")]
    Store(#[from] object_store::Error),
}

/// A file as kept: what the `attachment` event says of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stored {
    pub id: Uuid,
    pub name: String,
    pub size: u64,
    pub content_type: &'static str,
}

/// A file being read: its size, its type and its bytes.
pub struct Opened {
    pub size: u64,
    pub content_type: &'static str,
    pub bytes: futures_util::stream::BoxStream<'static, Result<Bytes, object_store::Error>>,
}

/// The file store, its link signer and its bound on uploads in flight. Cheap to clone.
#[derive(Clone)]
pub struct Attachments {
    store: Arc<dyn ObjectStore>,
    signer: links::Signer,
    /// One permit per upload being received: each holds up to its site's `max_bytes`.
    uploads: Arc<Semaphore>,
    /// Every site served: an erase by conversation looks under each.
    sites: Arc<[String]>,
}

impl Attachments {
    /// The store the settings name (the local folder is created when missing).
    pub fn open(settings: &AttachmentSettings, sites: &[SiteConfig]) -> anyhow::Result<Attachments> {
        let store: Arc<dyn ObjectStore> = match &settings.s3_bucket {
            Some(bucket) => Arc::new(s3(settings, bucket)?),
            None => {
                std::fs::create_dir_all(&settings.path)
                    .with_context(|| format!("Failed to create the attachments folder {}", settings.path))?;
                let local = object_store::local::LocalFileSystem::new_with_prefix(&settings.path)
                    .with_context(|| format!("Failed to open the attachments folder {}", settings.path))?;
                Arc::new(local.with_automatic_cleanup(true))
            }
        };
        let key = match &settings.secret {
            Some(secret) => secret.expose_secret().as_bytes().to_vec(),
            None => {
                let mut key = vec![0u8; 32];
                rand::rng().fill_bytes(&mut key);
                key
            }
        };
        let sites: Arc<[String]> = sites.iter().map(|s| s.id.clone()).collect();
        Ok(Attachments {
            store,
            signer: links::Signer::new(key, settings.link_ttl_secs),
            uploads: Arc::new(Semaphore::new(settings.max_concurrent_uploads.max(1))),
            sites,
        })
    }

    /// A token for `scope` on one conversation, with the site's limits, for a socket to use.
    pub fn grant(&self, scope: Scope, site: &SiteConfig, id: ConversationId) -> Option<AttachmentGrant> {
        let policy = &site.attachments;
        if !policy.enabled {
            return None;
        }
        let (token, expires) = self.signer.issue(scope, &site.id, id, Utc::now().timestamp());
        Some(AttachmentGrant {
            token,
            expires_at: DateTime::from_timestamp(expires, 0).unwrap_or(DateTime::<Utc>::MAX_UTC),
            max_bytes: policy.max_bytes,
            types: policy.types.clone(),
        })
    }

    /// What `token` allows on `site`'s conversation `id` now.
    pub fn check(&self, token: &str, site: &str, id: ConversationId) -> Option<Scope> {
        self.signer.check(token, site, id, Utc::now().timestamp())
    }

    /// A place among the uploads in flight, held while the body is read and stored.
    pub fn admit_upload(&self) -> Result<OwnedSemaphorePermit, AttachmentError> {
        self.uploads.clone().try_acquire_owned().map_err(|_| AttachmentError::Busy)
    }

    /// Judges and keeps one file (its bytes already bounded by `policy.max_bytes`).
    pub async fn put(
        &self,
        site: &str,
        id: ConversationId,
        name: &str,
        bytes: Bytes,
        policy: &SiteAttachments,
    ) -> Result<Stored, AttachmentError> {
        if !policy.enabled {
            return Err(AttachmentError::Disabled);
        }
        let size = bytes.len() as u64;
        if size > policy.max_bytes {
            return Err(AttachmentError::TooLarge { max: policy.max_bytes });
        }
        let name = kind::clean_name(name);
        let content_type = kind::judge(&name, &bytes, policy)?;
        let stored = Stored { id: Uuid::new_v4(), name, size, content_type };
        self.store.put(&path(site, id, stored.id), PutPayload::from_bytes(bytes)).await?;
        tracing::info!(conversation_id = %id, site, size, content_type, "attachment stored");
        Ok(stored)
    }

    /// A kept file as a stream, with its size and type (judged again from its first bytes:
    /// only accepted types are kept). Streamed, so a download holds one chunk at a time.
    pub async fn open_file(&self, site: &str, id: ConversationId, file: Uuid) -> Result<Opened, AttachmentError> {
        let found = match self.store.get(&path(site, id, file)).await {
            Ok(found) => found,
            Err(object_store::Error::NotFound { .. }) => return Err(AttachmentError::NotFound),
            Err(error) => return Err(error.into()),
        };
        let size = found.meta.size;
        let mut rest = found.into_stream();
        let mut head = bytes::BytesMut::new();
        while head.len() < kind::SNIFF_BYTES {
            match rest.next().await {
                Some(chunk) => head.extend_from_slice(&chunk?),
                None => break,
            }
        }
        let content_type = kind::sniff_prefix(&head).unwrap_or("application/octet-stream");
        let head = futures_util::stream::once(async move { Ok(head.freeze()) });
        Ok(Opened { size, content_type, bytes: head.chain(rest).boxed() })
    }

    /// Removes one file (an upload whose event could not be stored).
    pub async fn remove(&self, site: &str, id: ConversationId, file: Uuid) {
        if let Err(error) = self.store.delete(&path(site, id, file)).await {
            tracing::warn!(%error, conversation_id = %id, "could not remove an unsent attachment");
        }
    }

    /// Deletes every file of conversation `id`, whatever its site: the hook a privacy erase
    /// calls for each conversation it erases. Returns how many were deleted.
    pub async fn erase_conversation(&self, id: ConversationId) -> Result<u64, AttachmentError> {
        let mut erased = 0;
        for site in self.sites.iter() {
            erased += self.delete_where(&Path::from(format!("{site}/{id}")), |_| true).await?;
        }
        Ok(erased)
    }

    /// Deletes `site`'s files kept before `before` (its retention); returns how many.
    pub async fn expire(&self, site: &str, before: DateTime<Utc>) -> Result<u64, AttachmentError> {
        self.delete_where(&Path::from(site), |modified| modified < before).await
    }

    async fn delete_where(
        &self,
        prefix: &Path,
        doomed: impl Fn(DateTime<Utc>) -> bool,
    ) -> Result<u64, AttachmentError> {
        let listed: Vec<_> = self.store.list(Some(prefix)).try_collect().await?;
        let paths: Vec<Path> =
            listed.into_iter().filter(|meta| doomed(meta.last_modified)).map(|meta| meta.location).collect();
        let count = paths.len() as u64;
        let stream = futures_util::stream::iter(paths.into_iter().map(Ok)).boxed();
        self.store.delete_stream(stream).try_collect::<Vec<_>>().await?;
        Ok(count)
    }

    /// Enforces each site's `archive.retention_days` on its files every hour until `stop`.
    pub fn spawn_retention(&self, policies: Vec<(String, u32)>, stop: CancellationToken) {
        if policies.is_empty() {
            return;
        }
        let this = self.clone();
        tokio::spawn(async move {
            let mut tick =
                tokio::time::interval_at(tokio::time::Instant::now() + RETENTION_FIRST_AFTER, RETENTION_EVERY);
            loop {
                tokio::select! {
                    () = stop.cancelled() => return,
                    _ = tick.tick() => this.enforce(&policies, Utc::now()).await,
                }
            }
        });
    }

    /// One retention pass at `now`.
    pub async fn enforce(&self, policies: &[(String, u32)], now: DateTime<Utc>) {
        for (site, days) in policies {
            match self.expire(site, now - chrono::Duration::days(i64::from(*days))).await {
                Ok(0) => {}
                Ok(files) => tracing::info!(site, files, "attachments: retention deleted files"),
                Err(error) => tracing::warn!(%error, site, "attachments: retention pass failed; next pass retries"),
            }
        }
    }
}

fn path(site: &str, id: ConversationId, file: Uuid) -> Path {
    Path::from(format!("{site}/{id}/{file}"))
}

fn s3(settings: &AttachmentSettings, bucket: &str) -> anyhow::Result<object_store::aws::AmazonS3> {
    let mut builder = object_store::aws::AmazonS3Builder::new()
        .with_bucket_name(bucket)
        .with_region(&settings.s3_region)
        .with_allow_http(settings.s3_allow_http);
    if let Some(endpoint) = &settings.s3_endpoint {
        builder = builder.with_endpoint(endpoint);
    }
    if let Some(key) = &settings.s3_access_key_id {
        builder = builder.with_access_key_id(key);
    }
    if let Some(secret) = &settings.s3_secret_access_key {
        builder = builder.with_secret_access_key(secret.expose_secret());
    }
    builder.build().with_context(|| format!("Failed to configure the S3 bucket {bucket}"))
}
