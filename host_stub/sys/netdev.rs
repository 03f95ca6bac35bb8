// SPDX-License-Identifier: GPL-2.0

//! The host network device of a net export, over `netdev.c`.
//!
//! Rust-for-Linux has no `net_device` abstraction yet; `netdev.c` holds the
//! plumbing (registration, `net_device_ops`, NAPI, statistics) and these
//! are its only callers.  `net.rs` decides what to do with frames.

use core::ptr::NonNull;
use kernel::{
    error::{
        from_err_ptr,
        to_result, //
    },
    ffi::{
        c_char,
        c_int,
        c_uint,
        c_void, //
    },
    prelude::*,
};

#[repr(C)]
struct RawNetDev {
    _private: [u8; 0],
}

extern "C" {
    fn ikernel_netdev_alloc(
        name: *const c_char,
        mtu: c_uint,
        max_mtu: c_uint,
        rust: *mut c_void,
    ) -> *mut RawNetDev;
    fn ikernel_netdev_register(dev: *mut RawNetDev) -> c_int;
    fn ikernel_netdev_destroy(dev: *mut RawNetDev);
    fn ikernel_netdev_ifindex(dev: *mut RawNetDev) -> c_int;
    fn ikernel_netdev_mtu(dev: *mut RawNetDev) -> c_uint;
    fn ikernel_netdev_tx_head_len(dev: *mut RawNetDev) -> c_int;
    fn ikernel_netdev_tx_copy(dev: *mut RawNetDev, dst: *mut u8, len: c_uint);
    fn ikernel_netdev_tx_drop_head(dev: *mut RawNetDev);
    fn ikernel_netdev_tx_done(dev: *mut RawNetDev, frames: u32, bytes: u64, dropped: u32);
    fn ikernel_netdev_rx(dev: *mut RawNetDev, data: *const u8, len: c_uint) -> c_int;
    fn ikernel_netdev_rx_flush(dev: *mut RawNetDev);
    fn ikernel_netdev_rx_bad(dev: *mut RawNetDev, length_errors: u32, dropped: u32);
    fn ikernel_netdev_carrier(dev: *mut RawNetDev, on: bool);
    fn ikernel_netdev_set_info(dev: *mut RawNetDev, mac: *const u8, mtu: c_uint) -> c_int;
}

/// A registered host network device, owned: dropping it unregisters and
/// frees it.
pub(crate) struct NetDev {
    dev: DevRef,
}

/// A borrowed handle of a [`NetDev`], for the code its callbacks start.
///
/// # Invariants
///
/// The device it names is registered, or about to be: whoever holds one
/// uses it only while the [`NetDev`] it came from lives.  Dropping that
/// closes the device first, so code that runs only between its open and
/// stop callbacks (and stop waits for) may keep one (see
/// [`NetDev::create`]).
#[derive(Clone, Copy)]
pub(crate) struct DevRef {
    raw: NonNull<RawNetDev>,
}

// SAFETY: A `net_device` may be used from any thread; every function above
// takes the locks it needs.
unsafe impl Send for DevRef {}
// SAFETY: As above: every function above may run concurrently with any
// other (the transmit and receive functions have one caller each, the
// transmit and receive work).
unsafe impl Sync for DevRef {}

impl NetDev {
    /// Registers a device named `name` (NUL-terminated) with MTU `mtu`, at
    /// most `max_mtu`.  Its callbacks (`ikernel_net_*` in `net.rs`) get
    /// `rust`.  `ready` gets the device's handle before it is registered
    /// (and so before any callback can run).
    ///
    /// # Safety
    ///
    /// `rust` must stay valid for those callbacks until the returned
    /// [`NetDev`] is dropped, and the handle given to `ready` must be used
    /// only as [`DevRef`]'s invariant says.
    pub(crate) unsafe fn create(
        name: &[u8],
        mtu: u32,
        max_mtu: u32,
        rust: *mut c_void,
        ready: impl FnOnce(DevRef),
    ) -> Result<Self> {
        if name.last() != Some(&0) {
            return Err(EINVAL);
        }
        // SAFETY: `name` is NUL-terminated (checked); the caller vouches
        // for `rust`.
        let raw = unsafe { ikernel_netdev_alloc(name.as_ptr().cast(), mtu, max_mtu, rust) };
        let raw = NonNull::new(from_err_ptr(raw)?).ok_or(EINVAL)?;
        ready(DevRef { raw });
        // SAFETY: `raw` is a device `ikernel_netdev_alloc` made, registered
        // once.  On failure the C side freed it before any callback could
        // run, so the handle `ready` got was never used (the caller drops
        // it unused with this error).
        to_result(unsafe { ikernel_netdev_register(raw.as_ptr()) })?;
        // INVARIANT: registered, until `Drop`.
        Ok(Self {
            dev: DevRef { raw },
        })
    }

    /// The interface index.
    pub(crate) fn ifindex(&self) -> u32 {
        // SAFETY: `self.dev` is registered while `self` lives.
        let i = unsafe { ikernel_netdev_ifindex(self.dev.ptr()) };
        u32::try_from(i).unwrap_or(0)
    }
}

impl DevRef {
    fn ptr(&self) -> *mut RawNetDev {
        self.raw.as_ptr()
    }

    /// The current MTU.
    pub(crate) fn mtu(&self) -> u32 {
        // SAFETY: Registered (type invariant).
        unsafe { ikernel_netdev_mtu(self.ptr()) }
    }

    /// The length of the frame at the head of the transmit queue.
    pub(crate) fn tx_head_len(&self) -> Option<usize> {
        // SAFETY: Registered (type invariant).
        let n = unsafe { ikernel_netdev_tx_head_len(self.ptr()) };
        usize::try_from(n).ok()
    }

    /// Takes the head frame into `dst`, whose length must be the one
    /// [`Self::tx_head_len`] gave.  Only the transmit work takes frames.
    pub(crate) fn tx_take(&self, dst: &mut [u8]) {
        let Ok(len) = c_uint::try_from(dst.len()) else {
            self.tx_drop_head();
            return;
        };
        // SAFETY: Registered (type invariant); `dst` is valid for `len`
        // bytes of writes, and the C side copies only a head frame of
        // exactly `len` bytes.
        unsafe { ikernel_netdev_tx_copy(self.ptr(), dst.as_mut_ptr(), len) };
    }

    /// Drops the head frame, counted as dropped.
    pub(crate) fn tx_drop_head(&self) {
        // SAFETY: Registered (type invariant).
        unsafe { ikernel_netdev_tx_drop_head(self.ptr()) };
    }

    /// Accounts a batch: `frames` sent with `bytes`, `dropped` lost.
    pub(crate) fn tx_done(&self, frames: u32, bytes: u64, dropped: u32) {
        // SAFETY: Registered (type invariant).
        unsafe { ikernel_netdev_tx_done(self.ptr(), frames, bytes, dropped) };
    }

    /// Queues a received frame for NAPI (its length checked by the caller).
    pub(crate) fn rx(&self, frame: &[u8]) -> Result {
        let len = c_uint::try_from(frame.len())?;
        // SAFETY: Registered (type invariant); `frame` is valid for `len`
        // bytes of reads, copied before the call returns.
        to_result(unsafe { ikernel_netdev_rx(self.ptr(), frame.as_ptr(), len) })
    }

    /// Schedules NAPI for the frames [`Self::rx`] queued.
    pub(crate) fn rx_flush(&self) {
        // SAFETY: Registered (type invariant).
        unsafe { ikernel_netdev_rx_flush(self.ptr()) };
    }

    /// Counts received frames dropped for their length, or otherwise.
    pub(crate) fn rx_bad(&self, length_errors: u32, dropped: u32) {
        // SAFETY: Registered (type invariant).
        unsafe { ikernel_netdev_rx_bad(self.ptr(), length_errors, dropped) };
    }

    /// Turns the carrier on or off.
    pub(crate) fn carrier(&self, on: bool) {
        // SAFETY: Registered (type invariant).
        unsafe { ikernel_netdev_carrier(self.ptr(), on) };
    }

    /// Gives the device the guest interface's MAC address and caps its MTU
    /// at the guest's `mtu`, without waiting for the RTNL: `EBUSY` to try
    /// again later, `EADDRNOTAVAIL` for an address no interface may have,
    /// `EINVAL` for an MTU below 68.
    pub(crate) fn set_info(&self, mac: &[u8; 6], mtu: u32) -> Result {
        // SAFETY: Registered (type invariant); `mac` is six readable bytes,
        // read before the call returns.
        to_result(unsafe { ikernel_netdev_set_info(self.ptr(), mac.as_ptr(), mtu) })
    }
}

impl Drop for NetDev {
    fn drop(&mut self) {
        // SAFETY: Registered (type invariant of `dev`), destroyed only
        // here; this closes the interface first, which stops its work.
        unsafe { ikernel_netdev_destroy(self.dev.ptr()) };
    }
}

/// Waits until a work item that is running or queued has finished.
///
/// # Safety
///
/// `work` must point to an initialised work item that stays valid during
/// the call.
pub(crate) unsafe fn flush_work(work: *mut kernel::bindings::work_struct) {
    // SAFETY: The caller guarantees `work`.
    unsafe { kernel::bindings::flush_work(work) };
}
