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
    sync::atomic::{
        Atomic,
        Relaxed, //
    },
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

/// Counts one doorbell.
///
/// # Safety
///
/// `data` is the counter registered by [`Kick::attach`], alive until
/// [`Kick`] is dropped.
unsafe extern "C" fn count_kick(data: *mut c_void) {
    // SAFETY: By the function's contract `data` is a live `Atomic<u64>`.
    let kicks = unsafe { &*data.cast::<Atomic<u64>>() };
    kicks.add(1, Relaxed);
}

/// A callback hooked into a kick eventfd: counts every doorbell.
///
/// # Invariants
///
/// `raw` is a live handle of `ikernel_kick_attach` whose callback argument
/// is `kicks`; both live until [`Drop`] detaches and frees them, in that order.
pub(crate) struct Kick {
    raw: NonNull<RawKick>,
    kicks: NonNull<Atomic<u64>>,
}

impl Kick {
    /// Hooks into the eventfd `fd` of the current process.
    ///
    /// # Errors
    ///
    /// `EBADF` if `fd` is not open, `EINVAL` if it is not an eventfd.
    pub(crate) fn attach(fd: i32) -> Result<Self> {
        let kicks = KBox::into_raw(KBox::new(Atomic::new(0u64), GFP_KERNEL)?);
        // SAFETY: `count_kick` only touches its argument, `kicks`, which stays
        // allocated until after `ikernel_kick_detach` (see `Drop`).
        let raw = unsafe { ikernel_kick_attach(fd, count_kick, kicks.cast()) };
        let raw = match from_err_ptr(raw).map(NonNull::new) {
            Ok(Some(raw)) => raw,
            res => {
                // SAFETY: `kicks` came from `KBox::into_raw` and was not
                // registered (attach failed).
                drop(unsafe { KBox::from_raw(kicks) });
                return Err(res.err().unwrap_or(EINVAL));
            }
        };
        // INVARIANT: `raw` is attached with `kicks` as its argument.
        Ok(Self {
            raw,
            // SAFETY: `KBox::into_raw` never returns null.
            kicks: unsafe { NonNull::new_unchecked(kicks) },
        })
    }

    /// Doorbells seen so far.
    pub(crate) fn count(&self) -> u64 {
        // SAFETY: `kicks` is live while `self` is (type invariant).
        unsafe { self.kicks.as_ref() }.load(Relaxed)
    }
}

impl Drop for Kick {
    fn drop(&mut self) {
        // SAFETY: `raw` is a live handle (type invariant); after this the
        // callback is not running and will not run again.
        unsafe { ikernel_kick_detach(self.raw.as_ptr()) };
        // SAFETY: `kicks` came from `KBox::into_raw`; nothing uses it now.
        drop(unsafe { KBox::from_raw(self.kicks.as_ptr()) });
    }
}

// SAFETY: The handle and the counter may be used and dropped on any thread;
// the callback only does an atomic increment.
unsafe impl Send for Kick {}
// SAFETY: `count` is an atomic load.
unsafe impl Sync for Kick {}
