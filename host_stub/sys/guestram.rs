// SPDX-License-Identifier: GPL-2.0

//! The driver VM's RAM, for mmap of exported nodes, over `guestram.c`.
//!
//! [`GuestRam`] owns a channel's `struct ikernel_ram`: the memfd of the
//! running generation's RAM and the address space that every host file of
//! the channel uses, so that ending a generation unmaps all their mappings
//! at once.  What to map (the frames the guest names, checked against the
//! RAM's size) is decided by the caller, `export.rs`.

use core::ptr::NonNull;
use kernel::{
    bindings,
    ffi::{
        c_int,
        c_ulong,
        c_void, //
    },
    mm::virt::VmaNew,
    prelude::*,
};

/// A frame the guest would not map (`~0` in an `IKERNEL_OP_MMAP` reply):
/// touching its page is `SIGBUS` (`guestram.c` maps no frame at or past
/// the RAM's end).
pub(crate) const NO_FRAME: u64 = u64::MAX;

// The `struct file` and `struct vm_area_struct` pointers are opaque here:
// bindgen's types of those structs are not FFI-safe as a whole.
extern "C" {
    fn ikernel_ram_new() -> *mut c_void;
    fn ikernel_ram_free(ram: *mut c_void);
    fn ikernel_ram_set(ram: *mut c_void, fd: c_int, size: u64, generation: u32) -> c_int;
    fn ikernel_ram_end(ram: *mut c_void);
    fn ikernel_ram_pages(ram: *mut c_void, generation: u32) -> u64;
    fn ikernel_ram_attach(ram: *mut c_void, file: *mut c_void);
    fn ikernel_ram_mmap(
        ram: *mut c_void,
        vma: *mut c_void,
        generation: u32,
        frames: *const u64,
        nr: c_ulong,
    ) -> c_int;
}

/// One channel's view of its driver VM's RAM.
pub(crate) struct GuestRam(NonNull<c_void>);

// SAFETY: `struct ikernel_ram` is used from any thread; `guestram.c` locks
// its own mutex around every change and read of its state.
unsafe impl Send for GuestRam {}
// SAFETY: As above.
unsafe impl Sync for GuestRam {}

fn errno(r: c_int) -> Result {
    if r < 0 {
        Err(Error::from_errno(r))
    } else {
        Ok(())
    }
}

impl GuestRam {
    /// No RAM yet.
    pub(crate) fn new() -> Result<Self> {
        // SAFETY: No preconditions; NULL is the failure.
        let p = unsafe { ikernel_ram_new() };
        NonNull::new(p).map(Self).ok_or(ENOMEM)
    }

    /// The VMM's memfd `fd` holds `size` bytes of RAM of generation
    /// `generation` (the caller checked that it is the running one).
    pub(crate) fn set(&self, fd: i32, size: u64, generation: u32) -> Result {
        // SAFETY: `self.0` is a live `struct ikernel_ram`; the C side
        // checks the descriptor and the size.
        errno(unsafe { ikernel_ram_set(self.0.as_ptr(), fd, size, generation) })
    }

    /// The generation is over: unmaps every mapping of the channel's files;
    /// touching one is `SIGBUS` from now on.
    pub(crate) fn end(&self) {
        // SAFETY: `self.0` is a live `struct ikernel_ram`.
        unsafe { ikernel_ram_end(self.0.as_ptr()) }
    }

    /// Pages of RAM of generation `generation`; 0 when that generation has
    /// none (no memfd, or another generation runs).
    pub(crate) fn pages(&self, generation: u32) -> u64 {
        // SAFETY: `self.0` is a live `struct ikernel_ram`.
        unsafe { ikernel_ram_pages(self.0.as_ptr(), generation) }
    }

    /// Makes `file`, a host file of the channel being opened or made, use
    /// the channel's address space for its mappings.
    ///
    /// # Safety
    ///
    /// `file` is a live file that is not mapped yet, and `self` outlives
    /// it (the file's private data holds the channel).
    pub(crate) unsafe fn attach(&self, file: *mut bindings::file) {
        // SAFETY: The caller's contract; `self.0` is live.
        unsafe { ikernel_ram_attach(self.0.as_ptr(), file.cast()) }
    }

    /// Sets up the new mapping `vma` of a file of the channel to map the
    /// RAM's `frames` (each below [`Self::pages`] or [`NO_FRAME`]), one
    /// per page, of generation `generation`: its pages appear as they are
    /// touched.  `EIO` if that generation is over.
    pub(crate) fn map(&self, vma: &VmaNew, generation: u32, frames: &[u64]) -> Result {
        // SAFETY: `self.0` is live; `vma` is a mapping being set up by its
        // file's mmap handler (the mmap lock is held), the frames are
        // readable for `frames.len()` entries and copied by the callee.
        errno(unsafe {
            ikernel_ram_mmap(
                self.0.as_ptr(),
                vma.as_ptr().cast(),
                generation,
                frames.as_ptr(),
                frames.len() as c_ulong,
            )
        })
    }
}

impl Drop for GuestRam {
    fn drop(&mut self) {
        // SAFETY: `self.0` is live and this is its last use: every file
        // that used its address space is gone (each held the channel).
        unsafe { ikernel_ram_free(self.0.as_ptr()) }
    }
}
