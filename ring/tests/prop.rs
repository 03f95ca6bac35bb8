// SPDX-License-Identifier: GPL-2.0
//! Property tests: codec round trips, random op sequences against a model,
//! and random adversarial writes.

mod common;

use std::collections::{HashMap, VecDeque};

use common::HeapWindow;
use ikernel_ring::*;
use proptest::prelude::*;

fn any_req() -> impl Strategy<Value = WireRequest> {
    (
        any::<[u32; 6]>(),
        any::<u64>(),
        any::<[u32; 2]>(),
        any::<u64>(),
        any::<[u32; 2]>(),
        any::<u64>(),
    )
        .prop_map(|(a, pos, b, arg, c, r1)| WireRequest {
            id: a[0],
            op: a[1],
            export: a[2],
            handle: a[3],
            flags: a[4],
            len: a[5],
            pos,
            cmd: b[0],
            payload_off: b[1],
            arg,
            reply_max: c[0],
            reserved0: c[1],
            reserved1: r1,
        })
}

proptest! {
    #[test]
    fn request_codec(r in any_req()) {
        prop_assert_eq!(WireRequest::decode(&r.encode()), r);
    }

    #[test]
    fn request_bytes_codec(b in any::<[u8; 32]>(), c in any::<[u8; 32]>()) {
        let mut raw = [0u8; 64];
        raw[..32].copy_from_slice(&b);
        raw[32..].copy_from_slice(&c);
        prop_assert_eq!(WireRequest::decode(&raw).encode(), raw);
    }

    #[test]
    fn response_codec(b in any::<[u8; 32]>()) {
        let r = WireResponse::decode(&b);
        prop_assert_eq!(r.encode(), b);
        prop_assert_eq!(WireResponse::decode(&r.encode()), r);
    }

    #[test]
    fn event_codec(b in any::<[u8; 32]>()) {
        let e = WireEvent::decode(&b);
        prop_assert_eq!(e.encode(), b);
        if let Ok(v) = Event::from_wire(&e) {
            prop_assert_eq!(Event::from_wire(&v.to_wire()), Ok(v));
        }
    }

    #[test]
    fn identity_codec(order in 1u32..9, blocks in 1u32..64, gen in any::<u32>(),
                      extra in 0u32..8192) {
        let l = Layout::new(1 << order, blocks * 64).unwrap();
        let id = Identity {
            magic: MAGIC,
            version: ABI_VERSION,
            features: FEATURE_EVENT_IDX | FEATURE_NET,
            window_size: l.min_size + extra,
            generation: gen,
            layout: l,
        };
        let size = (l.min_size + extra) as usize;
        prop_assert_eq!(Identity::decode(&id.encode(), size), Ok(id));
        prop_assert_eq!(Identity::decode(&id.encode(), size - extra as usize - 1),
                        Err(RingError::BadLayout));
    }

    #[test]
    fn op_codec(v in any::<u32>()) {
        if let Ok(op) = Op::try_from(v) {
            prop_assert_eq!(u32::from(op), v);
        }
    }

    #[test]
    fn need_event_matches_definition(ev in any::<u32>(), old in any::<u32>(), step in 0u32..1000) {
        // The event index is passed iff it lies in [old, new).
        let new = old.wrapping_add(step);
        let passed = ev.wrapping_sub(old) < step;
        prop_assert_eq!(ring_need_event(ev, new, old), passed);
    }
}

#[derive(Clone, Debug)]
enum Act {
    Submit { write: bool, len: u16, reply: u16 },
    GuestTake,
    GuestRespond(u8),
    GuestSleep,
    HostPoll,
    HostSleep,
    Abandon(u8),
    Event(u8),
    HostEvent,
}

fn act() -> impl Strategy<Value = Act> {
    prop_oneof![
        4 => (any::<bool>(), 0u16..300, 0u16..300)
            .prop_map(|(write, len, reply)| Act::Submit { write, len, reply }),
        3 => Just(Act::GuestTake),
        3 => any::<u8>().prop_map(Act::GuestRespond),
        1 => Just(Act::GuestSleep),
        3 => Just(Act::HostPoll),
        1 => Just(Act::HostSleep),
        1 => any::<u8>().prop_map(Act::Abandon),
        1 => any::<u8>().prop_map(Act::Event),
        1 => Just(Act::HostEvent),
    ]
}

fn pattern(id: u32, len: usize, salt: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (id as u8).wrapping_mul(31) ^ (i as u8) ^ salt)
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// Random sequences of host and guest actions, checked against a model:
    /// every request arrives once with its payload, every response reaches
    /// the host once with its payload, slots never leak, and a side that went
    /// to sleep is always notified (no lost wakeup).
    #[test]
    fn sequences_against_model(order in 1u32..5, acts in prop::collection::vec(act(), 1..400)) {
        let n = 1u32 << order;
        let slot = 256u32;
        let l = Layout::new(n, slot).unwrap();
        let w = HeapWindow::new(l.min_size as usize);
        let mut h = Host::new(w.raw(), l, FEATURE_EVENT_IDX, 1).unwrap();
        let mut g = Guest::attach(w.raw(), FEATURES_KNOWN).unwrap();

        // Model.
        let mut sent: VecDeque<(u32, Op, Vec<u8>, u32)> = VecDeque::new(); // in request ring
        let mut serving: Vec<Request> = vec![]; // taken by guest
        let mut answered: VecDeque<(u32, i64, Vec<u8>)> = VecDeque::new(); // in response ring
        let mut live: HashMap<u32, bool> = HashMap::new(); // id -> abandoned
        let mut guest_asleep = false;
        let mut host_asleep = false;
        let mut events: VecDeque<Event> = VecDeque::new();

        for a in acts {
            match a {
                Act::Submit { write, len, reply } => {
                    let len = if write { u32::from(len) } else { 0 };
                    let op = if write { Op::Write } else { Op::Read };
                    let reply = if write { 0 } else { u32::from(reply) };
                    let desc = RequestDesc { reply_max: reply, ..RequestDesc::new(op) };
                    let busy = h.inflight().busy();
                    let payload = pattern(busy, len as usize, 1);
                    let r = h.push(&desc, &payload);
                    if len > slot || reply > slot {
                        prop_assert_eq!(r, Err(RingError::TooLarge));
                        continue;
                    }
                    if busy == n {
                        prop_assert_eq!(r, Err(RingError::Full));
                        continue;
                    }
                    let s = r.unwrap();
                    prop_assert!(live.insert(s.id, false).is_none(), "id reused while live");
                    sent.push_back((s.id, op, payload, reply));
                    let kick = h.kick_needed().unwrap();
                    if guest_asleep {
                        prop_assert!(kick, "lost wakeup: guest asleep, no kick");
                        guest_asleep = false;
                    }
                }
                Act::GuestTake => {
                    let r = g.next_request().unwrap();
                    match sent.pop_front() {
                        None => prop_assert!(r.is_none()),
                        Some((id, op, payload, reply)) => {
                            let r = r.unwrap();
                            prop_assert_eq!(r.id, id);
                            prop_assert_eq!(r.desc.op, op);
                            prop_assert_eq!(r.desc.reply_max, reply);
                            let mut buf = vec![0u8; r.len as usize];
                            g.read_payload(&r, &mut buf).unwrap();
                            prop_assert_eq!(buf, payload);
                            serving.push(r);
                        }
                    }
                }
                Act::GuestRespond(i) => {
                    if serving.is_empty() { continue; }
                    let r = serving.swap_remove(i as usize % serving.len());
                    let (result, payload) = if r.desc.op == Op::Read {
                        let p = pattern(r.id, r.desc.reply_max as usize / 2, 2);
                        (p.len() as i64, p)
                    } else {
                        (i64::from(r.len), vec![])
                    };
                    g.respond(&r, result, &payload, 0).unwrap();
                    answered.push_back((r.id, result, payload));
                    let sig = g.signal_needed().unwrap();
                    if host_asleep {
                        prop_assert!(sig, "lost wakeup: host asleep, no signal");
                        host_asleep = false;
                    }
                }
                Act::GuestSleep => {
                    let more = g.enable_notify().unwrap();
                    prop_assert_eq!(more, !sent.is_empty());
                    guest_asleep = !more;
                }
                Act::HostSleep => {
                    let more = h.enable_notify().unwrap();
                    prop_assert_eq!(more, !answered.is_empty() || !events.is_empty());
                    host_asleep = !more;
                }
                Act::HostPoll => {
                    // Skip responses to abandoned ids, as the host does.
                    while let Some((id, _, _)) = answered.front() {
                        if live.get(id) == Some(&true) {
                            live.remove(id);
                            answered.pop_front();
                        } else {
                            break;
                        }
                    }
                    let c = h.next_response().unwrap();
                    match answered.pop_front() {
                        None => prop_assert!(c.is_none()),
                        Some((id, result, payload)) => {
                            let c = c.unwrap();
                            prop_assert_eq!((c.id, c.result), (id, result));
                            let mut buf = vec![0u8; 512];
                            let k = h.read_reply(&c, &mut buf).unwrap();
                            prop_assert_eq!(&buf[..k], &payload[..]);
                            h.release(&c);
                            prop_assert_eq!(live.remove(&id), Some(false));
                        }
                    }
                }
                Act::Abandon(i) => {
                    let mut ids: Vec<u32> =
                        live.iter().filter(|(_, ab)| !**ab).map(|(id, _)| *id).collect();
                    ids.sort();
                    if ids.is_empty() { continue; }
                    let id = ids[i as usize % ids.len()];
                    h.abandon(id);
                    live.insert(id, true);
                }
                Act::Event(i) => {
                    let ev = Event { kind: EventKind::PollReady, export: 0,
                                     handle: u32::from(i), events: 1 };
                    match g.push_event(&ev) {
                        Ok(()) => events.push_back(ev),
                        Err(e) => {
                            prop_assert_eq!(e, RingError::Full);
                            prop_assert_eq!(events.len() as u32, n);
                        }
                    }
                    let sig = g.signal_needed().unwrap();
                    if host_asleep && !events.is_empty() {
                        prop_assert!(sig, "lost wakeup on event");
                        host_asleep = false;
                    }
                }
                Act::HostEvent => {
                    prop_assert_eq!(h.next_event().unwrap(), events.pop_front());
                }
            }
            prop_assert_eq!(h.inflight().busy() as usize, live.len());
            prop_assert!(h.broken().is_none() && g.broken().is_none());
        }
    }

    /// An adversary writes arbitrary bytes into the window between host
    /// operations: the host never panics, and every error is a typed peer
    /// fault (never an out-of-window access).
    #[test]
    fn adversary_never_panics(
        pokes in prop::collection::vec((0u32..20000, prop::collection::vec(any::<u8>(), 1..64), 0u8..6), 1..100)
    ) {
        let l = Layout::new(8, 512).unwrap();
        let w = HeapWindow::new(l.min_size as usize);
        let mut h = Host::new(w.raw(), l, FEATURE_EVENT_IDX, 3).unwrap();
        for (off, bytes, what) in pokes {
            // Aim most writes at the interesting part of the window.
            let off = off % (l.data_off + 1024);
            w.poke(off as usize, &bytes);
            let r: Result<(), RingError> = match what {
                0 => h.submit(&RequestDesc { reply_max: 100, ..RequestDesc::new(Op::Read) },
                              &bytes).map(|_| ()),
                1 => h.next_response().map(|c| {
                    if let Some(c) = c {
                        let mut buf = [0u8; 512];
                        h.read_reply(&c, &mut buf).unwrap();
                        h.release(&c);
                    }
                }),
                2 => h.next_event().map(|_| ()),
                3 => h.enable_notify().map(|_| ()),
                4 => h.guest_ready().map(|_| ()),
                _ => Guest::attach(w.raw(), FEATURES_KNOWN).map(|_| ()),
            };
            if let Err(e) = r {
                prop_assert!(e != RingError::OutOfWindow);
            }
        }
    }
}
