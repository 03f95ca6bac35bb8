// SPDX-License-Identifier: GPL-2.0
//! Fuzz target: an adversary writes arbitrary bytes into the shared window
//! while the host side (and a guest side) consume it. Nothing may panic,
//! and nothing may touch memory outside the window (AddressSanitizer and
//! the accessor's bounds assertions check that).
#![no_main]

use ikernel_ring::user::RawWindow;
use ikernel_ring::*;
use libfuzzer_sys::fuzz_target;

struct Input<'a>(&'a [u8]);

impl Input<'_> {
    fn u8(&mut self) -> Option<u8> {
        let (b, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(*b)
    }
    fn u16(&mut self) -> Option<u16> {
        Some(u16::from(self.u8()?) | u16::from(self.u8()?) << 8)
    }
    fn u32(&mut self) -> Option<u32> {
        Some(u32::from(self.u16()?) | u32::from(self.u16()?) << 16)
    }
    fn bytes(&mut self, n: usize) -> &[u8] {
        let n = n.min(self.0.len());
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        a
    }
}

fn no_bug(r: Result<(), RingError>) {
    // Peer input may produce any typed error, but never an out-of-window
    // access attempt (that would be a bug in the ring).
    assert_ne!(r, Err(RingError::OutOfWindow));
}

fn one_input(data: &[u8]) -> Option<()> {
    let mut inp = Input(data);
    let g = inp.u8()?;
    let slots = 1u32 << (1 + (g & 3)); // 2..16
    let slot_data = 64 * (1 + u32::from(g >> 4)); // 64..1024
    let l = Layout::new(slots, slot_data).ok()?;
    let size = l.min_size as usize;
    let mut mem = vec![0u64; size.div_ceil(8)];
    // SAFETY: `mem` outlives `win` (dropped at the end of this function) and
    // is only accessed through `win`.
    let win = unsafe { RawWindow::new(mem.as_mut_ptr().cast(), size) }?;
    let mut host = Host::new(&win, l, FEATURES_KNOWN, 1).ok()?;
    let mut guest: Option<Guest<&RawWindow>> = None;
    let mut buf = vec![0u8; slot_data as usize];
    let mut last_ids = [0u32; 4];
    let mut n_ids = 0usize;

    while let Some(cmd) = inp.u8() {
        match cmd % 12 {
            // Adversary: arbitrary bytes anywhere in the window, biased to
            // the header and rings.
            0 | 1 | 2 => {
                let off = inp.u16()? as usize;
                let off = if cmd & 0x80 != 0 {
                    off % (l.data_off as usize)
                } else {
                    off % size
                };
                let len = usize::from(inp.u8()? % 65);
                let bytes = inp.bytes(len);
                let n = bytes.len().min(size - off);
                // SAFETY: `off + n <= size`.
                unsafe { win.write_bytes(off, &bytes[..n]) };
            }
            // Adversary: set a peer-written index to a chosen value.
            3 => {
                let which = [
                    hdr::RESP_PROD,
                    hdr::EVT_PROD,
                    hdr::REQ_CONS,
                    hdr::REQ_EVENT,
                    hdr::GUEST_STATE,
                    hdr::GUEST_GENERATION,
                    hdr::GUEST_FEATURES,
                    hdr::REQ_PROD,
                    hdr::EXPORTS_SEQ,
                    hdr::EXPORTS_MAP,
                    hdr::EXPORTS_MAP + 28,
                ][usize::from(inp.u8()? % 11)];
                let v = inp.u32()?;
                no_bug(Window::new(&win).store(which, v));
            }
            4 => {
                let op = [Op::Read, Op::Write, Op::Ioctl, Op::Poll, Op::Open]
                    [usize::from(inp.u8()? % 5)];
                let len = usize::from(inp.u16()?) % (slot_data as usize + 2);
                let reply = u32::from(inp.u16()?) % (slot_data + 2);
                let payload = vec![0xa5u8; len];
                let desc = RequestDesc {
                    reply_max: reply,
                    ..RequestDesc::new(op)
                };
                match host.submit(&desc, &payload) {
                    Ok((s, _)) => {
                        last_ids[n_ids % 4] = s.id;
                        n_ids += 1;
                    }
                    Err(e) => no_bug(Err(e)),
                }
            }
            5 | 6 => match host.next_response() {
                Ok(Some(c)) => {
                    let n = host
                        .read_reply(&c, &mut buf)
                        .expect("validated length fits");
                    assert!(n as u32 <= slot_data);
                    host.release(&c);
                }
                Ok(None) => {}
                Err(e) => no_bug(Err(e)),
            },
            7 => no_bug(host.next_event().map(|_| ())),
            8 => {
                no_bug(host.enable_notify().map(|_| ()));
                no_bug(host.kick_needed().map(|_| ()));
                no_bug(host.guest_ready().map(|_| ()));
                no_bug(host.heartbeat().map(|_| ()));
                // The exports report: whatever the peer wrote, a report
                // never names more exports than configured.
                let configured = u32::from(inp.u8()?) * 2;
                match host.exports(configured) {
                    Ok(ExportsReport::Reported(s)) => {
                        assert!(s.served() <= configured.min(MAX_EXPORTS));
                        assert!(!s.present(configured));
                    }
                    Ok(_) => {}
                    Err(e) => no_bug(Err(e)),
                }
            }
            9 => {
                let i = usize::from(inp.u8()?) % 4;
                host.abandon(last_ids[i]);
            }
            // A guest on the same window parses what the adversary wrote.
            10 => {
                if guest.is_none() {
                    match Guest::attach(&win, FEATURES_KNOWN) {
                        Ok(g) => guest = Some(g),
                        Err(e) => no_bug(Err(e)),
                    }
                }
                if let Some(g) = guest.as_mut() {
                    match g.next_request() {
                        Ok(Some(r)) => {
                            no_bug(g.read_payload(&r, &mut buf).map(|_| ()));
                            let n = (r.desc.reply_max as usize).min(buf.len());
                            let res = g.respond(&r, n as i64, &buf[..n], 0);
                            if let Err(e) = res {
                                no_bug(Err(e));
                            }
                            no_bug(g.signal_needed().map(|_| ()));
                        }
                        Ok(None) => no_bug(g.enable_notify().map(|_| ())),
                        Err(e) => no_bug(Err(e)),
                    }
                    let ev = Event {
                        kind: EventKind::PollReady,
                        export: 0,
                        handle: 1,
                        events: 1,
                    };
                    if let Err(e) = g.push_event(&ev) {
                        no_bug(Err(e));
                    }
                    no_bug(g.host_gone().map(|_| ()));
                    no_bug(g.beat());
                    let mut map = [0u32; EXPORTS_WORDS];
                    map[0] = u32::from(inp.u8()?);
                    no_bug(g.report_exports(&map));
                }
            }
            _ => {
                let gen = inp.u32()?;
                no_bug(host.reset(gen, |_, _| {}));
                guest = None;
            }
        }
        assert!(host.inflight().busy() <= slots);
    }
    drop(host);
    drop(guest);
    drop(win);
    drop(mem);
    Some(())
}

fuzz_target!(|data: &[u8]| {
    let _ = one_input(data);
});
