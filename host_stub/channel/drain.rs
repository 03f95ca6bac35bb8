// SPDX-License-Identifier: GPL-2.0

//! Taking responses and events from the ring and delivering them.
//!
//! A response goes to the caller waiting for its slot, and only that caller
//! is woken ([`Channel::deliver`]); a poll event goes to its open file.
//! Whoever holds `inner` may drain: the drain work after a doorbell, the
//! poll loop, or the caller that sleeps as the channel's watcher (see
//! `call.rs`).  The guest's doorbells are flood-controlled here.

use kernel::{
    ffi::c_void,
    pr_warn_once,
    prelude::*,
    sync::{
        atomic::{
            Atomic,
            Relaxed, //
        },
        Arc,
        ArcBorrow, //
    },
    time::{
        msecs_to_jiffies,
        Instant,
        Monotonic, //
    },
    workqueue::WorkItem,
};

use super::{
    files::{
        kill_all,
        FileShared, //
    },
    Channel,
    HostWindow,
    Inner, //
};
use crate::{
    ring,
    sys::{
        jiffies,
        poll_yield,
        work_queue, //
    },
};

/// Rounds of a drain before it yields `inner` (each takes up to a ring's
/// worth of responses and events).
const DRAIN_ROUNDS: u32 = 8;

/// Default of the module parameter `poll_max_us`: the longest time the
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

/// What a drain did.
#[derive(Default)]
pub(super) struct Drained {
    /// The budget ran out with more to take.
    pub(super) more: bool,
    /// Responses taken from the ring.
    pub(super) taken: u32,
    /// Requests still waiting for their responses after the drain (counted
    /// only by drains that leave notifications off, for the poll loop).
    pub(super) waiting: u32,
}

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
        if d.more {
            // The rest in a later run, after others had the lock.
            let _ = work_queue().enqueue(this);
        }
    }
}

/// The guest rang its doorbell.
///
/// # Safety
///
/// `data` is the address of a [`Channel`] inside an [`Arc`] that stays
/// alive while the callback is registered.
pub(super) unsafe extern "C" fn channel_kicked(data: *mut c_void) {
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
        // The watcher, if a caller sleeps as one, drains at once; the drain
        // work below is the fallback for when none does (this callback
        // cannot take `inner` to know).
        ch.kicked.notify_all();
    }
    // Already queued is fine: the queued run sees this doorbell's work.
    let _ = work_queue().enqueue(Arc::<Channel>::from(ch));
}

impl Channel {
    /// Takes the responses and events from the ring, at most
    /// [`DRAIN_ROUNDS`] rounds of them, so that a guest that keeps producing
    /// cannot keep `inner` held: `more` says the budget ran out.  Each
    /// response is delivered to its slot's waiter.
    ///
    /// `rearm`: re-arm the guest's notifications once the ring is empty
    /// (else the caller polls, and leaves them off).
    pub(super) fn drain_locked(&self, g: &mut Inner, rearm: bool) -> Drained {
        let mut d = Drained::default();
        let Inner {
            window,
            answers,
            files,
            watcher,
            slot_waiters,
            ..
        } = g;
        let Some(w) = window.as_mut() else {
            return d;
        };
        if w.host.broken().is_some() {
            return d;
        }
        let watcher = *watcher;
        let r = self.drain_rounds(w, answers, files, watcher, &mut d, rearm);
        if d.taken != 0 && *slot_waiters != 0 {
            // A slot an abandoned request held may be free now.
            self.slot_free.notify_all();
        }
        if let Err(e) = r {
            self.violation(e);
            // Pollers see EPOLLERR | EPOLLHUP now, not a stale mask;
            // waiters learn of it at once.
            kill_all(files);
            self.wake_all(g);
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
        watcher: Option<usize>,
        d: &mut Drained,
        rearm: bool,
    ) -> core::result::Result<(), ring::RingError> {
        for _ in 0..DRAIN_ROUNDS {
            Self::take_events(w, files)?;
            let before = d.taken;
            while let Some(c) = w.host.next_response()? {
                self.responses.add(1, Relaxed);
                d.taken = d.taken.saturating_add(1);
                if let Ok(t) = usize::try_from(c.tag) {
                    if let Some(a) = answers.get_mut(t) {
                        *a = Some(c);
                        self.deliver(w, watcher, t);
                    }
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

    /// Wakes the caller waiting for slot `tag`'s answer, and only it: the
    /// watcher sleeps where doorbells wake it, every other caller on its
    /// slot's own condition variable.
    fn deliver(&self, w: &HostWindow, watcher: Option<usize>, tag: usize) {
        self.delivered.add(1, Relaxed);
        if watcher == Some(tag) {
            self.kicked.notify_all();
        } else if let Some(cv) = w.waits.get(tag) {
            cv.notify_one();
        }
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

    /// Whether a doorbell throttle is on now.
    pub(super) fn throttled(&self) -> bool {
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
        pr_warn_once!(
            "ikernel: driver VM {} floods its doorbell; throttled\n",
            self.vm_name()
        );
        true
    }

    /// Polls the ring for responses, with the guest's notifications off,
    /// while requests wait for them and each came within the poll window
    /// of the one before; the final drain then re-arms the notifications.
    /// This trades a bounded spell of host CPU (at most `poll_max_us` past
    /// the last response, and only while requests are in flight) for the
    /// guest's doorbells, which under load then rarely ring at all.
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
            poll_yield();
        }
        self.polling.store(false, Relaxed);
    }
}
