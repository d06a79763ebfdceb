//! The task, one per node, that copies the live log into the archive: it claims
//! conversations from the live store's feed, reads their events after the archive's own high
//! water, writes them (with each conversation's row) in one transaction per round, and
//! reports them archived. A crash anywhere in between leaves the conversation in the feed (its claim
//! lapses) and the next copy starts from the archive's high water again, so every event
//! is written exactly once. While the database (or the live store) is down it backs off and
//! tries again; the live chat never waits on it.

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::{Archive, ArchiveError, ConversationCopy};
use crate::protocol::{ConversationId, Event};
use crate::store::feed::{ArchiveFeed, Unarchived};
use crate::store::{EventLog, StoreError};

/// Conversations claimed per round.
const CLAIM: usize = 32;
/// Events read from the live log per page (a conversation holds at most
/// `store.max_events_per_conversation`).
const PAGE: usize = 500;
/// How long to wait after a failure: doubled up to the most, reset by a success.
const BACKOFF_FIRST: Duration = Duration::from_millis(100);
const BACKOFF_MOST: Duration = Duration::from_secs(5);

#[derive(Debug, thiserror::Error)]
enum CopyError {
    #[error(transparent)]
    Archive(#[from] ArchiveError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a claimed conversation's first read found.
enum Page {
    /// Expired from the live store (and reported archived).
    Gone,
    /// Everything new, to write with the round's batch.
    Whole(Box<ConversationCopy>),
    /// The first of several pages: copied alone.
    Partial(Box<ConversationCopy>),
}

#[derive(Clone)]
pub struct Archiver {
    pub log: Arc<dyn EventLog>,
    pub feed: Arc<dyn ArchiveFeed>,
    pub archive: Arc<dyn Archive>,
    /// How often an idle archiver looks at the feed.
    pub poll: Duration,
    /// A claim lapses after this: another node (or this one) copies the conversation then.
    pub lease: Duration,
    /// The sites whose archive keeps personal data masked.
    pub masks: super::masking::ArchiveMasks,
}

impl Archiver {
    pub fn spawn(self, stop: CancellationToken) {
        tokio::spawn(async move { self.run(stop).await });
    }

    async fn run(self, stop: CancellationToken) {
        let mut backoff = BACKOFF_FIRST;
        let mut migrated = false;
        loop {
            let result = match migrated {
                true => self.round().await,
                false => self.archive.migrate().await.map(|()| 1).map_err(|e| e.to_string()),
            };
            migrated |= result.is_ok();
            let wait = match result {
                Ok(0) => {
                    backoff = BACKOFF_FIRST;
                    self.poll
                }
                Ok(_) => {
                    backoff = BACKOFF_FIRST;
                    Duration::ZERO
                }
                Err(error) => {
                    tracing::warn!(%error, retry_in_ms = backoff.as_millis() as u64, "archive: copy failed");
                    let wait = backoff;
                    backoff = (backoff * 2).min(BACKOFF_MOST);
                    wait
                }
            };
            tokio::select! {
                () = stop.cancelled() => return,
                () = tokio::time::sleep(wait) => {}
            }
        }
    }

    /// Copies what one claim gives; returns how many conversations it copied. The claimed
    /// conversations whose new events fit in one page are written in one transaction (one
    /// commit for the round, not one per conversation); a longer one is copied alone, page
    /// by page. On a failure, the claims not yet copied are released (due again at once) as
    /// far as the store allows.
    pub async fn round(&self) -> Result<usize, String> {
        let claimed = self.feed.claim_unarchived(CLAIM, self.lease).await.map_err(|e| e.to_string())?;
        let total = claimed.len();
        // Released on a failure: every claim not yet reported archived.
        let mut unfinished: Vec<ConversationId> = claimed.iter().map(|item| item.id).collect();
        let (mut items, mut copies, mut long) = (Vec::new(), Vec::new(), Vec::new());
        for item in &claimed {
            match self.first_page(item).await {
                Ok(Page::Gone) => unfinished.retain(|id| *id != item.id),
                Ok(Page::Whole(copy)) => {
                    items.push(item);
                    copies.push(*copy);
                }
                Ok(Page::Partial(first)) => long.push((item, *first)),
                Err(error) => return Err(self.release(unfinished, error, item).await),
            }
        }
        if let Some(first) = items.first()
            && let Err(error) = self.archive.write_all(&copies).await
        {
            return Err(self.release(unfinished, error.into(), first).await);
        }
        for item in items {
            if let Err(error) = self.feed.archived(item.id, item.rev).await {
                return Err(self.release(unfinished, error.into(), item).await);
            }
            unfinished.retain(|id| *id != item.id);
            crate::telemetry::metrics::archive_copied();
        }
        for (item, first) in long {
            if let Err(error) = self.copy_long(item, first).await {
                return Err(self.release(unfinished, error, item).await);
            }
            unfinished.retain(|id| *id != item.id);
        }
        Ok(total)
    }

    /// Releases these claims (rev 0 never matches, so each is due again at once) and says
    /// which conversation failed and why.
    async fn release(&self, claims: Vec<ConversationId>, error: CopyError, failed: &Unarchived) -> String {
        for id in claims {
            let _ = self.feed.archived(id, 0).await;
        }
        format!("{} ({})", error, failed.id)
    }

    /// The conversation and the first page of its events after the archive's high water, as
    /// the site's archive keeps them; a conversation gone from the live store is reported
    /// archived at once.
    async fn first_page(&self, item: &Unarchived) -> Result<Page, CopyError> {
        let Some(conversation) = self.log.conversation(item.id).await? else {
            self.feed.archived(item.id, item.rev).await?;
            return Ok(Page::Gone);
        };
        let after = self.archive.high_water(item.id).await?;
        let events = self.page(item.id, after, &conversation.site).await?;
        let full = events.len() == PAGE;
        let conversation = match self.masks.for_site(&conversation.site) {
            Some(redactor) => super::masking::conversation(&conversation, redactor),
            None => conversation,
        };
        let copy = Box::new(ConversationCopy { conversation, events, rev: item.rev });
        Ok(if full { Page::Partial(copy) } else { Page::Whole(copy) })
    }

    /// Up to a page of a conversation's events after `after`, masked as `site`'s archive keeps
    /// them.
    async fn page(&self, id: ConversationId, after: u64, site: &str) -> Result<Vec<Arc<Event>>, CopyError> {
        let events = match self.log.events_after(id, after, PAGE).await {
            Ok(events) => events,
            Err(StoreError::NotFound) => Vec::new(),
            Err(error) => return Err(error.into()),
        };
        Ok(match self.masks.for_site(site) {
            Some(redactor) => events.iter().map(|event| super::masking::event(event, redactor)).collect(),
            None => events,
        })
    }

    /// A conversation with more than a page of new events: its first page, then the rest,
    /// a transaction each.
    async fn copy_long(&self, item: &Unarchived, first: ConversationCopy) -> Result<(), CopyError> {
        let ConversationCopy { conversation, mut events, rev } = first;
        loop {
            self.archive.write(&conversation, &events, rev).await?;
            match events.last() {
                Some(last) if events.len() == PAGE => {
                    let after = last.seq;
                    events = self.page(item.id, after, &conversation.site).await?;
                }
                _ => break,
            }
        }
        self.feed.archived(item.id, item.rev).await?;
        crate::telemetry::metrics::archive_copied();
        Ok(())
    }

    /// Copies until the feed is empty (tools and tests; the task does this on its own).
    pub async fn drain(&self) -> Result<(), String> {
        while self.round().await? > 0 {}
        Ok(())
    }
}
