// SPDX-License-Identifier: GPL-2.0

//! Kernel accessor of the shared window for the ring (`ring/src/ring.rs`).
//!
//! This is the one place in each stub where the window's memory is touched
//! through raw pointers, including the copies straight between the window
//! and user memory that keep bulk data to one copy per side.  Everything
//! above it goes through the ring's bounds-checked `Window`, which only calls
//! these methods with offsets it has checked against [`KernelWindow::size`].
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
use kernel::{bindings, ffi::c_void, uaccess::UserPtr};

/// Whether a copy between the window and user memory may take page faults.
///
/// (Each stub uses one of them: the host never faults under its channel
/// lock, the guest's server may.)
#[allow(dead_code)]
#[derive(Clone, Copy)]
pub(crate) enum Faults {
    /// Page faults are disabled: a page that is not resident fails the copy.
    Off,
    /// The copy may fault pages in, and sleep.
    Take,
}

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

    /// Copies the `len` window bytes at `off` to user memory at `user`.
    ///
    /// With [`Faults::Off`] no page fault is taken, so the copy never sleeps
    /// and may be made under a lock that the fault path (or a slow or
    /// hostile user mapping) must not stall; a page that is not resident
    /// makes it fail, and the caller takes the slow path.  Returns true if
    /// every byte was copied; on false, some may have been.
    pub(crate) fn copy_to_user(
        &self,
        off: usize,
        len: usize,
        user: UserPtr,
        faults: Faults,
    ) -> bool {
        let Some(src) = self.span(off, len) else {
            return false;
        };
        let (dst, src) = (user.as_mut_ptr(), src.cast::<c_void>());
        // SAFETY: `src` is valid for reads of `len` bytes (`span`); the user
        // copy functions check `dst` against the user address range and
        // handle faults.  The peer may change the bytes meanwhile: they are
        // opaque data, and no Rust reference to them is formed.
        unsafe {
            match faults {
                // 0 or -EFAULT.
                Faults::Off => bindings::copy_to_user_nofault(dst, src, len) == 0,
                // The number of bytes not copied.
                Faults::Take => bindings::_copy_to_user(dst, src, len) == 0,
            }
        }
    }

    /// Copies `len` bytes of user memory at `user` into the window at
    /// `off`; see [`KernelWindow::copy_to_user`].
    pub(crate) fn copy_from_user(
        &self,
        off: usize,
        len: usize,
        user: UserPtr,
        faults: Faults,
    ) -> bool {
        let Some(dst) = self.span(off, len) else {
            return false;
        };
        let (dst, src) = (dst.cast::<c_void>(), user.as_const_ptr());
        // SAFETY: `dst` is valid for writes of `len` bytes (`span`); the
        // user copy functions check `src` and handle faults.  Only plain
        // bytes are written, and no Rust reference to the window is formed.
        unsafe {
            match faults {
                // 0 or -EFAULT.
                Faults::Off => bindings::copy_from_user_nofault(dst, src, len) == 0,
                // The number of bytes not copied.
                Faults::Take => bindings::_copy_from_user(dst, src, len) == 0,
            }
        }
    }

    /// The window's `len` bytes at `off`, if they lie inside it.
    fn span(&self, off: usize, len: usize) -> Option<*mut u8> {
        if off.checked_add(len).is_none_or(|end| end > self.size) {
            return None;
        }
        // SAFETY: `off + len <= size` was just checked, so the result lies
        // in the mapping (type invariant).
        Some(unsafe { self.base.add(off) })
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
        // Byte by byte up to an 8-byte boundary of the window, then whole
        // aligned words, then the tail: every byte is read exactly once, with
        // volatile loads (the peer may change it concurrently).
        let mut i = 0;
        while i < dst.len() {
            let at = off + i;
            let rest = dst.len() - i;
            if at % 8 == 0 && rest >= 8 {
                // SAFETY: `at + 8 <= off + dst.len() <= size` by the caller,
                // and `at` is 8-aligned within the page-aligned mapping.
                let word = unsafe { self.base.add(at).cast::<u64>().read_volatile() };
                // PANIC: `i + 8 <= dst.len()` since `rest >= 8`.
                dst[i..i + 8].copy_from_slice(&word.to_ne_bytes());
                i += 8;
            } else {
                // SAFETY: `at < off + dst.len() <= size` by the caller.
                // PANIC: `i < dst.len()` by the loop condition.
                dst[i] = unsafe { self.base.add(at).read_volatile() };
                i += 1;
            }
        }
    }

    unsafe fn write_bytes(&self, off: usize, src: &[u8]) {
        // As `read_bytes`: aligned words where possible, bytes elsewhere.
        let mut i = 0;
        while i < src.len() {
            let at = off + i;
            match src.get(i..i + 8) {
                Some(chunk) if at % 8 == 0 => {
                    let mut word = [0u8; 8];
                    word.copy_from_slice(chunk);
                    // SAFETY: `at + 8 <= off + src.len() <= size` by the
                    // caller, and `at` is 8-aligned within the mapping.
                    unsafe {
                        self.base
                            .add(at)
                            .cast::<u64>()
                            .write_volatile(u64::from_ne_bytes(word))
                    };
                    i += 8;
                }
                _ => {
                    // SAFETY: `at < off + src.len() <= size` by the caller.
                    // PANIC: `i < src.len()` by the loop condition.
                    unsafe { self.base.add(at).write_volatile(src[i]) };
                    i += 1;
                }
            }
        }
    }
}

// SAFETY: The window is plain memory shared with another CPU; every access
// through `KernelWindow` is atomic or volatile, so it may be used from any
// thread.
unsafe impl Send for KernelWindow {}
// SAFETY: See `Send`; `&self` methods never hand out references to the memory.
unsafe impl Sync for KernelWindow {}
