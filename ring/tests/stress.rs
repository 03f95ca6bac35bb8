// SPDX-License-Identifier: GPL-2.0
//! Two-process stress test over a real memfd with eventfd doorbells.
//!
//! Every payload is derived from its sequence number and checked on the
//! other side, so a lost, duplicated or misrouted message fails the test.

#[path = "common/pingpong.rs"]
mod pingpong;

use pingpong::{run, Config};

fn messages() -> u64 {
    std::env::var("RING_STRESS_MESSAGES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200_000)
}

#[test]
fn stress_two_processes() {
    let mut total = 0;
    for (depth, spin, ooo) in [(1, 0, false), (8, 0, true), (64, 200, true), (64, 0, true)] {
        let cfg = Config {
            depth,
            slots: 64,
            slot_data: 512,
            messages: messages() / 4,
            payload: 200,
            spin,
            out_of_order: ooo,
            event_every: 7,
        };
        let st = run(cfg).unwrap_or_else(|e| panic!("{cfg:?}: {e}"));
        assert_eq!(st.messages, cfg.messages);
        total += st.messages;
        println!(
            "stress: depth {depth} spin {spin} ooo {ooo}: {} messages, {} events, \
             {} kicks, {} signals in {:?}",
            st.messages, st.events, st.host_kicks, st.guest_signals, st.elapsed
        );
    }
    println!("stress: {total} messages checked");
}
