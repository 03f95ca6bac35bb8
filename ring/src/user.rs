// SPDX-License-Identifier: GPL-2.0

//! User-space accessor of the shared window, on `core::sync::atomic`.

use core::ptr::NonNull;
use core::sync::atomic::{fence, AtomicU32, Ordering};

use crate::Shared;

/// A window mapped in this process at `base`, of `size` bytes.
///
/// # Invariants
///
/// `base..base + size` is mapped, readable and writable, and 8-byte aligned
/// at `base`, for the lifetime of the value.
#[derive(Debug)]
pub struct RawWindow {
    base: NonNull<u8>,
    size: usize,
}

// SAFETY: The window is shared memory accessed only through atomics and
// volatile copies, which are safe from any thread.
unsafe impl Send for RawWindow {}
// SAFETY: As for `Send`: `&RawWindow` permits only atomic and volatile access.
unsafe impl Sync for RawWindow {}

impl RawWindow {
    /// Wraps the mapping at `base` of `size` bytes. Returns `None` if `base`
    /// is null or not 8-byte aligned.
    ///
    /// # Safety
    ///
    /// `base..base + size` must stay mapped, readable and writable for the
    /// lifetime of the returned value, and must be accessed by this process
    /// only through atomics or volatile accesses (or by the peer).
    pub unsafe fn new(base: *mut u8, size: usize) -> Option<Self> {
        let base = NonNull::new(base)?;
        if base.as_ptr().align_offset(8) != 0 {
            return None;
        }
        // INVARIANT: Guaranteed by the caller; alignment checked above.
        Some(RawWindow { base, size })
    }

    /// Returns the base address.
    pub fn base(&self) -> *mut u8 {
        self.base.as_ptr()
    }

    fn at(&self, off: usize, len: usize) -> *mut u8 {
        debug_assert!(off.checked_add(len).is_some_and(|e| e <= self.size));
        self.base.as_ptr().wrapping_add(off)
    }
}

// SAFETY: `size` is constant, and by the type invariant the whole range is
// mapped for the lifetime of `self`.
unsafe impl Shared for RawWindow {
    fn size(&self) -> usize {
        self.size
    }

    unsafe fn load_acquire(&self, off: usize) -> u32 {
        let p = self.at(off, 4).cast::<u32>();
        // SAFETY: The caller guarantees `off` is 4-aligned and in bounds, and
        // `base` is 8-aligned, so `p` is a valid, aligned `u32` that is only
        // accessed atomically (or by the peer).
        unsafe { AtomicU32::from_ptr(p) }.load(Ordering::Acquire)
    }

    unsafe fn store_release(&self, off: usize, val: u32) {
        let p = self.at(off, 4).cast::<u32>();
        // SAFETY: As in `load_acquire`.
        unsafe { AtomicU32::from_ptr(p) }.store(val, Ordering::Release)
    }

    fn full_barrier(&self) {
        fence(Ordering::SeqCst)
    }

    unsafe fn read_bytes(&self, off: usize, dst: &mut [u8]) {
        let src = self.at(off, dst.len());
        let mut i = 0;
        // Head bytes until the source is 8-aligned, then words, then a tail.
        while i < dst.len() && src.wrapping_add(i).align_offset(8) != 0 {
            // SAFETY: `off + i < off + dst.len() <= size` by the caller.
            let b = unsafe { src.add(i).read_volatile() };
            if let Some(d) = dst.get_mut(i) {
                *d = b;
            }
            i += 1;
        }
        while i + 8 <= dst.len() {
            // SAFETY: In bounds as above, and 8-aligned by the loop above.
            let w = unsafe { src.add(i).cast::<u64>().read_volatile() };
            if let Some(d) = dst.get_mut(i..i + 8) {
                d.copy_from_slice(&w.to_ne_bytes());
            }
            i += 8;
        }
        while i < dst.len() {
            // SAFETY: `off + i < off + dst.len() <= size` by the caller.
            let b = unsafe { src.add(i).read_volatile() };
            if let Some(d) = dst.get_mut(i) {
                *d = b;
            }
            i += 1;
        }
    }

    unsafe fn write_bytes(&self, off: usize, src: &[u8]) {
        let dst = self.at(off, src.len());
        let mut i = 0;
        while i < src.len() && dst.wrapping_add(i).align_offset(8) != 0 {
            // SAFETY: `off + i < off + src.len() <= size` by the caller.
            unsafe { dst.add(i).write_volatile(src.get(i).copied().unwrap_or(0)) };
            i += 1;
        }
        while i + 8 <= src.len() {
            let mut w = [0u8; 8];
            if let Some(s) = src.get(i..i + 8) {
                w.copy_from_slice(s);
            }
            // SAFETY: In bounds as above, and 8-aligned by the loop above.
            unsafe {
                dst.add(i)
                    .cast::<u64>()
                    .write_volatile(u64::from_ne_bytes(w))
            };
            i += 8;
        }
        while i < src.len() {
            // SAFETY: `off + i < off + src.len() <= size` by the caller.
            unsafe { dst.add(i).write_volatile(src.get(i).copied().unwrap_or(0)) };
            i += 1;
        }
    }
}
