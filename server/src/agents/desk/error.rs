//! What a desk operation can be refused with, and the socket's error code for each.

use crate::protocol::ErrorCode;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum DeskError {
    #[error("another agent took this chat first")]
    AlreadyTaken,
    #[error("no such conversation")]
    NotFound,
    #[error("{0}")]
    Forbidden(&'static str),
    /// A transfer the named agent cannot take now, with who can.
    #[error("{0}")]
    TransferRefused(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl DeskError {
    pub fn code(&self) -> ErrorCode {
        match self {
            DeskError::AlreadyTaken => ErrorCode::AlreadyTaken,
            DeskError::NotFound => ErrorCode::NotFound,
            DeskError::Forbidden(_) => ErrorCode::Forbidden,
            DeskError::TransferRefused(_) => ErrorCode::TransferRefused,
            DeskError::Store(_) => ErrorCode::Unavailable,
        }
    }
}

pub(super) const NOT_YOURS: DeskError = DeskError::Forbidden("this chat is not yours");
pub(super) const NOT_YOUR_SITE: DeskError = DeskError::Forbidden("this chat belongs to a site you do not work for");
pub(super) const NOT_YOUR_TEAM: DeskError = DeskError::Forbidden("this chat is waiting for another team");
pub(super) const AT_CAPACITY: DeskError =
    DeskError::Forbidden("you are at your chat limit; resolve or hand back a chat first");
