//! Settings for files sent in a chat: where they are kept (`[attachments]` in the settings)
//! and what each site accepts (`[attachments]` in a site's file).

use secrecy::SecretString;
use serde::Deserialize;

/// Where attachments are kept and how their links are signed.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttachmentSettings {
    /// The local folder (relative to the working directory; created when missing) used when
    /// no S3 bucket is set.
    pub path: String,
    /// An S3-compatible bucket: set it to keep files there instead of the local folder.
    #[serde(default)]
    pub s3_bucket: Option<String>,
    /// The S3 endpoint (MinIO, Ceph, R2, …); unset: AWS's own for `s3_region`.
    #[serde(default)]
    pub s3_endpoint: Option<String>,
    pub s3_region: String,
    #[serde(default)]
    pub s3_access_key_id: Option<String>,
    #[serde(default)]
    pub s3_secret_access_key: Option<SecretString>,
    /// Allows a plain-HTTP `s3_endpoint` (a store on a private network or in tests).
    pub s3_allow_http: bool,
    /// Key of the HMAC that signs upload and download links. Unset: a random key per process
    /// (links then work only on the node that made them: set one shared key for a cluster).
    #[serde(default)]
    pub secret: Option<SecretString>,
    /// How long a link (a socket's file token) stays valid; each `welcome` and each agent view
    /// brings a fresh one.
    pub link_ttl_secs: u64,
    /// Uploads being received at once on this node; more get 503 (each holds at most a
    /// site's `max_bytes` in memory).
    pub max_concurrent_uploads: usize,
}

/// What one site accepts from visitors and agents.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SiteAttachments {
    pub enabled: bool,
    /// The largest file accepted, in bytes.
    pub max_bytes: u64,
    /// Content types accepted, judged from the file's bytes (not its name): any of
    /// `image/png`, `image/jpeg`, `image/gif`, `image/webp`, `application/pdf`, `text/plain`.
    pub types: Vec<String>,
}

/// Every content type Baton can recognise from a file's bytes.
pub const KNOWN_TYPES: [&str; 6] =
    ["image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf", "text/plain"];

impl Default for SiteAttachments {
    fn default() -> Self {
        SiteAttachments {
            enabled: true,
            max_bytes: 10 * 1024 * 1024,
            types: KNOWN_TYPES.iter().map(|t| (*t).to_owned()).collect(),
        }
    }
}

impl SiteAttachments {
    /// A type outside [`KNOWN_TYPES`] is a mistake in the site's file: named at start.
    pub fn validate(&self) -> Result<(), String> {
        if let Some(unknown) = self.types.iter().find(|t| !KNOWN_TYPES.contains(&t.as_str())) {
            return Err(format!("key `attachments.types`: unknown type {unknown:?} (known: {KNOWN_TYPES:?})"));
        }
        if self.max_bytes == 0 {
            return Err("key `attachments.max_bytes` must be at least 1".into());
        }
        Ok(())
    }

    pub fn accepts(&self, content_type: &str) -> bool {
        self.enabled && self.types.iter().any(|t| t == content_type)
    }
}
