// SPDX-License-Identifier: GPL-2.0

//! Reacting to a driver VM's doorbell inside the host kernel.
//!
//! KVM signals the kick eventfd when the guest writes its doorbell port.
//! [`Kick`] hooks a callback into that eventfd's wait queue (through the C
//! helpers in `host_stub/kick.c`, since the poll API is inline), so host_stub
//! sees each doorbell without a trip through user space.

use core::ptr::NonNull;
use kernel::{
    error::from_err_ptr,
    ffi::{
        c_int,
        c_void, //
    },
    prelude::*,
};

/// `struct ikernel_kick` of `host_stub/kick.c`; opaque here.
#[repr(C)]
pub(crate) struct RawKick {
    _private: [u8; 0],
}

extern "C" {
    fn ikernel_kick_attach(
        fd: c_int,
        cb: unsafe extern "C" fn(*mut c_void),
        data: *mut c_void,
    ) -> *mut RawKick;
    fn ikernel_kick_detach(kick: *mut RawKick);
}

/// A callback hooked into a kick eventfd.
///
/// # Invariants
///
/// `raw` is a live handle of `ikernel_kick_attach`, detached in [`Drop`].
pub(crate) struct Kick {
    raw: NonNull<RawKick>,
}

impl Kick {
    /// Calls `cb(data)` on every signal of the eventfd `fd` of the current
    /// process, and once at once if it is already signalled.
    ///
    /// # Errors
    ///
    /// `EBADF` if `fd` is not open, `EINVAL` if it is not an eventfd.
    ///
    /// # Safety
    ///
    /// `cb` may run in atomic context (under the eventfd's wait-queue lock,
    /// interrupts off) on any CPU until the returned [`Kick`] is dropped; it
    /// must not sleep, and `data` must stay valid for it until then.
    pub(crate) unsafe fn attach(
        fd: i32,
        cb: unsafe extern "C" fn(*mut c_void),
        data: *mut c_void,
    ) -> Result<Self> {
        // SAFETY: The caller guarantees `cb` and `data` for as long as the
        // registration lives, which ends in `Drop`.
        let raw = unsafe { ikernel_kick_attach(fd, cb, data) };
        let raw = NonNull::new(from_err_ptr(raw)?).ok_or(EINVAL)?;
        // INVARIANT: `raw` is attached.
        Ok(Self { raw })
    }
}

impl Drop for Kick {
    fn drop(&mut self) {
        // SAFETY: `raw` is a live handle (type invariant); after this the
        // callback is not running and will not run again.
        unsafe { ikernel_kick_detach(self.raw.as_ptr()) };
    }
}

// SAFETY: The handle may be used and dropped on any thread.
unsafe impl Send for Kick {}
// SAFETY: `Kick` has no `&self` methods.
unsafe impl Sync for Kick {}
