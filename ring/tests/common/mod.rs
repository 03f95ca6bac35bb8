// SPDX-License-Identifier: GPL-2.0
//! Test helpers: a heap-backed window.
#![allow(dead_code)]

use ikernel_ring::user::RawWindow;
use ikernel_ring::Shared;

/// A window in a heap buffer, with a `RawWindow` over it.
pub struct HeapWindow {
    _buf: Box<[u64]>,
    raw: RawWindow,
}

impl HeapWindow {
    pub fn new(size: usize) -> Self {
        let mut buf = vec![0u64; size.div_ceil(8)].into_boxed_slice();
        // SAFETY: `buf` lives as long as `raw` (same struct, never moved out)
        // and is only accessed through `raw` from now on.
        let raw = unsafe { RawWindow::new(buf.as_mut_ptr().cast::<u8>(), size) }.unwrap();
        HeapWindow { _buf: buf, raw }
    }

    pub fn raw(&self) -> &RawWindow {
        &self.raw
    }

    /// Adversary write of arbitrary bytes (clamped to the window).
    pub fn poke(&self, off: usize, bytes: &[u8]) {
        let size = self.raw.size();
        if off >= size {
            return;
        }
        let n = bytes.len().min(size - off);
        // SAFETY: `off + n <= size`.
        unsafe { self.raw.write_bytes(off, &bytes[..n]) };
    }

    pub fn poke32(&self, off: u32, v: u32) {
        self.poke(off as usize, &v.to_le_bytes());
    }

    pub fn peek32(&self, off: u32) -> u32 {
        let mut b = [0u8; 4];
        // SAFETY: tests use in-bounds header offsets.
        unsafe { self.raw.read_bytes(off as usize, &mut b) };
        u32::from_le_bytes(b)
    }
}
