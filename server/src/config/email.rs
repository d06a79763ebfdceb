//! `[email]`: how Baton sends email (confirmations of left messages, agents' replies to them,
//! transcripts). With no `smtp_host` every email feature is off and the widget promises no
//! email. See `docs/email.md`.

use std::time::Duration;

use secrecy::SecretString;
use serde::Deserialize;

/// How the SMTP connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SmtpSecurity {
    /// Plain connection, upgraded with STARTTLS; refused if the server cannot (port 587).
    Starttls,
    /// TLS from the first byte (port 465).
    Tls,
    /// No encryption: only for a relay on the same machine or a test server.
    None,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmailSettings {
    /// The SMTP server (unset or empty: email is off).
    #[serde(default)]
    pub smtp_host: Option<String>,
    pub smtp_port: u16,
    pub security: SmtpSecurity,
    /// SMTP AUTH, when both are set.
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub password: Option<SecretString>,
    /// The `From` of every email, e.g. `Northwind Support <support@northwind.example>`.
    pub from: String,
    /// Where visitors reach this server from outside: resume links start with it.
    pub public_url: String,
    /// Signs resume links (HMAC-SHA256). Unset: a random key per process, so links stop
    /// working after a restart and on other nodes (a warning says so).
    #[serde(default)]
    pub link_secret: Option<SecretString>,
    /// How long a resume link opens its conversation.
    pub link_ttl_hours: u64,
    /// Emails waiting to be sent, at most; past it a new one is refused (and the console says
    /// so) rather than growing the outbox without bound.
    pub outbox_max_pending: u64,
    /// How often the sender looks for due emails.
    pub outbox_poll_ms: u64,
    /// The wait after a failed attempt doubles from the first to the max.
    pub retry_first_secs: u64,
    pub retry_max_secs: u64,
    /// Attempts before an email is given up (the console shows it as failed).
    pub max_attempts: u32,
    /// One SMTP conversation (connect, send, quit) gives up after this.
    pub timeout_secs: u64,
}

impl EmailSettings {
    /// The SMTP host, when email is on.
    pub fn host(&self) -> Option<&str> {
        self.smtp_host.as_deref().map(str::trim).filter(|h| !h.is_empty())
    }

    pub fn poll(&self) -> Duration {
        Duration::from_millis(self.outbox_poll_ms.max(10))
    }

    /// The wait before attempt `attempts + 1`, after `attempts` failures.
    pub fn backoff(&self, attempts: u32) -> Duration {
        let first = self.retry_first_secs.max(1);
        let doubled = first.saturating_mul(1u64 << attempts.saturating_sub(1).min(20));
        Duration::from_secs(doubled.min(self.retry_max_secs.max(first)))
    }
}
