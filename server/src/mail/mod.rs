//! Email: what Baton sends visitors, through SMTP, always by way of the outbox in the archive
//! ([`crate::archive::outbox`]), so a mail server that is down delays an email and loses none.
//!
//! # Layout
//! - [`links`]: signed, expiring resume links (the resume token itself is never stored).
//! - [`letters`]: the emails' words.
//! - this file: [`Mail`], the handle the conversation and the agents queue emails with, and
//!   [`Sender`], the task on every node that sends due emails with retry and backoff.

pub mod letters;
pub mod links;

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use chrono::Utc;
use lettre::message::Mailbox;
use lettre::message::header::ContentType;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use secrecy::ExposeSecret;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::archive::ArchiveError;
use crate::archive::outbox::{MailKind, MailStatus, OutboxError, OutgoingMail};
use crate::archive::sql::SqlArchive;
use crate::config::email::{EmailSettings, SmtpSecurity};
use crate::protocol::ConversationId;
pub use links::ResumeLinks;

/// Emails one pass of the sender claims at most.
const BATCH: usize = 20;

/// How long an email the outbox could not take (its database down or not migrated yet) is
/// retried in the background before it is given up, logged as an error.
const QUEUE_RETRY_FOR: Duration = Duration::from_secs(15 * 60);

/// Queues emails and makes resume links. Cheap to clone.
#[derive(Clone)]
pub struct Mail {
    outbox: Arc<SqlArchive>,
    links: Arc<ResumeLinks>,
    public_url: Arc<str>,
    max_pending: u64,
}

impl Mail {
    pub fn new(outbox: Arc<SqlArchive>, links: Arc<ResumeLinks>, settings: &EmailSettings) -> Mail {
        let public_url = settings.public_url.trim_end_matches('/').into();
        Mail { outbox, links, public_url, max_pending: settings.outbox_max_pending }
    }

    /// The link that reopens conversation `id` (a page of this server that opens the widget).
    pub fn resume_link(&self, id: ConversationId) -> String {
        format!("{}/v1/resume?t={}", self.public_url, self.links.token(id, Utc::now()))
    }

    /// Writes an email to the outbox; the sender sends it.
    pub async fn queue(
        &self,
        site: &str,
        id: ConversationId,
        kind: MailKind,
        recipient: &str,
        (subject, body): (String, String),
    ) -> Result<(), OutboxError> {
        let mail = OutgoingMail {
            id: Uuid::new_v4().to_string(),
            site: site.to_owned(),
            conversation_id: id,
            kind,
            recipient: recipient.to_owned(),
            subject,
            body,
        };
        match self.outbox.queue_mail(&mail, self.max_pending).await {
            Ok(()) => {
                tracing::info!(conversation_id = %id, ?kind, "email queued");
                Ok(())
            }
            Err(OutboxError::Full(waiting)) => Err(OutboxError::Full(waiting)),
            Err(OutboxError::Archive(error)) => {
                // The database is down or not migrated yet (a node just started): keep trying
                // in the background rather than lose the email; the chat does not wait.
                tracing::warn!(%error, conversation_id = %id, "email not queued yet; retrying");
                tokio::spawn(self.clone().queue_later(mail));
                Ok(())
            }
        }
    }

    /// Retries writing `mail` to the outbox, with backoff, for about [`QUEUE_RETRY_FOR`].
    async fn queue_later(self, mail: OutgoingMail) {
        let deadline = tokio::time::Instant::now() + QUEUE_RETRY_FOR;
        let mut wait = Duration::from_millis(100);
        loop {
            tokio::time::sleep(wait).await;
            match self.outbox.queue_mail(&mail, self.max_pending).await {
                Ok(()) => {
                    tracing::info!(conversation_id = %mail.conversation_id, kind = ?mail.kind, "email queued");
                    return;
                }
                Err(error) if tokio::time::Instant::now() >= deadline => {
                    tracing::error!(%error, conversation_id = %mail.conversation_id, "email given up: not queued");
                    return;
                }
                Err(_) => wait = (wait * 2).min(Duration::from_secs(10)),
            }
        }
    }

    /// The conversation's emails and where each stands.
    pub async fn status_of(&self, id: ConversationId) -> Result<Vec<MailStatus>, ArchiveError> {
        self.outbox.mail_of(id).await
    }
}

/// Sends due emails from the outbox, on every node; a claim keeps two nodes from sending one
/// email twice (unless a node dies mid-send: then the lease runs out and it goes again).
pub struct Sender {
    outbox: Arc<SqlArchive>,
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    settings: EmailSettings,
}

impl Sender {
    /// The sender for `settings`; `None` when email is off.
    pub fn new(outbox: Arc<SqlArchive>, settings: &EmailSettings) -> anyhow::Result<Option<Sender>> {
        let Some(host) = settings.host() else { return Ok(None) };
        let builder = match settings.security {
            SmtpSecurity::Starttls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host)?,
            SmtpSecurity::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(host)?,
            SmtpSecurity::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host),
        };
        let mut builder =
            builder.port(settings.smtp_port).timeout(Some(Duration::from_secs(settings.timeout_secs.max(1))));
        if let (Some(user), Some(password)) = (&settings.username, &settings.password) {
            builder = builder.credentials(Credentials::new(user.clone(), password.expose_secret().to_owned()));
        }
        let from =
            settings.from.parse().with_context(|| format!("email.from {:?} is not an address", settings.from))?;
        Ok(Some(Sender { outbox, transport: builder.build(), from, settings: settings.clone() }))
    }

    pub fn spawn(self, shutdown: CancellationToken) {
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(self.settings.poll());
            loop {
                tokio::select! {
                    _ = shutdown.cancelled() => return,
                    _ = tick.tick() => {}
                }
                if let Err(error) = self.pass().await {
                    tracing::warn!(%error, "email outbox unavailable");
                }
            }
        });
    }

    /// Sends what is due; each failure is retried later with a longer wait, then given up.
    pub async fn pass(&self) -> Result<(), ArchiveError> {
        let lease = Duration::from_secs(self.settings.timeout_secs.max(1) * 3);
        for (mail, attempts) in self.outbox.claim_due_mail(lease, BATCH).await? {
            match self.send(&mail).await {
                Ok(()) => {
                    tracing::info!(conversation_id = %mail.conversation_id, kind = ?mail.kind, "email sent");
                    self.outbox.mail_sent(&mail.id).await?;
                }
                Err(error) => {
                    let tried = attempts + 1;
                    let retry_at = (tried < self.settings.max_attempts).then(|| {
                        Utc::now() + chrono::Duration::from_std(self.settings.backoff(tried)).unwrap_or_default()
                    });
                    tracing::warn!(%error, tried, gives_up = retry_at.is_none(), "email not sent");
                    self.outbox.mail_failed(&mail.id, retry_at, &format!("{error:#}")).await?;
                }
            }
        }
        Ok(())
    }

    async fn send(&self, mail: &OutgoingMail) -> anyhow::Result<()> {
        let to: Mailbox = mail.recipient.parse().context("the recipient is not an address")?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(mail.subject.clone())
            .header(ContentType::TEXT_PLAIN)
            .body(mail.body.clone())
            .context("Failed to build the email")?;
        self.transport.send(message).await.context("SMTP")?;
        Ok(())
    }
}
