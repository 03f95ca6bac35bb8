// SPDX-License-Identifier: GPL-2.0

//! The driver VM's two wires to the host: the doorbell port and the IRQ.
//!
//! ivt-shim registers the doorbell port with KVM as an ioeventfd: a write to
//! it signals the host's kick eventfd inside the host kernel, with no exit to
//! user space.  The host raises the guest's interrupt line through an irqfd.
//! This is the audited module of guest_stub's raw port I/O and IRQ use: the
//! kernel crate has no abstraction for either outside a bus driver.

use core::ptr::NonNull;
use kernel::{
    bindings, c_str,
    error::to_result,
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

/// The doorbell: a write to an I/O port that KVM turns into an eventfd
/// signal on the host.
pub(crate) struct Doorbell {
    port: u16,
}

impl Doorbell {
    /// The doorbell at `port`, as given on the command line.
    ///
    /// # Errors
    ///
    /// `EINVAL` unless `port` is a 16-bit port other than 0.
    pub(crate) fn new(port: u32) -> Result<Self> {
        match u16::try_from(port) {
            Ok(port) if port != 0 => Ok(Self { port }),
            _ => Err(EINVAL),
        }
    }

    /// Rings the doorbell.
    pub(crate) fn ring(&self) {
        // SAFETY: A 32-bit port write to the port ivt-shim assigned to this
        // driver VM for its doorbell; KVM consumes it (ioeventfd), no device
        // of the guest decodes it.  It touches no memory and no stack.
        unsafe {
            core::arch::asm!(
                "out dx, eax",
                in("dx") self.port,
                in("eax") 1u32,
                options(nomem, nostack, preserves_flags)
            )
        };
    }
}

/// The interrupt line the host raises, with a count of interrupts taken.
///
/// # Invariants
///
/// The handler is registered on `irq` with `hits` as its cookie until
/// [`Drop`] frees it; `hits` lives until after that.
pub(crate) struct HostIrq {
    irq: u32,
    hits: NonNull<Atomic<u64>>,
}

/// Counts one interrupt from the host.
///
/// # Safety
///
/// `dev` is the cookie registered by [`HostIrq::request`]: a live
/// `Atomic<u64>`.
unsafe extern "C" fn host_irq_handler(_irq: c_int, dev: *mut c_void) -> bindings::irqreturn_t {
    // SAFETY: By the function's contract `dev` points to a live `Atomic<u64>`
    // (it outlives the registration, see `HostIrq`'s invariant).
    let hits = unsafe { &*dev.cast::<Atomic<u64>>() };
    hits.add(1, Relaxed);
    bindings::irqreturn::IRQ_HANDLED
}

impl HostIrq {
    /// Requests `irq` for the host's interrupts.
    ///
    /// The line shows up as `ikernel_guest` in `/proc/interrupts`.
    pub(crate) fn request(irq: u32) -> Result<Self> {
        if irq == 0 {
            return Err(EINVAL);
        }
        let hits = KBox::into_raw(KBox::new(Atomic::new(0u64), GFP_KERNEL)?);
        // SAFETY: `host_irq_handler` has the C signature of an IRQ handler
        // and only uses its cookie, `hits`, which stays allocated until after
        // `free_irq` (see `Drop`).  The name is a static string.
        let ret = unsafe {
            bindings::request_threaded_irq(
                irq,
                Some(host_irq_handler),
                None,
                0,
                c_str!("ikernel_guest").as_char_ptr(),
                hits.cast(),
            )
        };
        if let Err(e) = to_result(ret) {
            // SAFETY: `hits` came from `KBox::into_raw` and was not registered.
            drop(unsafe { KBox::from_raw(hits) });
            return Err(e);
        }
        // INVARIANT: The handler is registered with `hits` as its cookie.
        Ok(Self {
            irq,
            // SAFETY: `KBox::into_raw` never returns null.
            hits: unsafe { NonNull::new_unchecked(hits) },
        })
    }

    /// Interrupts taken so far.
    pub(crate) fn hits(&self) -> u64 {
        // SAFETY: `hits` is live while `self` is (type invariant).
        unsafe { self.hits.as_ref() }.load(Relaxed)
    }
}

impl Drop for HostIrq {
    fn drop(&mut self) {
        // SAFETY: The handler was registered on `irq` with this cookie; after
        // `free_irq` returns it is not running and will not run again.
        unsafe { bindings::free_irq(self.irq, self.hits.as_ptr().cast()) };
        // SAFETY: `hits` came from `KBox::into_raw` and nothing uses it now.
        drop(unsafe { KBox::from_raw(self.hits.as_ptr()) });
    }
}

// SAFETY: `HostIrq` only owns the registration and an atomic counter, both
// usable from any thread.
unsafe impl Send for HostIrq {}
// SAFETY: `hits` is an atomic read.
unsafe impl Sync for HostIrq {}
