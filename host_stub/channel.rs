// SPDX-License-Identifier: GPL-2.0

//! One channel: an open file of `/dev/ikernel`, wired to one driver VM.
//!
//! The VMM sets a channel up with the ioctls of `include/uapi/linux/ikernel.h`:
//! it has host_stub allocate the shared window, maps it with `mmap` and
//! registers the mapping as the driver VM's memory, binds the two doorbell
//! eventfds and reports the driver VM's life cycle.  Everything the guest can
//! write is read through the ring's checked accessors only.
//!
//! Lock order: the mm's `mmap_lock` (held around `mmap`) is taken before
//! [`Channel::inner`].  No code holding `inner` touches user memory, so the
//! reverse order never happens: ioctl arguments are copied in before the lock
//! is taken and copied out after it is released.

use kernel::{
    alloc::VVec,
    ioctl::{
        _IOR,
        _IOW, //
    },
    mm::virt::VmaNew,
    new_mutex,
    page::{
        AsPageIter,
        PAGE_SIZE, //
    },
    prelude::*,
    sync::Mutex,
    transmute::{
        AsBytes,
        FromBytes, //
    },
    uaccess::UserSlice,
};

use crate::{
    eventfd::EventFd,
    kick::Kick,
    ring,
    version::IOC_MAGIC,
    window::KernelWindow, //
};

/// Smallest window a VMM may ask for.
const WINDOW_MIN: u64 = 16 * 1024;
/// Largest window a VMM may ask for.
const WINDOW_MAX: u64 = 64 * 1024 * 1024;
/// Ring entries when the VMM asks for the default (0).
const DEFAULT_ENTRIES: u32 = 64;

/// `IKERNEL_VM_BOOTING`.
const VM_BOOTING: u32 = 1;
/// `IKERNEL_VM_RUNNING`.
const VM_RUNNING: u32 = 2;
/// `IKERNEL_VM_DOWN`.
const VM_DOWN: u32 = 3;

/// `struct ikernel_window`.
#[repr(C)]
#[derive(Clone, Copy, Default)]
struct WindowArg {
    size: u64,
    ring_entries: u32,
    reserved: u32,
}

/// `struct ikernel_doorbells`.
#[repr(C)]
#[derive(Clone, Copy, Default)]
struct DoorbellsArg {
    kick_fd: i32,
    call_fd: i32,
}

/// `struct ikernel_state`.
#[repr(C)]
#[derive(Clone, Copy, Default)]
struct StateArg {
    state: u32,
    generation: u32,
    guest_state: u32,
    heartbeat: u32,
    kicks: u64,
    reserved: u64,
}

// SAFETY: All three are `repr(C)` structs of integers whose sizes add up
// without padding (checked below), so every bit pattern is valid and every
// byte is initialised.
unsafe impl FromBytes for WindowArg {}
// SAFETY: See `WindowArg`.
unsafe impl FromBytes for DoorbellsArg {}
// SAFETY: See `WindowArg`.
unsafe impl FromBytes for StateArg {}
// SAFETY: See `WindowArg`.
unsafe impl AsBytes for StateArg {}

const _: () = assert!(core::mem::size_of::<WindowArg>() == 16);
const _: () = assert!(core::mem::size_of::<DoorbellsArg>() == 8);
const _: () = assert!(core::mem::size_of::<StateArg>() == 32);

/// `IKERNEL_IOC_CREATE_WINDOW`.
pub(crate) const IOC_CREATE_WINDOW: u32 = _IOW::<WindowArg>(IOC_MAGIC, 0x01);
/// `IKERNEL_IOC_BIND_DOORBELLS`.
pub(crate) const IOC_BIND_DOORBELLS: u32 = _IOW::<DoorbellsArg>(IOC_MAGIC, 0x02);
/// `IKERNEL_IOC_SET_STATE`.
pub(crate) const IOC_SET_STATE: u32 = _IOW::<StateArg>(IOC_MAGIC, 0x03);
/// `IKERNEL_IOC_GET_STATE`.
pub(crate) const IOC_GET_STATE: u32 = _IOR::<StateArg>(IOC_MAGIC, 0x04);

/// The shared window: its memory and the host's end of the ring.
struct HostWindow {
    // Declared first so that it is dropped first: its accessor points into
    // `mem`.
    host: KBox<ring::Host<KernelWindow>>,
    /// Zeroed vmalloc memory, page aligned, never resized.
    mem: VVec<u8>,
    size: usize,
}

/// The doorbells bound by the VMM.
struct Doorbells {
    /// Signalled by KVM when the guest writes its doorbell port; host_stub
    /// is called back on every signal.
    kick: Kick,
    /// Signalled by host_stub to raise the guest's interrupt (irqfd).
    call: EventFd,
}

/// Mutable state of a channel, under [`Channel::inner`].
struct Inner {
    window: Option<HostWindow>,
    doorbells: Option<Doorbells>,
    /// `IKERNEL_VM_*` as last reported by the VMM, 0 before the first report.
    vm_state: u32,
}

/// One open file of `/dev/ikernel`.
#[pin_data]
pub(crate) struct Channel {
    #[pin]
    inner: Mutex<Inner>,
}

impl Channel {
    /// A channel with nothing bound yet.
    pub(crate) fn new() -> impl PinInit<Self, Error> {
        try_pin_init!(Self {
            inner <- new_mutex!(Inner {
                window: None,
                doorbells: None,
                vm_state: 0,
            }),
        })
    }

    /// Dispatches a channel ioctl; `ENOTTY` for commands it does not know.
    pub(crate) fn ioctl(&self, cmd: u32, user: UserSlice) -> Result<isize> {
        match cmd {
            IOC_CREATE_WINDOW => self.create_window(user.reader().read()?),
            IOC_BIND_DOORBELLS => self.bind_doorbells(user.reader().read()?),
            IOC_SET_STATE => self.set_state(user.reader().read()?),
            IOC_GET_STATE => {
                let state = self.get_state()?;
                user.writer().write(&state)?;
                Ok(0)
            }
            _ => Err(ENOTTY),
        }
    }

    fn create_window(&self, arg: WindowArg) -> Result<isize> {
        if arg.reserved != 0
            || !(WINDOW_MIN..=WINDOW_MAX).contains(&arg.size)
            || arg.size % (PAGE_SIZE as u64) != 0
        {
            return Err(EINVAL);
        }
        let size = usize::try_from(arg.size)?;
        let entries = match arg.ring_entries {
            0 => DEFAULT_ENTRIES,
            n => n,
        };
        let layout = ring::Layout::for_window(arg.size, entries).map_err(|_| EINVAL)?;
        // Allocate outside the lock: it may sleep for a while.
        let mut mem = VVec::<u8>::from_elem(0, size, GFP_KERNEL)?;
        // SAFETY: `mem` is a vmalloc allocation of `size` bytes, which is
        // page aligned; `HostWindow` keeps it alive and never resizes it for
        // as long as the accessor (inside `host`) exists, and drops `host`
        // first.
        let accessor = unsafe { KernelWindow::new(mem.as_mut_ptr(), size) };
        // The ring's `Host` is several KiB: build it in place on the heap,
        // never on the kernel stack.
        let mut host = KBox::<ring::Host<KernelWindow>>::new_uninit(GFP_KERNEL)?;
        // SAFETY: `host.as_mut_ptr()` is valid for writes and aligned; on
        // success `init_in_place` initialised it.
        let host = unsafe {
            ring::Host::init_in_place(
                host.as_mut_ptr(),
                accessor,
                layout,
                ring::FEATURE_EVENT_IDX,
                0,
            )
            .map_err(|e| Error::from_errno(e.to_errno()))?;
            host.assume_init()
        };
        let mut inner = self.inner.lock();
        if inner.window.is_some() {
            return Err(EBUSY);
        }
        inner.window = Some(HostWindow { host, mem, size });
        Ok(0)
    }

    fn bind_doorbells(&self, arg: DoorbellsArg) -> Result<isize> {
        let new = Doorbells {
            kick: Kick::attach(arg.kick_fd)?,
            call: EventFd::from_fd(arg.call_fd)?,
        };
        let old = self.inner.lock().doorbells.replace(new);
        // The old references, if any, are dropped here, outside the lock.
        drop(old);
        Ok(0)
    }

    fn set_state(&self, arg: StateArg) -> Result<isize> {
        if !matches!(arg.state, VM_BOOTING | VM_RUNNING | VM_DOWN)
            || arg.guest_state != 0
            || arg.heartbeat != 0
            || arg.kicks != 0
            || arg.reserved != 0
        {
            return Err(EINVAL);
        }
        let mut inner = self.inner.lock();
        let win = inner.window.as_mut().ok_or(ENXIO)?;
        if arg.state != VM_DOWN && arg.generation != win.host.generation() {
            // A new incarnation of the driver VM: re-initialise the window
            // header for it.  Requests of the old one are failed by the
            // request path (a later change); here there are none yet.
            win.host
                .reset(arg.generation, |_, _| {})
                .map_err(|e| Error::from_errno(e.to_errno()))?;
        }
        if arg.state == VM_DOWN {
            // Best effort: the guest may have scribbled anything on the
            // header, and the state word only informs a guest that is alive.
            let _ = win.host.set_state(ring::HostState::Closing);
        }
        inner.vm_state = arg.state;
        Ok(0)
    }

    fn get_state(&self) -> Result<StateArg> {
        let mut inner = self.inner.lock();
        let vm_state = inner.vm_state;
        let kicks = inner.doorbells.as_ref().map_or(0, |d| d.kick.count());
        let win = inner.window.as_mut().ok_or(ENXIO)?;
        let ready = win.host.guest_ready().unwrap_or(false);
        Ok(StateArg {
            state: vm_state,
            generation: win.host.generation(),
            guest_state: u32::from(ready),
            heartbeat: win.host.heartbeat().unwrap_or(0),
            kicks,
            reserved: 0,
        })
    }

    /// Maps the whole window into the VMM's address space.
    ///
    /// The mapping must start at offset 0 and be exactly the window's size.
    /// It is not inherited across fork and cannot grow.
    pub(crate) fn mmap(&self, vma: &VmaNew) -> Result {
        let mut inner = self.inner.lock();
        let win = inner.window.as_mut().ok_or(ENXIO)?;
        if vma.end() - vma.start() != win.size || vma_pgoff(vma) != 0 {
            return Err(EINVAL);
        }
        vma.set_dontcopy();
        vma.set_dontexpand();
        let vma = vma.set_mixedmap();
        let mut addr = vma.start();
        for page in win.mem.page_iter() {
            vma.vm_insert_page(addr, &page)?;
            addr += PAGE_SIZE;
        }
        Ok(())
    }

    /// Raises the guest's interrupt, if the doorbells are bound.
    #[expect(dead_code, reason = "the request path (char forwarding) calls it")]
    pub(crate) fn call_guest(&self) {
        if let Some(d) = &self.inner.lock().doorbells {
            d.call.signal();
        }
    }
}

/// The page offset of a new mapping.
fn vma_pgoff(vma: &VmaNew) -> usize {
    // SAFETY: `vma.as_ptr()` is valid while `vma` is borrowed, and `vm_pgoff`
    // is set before the mmap handler runs and not changed concurrently (the
    // mmap lock is held).
    unsafe { (*vma.as_ptr()).vm_pgoff }
}
