#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Ring ping-pong benchmark: two processes, shared memfd, eventfd doorbells.
# Prints messages/s and doorbells/message at queue depth 1, 8 and 64, with
# and without polling before sleeping. Not a test: it never fails on a slow
# machine. Usage: ring/bench.sh [messages-per-case]  (RING_BENCH_SPIN=polls)
set -e
cd "$(dirname "$0")/.."
cargo build -q --release -p ikernel-ring --example ring_bench --target-dir target
exec target/release/examples/ring_bench "$@"
