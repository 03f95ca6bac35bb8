// SPDX-License-Identifier: GPL-2.0
//! Two processes over a real shared memfd with eventfd doorbells: the host
//! (parent) sends requests, the guest (forked child, its own mmap of the
//! memfd) serves them. Used by the stress test and by the benchmark.
#![allow(dead_code)]

use std::time::{Duration, Instant};

use ikernel_ring::user::RawWindow;
use ikernel_ring::*;

/// Parameters of one run.
#[derive(Clone, Copy, Debug)]
pub struct Config {
    /// Requests kept in flight.
    pub depth: u32,
    /// Ring slots.
    pub slots: u32,
    /// Per-slot buffer size.
    pub slot_data: u32,
    /// Messages (request + response) to exchange.
    pub messages: u64,
    /// Bytes of payload per message.
    pub payload: u32,
    /// Polls of the ring before going to sleep (0: sleep at once).
    pub spin: u32,
    /// Guest answers a batch of requests in scrambled order.
    pub out_of_order: bool,
    /// Guest also sends a poll-readiness event every this many requests (0: none).
    pub event_every: u64,
}

/// What one run measured.
#[derive(Clone, Copy, Debug, Default)]
pub struct Stats {
    pub messages: u64,
    pub host_kicks: u64,
    pub guest_signals: u64,
    pub host_sleeps: u64,
    pub guest_sleeps: u64,
    pub events: u64,
    pub elapsed: Duration,
}

const STOP_HANDLE: u32 = 0xdead_beef;

fn check(ok: bool, what: &str) -> Result<(), String> {
    if ok {
        Ok(())
    } else {
        Err(what.to_string())
    }
}

/// Payload byte `i` of the message with sequence number `seq`.
pub fn pattern(seq: u64, i: usize, salt: u8) -> u8 {
    (seq.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 24) as u8 ^ (i as u8).wrapping_mul(7) ^ salt
}

struct Fds {
    mem: i32,
    call: i32, // host -> guest
    kick: i32, // guest -> host
}

fn efd_signal(fd: i32) {
    let one: u64 = 1;
    // SAFETY: Writes 8 bytes from a live u64.
    let r = unsafe { libc::write(fd, (&one as *const u64).cast(), 8) };
    assert_eq!(r, 8, "eventfd write");
}

fn efd_wait(fd: i32) {
    let mut v: u64 = 0;
    loop {
        // SAFETY: Reads 8 bytes into a live u64.
        let r = unsafe { libc::read(fd, (&mut v as *mut u64).cast(), 8) };
        if r == 8 {
            return;
        }
        assert_eq!(
            std::io::Error::last_os_error().raw_os_error(),
            Some(libc::EINTR)
        );
    }
}

/// Maps `size` bytes of the memfd shared; returns the window over it.
fn map(fd: i32, size: usize) -> RawWindow {
    // SAFETY: A fresh shared mapping of our memfd; never unmapped while the
    // process uses the window (the process exits first).
    let p = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            size,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_SHARED,
            fd,
            0,
        )
    };
    assert_ne!(p, libc::MAP_FAILED, "mmap");
    // SAFETY: `p..p+size` stays mapped for the life of the process.
    unsafe { RawWindow::new(p.cast(), size) }.expect("page-aligned")
}

/// Stats of the guest, stored after the ring window in the memfd.
fn put_stat(w: &RawWindow, off: usize, i: usize, v: u64) {
    // SAFETY: The memfd is `off + 4096` bytes long.
    unsafe { w.write_bytes(off + 8 * i, &v.to_le_bytes()) };
}

fn get_stat(w: &RawWindow, off: usize, i: usize) -> u64 {
    let mut b = [0u8; 8];
    // SAFETY: As in `put_stat`.
    unsafe { w.read_bytes(off + 8 * i, &mut b) };
    u64::from_le_bytes(b)
}

fn guest_main(cfg: Config, fds: &Fds, win_size: usize) -> Result<(u64, u64, u64), String> {
    let total = win_size + 4096;
    let all = map(fds.mem, total);
    // The ring sees exactly the window, not the stats page.
    // SAFETY: A sub-range of the mapping above.
    let ringw = unsafe { RawWindow::new(all.base(), win_size) }.unwrap();
    let mut g = Guest::attach(&ringw, FEATURES_KNOWN).map_err(|e| format!("attach {e}"))?;
    let (mut signals, mut sleeps, mut events) = (0u64, 0u64, 0u64);
    let mut taken: Vec<Request> = Vec::new();
    let mut buf = vec![0u8; cfg.slot_data as usize];
    let mut pending_events: std::collections::VecDeque<u64> = Default::default();
    let mut served = 0u64;
    let mut rng = 0x1234_5678u32;
    loop {
        // Drain.
        let mut stop = false;
        while let Some(r) = g.next_request().map_err(|e| format!("next_request {e}"))? {
            if r.desc.handle == STOP_HANDLE {
                stop = true;
            }
            taken.push(r);
        }
        if cfg.out_of_order && taken.len() > 1 {
            rng ^= rng << 13;
            rng ^= rng >> 17;
            rng ^= rng << 5;
            let k = rng as usize % taken.len();
            taken.swap(0, k);
            taken.reverse();
        }
        let did = !taken.is_empty();
        for r in taken.drain(..) {
            let seq = r.desc.pos;
            let (result, reply): (i64, &[u8]) = match r.desc.op {
                Op::Write => {
                    let n = g.read_payload(&r, &mut buf).map_err(|e| e.to_string())?;
                    let good = buf[..n]
                        .iter()
                        .enumerate()
                        .all(|(i, b)| *b == pattern(seq, i, 1));
                    (if good { n as i64 } else { -5 }, &[])
                }
                Op::Read => {
                    let n = r.desc.reply_max as usize;
                    for (i, b) in buf[..n].iter_mut().enumerate() {
                        *b = pattern(seq, i, 2);
                    }
                    (n as i64, &buf[..n])
                }
                _ => (0, &[]),
            };
            g.respond(&r, result, reply, 0)
                .map_err(|e| format!("respond {e}"))?;
            served += 1;
            if cfg.event_every != 0 && served % cfg.event_every == 0 {
                pending_events.push_back(served / cfg.event_every);
            }
        }
        while let Some(&h) = pending_events.front() {
            let ev = Event {
                kind: EventKind::PollReady,
                export: 1,
                handle: h as u32,
                events: 1,
            };
            match g.push_event(&ev) {
                Ok(()) => {
                    pending_events.pop_front();
                    events += 1;
                }
                Err(RingError::Full) => break,
                Err(e) => return Err(format!("push_event {e}")),
            }
        }
        if g.signal_needed().map_err(|e| e.to_string())? {
            efd_signal(fds.kick);
            signals += 1;
        }
        if stop {
            return Ok((signals, sleeps, events));
        }
        if did {
            continue;
        }
        // Poll a while before sleeping, if asked.
        let mut found = false;
        for _ in 0..cfg.spin {
            if g.window().load(hdr::REQ_PROD).map_err(|e| e.to_string())? != cur_cons(&g) {
                found = true;
                break;
            }
            std::hint::spin_loop();
        }
        if found || !pending_events.is_empty() {
            continue;
        }
        if g.enable_notify().map_err(|e| e.to_string())? {
            continue;
        }
        sleeps += 1;
        efd_wait(fds.call);
    }
}

fn cur_cons<S: Shared>(g: &Guest<S>) -> u32 {
    g.window().load(hdr::REQ_CONS).unwrap_or(0)
}

/// Runs one host/guest pair in two processes; checks every payload.
pub fn run(cfg: Config) -> Result<Stats, String> {
    let l = Layout::new(cfg.slots, cfg.slot_data).map_err(|e| e.to_string())?;
    let win_size = l.min_size as usize;
    let total = win_size + 4096;
    // SAFETY: Plain system calls with valid arguments.
    let fds = unsafe {
        let mem = libc::memfd_create(c"ikernel-ring".as_ptr(), libc::MFD_CLOEXEC);
        assert!(mem >= 0, "memfd_create");
        assert_eq!(libc::ftruncate(mem, total as i64), 0);
        let call = libc::eventfd(0, libc::EFD_CLOEXEC);
        let kick = libc::eventfd(0, libc::EFD_CLOEXEC);
        assert!(call >= 0 && kick >= 0, "eventfd");
        Fds { mem, call, kick }
    };
    let all = map(fds.mem, total);
    // SAFETY: A sub-range of the mapping above.
    let ringw = unsafe { RawWindow::new(all.base(), win_size) }.unwrap();
    let mut h = Host::new(&ringw, l, FEATURES_KNOWN, 1).map_err(|e| e.to_string())?;

    // SAFETY: The child only runs Rust code on its own copies and exits with
    // `_exit`; the test binary's other threads are not touched.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork");
    if pid == 0 {
        let code = match guest_main(cfg, &fds, win_size) {
            Ok((signals, sleeps, events)) => {
                put_stat(&all, win_size, 0, signals);
                put_stat(&all, win_size, 1, sleeps);
                put_stat(&all, win_size, 2, events);
                0
            }
            Err(e) => {
                eprintln!("guest: {e}");
                1
            }
        };
        // SAFETY: Ends the child without running the parent's destructors.
        unsafe { libc::_exit(code) };
    }

    let res = host_main(cfg, &mut h, &fds);
    let mut status = 0;
    if res.is_err() {
        // SAFETY: Kills our own child.
        unsafe { libc::kill(pid, libc::SIGKILL) };
    }
    // SAFETY: Waits for our own child.
    unsafe { libc::waitpid(pid, &mut status, 0) };
    // SAFETY: Closing our own descriptors.
    unsafe {
        libc::close(fds.mem);
        libc::close(fds.call);
        libc::close(fds.kick);
    }
    let mut st = res?;
    check(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "guest failed",
    )?;
    st.guest_signals = get_stat(&all, win_size, 0);
    st.guest_sleeps = get_stat(&all, win_size, 1);
    let guest_events = get_stat(&all, win_size, 2);
    check(guest_events == st.events, "events lost or duplicated")?;
    Ok(st)
}

fn host_main(cfg: Config, h: &mut Host<&RawWindow>, fds: &Fds) -> Result<Stats, String> {
    let mut st = Stats::default();
    let start = Instant::now();
    let mut done = vec![false; cfg.messages as usize];
    let mut seq_of = vec![u64::MAX; 1 << 20]; // id -> seq, ids < 2^20 here
    let mut next_seq = 0u64;
    let mut completed = 0u64;
    let mut next_event = 1u64;
    let mut payload = vec![0u8; cfg.payload as usize];
    let mut reply = vec![0u8; cfg.slot_data as usize];
    let mut stop_sent = false;
    let id_slot = |id: u32| (id as usize) & ((1 << 20) - 1);
    loop {
        // Fill the queue.
        let mut pushed = false;
        while next_seq < cfg.messages && h.inflight().busy() < cfg.depth {
            let seq = next_seq;
            let write = seq % 2 == 0;
            let desc = if write {
                for (i, b) in payload.iter_mut().enumerate() {
                    *b = pattern(seq, i, 1);
                }
                RequestDesc {
                    pos: seq,
                    ..RequestDesc::new(Op::Write)
                }
            } else {
                RequestDesc {
                    pos: seq,
                    reply_max: cfg.payload,
                    ..RequestDesc::new(Op::Read)
                }
            };
            let s = h
                .push(&desc, if write { &payload } else { &[] })
                .map_err(|e| format!("push {e}"))?;
            check(
                seq_of[id_slot(s.id)] == u64::MAX,
                "id reused while in flight",
            )?;
            seq_of[id_slot(s.id)] = seq;
            next_seq += 1;
            pushed = true;
        }
        if next_seq == cfg.messages && completed == cfg.messages && !stop_sent {
            let desc = RequestDesc {
                handle: STOP_HANDLE,
                ..RequestDesc::new(Op::Release)
            };
            h.push(&desc, &[]).map_err(|e| e.to_string())?;
            stop_sent = true;
            pushed = true;
        }
        if pushed && h.kick_needed().map_err(|e| e.to_string())? {
            efd_signal(fds.call);
            st.host_kicks += 1;
        }
        // Drain responses and events.
        let mut got = false;
        while let Some(c) = h
            .next_response()
            .map_err(|e| format!("next_response {e}"))?
        {
            got = true;
            if c.op == Op::Release {
                h.release(&c);
                // Collect the last events, then finish.
                while let Some(ev) = h.next_event().map_err(|e| e.to_string())? {
                    check(ev.handle as u64 == next_event, "event out of order")?;
                    next_event += 1;
                    st.events += 1;
                }
                st.messages = completed;
                st.elapsed = start.elapsed();
                check(done.iter().all(|d| *d), "message lost")?;
                return Ok(st);
            }
            let seq = std::mem::replace(&mut seq_of[id_slot(c.id)], u64::MAX);
            check(seq != u64::MAX, "response to unknown id")?;
            check(!done[seq as usize], "duplicate delivery")?;
            done[seq as usize] = true;
            check(
                c.result == cfg.payload as i64,
                "bad result (payload mismatch on guest)",
            )?;
            if c.op == Op::Read {
                let n = h.read_reply(&c, &mut reply).map_err(|e| e.to_string())?;
                check(n == cfg.payload as usize, "short reply")?;
                for (i, b) in reply[..n].iter().enumerate() {
                    check(
                        *b == pattern(seq, i, 2),
                        "reply content misrouted or corrupt",
                    )?;
                }
            }
            h.release(&c);
            completed += 1;
        }
        while let Some(ev) = h.next_event().map_err(|e| e.to_string())? {
            got = true;
            check(
                ev.handle as u64 == next_event,
                "event lost, duplicated or reordered",
            )?;
            next_event += 1;
            st.events += 1;
        }
        if got {
            continue;
        }
        if next_seq < cfg.messages && h.inflight().busy() < cfg.depth {
            continue;
        }
        let mut found = false;
        for _ in 0..cfg.spin {
            let w = h.window();
            if w.load(hdr::RESP_PROD).unwrap() != w.load(hdr::RESP_CONS).unwrap()
                || w.load(hdr::EVT_PROD).unwrap() != w.load(hdr::EVT_CONS).unwrap()
            {
                found = true;
                break;
            }
            std::hint::spin_loop();
        }
        if found {
            continue;
        }
        if h.enable_notify().map_err(|e| e.to_string())? {
            continue;
        }
        st.host_sleeps += 1;
        efd_wait(fds.kick);
    }
}
