//! The visitor index: which conversations a verified visitor (a site's `user_id`) had, so
//! that on another device they see their recent conversations instead of a blank chat.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::StoreError;
use crate::protocol::ConversationId;

/// A user's links kept per site, the newest: older ones are dropped as new ones come.
pub const USER_CONVERSATIONS_KEPT: usize = 50;

/// # Contract
/// [`VisitorIndex::link_user`] records that conversation `id` of `site`, started at `at`,
/// belongs to the verified user `user_id`; linking the same conversation again changes
/// nothing. [`VisitorIndex::user_conversations`] gives at most `limit` of that user's
/// conversations on that site started at or after `since`, newest first. Users of different
/// sites never share links, whatever their ids. A store keeps the newest
/// [`USER_CONVERSATIONS_KEPT`] links per user and forgets a link when its conversation
/// expires (or, on Redis, with the conversation's retention after the user's last link);
/// a caller still checks that each conversation it is given exists.
#[async_trait]
pub trait VisitorIndex: Send + Sync + 'static {
    async fn link_user(
        &self,
        site: &str,
        user_id: &str,
        id: ConversationId,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    async fn user_conversations(
        &self,
        site: &str,
        user_id: &str,
        since: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<ConversationId>, StoreError>;
}
