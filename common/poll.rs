// SPDX-License-Identifier: GPL-2.0

//! The adaptive window of a bounded busy poll, for host_stub and guest_stub.
//!
//! Each side of the ring may poll for the other's next message for a while
//! before it re-arms its notifications and sleeps: a message that arrives
//! within the window costs neither a doorbell nor a wake-up.  The window is
//! bounded by the caller's maximum and adapts like KVM's halt polling: when a
//! poll gave up and the next message came within the maximum of it, a longer
//! window would have caught it, so the window doubles; when it came later, the
//! poll only burnt CPU, so the window halves.

use kernel::{
    sync::atomic::{
        Atomic,
        Relaxed, //
    },
    time::{
        Instant,
        Monotonic, //
    },
};

/// The smallest (and first) window.
const MIN_NS: u64 = 2_000;

/// One poller's window; shared by the threads that take turns polling.
pub(crate) struct PollWindow {
    /// The current window.
    ns: Atomic<u64>,
    /// When the last poll gave up with messages still due (nanoseconds
    /// from `epoch`, never 0), or 0.
    missed_at: Atomic<i64>,
    /// Where `missed_at` counts from.
    epoch: Instant<Monotonic>,
}

impl PollWindow {
    /// A window at its minimum.
    pub(crate) fn new() -> Self {
        Self {
            ns: Atomic::new(MIN_NS),
            missed_at: Atomic::new(0),
            epoch: Instant::<Monotonic>::now(),
        }
    }

    /// A message arrived (or was found) after a poll had given up: adapts
    /// the window to how late it came; `max_ns` bounds it.
    pub(crate) fn arrived(&self, max_ns: u64) {
        let missed = self.missed_at.xchg(0, Relaxed);
        if missed == 0 || max_ns == 0 {
            return;
        }
        let min = MIN_NS.min(max_ns);
        let w = self.ns.load(Relaxed).clamp(min, max_ns);
        let late = u64::try_from(self.now().saturating_sub(missed)).unwrap_or(0);
        let w = if late.saturating_add(w) <= max_ns {
            w.saturating_mul(2).min(max_ns)
        } else {
            (w / 2).max(min)
        };
        self.ns.store(w, Relaxed);
    }

    /// The window of a poll that starts now, at most `max_ns` (0: do not
    /// poll).
    pub(crate) fn window(&self, max_ns: u64) -> u64 {
        self.ns.load(Relaxed).clamp(MIN_NS.min(max_ns), max_ns)
    }

    /// The poll gave up while messages were still due.
    pub(crate) fn gave_up(&self) {
        self.missed_at.store(self.now().max(1), Relaxed);
    }

    /// Nanoseconds since `epoch`.
    fn now(&self) -> i64 {
        (Instant::<Monotonic>::now() - self.epoch).as_nanos()
    }
}
