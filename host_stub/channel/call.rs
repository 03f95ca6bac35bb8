// SPDX-License-Identifier: GPL-2.0

//! One forwarded call: submit a request, wait for its own answer.
//!
//! A caller waits for its answer on its slot's condition variable, and the
//! drain that takes the answer from the ring wakes that caller alone.  One
//! waiting caller at a time is the channel's watcher: it sleeps where the
//! guest's doorbell wakes it directly and drains the ring for everyone, so
//! that a response costs one wake-up, not a hop through the drain work (which
//! still runs after every doorbell, in case no caller watches).  When the
//! watcher leaves, it hands the role to another waiting caller.

use kernel::{
    prelude::*,
    sync::{
        atomic::{
            Atomic,
            Relaxed, //
        },
        MutexGuard,
    },
    time::{
        delay::fsleep,
        msecs_to_jiffies,
        Delta,
        Jiffies, //
    },
    uaccess::UserPtr,
};

use super::{
    Channel,
    Inner,
    SlotWaits, //
};
use crate::{
    ring,
    sys::{
        jiffies,
        trace, //
    },
    window::{
        Faults,
        KernelWindow, //
    },
};

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

impl Payload<'_> {
    /// Its length in bytes (saturated, for the trace).
    fn len(&self) -> u32 {
        let n = match self {
            Payload::Kernel(b) => b.len(),
            Payload::User { len, .. } => *len,
        };
        u32::try_from(n).unwrap_or(u32::MAX)
    }
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

/// A submitted request a caller waits for.
struct Pending {
    sub: ring::Submitted,
    tag: usize,
    /// The generation it was sent to.
    gen: u32,
}

/// The deadline of a call started at `start`.
struct Deadline {
    start: Jiffies,
    limit: Option<Jiffies>,
}

impl Deadline {
    fn new(wait: Wait, timeout_ms: u32) -> Self {
        let limit = match (wait, timeout_ms) {
            (Wait::Bounded, 0) => Some(msecs_to_jiffies(RELEASE_WAIT_MS)),
            (_, 0) => None,
            (_, ms) => Some(msecs_to_jiffies(ms)),
        };
        Self {
            start: jiffies(),
            limit,
        }
    }

    /// Time to the deadline, at most [`RECHECK_MS`]; `None` once past it.
    fn left(&self) -> Option<Jiffies> {
        let recheck = msecs_to_jiffies(RECHECK_MS);
        match self.limit {
            Some(l) => match l.checked_sub(jiffies().wrapping_sub(self.start)) {
                Some(0) | None => None,
                Some(left) => Some(left.min(recheck)),
            },
            None => Some(recheck),
        }
    }
}

impl Channel {
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
        reply: ReplyTo<'_>,
        timeout_ms: u32,
        wait: Wait,
    ) -> Result<(Answer, Option<KVec<u8>>)> {
        if matches!(payload, Payload::User { .. }) && !direct_copy() {
            return Err(EFAULT);
        }
        let deadline = Deadline::new(wait, timeout_ms);
        let mut desc = *desc;
        desc.reply_max = u32::try_from(reply.max()).map_err(|_| EINVAL)?;
        let g = self.inner.lock();
        let len = payload.len();
        let (g, p) = self.submit(g, gen, &desc, payload, &deadline, wait)?;
        // CAST: `Op` is a `repr(u32)` wire code.
        let op = desc.op as u32;
        let id = u64::from(p.sub.id);
        trace::call_submit(self.id, p.gen, id, op, desc.export, len);
        let r = self.finish_call(g, &desc, &p, &deadline, wait, reply);
        let result = match &r {
            Ok((a, _)) => a.result,
            Err(e) => i64::from(e.to_errno()),
        };
        if matches!(&r, Err(e) if *e == ETIMEDOUT) {
            trace::call_timeout(self.id, id, op, timeout_ms);
        }
        trace::call_done(self.id, id, op, result);
        r
    }

    /// The rest of [`Channel::call_with`] once the request is in the ring:
    /// waits for its answer and takes the reply.
    fn finish_call<'a>(
        &'a self,
        mut g: MutexGuard<'a, Inner>,
        desc: &ring::RequestDesc,
        p: &Pending,
        deadline: &Deadline,
        wait: Wait,
        mut reply: ReplyTo<'_>,
    ) -> Result<(Answer, Option<KVec<u8>>)> {
        let waits = match g.window.as_ref() {
            Some(w) => w.waits.clone(),
            None => return Err(EIO),
        };
        if let Some(x) = g.waiting.get_mut(p.tag) {
            *x = true;
        }
        let (got, gg) = self.wait_answer(g, &waits, desc, p, deadline, wait);
        g = gg;
        if let Some(x) = g.waiting.get_mut(p.tag) {
            *x = false;
        }
        self.leave_watch(&mut g, p.tag);
        let (c, cancelled) = got?;
        let w = g.window.as_mut().ok_or(EIO)?;
        let (read, bounce) = Self::take_reply(&mut w.host, &c, &mut reply);
        w.host.release(&c);
        let read = read.map_err(|e| self.ring_fault(&g, e));
        if g.slot_waiters != 0 {
            // A slot is free: one caller waiting for one may take it.
            self.slot_free.notify_one();
        }
        drop(g);
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
        // A remote ioctl's guest tells a driver's -ERESTARTSYS from its
        // -EINTR itself (`ring::remote`).
        let remote = desc.op == ring::Op::IoctlPage
            || (desc.op == ring::Op::Ioctl && desc.pos & ring::IOCTL_ARG_REMOTE != 0);
        let result = if cancelled && !remote && c.result == i64::from(EINTR.to_errno()) {
            // The driver saw the signal: restart or EINTR, as the caller's
            // signal disposition says.
            i64::from(ERESTARTSYS.to_errno())
        } else {
            c.result
        };
        let a = Answer {
            result,
            len,
            events: c.events,
            aux: c.aux,
            generation: p.gen,
        };
        Ok((a, bounce))
    }

    /// An uninterruptible wait of a millisecond with the channel unlocked
    /// (bounded mode, or a call already cancelled by a signal): the
    /// caller looks again, and drains for itself, when it returns.
    fn nap<'a>(&'a self, g: MutexGuard<'a, Inner>) -> MutexGuard<'a, Inner> {
        drop(g);
        fsleep(Delta::from_millis(1));
        self.inner.lock()
    }

    /// Submits `desc`, waiting for a free slot if all are in flight.
    fn submit<'a>(
        &'a self,
        mut g: MutexGuard<'a, Inner>,
        gen: Option<u32>,
        desc: &ring::RequestDesc,
        payload: Payload<'_>,
        deadline: &Deadline,
        wait: Wait,
    ) -> Result<(MutexGuard<'a, Inner>, Pending)> {
        loop {
            let now_gen = self.check_live(&g, gen)?;
            let w = g.window.as_mut().ok_or(EIO)?;
            let submitted = match payload {
                Payload::Kernel(p) => w.host.submit(desc, p).map(Some),
                Payload::User { addr, len } => {
                    let from = UserPtr::from_addr(addr);
                    let n = u32::try_from(len).map_err(|_| EINVAL)?;
                    w.host.submit_with(desc, n, |mem, off, n| {
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
                    let tag = usize::try_from(sub.tag)?;
                    let p = Pending {
                        sub,
                        tag,
                        gen: now_gen,
                    };
                    return Ok((g, p));
                }
                // Not resident: nothing was sent.
                Ok(None) => return Err(EFAULT),
                Err(ring::RingError::Full) => {}
                Err(e) => return Err(self.ring_fault(&g, e)),
            }
            let left = deadline.left().ok_or(ETIMEDOUT)?;
            g.slot_waiters += 1;
            g = match wait {
                Wait::Interruptible => {
                    let _ = self
                        .slot_free
                        .wait_interruptible_timeout(&mut g, left.max(1));
                    g
                }
                Wait::Bounded => self.nap(g),
            };
            g.slot_waiters -= 1;
            if wait == Wait::Interruptible && kernel::current!().signal_pending() {
                return Err(ERESTARTSYS);
            }
        }
    }

    /// Takes the answer to `p` if it was delivered.
    fn take_answer(g: &mut Inner, p: &Pending) -> Option<ring::Completion> {
        let a = g.answers.get_mut(p.tag)?;
        match a {
            Some(c) if c.id == p.sub.id => a.take(),
            _ => None,
        }
    }

    /// Waits for the answer to `p`: returns it, and whether the request was
    /// cancelled by a signal meanwhile.
    fn wait_answer<'a>(
        &'a self,
        mut g: MutexGuard<'a, Inner>,
        waits: &SlotWaits,
        desc: &ring::RequestDesc,
        p: &Pending,
        deadline: &Deadline,
        wait: Wait,
    ) -> (Result<(ring::Completion, bool)>, MutexGuard<'a, Inner>) {
        let mut cancelled_at: Option<Jiffies> = None;
        loop {
            // Delivered already: nothing to drain.
            if let Some(c) = Self::take_answer(&mut g, p) {
                return (Ok((c, cancelled_at.is_some())), g);
            }
            // A poller leaves the guest's notifications off: only its final
            // drain re-arms them.
            let rearm = !self.polling.load(Relaxed);
            self.drain_locked(&mut g, rearm);
            if let Some(c) = Self::take_answer(&mut g, p) {
                return (Ok((c, cancelled_at.is_some())), g);
            }
            if self.check_live(&g, Some(p.gen)).is_err() {
                return (Err(EIO), g);
            }
            let Some(w) = g.window.as_mut() else {
                return (Err(EIO), g);
            };
            // While a poller runs it takes the answer and wakes this caller.
            if rearm {
                match w.host.enable_notify() {
                    Ok(true) => continue,
                    Ok(false) => {}
                    Err(e) => {
                        let e = self.ring_fault(&g, e);
                        return (Err(e), g);
                    }
                }
            }
            let left = if let Some(at) = cancelled_at {
                if jiffies().wrapping_sub(at) >= msecs_to_jiffies(CANCEL_GRACE_MS) {
                    w.host.abandon(p.sub.id);
                    return (Err(ERESTARTSYS), g);
                }
                1
            } else {
                match deadline.left() {
                    Some(left) => left,
                    None => {
                        w.host.abandon(p.sub.id);
                        if wait == Wait::Interruptible {
                            self.send_cancel(&mut g, desc, p.sub.id);
                        }
                        return (Err(ETIMEDOUT), g);
                    }
                }
            };
            if wait == Wait::Bounded || cancelled_at.is_some() {
                // Uninterruptible: look again every millisecond, draining
                // for itself (it is no watcher).
                self.leave_watch(&mut g, p.tag);
                g = self.nap(g);
                continue;
            }
            if g.watcher.is_none() || g.watcher == Some(p.tag) {
                g.watcher = Some(p.tag);
                let _ = self.kicked.wait_interruptible_timeout(&mut g, left.max(1));
            } else if let Some(cv) = waits.get(p.tag) {
                let _ = cv.wait_interruptible_timeout(&mut g, left.max(1));
            }
            if kernel::current!().signal_pending() {
                // Interrupt the driver's wait in the guest as the signal
                // would have interrupted it natively, then collect its
                // answer (data it already produced is not lost).
                self.send_cancel(&mut g, desc, p.sub.id);
                cancelled_at = Some(jiffies());
            }
        }
    }

    /// The caller waiting for slot `tag` stops watching, if it was the
    /// watcher: another waiting caller is woken to take the role over.
    fn leave_watch(&self, g: &mut Inner, tag: usize) {
        if g.watcher != Some(tag) {
            return;
        }
        g.watcher = None;
        let next = g
            .waiting
            .iter()
            .zip(g.answers.iter())
            .position(|(&w, a)| w && a.is_none());
        if let (Some(t), Some(w)) = (next, g.window.as_ref()) {
            if let Some(cv) = w.waits.get(t) {
                cv.notify_one();
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
