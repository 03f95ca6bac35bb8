// SPDX-License-Identifier: GPL-2.0

//! The guest's end of the shared window.
//!
//! ivt-shim maps the window into the driver VM's physical address space, in
//! a range the e820 map marks reserved, and names it on the kernel command
//! line (`ikernel_guest.window_gpa=` and `ikernel_guest.window_size=`).  This
//! module maps it, attaches to the ring (which validates everything the host
//! wrote), announces the guest as ready and keeps a heartbeat going, so that
//! the VMM can tell a live driver VM from a hung one.

use kernel::{
    bindings,
    ffi::{
        c_int,
        c_ulong,
        c_void, //
    },
    new_condvar, new_delayed_work, new_mutex, pr_err_once,
    prelude::*,
    sync::{
        atomic::{
            Atomic,
            Relaxed, //
        },
        Arc,
        CondVar,
        Mutex, //
    },
    time::{
        msecs_to_jiffies,
        Instant,
        Monotonic, //
    },
    uaccess::UserPtr,
    workqueue::{
        self,
        DelayedWork,
        WorkItem, //
    },
};

use crate::{
    hw::{
        Doorbell,
        HostIrq,
        IRQ_HANDLED, //
    },
    poll::PollWindow,
    ring,
    window::{
        Faults,
        KernelWindow, //
    },
};

// The test-only hostile mode, in the test flavour only (`--cfg
// ikernel_test`): a child module, so that it reaches the ring state below
// without widening its visibility.
#[cfg(ikernel_test)]
#[path = "hostile.rs"]
mod hostile;

/// How long the watching server (one of those waiting for a request)
/// sleeps before it looks at the ring again even without an interrupt: a
/// lost interrupt costs at most this while a server waits.
const IDLE_RECHECK_MS: u32 = 100;

/// How long any other waiting server sleeps before it looks again: a
/// backstop only, should the watch ever fail to be handed on.  Every
/// waiting server waking every `IDLE_RECHECK_MS` kept the driver VM's tick
/// running: with ikernel-served's 64 servers that was hundreds of timer
/// interrupts a second, each a VM exit; at 1 s it was still 63 a second,
/// half of an idle driver VM's interrupts.
const IDLE_BACKSTOP_MS: u32 = 10_000;

/// How often the guest proves it is alive.
pub(crate) const HEARTBEAT_MS: u32 = 100;

/// Heartbeats with requests waiting and none taken before the guest logs it.
const STUCK_BEATS: u32 = 100;

/// A `memremap` of the window.
///
/// # Invariants
///
/// `base` is a live `memremap(MEMREMAP_WB)` mapping of `size` bytes, unmapped
/// exactly once in [`Drop`].
struct Remap {
    base: *mut u8,
    size: usize,
}

impl Remap {
    /// Maps `size` bytes of guest-physical memory at `gpa`, write-back cached.
    fn new(gpa: u64, size: usize) -> Result<Self> {
        if gpa == 0 || size == 0 || gpa % 4096 != 0 || size % 4096 != 0 {
            return Err(EINVAL);
        }
        // CAST: A small flag constant, lossless into `c_ulong`.
        let flags = bindings::MEMREMAP_WB as c_ulong;
        // SAFETY: `memremap` accepts any range; it refuses (returns NULL) one
        // that is System RAM the kernel owns or that it cannot map.
        let base = unsafe { bindings::memremap(gpa, size, flags) };
        if base.is_null() {
            return Err(ENOMEM);
        }
        // INVARIANT: `memremap` succeeded.
        Ok(Self {
            base: base.cast(),
            size,
        })
    }
}

impl Drop for Remap {
    fn drop(&mut self) {
        // SAFETY: `base` came from `memremap` and is unmapped only here.
        unsafe { bindings::memunmap(self.base.cast()) };
    }
}

// SAFETY: The mapping is plain memory usable from any CPU; `Remap` only owns
// it, all access goes through `KernelWindow`.
unsafe impl Send for Remap {}
// SAFETY: `Remap` has no `&self` methods that touch the memory.
unsafe impl Sync for Remap {}

/// The ring and the requests handed to the serving process.
struct Serve {
    guest: ring::Guest<KernelWindow>,
    /// Requests handed out and not answered yet, by slot tag.
    pending: KVec<Option<ring::Request>>,
    /// A server polls the ring, with the host's notifications off: servers
    /// that take a request then leave them off (the poller takes the next).
    polling: bool,
    /// Requests handed to servers so far.
    taken: u64,
    /// `taken` at the last heartbeat.
    beat_taken: u64,
    /// Heartbeats in a row that saw requests waiting and none taken.
    stuck_beats: u32,
}

/// Where the serving process wants a request's payload.
#[derive(Clone, Copy)]
pub(crate) enum Dest {
    /// Copied into its buffer of `size` bytes at `addr`.
    User { addr: usize, size: usize },
    /// Left in the window, which it mapped at `base`: the request is served
    /// in place, in its slot's buffer.
    Window { base: usize },
}

/// A request as handed to the serving process.
pub(crate) struct Handed {
    pub(crate) req: ring::Request,
    /// Whether its payload reached the server's buffer: `E2BIG` if the
    /// buffer is too small, `EFAULT` if it is not writable; `EIO` if it is
    /// not in its slot's buffer, where a server working in the window
    /// looks for it.
    pub(crate) copied: Result,
    /// The server's buffer for it (in the window: the slot's buffer) and
    /// its size.
    pub(crate) buf: usize,
    pub(crate) buf_size: usize,
}

/// A reply payload, in kernel memory or in the serving process's memory.
#[derive(Clone, Copy)]
pub(crate) enum ReplyData<'a> {
    /// Kernel memory.
    Kernel(&'a [u8]),
    /// `len` bytes at `addr`, copied straight into the request's buffer.
    User { addr: usize, len: usize },
    /// `len` bytes at `addr` of a server that mapped the window at `base`:
    /// already in place (no copy) when `addr` is the request's own buffer
    /// there, copied as [`ReplyData::User`] otherwise.
    Window {
        base: usize,
        addr: usize,
        len: usize,
    },
}

/// The attached window, its heartbeat and its serving state.
#[pin_data]
pub(crate) struct Link {
    /// The host's interrupt line, when one was given; declared first so that
    /// it is freed before the fields its handler uses.
    #[pin]
    irq: Mutex<Option<HostIrq>>,
    #[pin]
    serve: Mutex<Serve>,
    /// Servers waiting for a request sleep here; the host's interrupt wakes
    /// them.
    #[pin]
    wake: CondVar,
    /// Interrupts taken.
    hits: Atomic<u64>,
    /// Servers in [`Link::next_request`] now.
    servers: Atomic<u32>,
    /// Servers asleep on `wake` now.
    sleepers: Atomic<u32>,
    /// Whether one of the sleeping servers holds the watch (sleeps
    /// `IDLE_RECHECK_MS` at a time); see [`Watch`].
    watching: Atomic<bool>,
    /// The servers' adaptive poll window.
    poll_window: PollWindow,
    /// Set when the module goes away: the heartbeat stops re-arming and
    /// servers stop waiting.
    stopping: Atomic<bool>,
    #[pin]
    beat: DelayedWork<Link>,
    /// The doorbell to the host, when one was given.
    doorbell: Option<Doorbell>,
    /// The test-only hostile mode (off unless `hostile=` is given).
    #[cfg(ikernel_test)]
    hostile: hostile::Hostile,
    // Declared after `serve` so that it is dropped after it: the accessor in
    // `serve` points into this mapping.
    remap: Remap,
    /// The window's guest-physical address.
    gpa: u64,
}

/// The host's interrupt: counts it and wakes the waiting servers.
///
/// # Safety
///
/// `data` points to a live [`Link`].
unsafe extern "C" fn host_irq(_irq: c_int, data: *mut c_void) -> bindings::irqreturn_t {
    // SAFETY: By the function's contract `data` is a live `Link`.
    let link = unsafe { &*data.cast::<Link>() };
    link.hits.add(1, Relaxed);
    // One server: the one that takes a request wakes the next while more
    // are waiting (`take_request`), so a burst does not wake them all.
    link.wake.notify_one();
    IRQ_HANDLED
}

kernel::impl_has_delayed_work! {
    impl HasDelayedWork<Self> for Link { self.beat }
}

impl WorkItem for Link {
    type Pointer = Arc<Link>;

    fn run(this: Arc<Link>) {
        {
            let mut s = this.serve.lock();
            if let Err(e) = s.guest.beat() {
                pr_warn!("ikernel_guest: heartbeat failed: {:?}\n", e);
            }
            this.watch(&mut s);
        }
        if !this.stopping.load(Relaxed) {
            let _ = workqueue::system().enqueue_delayed(this, msecs_to_jiffies(HEARTBEAT_MS));
        }
    }
}

impl Link {
    /// Maps the window at `gpa`, attaches to the ring, takes the host's
    /// interrupt line, starts the heartbeat and rings the doorbell once so
    /// that the host learns at once that the guest is ready.
    pub(crate) fn attach(gpa: u64, size: u64, port: u32, irq: u32) -> Result<Arc<Self>> {
        let doorbell = match port {
            0 => None,
            port => Some(Doorbell::new(port)?),
        };
        let remap = Remap::new(gpa, usize::try_from(size)?)?;
        // SAFETY: `remap` maps `remap.size` bytes at `remap.base`, page
        // aligned (memremap of a page-aligned range), and `Link` drops the
        // accessor (in `serve`) before `remap`.
        let accessor = unsafe { KernelWindow::new(remap.base, remap.size) };
        let guest = ring::Guest::attach(
            accessor,
            ring::FEATURE_EVENT_IDX
                | ring::FEATURE_NET
                | ring::FEATURE_MMAP
                | ring::FEATURE_NODE_INFO
                | ring::FEATURE_REMOTE_IOCTL,
        )
        .map_err(|e| {
            pr_err!(
                "ikernel_guest: the window at {:#x} is not usable: {:?}\n",
                gpa,
                e
            );
            Error::from_errno(e.to_errno())
        })?;
        #[cfg(ikernel_test)]
        let hostile = hostile::Hostile::new(guest.generation())?;
        let slots = usize::try_from(guest.layout().num_slots)?;
        let mut pending = KVec::with_capacity(slots, GFP_KERNEL)?;
        for _ in 0..slots {
            pending.push(None, GFP_KERNEL)?;
        }
        let link = Arc::pin_init(
            try_pin_init!(Link {
                irq <- new_mutex!(None),
                serve <- new_mutex!(Serve {
                    guest,
                    pending,
                    polling: false,
                    taken: 0,
                    beat_taken: 0,
                    stuck_beats: 0,
                }),
                wake <- new_condvar!("ikernel_guest::wake"),
                hits: Atomic::new(0),
                servers: Atomic::new(0),
                sleepers: Atomic::new(0),
                watching: Atomic::new(false),
                poll_window: PollWindow::new(),
                stopping: Atomic::new(false),
                beat <- new_delayed_work!("ikernel_guest::beat"),
                doorbell,
                #[cfg(ikernel_test)]
                hostile,
                remap,
                gpa,
            }),
            GFP_KERNEL,
        )?;
        if irq != 0 {
            let data = core::ptr::from_ref::<Link>(&link)
                .cast_mut()
                .cast::<c_void>();
            // SAFETY: `host_irq` does not sleep and only uses the `Link` behind
            // `data`; the line is freed in `stop` or, at the latest, when
            // `Link` drops its `irq` field, its first.
            let line = unsafe { HostIrq::request(irq, host_irq, data) }.inspect_err(|e| {
                pr_err!("ikernel_guest: cannot take IRQ {}: {:?}\n", irq, e);
            })?;
            *link.irq.lock() = Some(line);
        }
        let _ = workqueue::system().enqueue_delayed(link.clone(), msecs_to_jiffies(HEARTBEAT_MS));
        if let Some(d) = &link.doorbell {
            d.ring();
        }
        pr_info!(
            "ikernel_guest: attached to the window at {:#x} ({} KiB), ready\n",
            gpa,
            size / 1024
        );
        Ok(link)
    }

    /// Maps the whole window into a serving process (`mmap` of
    /// `/dev/ikernel_guest`), so that it can serve requests in place.
    pub(crate) fn map_window(&self, vma: &kernel::mm::virt::VmaNew) -> Result {
        crate::hw::map_window(vma, self.gpa, self.remap.size)
    }

    /// Waits for the next request and takes it.  Its payload goes where
    /// `dest` says: straight from the window to the serving process's
    /// buffer, the only copy the guest makes of it, or nowhere (the server
    /// works in its mapping of the window).
    ///
    /// # Errors
    ///
    /// `ERESTARTSYS` on a signal, `ENODEV` once the stub stops, `EIO` when
    /// the host broke the ring (logged once).
    pub(crate) fn next_request(&self, dest: Dest) -> Result<Handed> {
        self.servers.add(1, Relaxed);
        let r = self.take_request(dest);
        self.servers.fetch_sub(1, Relaxed);
        r
    }

    fn take_request(&self, dest: Dest) -> Result<Handed> {
        let max = u64::from(crate::module_parameters::poll_us.value()) * 1000;
        // Declared before the lock guard, so dropped after it: the watch is
        // handed on with the lock released.
        let mut watch = Watch {
            link: self,
            held: false,
        };
        let mut s = self.serve.lock();
        // While this server polls: since when, and for how long (ns).
        let mut poll_until: Option<(Instant<Monotonic>, i64)> = None;
        loop {
            if self.stopping.load(Relaxed) {
                return Err(ENODEV);
            }
            match s.guest.next_request() {
                Ok(Some(req)) => {
                    if poll_until.take().is_some() {
                        s.polling = false;
                    } else {
                        self.poll_window.arrived(max);
                    }
                    let tag = usize::try_from(req.tag)?;
                    let layout = s.guest.layout();
                    let own = usize::try_from(layout.buf_off(req.tag))?;
                    let (buf, buf_size) = match dest {
                        Dest::User { addr, size } => (addr, size),
                        Dest::Window { base } => (
                            base.checked_add(own).ok_or(EINVAL)?,
                            usize::try_from(layout.slot_data_size)?,
                        ),
                    };
                    let to = UserPtr::from_addr(buf);
                    // The server's own buffer: faulting it in under the
                    // lock only delays the other servers of this VM.
                    let read = s.guest.read_payload_with(&req, |mem, off, n| match dest {
                        // The host puts every payload at the start of its
                        // slot's buffer; one elsewhere is not where the
                        // server will look.
                        Dest::Window { .. } if n > 0 && off != own => Err(EIO),
                        Dest::Window { .. } => Ok(()),
                        Dest::User { .. } if n > buf_size => Err(E2BIG),
                        Dest::User { .. } if mem.copy_to_user(off, n, to, Faults::Take) => Ok(()),
                        Dest::User { .. } => Err(EFAULT),
                    });
                    match (read, s.pending.get_mut(tag)) {
                        (Ok(copied), Some(slot)) => {
                            *slot = Some(req);
                            s.taken = s.taken.wrapping_add(1);
                            // Re-arm at what was consumed, or the host will
                            // not interrupt the servers sleeping now for its
                            // next request; wake one if more are waiting.
                            // Not while another server polls: it takes the
                            // next request without an interrupt.
                            if !s.polling && s.guest.enable_notify().unwrap_or(false) {
                                self.wake.notify_one();
                            }
                            return Ok(Handed {
                                req,
                                copied,
                                buf,
                                buf_size,
                            });
                        }
                        // The ring validated the payload bounds and the tag;
                        // neither can fail.  Answer rather than leak the slot.
                        _ => {
                            let _ = s
                                .guest
                                .respond(&req, -i64::from(EIO.to_errno().abs()), &[], 0);
                            continue;
                        }
                    }
                }
                Ok(None) => {}
                Err(e) => return Err(broken(e)),
            }
            // Poll for a while before sleeping, one server at a time, with
            // the host's notifications off: a request that comes within the
            // window costs no interrupt and no wake-up from idle.
            if poll_until.is_none() && !s.polling && max != 0 {
                let window = self.poll_window.window(max);
                if s.guest.disable_notify().is_ok() {
                    s.polling = true;
                    let window = i64::try_from(window).unwrap_or(i64::MAX);
                    poll_until = Some((Instant::<Monotonic>::now(), window));
                }
            }
            if let Some((since, window)) = poll_until {
                if since.elapsed().as_nanos() < window {
                    drop(s);
                    crate::hw::poll_yield();
                    let signal = kernel::current!().signal_pending();
                    s = self.serve.lock();
                    if !signal {
                        continue;
                    }
                }
                // The window ended (or a signal came): re-arm and sleep.
                poll_until = None;
                s.polling = false;
                self.poll_window.gave_up();
            }
            match s.guest.enable_notify() {
                Ok(true) => continue,
                Ok(false) => {}
                Err(e) => return Err(broken(e)),
            }
            if !watch.held {
                watch.held = !self.watching.xchg(true, Relaxed);
            }
            let ms = if watch.held {
                IDLE_RECHECK_MS
            } else {
                IDLE_BACKSTOP_MS
            };
            self.sleepers.add(1, Relaxed);
            let _ = self
                .wake
                .wait_interruptible_timeout(&mut s, msecs_to_jiffies(ms));
            self.sleepers.fetch_sub(1, Relaxed);
            if kernel::current!().signal_pending() {
                return Err(ERESTARTSYS);
            }
        }
    }

    /// Publishes the response to request `id` and signals the host if the
    /// ring says it waits for one.
    ///
    /// # Errors
    ///
    /// `ENOENT` if `id` is not a request handed out, `EINVAL` for a result or
    /// poll mask out of range or a reply larger than the host accepts,
    /// `EAGAIN` if the host has not made room in the response ring, `EIO`
    /// when the ring is broken.
    pub(crate) fn respond(
        &self,
        id: u32,
        result: i64,
        reply: ReplyData<'_>,
        events: u32,
        aux: u64,
    ) -> Result {
        if !(-ring::MAX_ERRNO..).contains(&result) || events & !ring::POLL_KNOWN != 0 {
            return Err(EINVAL);
        }
        let mut s = self.serve.lock();
        let mask = s.guest.layout().mask();
        let tag = usize::try_from(id & mask)?;
        let req = match s.pending.get(tag) {
            Some(Some(r)) if r.id == id => *r,
            _ => return Err(ENOENT),
        };
        #[cfg(ikernel_test)]
        if let Some(turn) = self.hostile.turn(req.desc.op) {
            let mut copy = KVec::new();
            let payload = match reply {
                ReplyData::Kernel(p) => p,
                ReplyData::User { addr, len } | ReplyData::Window { addr, len, .. } => {
                    kernel::uaccess::UserSlice::new(UserPtr::from_addr(addr), len)
                        .read_all(&mut copy, GFP_KERNEL)?;
                    &copy
                }
            };
            let r = hostile::Reply {
                result,
                payload,
                events,
                aux,
            };
            return hostile::attack(self, s, turn, &req, &r);
        }
        let own = usize::try_from(s.guest.layout().buf_off(req.tag))?;
        let in_place = |base: usize, addr: usize| base.checked_add(own) == Some(addr);
        let published = match reply {
            ReplyData::Kernel(p) => s
                .guest
                .respond_aux(&req, result, p, events, aux)
                .map(|()| true),
            ReplyData::Window { base, addr, len } if in_place(base, addr) => {
                // The server wrote the reply into the request's buffer in
                // the window: publish it as it stands.
                let n = u32::try_from(len).map_err(|_| EINVAL)?;
                s.guest
                    .respond_aux_with(&req, result, n, events, aux, |_, _, _| true)
            }
            ReplyData::User { addr, len } | ReplyData::Window { addr, len, .. } => {
                let from = UserPtr::from_addr(addr);
                let n = u32::try_from(len).map_err(|_| EINVAL)?;
                // Straight from the server's buffer into the window: the
                // only copy the guest makes of the reply.
                s.guest
                    .respond_aux_with(&req, result, n, events, aux, |mem, off, n| {
                        mem.copy_from_user(off, n, from, Faults::Take)
                    })
            }
        };
        match published {
            Ok(true) => {}
            Ok(false) => return Err(EFAULT),
            Err(ring::RingError::TooLarge) => return Err(EINVAL),
            Err(ring::RingError::Full) => return Err(EAGAIN),
            Err(e) => return Err(broken(e)),
        }
        if let Some(slot) = s.pending.get_mut(tag) {
            *slot = None;
        }
        let signal = s.guest.signal_needed().unwrap_or(true);
        drop(s);
        if signal {
            self.ring_host();
        }
        Ok(())
    }

    /// Pushes a poll-readiness event for an open file; rings the host if
    /// `signal` and the ring says it waits (a response that follows at once
    /// notifies for both otherwise).
    ///
    /// # Errors
    ///
    /// `EINVAL` for a mask out of range, `EAGAIN` if the event ring is full
    /// (try again later), `EIO` when the ring is broken.
    pub(crate) fn push_poll(&self, export: u32, handle: u32, events: u32, signal: bool) -> Result {
        if events & !ring::POLL_KNOWN != 0 {
            return Err(EINVAL);
        }
        let ev = ring::Event {
            kind: ring::EventKind::PollReady,
            export,
            handle,
            events,
        };
        let mut s = self.serve.lock();
        match s.guest.push_event(&ev) {
            Ok(()) => {}
            Err(ring::RingError::Full) => return Err(EAGAIN),
            Err(e) => return Err(broken(e)),
        }
        if !signal {
            return Ok(());
        }
        let signal = s.guest.signal_needed().unwrap_or(true);
        drop(s);
        if signal {
            self.ring_host();
        }
        Ok(())
    }

    /// Publishes the serving process's report of which of its `count`
    /// exports have a device node (`map`, checked by the caller), and logs
    /// the change.
    ///
    /// # Errors
    ///
    /// `EIO` when the ring is broken.
    pub(crate) fn report_exports(&self, count: u32, map: &[u32; ring::EXPORTS_WORDS]) -> Result {
        let served: u32 = map.iter().map(|w| w.count_ones()).sum();
        self.serve
            .lock()
            .guest
            .report_exports(map)
            .map_err(|_| EIO)?;
        pr_info!(
            "ikernel_guest: the serving process reports {} of {} export(s) served\n",
            served,
            count
        );
        Ok(())
    }

    fn ring_host(&self) {
        if let Some(d) = &self.doorbell {
            d.ring();
        }
    }

    /// Stops the heartbeat and tells the host this guest stopped serving.
    ///
    /// Returns once the heartbeat work is neither queued nor running.
    pub(crate) fn stop(&self) {
        self.stopping.store(true, Relaxed);
        self.wake.notify_all();
        // SAFETY: `beat` is an initialised delayed work inside `self`, which
        // is alive for this call.  Flushing runs a pending instance at once
        // and waits for it; since `stopping` is set before, that instance does
        // not re-arm, so afterwards the work is idle.
        unsafe { bindings::flush_delayed_work(self.raw_beat()) };
        let _ = self.serve.lock().guest.set_state(ring::GuestState::Stopped);
        self.ring_host();
        let line = self.irq.lock().take();
        if line.is_some() {
            drop(line);
            pr_info!(
                "ikernel_guest: {} interrupts from the host\n",
                self.hits.load(Relaxed)
            );
        }
    }

    /// Called on every heartbeat: logs requests that wait in the ring while
    /// no server takes one for [`STUCK_BEATS`] heartbeats (once each time),
    /// with what the servers are doing.  While servers wait, the one that
    /// holds the watch looks at the ring every [`IDLE_RECHECK_MS`] (10 s is
    /// 100 of those), so this means none is waiting for a request: they are
    /// all in the driver or in `ikernel-served`.
    fn watch(&self, s: &mut Serve) {
        let waiting = s.guest.requests_waiting();
        if waiting == 0 || s.taken != s.beat_taken {
            s.stuck_beats = 0;
        } else {
            s.stuck_beats = s.stuck_beats.saturating_add(1);
            if s.stuck_beats == STUCK_BEATS {
                let handed = s.pending.iter().filter(|p| p.is_some()).count();
                pr_warn!(
                    "ikernel_guest: {} request(s) waiting for {} ms and none taken; {} handed to servers and not answered, {} server(s) waiting\n",
                    waiting,
                    STUCK_BEATS * HEARTBEAT_MS,
                    handed,
                    self.servers.load(Relaxed)
                );
            }
        }
        s.beat_taken = s.taken;
    }

    /// The C `delayed_work` inside `beat`.
    fn raw_beat(&self) -> *mut bindings::delayed_work {
        // SAFETY: `&self.beat` is a valid, aligned pointer to a `DelayedWork`.
        let work = unsafe { DelayedWork::raw_as_work(&self.beat) };
        // SAFETY: `raw_as_work` points at the `work` field of the C
        // `delayed_work` (a `Work` is layout compatible with `work_struct`).
        unsafe {
            kernel::container_of!(
                work.cast::<bindings::work_struct>(),
                bindings::delayed_work,
                work
            )
        }
    }
}

/// The watch of a server in [`Link::take_request`]: at most one sleeping
/// server holds it and wakes every `IDLE_RECHECK_MS`, the others every
/// `IDLE_BACKSTOP_MS`.  A server that leaves (with a request, or an error)
/// gives it up and wakes a sleeper, which takes it when it sleeps again.
struct Watch<'a> {
    link: &'a Link,
    held: bool,
}

impl Drop for Watch<'_> {
    fn drop(&mut self) {
        if self.held {
            self.link.watching.store(false, Relaxed);
            if self.link.sleepers.load(Relaxed) > 0 {
                self.link.wake.notify_one();
            }
        }
    }
}

/// Logs a ring fault (the host broke the protocol) and maps it to `EIO`.
fn broken(e: ring::RingError) -> Error {
    pr_err_once!("ikernel_guest: the host broke the ring: {:?}\n", e);
    EIO
}
