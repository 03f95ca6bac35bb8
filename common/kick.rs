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

use crate::counter::SharedCounter;

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

/// Counts one doorbell.
///
/// # Safety
///
/// `data` is the cookie of the [`SharedCounter`] of a live [`Kick`].
unsafe extern "C" fn count_kick(data: *mut c_void) {
    // SAFETY: By the function's contract the counter is alive.
    unsafe { SharedCounter::bump(data) };
}

/// A callback hooked into a kick eventfd: counts every doorbell.
///
/// # Invariants
///
/// `raw` is a live handle of `ikernel_kick_attach` whose callback argument
/// is `kicks`' cookie, detached in [`Drop`] before `kicks` is dropped.
pub(crate) struct Kick {
    raw: NonNull<RawKick>,
    kicks: SharedCounter,
}

impl Kick {
    /// Hooks into the eventfd `fd` of the current process.
    ///
    /// # Errors
    ///
    /// `EBADF` if `fd` is not open, `EINVAL` if it is not an eventfd.
    pub(crate) fn attach(fd: i32) -> Result<Self> {
        let kicks = SharedCounter::new()?;
        // SAFETY: `count_kick` only bumps the counter behind its argument,
        // which outlives the registration (detached in `Drop` first).
        let raw = unsafe { ikernel_kick_attach(fd, count_kick, kicks.cookie()) };
        let raw = NonNull::new(from_err_ptr(raw)?).ok_or(EINVAL)?;
        // INVARIANT: `raw` is attached with `kicks`' cookie.
        Ok(Self { raw, kicks })
    }

    /// Doorbells seen so far.
    pub(crate) fn count(&self) -> u64 {
        self.kicks.get()
    }
}

impl Drop for Kick {
    fn drop(&mut self) {
        // SAFETY: `raw` is a live handle (type invariant); after this the
        // callback is not running and will not run again, so `kicks` may be
        // dropped (after this function, as a field).
        unsafe { ikernel_kick_detach(self.raw.as_ptr()) };
    }
}

// SAFETY: The handle may be used and dropped on any thread; the callback
// only does an atomic increment.
unsafe impl Send for Kick {}
// SAFETY: `count` is an atomic load.
unsafe impl Sync for Kick {}
