// SPDX-License-Identifier: GPL-2.0
//! Model check of the ring's memory ordering and notification suppression.
//!
//! Run with `RUSTFLAGS="--cfg loom" cargo test --release --test loom`.
//! The window is an array of loom atomics: indices use acquire/release as in
//! the kernel, the barrier is a SeqCst fence (`smp_mb`), and slot and payload
//! copies are word-wise *relaxed* accesses, so a missing release/acquire
//! shows up as a stale slot. A sleeping side waits on a loom condvar (an
//! eventfd): a lost wakeup is a deadlock, which loom reports.
#![cfg(loom)]

use loom::sync::atomic::{fence, AtomicU32, Ordering};
use loom::sync::{Arc, Condvar, Mutex};
use loom::thread;

use ikernel_ring::*;

/// Mutation switch: `RING_LOOM_RELAXED=1` weakens acquire/release to
/// relaxed, `RING_LOOM_NO_MB=1` drops the full barrier. Both must make the
/// model check fail (this is how the test was validated).
fn relaxed() -> bool {
    std::env::var_os("RING_LOOM_RELAXED").is_some()
}

static RUNS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

struct Mem {
    words: Vec<AtomicU32>,
}

#[derive(Clone)]
struct LoomWin(Arc<Mem>);

impl LoomWin {
    fn new(size: usize) -> Self {
        LoomWin(Arc::new(Mem {
            words: (0..size / 4).map(|_| AtomicU32::new(0)).collect(),
        }))
    }
}

// SAFETY: All accesses are bounds-checked indexing into `words`.
unsafe impl Shared for LoomWin {
    fn size(&self) -> usize {
        self.0.words.len() * 4
    }
    unsafe fn load_acquire(&self, off: usize) -> u32 {
        self.0.words[off / 4].load(if relaxed() {
            Ordering::Relaxed
        } else {
            Ordering::Acquire
        })
    }
    unsafe fn store_release(&self, off: usize, val: u32) {
        let o = if relaxed() {
            Ordering::Relaxed
        } else {
            Ordering::Release
        };
        self.0.words[off / 4].store(val, o)
    }
    fn full_barrier(&self) {
        if std::env::var_os("RING_LOOM_NO_MB").is_none() {
            fence(Ordering::SeqCst)
        }
    }
    unsafe fn read_bytes(&self, off: usize, dst: &mut [u8]) {
        // One relaxed load per word touched.
        let mut a = off;
        let end = off + dst.len();
        while a < end {
            let wi = a / 4;
            let b = self.0.words[wi].load(Ordering::Relaxed).to_le_bytes();
            while a < end && a / 4 == wi {
                dst[a - off] = b[a % 4];
                a += 1;
            }
        }
    }
    unsafe fn write_bytes(&self, off: usize, src: &[u8]) {
        // Word-wise; partial words merge with the current value (only this
        // side writes them).
        let mut a = off;
        let end = off + src.len();
        while a < end {
            let wi = a / 4;
            let full = a % 4 == 0 && a + 4 <= end;
            let mut b = if full {
                [0; 4]
            } else {
                self.0.words[wi].load(Ordering::Relaxed).to_le_bytes()
            };
            while a < end && a / 4 == wi {
                b[a % 4] = src[a - off];
                a += 1;
            }
            self.0.words[wi].store(u32::from_le_bytes(b), Ordering::Relaxed);
        }
    }
}

/// An eventfd: a counter, a blocking read that resets it.
#[derive(Clone)]
struct Doorbell(Arc<(Mutex<u32>, Condvar)>);

impl Doorbell {
    fn new() -> Self {
        Doorbell(Arc::new((Mutex::new(0), Condvar::new())))
    }
    fn signal(&self) {
        *self.0 .0.lock().unwrap() += 1;
        self.0 .1.notify_one();
    }
    fn wait(&self) {
        let mut c = self.0 .0.lock().unwrap();
        while *c == 0 {
            c = self.0 .1.wait(c).unwrap();
        }
        *c = 0;
    }
}

fn setup() -> (Host<LoomWin>, Guest<LoomWin>) {
    let l = Layout::new(2, 64).unwrap();
    let w = LoomWin::new(l.min_size as usize);
    let h = Host::new(w.clone(), l, FEATURE_EVENT_IDX, 1).unwrap();
    let g = Guest::attach(w, FEATURES_KNOWN).unwrap();
    (h, g)
}

const STACK: usize = 1 << 20;

/// Runs `f` under loom, in a thread with a large stack (the host's in-flight
/// table does not fit loom's default coroutine stack).
fn model(f: fn()) {
    let mut b = loom::model::Builder::new();
    if b.preemption_bound.is_none() {
        b.preemption_bound = Some(3);
    }
    b.max_branches = 100_000;
    RUNS.store(0, std::sync::atomic::Ordering::Relaxed);
    b.check(move || {
        RUNS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        thread::Builder::new()
            .stack_size(STACK)
            .spawn(f)
            .unwrap()
            .join()
            .unwrap();
    });
    println!(
        "loom: {} interleavings explored",
        RUNS.load(std::sync::atomic::Ordering::Relaxed)
    );
}

fn spawn(f: impl FnOnce() + Send + 'static) -> thread::JoinHandle<()> {
    thread::Builder::new().stack_size(STACK).spawn(f).unwrap()
}

/// Host produces requests; the guest drains, re-arms, re-checks and sleeps.
/// Every request is delivered exactly once, in order, with its payload, and
/// the guest is never left asleep with a request pending.
#[test]
fn request_ring_no_lost_wakeup() {
    model(|| {
        let (mut h, mut g) = setup();
        let call = Doorbell::new();
        let call2 = call.clone();
        const K: u32 = 2;
        let host = spawn(move || {
            for seq in 0..K {
                let desc = RequestDesc {
                    pos: u64::from(seq),
                    ..RequestDesc::new(Op::Write)
                };
                let payload = (seq + 100).to_le_bytes();
                let (_, kick) = h.submit(&desc, &payload).unwrap();
                if kick {
                    call2.signal();
                }
            }
        });
        let mut next = 0u32;
        while next < K {
            while let Some(r) = g.next_request().unwrap() {
                assert_eq!(
                    r.desc.pos,
                    u64::from(next),
                    "double or out-of-order delivery"
                );
                let mut b = [0u8; 4];
                g.read_payload(&r, &mut b).unwrap();
                assert_eq!(u32::from_le_bytes(b), next + 100, "stale payload");
                next += 1;
            }
            if next == K {
                break;
            }
            if g.enable_notify().unwrap() {
                continue;
            }
            call.wait();
        }
        assert!(g.next_request().unwrap().is_none());
        host.join().unwrap();
    });
}

/// The guest answers two requests and sends an event; the host drains,
/// re-arms, re-checks and sleeps. No lost wakeup, no double delivery.
#[test]
fn response_ring_no_lost_wakeup() {
    model(|| {
        let (mut h, mut g) = setup();
        let kick = Doorbell::new();
        let kick2 = kick.clone();
        let desc = RequestDesc {
            reply_max: 4,
            ..RequestDesc::new(Op::Read)
        };
        let s0 = h.push(&desc, &[]).unwrap();
        let s1 = h.push(&desc, &[]).unwrap();
        let r0 = g.next_request().unwrap().unwrap();
        let r1 = g.next_request().unwrap().unwrap();
        let guest = spawn(move || {
            for (i, r) in [r1, r0].iter().enumerate() {
                let v = r.id + 1000;
                g.respond(r, 4, &v.to_le_bytes(), 0).unwrap();
                if i == 1 {
                    let ev = Event {
                        kind: EventKind::PollReady,
                        export: 0,
                        handle: 7,
                        events: 1,
                    };
                    g.push_event(&ev).unwrap();
                }
                if g.signal_needed().unwrap() {
                    kick2.signal();
                }
            }
        });
        let mut got = vec![];
        let mut events = 0;
        loop {
            while let Some(c) = h.next_response().unwrap() {
                let mut b = [0u8; 4];
                h.read_reply(&c, &mut b).unwrap();
                assert_eq!(u32::from_le_bytes(b), c.id + 1000, "stale reply");
                assert!(!got.contains(&c.id), "double delivery");
                got.push(c.id);
                h.release(&c);
            }
            while let Some(ev) = h.next_event().unwrap() {
                assert_eq!(ev.handle, 7);
                events += 1;
            }
            if got.len() == 2 && events == 1 {
                break;
            }
            if h.enable_notify().unwrap() {
                continue;
            }
            kick.wait();
        }
        assert_eq!(got, vec![s1.id, s0.id]);
        guest.join().unwrap();
    });
}

/// A full round trip with both sides sleeping: the host sends two requests
/// and waits for both responses; the guest serves until it has answered two.
#[test]
fn round_trip_both_sleep() {
    model(|| {
        let (mut h, mut g) = setup();
        let call = Doorbell::new();
        let kick = Doorbell::new();
        let (call2, kick2) = (call.clone(), kick.clone());
        let guest = spawn(move || {
            let mut served = 0;
            while served < 2 {
                let mut any = false;
                while let Some(r) = g.next_request().unwrap() {
                    g.respond(&r, 0, &[], 0).unwrap();
                    served += 1;
                    any = true;
                }
                if any && g.signal_needed().unwrap() {
                    kick2.signal();
                }
                if served == 2 || any {
                    continue;
                }
                if g.enable_notify().unwrap() {
                    continue;
                }
                call2.wait();
            }
        });
        for _ in 0..2 {
            let (_, k) = h.submit(&RequestDesc::new(Op::Poll), &[]).unwrap();
            if k {
                call.signal();
            }
        }
        let mut done = 0;
        while done < 2 {
            while let Some(c) = h.next_response().unwrap() {
                h.release(&c);
                done += 1;
            }
            if done == 2 {
                break;
            }
            if h.enable_notify().unwrap() {
                continue;
            }
            kick.wait();
        }
        guest.join().unwrap();
    });
}

/// The guest reports its exports twice while the host reads: a report the
/// host takes as consistent is one of the two whole maps, never a mix of
/// words from both (the sequence word guards the map).
#[test]
fn exports_report_is_never_torn() {
    model(|| {
        let (h, mut g) = setup();
        let guest = spawn(move || {
            let mut a = [0u32; EXPORTS_WORDS];
            a[0] = 1;
            a[EXPORTS_WORDS - 1] = 1;
            g.report_exports(&a).unwrap();
            let mut b = [0u32; EXPORTS_WORDS];
            b[0] = 2;
            b[EXPORTS_WORDS - 1] = 2;
            g.report_exports(&b).unwrap();
        });
        let last = MAX_EXPORTS - 32;
        if let ExportsReport::Reported(s) = h.exports(MAX_EXPORTS).unwrap() {
            assert_eq!(s.present(0), s.present(last), "torn report");
            assert_eq!(s.present(1), s.present(last + 1), "torn report");
            assert_eq!(s.served(), 2, "a whole map");
        }
        guest.join().unwrap();
        assert!(matches!(
            h.exports(MAX_EXPORTS).unwrap(),
            ExportsReport::Reported(s) if s.present(1) && s.present(last + 1)
        ));
    });
}
