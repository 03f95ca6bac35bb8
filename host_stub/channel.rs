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
//! becomes a request on this channel's ring ([`Channel::call`]).  Callers
//! sleep on [`Channel::done`] without holding any lock; the guest's doorbell
//! (a callback on the kick eventfd) wakes them and queues [`Channel::drain`],
//! which also routes poll events to the open files.
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
    pr_err, pr_warn_once,
    prelude::*,
    sync::{
        atomic::{
            Atomic,
            Relaxed, //
        },
        poll::PollCondVar, //
        Arc,
        ArcBorrow,
        CondVar,
        Mutex,
        MutexGuard,
    },
    time::{
        delay::fsleep,
        msecs_to_jiffies,
        Delta,
        Instant,
        Jiffies,
        Monotonic, //
    },
    uaccess::{
        UserPtr,
        UserSlice, //
    },
    workqueue::{
        Work,
        WorkItem, //
    },
};

use crate::{
    chardev::{
        Node,
        NodeAttrs, //
    },
    eventfd::EventFd,
    export::{
        Export,
        ExportStats,
        FileShared,
        IoctlDesc, //
    },
    kick::Kick,
    poll::PollWindow,
    ring::{
        self,
        uapi::{
            DoorbellsArg,
            ExportArg,
            IoctlDescArg,
            StateArg,
            WindowArg,
            EXPORT_MAX_IOCTLS,
            EXPORT_REOPEN,
            IOCTL_NONE,
            IOCTL_RW,
            IOCTL_SIZE_MAX,
            IOC_BIND_DOORBELLS,
            IOC_CREATE_WINDOW,
            IOC_EXPORT,
            IOC_GET_STATE,
            IOC_SET_STATE,
            RING_ENTRIES_DEFAULT,
            VM_BOOTING,
            VM_DOWN,
            VM_RUNNING,
            WINDOW_MAX,
            WINDOW_MIN, //
        },
    },
    window::{
        Faults,
        KernelWindow, //
    }, //
};

/// Rounds of a drain before it yields `inner` (each takes up to a ring's
/// worth of responses and events).
const DRAIN_ROUNDS: u32 = 8;

/// What a drain did.
#[derive(Default)]
struct Drained {
    /// A response was stored for a caller, or the ring broke.
    stored: bool,
    /// The budget ran out with more to take.
    more: bool,
    /// Responses taken from the ring.
    taken: u32,
    /// Requests still waiting for their responses after the drain (counted
    /// only by drains that leave notifications off, for the poll loop).
    waiting: u32,
}

/// Default of `/sys/kernel/debug/ikernel/poll_max_us`: the longest time the
/// drain work polls the ring for the next response before it re-arms the
/// guest's notifications and sleeps.
const POLL_MAX_US_DEFAULT: u32 = 50;
/// Largest value `poll_max_us` accepts.
pub(crate) const POLL_MAX_US_LIMIT: u32 = 20_000;

/// The poll bound in microseconds (0: never poll), shared by all channels.
static POLL_MAX_US: Atomic<u32> = Atomic::new(POLL_MAX_US_DEFAULT);

/// Reads the poll bound (`poll_max_us`).
pub(crate) fn poll_max_us() -> u32 {
    POLL_MAX_US.load(Relaxed)
}

/// Whether bulk data moves straight between user memory and the window
/// (`direct_copy`, shared by all channels); off, it always goes through a
/// kernel buffer.
static DIRECT_COPY: Atomic<bool> = Atomic::new(true);

/// Reads `direct_copy`.
pub(crate) fn direct_copy() -> bool {
    DIRECT_COPY.load(Relaxed)
}

/// Sets `direct_copy`.
pub(crate) fn set_direct_copy(on: bool) {
    DIRECT_COPY.store(on, Relaxed);
}

/// Sets the poll bound (`poll_max_us`).
///
/// # Errors
///
/// `EINVAL` above [`POLL_MAX_US_LIMIT`].
pub(crate) fn set_poll_max_us(us: u32) -> Result {
    if us > POLL_MAX_US_LIMIT {
        return Err(EINVAL);
    }
    POLL_MAX_US.store(us, Relaxed);
    Ok(())
}

/// Doorbells per second beyond the responses they announce that a guest
/// may ring before it counts as flooding.  Event-index suppression keeps an
/// honest guest at or below one doorbell per response; poll events without
/// a response draw on this allowance.
const FLOOD_SLACK: u64 = 2000;
/// How long a flooding guest's doorbells stay throttled.
const FLOOD_THROTTLE_MS: u32 = 1000;
/// While throttled, at most one drain per this many milliseconds.
const THROTTLED_DRAIN_MS: u32 = 10;

/// How long a caller interrupted by a signal waits for the guest to answer
/// the interrupted request (the driver sees the signal too) before it gives
/// up on it.
const CANCEL_GRACE_MS: u32 = 1000;
/// Longest uninterruptible wait of a release for its answer.
const RELEASE_WAIT_MS: u32 = 5000;
/// A waiting caller looks at the ring again at least this often, doorbell
/// or not: a lost doorbell costs a call at most this long, never its whole
/// deadline.
const RECHECK_MS: u32 = 1000;

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
    /// The exported nodes.
    nodes: KVec<Node>,
}

/// What the guest answered to a request.
#[derive(Clone, Copy)]
pub(crate) struct Answer {
    /// Result, or a negative errno.
    pub(crate) result: i64,
    /// Reply bytes at the start of the caller's buffer.
    pub(crate) len: usize,
    /// The file's poll mask after the request.
    pub(crate) events: u32,
    /// Op-specific value (new position, open capabilities).
    pub(crate) aux: u64,
    /// The driver VM's generation that answered.
    pub(crate) generation: u32,
}

/// Where a request's payload comes from.
#[derive(Clone, Copy)]
pub(crate) enum Payload<'a> {
    /// Kernel memory.
    Kernel(&'a [u8]),
    /// `len` bytes of the caller's memory at `addr`, copied straight into
    /// the request's buffer with page faults disabled.  If a page is not
    /// resident (or `direct_copy` is off), [`Channel::call_with`] fails with
    /// `EFAULT` before anything is sent, and the caller sends the data from a
    /// kernel buffer instead.
    User { addr: usize, len: usize },
}

/// Where the reply goes.
pub(crate) enum ReplyTo<'a> {
    /// Kernel memory, at most its length.
    Kernel(&'a mut [u8]),
    /// At most `max` bytes to the caller's memory at `addr`, copied straight
    /// from the request's buffer with page faults disabled.  A reply that
    /// cannot be copied that way (or any, while `direct_copy` is off) comes
    /// back in a kernel buffer, for the caller to copy out once no lock is
    /// held.
    User { addr: usize, max: usize },
}

impl ReplyTo<'_> {
    fn max(&self) -> usize {
        match self {
            ReplyTo::Kernel(b) => b.len(),
            ReplyTo::User { max, .. } => *max,
        }
    }
}

/// How a caller waits for the guest.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Wait {
    /// Like a native driver's interruptible wait: a signal interrupts the
    /// request in the guest too.
    Interruptible,
    /// Not interruptible, bounded by [`RELEASE_WAIT_MS`] (release).
    Bounded,
}

/// One open file of `/dev/ikernel`.
#[pin_data]
pub(crate) struct Channel {
    #[pin]
    inner: Mutex<Inner>,
    /// Callers waiting for an answer or a free slot sleep here.
    #[pin]
    done: CondVar,
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
}

/// Numbers the channels for the statistics.
static NEXT_ID: Atomic<u32> = Atomic::new(1);

kernel::impl_has_work! {
    impl HasWork<Self> for Channel { self.drain }
}

impl WorkItem for Channel {
    type Pointer = Arc<Channel>;

    fn run(this: Arc<Channel>) {
        this.drains.add(1, Relaxed);
        this.poll_responses();
        let d = {
            let mut g = this.inner.lock();
            this.drain_locked(&mut g, true)
        };
        if d.stored {
            this.done.notify_all();
        }
        if d.more {
            // The rest in a later run, after others had the lock.
            let _ = crate::chardev::work_queue().enqueue(this);
        }
    }
}

/// The guest rang its doorbell.
///
/// # Safety
///
/// `data` is the address of a [`Channel`] inside an [`Arc`] that stays
/// alive while the callback is registered.
unsafe extern "C" fn channel_kicked(data: *mut c_void) {
    // SAFETY: By the function's contract the `Arc` outlives this call.
    let ch = unsafe { ArcBorrow::<Channel>::from_raw(data.cast::<Channel>().cast_const()) };
    ch.kicks.add(1, Relaxed);
    if ch.flooding() {
        // A flooding guest gets one drain per `THROTTLED_DRAIN_MS`, however
        // fast it rings: its doorbells cost the host bounded CPU.  Waiters
        // are woken by those drains when their answers arrive.
        let now = jiffies();
        let last = ch.throttled_drain_at.load(Relaxed);
        if now.wrapping_sub(last) < msecs_to_jiffies(THROTTLED_DRAIN_MS) {
            return;
        }
        ch.throttled_drain_at.store(now, Relaxed);
    } else {
        ch.done.notify_all();
    }
    // Already queued is fine: the queued run sees this doorbell's work.
    let _ = crate::chardev::work_queue().enqueue(Arc::<Channel>::from(ch));
}

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
                nodes: KVec::new(),
            }),
            done <- new_condvar!("ikernel::Channel::done"),
            drain <- new_work!("ikernel::Channel::drain"),
            revived <- new_poll_condvar!("ikernel::Channel::revived"),
            kicks: Atomic::new(0),
            dead: Atomic::new(false),
            violations: Atomic::new(0),
            responses: Atomic::new(0),
            drains: Atomic::new(0),
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
        })
    }

    /// The control file closed: remove the nodes, stop the doorbell and fail
    /// every call and poller.
    pub(crate) fn shutdown(&self) {
        self.dead.store(true, Relaxed);
        let (doorbells, nodes, files) = {
            let mut g = self.inner.lock();
            (
                g.doorbells.take(),
                core::mem::take(&mut g.nodes),
                core::mem::take(&mut g.files),
            )
        };
        // Detached first: after this no doorbell callback borrows `self`.
        drop(doorbells);
        drop(nodes);
        for f in files.iter() {
            f.kill();
        }
        self.done.notify_all();
        self.revived.notify_all();
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
    pub(crate) fn ioctl(this: ArcBorrow<'_, Channel>, cmd: u32, user: UserSlice) -> Result<isize> {
        match cmd {
            IOC_CREATE_WINDOW => this.create_window(user.reader().read()?),
            IOC_BIND_DOORBELLS => this.bind_doorbells(user.reader().read()?),
            IOC_EXPORT => Self::export(this, user),
            IOC_SET_STATE => this.set_state(user.reader().read()?),
            IOC_GET_STATE => {
                let state = this.get_state()?;
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
                ring::FEATURE_EVENT_IDX,
                0,
            )
            .map_err(|e| Error::from_errno(e.to_errno()))?;
            host.assume_init()
        };
        let slots = usize::try_from(layout.num_slots)?;
        let mut answers = KVec::with_capacity(slots, GFP_KERNEL)?;
        for _ in 0..slots {
            answers.push(None, GFP_KERNEL)?;
        }
        let mut inner = self.inner.lock();
        if inner.window.is_some() {
            return Err(EBUSY);
        }
        inner.window = Some(HostWindow { host, mem, size });
        inner.answers = answers;
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
        let kick = unsafe { Kick::attach(arg.kick_fd, channel_kicked, data)? };
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
        if arg.state != VM_DOWN && arg.generation != win.host.generation() {
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
        drop(inner);
        for f in stale.iter() {
            f.kill();
        }
        if arg.state == VM_DOWN {
            // Release every waiter now: each sees the state and fails.
            let g = self.inner.lock();
            for f in g.files.iter() {
                f.kill();
            }
        }
        self.done.notify_all();
        if arg.state == VM_RUNNING {
            self.revived.notify_all();
        }
        Ok(0)
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
                    for f in inner.files.iter() {
                        f.kill();
                    }
                    self.done.notify_all();
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

    /// `IKERNEL_IOC_EXPORT`: creates `/dev/<name>` for export `index`.
    fn export(this: ArcBorrow<'_, Channel>, user: UserSlice) -> Result<isize> {
        let (mut reader, mut writer) = user.reader_writer();
        let mut arg: ExportArg = reader.read()?;
        let name_len = arg.name.iter().position(|&c| c == 0).ok_or(EINVAL)?;
        let name = arg.name.get(..name_len).ok_or(EINVAL)?;
        let valid = |c: &u8| c.is_ascii_alphanumeric() || matches!(*c, b'_' | b'.' | b'-');
        if name.is_empty()
            || !name.iter().all(valid)
            || name.first() == Some(&b'.')
            || arg.mode > 0o777
            || arg.nr_ioctls > EXPORT_MAX_IOCTLS
            || arg.flags & !EXPORT_REOPEN != 0
            || arg.minor != 0
        {
            return Err(EINVAL);
        }
        let n = usize::try_from(arg.nr_ioctls)?;
        let mut ioctls = KVec::with_capacity(n, GFP_KERNEL)?;
        let mut table = UserSlice::new(
            UserPtr::from_addr(usize::try_from(arg.ioctls)?),
            n * core::mem::size_of::<IoctlDescArg>(),
        )
        .reader();
        for _ in 0..n {
            let d: IoctlDescArg = table.read()?;
            if d.dir > IOCTL_RW || d.size > IOCTL_SIZE_MAX || (d.dir == IOCTL_NONE) != (d.size == 0)
            {
                return Err(EINVAL);
            }
            if ioctls.iter().any(|e: &IoctlDesc| e.cmd == d.cmd) {
                return Err(EINVAL);
            }
            ioctls.push(
                IoctlDesc {
                    cmd: d.cmd,
                    dir: d.dir,
                    size: d.size,
                },
                GFP_KERNEL,
            )?;
        }
        {
            let g = this.inner.lock();
            if this.dead.load(Relaxed) || g.window.is_none() {
                return Err(ENXIO);
            }
        }
        let export = Arc::new(
            Export {
                channel: Arc::<Channel>::from(this),
                name: arg.name,
                index: arg.index,
                timeout_ms: arg.timeout_ms,
                reopen: arg.flags & EXPORT_REOPEN != 0,
                ioctls,
                stats: ExportStats::new(),
            },
            GFP_KERNEL,
        )?;
        let cname = CStr::from_bytes_with_nul(arg.name.get(..=name_len).ok_or(EINVAL)?)
            .map_err(|_| EINVAL)?;
        let attrs = NodeAttrs {
            // CAST: `mode <= 0o777` was checked.
            mode: arg.mode as u16,
            uid: arg.uid,
            gid: arg.gid,
        };
        let node = Node::create(cname, export, attrs)?;
        arg.minor = node.minor();
        let mut g = this.inner.lock();
        let room = g.nodes.reserve(1, GFP_KERNEL);
        if this.dead.load(Relaxed) || room.is_err() {
            // Removed outside the lock: node removal takes the node table's.
            drop(g);
            drop(node);
            return Err(if room.is_err() { ENOMEM } else { ENXIO });
        }
        // Cannot fail: room was reserved.
        let _ = g.nodes.push(node, GFP_KERNEL);
        drop(g);
        writer.write(&arg)?;
        Ok(0)
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

    /// Takes the responses and events from the ring, at most
    /// [`DRAIN_ROUNDS`] rounds of them, so that a guest that keeps producing
    /// cannot keep `inner` held: `more` says the budget ran out.
    /// `stored`: a response was stored for a waiting caller (or the ring
    /// broke, which waiters must learn of too).
    ///
    /// `rearm`: re-arm the guest's notifications once the ring is empty
    /// (else the caller polls, and leaves them off).
    fn drain_locked(&self, g: &mut Inner, rearm: bool) -> Drained {
        let Inner {
            window,
            answers,
            files,
            ..
        } = g;
        let mut d = Drained::default();
        let Some(w) = window.as_mut() else {
            return d;
        };
        if w.host.broken().is_some() {
            return d;
        }
        if let Err(e) = self.drain_rounds(w, answers, files, &mut d, rearm) {
            self.violation(e);
            // Pollers see EPOLLERR | EPOLLHUP now, not a stale mask.
            for f in files.iter() {
                f.kill();
            }
            d.stored = true;
            d.more = false;
            return d;
        }
        if rearm {
            // Only the poll loop asks what is still waiting.
            return d;
        }
        let answered = answers.iter().filter(|a| a.is_some()).count();
        d.waiting = w
            .host
            .inflight()
            .busy()
            .saturating_sub(u32::try_from(answered).unwrap_or(u32::MAX));
        d
    }

    fn drain_rounds(
        &self,
        w: &mut HostWindow,
        answers: &mut KVec<Option<ring::Completion>>,
        files: &KVec<Arc<FileShared>>,
        d: &mut Drained,
        rearm: bool,
    ) -> core::result::Result<(), ring::RingError> {
        for _ in 0..DRAIN_ROUNDS {
            Self::take_events(w, files)?;
            let before = d.taken;
            while let Some(c) = w.host.next_response()? {
                self.responses.add(1, Relaxed);
                d.taken = d.taken.saturating_add(1);
                if let Some(a) = usize::try_from(c.tag).ok().and_then(|t| answers.get_mut(t)) {
                    *a = Some(c);
                    d.stored = true;
                }
            }
            // The guest publishes the poll events a request caused before
            // its answer: take those too, so that a caller returning from
            // that answer finds every file's mask current.
            Self::take_events(w, files)?;
            if !rearm {
                if d.taken == before {
                    return Ok(());
                }
                continue;
            }
            // Re-arm the guest's notifications at what was consumed: with
            // event-index suppression a consumer that stops short of
            // re-arming never hears of the next answer or event (another
            // caller, or a poller, would then wait for an unrelated doorbell).
            if !w.host.enable_notify()? {
                return Ok(());
            }
        }
        d.more = true;
        Ok(())
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

    /// Writes this channel's statistics (one line's fields).
    pub(crate) fn write_stats(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "channel {} generation {} state {} dead {} kicks {} violations {} restarts {} \
             drains {} throttles {} interrupts {} polls {} polled {} poll_ns {} \
             direct_bytes {} bounced_bytes {}",
            self.id,
            self.generation.load(Relaxed),
            self.vm_state.load(Relaxed),
            u32::from(self.dead.load(Relaxed)),
            self.kicks.load(Relaxed),
            self.violations.load(Relaxed),
            self.restarts.load(Relaxed),
            self.drains.load(Relaxed),
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

    /// Takes every pending event and routes poll masks to the open files.
    fn take_events(
        w: &mut HostWindow,
        files: &KVec<Arc<FileShared>>,
    ) -> core::result::Result<(), ring::RingError> {
        let gen = w.host.generation();
        while let Some(ev) = w.host.next_event()? {
            if ev.kind == ring::EventKind::PollReady {
                if let Some(f) = files.iter().find(|f| f.is(ev.export, ev.handle, gen)) {
                    f.set_mask(ev.events);
                }
            }
        }
        Ok(())
    }

    fn violation(&self, e: ring::RingError) {
        self.violations.add(1, Relaxed);
        // At most once per driver-VM generation: the ring stays broken
        // until the VMM restarts the VM.
        pr_err!(
            "ikernel: channel {}: the driver VM broke the ring: {:?}\n",
            self.id,
            e
        );
    }

    /// A ring error met by a caller: a peer fault is a violation (the ring
    /// is broken from then on); either way the caller gets an errno.
    fn ring_fault(&self, g: &Inner, e: ring::RingError) -> Error {
        if e.is_peer_fault() {
            self.violation(e);
            // Other waiters and pollers learn of it at once.
            for f in g.files.iter() {
                f.kill();
            }
            self.done.notify_all();
        }
        ring_errno(e)
    }

    /// Whether a doorbell throttle is on now.
    fn throttled(&self) -> bool {
        let until = self.throttled_until.load(Relaxed);
        // CAST: Jiffies compare through the sign of their difference.
        until != 0 && (until.wrapping_sub(jiffies()) as isize) > 0
    }

    /// Whether the guest's doorbells are throttled as a flood; starts a
    /// throttle when, within the current second, the guest rang more than
    /// [`FLOOD_SLACK`] doorbells beyond the responses it produced.  Called
    /// from the doorbell callback: atomics only, no lock, no sleep.
    fn flooding(&self) -> bool {
        if self.throttled() {
            return true;
        }
        let now = jiffies();
        let kicks = self.kicks.load(Relaxed);
        let responses = self.responses.load(Relaxed);
        let at = self.flood_at.load(Relaxed);
        if at == 0 || now.wrapping_sub(at) >= msecs_to_jiffies(1000) {
            // A new window (racing doorbells may each start one: harmless).
            self.flood_at.store(now | 1, Relaxed);
            self.flood_kicks.store(kicks, Relaxed);
            self.flood_responses.store(responses, Relaxed);
            return false;
        }
        let rang = kicks.wrapping_sub(self.flood_kicks.load(Relaxed));
        let answered = responses.wrapping_sub(self.flood_responses.load(Relaxed));
        if rang <= answered.saturating_add(FLOOD_SLACK) {
            return false;
        }
        self.throttled_until.store(
            now.wrapping_add(msecs_to_jiffies(FLOOD_THROTTLE_MS)) | 1,
            Relaxed,
        );
        self.flood_at.store(0, Relaxed);
        self.throttles.add(1, Relaxed);
        pr_warn_once!("ikernel: a driver VM floods its doorbell; throttled\n");
        true
    }

    /// Registers an open file for poll events; fails if the driver VM
    /// changed generation since the open was answered.
    pub(crate) fn add_file(&self, f: Arc<FileShared>) -> Result {
        let mut g = self.inner.lock();
        self.check_live(&g, Some(f.generation()))?;
        g.files.push(f, GFP_KERNEL)?;
        Ok(())
    }

    /// Forgets an open file.
    pub(crate) fn remove_file(&self, f: &FileShared) {
        let mut g = self.inner.lock();
        if let Some(i) = g.files.iter().position(|x| core::ptr::eq(&**x, f)) {
            let _ = g.files.remove(i);
        }
    }

    /// Rings the guest's interrupt.
    fn call_guest(&self, g: &Inner) {
        if let Some(d) = &g.doorbells {
            self.interrupts.add(1, Relaxed);
            d.call.signal();
        }
    }

    /// Polls the ring for responses, with the guest's notifications off,
    /// while requests wait for them and each came within the poll window
    /// of the one before; the caller's drain then re-arms the
    /// notifications.  This trades a bounded spell of host CPU (at most
    /// `poll_max_us` past the last response, and only while requests are in
    /// flight) for the guest's doorbells, which under load then rarely
    /// ring at all.
    ///
    /// The window adapts like KVM's halt polling: when a poll gave up and
    /// the next response came within `poll_max_us` of it, the window
    /// doubles; when it came later, it halves.
    fn poll_responses(&self) {
        let max = u64::from(poll_max_us()) * 1000;
        if max == 0 || self.throttled() {
            // Off, or a flooding guest: its doorbells are throttled instead.
            return;
        }
        // A doorbell brought this run: a response arrived.
        self.poll_window.arrived(max);
        let window = self.poll_window.window(max);
        self.polls.add(1, Relaxed);
        self.polling.store(true, Relaxed);
        let mut last = Instant::<Monotonic>::now();
        loop {
            let d = {
                let mut g = self.inner.lock();
                self.drain_locked(&mut g, false)
            };
            if d.stored {
                self.done.notify_all();
            }
            if d.taken != 0 {
                self.polled.add(u64::from(d.taken), Relaxed);
                last = Instant::<Monotonic>::now();
            }
            if d.waiting == 0 || self.is_closed() || self.throttled() {
                break;
            }
            let idle = last.elapsed().as_nanos();
            if u64::try_from(idle).unwrap_or(0) >= window {
                self.poll_window.gave_up();
                break;
            }
            crate::chardev::poll_yield();
        }
        self.polling.store(false, Relaxed);
    }

    /// Sleeps until woken or `ticks` pass; `inner` is released meanwhile.
    fn sleep<'a>(
        &'a self,
        g: MutexGuard<'a, Inner>,
        ticks: Jiffies,
        wait: Wait,
    ) -> MutexGuard<'a, Inner> {
        let mut g = g;
        match wait {
            Wait::Interruptible => {
                let _ = self.done.wait_interruptible_timeout(&mut g, ticks.max(1));
                g
            }
            Wait::Bounded => {
                drop(g);
                fsleep(Delta::from_millis(1));
                self.inner.lock()
            }
        }
    }

    /// Sends one request and waits for its answer; the reply payload lands
    /// at the start of `reply` (whose length is the largest reply accepted).
    ///
    /// `gen` is the generation of the file the request is for (`None` for
    /// an open).  `timeout_ms` is the export's deadline (0: none).
    ///
    /// # Errors
    ///
    /// `EIO` if the driver VM is down, restarted since `gen`, or broke the
    /// ring; `ETIMEDOUT` past the deadline; `ERESTARTSYS` if a signal
    /// interrupted the call and the guest's driver was interrupted too (or
    /// did not answer within [`CANCEL_GRACE_MS`]).
    pub(crate) fn call(
        &self,
        gen: Option<u32>,
        desc: &ring::RequestDesc,
        payload: &[u8],
        reply: &mut [u8],
        timeout_ms: u32,
        wait: Wait,
    ) -> Result<Answer> {
        let (a, _) = self.call_with(
            gen,
            desc,
            Payload::Kernel(payload),
            ReplyTo::Kernel(reply),
            timeout_ms,
            wait,
        )?;
        Ok(a)
    }

    /// [`Channel::call`] with the payload and the reply in user memory or
    /// kernel memory.  Returns the answer and, for a [`ReplyTo::User`] the
    /// reply could not be copied to directly, a kernel buffer holding it.
    ///
    /// # Errors
    ///
    /// As [`Channel::call`]; also `EFAULT` if a [`Payload::User`] was not
    /// resident (nothing was sent).
    pub(crate) fn call_with(
        &self,
        gen: Option<u32>,
        desc: &ring::RequestDesc,
        payload: Payload<'_>,
        mut reply: ReplyTo<'_>,
        timeout_ms: u32,
        wait: Wait,
    ) -> Result<(Answer, Option<KVec<u8>>)> {
        if matches!(payload, Payload::User { .. }) && !direct_copy() {
            return Err(EFAULT);
        }
        let start = jiffies();
        let limit = match (wait, timeout_ms) {
            (Wait::Bounded, 0) => Some(msecs_to_jiffies(RELEASE_WAIT_MS)),
            (_, 0) => None,
            (_, ms) => Some(msecs_to_jiffies(ms)),
        };
        let mut desc = *desc;
        desc.reply_max = u32::try_from(reply.max()).map_err(|_| EINVAL)?;
        let mut g = self.inner.lock();
        // Submit, waiting for a free slot if all are in flight.
        let (sub, now_gen) = loop {
            let now_gen = self.check_live(&g, gen)?;
            let w = g.window.as_mut().ok_or(EIO)?;
            let submitted = match payload {
                Payload::Kernel(p) => w.host.submit(&desc, p).map(Some),
                Payload::User { addr, len } => {
                    let from = UserPtr::from_addr(addr);
                    let n = u32::try_from(len).map_err(|_| EINVAL)?;
                    w.host.submit_with(&desc, n, |mem, off, n| {
                        mem.copy_from_user(off, n, from, Faults::Off)
                    })
                }
            };
            match submitted {
                Ok(Some((sub, kick))) => {
                    if kick {
                        self.call_guest(&g);
                    }
                    if let Payload::User { len, .. } = payload {
                        // CAST: A slot's buffer is far below `u64::MAX`.
                        self.direct_bytes.add(len as u64, Relaxed);
                    }
                    break (sub, now_gen);
                }
                // Not resident: nothing was sent.
                Ok(None) => return Err(EFAULT),
                Err(ring::RingError::Full) => {}
                Err(e) => return Err(self.ring_fault(&g, e)),
            }
            let left = match limit {
                Some(l) => match l.checked_sub(jiffies().wrapping_sub(start)) {
                    Some(0) | None => return Err(ETIMEDOUT),
                    Some(left) => left.min(msecs_to_jiffies(RECHECK_MS)),
                },
                None => msecs_to_jiffies(RECHECK_MS),
            };
            g = self.sleep(g, left, wait);
            if wait == Wait::Interruptible && kernel::current!().signal_pending() {
                return Err(ERESTARTSYS);
            }
        };
        let mut cancelled_at: Option<Jiffies> = None;
        loop {
            // A poller leaves the guest's notifications off: only its final
            // drain re-arms them.
            let rearm = !self.polling.load(Relaxed);
            if self.drain_locked(&mut g, rearm).stored {
                self.done.notify_all();
            }
            if self.check_live(&g, Some(now_gen)).is_err() {
                return Err(EIO);
            }
            let tag = usize::try_from(sub.tag)?;
            let mine = match g.answers.get(tag) {
                Some(Some(c)) if c.id == sub.id => Some(*c),
                _ => None,
            };
            if let Some(c) = mine {
                if let Some(a) = g.answers.get_mut(tag) {
                    *a = None;
                }
                let w = g.window.as_mut().ok_or(EIO)?;
                let (read, bounce) = Self::take_reply(&mut w.host, &c, &mut reply);
                w.host.release(&c);
                let read = read.map_err(|e| self.ring_fault(&g, e));
                drop(g);
                // A slot is free: wake callers waiting for one.
                self.done.notify_all();
                let len = read?;
                if let ReplyTo::User { .. } = reply {
                    // CAST: A slot's buffer is far below `u64::MAX`.
                    let n = len as u64;
                    match bounce {
                        Some(Ok(_)) => self.bounced_bytes.add(n, Relaxed),
                        Some(Err(_)) => {}
                        None => self.direct_bytes.add(n, Relaxed),
                    }
                }
                let bounce = bounce.transpose()?;
                let result = match cancelled_at {
                    // The driver saw the signal: restart or EINTR, as the
                    // caller's signal disposition says.
                    Some(_) if c.result == i64::from(EINTR.to_errno()) => {
                        i64::from(ERESTARTSYS.to_errno())
                    }
                    _ => c.result,
                };
                let a = Answer {
                    result,
                    len,
                    events: c.events,
                    aux: c.aux,
                    generation: now_gen,
                };
                return Ok((a, bounce));
            }
            let w = g.window.as_mut().ok_or(EIO)?;
            // While a poller runs it takes the answer and wakes this caller.
            if rearm {
                match w.host.enable_notify() {
                    Ok(true) => continue,
                    Ok(false) => {}
                    Err(e) => return Err(self.ring_fault(&g, e)),
                }
            }
            let elapsed = jiffies().wrapping_sub(start);
            if let Some(at) = cancelled_at {
                if jiffies().wrapping_sub(at) >= msecs_to_jiffies(CANCEL_GRACE_MS) {
                    w.host.abandon(sub.id);
                    return Err(ERESTARTSYS);
                }
            } else if let Some(l) = limit {
                if elapsed >= l {
                    w.host.abandon(sub.id);
                    if wait == Wait::Interruptible {
                        self.send_cancel(&mut g, &desc, sub.id);
                    }
                    return Err(ETIMEDOUT);
                }
            }
            let ticks = match (cancelled_at, limit) {
                (Some(_), _) => 1,
                (None, Some(l)) => (l - elapsed).min(msecs_to_jiffies(RECHECK_MS)),
                (None, None) => msecs_to_jiffies(RECHECK_MS),
            };
            let mode = if cancelled_at.is_some() {
                Wait::Bounded
            } else {
                wait
            };
            g = self.sleep(g, ticks, mode);
            if wait == Wait::Interruptible
                && cancelled_at.is_none()
                && kernel::current!().signal_pending()
            {
                // Interrupt the driver's wait in the guest as the signal
                // would have interrupted it natively, then collect its
                // answer (data it already produced is not lost).
                self.send_cancel(&mut g, &desc, sub.id);
                cancelled_at = Some(jiffies());
            }
        }
    }

    /// Counts `n` bulk bytes a caller sent through a kernel buffer because a
    /// page of its buffer was not resident.
    pub(crate) fn count_bounced(&self, n: usize) {
        // CAST: A slot's buffer is far below `u64::MAX`.
        self.bounced_bytes.add(n as u64, Relaxed);
    }

    /// Copies the reply of the answered request `c` where `reply` says:
    /// returns its length, and for a [`ReplyTo::User`] whose page was not
    /// resident, a kernel buffer holding it (allocating does not wait for
    /// the guest or for user space).
    fn take_reply(
        host: &mut ring::Host<KernelWindow>,
        c: &ring::Completion,
        reply: &mut ReplyTo<'_>,
    ) -> (
        core::result::Result<usize, ring::RingError>,
        Option<Result<KVec<u8>>>,
    ) {
        let to = match reply {
            ReplyTo::Kernel(buf) => return (host.read_reply(c, buf), None),
            ReplyTo::User { addr, .. } => UserPtr::from_addr(*addr),
        };
        let len = usize::try_from(c.len).unwrap_or(usize::MAX);
        let direct = direct_copy();
        let copied = host.read_reply_with(c, |mem, off, n| {
            direct && mem.copy_to_user(off, n, to, Faults::Off)
        });
        match copied {
            Ok(true) => (Ok(len), None),
            Ok(false) => match KVec::from_elem(0u8, len, GFP_KERNEL) {
                Ok(mut buf) => (host.read_reply(c, &mut buf), Some(Ok(buf))),
                Err(e) => (Ok(len), Some(Err(e.into()))),
            },
            Err(e) => (Err(e), None),
        }
    }

    /// Asks the guest to interrupt request `id`; the answer to the cancel
    /// itself is discarded.
    fn send_cancel(&self, g: &mut Inner, desc: &ring::RequestDesc, id: u32) {
        let Some(w) = g.window.as_mut() else {
            return;
        };
        let c = ring::RequestDesc::cancel(desc.export, desc.handle, id);
        if let Ok((s, kick)) = w.host.submit(&c, &[]) {
            w.host.abandon(s.id);
            if kick {
                self.call_guest(g);
            }
        }
    }
}

/// `ikernel_state.broken`: 0, or 1 plus the violation that broke the ring
/// (the order of `ring::RingError`, documented in `ring.rst`).
fn broken_code(e: Option<ring::RingError>) -> u32 {
    // CAST: `RingError` is a field-less enum with fewer than 2^32 variants.
    e.map_or(0, |e| e as u32 + 1)
}

/// The current time in jiffies.
fn jiffies() -> Jiffies {
    // SAFETY: `jiffies` is a word the timer tick updates; a volatile read of
    // it is how C reads it too.
    unsafe { core::ptr::read_volatile(&raw const kernel::bindings::jiffies) }
}

/// The page offset of a new mapping.
fn vma_pgoff(vma: &VmaNew) -> usize {
    // SAFETY: `vma.as_ptr()` is valid while `vma` is borrowed, and `vm_pgoff`
    // is set before the mmap handler runs and not changed concurrently (the
    // mmap lock is held).
    unsafe { (*vma.as_ptr()).vm_pgoff }
}
