// SPDX-License-Identifier: GPL-2.0

//! The driver VM's two wires to the host: the doorbell port and the IRQ.
//!
//! ivt-shim registers the doorbell port with KVM as an ioeventfd: a write to
//! it signals the host's kick eventfd inside the host kernel, with no exit to
//! user space.  The host raises the guest's interrupt line through an irqfd.
//! This is the audited module of guest_stub's raw port I/O and IRQ use: the
//! kernel crate has no abstraction for either outside a bus driver.

use kernel::{
    bindings, c_str,
    error::to_result,
    ffi::{
        c_int,
        c_void, //
    },
    prelude::*,
};

use crate::counter::SharedCounter;

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
/// The handler is registered on `irq` with `hits`' cookie until [`Drop`]
/// frees it, before `hits` is dropped.
pub(crate) struct HostIrq {
    irq: u32,
    hits: SharedCounter,
}

/// Counts one interrupt from the host.
///
/// # Safety
///
/// `dev` is the cookie of the [`SharedCounter`] of a live [`HostIrq`].
unsafe extern "C" fn host_irq_handler(_irq: c_int, dev: *mut c_void) -> bindings::irqreturn_t {
    // SAFETY: By the function's contract the counter is alive.
    unsafe { SharedCounter::bump(dev) };
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
        let hits = SharedCounter::new()?;
        // SAFETY: `host_irq_handler` has the C signature of an IRQ handler
        // and only bumps the counter behind its cookie, which outlives the
        // registration (freed in `Drop` first).  The name is a static string.
        to_result(unsafe {
            bindings::request_threaded_irq(
                irq,
                Some(host_irq_handler),
                None,
                0,
                c_str!("ikernel_guest").as_char_ptr(),
                hits.cookie(),
            )
        })?;
        // INVARIANT: The handler is registered with `hits`' cookie.
        Ok(Self { irq, hits })
    }

    /// Interrupts taken so far.
    pub(crate) fn hits(&self) -> u64 {
        self.hits.get()
    }
}

impl Drop for HostIrq {
    fn drop(&mut self) {
        // SAFETY: The handler was registered on `irq` with this cookie; after
        // `free_irq` returns it is not running and will not run again, so
        // `hits` may be dropped (after this function, as a field).
        unsafe { bindings::free_irq(self.irq, self.hits.cookie()) };
    }
}

// SAFETY: `HostIrq` only owns the registration and an atomic counter, both
// usable from any thread.
unsafe impl Send for HostIrq {}
// SAFETY: `hits` is an atomic read.
unsafe impl Sync for HostIrq {}
