//! `baton privacy export` and `baton privacy erase`: one visitor's data from the archive and,
//! when the live store is shared (Redis), from the live store too. Erasure goes live store
//! first, so an archiver cannot copy back what the archive just lost.

use std::sync::Arc;

use anyhow::Context;
use secrecy::ExposeSecret;
use serde_json::json;

use super::privacy::Subject;
use super::sql::SqlArchive;
use super::{Archive, ArchivedConversation};
use crate::config::Settings;
use crate::protocol::ConversationId;
use crate::store::redis::RedisStore;

async fn open(settings: &Settings) -> anyhow::Result<(SqlArchive, Option<RedisStore>)> {
    let archive = SqlArchive::connect(settings.archive.url.expose_secret()).await?;
    archive.migrate().await.context("Failed to open the archive")?;
    let live = match settings.store.redis_url {
        Some(_) => Some(RedisStore::connect(&settings.store, Arc::new(|_| {})).await?),
        None => None,
    };
    Ok((archive, live))
}

fn subject_json(subject: &Subject) -> serde_json::Value {
    match subject {
        Subject::Email(email) => json!({ "email": email }),
        Subject::UserId(id) => json!({ "user_id": id }),
    }
}

/// Everything held about the subject, as one JSON object.
pub async fn export(settings: &Settings, subject: &Subject) -> anyhow::Result<serde_json::Value> {
    let (archive, live) = open(settings).await?;
    let mut conversations: Vec<ArchivedConversation> = Vec::new();
    for id in archive.conversations_of(subject).await.context("Failed to read the archive")? {
        let id = ConversationId(uuid::Uuid::parse_str(&id).context("a conversation id in the archive")?);
        conversations.extend(archive.conversation(id).await.context("Failed to read the archive")?);
    }
    let left = match (&live, subject) {
        (Some(live), Subject::Email(email)) => live.left_messages_of(email).await.context("Failed to read Redis")?,
        _ => Vec::new(),
    };
    archive.audit("cli", "privacy_export", None, &json!({ "conversations": conversations.len() }).to_string()).await?;
    Ok(json!({ "subject": subject_json(subject), "conversations": conversations, "left_messages": left }))
}

/// Erases the subject's data everywhere Baton keeps it; returns the counts.
pub async fn erase(settings: &Settings, subject: &Subject) -> anyhow::Result<serde_json::Value> {
    let (archive, live) = open(settings).await?;
    let mut ids: Vec<ConversationId> = Vec::new();
    for id in archive.conversations_of(subject).await.context("Failed to read the archive")? {
        ids.push(ConversationId(uuid::Uuid::parse_str(&id).context("a conversation id in the archive")?));
    }
    let (mut live_conversations, mut left_messages) = (0, 0);
    if let Some(live) = &live {
        if let Subject::Email(email) = subject {
            let named = live.erase_left_messages(email).await.context("Failed to erase from Redis")?;
            left_messages = named.len();
            ids.extend(named);
        }
        ids.sort_unstable();
        ids.dedup();
        for id in &ids {
            live_conversations +=
                usize::from(live.erase_conversation(*id).await.context("Failed to erase from Redis")?);
        }
    }
    let erased = archive.erase(subject, "cli").await.context("Failed to erase from the archive")?;
    Ok(json!({
        "archive": { "conversations": erased.conversations, "events": erased.events },
        "live": { "conversations": live_conversations, "left_messages": left_messages },
    }))
}
