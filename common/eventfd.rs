// SPDX-License-Identifier: GPL-2.0

//! An owned reference to an eventfd context, the doorbells of a channel.
//!
//! The kernel crate has no eventfd abstraction, so this module is the one
//! audited place where the stubs use the eventfd C API.

use core::ptr::NonNull;
use kernel::{
    bindings,
    error::from_err_ptr,
    prelude::*, //
};

/// A reference to an eventfd context, taken from a file descriptor.
///
/// # Invariants
///
/// `ctx` is a valid eventfd context on which this value holds one reference,
/// released exactly once in [`Drop`].
pub(crate) struct EventFd {
    ctx: NonNull<bindings::eventfd_ctx>,
}

impl EventFd {
    /// Takes a reference to the eventfd behind `fd` in the current process.
    ///
    /// # Errors
    ///
    /// `EBADF` if `fd` is not open, `EINVAL` if it is not an eventfd.
    pub(crate) fn from_fd(fd: i32) -> Result<Self> {
        // SAFETY: `eventfd_ctx_fdget` accepts any integer; it looks the fd up
        // in the current task's table and returns a referenced context or an
        // error pointer.
        let raw = from_err_ptr(unsafe { bindings::eventfd_ctx_fdget(fd) })?;
        let ctx = NonNull::new(raw).ok_or(EINVAL)?;
        // INVARIANT: `eventfd_ctx_fdget` returned a context with a reference
        // that we now own.
        Ok(Self { ctx })
    }

    /// Signals the eventfd: adds one to its counter and wakes its waiters.
    ///
    /// Safe in any context, including with spinlocks held.
    pub(crate) fn signal(&self) {
        // SAFETY: `ctx` is a valid context by the type invariant.
        unsafe { bindings::eventfd_signal_mask(self.ctx.as_ptr(), 0) };
    }
}

impl Drop for EventFd {
    fn drop(&mut self) {
        // SAFETY: By the type invariant we own one reference to `ctx`, and
        // this is the only place that gives it back.
        unsafe { bindings::eventfd_ctx_put(self.ctx.as_ptr()) };
    }
}

// SAFETY: An eventfd context is reference counted and its operations are
// thread safe; the reference may be dropped on any thread.
unsafe impl Send for EventFd {}
// SAFETY: `signal` may be called concurrently from any thread.
unsafe impl Sync for EventFd {}
