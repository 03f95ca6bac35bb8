// SPDX-License-Identifier: GPL-2.0

//! host_stub's audited module of raw kernel calls.
//!
//! Every use of `bindings::` in host_stub is here or in [`cdev`], for what
//! the kernel crate has no abstraction for yet: the jiffies counter, a
//! mapping's page offset, probing a user buffer's accessibility, yielding
//! the CPU, an own workqueue, (in [`cdev`]) the char-device plumbing of
//! the exported nodes, (in [`netdev`]) the host network devices of net
//! exports over `netdev.c`, (in [`guestram`]) the driver VM's RAM mapped
//! into host processes over `guestram.c`, and (in [`trace`]) the trace
//! events.  The rest of host_stub is safe code over these.

use core::ptr;
use core::sync::atomic::{
    AtomicPtr,
    Ordering, //
};
use kernel::{
    bindings,
    ffi::c_uint,
    mm::virt::VmaNew,
    prelude::*,
    time::Jiffies, //
};

pub(crate) mod cdev;
pub(crate) mod guestram;
pub(crate) mod netdev;
pub(crate) mod trace;

/// `EPOLLERR | EPOLLHUP`: what a poller of a dead file sees.
pub(crate) const POLL_DEAD: u32 = bindings::POLLERR | bindings::POLLHUP;

/// `O_NONBLOCK`.
pub(crate) const O_NONBLOCK: u32 = bindings::O_NONBLOCK;

/// `O_CLOEXEC`.
pub(crate) const O_CLOEXEC: u32 = bindings::O_CLOEXEC;

/// The current time in jiffies.
pub(crate) fn jiffies() -> Jiffies {
    // SAFETY: `jiffies` is a word the timer tick updates; a volatile read of
    // it is how C reads it too.
    unsafe { ptr::read_volatile(&raw const bindings::jiffies) }
}

/// The page offset of a new mapping.
pub(crate) fn vma_pgoff(vma: &VmaNew) -> usize {
    // SAFETY: `vma.as_ptr()` is valid while `vma` is borrowed, and `vm_pgoff`
    // is set before the mmap handler runs and not changed concurrently (the
    // mmap lock is held).
    unsafe { (*vma.as_ptr()).vm_pgoff }
}

/// What a caller's buffer must allow.
#[derive(Clone, Copy)]
pub(crate) enum Access {
    Read,
    Write,
}

/// How many bytes from `addr` (at most `len`) the calling process can
/// access as `how`: a prefix, ending at a page boundary or at `len`.
///
/// Each page is pinned and unpinned (`pin_user_pages_fast`), which faults
/// it in like an access would but never changes its contents.
pub(crate) fn accessible(addr: usize, len: usize, how: Access) -> usize {
    const PAGE: usize = kernel::page::PAGE_SIZE;
    let gup: c_uint = match how {
        Access::Read => 0,
        Access::Write => bindings::FOLL_WRITE,
    };
    let end = addr.saturating_add(len);
    let mut cur = addr;
    while cur < end {
        let first = cur & !(PAGE - 1);
        let mut page: *mut bindings::page = ptr::null_mut();
        // SAFETY: `page` is valid for one page pointer; any address is
        // accepted (an inaccessible one fails).
        let n = unsafe { bindings::pin_user_pages_fast(first, 1, gup, &mut page) };
        if n != 1 {
            break;
        }
        // SAFETY: Pinned just above, unpinned once.
        unsafe { bindings::unpin_user_page(page) };
        cur = first.saturating_add(PAGE);
    }
    cur.min(end) - addr
}

extern "C" {
    /// The caller's readable memory as pairs (`callermm.c`).
    fn ikernel_caller_map(out: *mut u64, max: c_uint) -> kernel::ffi::c_int;
    /// Whether a value points into the caller's readable memory
    /// (`callermm.c`).
    fn ikernel_caller_points(words: *const u64, n: c_uint) -> bool;
}

/// The calling process's readable memory, in runs of like access, at
/// most `max` of them.
///
/// # Errors
///
/// `E2BIG` if they are more, `EINTR` on a fatal signal, `ENOMEM`.
pub(crate) fn caller_map(max: usize) -> Result<KVec<crate::ring::MemRange>> {
    let mut pairs = KVec::from_elem(0u64, max * 2, GFP_KERNEL)?;
    // SAFETY: `pairs` has room for `max` pairs, which is what the helper
    // may write; it runs in the caller's context (its `current->mm`).
    let n = unsafe { ikernel_caller_map(pairs.as_mut_ptr(), c_uint::try_from(max)?) };
    let n = usize::try_from(n).map_err(|_| Error::from_errno(n))?;
    let mut out = KVec::with_capacity(n, GFP_KERNEL)?;
    for p in pairs.chunks_exact(2).take(n) {
        let writable = p[1] & crate::ring::MEM_RANGE_WRITABLE != 0;
        let end = p[1] & !crate::ring::MEM_RANGE_WRITABLE;
        out.push(
            crate::ring::MemRange {
                start: p[0],
                end,
                writable,
            },
            GFP_KERNEL,
        )?;
    }
    Ok(out)
}

/// Whether any of `words` is an address inside the calling process's
/// readable memory.
pub(crate) fn caller_points(words: &[u64]) -> bool {
    let Ok(n) = c_uint::try_from(words.len()) else {
        return false;
    };
    // SAFETY: `words` is valid for `n` reads; the helper runs in the
    // caller's context.
    unsafe { ikernel_caller_points(words.as_ptr(), n) }
}

/// One turn of a busy poll: lets every other runnable task of this CPU go
/// first, and returns at once when there is none.
pub(crate) fn poll_yield() {
    // SAFETY: `yield()` may be called from any sleepable context; the
    // pollers call it with no lock held.
    unsafe { bindings::yield_() };
}

/// host_stub's own workqueue, for the channels' drain work.
static QUEUE: AtomicPtr<bindings::workqueue_struct> = AtomicPtr::new(ptr::null_mut());

/// Owns [`QUEUE`] for the module's lifetime.  Destroying the queue at unload
/// waits for drain work still queued, so none runs after the module's code
/// is gone; a system workqueue would not wait for it.
pub(crate) struct WorkQueue(());

impl WorkQueue {
    /// Allocates the queue (unbound: a drain may take a while).
    pub(crate) fn create() -> Result<Self> {
        // SAFETY: the format is a NUL-terminated string with no conversion,
        // so no variadic argument is read.
        let wq = unsafe {
            bindings::alloc_workqueue_noprof(
                c"ikernel_host".as_char_ptr(),
                bindings::wq_flags_WQ_UNBOUND,
                0,
            )
        };
        if wq.is_null() {
            return Err(ENOMEM);
        }
        QUEUE.store(wq, Ordering::Release);
        Ok(Self(()))
    }
}

impl Drop for WorkQueue {
    fn drop(&mut self) {
        let wq = QUEUE.load(Ordering::Acquire);
        // SAFETY: `wq` is the queue `create` allocated, destroyed only here.
        // The module is unloading, so no channel is open to queue new work;
        // work already queued may requeue itself while this drains it, and
        // finds `QUEUE` still set.
        unsafe { bindings::destroy_workqueue(wq) };
        QUEUE.store(ptr::null_mut(), Ordering::Release);
    }
}

/// The queue for drain work: [`QUEUE`].
pub(crate) fn work_queue() -> &'static kernel::workqueue::Queue {
    let wq = QUEUE.load(Ordering::Acquire);
    // SAFETY: only open channels queue work, and the module (with the
    // `WorkQueue` that keeps `wq` alive) outlives every channel.
    unsafe { kernel::workqueue::Queue::from_raw(wq) }
}
