//! Runs a future that never waits (the in-process providers) without an async runtime, so the
//! synchronous [`crate::LocalKeyring`] shares the async code path instead of duplicating it.

use std::future::Future;
use std::task::{Context, Poll, Waker};

/// The future's output if it completes on the first poll.
pub(crate) fn now<F: Future>(future: F) -> Option<F::Output> {
    let mut future = std::pin::pin!(future);
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(out) => Some(out),
        Poll::Pending => None,
    }
}
