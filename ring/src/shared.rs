// SPDX-License-Identifier: GPL-2.0

//! The [`Shared`] accessor and [`Window`], the only code that touches the
//! shared memory.

use super::*;

/// Access to the shared window: the only place where memory is touched.
///
/// Offsets are byte offsets from the start of the window. Callers (the
/// [`Window`] wrapper in this file) check every offset against
/// [`Shared::size`] before calling an unsafe method.
///
/// # Safety
///
/// Implementers guarantee that [`Shared::size`] always returns the same value
/// and that every byte in `0..size()` of the window stays mapped, readable
/// and writable for as long as the implementer lives, so that every access
/// that satisfies a method's `# Safety` section is valid. The memory may be
/// written concurrently by the peer at any time.
pub unsafe trait Shared {
    /// Returns the size of the window in bytes.
    fn size(&self) -> usize;

    /// Loads the `u32` at `off` with acquire ordering (`smp_load_acquire`).
    ///
    /// # Safety
    ///
    /// `off` is a multiple of 4 and `off + 4 <= self.size()`.
    unsafe fn load_acquire(&self, off: usize) -> u32;

    /// Stores `val` to the `u32` at `off` with release ordering
    /// (`smp_store_release`).
    ///
    /// # Safety
    ///
    /// `off` is a multiple of 4 and `off + 4 <= self.size()`.
    unsafe fn store_release(&self, off: usize, val: u32);

    /// Full memory barrier (`smp_mb`).
    fn full_barrier(&self);

    /// Copies `dst.len()` bytes at `off` into `dst`, as one volatile copy.
    ///
    /// The copy may observe concurrent peer writes torn; it never faults.
    ///
    /// # Safety
    ///
    /// `off + dst.len() <= self.size()` without overflow.
    unsafe fn read_bytes(&self, off: usize, dst: &mut [u8]);

    /// Copies `src` to the window at `off`, as one volatile copy.
    ///
    /// # Safety
    ///
    /// `off + src.len() <= self.size()` without overflow.
    unsafe fn write_bytes(&self, off: usize, src: &[u8]);
}

// SAFETY: Forwards to `T`, which upholds the contract.
unsafe impl<T: Shared + ?Sized> Shared for &T {
    fn size(&self) -> usize {
        (**self).size()
    }
    unsafe fn load_acquire(&self, off: usize) -> u32 {
        // SAFETY: The caller upholds the contract, which is the same.
        unsafe { (**self).load_acquire(off) }
    }
    unsafe fn store_release(&self, off: usize, val: u32) {
        // SAFETY: The caller upholds the contract, which is the same.
        unsafe { (**self).store_release(off, val) }
    }
    fn full_barrier(&self) {
        (**self).full_barrier()
    }
    unsafe fn read_bytes(&self, off: usize, dst: &mut [u8]) {
        // SAFETY: The caller upholds the contract, which is the same.
        unsafe { (**self).read_bytes(off, dst) }
    }
    unsafe fn write_bytes(&self, off: usize, src: &[u8]) {
        // SAFETY: The caller upholds the contract, which is the same.
        unsafe { (**self).write_bytes(off, src) }
    }
}

/// Bounds-checked access to a [`Shared`] window.
///
/// # Invariants
///
/// `size == mem.size()`.
pub struct Window<S: Shared> {
    mem: S,
    size: usize,
}

impl<S: Shared> Window<S> {
    /// Wraps an accessor.
    pub fn new(mem: S) -> Self {
        let size = mem.size();
        // INVARIANT: `Shared::size` is constant by the trait's contract.
        Window { mem, size }
    }

    /// Returns the size of the window in bytes.
    pub fn size(&self) -> usize {
        self.size
    }

    /// Returns the accessor.
    pub fn inner(&self) -> &S {
        &self.mem
    }

    fn check(&self, off: u32, len: usize, align: u32) -> Result<usize> {
        let off = us(off);
        if off & us(align - 1) != 0 {
            return Err(RingError::OutOfWindow);
        }
        match off.checked_add(len) {
            Some(end) if end <= self.size => Ok(off),
            _ => Err(RingError::OutOfWindow),
        }
    }

    /// Loads the `u32` at `off` with acquire ordering.
    pub fn load(&self, off: u32) -> Result<u32> {
        let off = self.check(off, 4, 4)?;
        // SAFETY: `check` proved `off` 4-aligned and `off + 4 <= size`, and
        // `size == mem.size()` by the type invariant.
        Ok(unsafe { self.mem.load_acquire(off) })
    }

    /// Stores `val` to the `u32` at `off` with release ordering.
    pub fn store(&self, off: u32, val: u32) -> Result<()> {
        let off = self.check(off, 4, 4)?;
        // SAFETY: As in `load`.
        unsafe { self.mem.store_release(off, val) };
        Ok(())
    }

    /// Full memory barrier.
    pub fn mb(&self) {
        self.mem.full_barrier()
    }

    /// Copies bytes at `off` into `dst`.
    pub fn read(&self, off: u32, dst: &mut [u8]) -> Result<()> {
        let off = self.check(off, dst.len(), 1)?;
        // SAFETY: `check` proved `off + dst.len() <= size == mem.size()`.
        unsafe { self.mem.read_bytes(off, dst) };
        Ok(())
    }

    /// Copies `src` to the window at `off`.
    pub fn write(&self, off: u32, src: &[u8]) -> Result<()> {
        let off = self.check(off, src.len(), 1)?;
        // SAFETY: `check` proved `off + src.len() <= size == mem.size()`.
        unsafe { self.mem.write_bytes(off, src) };
        Ok(())
    }

    /// Lets `f` move the `len` bytes at `off` itself, for a copy the ring
    /// cannot make (straight to or from a user buffer): `f` gets the
    /// accessor and the range as `usize`s, checked to lie in the window.
    pub fn with_range<R>(
        &self,
        off: u32,
        len: usize,
        f: impl FnOnce(&S, usize, usize) -> R,
    ) -> Result<R> {
        let off = self.check(off, len, 1)?;
        Ok(f(&self.mem, off, len))
    }
}
