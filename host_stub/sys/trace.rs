// SPDX-License-Identifier: GPL-2.0

//! host_stub's trace events (`host_stub/trace.h`, tracefs `events/ikernel/`).
//!
//! The tracepoints are C macros, so `host_stub/trace.c` wraps each in a
//! function; these call them.  A disabled event costs a call and a static
//! branch.

extern "C" {
    fn ikernel_trace_call_submit(
        channel: u32,
        generation: u32,
        id: u64,
        op: u32,
        export: u32,
        len: u32,
    );
    fn ikernel_trace_call_done(channel: u32, id: u64, op: u32, result: i64);
    fn ikernel_trace_call_timeout(channel: u32, id: u64, op: u32, timeout_ms: u32);
    fn ikernel_trace_violation(channel: u32, generation: u32, code: u32);
    fn ikernel_trace_state(channel: u32, generation: u32, state: u32);
}

/// `ikernel_call_submit`: request `id` (`op`, for export `export`, `len`
/// payload bytes) entered the ring of `channel` for `generation`.
pub(crate) fn call_submit(channel: u32, generation: u32, id: u64, op: u32, export: u32, len: u32) {
    // SAFETY: Plain values; the function only records them.
    unsafe { ikernel_trace_call_submit(channel, generation, id, op, export, len) }
}

/// `ikernel_call_done`: the call `id` ended with `result` (a value, or a
/// negative errno).
pub(crate) fn call_done(channel: u32, id: u64, op: u32, result: i64) {
    // SAFETY: Plain values; the function only records them.
    unsafe { ikernel_trace_call_done(channel, id, op, result) }
}

/// `ikernel_call_timeout`: the call `id` passed its deadline.
pub(crate) fn call_timeout(channel: u32, id: u64, op: u32, timeout_ms: u32) {
    // SAFETY: Plain values; the function only records them.
    unsafe { ikernel_trace_call_timeout(channel, id, op, timeout_ms) }
}

/// `ikernel_violation`: the driver VM of `generation` broke the ring
/// (`code`: 1 + the `RingError`, as `ikernel_state.broken`).
pub(crate) fn violation(channel: u32, generation: u32, code: u32) {
    // SAFETY: Plain values; the function only records them.
    unsafe { ikernel_trace_violation(channel, generation, code) }
}

/// `ikernel_state`: the VMM reported `state` (`IKERNEL_VM_*`) for
/// `generation`.
pub(crate) fn state(channel: u32, generation: u32, state: u32) {
    // SAFETY: Plain values; the function only records them.
    unsafe { ikernel_trace_state(channel, generation, state) }
}
