// SPDX-License-Identifier: GPL-2.0
//! Ping-pong benchmark of the ring between two processes over a shared
//! memfd with eventfd doorbells. Not a test: it prints numbers only.
//!
//! Usage: `ring_bench [messages-per-case]`.

#[path = "../tests/common/pingpong.rs"]
mod pingpong;

use pingpong::{run, Config};

fn main() {
    let messages: u64 = std::env::args()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .unwrap_or(200_000);
    let spin_polls: u32 = std::env::var("RING_BENCH_SPIN")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    println!("# ikernel ring ping-pong: 2 processes, memfd window, eventfd doorbells");
    println!("# {messages} messages per case, 64-byte payloads, 64 slots; polling = up to {spin_polls} ring polls before sleeping");
    println!(
        "{:>5} {:>8} {:>12} {:>10} {:>10} {:>10}",
        "depth", "polling", "msgs/s", "doorb/msg", "kicks", "signals"
    );
    for depth in [1u32, 8, 64] {
        for spin in [0, spin_polls] {
            let cfg = Config {
                depth,
                slots: 64,
                slot_data: 4096,
                messages,
                payload: 64,
                spin,
                out_of_order: false,
                event_every: 0,
            };
            match run(cfg) {
                Ok(st) => {
                    let secs = st.elapsed.as_secs_f64();
                    let db = st.host_kicks + st.guest_signals;
                    println!(
                        "{:>5} {:>8} {:>12.0} {:>10.3} {:>10} {:>10}",
                        depth,
                        if spin > 0 { "yes" } else { "no" },
                        st.messages as f64 / secs,
                        db as f64 / st.messages as f64,
                        st.host_kicks,
                        st.guest_signals
                    );
                }
                Err(e) => println!("{depth:>5} {spin:>8} error: {e}"),
            }
        }
    }
}
