// SPDX-License-Identifier: GPL-2.0

//! The driver VM's two wires to the host: the doorbell port and the IRQ.
//!
//! ivt-shim registers the doorbell port with KVM as an ioeventfd: a write to
//! it signals the host's kick eventfd inside the host kernel, with no exit to
//! user space.  The host raises the guest's interrupt line through an irqfd.
//! This is the audited module of guest_stub's raw port I/O and IRQ use: the
//! kernel crate has no abstraction for either outside a bus driver.  It also
//! maps the window into the serving process (`remap_pfn_range`, which the
//! kernel crate does not wrap: the window is reserved memory without
//! `struct page`, so `vm_insert_page` cannot map it).

use kernel::{
    bindings, c_str,
    error::to_result,
    ffi::{
        c_int,
        c_void, //
    },
    mm::virt::{
        flags,
        VmaNew, //
    },
    page::{
        PAGE_SHIFT,
        PAGE_SIZE, //
    },
    prelude::*,
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

/// The interrupt line the host raises, with a handler of the caller's.
///
/// # Invariants
///
/// A handler is registered on `irq` with cookie `data` until [`Drop`] frees
/// it.
pub(crate) struct HostIrq {
    irq: u32,
    data: *mut c_void,
}

/// The C signature of an interrupt handler.
pub(crate) type IrqHandler = unsafe extern "C" fn(c_int, *mut c_void) -> bindings::irqreturn_t;

/// What a handler returns when it handled the interrupt.
pub(crate) const IRQ_HANDLED: bindings::irqreturn_t = bindings::irqreturn::IRQ_HANDLED;

impl HostIrq {
    /// Requests `irq` for the host's interrupts; `handler(irq, data)` runs in
    /// hard-interrupt context on each.
    ///
    /// The line shows up as `ikernel_guest` in `/proc/interrupts`.
    ///
    /// # Safety
    ///
    /// `handler` must not sleep, and `data` must stay valid for it until the
    /// returned [`HostIrq`] is dropped.
    pub(crate) unsafe fn request(irq: u32, handler: IrqHandler, data: *mut c_void) -> Result<Self> {
        if irq == 0 {
            return Err(EINVAL);
        }
        // SAFETY: `handler` has the C signature of an IRQ handler and, by the
        // caller's contract, may run with `data` until `Drop` frees the line.
        // The name is a static string.
        to_result(unsafe {
            bindings::request_threaded_irq(
                irq,
                Some(handler),
                None,
                0,
                c_str!("ikernel_guest").as_char_ptr(),
                data,
            )
        })?;
        // INVARIANT: The handler is registered with `data`.
        Ok(Self { irq, data })
    }
}

impl Drop for HostIrq {
    fn drop(&mut self) {
        // SAFETY: A handler was registered on `irq` with this cookie; after
        // `free_irq` returns it is not running and will not run again.
        unsafe { bindings::free_irq(self.irq, self.data) };
    }
}

// SAFETY: `HostIrq` only owns the registration, usable from any thread; the
// cookie is only handed back to `free_irq`.
unsafe impl Send for HostIrq {}
// SAFETY: `HostIrq` has no `&self` methods.
unsafe impl Sync for HostIrq {}

/// One turn of a busy poll: lets every other runnable task of this CPU go
/// first, and returns at once when there is none.
pub(crate) fn poll_yield() {
    // SAFETY: `yield()` may be called from any sleepable context; the
    // servers call it with no lock held.
    unsafe { bindings::yield_() };
}

/// Maps the whole window, `size` bytes of guest-physical memory at `gpa`,
/// into the new user mapping `vma`, shared, readable and writable, never
/// executable; not inherited by a child, not expandable, not dumped.
///
/// # Errors
///
/// `EINVAL` unless `vma` is shared, starts at offset 0 and is exactly
/// `size` bytes long, or if it asks for execution; what `remap_pfn_range`
/// returns otherwise.
pub(crate) fn map_window(vma: &VmaNew, gpa: u64, size: usize) -> Result {
    let raw = vma.as_ptr();
    // SAFETY: `raw` is the live VMA being set up by this `mmap` call, with
    // the mmap lock held for writing; `vm_pgoff` is plain data.
    let pgoff = unsafe { (*raw).vm_pgoff };
    let shared = vma.flags() & flags::SHARED != 0;
    if pgoff != 0
        || !shared
        || vma.end().checked_sub(vma.start()) != Some(size)
        || size % PAGE_SIZE != 0
        || gpa % (PAGE_SIZE as u64) != 0
        || vma.executable()
    {
        return Err(EINVAL);
    }
    vma.try_clear_mayexec()?;
    vma.set_dontcopy();
    vma.set_dontexpand();
    vma.set_dontdump();
    let pfn = usize::try_from(gpa >> PAGE_SHIFT)?;
    // SAFETY: `raw` is the VMA under construction (mmap lock held for
    // writing), `vma.start()..vma.start() + size` is exactly its range, and
    // `pfn..pfn + size / PAGE_SIZE` is the window, which ivt-shim put in a
    // range the e820 map reserves: no page of it belongs to the guest
    // kernel's allocator, so user access to it cannot corrupt kernel memory.
    // `remap_pfn_range` sets VM_IO | VM_PFNMAP itself.
    to_result(unsafe {
        bindings::remap_pfn_range(raw, vma.start(), pfn, size, (*raw).vm_page_prot)
    })
}
