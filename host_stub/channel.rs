// SPDX-License-Identifier: GPL-2.0

//! One channel: an open file of `/dev/ikernel`, wired to one driver VM.
//!
//! The VMM sets a channel up with the ioctls of `include/uapi/linux/ikernel.h`:
//! it has host_stub allocate the shared window, maps it with `mmap` and
//! registers the mapping as the driver VM's memory, binds the two doorbell
//! eventfds and reports the driver VM's life cycle.  Everything the guest can
//! write is read through the ring's checked accessors only.
//!
//! Once the driver VM runs, the VMM exports its device nodes
//! (`IKERNEL_IOC_EXPORT`, see `export.rs`); every file operation on them
//! becomes a request on this channel's ring ([`Channel::call`], `call.rs`).
//! Callers sleep without holding any lock, each until its own answer is
//! delivered; the guest's doorbell (a callback on the kick eventfd) wakes
//! the watching caller and queues [`Channel::drain`], and either takes the
//! responses and routes poll events to the open files (`drain.rs`).
//!
//! Lock order: the mm's `mmap_lock` (held around `mmap`) is taken before
//! [`Channel::inner`].  No code holding `inner` takes a page fault on user
//! memory, so the reverse order never happens: ioctl arguments are copied in
//! before the lock is taken and copied out after it is released, and bulk
//! read and write data moves straight between user memory and the window
//! under the lock only with page faults disabled (which takes no
//! `mmap_lock`); a page that is not resident sends it through a kernel
//! buffer copied outside the lock instead ([`Payload`], [`ReplyTo`]).
//!
//! The host never waits for the guest with `inner` held: it sleeps on the
//! condition variable, which releases it.

use kernel::{
    alloc::VVec,
    ffi::c_void,
    mm::virt::VmaNew,
    new_condvar, new_mutex, new_poll_condvar, new_work,
    page::{
        AsPageIter,
        PAGE_SIZE, //
    },
    pr_err,
    prelude::*,
    sync::{
        atomic::{
            Atomic,
            Relaxed, //
        },
        poll::PollCondVar, //
        Arc,
        CondVar,
        Mutex,
        SetOnce,
    },
    uaccess::UserSlice,
    workqueue::Work,
};

use crate::{
    eventfd::EventFd,
    kick::Kick,
    poll::PollWindow,
    ring::{
        self,
        uapi::{
            DoorbellsArg,
            GuestRamArg,
            StateArg,
            WindowArg,
            IOC_BIND_DOORBELLS,
            IOC_CREATE_WINDOW,
            IOC_GET_STATE,
            IOC_GUEST_RAM,
            IOC_SET_STATE,
            NAME_MAX,
            RING_ENTRIES_DEFAULT,
            VM_BOOTING,
            VM_DOWN,
            VM_RUNNING,
            WINDOW_MAX,
            WINDOW_MIN, //
        },
    },
    sys::{
        guestram::GuestRam,
        trace,
        vma_pgoff, //
    },
    window::KernelWindow, //
};

mod call;
mod drain;
mod files;

pub(crate) use call::{
    direct_copy,
    set_direct_copy,
    Answer,
    Payload,
    ReplyTo,
    Wait, //
};
pub(crate) use drain::{
    poll_max_us,
    set_poll_max_us, //
};
pub(crate) use files::FileShared;

/// One condition variable per slot: where the caller waiting for that
/// slot's answer sleeps.
type SlotWaits = KVec<Pin<KBox<CondVar>>>;

/// The shared window: its memory and the host's end of the ring.
struct HostWindow {
    // Declared first so that it is dropped first: its accessor points into
    // `mem`.
    host: KBox<ring::Host<KernelWindow>>,
    /// Zeroed vmalloc memory, page aligned, never resized.
    mem: VVec<u8>,
    size: usize,
    /// The slots' waiters, one per slot.
    waits: Arc<SlotWaits>,
}

/// The doorbells bound by the VMM.
struct Doorbells {
    /// Signalled by KVM when the guest writes its doorbell port; host_stub
    /// is called back on every signal until this is dropped.
    _kick: Kick,
    /// Signalled by host_stub to raise the guest's interrupt (irqfd).
    call: EventFd,
}

/// Mutable state of a channel, under [`Channel::inner`].
struct Inner {
    window: Option<HostWindow>,
    doorbells: Option<Doorbells>,
    /// `IKERNEL_VM_*` as last reported by the VMM, 0 before the first report.
    vm_state: u32,
    /// Responses taken from the ring whose callers have not picked them up
    /// yet, by slot tag.
    answers: KVec<Option<ring::Completion>>,
    /// Open files of the exported nodes, for routing poll events.
    files: KVec<Arc<FileShared>>,
    /// By slot tag: a caller waits for that slot's answer.
    waiting: KVec<bool>,
    /// The slot of the caller that watches for doorbells, if one does.
    watcher: Option<usize>,
    /// Callers waiting for a free slot.
    slot_waiters: u32,
}

/// One open file of `/dev/ikernel`.
#[pin_data]
pub(crate) struct Channel {
    #[pin]
    inner: Mutex<Inner>,
    /// The watching caller sleeps here; doorbells wake it.
    #[pin]
    kicked: CondVar,
    /// Callers waiting for a free slot sleep here.
    #[pin]
    slot_free: CondVar,
    /// Takes responses and events from the ring after a doorbell.
    #[pin]
    drain: Work<Channel>,
    /// Pollers of files that reopen transparently, waiting for the driver
    /// VM to come back.
    #[pin]
    revived: PollCondVar,
    /// Doorbells rung by the guest.
    kicks: Atomic<u64>,
    /// Set when the control file closes: every call fails from then on.
    dead: Atomic<bool>,
    /// Protocol violations by the guest (each breaks the ring).
    violations: Atomic<u64>,
    /// Responses taken from the ring, for the flood check.
    responses: Atomic<u64>,
    /// Runs of [`Channel::drain`].
    drains: Atomic<u64>,
    /// Answers delivered to their callers.
    delivered: Atomic<u64>,
    /// Doorbell flood control: the one-second window's start (jiffies) and
    /// the doorbell and response counts at that start.
    flood_at: Atomic<usize>,
    flood_kicks: Atomic<u64>,
    flood_responses: Atomic<u64>,
    /// Non-zero while throttled: the end of the throttle (jiffies, low bit
    /// set), and the last drain queued meanwhile.
    throttled_until: Atomic<usize>,
    throttled_drain_at: Atomic<usize>,
    /// Times the guest's doorbells were throttled.
    throttles: Atomic<u64>,
    /// Restarts of the driver VM (new generations after the first).
    restarts: Atomic<u64>,
    /// Interrupts raised in the guest (the host's doorbell).
    interrupts: Atomic<u64>,
    /// Set while the drain work polls the ring with the guest's
    /// notifications left off: callers then neither re-arm them nor expect
    /// a doorbell, the poller wakes them.
    polling: Atomic<bool>,
    /// Runs of the poll loop, and responses it found.
    polls: Atomic<u64>,
    polled: Atomic<u64>,
    /// Bulk bytes copied straight between user memory and the window (one
    /// copy), and through a kernel buffer because a page was not resident.
    direct_bytes: Atomic<u64>,
    bounced_bytes: Atomic<u64>,
    /// The adaptive poll window.
    poll_window: PollWindow,
    /// Number of this channel in the statistics.
    id: u32,
    /// Mirrors of the driver VM's generation and state, for the statistics
    /// (which must not take `inner`).
    generation: Atomic<u32>,
    vm_state: Atomic<u32>,
    /// The generation whose ring the guest broke, 0 if none (generations
    /// start at 1), for the state word.
    broken_generation: Atomic<u32>,
    /// The driver VM's name, from the first export that gives one, for the
    /// kernel log.
    vm_name: SetOnce<[u8; NAME_MAX]>,
    /// The running generation's RAM (`IKERNEL_IOC_GUEST_RAM`), for mmap of
    /// the exported nodes, and the address space of all their files.
    ram: GuestRam,
}

/// Numbers the channels for the statistics.
static NEXT_ID: Atomic<u32> = Atomic::new(1);

/// Maps a ring error to an errno: a guest fault is `EIO` and counted.
fn ring_errno(e: ring::RingError) -> Error {
    Error::from_errno(e.to_errno())
}

impl Channel {
    /// A channel with nothing bound yet.
    pub(crate) fn new() -> impl PinInit<Self, Error> {
        try_pin_init!(Self {
            inner <- new_mutex!(Inner {
                window: None,
                doorbells: None,
                vm_state: 0,
                answers: KVec::new(),
                files: KVec::new(),
                waiting: KVec::new(),
                watcher: None,
                slot_waiters: 0,
            }),
            kicked <- new_condvar!("ikernel::Channel::kicked"),
            slot_free <- new_condvar!("ikernel::Channel::slot_free"),
            drain <- new_work!("ikernel::Channel::drain"),
            revived <- new_poll_condvar!("ikernel::Channel::revived"),
            kicks: Atomic::new(0),
            dead: Atomic::new(false),
            violations: Atomic::new(0),
            responses: Atomic::new(0),
            drains: Atomic::new(0),
            delivered: Atomic::new(0),
            flood_at: Atomic::new(0),
            flood_kicks: Atomic::new(0),
            flood_responses: Atomic::new(0),
            throttled_until: Atomic::new(0),
            throttled_drain_at: Atomic::new(0),
            throttles: Atomic::new(0),
            restarts: Atomic::new(0),
            interrupts: Atomic::new(0),
            polling: Atomic::new(false),
            polls: Atomic::new(0),
            polled: Atomic::new(0),
            direct_bytes: Atomic::new(0),
            bounced_bytes: Atomic::new(0),
            poll_window: PollWindow::new(),
            id: NEXT_ID.fetch_add(1, Relaxed),
            generation: Atomic::new(0),
            vm_state: Atomic::new(0),
            broken_generation: Atomic::new(0),
            vm_name: SetOnce::new(),
            ram: GuestRam::new()?,
        })
    }

    /// The control file closed: stop the doorbell and fail every call and
    /// poller.
    pub(crate) fn shutdown(&self) {
        self.dead.store(true, Relaxed);
        let (doorbells, files) = {
            let mut g = self.inner.lock();
            self.wake_all(&g);
            (g.doorbells.take(), core::mem::take(&mut g.files))
        };
        // Detached first: after this no doorbell callback borrows `self`.
        drop(doorbells);
        files::kill_all(&files);
        self.ram.end();
        self.revived.notify_all();
    }

    /// Wakes every waiting caller, to look at the channel's state again.
    fn wake_all(&self, g: &Inner) {
        self.kicked.notify_all();
        self.slot_free.notify_all();
        if let Some(w) = g.window.as_ref() {
            for cv in w.waits.iter() {
                cv.notify_all();
            }
        }
    }

    /// Whether the control file closed (the channel is gone for good).
    pub(crate) fn is_closed(&self) -> bool {
        self.dead.load(Relaxed)
    }

    /// Where pollers wait for the driver VM to come back.
    pub(crate) fn revived(&self) -> &PollCondVar {
        &self.revived
    }

    /// Dispatches a channel ioctl; `ENOTTY` for commands it does not know.
    pub(crate) fn ioctl(&self, cmd: u32, user: UserSlice) -> Result<isize> {
        match cmd {
            IOC_CREATE_WINDOW => self.create_window(user.reader().read()?),
            IOC_BIND_DOORBELLS => self.bind_doorbells(user.reader().read()?),
            IOC_SET_STATE => self.set_state(user.reader().read()?),
            IOC_GUEST_RAM => self.set_ram(user.reader().read()?),
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
            0 => RING_ENTRIES_DEFAULT,
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
                ring::FEATURE_EVENT_IDX
                    | ring::FEATURE_NET
                    | ring::FEATURE_MMAP
                    | ring::FEATURE_NODE_INFO
                    | ring::FEATURE_REMOTE_IOCTL,
                0,
            )
            .map_err(|e| Error::from_errno(e.to_errno()))?;
            host.assume_init()
        };
        let slots = usize::try_from(layout.num_slots)?;
        let mut answers = KVec::with_capacity(slots, GFP_KERNEL)?;
        let mut waiting = KVec::with_capacity(slots, GFP_KERNEL)?;
        let mut waits = KVec::with_capacity(slots, GFP_KERNEL)?;
        for _ in 0..slots {
            answers.push(None, GFP_KERNEL)?;
            waiting.push(false, GFP_KERNEL)?;
            waits.push(
                KBox::pin_init(new_condvar!("ikernel::Channel::slot"), GFP_KERNEL)?,
                GFP_KERNEL,
            )?;
        }
        let waits = Arc::new(waits, GFP_KERNEL)?;
        let mut inner = self.inner.lock();
        if inner.window.is_some() {
            return Err(EBUSY);
        }
        inner.window = Some(HostWindow {
            host,
            mem,
            size,
            waits,
        });
        inner.answers = answers;
        inner.waiting = waiting;
        Ok(0)
    }

    fn bind_doorbells(&self, arg: DoorbellsArg) -> Result<isize> {
        if self.dead.load(Relaxed) {
            return Err(ENXIO);
        }
        let data = core::ptr::from_ref(self).cast_mut().cast::<c_void>();
        // SAFETY: `self` lives in an `Arc` held by the control file, which
        // is open during this ioctl and detaches the callback in `shutdown`
        // (at release) before dropping its reference; `channel_kicked` does
        // not sleep.
        let kick = unsafe { Kick::attach(arg.kick_fd, drain::channel_kicked, data)? };
        let new = Doorbells {
            _kick: kick,
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
            || arg.broken != 0
            || arg.reserved != 0
        {
            return Err(EINVAL);
        }
        let mut inner = self.inner.lock();
        let g = &mut *inner;
        let win = g.window.as_mut().ok_or(ENXIO)?;
        let mut stale = KVec::new();
        let new_generation = arg.state != VM_DOWN && arg.generation != win.host.generation();
        if new_generation {
            // A new incarnation of the driver VM: re-initialise the window
            // header for it.  Callers of the old one see the generation
            // change and fail with EIO; so do its open files, forever.
            win.host
                .reset(arg.generation, |_, _| {})
                .map_err(|e| Error::from_errno(e.to_errno()))?;
            for a in g.answers.iter_mut() {
                *a = None;
            }
            // The mirror holds the generation last reported (0: none yet).
            if self.generation.load(Relaxed) != 0 {
                self.restarts.add(1, Relaxed);
            }
            // A new incarnation starts with a clean slate of doorbells.
            self.throttled_until.store(0, Relaxed);
            stale = core::mem::take(&mut g.files);
        }
        if arg.state == VM_DOWN {
            // Best effort: the guest may have scribbled anything on the
            // header, and the state word only informs a guest that is alive.
            let _ = win.host.set_state(ring::HostState::Closing);
        }
        g.vm_state = arg.state;
        self.vm_state.store(arg.state, Relaxed);
        self.generation.store(arg.generation, Relaxed);
        trace::state(self.id, arg.generation, arg.state);
        drop(inner);
        files::kill_all(&stale);
        if arg.state == VM_DOWN || new_generation {
            // Mappings of the generation that ended fault with SIGBUS.
            self.ram.end();
        }
        let g = self.inner.lock();
        if arg.state == VM_DOWN {
            // Pollers see the death at once.
            files::kill_all(&g.files);
        }
        // Release every waiter now: each sees the state and fails, or (a
        // new incarnation) its generation gone.
        self.wake_all(&g);
        drop(g);
        if arg.state == VM_RUNNING {
            self.revived.notify_all();
        }
        Ok(0)
    }

    /// The memfd of the running generation's RAM.  A generation other than
    /// the running one, or a driver VM that is down, is `EINVAL`.
    fn set_ram(&self, arg: GuestRamArg) -> Result<isize> {
        {
            let g = self.inner.lock();
            let win = g.window.as_ref().ok_or(ENXIO)?;
            if g.vm_state == VM_DOWN || arg.generation != win.host.generation() {
                return Err(EINVAL);
            }
        }
        // A race with a restart reported meanwhile only installs RAM of a
        // generation that is over: no mapping can use it (`GuestRam::map`
        // and the faults check the generation), and the next report
        // replaces it.
        self.ram.set(arg.fd, arg.size, arg.generation)?;
        Ok(0)
    }

    /// The driver VM's RAM, for mmap of exported nodes.
    pub(crate) fn ram(&self) -> &GuestRam {
        &self.ram
    }

    /// Whether the guest of generation `gen` accepted `feature` (it
    /// serves the requests that need it).
    pub(crate) fn guest_has(&self, gen: u32, feature: u32) -> bool {
        let g = self.inner.lock();
        g.window.as_ref().is_some_and(|w| {
            w.host.generation() == gen && w.host.guest_features().is_ok_and(|f| f & feature != 0)
        })
    }

    fn get_state(&self) -> Result<StateArg> {
        let mut inner = self.inner.lock();
        let vm_state = inner.vm_state;
        let kicks = self.kicks.load(Relaxed);
        let win = inner.window.as_mut().ok_or(ENXIO)?;
        let was_broken = win.host.broken().is_some();
        let ready = match win.host.guest_ready() {
            Ok(r) => r,
            Err(e) => {
                // A state word or feature set no guest may write breaks
                // the ring here too: count it and fail the waiters.
                if e.is_peer_fault() && !was_broken {
                    self.violation(e);
                    files::kill_all(&inner.files);
                    self.wake_all(&inner);
                }
                false
            }
        };
        let win = inner.window.as_mut().ok_or(ENXIO)?;
        Ok(StateArg {
            state: vm_state,
            generation: win.host.generation(),
            guest_state: u32::from(ready),
            heartbeat: win.host.heartbeat().unwrap_or(0),
            kicks,
            broken: broken_code(win.host.broken()),
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

    /// Fails with `ENXIO` unless nodes can be exported now: the channel is
    /// open and has its window.
    pub(crate) fn check_exportable(&self) -> Result {
        let g = self.inner.lock();
        if self.dead.load(Relaxed) || g.window.is_none() {
            return Err(ENXIO);
        }
        Ok(())
    }

    /// Largest payload of one request (a slot's data buffer).
    pub(crate) fn piece_max(&self) -> Result<usize> {
        let g = self.inner.lock();
        let w = g.window.as_ref().ok_or(EIO)?;
        Ok(usize::try_from(w.host.layout().slot_data_size)?)
    }

    /// Fails unless the channel can carry a call now (for a file of
    /// generation `gen`, if given).
    fn check_live(&self, g: &Inner, gen: Option<u32>) -> Result<u32> {
        if self.dead.load(Relaxed) || g.vm_state != VM_RUNNING {
            return Err(EIO);
        }
        let w = g.window.as_ref().ok_or(EIO)?;
        if w.host.broken().is_some() {
            return Err(EIO);
        }
        let now = w.host.generation();
        match gen {
            Some(gen) if gen != now => Err(EIO),
            _ => Ok(now),
        }
    }

    /// What the guest reported about the device node of export `index`
    /// (for the statistics; calls are forwarded whatever it says).  Never
    /// waits: a busy channel says so.
    pub(crate) fn guest_node(&self, index: u32) -> &'static str {
        let Some(g) = self.inner.try_lock() else {
            return "busy";
        };
        let Some(w) = g.window.as_ref() else {
            return "unknown";
        };
        // Cut to the exports up to this one: a bit beyond is not looked at.
        match w.host.exports(index.saturating_add(1)) {
            Ok(ring::ExportsReport::Reported(s)) if s.present(index) => "present",
            Ok(ring::ExportsReport::Reported(_)) => "missing",
            _ => "unknown",
        }
    }

    /// Names the driver VM for the kernel log, once (later names are
    /// ignored: every export of a channel comes from the same VMM).
    pub(crate) fn name_vm(&self, name: [u8; NAME_MAX]) {
        if name[0] != 0 {
            let _ = self.vm_name.populate(name);
        }
    }

    /// The driver VM's name for the kernel log (`-` before any).
    pub(crate) fn vm_name(&self) -> &str {
        self.vm_name.as_ref().map_or("-", |n| nul_text(n))
    }

    /// The driver VM's generation as last reported by the VMM (0: none
    /// yet).
    pub(crate) fn generation(&self) -> u32 {
        self.generation.load(Relaxed)
    }

    /// The driver VM's state as a word, for sysfs: `closed` once the VMM
    /// closed the channel, else `broken` if the guest broke the ring of
    /// this generation, else the state the VMM reported (`booting`,
    /// `running`, `down`; `new` before any).  Never waits.
    pub(crate) fn state_word(&self) -> &'static str {
        if self.dead.load(Relaxed) {
            return "closed";
        }
        let gen = self.generation.load(Relaxed);
        match self.vm_state.load(Relaxed) {
            VM_RUNNING if gen != 0 && self.broken_generation.load(Relaxed) == gen => "broken",
            VM_RUNNING => "running",
            VM_BOOTING => "booting",
            VM_DOWN => "down",
            _ => "new",
        }
    }

    /// Writes this channel's statistics (one line's fields).
    pub(crate) fn write_stats(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "channel {} generation {} state {} dead {} kicks {} violations {} restarts {} \
             drains {} delivered {} throttles {} interrupts {} polls {} polled {} poll_ns {} \
             direct_bytes {} bounced_bytes {}",
            self.id,
            self.generation.load(Relaxed),
            self.vm_state.load(Relaxed),
            u32::from(self.dead.load(Relaxed)),
            self.kicks.load(Relaxed),
            self.violations.load(Relaxed),
            self.restarts.load(Relaxed),
            self.drains.load(Relaxed),
            self.delivered.load(Relaxed),
            self.throttles.load(Relaxed),
            self.interrupts.load(Relaxed),
            self.polls.load(Relaxed),
            self.polled.load(Relaxed),
            self.poll_window.window(u64::from(poll_max_us()) * 1000),
            self.direct_bytes.load(Relaxed),
            self.bounced_bytes.load(Relaxed)
        )?;
        // Where the ring stands: requests in flight, then the indices as
        // they are in the window now (producer/consumer/event; the guest's
        // shown as read, unchecked).  Only when the channel is not busy: a
        // stats read never waits for a caller.
        let Some(g) = self.inner.try_lock() else {
            return write!(f, " ring busy");
        };
        let Some(w) = g.window.as_ref() else {
            return write!(f, " ring none");
        };
        let at = |off: u32| w.host.window().load(off).unwrap_or(u32::MAX);
        write!(
            f,
            " inflight {} req {}/{}/{} resp {}/{}/{} evt {}/{}/{}",
            w.host.inflight().busy(),
            at(ring::hdr::REQ_PROD),
            at(ring::hdr::REQ_CONS),
            at(ring::hdr::REQ_EVENT),
            at(ring::hdr::RESP_PROD),
            at(ring::hdr::RESP_CONS),
            at(ring::hdr::RESP_EVENT),
            at(ring::hdr::EVT_PROD),
            at(ring::hdr::EVT_CONS),
            at(ring::hdr::EVT_EVENT)
        )
    }

    fn violation(&self, e: ring::RingError) {
        self.violations.add(1, Relaxed);
        let gen = self.generation.load(Relaxed);
        self.broken_generation.store(gen, Relaxed);
        trace::violation(self.id, gen, broken_code(Some(e)));
        // At most once per driver-VM generation: the ring stays broken
        // until the VMM restarts the VM.
        pr_err!(
            "ikernel: channel {} ({}): the driver VM broke the ring: {:?}\n",
            self.id,
            self.vm_name(),
            e
        );
    }

    /// A ring error met by a caller: a peer fault is a violation (the ring
    /// is broken from then on); either way the caller gets an errno.
    fn ring_fault(&self, g: &Inner, e: ring::RingError) -> Error {
        if e.is_peer_fault() {
            self.violation(e);
            // Other waiters and pollers learn of it at once.
            files::kill_all(&g.files);
            self.wake_all(g);
        }
        ring_errno(e)
    }

    /// Rings the guest's interrupt.
    fn call_guest(&self, g: &Inner) {
        if let Some(d) = &g.doorbells {
            self.interrupts.add(1, Relaxed);
            d.call.signal();
        }
    }
}

/// The text of a NUL-padded name field, up to its NUL (`?` if it is not
/// UTF-8: the fields host_stub keeps were checked to be ASCII).
pub(crate) fn nul_text(f: &[u8]) -> &str {
    let len = f.iter().position(|&c| c == 0).unwrap_or(f.len());
    core::str::from_utf8(f.get(..len).unwrap_or(&[])).unwrap_or("?")
}

/// `ikernel_state.broken`: 0, or 1 plus the violation that broke the ring
/// (the order of `ring::RingError`, documented in `ring.rst`).
fn broken_code(e: Option<ring::RingError>) -> u32 {
    // CAST: `RingError` is a field-less enum with fewer than 2^32 variants.
    e.map_or(0, |e| e as u32 + 1)
}
