//! Erasure on request (`baton privacy erase`, `POST /v1/admin/privacy/erase`): what the live
//! store holds of one visitor.
//!
//! # Contract
//! - [`Erase::erase_conversation`] removes everything kept for the conversation: its events,
//!   records, counters, dedupe keys, resume token, queue entry, assignment and its place in
//!   the archive feed (so no archiver copies it again) and its link in the visitor index
//!   ([`super::VisitorIndex`]), in one atomic step; it returns whether the conversation
//!   existed. Sockets that follow it are not closed: the next
//!   resume finds nothing.
//! - [`Erase::erase_left_messages`] removes every left message of an email (any case), on
//!   one site when `site` is given, and returns the conversations they named.
//! - [`Erase::conversations_with_email`] names the live conversations whose visitor left
//!   this email (on one site when `site` is given), as far as the store can tell without a
//!   scan of a shared database (memory: all of them; Redis: none, the archive and the left
//!   messages name them).
//! - [`Erase::erase_user`] removes a verified user's entry in the visitor index of one site
//!   (identity → conversations) and returns the conversations it linked.

use async_trait::async_trait;

use super::StoreError;
use crate::protocol::ConversationId;

#[async_trait]
pub trait Erase: Send + Sync + 'static {
    async fn erase_conversation(&self, id: ConversationId) -> Result<bool, StoreError>;
    async fn erase_left_messages(&self, email: &str, site: Option<&str>) -> Result<Vec<ConversationId>, StoreError>;
    async fn conversations_with_email(
        &self,
        email: &str,
        site: Option<&str>,
    ) -> Result<Vec<ConversationId>, StoreError>;
    async fn erase_user(&self, site: &str, user_id: &str) -> Result<Vec<ConversationId>, StoreError>;
}
