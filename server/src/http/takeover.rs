//! Sockets whose session writes its frames itself. The upgrade hook
//! ([`crate::http::transport`]) puts a [`Takeover`] in each upgrade request; a handler that
//! takes the socket over answers `101` with an empty body, and once that head is written its
//! session is spawned with the connection's writing half ([`Upgraded`]). A `101` with a body
//! (actix-ws's) is copied to the socket by a task instead. Writing the frames in the session's
//! own task saves the channel of 32 messages and the copying task actix-ws keeps per socket
//! (see [`crate::session::socket`]).

use std::cell::Cell;
use std::future::Future;
use std::rc::Rc;

use actix_web::{HttpMessage, HttpRequest};
use tokio::net::tcp::OwnedWriteHalf;

use super::transport::Slot;

/// An upgraded socket's connection, handed to the session that took it over: the writing
/// half, counted as an open socket (for the per-worker cap and for shutdown) while it lives.
pub struct Upgraded {
    pub(crate) half: OwnedWriteHalf,
    _slot: Slot,
}

/// What starts a taken-over socket's session once its `101` is written.
type Start = Box<dyn FnOnce(Upgraded)>;

/// In each upgrade request's extensions: whether, and with what, a handler took it over.
#[derive(Clone, Default)]
pub struct Takeover(Rc<Cell<Option<Start>>>);

impl Takeover {
    /// The takeover of `request`; `None` unless it came through the upgrade hook.
    pub fn of(request: &HttpRequest) -> Option<Takeover> {
        request.extensions().get::<Takeover>().cloned()
    }

    /// Runs `session` on a task of its own once the `101` is written (never, if the response
    /// is anything else).
    pub fn start<F, S>(&self, session: F)
    where
        F: FnOnce(Upgraded) -> S + 'static,
        S: Future<Output = ()> + 'static,
    {
        self.0.set(Some(Box::new(move |conn| {
            actix_web::rt::spawn(session(conn));
        })));
    }

    /// Starts the session with the connection if the socket was taken over; gives it back if not.
    pub(super) fn begin(&self, half: OwnedWriteHalf, slot: Slot) -> Option<(OwnedWriteHalf, Slot)> {
        match self.0.take() {
            Some(start) => {
                start(Upgraded { half, _slot: slot });
                None
            }
            None => Some((half, slot)),
        }
    }
}
