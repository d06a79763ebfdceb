//! `baton privacy export` and `baton privacy erase`: one visitor's data from the archive and,
//! when the live store is shared (Redis), from the live store too. Erasure goes live store
//! first, so an archiver cannot copy back what the archive just lost.

use std::sync::Arc;

use anyhow::Context;
use secrecy::ExposeSecret;
use serde_json::json;

use super::Archive;
use super::erasure::Within;
use super::privacy::Subject;
use super::sql::SqlArchive;
use crate::config::Settings;
use crate::store::erase::Erase;
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

/// Everything held about the subject, as one JSON object.
pub async fn export(settings: &Settings, subject: &Subject) -> anyhow::Result<serde_json::Value> {
    let (archive, live) = open(settings).await?;
    let left = match (&live, subject) {
        (Some(live), Subject::Email(email)) => live.left_messages_of(email).await.context("Failed to read Redis")?,
        _ => Vec::new(),
    };
    let held = archive.privacy_export(subject, None, left, "cli").await.context("Failed to read the archive")?;
    Ok(serde_json::to_value(held)?)
}

/// Erases the subject's data from the archive and, when the live store is shared (Redis),
/// from it too; returns the counts. An in-memory live store is reachable only through the
/// server that holds it: `baton privacy erase --server URL` (see [`remote_erase`]).
pub async fn erase(settings: &Settings, subject: &Subject) -> anyhow::Result<serde_json::Value> {
    let (archive, live) = open(settings).await?;
    let live = live.as_ref().map(|store| store as &dyn Erase);
    let attachments = crate::attachments::Attachments::open(&settings.attachments, &settings.sites).ok();
    let sites: Vec<String> = settings.sites.iter().map(|site| site.id.clone()).collect();
    let report =
        super::erasure::erase(&archive, live, Within::Every(&sites), attachments.as_ref(), subject, "cli").await?;
    let mut answer = serde_json::to_value(&report)?;
    if live.is_none() {
        answer["live"] = json!({ "skipped": "the in-memory live store lives in the server: use --server URL" });
    }
    Ok(answer)
}

/// `baton privacy erase --server URL`: asks a running server to erase the subject
/// everywhere (its live store, memory or Redis, the attachments and the archive), signed in
/// as an admin agent with the token in `BATON_ADMIN_TOKEN`.
pub async fn remote_erase(server: &str, token: &str, subject: &Subject) -> anyhow::Result<serde_json::Value> {
    let url = format!("{}/v1/admin/privacy/erase", server.trim_end_matches('/'));
    let response = reqwest::Client::new()
        .post(&url)
        .bearer_auth(token)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(subject.to_json().to_string())
        .timeout(std::time::Duration::from_secs(60))
        .send()
        .await
        .with_context(|| format!("Failed to reach {url}"))?;
    let status = response.status();
    let text = response.text().await.with_context(|| format!("Failed to read {url}'s answer"))?;
    let body: serde_json::Value =
        serde_json::from_str(&text).with_context(|| format!("{url} answered {status}, not JSON: {text}"))?;
    anyhow::ensure!(status.is_success(), "{url} answered {status}: {body}");
    Ok(body)
}
