// SPDX-License-Identifier: GPL-2.0

//! Kernel accessor of the shared window for the ring (`ring/src/ring.rs`).
//!
//! This is the one place in each stub where the window's memory is touched
//! through raw pointers.  Everything above it goes through the ring's
//! bounds-checked `Window`, which only calls these methods with offsets it has
//! checked against [`KernelWindow::size`].
//!
//! The peer (the other side of the VM boundary) may write any byte of the
//! window at any time, so every read is a volatile copy into local memory and
//! nothing here ever forms a Rust reference to window memory.

use kernel::sync::{
    atomic::{
        Acquire,
        Atomic,
        Release, //
    },
    barrier::{
        mb,
        Full, //
    },
};

use super::ring::Shared;

/// A kernel mapping of the shared window.
///
/// # Invariants
///
/// `base` is valid for reads and writes of `size` bytes, aligned to 4096, for
/// the whole lifetime of the value, and `size` never changes.
pub(crate) struct KernelWindow {
    base: *mut u8,
    size: usize,
}

impl KernelWindow {
    /// Wraps a kernel mapping of the window.
    ///
    /// # Safety
    ///
    /// `base` must be aligned to 4096 and valid for reads and writes of
    /// `size` bytes until the returned value is dropped; the caller unmaps
    /// it only after that.
    pub(crate) unsafe fn new(base: *mut u8, size: usize) -> Self {
        // INVARIANT: The caller guarantees validity for the lifetime.
        Self { base, size }
    }

    /// Pointer to the `u32` at `off`.
    ///
    /// # Safety
    ///
    /// `off` is a multiple of 4 and `off + 4 <= self.size`.
    unsafe fn word(&self, off: usize) -> *mut u32 {
        // SAFETY: `off + 4 <= size` by the caller, so the result stays within
        // the mapping; `base` is page aligned and `off` a multiple of 4, so
        // the result is aligned for `u32`.
        unsafe { self.base.add(off) }.cast::<u32>()
    }
}

// SAFETY: `size` is fixed at construction (type invariant), and the mapping
// stays valid for the lifetime of `self` (type invariant).
unsafe impl Shared for KernelWindow {
    fn size(&self) -> usize {
        self.size
    }

    unsafe fn load_acquire(&self, off: usize) -> u32 {
        // SAFETY: The caller guarantees `off` is in bounds and aligned; the
        // pointer is valid for the lifetime of `self`, which outlives the
        // returned reference's only use here.  The peer accesses the word
        // only atomically or not at all.
        let atomic = unsafe { Atomic::<u32>::from_ptr(self.word(off)) };
        atomic.load(Acquire)
    }

    unsafe fn store_release(&self, off: usize, val: u32) {
        // SAFETY: As in `load_acquire`.
        let atomic = unsafe { Atomic::<u32>::from_ptr(self.word(off)) };
        atomic.store(val, Release);
    }

    fn full_barrier(&self) {
        // The peer is another CPU even on a kernel built without SMP (the
        // other side of the VM boundary), so use the unconditional barrier.
        mb(Full);
    }

    unsafe fn read_bytes(&self, off: usize, dst: &mut [u8]) {
        for (i, byte) in dst.iter_mut().enumerate() {
            // SAFETY: `off + dst.len() <= size` by the caller, so `off + i` is
            // in bounds.  Volatile: the peer may change the byte concurrently,
            // and we must read each byte exactly once.
            *byte = unsafe { self.base.add(off + i).read_volatile() };
        }
    }

    unsafe fn write_bytes(&self, off: usize, src: &[u8]) {
        for (i, byte) in src.iter().enumerate() {
            // SAFETY: `off + src.len() <= size` by the caller, so `off + i` is
            // in bounds.
            unsafe { self.base.add(off + i).write_volatile(*byte) };
        }
    }
}

// SAFETY: The window is plain memory shared with another CPU; every access
// through `KernelWindow` is atomic or volatile, so it may be used from any
// thread.
unsafe impl Send for KernelWindow {}
// SAFETY: See `Send`; `&self` methods never hand out references to the memory.
unsafe impl Sync for KernelWindow {}
