// SPDX-License-Identifier: GPL-2.0
//! Unit tests of the ring: layout, codecs, protocol, validation.

mod common;

use common::HeapWindow;
use ikernel_ring::*;

const N: u32 = 8;
const B: u32 = 256;

fn layout() -> Layout {
    Layout::new(N, B).unwrap()
}

fn pair(w: &HeapWindow) -> (Host<&user::RawWindow>, Guest<&user::RawWindow>) {
    let host = Host::new(w.raw(), layout(), FEATURE_EVENT_IDX, 7).unwrap();
    let guest = Guest::attach(w.raw(), FEATURES_KNOWN).unwrap();
    (host, guest)
}

fn win() -> HeapWindow {
    HeapWindow::new(layout().min_size as usize)
}

fn read_req(n: u32) -> RequestDesc {
    RequestDesc {
        reply_max: n,
        ..RequestDesc::new(Op::Read)
    }
}

#[test]
fn layout_offsets() {
    let l = Layout::new(64, 4096).unwrap();
    assert_eq!(l.req_off, 4096);
    assert_eq!(l.resp_off, 4096 + 64 * 64);
    assert_eq!(l.evt_off, 4096 + 64 * 64 + 64 * 32);
    assert_eq!(l.data_off, 3 * 4096);
    assert_eq!(l.min_size, 3 * 4096 + 64 * 4096);
    assert_eq!(l.buf_off(3), l.data_off + 3 * 4096);
    assert_eq!(l.req_slot(65), l.req_off + 64);
    for (n, b) in [(0, 64), (3, 64), (512, 64), (4, 0), (4, 65), (4, 2 << 20)] {
        assert_eq!(Layout::new(n, b), Err(RingError::BadLayout), "{n} {b}");
    }
    assert_eq!(MAGIC.to_le_bytes(), *b"IKRN");
}

#[test]
fn need_event_like_virtio() {
    // Event index 5: moving 4 -> 6 passes it, 5 -> 6 passes it, 6 -> 7 not.
    assert!(ring_need_event(5, 6, 4));
    assert!(ring_need_event(5, 6, 5));
    assert!(!ring_need_event(5, 7, 6));
    assert!(!ring_need_event(5, 5, 5));
    // Wraparound.
    assert!(ring_need_event(u32::MAX, 1, u32::MAX - 1));
    assert!(!ring_need_event(u32::MAX - 5, 1, u32::MAX - 1));
}

#[test]
fn codecs_round_trip() {
    let r = WireRequest {
        id: 1,
        op: 2,
        export: 3,
        handle: 4,
        flags: 5,
        len: 6,
        pos: 0x0102_0304_0506_0708,
        cmd: 9,
        payload_off: 10,
        arg: u64::MAX,
        reply_max: 11,
        reserved0: 12,
        reserved1: 13,
    };
    let b = r.encode();
    assert_eq!(&b[24..32], &0x0102_0304_0506_0708u64.to_le_bytes());
    assert_eq!(WireRequest::decode(&b), r);
    let s = WireResponse {
        id: 9,
        len: 8,
        result: -22,
        events: 1,
        flags: 0,
        aux: 0,
    };
    assert_eq!(WireResponse::decode(&s.encode()), s);
    let e = WireEvent {
        kind: 1,
        export: 2,
        handle: 3,
        events: 4,
        reserved0: 5,
        reserved1: 6,
    };
    assert_eq!(WireEvent::decode(&e.encode()), e);
}

#[test]
fn round_trip_one_request() {
    let w = win();
    let (mut h, mut g) = pair(&w);
    assert!(h.guest_ready().unwrap());
    assert_eq!(g.generation(), 7);
    let desc = RequestDesc {
        export: 2,
        handle: 9,
        pos: 100,
        ..read_req(16)
    };
    let (s, kick) = h.submit(&desc, b"hello").unwrap();
    assert!(kick, "guest never asked to sleep yet: event 0 is passed");
    let r = g.next_request().unwrap().unwrap();
    assert_eq!(r.id, s.id);
    assert_eq!(r.desc, desc);
    let mut buf = [0u8; 16];
    assert_eq!(g.read_payload(&r, &mut buf).unwrap(), 5);
    assert_eq!(&buf[..5], b"hello");
    assert!(g.next_request().unwrap().is_none());
    g.respond(&r, 3, b"abc", 0).unwrap();
    assert!(g.signal_needed().unwrap());
    let c = h.next_response().unwrap().unwrap();
    assert_eq!((c.id, c.result, c.len), (s.id, 3, 3));
    let mut out = [0u8; 8];
    assert_eq!(h.read_reply(&c, &mut out).unwrap(), 3);
    assert_eq!(&out[..3], b"abc");
    h.release(&c);
    assert_eq!(h.inflight().busy(), 0);
    assert!(h.next_response().unwrap().is_none());
}

/// The `_with` variants let the caller make the only copy itself (straight
/// to or from a user buffer in the stubs); a copy that fails leaves the ring
/// as it was.
#[test]
fn caller_copies_with_checked_ranges() {
    let w = win();
    let (mut h, mut g) = pair(&w);
    let desc = RequestDesc {
        cmd: 5,
        ..RequestDesc::new(Op::Write)
    };
    // A fill that fails publishes nothing and frees its slot.
    let none = h.submit_with(&desc, 5, |_, _, _| false).unwrap();
    assert!(none.is_none());
    assert_eq!(h.inflight().busy(), 0);
    assert!(g.next_request().unwrap().is_none());
    // Too large for a slot: refused before the fill runs.
    assert_eq!(
        h.push_with(&desc, B + 1, |_, _, _| panic!(
            "fill of an oversized payload"
        )),
        Err(RingError::TooLarge)
    );
    let mut range = (0, 0);
    let (s, _) = h
        .submit_with(&desc, 5, |mem: &&user::RawWindow, off, n| {
            range = (off, n);
            // SAFETY: `submit_with` checked `off + n` against the window.
            unsafe { mem.write_bytes(off, b"hello") };
            true
        })
        .unwrap()
        .unwrap();
    assert_eq!(range.1, 5);
    assert!(range.0 + range.1 <= w.raw().size());
    let r = g.next_request().unwrap().unwrap();
    assert_eq!(r.id, s.id);
    let mut buf = [0u8; 5];
    let got = g
        .read_payload_with(&r, |mem, off, n| {
            assert_eq!((off, n), range);
            // SAFETY: `read_payload_with` checked the range.
            unsafe { mem.read_bytes(off, &mut buf) };
            n
        })
        .unwrap();
    assert_eq!((got, &buf), (5, b"hello"));
    // A reply fill that fails publishes nothing: the request stays in
    // flight and can still be answered.
    let r2 = Request {
        desc: RequestDesc {
            reply_max: 4,
            ..r.desc
        },
        ..r
    };
    assert!(!g
        .respond_aux_with(&r2, 4, 4, 0, 0, |_, _, _| false)
        .unwrap());
    assert!(h.next_response().unwrap().is_none());
    assert_eq!(
        g.respond_aux_with(&r2, 5, 5, 0, 0, |_, _, _| true),
        Err(RingError::TooLarge)
    );
    assert!(g
        .respond_aux_with(&r, 5, 0, 0, 9, |_, _, n| n == 0)
        .unwrap());
    let c = h.next_response().unwrap().unwrap();
    assert_eq!((c.id, c.result, c.aux), (s.id, 5, 9));
    assert_eq!(h.read_reply_with(&c, |_, _, n| n).unwrap(), 0);
    h.release(&c);
    assert_eq!(
        h.read_reply_with(&c, |_, _, n| n),
        Err(RingError::UnknownId)
    );
}

#[test]
fn suppression_when_awake() {
    let w = win();
    let (mut h, mut g) = pair(&w);
    // Guest armed at 0: the first push kicks, the next ones do not while the
    // guest has not re-armed (it is awake and polling).
    assert!(h.submit(&read_req(0), b"").unwrap().1);
    assert!(!h.submit(&read_req(0), b"").unwrap().1);
    assert!(!h.submit(&read_req(0), b"").unwrap().1);
    let mut got = vec![];
    while let Some(r) = g.next_request().unwrap() {
        got.push(r);
    }
    assert_eq!(got.len(), 3);
    // Re-arm with nothing pending: safe to sleep.
    assert!(!g.enable_notify().unwrap());
    assert!(h.submit(&read_req(0), b"").unwrap().1);
    // Re-arm with a request pending: must not sleep.
    assert!(g.enable_notify().unwrap());
    // Host side: responses.
    for r in &got {
        g.respond(r, 0, b"", 0).unwrap();
    }
    assert!(g.signal_needed().unwrap());
    let g2 = g.next_request().unwrap().unwrap();
    g.respond(&g2, 0, b"", 0).unwrap();
    assert!(!g.signal_needed().unwrap(), "host did not re-arm");
    let mut n = 0;
    while let Some(c) = h.next_response().unwrap() {
        h.release(&c);
        n += 1;
    }
    assert_eq!(n, 4);
    assert!(!h.enable_notify().unwrap());
}

#[test]
fn disabled_notify_while_polling() {
    let w = win();
    let (mut h, mut g) = pair(&w);
    // A polling guest turns the host's notifications off, whether it has
    // caught up or lags behind: no submission kicks.
    g.disable_notify().unwrap();
    assert!(!h.submit(&read_req(0), b"").unwrap().1);
    assert!(!h.submit(&read_req(0), b"").unwrap().1);
    let r = g.next_request().unwrap().unwrap();
    g.disable_notify().unwrap();
    assert!(!h.submit(&read_req(0), b"").unwrap().1);
    let mut got = vec![r];
    while let Some(r) = g.next_request().unwrap() {
        got.push(r);
    }
    assert_eq!(got.len(), 3);
    g.disable_notify().unwrap();
    assert!(!h.submit(&read_req(0), b"").unwrap().1);
    got.push(g.next_request().unwrap().unwrap());
    // The poll ends: re-armed, the next submission kicks again.
    assert!(!g.enable_notify().unwrap());
    assert!(h.submit(&read_req(0), b"").unwrap().1);
    assert!(g.enable_notify().unwrap());
}

#[test]
fn full_when_all_slots_in_flight() {
    let w = win();
    let (mut h, _g) = pair(&w);
    for _ in 0..N {
        h.push(&read_req(0), b"").unwrap();
    }
    assert_eq!(h.push(&read_req(0), b""), Err(RingError::Full));
    assert_eq!(
        h.push(&read_req(B + 1), b""),
        Err(RingError::TooLarge),
        "reply_max over the slot buffer"
    );
    assert!(h.broken().is_none(), "local errors are not peer faults");
}

#[test]
fn requests_waiting_counts_what_the_guest_has_not_taken() {
    let w = win();
    let (mut h, mut g) = pair(&w);
    assert_eq!(g.requests_waiting(), 0);
    for _ in 0..3 {
        h.push(&read_req(0), b"").unwrap();
    }
    assert_eq!(g.requests_waiting(), 3);
    let r = g.next_request().unwrap().expect("a request");
    assert_eq!(g.requests_waiting(), 2);
    g.respond(&r, 0, &[], 0).unwrap();
    assert_eq!(g.requests_waiting(), 2, "answering takes nothing");
    while g.next_request().unwrap().is_some() {}
    assert_eq!(g.requests_waiting(), 0);
}

#[test]
fn ids_change_on_slot_reuse() {
    let w = win();
    let (mut h, mut g) = pair(&w);
    let mut ids = std::collections::HashSet::new();
    for _ in 0..(4 * N) {
        let (s, _) = h.submit(&read_req(0), b"").unwrap();
        assert!(ids.insert(s.id));
        let r = g.next_request().unwrap().unwrap();
        g.respond(&r, 0, b"", 0).unwrap();
        let c = h.next_response().unwrap().unwrap();
        h.release(&c);
    }
}

fn forge_response(w: &HeapWindow, l: &Layout, idx: u32, resp: WireResponse) {
    w.poke(l.resp_slot(idx) as usize, &resp.encode());
    w.poke32(hdr::RESP_PROD, idx + 1);
}

fn resp(id: u32, len: u32, result: i64) -> WireResponse {
    WireResponse {
        id,
        len,
        result,
        ..Default::default()
    }
}

#[test]
fn host_rejects_hostile_responses() {
    let l = layout();
    let cases: Vec<(WireResponse, RingError)> = vec![
        (resp(1, 0, 0), RingError::UnknownId),
        (resp(N, 0, 0), RingError::UnknownId), // right tag, wrong sequence
        (resp(0, 17, 17), RingError::LengthTooLong),
        (resp(0, 3, 4), RingError::LengthTooLong), // read result != len
        (resp(0, 0, -5000), RingError::BadResult),
        (
            WireResponse {
                events: 1 << 20,
                ..resp(0, 0, 0)
            },
            RingError::BadBits,
        ),
        (
            WireResponse {
                flags: 1,
                ..resp(0, 0, 0)
            },
            RingError::BadBits,
        ),
    ];
    for (r, want) in cases {
        let w = win();
        let (mut h, _g) = pair(&w);
        let (s, _) = h.submit(&read_req(16), b"").unwrap();
        assert_eq!(s.id, 0);
        forge_response(&w, &l, 0, r);
        assert_eq!(h.next_response(), Err(want), "{r:?}");
        // Sticky.
        assert_eq!(h.next_response(), Err(want));
        assert_eq!(h.broken(), Some(want));
        assert_eq!(h.push(&read_req(0), b""), Err(want));
    }
}

#[test]
fn host_rejects_duplicate_and_jump() {
    let l = layout();
    let w = win();
    let (mut h, _g) = pair(&w);
    h.submit(&read_req(16), b"").unwrap();
    forge_response(&w, &l, 0, resp(0, 2, 2));
    let c = h.next_response().unwrap().unwrap();
    forge_response(&w, &l, 1, resp(0, 2, 2));
    assert_eq!(h.next_response(), Err(RingError::DuplicateId));
    h.release(&c);

    let w = win();
    let (mut h, _g) = pair(&w);
    w.poke32(hdr::RESP_PROD, N + 1);
    assert_eq!(h.next_response(), Err(RingError::IndexJump));
    let w = win();
    let (mut h, _g) = pair(&w);
    w.poke32(hdr::RESP_PROD, u32::MAX); // backwards
    assert_eq!(h.next_response(), Err(RingError::IndexJump));
    let w = win();
    let (mut h, _g) = pair(&w);
    w.poke32(hdr::EVT_PROD, N + 1);
    assert_eq!(h.next_event(), Err(RingError::IndexJump));
}

#[test]
fn duplicate_after_release() {
    let l = layout();
    let w = win();
    let (mut h, _g) = pair(&w);
    h.submit(&read_req(16), b"").unwrap();
    forge_response(&w, &l, 0, resp(0, 0, 0));
    let c = h.next_response().unwrap().unwrap();
    h.release(&c);
    forge_response(&w, &l, 1, resp(0, 0, 0));
    assert_eq!(h.next_response(), Err(RingError::DuplicateId));
}

#[test]
fn abandoned_requests_free_on_answer() {
    let w = win();
    let (mut h, mut g) = pair(&w);
    let (s1, _) = h.submit(&read_req(4), b"").unwrap();
    let (s2, _) = h.submit(&read_req(4), b"").unwrap();
    h.abandon(s1.id);
    let r1 = g.next_request().unwrap().unwrap();
    let r2 = g.next_request().unwrap().unwrap();
    g.respond(&r1, 4, b"abcd", 0).unwrap();
    g.respond(&r2, 2, b"xy", 0).unwrap();
    let c = h.next_response().unwrap().unwrap();
    assert_eq!(c.id, s2.id, "abandoned response skipped");
    assert_eq!(h.inflight().busy(), 1);
    h.release(&c);
    assert_eq!(h.inflight().busy(), 0);
}

#[test]
fn events_flow_and_validate() {
    let w = win();
    let (mut h, mut g) = pair(&w);
    for i in 0..N {
        g.push_event(&Event {
            kind: EventKind::PollReady,
            export: 1,
            handle: i,
            events: 1,
        })
        .unwrap();
    }
    let gone = Event {
        kind: EventKind::DeviceGone,
        export: 1,
        handle: 0,
        events: 0,
    };
    assert_eq!(g.push_event(&gone), Err(RingError::Full));
    assert!(g.signal_needed().unwrap());
    for i in 0..N {
        assert_eq!(h.next_event().unwrap().unwrap().handle, i);
    }
    g.push_event(&gone).unwrap();
    assert_eq!(h.next_event().unwrap().unwrap(), gone);
    // Hostile kind.
    let l = *h.layout();
    w.poke(
        l.evt_slot(N + 1) as usize,
        &WireEvent {
            kind: 99,
            ..Default::default()
        }
        .encode(),
    );
    w.poke32(hdr::EVT_PROD, N + 2);
    assert_eq!(h.next_event(), Err(RingError::UnknownEvent));
    // A known kind with garbage in a reserved word.
    for (r0, r1) in [(1, 0), (0, 1 << 63)] {
        let w = win();
        let (mut h, _g) = pair(&w);
        w.poke(
            l.evt_slot(0) as usize,
            &WireEvent {
                kind: u32::from(EventKind::PollReady),
                reserved0: r0,
                reserved1: r1,
                ..Default::default()
            }
            .encode(),
        );
        w.poke32(hdr::EVT_PROD, 1);
        assert_eq!(h.next_event(), Err(RingError::BadBits));
    }
}

#[test]
fn guest_rejects_hostile_requests() {
    let l = layout();
    let good = WireRequest {
        id: 2,
        op: u32::from(Op::Write),
        len: 8,
        payload_off: l.buf_rel(2),
        ..Default::default()
    };
    let cases = [
        (WireRequest { op: 0x99, ..good }, RingError::UnknownOp),
        (
            WireRequest {
                payload_off: l.buf_rel(3),
                ..good
            },
            RingError::PayloadOutOfBounds,
        ),
        (
            WireRequest {
                payload_off: l.buf_rel(2) + B - 4,
                ..good
            },
            RingError::PayloadOutOfBounds,
        ),
        (
            WireRequest {
                payload_off: u32::MAX - 2,
                ..good
            },
            RingError::PayloadOutOfBounds,
        ),
        (
            WireRequest {
                reply_max: B + 1,
                ..good
            },
            RingError::LengthTooLong,
        ),
    ];
    for (raw, want) in cases {
        let w = win();
        let (_h, mut g) = pair(&w);
        w.poke(l.req_slot(0) as usize, &raw.encode());
        w.poke32(hdr::REQ_PROD, 1);
        assert_eq!(g.next_request(), Err(want), "{raw:?}");
        assert_eq!(g.broken(), Some(want));
    }
    // Two in-flight requests on one tag overlap.
    let w = win();
    let (_h, mut g) = pair(&w);
    w.poke(l.req_slot(0) as usize, &good.encode());
    w.poke(
        l.req_slot(1) as usize,
        &WireRequest { id: 2 + N, ..good }.encode(),
    );
    w.poke32(hdr::REQ_PROD, 2);
    g.next_request().unwrap().unwrap();
    assert_eq!(g.next_request(), Err(RingError::PayloadOverlap));
    // Index jump.
    let w = win();
    let (_h, mut g) = pair(&w);
    w.poke32(hdr::REQ_PROD, N + 1);
    assert_eq!(g.next_request(), Err(RingError::IndexJump));
}

#[test]
fn guest_attach_validates_header() {
    let l = layout();
    let w = win();
    assert_eq!(
        Guest::attach(w.raw(), FEATURES_KNOWN).err(),
        Some(RingError::BadMagic)
    );
    let _h = Host::new(w.raw(), l, FEATURE_EVENT_IDX, 1).unwrap();
    for v in [ABI_VERSION - 1, ABI_VERSION + 1] {
        w.poke32(hdr::VERSION, v);
        assert_eq!(
            Guest::attach(w.raw(), FEATURES_KNOWN).err(),
            Some(RingError::BadVersion)
        );
    }
    w.poke32(hdr::VERSION, ABI_VERSION);
    w.poke32(hdr::NUM_SLOTS, 1024);
    assert_eq!(
        Guest::attach(w.raw(), FEATURES_KNOWN).err(),
        Some(RingError::BadLayout)
    );
    w.poke32(hdr::NUM_SLOTS, N);
    w.poke32(hdr::DATA_OFF, 0);
    assert_eq!(
        Guest::attach(w.raw(), FEATURES_KNOWN).err(),
        Some(RingError::BadLayout)
    );
    w.poke32(hdr::DATA_OFF, l.data_off);
    w.poke32(hdr::WINDOW_SIZE, l.min_size * 2);
    assert_eq!(
        Guest::attach(w.raw(), FEATURES_KNOWN).err(),
        Some(RingError::BadLayout),
        "claims more than is mapped"
    );
    w.poke32(hdr::WINDOW_SIZE, l.min_size);
    w.poke32(hdr::FEATURES, 1 << 31);
    assert_eq!(
        Guest::attach(w.raw(), FEATURES_KNOWN).err(),
        Some(RingError::BadFeatures)
    );
    w.poke32(hdr::FEATURES, FEATURE_EVENT_IDX);
    assert!(Guest::attach(w.raw(), FEATURES_KNOWN).is_ok());
    assert_eq!(
        Guest::attach(w.raw(), 0).err(),
        Some(RingError::BadFeatures),
        "event index is mandatory"
    );
}

#[test]
fn generation_and_reset() {
    let w = win();
    let (mut h, mut g) = pair(&w);
    let (s, _) = h.submit(&read_req(0), b"").unwrap();
    let _r = g.next_request().unwrap().unwrap();
    g.beat().unwrap();
    g.beat().unwrap();
    assert_eq!(h.heartbeat().unwrap(), 2);
    assert!(!g.host_gone().unwrap());
    let mut failed = vec![];
    h.reset(8, |id, _| failed.push(id)).unwrap();
    assert_eq!(failed, vec![s.id]);
    assert!(g.host_gone().unwrap());
    assert!(!h.guest_ready().unwrap(), "old guest is of generation 7");
    let g2 = Guest::attach(w.raw(), FEATURES_KNOWN).unwrap();
    assert_eq!(g2.generation(), 8);
    assert!(h.guest_ready().unwrap());
    // Hostile state word.
    w.poke32(hdr::GUEST_STATE, 77);
    assert_eq!(h.guest_ready(), Err(RingError::BadState));
}

#[test]
fn guest_respond_checks() {
    let w = win();
    let (mut h, mut g) = pair(&w);
    h.submit(&read_req(4), b"").unwrap();
    let r = g.next_request().unwrap().unwrap();
    assert_eq!(g.respond(&r, 5, b"12345", 0), Err(RingError::TooLarge));
    g.respond(&r, 4, b"1234", 0).unwrap();
    assert_eq!(g.respond(&r, 4, b"1234", 0), Err(RingError::UnknownId));
    assert!(g.broken().is_none());
}

#[test]
fn too_small_window_is_refused() {
    let w = HeapWindow::new(layout().min_size as usize - 1);
    assert_eq!(
        Host::new(w.raw(), layout(), FEATURE_EVENT_IDX, 0).err(),
        Some(RingError::BadLayout)
    );
}

#[test]
fn accessor_unaligned_copies() {
    // Exercises the head/word/tail paths of the volatile copies.
    let w = HeapWindow::new(4096);
    let data: Vec<u8> = (0..200u8).collect();
    for off in 0..9 {
        for len in [0, 1, 7, 8, 9, 17, 63, 200] {
            let src = &data[..len];
            w.poke(off, src);
            let mut out = vec![0u8; len];
            // SAFETY: In bounds.
            unsafe { ikernel_ring::Shared::read_bytes(w.raw(), off, &mut out) };
            assert_eq!(out, src);
        }
    }
    let win = Window::new(w.raw());
    assert_eq!(win.load(4094), Err(RingError::OutOfWindow));
    assert_eq!(win.load(2), Err(RingError::OutOfWindow));
    assert_eq!(win.read(4000, &mut [0; 97]), Err(RingError::OutOfWindow));
    assert_eq!(win.write(u32::MAX, &[0; 2]), Err(RingError::OutOfWindow));
    win.store(4092, 5).unwrap();
    assert_eq!(win.load(4092), Ok(5));
}

#[test]
fn layout_for_window_fits_and_is_largest() {
    use ikernel_ring::{Layout, MAX_SLOT_DATA, MIN_SLOT_DATA};
    for &(size, n) in &[
        (16u64 * 1024, 2u32),
        (256 * 1024, 16),
        (1 << 20, 64),
        (64 << 20, 256),
    ] {
        let l = Layout::for_window(size, n).unwrap();
        assert!(u64::from(l.min_size) <= size);
        assert_eq!(l.slot_data_size % 64, 0);
        assert!(l.slot_data_size >= MIN_SLOT_DATA && l.slot_data_size <= MAX_SLOT_DATA);
        // One more 64-byte step per slot would not fit (unless capped).
        if l.slot_data_size < MAX_SLOT_DATA {
            let bigger = Layout::new(n, l.slot_data_size + 64).unwrap();
            assert!(u64::from(bigger.min_size) > size);
        }
    }
    assert!(Layout::for_window(4096, 2).is_err());
    assert!(Layout::for_window(1 << 20, 3).is_err());
    assert!(Layout::for_window(1 << 20, 1024).is_err());
    assert!(Layout::for_window(u64::MAX, 64).is_ok());
}

#[test]
fn error_codes_follow_declaration_order() {
    // host_stub reports `e as u32 + 1` to the VMM, which names it by `ALL`.
    for (i, e) in RingError::ALL.iter().enumerate() {
        assert_eq!(*e as usize, i, "{e:?}");
    }
}

// The hostile-mode helpers of `Guest` (guest_stub's `hostile=`): what they
// publish reaches the host, which rejects it.

#[test]
fn hostile_raw_responses_reach_the_host() {
    // A response for an id that is not in flight.
    let w = win();
    let (mut h, mut g) = pair(&w);
    let (s, _) = h.submit(&read_req(16), b"").unwrap();
    let r = g.next_request().unwrap().unwrap();
    assert_eq!(g.resp_prod(), 0);
    let at = g.publish_raw_response(&resp(r.id + 100 * N, 0, 0)).unwrap();
    assert_eq!((at, g.resp_prod()), (0, 1));
    assert_eq!(h.next_response(), Err(RingError::UnknownId));

    // Two responses for the same request.
    let w = win();
    let (mut h, mut g) = pair(&w);
    h.submit(&read_req(16), b"").unwrap();
    let r = g.next_request().unwrap().unwrap();
    g.respond(&r, 2, b"ab", 0).unwrap();
    g.publish_raw_response(&resp(r.id, 2, 2)).unwrap();
    assert_eq!(h.next_response().unwrap().unwrap().id, s.id);
    assert_eq!(h.next_response(), Err(RingError::DuplicateId));

    // A length past the slot's buffer, past the data area (tag 0), and a
    // huge one.
    for len in [B + 64, N * B + 1, u32::MAX] {
        let w = win();
        let (mut h, mut g) = pair(&w);
        h.submit(&read_req(B), b"").unwrap();
        let r = g.next_request().unwrap().unwrap();
        g.publish_raw_response(&resp(r.id, len, i64::from(len)))
            .unwrap();
        assert_eq!(h.next_response(), Err(RingError::LengthTooLong), "{len}");
    }

    // A full ring refuses raw responses too, the producer index stays.
    let w = win();
    let (_h, mut g) = pair(&w);
    for i in 0..N {
        assert_eq!(g.publish_raw_response(&resp(i, 0, 0)), Ok(i));
    }
    assert_eq!(g.publish_raw_response(&resp(0, 0, 0)), Err(RingError::Full));
    assert_eq!(g.resp_prod(), N);
    assert_eq!(w.peek32(hdr::RESP_PROD), N);
}

#[test]
fn hostile_index_jumps_reach_the_host() {
    let w = win();
    let (mut h, mut g) = pair(&w);
    assert_eq!(g.skip_responses(0x4000_0000), Ok(0x4000_0000));
    assert_eq!(w.peek32(hdr::RESP_PROD), 0x4000_0000);
    assert_eq!(h.next_response(), Err(RingError::IndexJump));

    let w = win();
    let (mut h, mut g) = pair(&w);
    assert_eq!(g.skip_events(N + 1), Ok(N + 1));
    assert_eq!(h.next_event(), Err(RingError::IndexJump));
    // Backwards.
    let w = win();
    let (mut h, mut g) = pair(&w);
    g.skip_events(u32::MAX).unwrap();
    assert_eq!(h.next_event(), Err(RingError::IndexJump));
}

#[test]
fn hostile_late_rewrite() {
    // Rewritten before the host reads it: the host sees (and checks) the
    // new contents.
    let w = win();
    let (mut h, mut g) = pair(&w);
    h.submit(&read_req(16), b"").unwrap();
    let r = g.next_request().unwrap().unwrap();
    g.respond(&r, 2, b"ab", 0).unwrap();
    let idx = g.resp_prod() - 1;
    g.rewrite_response(idx, &resp(r.id, u32::MAX, 2)).unwrap();
    assert_eq!(h.next_response(), Err(RingError::LengthTooLong));

    // Rewritten after the host took it: the host's copy stands.
    let w = win();
    let (mut h, mut g) = pair(&w);
    h.submit(&read_req(16), b"").unwrap();
    let r = g.next_request().unwrap().unwrap();
    g.respond(&r, 2, b"ab", 0).unwrap();
    let c = h.next_response().unwrap().unwrap();
    g.rewrite_response(
        g.resp_prod() - 1,
        &resp(r.id ^ 0x8000_0000, u32::MAX, -9999),
    )
    .unwrap();
    let mut buf = [0u8; 16];
    assert_eq!(h.read_reply(&c, &mut buf), Ok(2));
    assert_eq!((c.len, c.result), (2, 2));
    h.release(&c);
    assert_eq!(h.next_response(), Ok(None));
}

#[test]
fn hostile_forget_request_frees_the_tag() {
    for forget in [true, false] {
        let w = win();
        let (mut h, mut g) = pair(&w);
        let (s, _) = h.submit(&read_req(16), b"").unwrap();
        let r = g.next_request().unwrap().unwrap();
        g.publish_raw_response(&resp(r.id, 0, 0)).unwrap();
        if forget {
            g.forget_request(&r);
        }
        let c = h.next_response().unwrap().unwrap();
        h.release(&c);
        let (s2, _) = h.submit(&read_req(16), b"").unwrap();
        assert_eq!(s2.tag, s.tag);
        let next = g.next_request();
        if forget {
            assert_eq!(next.unwrap().unwrap().id, s2.id);
        } else {
            assert_eq!(next, Err(RingError::PayloadOverlap));
        }
    }
}

fn seen(r: ExportsReport) -> ExportsSeen {
    match r {
        ExportsReport::Reported(s) => s,
        other => panic!("not a consistent report: {other:?}"),
    }
}

#[test]
fn exports_report_round_trip() {
    let w = win();
    let (h, mut g) = pair(&w);
    assert_eq!(h.exports(5).unwrap(), ExportsReport::NotReported);
    let mut map = [0u32; EXPORTS_WORDS];
    map[0] = 0b1_0111; // exports 0, 1, 2 and 4 of five
    g.report_exports(&map).unwrap();
    let s = seen(h.exports(5).unwrap());
    assert!(s.present(0) && s.present(1) && s.present(2) && s.present(4));
    assert!(!s.present(3) && !s.present(5) && !s.present(MAX_EXPORTS));
    assert!(!s.present(u32::MAX));
    assert_eq!(s.served(), 4);
    assert!(!s.stray);
    assert_eq!(s.seq, 2);
    // A later change is a new, consistent report.
    map[0] = 0b1_1111;
    g.report_exports(&map).unwrap();
    let s2 = seen(h.exports(5).unwrap());
    assert!(s2.present(3));
    assert_eq!((s2.served(), s2.seq), (5, 4));
    // The VMM reads the same words through a plain window.
    assert_eq!(
        read_exports(h.window(), 5).unwrap(),
        ExportsReport::Reported(s2)
    );
}

#[test]
fn exports_report_cut_to_configured() {
    let w = win();
    let (h, mut g) = pair(&w);
    let mut map = [u32::MAX; EXPORTS_WORDS];
    g.report_exports(&map).unwrap();
    let s = seen(h.exports(33).unwrap());
    assert_eq!(s.served(), 33);
    assert!(s.present(32) && !s.present(33));
    assert!(s.stray, "bits beyond the configured exports are flagged");
    let s = seen(h.exports(MAX_EXPORTS).unwrap());
    assert_eq!(s.served(), MAX_EXPORTS);
    assert!(!s.stray);
    let s = seen(h.exports(u32::MAX).unwrap());
    assert_eq!(s.served(), MAX_EXPORTS, "counts beyond the map are cut");
    let s = seen(h.exports(0).unwrap());
    assert_eq!(s.served(), 0);
    assert!(s.stray);
    map = [0; EXPORTS_WORDS];
    map[1] = 1; // export 32 only
    g.report_exports(&map).unwrap();
    let s = seen(h.exports(32).unwrap());
    assert_eq!(s.served(), 0);
    assert!(s.stray);
    let s = seen(h.exports(40).unwrap());
    assert!(s.present(32) && !s.stray);
}

#[test]
fn exports_report_sequence_states() {
    let w = win();
    let (h, mut g) = pair(&w);
    // Odd: the guest is rewriting.
    w.poke32(hdr::EXPORTS_SEQ, 7);
    assert_eq!(h.exports(3).unwrap(), ExportsReport::Changing);
    // A hostile even value with any map is still only a report.
    w.poke32(hdr::EXPORTS_SEQ, 0x8000_0000);
    w.poke32(hdr::EXPORTS_MAP, 0xffff_ffff);
    let s = seen(h.exports(3).unwrap());
    assert_eq!(s.served(), 3);
    assert!(s.stray);
    // The guest's own sequence never reads as "not reported" or "changing"
    // when it wraps.
    let map = [1u32; EXPORTS_WORDS];
    for _ in 0..3 {
        g.report_exports(&map).unwrap();
        let v = w.peek32(hdr::EXPORTS_SEQ);
        assert!(v != 0 && v % 2 == 0, "sequence {v:#x}");
    }
}

#[test]
fn exports_report_sequence_wraps_past_zero() {
    assert_eq!(exports_seq_after(0), (1, 2));
    assert_eq!(exports_seq_after(2), (3, 4));
    assert_eq!(exports_seq_after(0xffff_fffc), (0xffff_fffd, 0xffff_fffe));
    assert_eq!(exports_seq_after(0xffff_fffe), (0xffff_ffff, 2));
    // Whatever the previous value (a hostile one in the window does not
    // matter: the guest keeps its own), the next pair is odd, then even
    // and non-zero.
    for s in [1, 3, 0x7fff_ffff, 0xffff_ffff, 0x8000_0000] {
        let (o, e) = exports_seq_after(s);
        assert!(o % 2 == 1 && e % 2 == 0 && e != 0, "{s:#x}");
    }
}

#[test]
fn exports_report_reset_and_reattach() {
    let w = win();
    let (mut h, mut g) = pair(&w);
    g.report_exports(&[1; EXPORTS_WORDS]).unwrap();
    assert!(matches!(h.exports(1).unwrap(), ExportsReport::Reported(_)));
    // A restarted driver VM has not reported yet.
    h.reset(8, |_, _| {}).unwrap();
    assert_eq!(h.exports(1).unwrap(), ExportsReport::NotReported);
    assert_eq!(w.peek32(hdr::EXPORTS_MAP), 0);
    let mut g2 = Guest::attach(w.raw(), FEATURES_KNOWN).unwrap();
    g2.report_exports(&[1; EXPORTS_WORDS]).unwrap();
    assert!(matches!(h.exports(1).unwrap(), ExportsReport::Reported(_)));
    // A guest attaching again (its module reloaded) starts unreported.
    drop(g2);
    let _g3 = Guest::attach(w.raw(), FEATURES_KNOWN).unwrap();
    assert_eq!(h.exports(1).unwrap(), ExportsReport::NotReported);
    drop(g);
}

#[test]
fn exports_report_offsets() {
    assert_eq!(hdr::EXPORTS_MAP, 0x90);
    assert_eq!(hdr::EXPORTS_SEQ, 0xb0);
    assert_eq!(ABI_VERSION, 2);
}
