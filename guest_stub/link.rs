// SPDX-License-Identifier: GPL-2.0

//! The guest's end of the shared window.
//!
//! ivt-shim maps the window into the driver VM's physical address space, in
//! a range the e820 map marks reserved, and names it on the kernel command
//! line (`ikernel_guest.window_gpa=` and `ikernel_guest.window_size=`).  This
//! module maps it, attaches to the ring (which validates everything the host
//! wrote), announces the guest as ready and keeps a heartbeat going, so that
//! the VMM can tell a live driver VM from a hung one.

use kernel::{
    bindings,
    ffi::c_ulong,
    new_delayed_work, new_mutex,
    prelude::*,
    sync::{
        atomic::{
            Atomic,
            Relaxed, //
        },
        Arc,
        Mutex, //
    },
    time::msecs_to_jiffies,
    workqueue::{
        self,
        DelayedWork,
        WorkItem, //
    },
};

use crate::{
    hw::{
        Doorbell,
        HostIrq, //
    },
    ring,
    window::KernelWindow, //
};

/// How often the guest proves it is alive.
pub(crate) const HEARTBEAT_MS: u32 = 100;

/// A `memremap` of the window.
///
/// # Invariants
///
/// `base` is a live `memremap(MEMREMAP_WB)` mapping of `size` bytes, unmapped
/// exactly once in [`Drop`].
struct Remap {
    base: *mut u8,
    size: usize,
}

impl Remap {
    /// Maps `size` bytes of guest-physical memory at `gpa`, write-back cached.
    fn new(gpa: u64, size: usize) -> Result<Self> {
        if gpa == 0 || size == 0 || gpa % 4096 != 0 || size % 4096 != 0 {
            return Err(EINVAL);
        }
        // CAST: A small flag constant, lossless into `c_ulong`.
        let flags = bindings::MEMREMAP_WB as c_ulong;
        // SAFETY: `memremap` accepts any range; it refuses (returns NULL) one
        // that is System RAM the kernel owns or that it cannot map.
        let base = unsafe { bindings::memremap(gpa, size, flags) };
        if base.is_null() {
            return Err(ENOMEM);
        }
        // INVARIANT: `memremap` succeeded.
        Ok(Self {
            base: base.cast(),
            size,
        })
    }
}

impl Drop for Remap {
    fn drop(&mut self) {
        // SAFETY: `base` came from `memremap` and is unmapped only here.
        unsafe { bindings::memunmap(self.base.cast()) };
    }
}

// SAFETY: The mapping is plain memory usable from any CPU; `Remap` only owns
// it, all access goes through `KernelWindow`.
unsafe impl Send for Remap {}
// SAFETY: `Remap` has no `&self` methods that touch the memory.
unsafe impl Sync for Remap {}

/// The attached window and its heartbeat.
#[pin_data]
pub(crate) struct Link {
    #[pin]
    guest: Mutex<ring::Guest<KernelWindow>>,
    /// Set when the module goes away: the heartbeat stops re-arming.
    stopping: Atomic<bool>,
    #[pin]
    beat: DelayedWork<Link>,
    /// The doorbell to the host, when one was given.
    doorbell: Option<Doorbell>,
    /// The host's interrupt line, when one was given.
    irq: Option<HostIrq>,
    // Declared after `guest` so that it is dropped after it: the accessor in
    // `guest` points into this mapping.
    remap: Remap,
}

kernel::impl_has_delayed_work! {
    impl HasDelayedWork<Self> for Link { self.beat }
}

impl WorkItem for Link {
    type Pointer = Arc<Link>;

    fn run(this: Arc<Link>) {
        if let Err(e) = this.guest.lock().beat() {
            pr_warn!("ikernel_guest: heartbeat failed: {:?}\n", e);
        }
        if !this.stopping.load(Relaxed) {
            let _ = workqueue::system().enqueue_delayed(this, msecs_to_jiffies(HEARTBEAT_MS));
        }
    }
}

impl Link {
    /// Maps the window at `gpa`, attaches to the ring, takes the host's
    /// interrupt line, starts the heartbeat and rings the doorbell once so
    /// that the host learns at once that the guest is ready.
    pub(crate) fn attach(gpa: u64, size: u64, port: u32, irq: u32) -> Result<Arc<Self>> {
        let doorbell = match port {
            0 => None,
            port => Some(Doorbell::new(port)?),
        };
        let irq = match irq {
            0 => None,
            irq => Some(HostIrq::request(irq).inspect_err(|e| {
                pr_err!("ikernel_guest: cannot take IRQ {}: {:?}\n", irq, e);
            })?),
        };
        let remap = Remap::new(gpa, usize::try_from(size)?)?;
        // SAFETY: `remap` maps `remap.size` bytes at `remap.base`, page
        // aligned (memremap of a page-aligned range), and `Link` drops the
        // accessor (in `guest`) before `remap`.
        let accessor = unsafe { KernelWindow::new(remap.base, remap.size) };
        let guest = ring::Guest::attach(accessor, ring::FEATURE_EVENT_IDX).map_err(|e| {
            pr_err!(
                "ikernel_guest: the window at {:#x} is not usable: {:?}\n",
                gpa,
                e
            );
            Error::from_errno(e.to_errno())
        })?;
        let link = Arc::pin_init(
            try_pin_init!(Link {
                guest <- new_mutex!(guest),
                stopping: Atomic::new(false),
                beat <- new_delayed_work!("ikernel_guest::beat"),
                doorbell,
                irq,
                remap,
            }),
            GFP_KERNEL,
        )?;
        let _ = workqueue::system().enqueue_delayed(link.clone(), msecs_to_jiffies(HEARTBEAT_MS));
        if let Some(d) = &link.doorbell {
            d.ring();
        }
        pr_info!(
            "ikernel_guest: attached to the window at {:#x} ({} KiB), ready\n",
            gpa,
            size / 1024
        );
        Ok(link)
    }

    /// Stops the heartbeat and tells the host this guest stopped serving.
    ///
    /// Returns once the heartbeat work is neither queued nor running.
    pub(crate) fn stop(&self) {
        self.stopping.store(true, Relaxed);
        // SAFETY: `beat` is an initialised delayed work inside `self`, which
        // is alive for this call.  Flushing runs a pending instance at once
        // and waits for it; since `stopping` is set before, that instance does
        // not re-arm, so afterwards the work is idle.
        unsafe { bindings::flush_delayed_work(self.raw_beat()) };
        let _ = self.guest.lock().set_state(ring::GuestState::Stopped);
        if let Some(d) = &self.doorbell {
            d.ring();
        }
        if let Some(irq) = &self.irq {
            pr_info!("ikernel_guest: {} interrupts from the host\n", irq.hits());
        }
    }

    /// The C `delayed_work` inside `beat`.
    fn raw_beat(&self) -> *mut bindings::delayed_work {
        // SAFETY: `&self.beat` is a valid, aligned pointer to a `DelayedWork`.
        let work = unsafe { DelayedWork::raw_as_work(&self.beat) };
        // SAFETY: `raw_as_work` points at the `work` field of the C
        // `delayed_work` (a `Work` is layout compatible with `work_struct`).
        unsafe {
            kernel::container_of!(
                work.cast::<bindings::work_struct>(),
                bindings::delayed_work,
                work
            )
        }
    }
}
