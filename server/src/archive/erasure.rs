//! Erasing one visitor everywhere Baton keeps them: the live store (memory or Redis), the
//! attachments, then the archive, with an audit entry that holds counts, never the address
//! or id asked for. Live first, so no archiver copies back what the archive just lost.
//!
//! The attachments are erased through their hook ([`Attachments::erase_conversation`]) for
//! each of the visitor's conversations.
//!
//! Three callers: the server (`POST /v1/admin/privacy/erase`, which can reach an in-memory
//! live store, since it lives in that process), `baton privacy erase` without `--server`
//! (archive, and Redis when `store.redis_url` is set), both on every site, and the owner
//! API (`POST /v1/api/visitors/erase`), on its key's site only ([`Within::Site`]).

use serde::Serialize;

use super::ArchiveError;
use super::privacy::{Erased, Subject};
use super::sql::SqlArchive;
use crate::attachments::Attachments;
use crate::protocol::ConversationId;
use crate::store::StoreError;
use crate::store::erase::Erase;

#[derive(Debug, thiserror::Error)]
pub enum EraseError {
    #[error("the archive: {0}")]
    Archive(#[from] ArchiveError),
    #[error("the attachments: {0}")]
    Attachments(crate::attachments::AttachmentError),
    #[error("the live store, {0}: {1}")]
    Live(&'static str, StoreError),
}

/// What an erase removed, by place (what `baton privacy erase` prints).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct EraseReport {
    pub archive: Erased,
    pub live: LiveErased,
    pub attachments: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct LiveErased {
    pub conversations: u64,
    pub left_messages: u64,
    /// Entries of the visitor index (a verified user's conversations on one site).
    pub visitor_index: u64,
}

/// Which sites an erase reaches.
#[derive(Clone, Copy, Debug)]
pub enum Within<'a> {
    /// Each of these (every configured site): an admin of every site, the CLI.
    Every(&'a [String]),
    /// This one only: a site's API key. The same address or user id on another site is
    /// another site's visitor and stays.
    Site(&'a str),
}

impl<'a> Within<'a> {
    fn sites(self) -> Vec<&'a str> {
        match self {
            Within::Every(sites) => sites.iter().map(String::as_str).collect(),
            Within::Site(site) => vec![site],
        }
    }

    fn only(self) -> Option<&'a str> {
        match self {
            Within::Every(_) => None,
            Within::Site(site) => Some(site),
        }
    }
}

/// Erases the subject from `live` (when given; a user id on each site `within` names), the
/// attachments and the archive; `actor` is who asked (an admin agent's id, `cli`, or an API
/// key's `api:ID`).
pub async fn erase(
    archive: &SqlArchive,
    live: Option<&dyn Erase>,
    within: Within<'_>,
    attachments: Option<&Attachments>,
    subject: &Subject,
    actor: &str,
) -> Result<EraseReport, EraseError> {
    let only = within.only();
    let mut ids = archived_ids(archive, subject, only).await?;
    let mut report = EraseReport::default();
    if let Some(live) = live {
        if let Subject::Email(email) = subject {
            let named =
                live.erase_left_messages(email, only).await.map_err(|e| EraseError::Live("left messages", e))?;
            report.live.left_messages = named.len() as u64;
            ids.extend(named);
            ids.extend(live.conversations_with_email(email, only).await.map_err(|e| EraseError::Live("finding", e))?);
        }
        if let Subject::UserId(user_id) = subject {
            for site in within.sites() {
                let linked = live.erase_user(site, user_id).await.map_err(|e| EraseError::Live("visitor index", e))?;
                report.live.visitor_index += u64::from(!linked.is_empty());
                ids.extend(linked);
            }
        }
        ids.sort_unstable();
        ids.dedup();
        for id in &ids {
            let existed = live.erase_conversation(*id).await.map_err(|e| EraseError::Live("conversation", e))?;
            report.live.conversations += u64::from(existed);
        }
    }
    if let Some(attachments) = attachments {
        for id in &ids {
            report.attachments += attachments.erase_conversation(*id).await.map_err(EraseError::Attachments)?;
        }
    }
    report.archive = archive.erase(subject, only, actor, &ids).await?;
    Ok(report)
}

async fn archived_ids(
    archive: &SqlArchive,
    subject: &Subject,
    site: Option<&str>,
) -> Result<Vec<ConversationId>, ArchiveError> {
    let mut ids = Vec::new();
    for id in archive.conversations_of(subject, site).await? {
        let id = uuid::Uuid::parse_str(&id).map_err(|_| ArchiveError::Corrupt(format!("conversation id {id}")))?;
        ids.push(ConversationId(id));
    }
    Ok(ids)
}
