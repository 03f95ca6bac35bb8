// SPDX-License-Identifier: GPL-2.0

//! A counter that C callbacks bump through an opaque cookie.
//!
//! Doorbell and interrupt callbacks run in atomic context and receive only a
//! `void *`; they count events on a heap-allocated atomic whose address is
//! that cookie.

use core::ptr::NonNull;
use kernel::{
    ffi::c_void,
    prelude::*,
    sync::atomic::{
        Atomic,
        Relaxed, //
    },
};

/// A heap-allocated event counter, addressable from C as a cookie.
///
/// # Invariants
///
/// `ptr` comes from `KBox::into_raw` and is freed exactly once, in [`Drop`].
/// The owner of a `SharedCounter` must stop every callback that uses its
/// cookie before dropping it.
pub(crate) struct SharedCounter {
    ptr: NonNull<Atomic<u64>>,
}

impl SharedCounter {
    /// A counter at zero.
    pub(crate) fn new() -> Result<Self> {
        let raw = KBox::into_raw(KBox::new(Atomic::new(0u64), GFP_KERNEL)?);
        // SAFETY: `KBox::into_raw` never returns null.
        let ptr = unsafe { NonNull::new_unchecked(raw) };
        // INVARIANT: `ptr` comes from `KBox::into_raw`.
        Ok(Self { ptr })
    }

    /// The cookie to hand to C; valid while `self` lives.
    pub(crate) fn cookie(&self) -> *mut c_void {
        self.ptr.as_ptr().cast()
    }

    /// Counts one event, from a callback.
    ///
    /// # Safety
    ///
    /// `cookie` comes from [`SharedCounter::cookie`] of a counter that is
    /// still alive.
    pub(crate) unsafe fn bump(cookie: *mut c_void) {
        // SAFETY: By the function's contract the cookie points to a live
        // `Atomic<u64>`.
        unsafe { &*cookie.cast::<Atomic<u64>>() }.add(1, Relaxed);
    }

    /// Events counted so far.
    pub(crate) fn get(&self) -> u64 {
        // SAFETY: `ptr` is live until `Drop` (type invariant).
        unsafe { self.ptr.as_ref() }.load(Relaxed)
    }
}

impl Drop for SharedCounter {
    fn drop(&mut self) {
        // SAFETY: `ptr` came from `KBox::into_raw` and is freed only here.
        drop(unsafe { KBox::from_raw(self.ptr.as_ptr()) });
    }
}

// SAFETY: The counter is an atomic, usable and freeable on any thread.
unsafe impl Send for SharedCounter {}
// SAFETY: `get` is an atomic load.
unsafe impl Sync for SharedCounter {}
