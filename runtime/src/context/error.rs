//! Why a context ended: [`Error`] (Go's `context.Canceled` and
//! `context.DeadlineExceeded`) and [`Cause`], the error a canceller may
//! attach (Go 1.20's `WithCancelCause`).
//!
//! `Error` is stored in one atomic byte per cancelable context, so `err()`
//! is a single load; `code`/`from_code` are that encoding.

use std::fmt;
use std::sync::Arc;

/// Why a context is done: returned by [`Context::err`](super::Context::err).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Error {
    /// It was cancelled (a `CancelFunc`, or a cancelled ancestor).
    Canceled,
    /// Its deadline passed (or an ancestor's did).
    DeadlineExceeded,
}

/// The error a context was cancelled with, as returned by
/// [`Context::cause`](super::Context::cause): the cause given to
/// [`CancelCauseFunc::cancel`](super::CancelCauseFunc::cancel) or to
/// [`with_deadline_cause`](super::with_deadline_cause), else the context's
/// [`Error`]. Downcast it (`cause.downcast_ref::<MyError>()`) to recover a
/// typed cause.
pub type Cause = Arc<dyn std::error::Error + Send + Sync>;

impl Error {
    /// Not done yet (the atomic's value while a context is live).
    pub(super) const LIVE: u8 = 0;

    pub(super) fn code(self) -> u8 {
        match self {
            Error::Canceled => 1,
            Error::DeadlineExceeded => 2,
        }
    }

    pub(super) fn from_code(code: u8) -> Option<Error> {
        match code {
            Error::LIVE => None,
            1 => Some(Error::Canceled),
            _ => Some(Error::DeadlineExceeded),
        }
    }

    /// Whether this is [`Error::DeadlineExceeded`] (Go's `Timeout()`).
    pub fn is_timeout(self) -> bool {
        self == Error::DeadlineExceeded
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Error::Canceled => "context canceled",
            Error::DeadlineExceeded => "context deadline exceeded",
        })
    }
}

impl std::error::Error for Error {}
